//! `envsched apply` against moto (the AWS emulator) through the real SDK: it starts and stops
//! exactly the planned services and clusters and prints each action with its reason and
//! outcome.

use std::process::{Command, Output};

use envsched_fixtures::{World, moto};

use envsched_sandbox::moto::MotoServer;

/// stg1 in moto's Region: the DB, servicesite that needs it, and creditcard.
fn config() -> String {
    World::tokyo()
        .section("[aws]\nregion = \"ap-northeast-1\"\n[notion]\nenvironment_property = \"環境\"")
        .env("stg1")
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/servicesite", "servicesite")
        .needs(&["db/stg-aurora"])
        .ecs("services/creditcard", "creditcard")
        .toml()
}

fn fixture(name: &str) -> String {
    std::env::var("ENVSCHED_NOTION_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/notion")
        })
        .join(name)
        .display()
        .to_string()
}

async fn world(sdk: &aws_config::SdkConfig) {
    // servicesite was parked by envsched earlier (3 tasks remembered); creditcard runs.
    moto::ecs_services(sdk, "stg1", &[("servicesite", 0), ("creditcard", 2)]).await;
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let arn = ecs.describe_services().cluster("stg1").services("servicesite").send().await.unwrap().services()[0]
        .service_arn()
        .unwrap()
        .to_string();
    ecs.tag_resource()
        .resource_arn(arn)
        .tags(aws_sdk_ecs::types::Tag::builder().key("envsched:count").value("3").build())
        .send()
        .await
        .unwrap();
    moto::stopped_aurora(sdk, "stg1-aurora").await;
}

fn apply(dir: &std::path::Path, moto: &MotoServer, at: &str) -> Output {
    moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
        .args(["apply", "--config", "config.toml", "--at", at])
        .args(["--bookings", &fixture("query-page1.json"), "--bookings", &fixture("query-page2.json")])
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn apply_against_moto_starts_and_stops_exactly_the_plan_and_restores_the_count() {
    let moto = MotoServer::start().expect("moto_server");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = rt.block_on(moto::sdk(&moto.url));
    rt.block_on(world(&sdk));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), config()).unwrap();

    // Tuesday noon: P01 books servicesite + the DB in stg1; nobody books creditcard.
    let first = apply(dir.path(), &moto, "2026-11-24T12:00:00+09:00");
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{out}\n{}", String::from_utf8_lossy(&first.stderr));
    assert!(out.contains("stg1:db/stg-aurora") && out.contains("done (starting)"), "{out}");
    assert!(out.contains("because booked by 'ServiceSite 検証（11/24〜26）'"), "{out}");
    assert!(out.contains("stg1:services/creditcard") && out.contains("2 → 0"), "{out}");
    assert!(out.contains("waiting for stg1:db/stg-aurora"), "the service waits for its DB: {out}");

    // A minute later the cluster is available (moto starts at once): the service follows.
    let second = apply(dir.path(), &moto, "2026-11-24T12:01:00+09:00");
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    assert!(out.contains("stg1:products/servicesite") && out.contains("0 → 3"), "the remembered count: {out}");

    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let services = rt
        .block_on(
            ecs.describe_services()
                .cluster("stg1")
                .services("servicesite")
                .services("creditcard")
                .include(aws_sdk_ecs::types::ServiceField::Tags)
                .send(),
        )
        .unwrap();
    let by_name = |n: &str| services.services().iter().find(|s| s.service_name() == Some(n)).unwrap().clone();
    assert_eq!(by_name("servicesite").desired_count(), 3);
    let tag = |n: &str, k: &str| {
        by_name(n).tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value().map(str::to_string))
    };
    assert_eq!(tag("servicesite", "envsched:state").as_deref(), Some("running"), "marked running once restored");
    assert_eq!(tag("servicesite", "envsched:count").as_deref(), Some("3"), "the value stays (never deleted)");
    assert_eq!(by_name("creditcard").desired_count(), 0);
    assert!(by_name("creditcard").tags().iter().any(|t| t.key() == Some("envsched:count") && t.value() == Some("2")));

    // Third run: nothing left to do.
    let third = apply(dir.path(), &moto, "2026-11-24T12:02:00+09:00");
    assert!(
        String::from_utf8_lossy(&third.stdout).contains("Nothing to do"),
        "{}",
        String::from_utf8_lossy(&third.stdout)
    );
}

/// `check` against the stand-in and moto: AWS answers and every target is found (exit 0);
/// a target whose service does not exist is named, and the check exits 1.
#[test]
fn check_reports_aws_reachability_and_names_targets_not_found() {
    use envsched_sandbox::standin::{DATABASE_ID, Row, StandIn};
    let moto = MotoServer::start().expect("moto_server");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sdk = rt.block_on(moto::sdk(&moto.url));
    rt.block_on(world(&sdk));
    let rows = ["db/stg-aurora", "products/servicesite", "services/creditcard"]
        .iter()
        .enumerate()
        .map(|(i, c)| Row::new(&format!("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a70{i}"), "row", &[c], None).env("stg1"))
        .collect();
    let notion = rt.block_on(StandIn::start("ntn_check_token_4a1e", rows)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config().replace(
        "[notion]\n",
        &format!(
            "[notion]\ndatabase_id = \"{DATABASE_ID}\"\ntoken_env = \"ENVSCHED_TEST_NOTION_TOKEN\"\nbase_url = \"{}\"\n",
            notion.base_url
        ),
    );
    let check = |config: &str| {
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
            .args(["check", "--config", "config.toml"])
            .current_dir(dir.path())
            .env("ENVSCHED_TEST_NOTION_TOKEN", "ntn_check_token_4a1e")
            .output()
            .unwrap()
    };

    let o = check(&config);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains(
            "ok      AWS answered in ap-northeast-1: 3 of 3 targets found (ECS services 2 of 2, Aurora clusters 1 of 1)"
        ),
        "{out}"
    );
    assert!(out.ends_with("Notion and AWS match the config.\n"), "{out}");

    let o = check(&format!(
        "{config}[[targets]]\nname = \"products/legacy\"\nenvironment = \"stg1\"\necs = {{ cluster = \"stg1\", service = \"legacy\" }}\n"
    ));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "ok      AWS answered in ap-northeast-1: 3 of 4 targets found (ECS services 2 of 3, Aurora clusters 1 of 1)"
        ),
        "{out}"
    );
    assert!(out.contains("ERROR   1 target(s) not found: stg1:products/legacy — check the cluster/service"), "{out}");
}
