//! The world the moto test binaries share: a moto server, stg1 with four services, an
//! autoscaled one and an Aurora cluster, the config that declares it, and one cycle on it.

use aws_sdk_ecs::types::ContainerDefinition;
use envsched_aws::AwsFleet;
use envsched_core::{Booking, Config, CycleState, FixedClock, FixedSource, Mode, reconcile};
use envsched_sandbox::moto::MotoServer;

/// A moto server; it stops when dropped.
pub struct Moto {
    server: MotoServer,
}

impl Moto {
    pub fn start() -> Moto {
        Moto { server: MotoServer::start().expect("moto_server starts") }
    }

    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("ap-northeast-1"))
            .endpoint_url(&self.server.url)
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

pub const CONFIG: &str = r#"
time_zone = "Asia/Tokyo"
[schedule]
lead = "0s"
[safety]
protected = ["prod-*"]
[[environments]]
name = "stg1"
[[targets]]
name = "db/stg-aurora"
environment = "stg1"
aurora = { cluster_id = "stg1-aurora" }
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-web" }
[[targets]]
name = "services/creditcard"
environment = "stg1"
ecs = { cluster = "stg1", service = "creditcard" }
count = 2
[[targets]]
name = "services/prod-mirror"
environment = "stg1"
ecs = { cluster = "stg1", service = "prod-mirror" }
"#;

/// The task definition every test service runs (moto needs one to create services).
pub async fn task_definition(ecs: &aws_sdk_ecs::Client) {
    ecs.register_task_definition()
        .family("app")
        .container_definitions(ContainerDefinition::builder().name("app").image("nginx").memory(128).build())
        .send()
        .await
        .unwrap();
}

/// stg1 with app1-web (3 tasks, autoscaling 1–4), creditcard (1), prod-mirror (1, protected
/// by name), monitor (1, not a target) and an available Aurora cluster.
pub async fn world(sdk: &aws_config::SdkConfig) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster().cluster_name("stg1").send().await.unwrap();
    task_definition(&ecs).await;
    for (svc, count) in [("app1-web", 3), ("creditcard", 1), ("prod-mirror", 1), ("monitor", 1)] {
        ecs.create_service()
            .cluster("stg1")
            .service_name(svc)
            .task_definition("app")
            .desired_count(count)
            .send()
            .await
            .unwrap();
    }
    aws_sdk_applicationautoscaling::Client::new(sdk)
        .register_scalable_target()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id("service/stg1/app1-web")
        .scalable_dimension(aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(4)
        .send()
        .await
        .unwrap();
    aws_sdk_rds::Client::new(sdk)
        .create_db_cluster()
        .db_cluster_identifier("stg1-aurora")
        .engine("aurora-postgresql")
        .master_username("envsched")
        .master_user_password("correct-horse-battery")
        .send()
        .await
        .unwrap();
}

pub fn config() -> Config {
    Config::from_toml(CONFIG, "moto.toml").unwrap()
}

pub const AT: &str = "2026-11-24T03:00:00Z";

pub async fn cycle(fleet: &AwsFleet, bookings: Vec<Booking>) -> envsched_core::Report {
    let clock = FixedClock(AT.parse().unwrap());
    reconcile(&config(), &FixedSource(bookings), fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap()
}

pub fn mutating(fleet: &AwsFleet) -> usize {
    fleet.calls().iter().filter(|(op, _)| !op.contains("Describe") && !op.contains("List")).map(|(_, n)| n).sum()
}

pub async fn service(sdk: &aws_config::SdkConfig, name: &str) -> (i32, Vec<(String, String)>) {
    let out = aws_sdk_ecs::Client::new(sdk)
        .describe_services()
        .cluster("stg1")
        .services(name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
        .unwrap();
    let s = &out.services()[0];
    let tags = s.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
    (s.desired_count(), tags)
}
