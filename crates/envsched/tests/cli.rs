//! The real binary on files: the documented JSON, the text view, exit codes, and bad input
//! that exits 1 naming the file/row/key and changes nothing.

use std::path::PathBuf;
use std::process::{Command, Output};

use envsched_fixtures::World;
use serde_json::Value;

/// stg1 (weekday hours, Japanese holidays) with the DB and servicesite that needs it; stg2
/// with app1-web (2 tasks) and creditcard.
fn config() -> String {
    World::tokyo()
        .lead("10m")
        .section("[notion]\nenvironment_property = \"環境\"\nfeedback_property = \"envsched\"")
        .env_with("stg1", "hours = { days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"08:00\", to = \"20:00\" }\nholidays = \"jp\"")
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/servicesite", "servicesite")
        .needs(&["db/stg-aurora"])
        .env("stg2")
        .ecs("products/app1-web", "app1-web")
        .count(2)
        .ecs("services/creditcard", "creditcard")
        .toml()
}

const OBSERVED: &str = r#"{
  "ecs_services": [
    {"cluster": "stg1", "service": "servicesite", "desired_count": 0, "running_count": 0, "tags": {"envsched:count": "3"}},
    {"cluster": "stg2", "service": "app1-web", "desired_count": 0, "running_count": 0, "tags": {}, "autoscaling": null},
    {"cluster": "stg2", "service": "creditcard", "desired_count": 2, "running_count": 2, "tags": {}, "autoscaling": {"min": 1, "max": 4}}
  ],
  "aurora_clusters": [{"id": "stg1-aurora", "status": "stopped", "tags": {}}]
}"#;

fn fixtures() -> PathBuf {
    std::env::var_os("ENVSCHED_NOTION_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/notion"))
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let f = Files { dir: tempfile::tempdir().unwrap() };
        f.write("config.toml", &config());
        f.write("observed.json", OBSERVED);
        f
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn envsched(args: &[&str], files: &Files) -> Output {
    Command::new(env!("CARGO_BIN_EXE_envsched")).args(args).current_dir(files.dir.path()).output().expect("binary runs")
}

fn pages() -> [String; 2] {
    [
        fixtures().join("query-page1.json").display().to_string(),
        fixtures().join("query-page2.json").display().to_string(),
    ]
}

fn plan_args<'a>(extra: &[&'a str], p: &'a [String; 2]) -> Vec<&'a str> {
    let mut v = vec![
        "plan",
        "--config",
        "config.toml",
        "--bookings",
        &p[0],
        "--bookings",
        &p[1],
        "--observed",
        "observed.json",
    ];
    v.extend_from_slice(extra);
    v
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn plan_json_is_the_documented_interface() {
    let f = Files::new();
    let p = pages();
    // Tuesday 2026-11-24 12:00 Tokyo: P01 (servicesite + db, stg1, date-only 11/24–26) is on.
    let o = envsched(&plan_args(&["--at", "2026-11-24T12:00:00+09:00", "--output", "json"], &p), &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["at"], "2026-11-24T03:00:00Z");
    assert!(v["frozen"].is_null());
    for t in v["targets"].as_array().unwrap() {
        for k in ["key", "name", "kind", "desired", "count", "observed", "bookings", "reason", "status"] {
            assert!(t.get(k).is_some(), "target lacks {k}: {t}");
        }
    }
    let actions = v["actions"].as_array().unwrap();
    let first = &actions[0];
    assert_eq!(
        (first["phase"].as_u64(), first["target"].as_str(), first["op"].as_str()),
        (Some(1), Some("stg1:db/stg-aurora"), Some("start"))
    );
    assert_eq!((first["from"].as_str(), first["to"].as_str()), (Some("stopped"), Some("available")));
    assert!(first["reason"].as_str().unwrap().contains("ServiceSite 検証（11/24〜26）"));
    // The service waits for its DB; creditcard (booked by nobody now) parks its autoscaling.
    let site = v["targets"].as_array().unwrap().iter().find(|t| t["key"] == "stg1:products/servicesite").unwrap();
    assert_eq!(site["status"], "waiting");
    assert_eq!(site["count"], 3, "remembered count");
    let ops: Vec<&str> = actions
        .iter()
        .filter(|a| a["target"] == "stg2:services/creditcard")
        .map(|a| a["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["remember", "park-autoscaling", "scale"]);
    let problems = v["problems"].as_array().unwrap();
    assert!(problems.iter().all(|p| p.get("message").is_some() && p.get("fix").is_some()));
    assert_eq!(v["summary"]["start"], 1);
}

#[test]
fn plan_text_reads_by_phase_with_reasons_then_problems_then_counts() {
    let f = Files::new();
    let p = pages();
    let o = envsched(&plan_args(&["--at", "2026-11-30T20:00:00+09:00"], &p), &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // P02, the night load test in stg2 (19:00–07:00), is on at 20:00.
    assert!(out.contains("envsched plan for Mon 30 20:00 (Asia/Tokyo)"), "{out}");
    assert!(out.contains("Phase 1 — up"), "{out}");
    assert!(out.contains("stg2:products/app1-web"), "{out}");
    assert!(
        out.contains(
            "booked by 'アプリ1 夜間負荷試験' (2b4e6a17-3c5d-8102-b7d4-f2a6c8e0b902); count 2 declared in config"
        ),
        "{out}"
    );
    assert!(out.contains("Problems:\n  ! booking '旧管理画面の調査'") || out.contains("Problems:"), "{out}");
    assert!(out.trim_end().ends_with("unchanged."), "{out}");
    let up = out.find("Phase 1").unwrap();
    let problems = out.find("Problems:").unwrap_or(out.len());
    assert!(up < problems);
}

#[test]
fn detailed_exitcode_is_2_when_changes_are_pending_and_0_when_not() {
    let f = Files::new();
    let p = pages();
    let o = envsched(&plan_args(&["--at", "2026-11-24T12:00:00+09:00", "--detailed-exitcode"], &p), &f);
    assert_eq!(o.status.code(), Some(2));
    // Everything already as wanted: a quiet Sunday with everything down.
    let quiet = OBSERVED
        .replace("\"desired_count\": 2, \"running_count\": 2", "\"desired_count\": 0, \"running_count\": 0")
        .replace("{\"min\": 1, \"max\": 4}", "null");
    f.write("observed.json", &quiet);
    let o = envsched(&plan_args(&["--at", "2026-11-29T12:00:00+09:00", "--detailed-exitcode"], &p), &f);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn apply_carries_out_the_plan_reports_outcomes_and_saves_the_new_state() {
    let f = Files::new();
    let p = pages();
    let mut args = plan_args(&["--at", "2026-11-24T12:00:00+09:00", "--save-observed", "after.json"], &p);
    args[0] = "apply";
    let o = envsched(&args, &f);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("done (starting)"), "{}", stdout(&o));
    let after: Value = serde_json::from_str(&std::fs::read_to_string(f.path("after.json")).unwrap()).unwrap();
    assert_eq!(after["aurora_clusters"][0]["status"], "available", "the instant sandbox fleet");
    let cc = after["ecs_services"].as_array().unwrap().iter().find(|s| s["service"] == "creditcard").unwrap();
    assert_eq!(cc["desired_count"], 0);
    assert_eq!(cc["tags"]["envsched:count"], "2");
    assert_eq!(cc["tags"]["envsched:autoscaling"], "1/4");
    // The next apply, from the saved state, brings the service up behind its DB.
    let mut args = plan_args(&["--at", "2026-11-24T12:01:00+09:00", "--output", "json"], &p);
    args[0] = "apply";
    args[8] = "after.json";
    let o = envsched(&args, &f);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let site: Vec<(&str, &str)> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["op"].as_str().unwrap(), a["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(site, [("scale", "done"), ("mark-running", "done")]);
}

#[test]
fn apply_dry_run_changes_nothing() {
    let f = Files::new();
    let p = pages();
    let mut args = plan_args(&["--at", "2026-11-24T12:00:00+09:00", "--dry-run", "--save-observed", "after.json"], &p);
    args[0] = "apply";
    let o = envsched(&args, &f);
    assert!(o.status.success());
    assert!(stdout(&o).contains("dry run: not carried out"));
    let before: Value = serde_json::from_str(OBSERVED).unwrap();
    let after: Value = serde_json::from_str(&std::fs::read_to_string(f.path("after.json")).unwrap()).unwrap();
    assert_eq!(before["aurora_clusters"][0]["status"], after["aurora_clusters"][0]["status"]);
}

/// A small ecspresso monorepo: `infra/products/<svc>/<env>/ecspresso.*`.
fn monorepo(f: &Files, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = f.path(&format!("infra/{path}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const IMPORT: &str = "\n[[ecspresso]]\nroot = \"infra\"\nenv = \"stg\"\nenvironment = \"stg2\"\n";

#[test]
fn an_ecspresso_monorepo_becomes_targets_named_by_path() {
    let f = Files::new();
    f.write("config.toml", &format!("{}{IMPORT}", config()));
    monorepo(
        &f,
        &[
            (
                "products/app2-web/stg/ecspresso.yml",
                "region: ap-northeast-1\ncluster: '{{ must_env `ENVSCHED_TEST_CLUSTER` }}'\nservice: app2-web\nservice_definition: ecs-service-def.json\ntask_definition: ecs-task-def.json\n",
            ),
            (
                "products/app2-api/stg/ecspresso.json",
                r#"{"cluster": "{{ env `ENVSCHED_UNSET_X` `stg2` }}", "service": "app2-api"}"#,
            ),
            // Another ecspresso environment: not read.
            ("products/app2-web/prod/ecspresso.yml", "cluster: prod\nservice: app2-web\n"),
            // Declared in the config already: the declaration wins and the file is not read.
            ("products/app1-web/stg/ecspresso.jsonnet", "{ cluster: std.extVar('x') }"),
        ],
    );
    let p = pages();
    let o = Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(plan_args(&["--at", "2026-11-24T12:00:00+09:00", "--output", "json"], &p))
        .env("ENVSCHED_TEST_CLUSTER", "stg2")
        .current_dir(f.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let resources: Vec<(String, String)> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().to_string(), t["resource"].as_str().unwrap().to_string()))
        .collect();
    for (key, resource) in [
        ("stg2:products/app2-web", "ECS service stg2/app2-web"),
        ("stg2:products/app2-api", "ECS service stg2/app2-api"),
        ("stg2:products/app1-web", "ECS service stg2/app1-web"),
    ] {
        assert!(resources.contains(&(key.into(), resource.into())), "{key}: {resources:?}");
    }
    assert_eq!(resources.len(), 6, "4 declared + 2 imported: {resources:?}");

    // Without the variable, and with a tfstate lookup: exit 1, each file named with the fix.
    monorepo(
        &f,
        &[(
            "services/billing/stg/ecspresso.yml",
            "cluster: '{{ tfstate `aws_ecs_cluster.main.name` }}'\nservice: billing\n",
        )],
    );
    let o = envsched(&plan_args(&[], &p), &f);
    fails_naming(
        &o,
        &[
            "products/app2-web/stg/ecspresso.yml",
            "ENVSCHED_TEST_CLUSTER is not set",
            "services/billing/stg/ecspresso.yml",
            "tfstate",
            "declare it instead: [[targets]] name = \"services/billing\", environment = \"stg2\",",
        ],
    );
}

fn fails_naming(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(o));
    let err = stderr(o);
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(stdout(o).is_empty(), "no plan printed on bad input: {}", stdout(o));
}

#[test]
fn a_saved_notion_error_says_what_notion_said_and_acts_on_nothing() {
    let f = Files::new();
    let saved = fixtures().join("errors/401-unauthorized.json");
    let error: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let args = ["apply", "--config", "config.toml", "--observed", "observed.json", "--save-observed", "after.json"];
    let o = envsched(&[&args[..], &["--bookings", saved.to_str().unwrap()]].concat(), &f);
    let status = error["status"].to_string();
    fails_naming(
        &o,
        &[
            "401-unauthorized.json",
            "Notion error",
            &status,
            error["code"].as_str().unwrap(),
            error["message"].as_str().unwrap(),
            "curl -f",
        ],
    );
    assert!(!f.path("after.json").exists(), "nothing applied");
}

#[test]
fn bad_input_exits_1_naming_the_file_row_or_key_and_acts_on_nothing() {
    let f = Files::new();
    let p = pages();
    let apply_pages = |f: &Files, bookings: &[&str]| {
        let mut args = vec![
            "apply",
            "--config",
            "config.toml",
            "--observed",
            "observed.json",
            "--at",
            "2026-11-24T12:00:00+09:00",
            "--save-observed",
            "after.json",
        ];
        for b in bookings {
            args.extend(["--bookings", b]);
        }
        envsched(&args, f)
    };
    let apply = |f: &Files, first: &str| apply_pages(f, &[first, &p[1]]);
    // Malformed JSON.
    f.write("broken.json", "{\"object\": \"list\", \"results\": [");
    fails_naming(&apply(&f, "broken.json"), &["broken.json", "not JSON"]);
    assert!(!f.path("after.json").exists(), "nothing applied");
    // A property of the wrong type.
    f.write("config.toml", &config().replace("feedback_property = \"envsched\"", "components_property = \"envsched\""));
    fails_naming(
        &apply(&f, &p[0]),
        &[
            "query-page1.json",
            "row 'ServiceSite 検証（11/24〜26）'",
            "\"envsched\" is rich_text, expected multi_select",
            "notion.components_property",
        ],
    );
    // A missing config key.
    f.write("config.toml", &config().replace("name = \"services/creditcard\"\n", ""));
    fails_naming(&apply(&f, &p[0]), &["config.toml", "missing field `name`"]);
    // A cycle in depends_on.
    f.write(
        "config.toml",
        &config().replace(
            "aurora = { cluster_id = \"stg1-aurora\" }",
            "aurora = { cluster_id = \"stg1-aurora\" }\ndepends_on = [\"products/servicesite\"]",
        ),
    );
    fails_naming(
        &apply(&f, &p[0]),
        &["targets[0].depends_on", "stg1:db/stg-aurora → stg1:products/servicesite → stg1:db/stg-aurora"],
    );
    // An unknown environment.
    f.write(
        "config.toml",
        &config().replace(
            "environment = \"stg2\"\necs = { cluster = \"stg2\", service = \"creditcard\" }",
            "environment = \"stg9\"\necs = { cluster = \"stg2\", service = \"creditcard\" }",
        ),
    );
    fails_naming(&apply(&f, &p[0]), &["targets[3].environment", "stg9", "[[environments]]"]);
    // A broken fleet snapshot.
    f.write("config.toml", &config());
    f.write("observed.json", "{\"ecs_services\": [{\"cluster\": \"stg1\"}]}");
    fails_naming(&apply(&f, &p[0]), &["observed.json", "missing field `service`"]);
    // A truncated page set: the last given page says more follow.
    f.write("observed.json", OBSERVED);
    fails_naming(&apply_pages(&f, &[&p[0]]), &["query-page1.json", "has_more = true", "pass every page"]);
    assert!(!f.path("after.json").exists(), "nothing applied in any case");
}

#[test]
fn without_an_observed_file_aws_is_asked_and_an_unreachable_aws_is_a_clear_error() {
    let f = Files::new();
    let p = pages();
    let o = Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(["plan", "--config", "config.toml", "--bookings", &p[0], "--bookings", &p[1]])
        .current_dir(f.dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "ap-northeast-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    fails_naming(&o, &["cannot observe the fleet", "ecs:DescribeServices"]);
}

#[test]
fn the_demo_reports_no_missed_minutes_and_a_fraction_of_always_on() {
    let f = Files::new();
    let o = envsched(&["demo", "--output", "json"], &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let r = &v["report"];
    assert_eq!(r["booked_minutes_missed"], 0);
    assert!(r["service_hours"]["percent"].as_f64().unwrap() <= 20.0);
    assert_eq!(
        (r["failed_actions"].as_u64(), r["drift_reparked"].as_u64(), r["aurora_auto_starts"].as_u64()),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(r["frozen_cycles"], 6, "the six minutes of Notion 503s");
    assert!(
        r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("unknown component products/legacy-admin"))
    );
    // Bookings came through the real client from the stand-in, and rows were told their state.
    assert!(v["notion"]["queries"].as_u64().unwrap() > 600, "{}", v["notion"]);
    assert!(v["notion"]["rows_told"].as_u64().unwrap() > 20, "{}", v["notion"]);
    assert!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"] == "✎ Notion «[A] ServiceSite 改修»: waiting for db/aurora")
    );
    // "Ending soon": one comment per booking end that stops something, mentioning the row's
    // creator, 30 minutes before the stop at most, and none during the outage.
    let events = v["events"].as_array().unwrap();
    let at_text = |needle: &str| -> jiff::Timestamp {
        events.iter().find(|e| e["text"].as_str().unwrap().starts_with(needle)).unwrap()["at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let (outage, back) = (at_text("FROZEN"), at_text("bookings readable again"));
    let comments = v["notion"]["comments"].as_array().unwrap();
    let mut rows = std::collections::BTreeSet::new();
    for c in comments {
        let (at, text): (jiff::Timestamp, &str) =
            (c["at"].as_str().unwrap().parse().unwrap(), c["text"].as_str().unwrap());
        assert!(text.starts_with("envsched: @利用者 A "), "mentions the creator: {text}");
        assert!(!(outage..back).contains(&at), "posted during the outage: {c}");
        let (time, date) = {
            let rest = text.split(" stop at ").nth(1).unwrap();
            (&rest[..5], rest.split(" on ").nth(1).unwrap().get(..10).unwrap())
        };
        let stop: jiff::Timestamp =
            format!("{date}T{time}:00+09:00[Asia/Tokyo]").parse::<jiff::Zoned>().unwrap().timestamp();
        let ahead = stop.duration_since(at);
        assert!(ahead > jiff::SignedDuration::ZERO && ahead <= jiff::SignedDuration::from_mins(30), "{c}");
        assert!(rows.insert(c["row"].as_str().unwrap()), "two comments for one row's end: {c}");
    }
    // Every booking that ends in the week gets one — except the cancelled ポイント改修, the
    // open-ended 共通基盤 and 旧管理画面の調査, whose only component selects nothing.
    let ending: std::collections::BTreeSet<&str> = v["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            !["[B] ポイント改修", "[QA] 共通基盤（期間なし）", "[C] 旧管理画面の調査"]
                .contains(&b["title"].as_str().unwrap())
        })
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ending);
    // The one due at 19:30 on Thursday, in the outage, came once it ended, before 20:00.
    assert!(
        comments.iter().any(|c| c["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap() == back),
        "{comments:?}"
    );
    // The weekend booking ran outside operating hours, exactly as booked (Sat 10:00 – Sun 18:00).
    let weekend = v["bookings"].as_array().unwrap().iter().find(|b| b["title"] == "[C] 週末リリース検証").unwrap();
    assert_eq!(weekend["booked_minutes"], 32 * 60);
    let text = envsched(&["demo", "--width", "100"], &f);
    let out = stdout(&text);
    assert!(out.contains("Booked minutes missed: 0"), "{out}");
    assert!(out.contains("[C] 週末リリース検証"), "{out}");
    let chart: Vec<&str> = out.lines().filter(|l| l.contains('┊')).collect();
    assert!(chart.len() > 20);
    assert!(chart.iter().all(|l| unicode_width(l) <= 100), "chart fits the width");
}

fn unicode_width(s: &str) -> usize {
    // CJK characters take two columns; everything the chart draws takes one.
    s.chars()
        .map(|c| if ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c) { 2 } else { 1 })
        .sum()
}

#[test]
fn check_never_prints_a_notion_token_pasted_into_the_config() {
    let f = Files::new();
    let token = "ntn_4193082154a8Zx9QmL2vKp7TsW1yBn5cRd3fGh6jUe0oIq";
    f.write("config.toml", &config().replace("[notion]\n", &format!("[notion]\ndatabase_id = \"{token}\"\n")));
    let o = envsched(&["check", "--config", "config.toml"], &f);
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains(&token[4..16]), "echoed the token: {all}");
    assert!(stderr(&o).contains("notion.database_id") && stderr(&o).contains("redacted"), "{}", stderr(&o));
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly_not_with_a_panic() {
    // `envsched plan | head -1`: the pipe closes before the plan is printed.
    let (f, p) = (Files::new(), pages());
    let mut child = Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(plan_args(&["--at", "2026-11-24T12:00:00+09:00"], &p))
        .current_dir(f.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// `holidays_csv` is read relative to the config file: a day the official list adds is a
/// day off (the date-only booking starts nothing), and a missing file names the key.
#[test]
fn an_official_holiday_csv_next_to_the_config_makes_its_days_days_off() {
    let f = Files::new();
    std::fs::create_dir(f.path("conf")).unwrap();
    let with_csv = config().replace("holidays = \"jp\"", "holidays = \"jp\"\nholidays_csv = \"syukujitsu.csv\"");
    f.write("conf/config.toml", &with_csv);
    let p = pages();
    let plan = |cfg: &str| {
        envsched(
            &[
                "plan",
                "--config",
                cfg,
                "--observed",
                "observed.json",
                "--bookings",
                &p[0],
                "--bookings",
                &p[1],
                "--at",
                "2026-11-24T12:00:00+09:00",
            ],
            &f,
        )
    };
    fails_naming(&plan("conf/config.toml"), &["environments[0].holidays_csv", "cannot read \"syukujitsu.csv\""]);
    // Tuesday 2026-11-24 made a holiday by the list (an invented one): nothing starts.
    f.write("conf/syukujitsu.csv", "国民の祝日・休日月日,国民の祝日・休日名称\r\n2026/11/3,文化の日\r\n2026/11/23,勤労感謝の日\r\n2026/11/24,休日\r\n");
    let (without, with) = (plan("config.toml"), plan("conf/config.toml"));
    assert!(without.status.success() && with.status.success(), "{}", stderr(&with));
    let starts_db = |o: &Output| stdout(o).lines().any(|l| l.contains("▲ stg1:db/stg-aurora") && l.contains("start"));
    assert!(starts_db(&without), "{}", stdout(&without));
    assert!(!starts_db(&with), "a day off by the official list: {}", stdout(&with));
}

/// An edge whose starts take longer than `schedule.lead`: the plan says so, with what starts,
/// how long it takes and the lead that would do; one that fits says nothing.
#[test]
fn plan_says_when_lead_leaves_too_little_time_to_start_a_window_opening() {
    let f = Files::new();
    let p = pages();
    // Tuesday 2026-11-24 06:00 Tokyo: P01 (servicesite + its DB, stg1, date-only 11/24–26)
    // opens with stg1's hours at 08:00, so envsched acts at 07:50.
    let at = ["--at", "2026-11-24T06:00:00+09:00"];
    let o = envsched(&plan_args(&at, &p), &f);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Window openings"), "a 7-minute cluster fits 10 minutes of lead: {}", stdout(&o));
    // A cluster that takes 15 minutes to be available does not.
    f.write("config.toml", &config().replace("lead = \"10m\"", "lead = \"10m\"\naurora_start = \"15m\""));
    let o = envsched(&plan_args(&at, &p), &f);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Window openings in the next 24 hours:"), "{out}");
    assert!(
        out.contains("Tue 24 07:50 (window 08:00) starts 1 ECS service and 1 Aurora cluster (1 waiting on it)"),
        "{out}"
    );
    assert!(out.contains("more than schedule.lead = 10m"), "{out}");
    assert!(out.contains("set schedule.lead to at least 15m 30s"), "15 minutes and one 30 s poll: {out}");
    let o = envsched(&plan_args(&[at[0], at[1], "--output", "json"], &p), &f);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let opening = &v["openings"][0];
    assert_eq!(opening["acts_at"], "2026-11-23T22:50:00Z", "{v}");
    assert_eq!((opening["needs_s"].as_u64(), opening["lead_s"].as_u64()), (Some(930), Some(600)));
    assert_eq!(opening["late"], true);
    assert_eq!(opening["places"][0]["clusters"], 1);
    assert_eq!(opening["places"][0]["services_after_clusters"], 1);
}
