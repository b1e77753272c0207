//! Reliability: copies of envsched that disagree, against moto through the real binary.
//!
//! Two `envsched apply` processes started 0.1–0.2 s apart, one wanting 20 services up and
//! the other down (as when an SRE runs `apply` from a laptop while the daemon acts), for
//! three rounds, then one all-up `apply`: every service is back at its real count and the
//! autoscaled one at its real range.
//!
//! Two `envsched run` daemons sharing a lease, each reading its own Notion (B's view 1.5 s
//! behind A's), through eight flips of a booking with a handover halfway: only the copy
//! holding the lease writes, the other stands by, a third copy's `apply` is refused, and an
//! all-up apply afterwards finds every count and range.

use std::process::{Child, Command};
use std::time::Duration;

use envsched_fixtures::moto;

use envsched_sandbox::moto::MotoServer;

const SERVICES: usize = 20;

/// The real count of service `i` (2–5).
fn count(i: usize) -> i32 {
    (i % 4) as i32 + 2
}

/// The config with every target pinned `pin` (no Notion needed).
fn config(pin: &str) -> String {
    config_for(pin, SERVICES)
}

/// The config of the first `services` services, pinned `pin`.
fn config_for(pin: &str, services: usize) -> String {
    let mut s = String::from("[aws]\nregion = \"ap-northeast-1\"\n[[environments]]\nname = \"stg1\"\n");
    for i in 0..services {
        s.push_str(&format!(
            "[[targets]]\nname = \"services/svc{i:02}\"\nenvironment = \"stg1\"\necs = {{ cluster = \"stg1\", service = \"svc{i:02}\" }}\npin = \"{pin}\"\n"
        ));
    }
    s
}

fn apply(dir: &std::path::Path, moto: &MotoServer, pin: &str) -> Child {
    moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
        .args(["apply", "--config", &format!("{pin}.toml"), "--bookings", "empty.json"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) {
    let out = child.wait_with_output().unwrap();
    // A step refused because the other copy moved the service is a failed action (exit 1 is
    // allowed); anything else, such as a crash, is not.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The 20 services at their real counts (2–5) in stg1, svc00 autoscaled 2/4.
async fn fleet(sdk: &aws_config::SdkConfig) {
    let services: Vec<(String, i32)> = (0..SERVICES).map(|i| (format!("svc{i:02}"), count(i))).collect();
    let refs: Vec<(&str, i32)> = services.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    moto::ecs_services(sdk, "stg1", &refs).await;
    moto::autoscaled(sdk, "stg1", "svc00", 2, 4).await;
}

/// `empty.json` in `dir`: a saved query with no rows, for `apply --bookings` (the pins decide).
fn no_bookings(dir: &std::path::Path) {
    std::fs::write(dir.join("empty.json"), r#"{"object":"list","results":[],"has_more":false,"next_cursor":null}"#)
        .unwrap();
}

async fn sizes(sdk: &aws_config::SdkConfig) -> (Vec<i32>, (i32, i32)) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let mut counts = Vec::new();
    for chunk in (0..SERVICES).collect::<Vec<_>>().chunks(10) {
        let names: Vec<String> = chunk.iter().map(|i| format!("svc{i:02}")).collect();
        let out = ecs.describe_services().cluster("stg1").set_services(Some(names.clone())).send().await.unwrap();
        for n in &names {
            counts.push(out.services().iter().find(|s| s.service_name() == Some(n)).unwrap().desired_count());
        }
    }
    let t = aws_sdk_applicationautoscaling::Client::new(sdk)
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_ids("service/stg1/svc00")
        .send()
        .await
        .unwrap();
    let t = &t.scalable_targets()[0];
    (counts, (t.min_capacity(), t.max_capacity()))
}

#[test]
fn opposing_applies_lose_no_count_and_no_autoscaling_range() {
    let moto = MotoServer::start().expect("moto_server");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = rt.block_on(moto::sdk(&moto.url));
    rt.block_on(fleet(&sdk));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("up.toml"), config("up")).unwrap();
    std::fs::write(dir.path().join("down.toml"), config("down")).unwrap();
    no_bookings(dir.path());

    // Parked first, as in the morning.
    finish(apply(dir.path(), &moto, "down"));
    assert!(rt.block_on(sizes(&sdk)).0.iter().all(|c| *c == 0));
    for (round, offset_ms) in [100, 200, 100].into_iter().enumerate() {
        // Alternate who goes first.
        let (first, second) = if round % 2 == 0 { ("up", "down") } else { ("down", "up") };
        let a = apply(dir.path(), &moto, first);
        std::thread::sleep(Duration::from_millis(offset_ms));
        let b = apply(dir.path(), &moto, second);
        finish(a);
        finish(b);
    }
    // One all-up apply (twice: a step refused in the race is done on the next run).
    finish(apply(dir.path(), &moto, "up"));
    finish(apply(dir.path(), &moto, "up"));
    let (counts, range) = rt.block_on(sizes(&sdk));
    let want: Vec<i32> = (0..SERVICES).map(count).collect();
    let lost = counts.iter().zip(&want).filter(|(got, want)| got != want).count();
    assert_eq!(lost, 0, "counts lost: got {counts:?}, want {want:?}");
    assert_eq!(range, (2, 4), "the autoscaling range");
}

// --- Two daemons whose Notion views lag each other, coordinated by the lease.

const TOKEN: &str = "ntn_reliability_test_token_7c1a";
const ROW: &str = "3c5f7b28-4d6e-8212-b5d3-f9a2c4e6b8e2";

/// A daemon's config: its own stand-in, a 1 s poll, the shared lease (if `lease`).
fn daemon_config(base_url: &str, port: u16, lease: bool) -> String {
    let mut s = format!(
        r#"
[notion]
database_id = "{}"
token_env = "ENVSCHED_TEST_NOTION_TOKEN"
base_url = "{base_url}"
environment_property = "環境"
feedback_property = "envsched"
requests_per_second = 100
fetch_deadline = "3s"
[schedule]
poll_interval = "1s"
lead = "0s"
linger = "0s"
drain = "5s"
[safety]
max_stops_per_cycle = 100
[safety.suspicious_drop]
min_open_bookings = 0
[aws]
region = "ap-northeast-1"
{}
[http]
listen = "127.0.0.1:{port}"
[[environments]]
name = "stg1"
"#,
        envsched_sandbox::standin::DATABASE_ID,
        if lease { "[aws.lease]\ntable = \"envsched-lease\"\nkey = \"stg\"\nttl = \"10s\"" } else { "" }
    );
    for i in 0..SERVICES {
        s.push_str(&format!(
            "[[targets]]\nname = \"services/svc{i:02}\"\nenvironment = \"stg1\"\necs = {{ cluster = \"stg1\", service = \"svc{i:02}\" }}\n"
        ));
    }
    s
}

struct Copy {
    name: &'static str,
    child: Child,
    logs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Copy {
    fn start(name: &'static str, dir: &std::path::Path, moto: &MotoServer) -> Copy {
        use std::io::BufRead;
        let mut child = moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
            .args(["run", "--config", &format!("{name}.toml"), "--log-format", "json"])
            .current_dir(dir)
            .env("ENVSCHED_TEST_NOTION_TOKEN", TOKEN)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (out, sink) = (child.stdout.take().unwrap(), logs.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Copy { name, child, logs }
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        self.logs.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    async fn logged(&self, prefix: &str, secs: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while !self.lines().iter().any(|l| l["message"].as_str().is_some_and(|m| m.starts_with(prefix))) {
            assert!(
                std::time::Instant::now() < deadline,
                "{} never logged {prefix:?}:\n{}",
                self.name,
                self.logs.lock().unwrap().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, and the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap().code()
    }

    /// Every mutating AWS call this copy made: (time, target, op).
    fn done(&self) -> Vec<(jiff::Timestamp, String, String)> {
        self.lines()
            .iter()
            .filter(|l| l["outcome"] == "done")
            .map(|l| {
                (
                    l["timestamp"].as_str().unwrap().parse().unwrap(),
                    l["target.name"].as_str().unwrap_or("?").to_string(),
                    l["op"].as_str().unwrap_or("?").to_string(),
                )
            })
            .collect()
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn all_parked(sdk: &aws_config::SdkConfig, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (counts, range) = sizes(sdk).await;
        if counts.iter().all(|c| *c == 0) && range == (0, 0) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "not parked: {counts:?} {range:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_with_lagged_notion_views_never_undo_each_other_or_lose_a_count() {
    use envsched_sandbox::standin::{Row, StandIn};
    let moto = MotoServer::start().expect("moto_server");
    let sdk = moto::sdk(&moto.url).await;
    fleet(&sdk).await;
    moto::lease_table(&sdk, "envsched-lease").await;

    // One row books every service; each copy reads its own Notion, B's 1.5 s behind A's.
    let components: Vec<String> = (0..SERVICES).map(|i| format!("services/svc{i:02}")).collect();
    let components: Vec<&str> = components.iter().map(String::as_str).collect();
    let row = Row::new(ROW, "全部 検証", &components, Some(("2026-01-01", Some("2030-12-31")))).env("stg1");
    let unbooked = Row { status: "完了".into(), ..row.clone() };
    let (na, nb) = (StandIn::start(TOKEN, vec![unbooked.clone()]).await.unwrap(), {
        StandIn::start(TOKEN, vec![unbooked]).await.unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    let port = |_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(dir.path().join("a.toml"), daemon_config(&na.base_url, port(0), true)).unwrap();
    std::fs::write(dir.path().join("b.toml"), daemon_config(&nb.base_url, port(1), true)).unwrap();
    std::fs::write(dir.path().join("up.toml"), config("up")).unwrap();
    no_bookings(dir.path());

    let mut a = Copy::start("a", dir.path(), &moto);
    a.logged("Active:", 60).await;
    let mut b = Copy::start("b", dir.path(), &moto);
    b.logged("Standby:", 60).await;
    all_parked(&sdk, 60).await;

    // A third copy, `apply` by hand, refuses while A holds the lease, and changes nothing;
    // `check` says who holds it, and without a lease that copies are not coordinated.
    let lease = "[aws.lease]\ntable = \"envsched-lease\"\nkey = \"stg\"\n";
    let up = config("up")
        .replace("[aws]\nregion = \"ap-northeast-1\"\n", &format!("[aws]\nregion = \"ap-northeast-1\"\n{lease}"));
    std::fs::write(dir.path().join("up-lease.toml"), up).unwrap();
    let out = apply(dir.path(), &moto, "up-lease").wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("another envsched is the active copy") && err.contains("holds the lease"), "{err}");
    assert!(sizes(&sdk).await.0.iter().all(|c| *c == 0), "the refused apply changed nothing");
    let check = |name: &str| {
        let out = moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
            .args(["check", "--config", &format!("{name}.toml")])
            .current_dir(dir.path())
            .env("ENVSCHED_TEST_NOTION_TOKEN", TOKEN)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let held = check("a");
    assert!(held.contains("Copies:") && held.contains("held by") && held.contains(" pid "), "{held}");
    let alone = daemon_config(&na.base_url, port(2), false);
    std::fs::write(dir.path().join("alone.toml"), alone).unwrap();
    let alone = check("alone");
    assert!(alone.contains("copies are not coordinated"), "{alone}");

    // Eight flips of the row, B seeing each 1.5 s after A; the active copy is stopped after
    // the fourth and the standby takes over for the rest.
    let flip =
        |n: &StandIn, booked: bool| n.edit_row(ROW, |r| r.status = if booked { "利用中" } else { "完了" }.into());
    let mut handover = None;
    for i in 1..=8 {
        let booked = i % 2 == 1;
        flip(&na, booked);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        flip(&nb, booked);
        tokio::time::sleep(Duration::from_millis(3000)).await;
        if i == 4 {
            assert_eq!(a.terminate(), Some(0), "the active copy exits 0 on SIGTERM");
            handover = Some(jiff::Timestamp::now());
            b.logged("Active:", 20).await;
        }
    }
    all_parked(&sdk, 60).await;
    assert_eq!(b.terminate(), Some(0));

    // The active periods never overlap: all of A's writes before the handover, all of B's
    // after it (so no copy undid the other's work within a cycle, or at all).
    let (da, db) = (a.done(), b.done());
    let handover = handover.unwrap();
    assert!(!da.is_empty() && !db.is_empty(), "both copies acted in turn: a {da:?} b {db:?}");
    assert!(da.iter().all(|(t, ..)| *t < handover), "A wrote after it stopped: {da:?}");
    assert!(db.iter().all(|(t, ..)| *t > handover), "B wrote while on standby: {db:?}");
    let mut all: Vec<_> = da.iter().map(|e| ("a", e)).chain(db.iter().map(|e| ("b", e))).collect();
    all.sort_by_key(|(_, (t, ..))| *t);
    let undone = all
        .windows(2)
        .filter(|w| {
            let ((c1, (t1, x1, _)), (c2, (t2, x2, _))) = (w[0], w[1]);
            c1 != c2 && x1 == x2 && t2.duration_since(*t1) < jiff::SignedDuration::from_secs(1)
        })
        .count();
    assert_eq!(undone, 0);
    eprintln!("lagged daemons: 8 flips, {} writes by A, {} by B, {undone} undone", da.len(), db.len());

    // Then all up, as in the morning: every real count and the range are back.
    finish(apply(dir.path(), &moto, "up"));
    let (counts, range) = sizes(&sdk).await;
    let want: Vec<i32> = (0..SERVICES).map(count).collect();
    assert_eq!(counts, want, "counts lost");
    assert_eq!(range, (2, 4), "the autoscaling range");
}

// --- kill -9 at every step boundary (a test-only fault point, not timing).

/// `apply` with pins `pin`, dying before its action `abort_before` if given. `true` if it
/// ran to the end, `false` if it died at the fault point.
fn apply_until(dir: &std::path::Path, moto: &MotoServer, pin: &str, abort_before: Option<usize>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_envsched"));
    moto::at_moto(&mut cmd, &moto.url)
        .args(["apply", "--config", &format!("{pin}.toml"), "--bookings", "empty.json"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(n) = abort_before {
        cmd.env("ENVSCHED_TEST_ABORT_BEFORE_ACTION", n.to_string());
    }
    let status = cmd.status().unwrap();
    match status.code() {
        Some(0 | 1) => true,
        None => false,
        Some(c) => panic!("apply exited {c}"),
    }
}

/// kill -9 at every step boundary, on 4 services (one autoscaled), or on all 20 with
/// `ENVSCHED_RELIABILITY_LONG=1` (41 boundaries each way, about 4 minutes).
#[test]
fn a_crash_at_every_step_boundary_of_a_scale_down_and_a_scale_up_loses_no_count() {
    let managed = if std::env::var_os("ENVSCHED_RELIABILITY_LONG").is_some() { SERVICES } else { 4 };
    let moto = MotoServer::start().expect("moto_server");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = rt.block_on(moto::sdk(&moto.url));
    rt.block_on(fleet(&sdk));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("up.toml"), config_for("up", managed)).unwrap();
    std::fs::write(dir.path().join("down.toml"), config_for("down", managed)).unwrap();
    no_bookings(dir.path());
    let want: Vec<i32> = (0..SERVICES).map(count).collect();
    let intact = |when: &str| {
        let (counts, range) = rt.block_on(sizes(&sdk));
        assert_eq!(counts, want, "counts lost {when}");
        assert_eq!(range, (2, 4), "the autoscaling range {when}");
    };

    // Scale-down: die after 0, 1, 2, … steps; the next run finishes the park, and a run up
    // restores every real size. Then the same for a scale-up from parked.
    let mut crashes = 0;
    for (from, to) in [("up", "down"), ("down", "up")] {
        for n in 0.. {
            assert!(apply_until(dir.path(), &moto, from, None));
            if apply_until(dir.path(), &moto, to, Some(n)) {
                eprintln!("{from} → {to}: {n} step boundaries, a crash at each");
                break;
            }
            crashes += 1;
            assert!(apply_until(dir.path(), &moto, to, None), "the next run after a crash completes");
            assert!(apply_until(dir.path(), &moto, "up", None));
            intact(&format!("after a crash before step {n} of {from} → {to}"));
        }
    }
    assert!(crashes > 2 * managed, "every step of both directions was a crash point: {crashes}");
    intact("at the end");
}
