//! The world the moto test binaries share: a moto server, stg1 with four services, an
//! autoscaled one and an Aurora cluster, the config that declares it, and one cycle on it.

use envsched_aws::AwsFleet;
use envsched_core::{Booking, Config, CycleState, FixedClock, FixedSource, Mode, reconcile};
use envsched_fixtures::{World, moto};
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
        moto::sdk(&self.server.url).await
    }
}

/// stg1 with the Aurora cluster, app1-web, creditcard (2 tasks) and prod-mirror, which the
/// `[safety]` pattern protects by name.
pub fn world_config() -> World {
    World::tokyo()
        .lead("0s")
        .section("[safety]\nprotected = [\"prod-*\"]")
        .env("stg1")
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/app1-web", "app1-web")
        .ecs("services/creditcard", "creditcard")
        .count(2)
        .ecs("services/prod-mirror", "prod-mirror")
}

/// stg1 with app1-web (3 tasks, autoscaling 1–4), creditcard (1), prod-mirror (1, protected
/// by name), monitor (1, not a target) and an available Aurora cluster.
pub async fn world(sdk: &aws_config::SdkConfig) {
    moto::ecs_services(sdk, "stg1", &[("app1-web", 3), ("creditcard", 1), ("prod-mirror", 1), ("monitor", 1)]).await;
    moto::autoscaled(sdk, "stg1", "app1-web", 1, 4).await;
    moto::aurora(sdk, "stg1-aurora").await;
}

pub fn config() -> Config {
    world_config().config()
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
