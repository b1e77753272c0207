//! Builders so tests read as the brief: `booking("t").components(["db/x"]).days(..)`.
#![allow(dead_code)]

use envsched_core::{Booking, Config, Observed, Plan, Policy, desired, plan};
pub use envsched_fixtures::{Snapshot, World, at, booking};

/// The reference world: stg1 with weekday hours and Japanese holidays, stg2 whole days.
pub fn world() -> World {
    World::tokyo()
        .lead("10m")
        .linger("0s")
        .env_with(
            "stg1",
            "hours = { days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"08:00\", to = \"20:00\" }\n\
             holidays = \"jp\"\nskip_dates = [\"2026-12-29\"]",
        )
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/app1-web", "app1-web")
        .count(2)
        .needs(&["db/stg-aurora"])
        .ecs("products/app1-api", "app1-api")
        .needs(&["db/stg-aurora"])
        .ecs("services/creditcard", "creditcard")
        .ecs("services/monitor", "monitor")
        .pin("up")
        .env("stg2")
        .ecs("products/app1-web", "app1-web")
}

pub fn config() -> Config {
    config_with("")
}

pub fn config_with(extra: &str) -> Config {
    Config::from_toml(&format!("{}\n{extra}", world().toml()), "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// A fleet where everything in the base config exists and is down.
pub fn fleet() -> Snapshot {
    Snapshot::default()
        .cluster("stg1-aurora", "stopped")
        .service("stg1", "app1-web", 0, 0)
        .service("stg1", "app1-api", 0, 0)
        .service("stg1", "creditcard", 0, 0)
        .service("stg1", "monitor", 1, 1)
        .service("stg2", "app1-web", 0, 0)
}

pub fn plan_at(config: &Config, bookings: &[Booking], observed: &Observed, t: &str) -> Plan {
    let d = desired(bookings, config, at(t));
    plan(&d, observed, &Policy::new(config, None))
}

/// `target op from→to` lines, in execution order, for compact assertions.
pub fn ops(p: &Plan) -> Vec<String> {
    p.actions()
        .map(|(_, a)| {
            let (from, to) = a.op.from_to();
            format!("{} {} {}→{}", a.target, a.op.name(), from, to)
        })
        .collect()
}
