//! `envsched run`, the real binary, against moto and the Notion stand-in: it wakes at a
//! window's edge (not a poll later), a webhook event triggers a cycle at once, `/ready`
//! follows Notion's health, logs are Datadog JSON, and SIGTERM mid-cycle exits 0 cleanly.
//!
//! The poll interval is an hour, so every cycle this test sees was caused by startup, a
//! window edge or a webhook. Times are read from the stand-in's recorded requests.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use envsched_sandbox::moto::MotoServer;

use envsched_fixtures::moto;
use envsched_sandbox::standin::{DATABASE_ID, Fault, Row, StandIn};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};

const TOKEN: &str = "ntn_daemon_test_token_5d2e";
const HOOK_TOKEN: &str = "secret_daemon_webhook_verification_9f3a";
const ROW: &str = "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a7d1";
const LEAD_S: i64 = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Daemon {
    child: Child,
    url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    fn start(config: &std::path::Path, moto: &str, port: u16) -> Daemon {
        let mut child = moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), moto)
            .args(["run", "--config", config.to_str().unwrap(), "--log-format", "json"])
            .env("ENVSCHED_TEST_NOTION_TOKEN", TOKEN)
            .env("ENVSCHED_TEST_HOOK_TOKEN", HOOK_TOKEN)
            .env("DD_SERVICE", "envsched")
            .env("DD_ENV", "test")
            .env("DD_VERSION", "0.1.0-test")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("binary starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Daemon { child, url: format!("http://127.0.0.1:{port}"), logs }
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let r = reqwest::get(format!("{}{path}", self.url)).await.ok()?;
        Some((r.status().as_u16(), r.text().await.ok()?))
    }

    /// Waits (up to `secs`) until `/ready` answers `status`.
    async fn ready_becomes(&self, status: u16, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some((s, body)) = self.get("/ready").await
                && s == status
            {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "/ready never answered {status}; logs:\n{}",
                self.logs.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn webhook(&self, event: &str) -> u16 {
        let body = json!({
            "id": event, "type": "page.properties_updated", "timestamp": Timestamp::now().to_string(),
            "entity": {"id": ROW, "type": "page"},
            "data": {"parent": {"id": DATABASE_ID, "type": "database"}}
        })
        .to_string();
        let sig = envsched_notion::webhook::signature(body.as_bytes(), &SecretString::from(HOOK_TOKEN));
        let r = reqwest::Client::new()
            .post(format!("{}/webhooks/notion", self.url))
            .header("x-notion-signature", sig)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        r.status().as_u16()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn desired_count(sdk: &aws_config::SdkConfig) -> i32 {
    let out =
        aws_sdk_ecs::Client::new(sdk).describe_services().cluster("stg1").services("app1-web").send().await.unwrap();
    out.services()[0].desired_count()
}

fn queries(notion: &StandIn) -> Vec<Instant> {
    notion.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/query")).map(|r| r.at).collect()
}

/// moto with one stopped service, the stand-in with one row booked far in the future, and a
/// config with an hour's poll (plus `schedule`, extra `[schedule]` lines).
struct World {
    moto: MotoServer,
    sdk: aws_config::SdkConfig,
    notion: StandIn,
    config: std::path::PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A booking far in the future: nothing is wanted yet.
fn future_row(id: &str) -> Row {
    Row::new(
        id,
        "app1 <b>検証</b>",
        &["products/app1-web"],
        Some(("2030-01-07T10:00:00.000+09:00", Some("2030-01-07T12:00:00.000+09:00"))),
    )
    .env("stg1")
}

impl World {
    async fn start(schedule: &str) -> World {
        World::with(&format!("drain = \"15s\"\n{schedule}"), vec![future_row(ROW)], 100).await
    }

    /// The world with these rows and Notion paced at `rps` requests per second.
    async fn with(schedule: &str, rows: Vec<Row>, rps: u32) -> World {
        let moto = MotoServer::start().expect("moto_server starts");
        let sdk = moto::sdk(&moto.url).await;
        moto::ecs_services(&sdk, "stg1", &[("app1-web", 0)]).await;
        let notion = StandIn::start(TOKEN, rows).await.unwrap();
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("envsched.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[notion]
database_id = "{DATABASE_ID}"
token_env = "ENVSCHED_TEST_NOTION_TOKEN"
webhook_token_env = "ENVSCHED_TEST_HOOK_TOKEN"
base_url = "{}"
environment_property = "環境"
feedback_property = "envsched"
requests_per_second = {rps}
fetch_deadline = "3s"
[schedule]
poll_interval = "1h"
lead = "{LEAD_S}s"
{schedule}
[http]
listen = "127.0.0.1:{port}"
[[environments]]
name = "stg1"
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = {{ cluster = "stg1", service = "app1-web" }}
count = 2
"#,
                notion.base_url
            ),
        )
        .unwrap();
        World { moto, sdk, notion, config, port, _dir: dir }
    }

    fn daemon(&self) -> Daemon {
        Daemon::start(&self.config, &self.moto.url, self.port)
    }
}

/// `run` under each Notion API version: the booked service comes up, the row is told, and
/// every request speaks the configured version (none names `archived` under 2026-03-11).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_acts_on_a_booking_under_each_notion_api_version() {
    let now = Timestamp::now();
    let span = |h: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(h)).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    for version in ["2022-06-28", "2025-09-03", "2026-03-11"] {
        let mut row = future_row(ROW);
        row.date = Some((span(-1), Some(span(1)), None));
        let w = World::with("", vec![row], 100).await;
        let text = std::fs::read_to_string(&w.config).unwrap();
        std::fs::write(&w.config, text.replace("[notion]\n", &format!("[notion]\napi_version = \"{version}\"\n")))
            .unwrap();
        let d = w.daemon();
        let deadline = Instant::now() + Duration::from_secs(60);
        while desired_count(&w.sdk).await != 2 || w.notion.rows()[0].feedback.is_empty() {
            assert!(Instant::now() < deadline, "{version}: never acted; logs:\n{}", d.logs.lock().unwrap().join("\n"));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let requests = w.notion.requests();
        assert!(requests.iter().any(|r| r.path.ends_with("/query")), "{version}");
        for r in requests {
            assert_eq!((r.version.as_deref(), r.status), (Some(version), 200), "{version}: {} {}", r.method, r.path);
            assert!(!r.body.to_string().contains("archived"), "{version}: {} sent {}", r.path, r.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_wakes_at_window_edges_and_webhooks_reports_readiness_logs_json_and_stops_cleanly() {
    let w = World::start("").await;
    let (sdk, notion) = (&w.sdk, &w.notion);
    let d = w.daemon();
    d.ready_becomes(200, 60).await;
    assert_eq!(d.get("/live").await.map(|(s, _)| s), Some(200));

    // The row is edited to start in 12 s and Notion tells us: one cycle at once…
    let start = Timestamp::now().checked_add(jiff::SignedDuration::from_secs(12)).unwrap();
    let (t0, ts0) = (Instant::now(), Timestamp::now());
    notion.edit_row(ROW, |r| {
        r.date =
            Some((start.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), Some("2030-01-07T12:00:00.000Z".into()), None));
    });
    let before = queries(notion).len();
    let posted = Instant::now();
    assert_eq!(d.webhook("evt-1").await, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while queries(notion).len() == before {
        assert!(Instant::now() < deadline, "no query after the webhook");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after_hook = queries(notion)[before];
    assert!(after_hook.duration_since(posted) < Duration::from_secs(3), "the webhook's cycle ran at once");
    assert_eq!(desired_count(sdk).await, 0, "not before start − lead");

    // …and the next one at start − lead, an hour before the next poll.
    let edge =
        t0 + Duration::from_secs(start.duration_since(ts0).as_secs() as u64) - Duration::from_secs(LEAD_S as u64);
    let deadline = Instant::now() + Duration::from_secs(30);
    while desired_count(sdk).await != 2 {
        assert!(Instant::now() < deadline, "never scaled up; logs:\n{}", d.logs.lock().unwrap().join("\n"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let at_edge = queries(notion).into_iter().filter(|q| *q > after_hook).min().expect("a cycle at the edge");
    let off = if at_edge > edge { at_edge - edge } else { edge - at_edge };
    assert!(off < Duration::from_millis(1500), "the edge cycle ran {off:?} from start − lead");

    // The status page shows the booking keeping it up, escaped.
    let (s, page) = d.get("/").await.unwrap();
    assert_eq!(s, 200);
    assert!(page.contains("products/app1-web") && page.contains("app1 &lt;b&gt;検証&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>検証"), "Notion text is escaped");
    let (_, metrics) = d.get("/metrics").await.unwrap();
    for m in [
        "envsched_cycles_total",
        "envsched_actions_total",
        "envsched_cycle_duration_seconds",
        "envsched_aws_api_calls_total",
        "envsched_frozen",
    ] {
        assert!(metrics.contains(m), "{m} missing from /metrics:\n{metrics}");
    }

    // Notion fails: /ready says so; it recovers: /ready is back.
    notion.set_outage(Some(503));
    assert_eq!(d.webhook("evt-2").await, 200);
    let why = d.ready_becomes(503, 30).await;
    assert!(why.contains("last cycle failed"), "{why}");
    notion.set_outage(None);
    assert_eq!(d.webhook("evt-3").await, 200);
    d.ready_becomes(200, 30).await;

    // Every metric the Datadog monitors in deploy/datadog query is exported (the Agent maps
    // `envsched_x_total` to `envsched.x.count` and `envsched_y` to `envsched.y`).
    let (_, metrics) = d.get("/metrics").await.unwrap();
    let monitors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/datadog");
    let mut checked = 0;
    for entry in std::fs::read_dir(&monitors).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let monitor: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let query = monitor["query"].as_str().unwrap();
        let name = query.split("envsched.").nth(1).unwrap().split(['{', ' ']).next().unwrap();
        let exported = match name.strip_suffix(".count") {
            Some(counter) => format!("envsched_{counter}_total"),
            None => format!("envsched_{name}"),
        };
        assert!(metrics.contains(&exported), "{}: {exported} is not exported", path.display());
        checked += 1;
    }
    assert_eq!(checked, 4);

    // SIGTERM while a cycle waits on a slow Notion, with a scale-down to come (the booking
    // has just ended): the cycle ends without sending an AWS call, nothing is changed, and
    // the process exits 0.
    notion.edit_row(ROW, |r| {
        r.date = Some(("2026-01-05T10:00:00.000Z".into(), Some("2026-01-05T12:00:00.000Z".into()), None));
    });
    notion.push_faults([Fault::Slow(Duration::from_secs(2))]);
    assert_eq!(d.webhook("evt-4").await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = d.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut d = d;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not exit within the drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(desired_count(sdk).await, 2, "no action after SIGTERM");

    // Every line is flat JSON with Datadog's keys; the action and the cycles are there.
    let logs: Vec<Value> =
        d.logs.lock().unwrap().iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    for l in &logs {
        for k in ["timestamp", "status", "message", "logger.name", "dd.service", "dd.env", "dd.version"] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
    let scaled = logs.iter().find(|l| l["op"] == "scale" && l["outcome"] == "done").expect("the scale is logged");
    assert_eq!(
        (scaled["target.name"].as_str(), scaled["from"].as_str(), scaled["to"].as_str()),
        (Some("stg1:products/app1-web"), Some("0"), Some("2"))
    );
    assert!(scaled["reason"].as_str().unwrap().contains("検証"), "{scaled}");
    assert!(scaled.get("duration_ms").is_some());
    let failed = logs
        .iter()
        .filter(|l| l["status"] == "error" && l["message"].as_str().unwrap().starts_with("Cycle failed"))
        .count();
    assert_eq!(failed, 1, "a failure is logged once per state change");
    assert!(logs.iter().any(|l| l["message"].as_str().unwrap().starts_with("Recovered")));
    let cycles: Vec<&Value> = logs.iter().filter(|l| l["message"].as_str().unwrap().starts_with("Cycle ")).collect();
    let triggers: Vec<&str> = cycles.iter().filter_map(|l| l["trigger"].as_str()).collect();
    assert!(
        triggers.contains(&"window-edge") && triggers.contains(&"webhook") && triggers[0] == "startup",
        "{triggers:?}"
    );
    // The startup checks: AWS reachable, every target found.
    assert!(
        logs.iter().any(|l| l["check"] == "aws"
            && l["message"]
                == "Check: AWS answered in ap-northeast-1: 1 of 1 targets found (ECS services 1 of 1, Aurora clusters 0 of 0)"),
        "no AWS startup check in the logs"
    );
    assert!(logs.iter().any(|l| l["message"].as_str().unwrap().starts_with("Stopping")));
    // SIGTERM came while the fetch waited: no AWS call is sent after it, so the fleet is not
    // even observed, and nothing is planned or done.
    assert!(
        logs.iter().any(|l| l["message"] == "Stopping: the fleet was not observed, so nothing was planned or done"),
        "the halted cycle says why it did nothing"
    );
    assert!(!logs.iter().any(|l| l["status"] == "error" && l["message"].as_str().unwrap().contains("shutting down")));
    assert_eq!(logs.last().unwrap()["message"], "Stopped");
}

/// `schedule.resync` and `schedule.summary` fire on their cron schedules (here every 2 and
/// every 3 seconds, with the poll an hour away): a resync cycle reads the Notion schema again;
/// a summary is one log line counting the cycles since the last one, with no cycle of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_resyncs_and_logs_summaries_on_their_cron_schedules() {
    let w = World::start("resync = \"*/2 * * * * *\"\nsummary = \"*/3 * * * * *\"").await;
    let d = w.daemon();
    d.ready_becomes(200, 60).await;
    let schema_reads = || w.notion.requests().iter().filter(|r| r.method == "GET").count();
    let after_startup = schema_reads();
    let logs = |prefix: &str| -> Vec<Value> {
        d.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with(prefix)))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while logs("Summary since").len() < 3 {
        assert!(Instant::now() < deadline, "no summaries; logs:\n{}", d.logs.lock().unwrap().join("\n"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let second = |l: &Value| l["timestamp"].as_str().unwrap().parse::<Timestamp>().unwrap().as_second();

    // Summaries on the 3-second marks, each counting from the one before.
    let summaries = logs("Summary since");
    assert!(summaries.iter().all(|l| second(l) % 3 == 0), "{summaries:?}");
    assert!(summaries[0]["cycles"].as_u64().unwrap() >= 1, "the startup cycle counts: {}", summaries[0]);
    for pair in summaries.windows(2) {
        assert!(pair[1]["since"].as_str() > pair[0]["since"].as_str(), "each summary starts afresh: {pair:?}");
        // A 2-second resync falls in every 3-second span.
        assert!(pair[1]["cycles"].as_u64().unwrap() >= 1, "{}", pair[1]);
        assert!(pair[1].get("estimated_savings_usd").is_some() && pair[1].get("targets_wanted_up").is_some());
    }

    // Resyncs on the 2-second marks, each a cycle that reads the schema again.
    let resyncs = logs("Resync:");
    assert!(resyncs.len() >= 2 && resyncs.iter().all(|l| second(l) % 2 == 0), "{resyncs:?}");
    let triggers: Vec<String> = logs("Cycle ").iter().filter_map(|l| l["trigger"].as_str().map(String::from)).collect();
    assert!(triggers.iter().filter(|t| *t == "resync").count() >= 2, "{triggers:?}");
    assert!(!triggers.iter().any(|t| t == "summary"), "a summary runs no cycle: {triggers:?}");
    assert!(schema_reads() >= after_startup + 2, "the resyncs read the schema again");
}

/// Sends SIGTERM and waits (up to `secs`) for the exit: the status and how long it took.
fn terminate(d: &mut Daemon, secs: u64) -> (std::process::ExitStatus, Duration) {
    let pid = d.child.id().to_string();
    let sent = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    loop {
        if let Some(s) = d.child.try_wait().unwrap() {
            return (s, sent.elapsed());
        }
        assert!(sent.elapsed() < Duration::from_secs(secs), "still running {secs} s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_200_row_write_back_exits_0_within_the_drain() {
    // 200 live rows at Notion's 3 requests/s: telling them all takes over a minute.
    let rows = (0..200).map(|i| future_row(&format!("2b4e6a17-3c5d-8101-a4c2-{i:012x}"))).collect();
    let w = World::with("drain = \"5s\"", rows, 3).await;
    let patches = || w.notion.requests().iter().filter(|r| r.method == "PATCH").count();
    let mut d = w.daemon();
    let deadline = Instant::now() + Duration::from_secs(60);
    while patches() < 5 {
        assert!(
            Instant::now() < deadline,
            "the write-back never started; logs:\n{}",
            d.logs.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = patches();
    let (status, took) = terminate(&mut d, 30);
    assert_eq!(status.code(), Some(0));
    assert!(took <= Duration::from_secs(6), "exited {took:?} after SIGTERM; drain is 5 s");
    assert!(patches() <= before + 1, "{} PATCHes after SIGTERM (one may have been in flight)", patches() - before);
    let logs: Vec<Value> = d.logs.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let cycle =
        logs.iter().find(|l| l["message"].as_str().is_some_and(|m| m.starts_with("Cycle "))).expect("a cycle line");
    assert!(cycle["write_back_ms"].as_u64().is_some(), "the write-back's time is its own field: {cycle}");
    assert!(
        cycle["duration_ms"].as_u64().unwrap() < cycle["write_back_ms"].as_u64().unwrap(),
        "duration_ms measures the cycle alone: {cycle}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freeze_is_logged_once_and_its_reason_stays_on_ready() {
    // Two bookings open right now, then both vanish at once: the suspicious-drop guard holds.
    let now = Timestamp::now();
    let (from, to) = (now - jiff::SignedDuration::from_hours(1), now + jiff::SignedDuration::from_hours(2));
    let open = |id: &str| {
        let f = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        Row::new(id, "open", &["products/app1-web"], Some((&f(from), Some(&f(to))))).env("stg1")
    };
    let w = World::with(
        "drain = \"5s\"",
        vec![open("2b4e6a17-3c5d-8101-a4c2-000000000001"), open("2b4e6a17-3c5d-8101-a4c2-000000000002")],
        100,
    )
    .await;
    let d = w.daemon();
    d.ready_becomes(200, 60).await;
    w.notion.set_rows(vec![]);
    let cycles = |d: &Daemon| d.logs.lock().unwrap().iter().filter(|l| l.contains("\"Cycle frozen")).count();
    for i in 0..3 {
        let seen = cycles(&d);
        assert_eq!(d.webhook(&format!("evt-freeze-{i}")).await, 200);
        let deadline = Instant::now() + Duration::from_secs(10);
        while cycles(&d) == seen {
            assert!(Instant::now() < deadline, "no frozen cycle; logs:\n{}", d.logs.lock().unwrap().join("\n"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let frozen_lines = d.logs.lock().unwrap().iter().filter(|l| l.contains("\"Frozen: changing nothing\"")).count();
    assert_eq!(frozen_lines, 1, "three frozen cycles, one line when the freeze began");
    let (status, body) = d.get("/ready").await.unwrap();
    assert_eq!(status, 200);
    assert!(body.starts_with("ready, but frozen: ") && body.contains("bookings"), "{body}");
}

/// The `x` of the first `<rect … class="booked" …>` whose tooltip starts with `title`.
fn bar_x(page: &str, title: &str) -> Option<f64> {
    page.split("<rect ")
        .find(|r| r.starts_with("class=\"booked\"") && r.contains(&format!("<title>{title}: ")))?
        .split("x=\"")
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()
}

/// The status page against the real daemon: a booking starting in 8 hours is under "coming
/// up" with its start time and its bar lies right of `now`; titles link to their rows;
/// `/status.json` carries the same; no script may run, and a `<script>` title stays text.
/// With Debian's Chromium installed (`.ci/run` installs it) the page is also rendered
/// headless and its DOM checked; without it that part says so and is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_what_runs_and_what_comes_on_a_timeline_with_links() {
    let now = Timestamp::now();
    let at = |h: i64| {
        now.checked_add(jiff::SignedDuration::from_mins(h)).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let mut running = future_row("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a7e1");
    running.title = "[A] いま検証中".into();
    running.date = Some((at(-60), Some(at(120)), None));
    let mut later = future_row("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a7e2");
    later.title = "<script>alert(1)</script> 夜間".into();
    later.date = Some((at(8 * 60), Some(at(10 * 60)), None));
    let w = World::with("", vec![running, later], 100).await;
    let d = w.daemon();
    d.ready_becomes(200, 60).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while desired_count(&w.sdk).await != 2 {
        assert!(Instant::now() < deadline, "never scaled up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The model, as JSON.
    let (s, body) = d.get("/status.json").await.unwrap();
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let env = &v["environments"][0];
    assert_eq!(env["name"], "stg1");
    let titles: Vec<&str> = env["bookings"].as_array().unwrap().iter().map(|b| b["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    let target = &env["targets"][0];
    assert_eq!(
        (target["key"].as_str(), target["aws"].as_str()),
        (Some("stg1:products/app1-web"), Some("stg1/app1-web"))
    );
    assert_eq!(target["kept_up_by"][0]["url"], "https://app.notion.com/p/2b4e6a173c5d8101a4c2e8f1b3d5a7e1");
    let edges = env["coming_up"].as_array().unwrap();
    let start = edges.iter().find(|e| !e["starts"].as_array().unwrap().is_empty()).expect("the 8-hour booking's start");
    let start_at: Timestamp = start["at"].as_str().unwrap().parse().unwrap();
    let ahead = start_at.duration_since(now);
    assert!(
        ahead > jiff::SignedDuration::from_mins(7 * 60 + 50) && ahead < jiff::SignedDuration::from_hours(8),
        "start − lead: {start}"
    );
    assert!(start["why"][0].as_str().unwrap().contains("<script>alert(1)</script> 夜間"), "{start}");
    assert!(edges.iter().any(|e| e["stops"][0] == "stg1:products/app1-web"), "the running booking's end: {edges:?}");
    assert!(
        v["actions"].as_array().unwrap().iter().any(|a| a["op"] == "scale" && a["outcome"] == "done"),
        "{}",
        v["actions"]
    );

    // The page.
    let r = reqwest::get(format!("{}/", d.url)).await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let page = r.text().await.unwrap();
    assert!(!page.contains("<script"), "no script, and the title is text");
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt; 夜間";
    assert!(page.contains("<svg class=\"timeline\""), "{page}");
    assert!(
        page.contains("<a href=\"https://app.notion.com/p/2b4e6a173c5d8101a4c2e8f1b3d5a7e1\">[A] いま検証中</a>"),
        "{page}"
    );
    let when = start_at.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).strftime("%a %d %b %H:%M").to_string();
    let coming = page.split("class=\"coming-up\"").nth(1).expect("a coming-up table");
    assert!(coming.contains(&when) && coming.contains(escaped), "{coming}");
    let now_x: f64 = page.split("class=\"now\" x1=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    let later_x = bar_x(&page, escaped).expect("a bar for the later booking");
    assert!(later_x > now_x, "the 8-hour booking's bar ({later_x}) lies right of now ({now_x})");
    assert!(bar_x(&page, "[A] いま検証中").unwrap() < now_x, "the running one began before now");

    // In a real browser, when one is installed.
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        eprintln!("SKIPPED the browser half: no chromium on PATH (bash .ci/run installs Debian's chromium)");
        return;
    };
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let headless = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,900"];
    let out = std::process::Command::new(chromium)
        .args(headless)
        .arg("--dump-dom")
        .arg(format!("{}/", d.url))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<svg class=\"timeline\"") && dom.contains("class=\"booked\""),
        "the browser drew the timeline:\n{dom}"
    );
    assert!(dom.contains(&when), "the start time is on the rendered page");
    assert!(dom.contains("href=\"https://app.notion.com/p/2b4e6a173c5d8101a4c2e8f1b3d5a7e1\""));
    assert!(!dom.contains("<script"), "nothing ran or was injected");
    let _ = std::process::Command::new(chromium)
        .args(headless)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("{}/", d.url))
        .output();
    eprintln!("screenshot: {}", shot.display());
}
