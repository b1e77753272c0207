//! Builders so tests read as the brief: `booking("t").components(["db/x"]).days(..)`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use envsched_core::{
    AuroraStatus, Booking, Capacity, Config, Observed, ObservedCluster, ObservedService, Plan, Policy, Window, desired,
    plan,
};
use jiff::Timestamp;

/// The reference world: stg1 with weekday hours and Japanese holidays, stg2 whole days.
pub const BASE: &str = r#"
time_zone = "Asia/Tokyo"
[schedule]
lead = "10m"
linger = "0s"
[[environments]]
name = "stg1"
hours = { days = ["mon", "tue", "wed", "thu", "fri"], from = "08:00", to = "20:00" }
holidays = "jp"
skip_dates = ["2026-12-29"]
[[environments]]
name = "stg2"
[[targets]]
name = "db/stg-aurora"
environment = "stg1"
aurora = { cluster_id = "stg1-aurora" }
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-web" }
count = 2
depends_on = ["db/stg-aurora"]
[[targets]]
name = "products/app1-api"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-api" }
depends_on = ["db/stg-aurora"]
[[targets]]
name = "services/creditcard"
environment = "stg1"
ecs = { cluster = "stg1", service = "creditcard" }
[[targets]]
name = "services/monitor"
environment = "stg1"
ecs = { cluster = "stg1", service = "monitor" }
pin = "up"
[[targets]]
name = "products/app1-web"
environment = "stg2"
ecs = { cluster = "stg2", service = "app1-web" }
"#;

pub fn config() -> Config {
    config_with("")
}

pub fn config_with(extra: &str) -> Config {
    Config::from_toml(&format!("{BASE}\n{extra}"), "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

pub fn at(s: &str) -> Timestamp {
    s.parse::<jiff::Zoned>().map(|z| z.timestamp()).or_else(|_| s.parse()).unwrap_or_else(|e| panic!("{s}: {e}"))
}

pub struct B(pub Booking);

pub fn booking(title: &str) -> B {
    B(Booking {
        id: format!("id-{}", title.replace(' ', "-")),
        title: title.to_string(),
        status: "利用中".into(),
        components: Vec::new(),
        environment: Some("stg1".into()),
        window: Window::Open,
        trashed: false,
        feedback: None,
        last_edited: None,
        url: None,
    })
}

impl B {
    pub fn components<const N: usize>(mut self, c: [&str; N]) -> Self {
        self.0.components = c.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn env(mut self, e: Option<&str>) -> Self {
        self.0.environment = e.map(str::to_string);
        self
    }
    pub fn days(mut self, first: &str, last: &str) -> Self {
        self.0.window = Window::Days { first: first.parse().unwrap(), last: last.parse().unwrap() };
        self
    }
    pub fn span(mut self, start: &str, end: Option<&str>) -> Self {
        self.0.window = Window::Span { start: at(start), end: end.map(at) };
        self
    }
    pub fn status(mut self, s: &str) -> Self {
        self.0.status = s.to_string();
        self
    }
    pub fn build(self) -> Booking {
        self.0
    }
}

#[derive(Debug, Default, Clone)]
pub struct F(pub Observed);

/// A fleet where everything in the base config exists and is down.
pub fn fleet() -> F {
    F::default()
        .cluster("stg1-aurora", "stopped")
        .service("stg1", "app1-web", 0, 0)
        .service("stg1", "app1-api", 0, 0)
        .service("stg1", "creditcard", 0, 0)
        .service("stg1", "monitor", 1, 1)
        .service("stg2", "app1-web", 0, 0)
}

impl F {
    pub fn service(mut self, cluster: &str, service: &str, desired: u32, running: u32) -> Self {
        self.0.ecs_services.retain(|s| !(s.cluster == cluster && s.service == service));
        self.0.ecs_services.push(ObservedService {
            place: Default::default(),
            cluster: cluster.into(),
            service: service.into(),
            desired_count: desired,
            running_count: running,
            pending_count: 0,
            tags: BTreeMap::new(),
            autoscaling: None,
        });
        self
    }
    pub fn tag(mut self, cluster: &str, service: &str, k: &str, v: &str) -> Self {
        self.svc(cluster, service).tags.insert(k.into(), v.into());
        self
    }
    pub fn autoscaling(mut self, cluster: &str, service: &str, min: u32, max: u32) -> Self {
        self.svc(cluster, service).autoscaling = Some(Capacity { min, max });
        self
    }
    pub fn cluster(mut self, id: &str, status: &str) -> Self {
        self.0.aurora_clusters.retain(|c| c.id != id);
        self.0.aurora_clusters.push(ObservedCluster {
            place: Default::default(),
            id: id.into(),
            status: AuroraStatus::from(status.to_string()),
            tags: BTreeMap::new(),
            unstoppable: None,
        });
        self
    }
    pub fn cluster_tag(mut self, id: &str, k: &str, v: &str) -> Self {
        let c = self.0.aurora_clusters.iter_mut().find(|c| c.id == id).expect("cluster exists");
        c.tags.insert(k.into(), v.into());
        self
    }
    pub fn unstoppable(mut self, id: &str, why: &str) -> Self {
        let c = self.0.aurora_clusters.iter_mut().find(|c| c.id == id).expect("cluster exists");
        c.unstoppable = Some(why.into());
        self
    }
    fn svc(&mut self, cluster: &str, service: &str) -> &mut ObservedService {
        self.0.ecs_services.iter_mut().find(|s| s.cluster == cluster && s.service == service).expect("service exists")
    }
    pub fn build(self) -> Observed {
        self.0
    }
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
