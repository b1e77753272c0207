//! Reliability: copies of envsched that disagree, against moto through the real binary.
//!
//! Two `envsched apply` processes started 0.1–0.2 s apart, one wanting 20 services up and
//! the other down (as when an SRE runs `apply` from a laptop while the daemon acts), for
//! three rounds, then one all-up `apply`: every service is back at its real count and the
//! autoscaled one at its real range.

use std::process::{Child, Command};
use std::time::Duration;

mod common;

use envsched_sandbox::moto::MotoServer;

const SERVICES: usize = 20;

/// The real count of service `i` (2–5).
fn count(i: usize) -> i32 {
    (i % 4) as i32 + 2
}

/// The config with every target pinned `pin` (no Notion needed).
fn config(pin: &str) -> String {
    let mut s = String::from("[aws]\nregion = \"ap-northeast-1\"\n[[environments]]\nname = \"stg1\"\n");
    for i in 0..SERVICES {
        s.push_str(&format!(
            "[[targets]]\nname = \"services/svc{i:02}\"\nenvironment = \"stg1\"\necs = {{ cluster = \"stg1\", service = \"svc{i:02}\" }}\npin = \"{pin}\"\n"
        ));
    }
    s
}

fn apply(dir: &std::path::Path, moto: &MotoServer, pin: &str) -> Child {
    common::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
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
    let sdk = rt.block_on(common::moto_sdk(&moto.url));
    let services: Vec<(String, i32)> = (0..SERVICES).map(|i| (format!("svc{i:02}"), count(i))).collect();
    let refs: Vec<(&str, i32)> = services.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    rt.block_on(common::ecs_services(&sdk, "stg1", &refs));
    rt.block_on(async {
        aws_sdk_applicationautoscaling::Client::new(&sdk)
            .register_scalable_target()
            .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
            .resource_id("service/stg1/svc00")
            .scalable_dimension(aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(2)
            .max_capacity(4)
            .send()
            .await
            .unwrap()
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("up.toml"), config("up")).unwrap();
    std::fs::write(dir.path().join("down.toml"), config("down")).unwrap();
    std::fs::write(
        dir.path().join("empty.json"),
        r#"{"object":"list","results":[],"has_more":false,"next_cursor":null}"#,
    )
    .unwrap();

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
