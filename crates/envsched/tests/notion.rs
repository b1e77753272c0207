//! The binary reading a Notion-compatible server (the stand-in) at `notion.base_url`.

use std::path::Path;
use std::process::{Command, Output};

use envsched_sandbox::standin::{DATA_SOURCE_ID, DATABASE_ID, Row, StandIn};
use serde_json::Value;

const TOKEN: &str = "ntn_cli_test_token_8c1f";

fn config(base_url: &str) -> String {
    format!(
        r#"
time_zone = "Asia/Tokyo"
[notion]
database_id = "{DATABASE_ID}"
token_env = "ENVSCHED_TEST_NOTION_TOKEN"
base_url = "{base_url}"
environment_property = "環境"
feedback_property = "envsched"
requests_per_second = 100
[[environments]]
name = "stg1"
hours = {{ days = ["mon", "tue", "wed", "thu", "fri"], from = "08:00", to = "20:00" }}
[[targets]]
name = "db/stg-aurora"
environment = "stg1"
aurora = {{ cluster_id = "stg1-aurora" }}
[[targets]]
name = "products/servicesite"
environment = "stg1"
ecs = {{ cluster = "stg1", service = "servicesite" }}
depends_on = ["db/stg-aurora"]
[[targets]]
name = "services/creditcard"
environment = "stg1"
ecs = {{ cluster = "stg1", service = "creditcard" }}
"#
    )
}

const OBSERVED: &str = r#"{"ecs_services": [
  {"cluster": "stg1", "service": "servicesite", "desired_count": 0, "running_count": 0},
  {"cluster": "stg1", "service": "creditcard", "desired_count": 2, "running_count": 2}],
 "aurora_clusters": [{"id": "stg1-aurora", "status": "stopped"}]}"#;

fn rows() -> Vec<Row> {
    vec![
        Row::new(
            "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701",
            "ServiceSite 検証",
            &["products/servicesite"],
            Some(("2026-11-24", Some("2026-11-26"))),
        )
        .env("stg1"),
        Row::new(
            "2b4e6a17-3c5d-8102-b7d4-f2a6c8e0b902",
            "決済 夜間",
            &["services/creditcard"],
            Some(("2026-11-24T19:00:00.000+09:00", Some("2026-11-25T07:00:00.000+09:00"))),
        )
        .env("stg1"),
        Row::new("2b4e6a17-3c5d-8103-8e1f-a3c5e7f9c103", "旧管理画面", &["products/legacy-admin"], None).env("stg1"),
        Row::new("2b4e6a17-3c5d-8104-9a3b-c5e7a9b1d204", "終わった予約", &["services/creditcard"], None)
            .env("stg1")
            .status("完了"),
    ]
}

fn envsched(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(args)
        .current_dir(dir)
        .env("ENVSCHED_TEST_NOTION_TOKEN", TOKEN)
        .output()
        .expect("binary runs")
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

struct World {
    rt: tokio::runtime::Runtime,
    standin: StandIn,
    dir: tempfile::TempDir,
}

fn world() -> World {
    world_speaking(None)
}

/// The world with `notion.api_version = version` (the default when `None`).
fn world_speaking(version: Option<&str>) -> World {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let standin = rt.block_on(StandIn::start(TOKEN, rows())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut text = config(&standin.base_url);
    if let Some(v) = version {
        text = text.replace("[notion]\n", &format!("[notion]\napi_version = \"{v}\"\n"));
    }
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    std::fs::write(dir.path().join("observed.json"), OBSERVED).unwrap();
    World { rt, standin, dir }
}

const AT: &str = "2026-11-24T20:30:00+09:00";

#[test]
fn plan_from_notion_gives_the_same_targets_as_the_same_rows_from_files() {
    let w = world();
    let from_notion = json(&envsched(
        w.dir.path(),
        &["plan", "--config", "config.toml", "--observed", "observed.json", "--at", AT, "--output", "json"],
    ));
    // Save the same rows as query pages (two rows per page, as a person could with curl).
    let http = reqwest::Client::new();
    let mut files = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut body = serde_json::json!({"page_size": 2});
        if let Some(c) = &cursor {
            body["start_cursor"] = Value::from(c.clone());
        }
        let page: Value = w.rt.block_on(async {
            http.post(format!("{}/v1/data_sources/{DATA_SOURCE_ID}/query", w.standin.base_url))
                .bearer_auth(TOKEN)
                .header("Notion-Version", "2025-09-03")
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let name = format!("page{}.json", files.len() + 1);
        std::fs::write(w.dir.path().join(&name), page.to_string()).unwrap();
        files.push(name);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert!(files.len() >= 2);
    let mut args =
        vec!["plan", "--config", "config.toml", "--observed", "observed.json", "--at", AT, "--output", "json"];
    for f in &files {
        args.extend(["--bookings", f.as_str()]);
    }
    let from_files = json(&envsched(w.dir.path(), &args));
    assert_eq!(from_notion["targets"], from_files["targets"]);
    assert_eq!(from_notion["actions"], from_files["actions"]);
    // The night booking keeps creditcard up; the done row was filtered out by Notion.
    let cc = from_notion["targets"].as_array().unwrap().iter().find(|t| t["name"] == "services/creditcard").unwrap();
    assert_eq!(cc["desired"], "up");
    let queries = w
        .standin
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/query") && r.body.get("filter").is_some())
        .count();
    assert_eq!(queries, 1, "one filtered query for 3 live rows");
}

/// `plan` and `apply` read the same bookings and write the same states under every API
/// version; each speaks only its version's endpoints, and under 2026-03-11 (the default)
/// no request names `archived`.
#[test]
fn plan_and_apply_agree_under_each_api_version() {
    let at = "2026-11-24T12:00:00+09:00";
    let mut plans = Vec::new();
    for version in ["2022-06-28", "2025-09-03", "2026-03-11"] {
        let w = world_speaking(Some(version));
        let args = ["--config", "config.toml", "--observed", "observed.json", "--at", at];
        let plan = json(&envsched(w.dir.path(), &[&["plan", "--output", "json"], &args[..]].concat()));
        let o = envsched(w.dir.path(), &[&["apply"], &args[..]].concat());
        assert!(o.status.success(), "{version}: {}", String::from_utf8_lossy(&o.stderr));
        let feedback: Vec<String> = w.standin.rows().into_iter().map(|r| r.feedback).collect();
        assert_eq!(feedback[0], "waiting for db/stg-aurora", "{version}");
        for r in w.standin.requests() {
            assert_eq!((r.version.as_deref(), r.status), (Some(version), 200), "{version}: {} {}", r.method, r.path);
            let data_sources = r.path.starts_with("/v1/data_sources/");
            assert!(!(data_sources && version == "2022-06-28"), "{version}: {}", r.path);
            assert!(!r.path.ends_with(&format!("{DATABASE_ID}/query")) || version == "2022-06-28", "{}", r.path);
            assert!(!r.body.to_string().contains("archived"), "{version}: {} sent {}", r.path, r.body);
        }
        plans.push((plan, feedback));
    }
    assert_eq!(plans[0], plans[1]);
    assert_eq!(plans[1], plans[2]);
    // With no api_version the config speaks the newest.
    let w = world();
    json(&envsched(
        w.dir.path(),
        &["plan", "-o", "json", "--config", "config.toml", "--observed", "observed.json", "--at", at],
    ));
    assert!(w.standin.requests().iter().all(|r| r.version.as_deref() == Some("2026-03-11")));
}

#[test]
fn apply_from_notion_tells_each_row_its_state() {
    let w = world();
    let o = envsched(
        w.dir.path(),
        &["apply", "--config", "config.toml", "--observed", "observed.json", "--at", "2026-11-24T12:00:00+09:00"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let feedback: Vec<(String, String)> = w.standin.rows().into_iter().map(|r| (r.title, r.feedback)).collect();
    assert_eq!(
        feedback,
        [
            ("ServiceSite 検証".to_string(), "waiting for db/stg-aurora".to_string()),
            ("決済 夜間".to_string(), "scheduled".to_string()),
            ("旧管理画面".to_string(), "unknown component products/legacy-admin".to_string()),
            ("終わった予約".to_string(), String::new()),
        ]
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("notion write-back: 3 rows updated"));
}

#[test]
fn check_reports_the_database_against_the_config() {
    let w = world();
    let o = envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "an orphan component is a problem: {out}");
    assert!(out.contains("ok      notion.status_property = \"ステータス\" (status)"), "{out}");
    assert!(out.contains("select no target: products/legacy-admin"), "{out}");
    assert!(
        out.contains(
            "ok      AWS answered in the snapshot: 3 of 3 targets found (ECS services 2 of 2, Aurora clusters 1 of 1)"
        ),
        "{out}"
    );
}

#[test]
fn a_missing_token_or_an_unreachable_notion_exits_1_naming_what_to_fix() {
    let w = world();
    let o = Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(["plan", "--config", "config.toml", "--observed", "observed.json"])
        .current_dir(w.dir.path())
        .env_remove("ENVSCHED_TEST_NOTION_TOKEN")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ENVSCHED_TEST_NOTION_TOKEN"), "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_envsched"))
        .args(["plan", "--config", "config.toml", "--observed", "observed.json"])
        .current_dir(w.dir.path())
        .env("ENVSCHED_TEST_NOTION_TOKEN", "ntn_wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("401") && err.contains("notion.token_env"), "{err}");
    assert!(!err.contains("ntn_wrong"), "the token is never printed: {err}");
}

#[test]
fn check_names_each_ecspresso_config_whose_deploy_would_delete_envscheds_tags_and_prints_the_fix() {
    let w = world();
    let write = |path: &str, text: &str| {
        let p = w.dir.path().join("infra").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("products/app9-web/stg/ecspresso.yml", "cluster: stg1\nservice: app9-web\n");
    write(
        "products/app9-api/stg/ecspresso.yml",
        "cluster: stg1\nservice: app9-api\nignore:\n  tags:\n    - envsched:count\n    - envsched:autoscaling\n    - envsched:state\n",
    );
    // Only one of the three keys: still deleted by deploy.
    write(
        "products/app9-job/stg/ecspresso.yml",
        "cluster: stg1\nservice: app9-job\nignore:\n  tags: [envsched:count]\n",
    );
    let mut config = std::fs::read_to_string(w.dir.path().join("config.toml")).unwrap();
    config.push_str("\n[[ecspresso]]\nroot = \"infra\"\nenv = \"stg\"\nenvironment = \"stg1\"\n");
    std::fs::write(w.dir.path().join("config.toml"), config).unwrap();
    let o = envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ecspresso:"), "{out}");
    assert!(
        out.contains(
            "app9-web/stg/ecspresso.yml: ignore.tags lacks envsched:count, envsched:autoscaling, envsched:state"
        ),
        "{out}"
    );
    assert!(
        out.contains("app9-job/stg/ecspresso.yml: ignore.tags lacks envsched:autoscaling, envsched:state"),
        "{out}"
    );
    assert!(!out.contains("app9-api/stg/ecspresso.yml"), "a config that keeps the tags is not named: {out}");
    assert!(
        out.contains("    ignore:\n      tags:\n        - envsched:count\n        - envsched:autoscaling\n        - envsched:state"),
        "the exact YAML to add: {out}"
    );
}

/// The line `key = "value"` of `out`, if any.
fn pasted(out: &str, key: &str) -> Option<String> {
    out.lines().find_map(|l| l.strip_prefix(&format!("{key} = \""))).map(|v| v.trim_end_matches('"').to_string())
}

/// `init` on a shared page makes a database `check` passes with no ERROR, under every API
/// version; run again, it finds that database and makes none.
#[test]
fn init_makes_a_database_check_passes_and_a_second_run_makes_nothing() {
    for version in ["2022-06-28", "2025-09-03", "2026-03-11"] {
        let w = world_speaking(Some(version));
        w.standin.share_page("2b4e6a17-3c5d-8012-aaaa-0000000000aa");
        let text = std::fs::read_to_string(w.dir.path().join("config.toml")).unwrap();
        let without_id: String =
            text.lines().filter(|l| !l.starts_with("database_id")).map(|l| format!("{l}\n")).collect();
        std::fs::write(w.dir.path().join("config.toml"), &without_id).unwrap();
        let init = ["init", "--config", "config.toml", "--parent", "2b4e6a17-3c5d-8012-aaaa-0000000000aa"];
        let o = envsched(w.dir.path(), &init);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(o.status.success(), "{version}: {out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("Created the database \"開発環境予約\""), "{version}: {out}");
        let made = w.standin.created();
        assert_eq!(made.len(), 1, "{version}");
        let props = &made[0].properties;
        let names = |p: &str, kind: &str| -> Vec<String> {
            props[p][kind]["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("ステータス", "select"), ["利用中", "未着手", "完了"], "{version}");
        assert_eq!(
            names("コンポーネント", "multi_select"),
            ["db/stg-aurora", "products/servicesite", "services/creditcard"]
        );
        assert_eq!(names("環境", "select"), ["stg1"]);
        assert_eq!(
            (props["期間"]["type"].as_str(), props["envsched"]["type"].as_str()),
            (Some("date"), Some("rich_text"))
        );
        let id = pasted(&out, "database_id").expect("a database_id line to paste");
        assert_eq!(id, made[0].id);
        assert_eq!(pasted(&out, "data_source_id").is_some(), version != "2022-06-28", "{version}: {out}");
        // The pasted lines make a config check passes.
        let mut lines = format!("database_id = \"{id}\"\n");
        if let Some(ds) = pasted(&out, "data_source_id") {
            lines.push_str(&format!("data_source_id = \"{ds}\"\n"));
        }
        std::fs::write(
            w.dir.path().join("config.toml"),
            without_id.replace("[notion]\n", &format!("[notion]\n{lines}")),
        )
        .unwrap();
        let o = envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
        let check = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{version}: {check}");
        assert!(!check.contains("ERROR"), "{version}: {check}");
        assert!(check.contains("ok      notion.status_property = \"ステータス\" (select)"), "{version}: {check}");
        // Run twice (before pasting the ids): the same database is found, none is made.
        std::fs::write(w.dir.path().join("config.toml"), &without_id).unwrap();
        let o = envsched(w.dir.path(), &init);
        let again = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && again.contains("nothing created"), "{version}: {again}");
        assert_eq!(pasted(&again, "database_id").as_deref(), Some(id.as_str()));
        assert_eq!(w.standin.created().len(), 1, "{version}: a second run made another database");
    }
}

#[test]
fn init_on_a_page_not_shared_with_the_integration_says_so_and_makes_nothing() {
    let w = world();
    let o = envsched(
        w.dir.path(),
        &["init", "--config", "config.toml", "--parent", "0000aaaa-3c5d-8012-aaaa-0000000000aa"],
    );
    // The config names a database already: init says so and makes nothing.
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("already names the database"));
    let text = std::fs::read_to_string(w.dir.path().join("config.toml")).unwrap();
    let without_id: String = text.lines().filter(|l| !l.starts_with("database_id")).map(|l| format!("{l}\n")).collect();
    std::fs::write(w.dir.path().join("config.toml"), without_id).unwrap();
    let o = envsched(
        w.dir.path(),
        &["init", "--config", "config.toml", "--parent", "0000aaaa-3c5d-8012-aaaa-0000000000aa"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("share the page 0000aaaa-3c5d-8012-aaaa-0000000000aa with the integration"), "{err}");
    assert!(w.standin.created().is_empty());
}

/// `sync-options` adds what the targets offer, keeps every option (the API drops what a
/// PATCH omits), reports the unused ones, and a second run changes nothing.
#[test]
fn sync_options_adds_the_missing_keeps_the_rest_and_a_second_run_changes_nothing() {
    for version in ["2022-06-28", "2025-09-03", "2026-03-11"] {
        let w = world_speaking(Some(version));
        let before = w.standin.component_options();
        assert_eq!(before, ["products/legacy-admin", "products/servicesite", "services/creditcard"]);
        let patches = || w.standin.requests().iter().filter(|r| r.method == "PATCH").count();
        let o = envsched(w.dir.path(), &["sync-options", "--config", "config.toml", "--dry-run"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{version}: {out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("Would add 1: db/stg-aurora"), "{version}: {out}");
        assert!(out.contains("select no target (1): products/legacy-admin"), "{version}: {out}");
        assert_eq!((patches(), w.standin.component_options()), (0, before.clone()), "--dry-run changes nothing");
        let o = envsched(w.dir.path(), &["sync-options", "--config", "config.toml"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{version}: {out}{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            w.standin.component_options(),
            ["products/legacy-admin", "products/servicesite", "services/creditcard", "db/stg-aurora"],
            "{version}: every option kept, the missing one added"
        );
        let o = envsched(w.dir.path(), &["sync-options", "--config", "config.toml"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("Nothing to add"), "{version}: {out}");
        assert_eq!(patches(), 1, "{version}: the second run sent no PATCH");
    }
}

/// With `[notify]` on, `check` says whether the integration may read comments, and names
/// the capabilities when it may not.
#[test]
fn check_with_notify_on_names_the_comment_capabilities() {
    let w = world();
    let text = std::fs::read_to_string(w.dir.path().join("config.toml")).unwrap();
    std::fs::write(w.dir.path().join("config.toml"), format!("{text}\n[notify]\nending_soon = \"30m\"\n")).unwrap();
    let check = || envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
    let out = String::from_utf8_lossy(&check().stdout).to_string();
    assert!(out.contains("ok      [notify]: the integration reads comments"), "{out}");
    w.standin.set_comments_allowed(false);
    let o = check();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("ERROR   [notify] is on, but")
            && out.contains("HTTP 403 restricted_resource: reading the row's comments"),
        "{out}"
    );
    assert!(out.contains("\"Read comments\" and \"Insert comments\""), "{out}");
}

/// `check` reads the data source's templates and names one whose components select no
/// target; under 2022-06-28, which cannot list them, it says nothing of them.
#[test]
fn check_names_a_template_whose_components_select_nothing() {
    for version in ["2026-03-11", "2022-06-28"] {
        let w = world_speaking(Some(version));
        w.standin.set_rows(rows().into_iter().filter(|r| r.title != "旧管理画面").collect());
        w.standin.set_templates(vec![
            Row::new(
                "2b4e6a17-3c5d-8190-a000-0000000000t1",
                "ServiceSite 一式",
                &["products/servicesite", "db/stg-aurora"],
                None,
            ),
            Row::new(
                "2b4e6a17-3c5d-8190-a000-0000000000t2",
                "旧決済",
                &["services/creditcard", "services/old-pay"],
                None,
            ),
        ]);
        let o = envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
        let out = String::from_utf8_lossy(&o.stdout);
        if version == "2022-06-28" {
            assert!(!out.contains("template"), "{version}: {out}");
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("ok      1 of 2 templates select only known targets"), "{out}");
        assert!(
            out.contains("ERROR   template \"旧決済\" fills in components that select no target: services/old-pay"),
            "{out}"
        );
    }
}

/// `check` looks a week ahead: a window whose cluster needs longer than `schedule.lead` to
/// be available (then one poll, then the service that waits on it) is a warning that says
/// what to set; at the default 7 minutes it fits the default 10 minutes of lead.
#[test]
fn check_warns_when_lead_cannot_start_a_coming_window_in_time() {
    let w = world();
    // 10:00–12:00 Tokyo on the next weekday at least two days away.
    let zone = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let mut day = jiff::Timestamp::now().to_zoned(zone).date().checked_add(jiff::ToSpan::days(2)).unwrap();
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow().unwrap();
    }
    let (from, to) = (format!("{day}T10:00:00.000+09:00"), format!("{day}T12:00:00.000+09:00"));
    w.standin.set_rows(vec![
        Row::new(
            "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701",
            "DB 検証",
            &["products/servicesite"],
            Some((&from, Some(&to))),
        )
        .env("stg1"),
    ]);
    let check = || {
        let o = envsched(w.dir.path(), &["check", "--config", "config.toml", "--observed", "observed.json"]);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let out = check();
    assert!(out.contains("Window openings:\n  ok      1 window opening in the next 7 days starts in time"), "{out}");
    let path = w.dir.path().join("config.toml");
    let mut config = std::fs::read_to_string(&path).unwrap();
    config.push_str("\n[schedule]\nlead = \"10m\"\naurora_start = \"20m\"\n");
    std::fs::write(&path, config).unwrap();
    let out = check();
    assert!(out.contains("(window 10:00) starts 1 ECS service and 1 Aurora cluster (1 waiting on it)"), "{out}");
    assert!(out.contains("set schedule.lead to at least 20m 30s"), "{out}");
}
