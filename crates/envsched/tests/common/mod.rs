//! What the binary's tests (and the idle bench) share when they drive it against moto: an
//! SDK pointed at the emulator, services to act on, and the environment that points the
//! binary at the same emulator. Each test binary uses some of it.
#![allow(dead_code)]

use std::process::Command;

use aws_sdk_ecs::types::ContainerDefinition;

/// The Region every moto-backed test uses.
pub const REGION: &str = "ap-northeast-1";

/// An SDK config for moto at `url`, with its dummy credentials.
pub async fn moto_sdk(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// Creates `cluster` with a task definition and `services`, each `(name, desiredCount)`.
pub async fn ecs_services(sdk: &aws_config::SdkConfig, cluster: &str, services: &[(&str, i32)]) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
    ecs.register_task_definition()
        .family("app")
        .container_definitions(ContainerDefinition::builder().name("app").image("nginx").memory(128).build())
        .send()
        .await
        .unwrap();
    for (service, desired) in services {
        ecs.create_service()
            .cluster(cluster)
            .service_name(*service)
            .task_definition("app")
            .desired_count(*desired)
            .send()
            .await
            .unwrap();
    }
}

/// Creates the Aurora cluster `id` and stops it.
pub async fn stopped_aurora(sdk: &aws_config::SdkConfig, id: &str) {
    let rds = aws_sdk_rds::Client::new(sdk);
    rds.create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("envsched")
        .master_user_password("correct-horse-battery")
        .send()
        .await
        .unwrap();
    rds.stop_db_cluster().db_cluster_identifier(id).send().await.unwrap();
}

/// Points the binary at moto (`url`) with moto's dummy credentials and no instance metadata.
pub fn at_moto<'a>(cmd: &'a mut Command, url: &str) -> &'a mut Command {
    cmd.env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}
