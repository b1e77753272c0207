//! Shared helpers for the workspace-level scenario tests (`scenarios.rs`): a small world on
//! the sandbox fleet, a simulated clock and scripted bookings, driven minute by minute
//! through the same reconcile cycle `apply`, `run` and `demo` use.

use std::collections::BTreeMap;

use envsched_core::{
    AuroraStatus, Booking, Config, CycleState, Mode, Observed, ObservedCluster, ObservedService, Report, Window,
    reconcile,
};
use envsched_sandbox::{RowEdit, SandboxFleet, ScriptedSource, SimClock, Timing};
use jiff::{SignedDuration, Timestamp};

/// A slice with a DB, two apps that need it and one service that does not.
pub const CONFIG: &str = r#"
time_zone = "Asia/Tokyo"
[schedule]
lead = "10m"
[[environments]]
name = "stg1"
[[targets]]
name = "db/aurora"
environment = "stg1"
aurora = { cluster_id = "stg1-aurora" }
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-web" }
depends_on = ["db/aurora"]
[[targets]]
name = "products/app1-api"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-api" }
depends_on = ["db/aurora"]
[[targets]]
name = "services/creditcard"
environment = "stg1"
ecs = { cluster = "stg1", service = "creditcard" }
"#;

/// A running scenario.
pub struct Scenario {
    /// Config.
    pub config: Config,
    /// Clock.
    pub clock: SimClock,
    /// Fleet.
    pub fleet: SandboxFleet,
    /// Bookings.
    pub source: ScriptedSource,
    /// Carried state.
    pub state: CycleState,
}

/// An instant in Tokyo, `2026-11-24T09:00`.
pub fn jst(s: &str) -> Timestamp {
    format!("{s}:00+09:00[Asia/Tokyo]").parse::<jiff::Zoned>().expect("valid instant").timestamp()
}

/// A booking of `components` in stg1 from `start` to `end` (Tokyo times).
pub fn booking(id: &str, components: &[&str], start: &str, end: &str) -> Booking {
    Booking {
        id: id.into(),
        title: format!("booking {id}"),
        status: "利用中".into(),
        components: components.iter().map(|c| c.to_string()).collect(),
        environment: Some("stg1".into()),
        window: Window::Span { start: jst(start), end: Some(jst(end)) },
        trashed: false,
        feedback: None,
        last_edited: None,
        url: None,
    }
}

/// Everything stopped, as envsched leaves it at night.
pub fn all_down() -> Observed {
    let svc = |s: &str| ObservedService {
        place: Default::default(),
        cluster: "stg1".into(),
        service: s.into(),
        desired_count: 0,
        running_count: 0,
        pending_count: 0,
        tags: BTreeMap::new(),
        autoscaling: None,
    };
    Observed {
        ecs_services: vec![svc("app1-web"), svc("app1-api"), svc("creditcard")],
        aurora_clusters: vec![ObservedCluster {
            place: Default::default(),
            id: "stg1-aurora".into(),
            status: AuroraStatus::Stopped,
            tags: BTreeMap::new(),
            unstoppable: None,
        }],
    }
}

impl Scenario {
    /// A scenario starting at `start` with `observed` and the given rows and edits.
    pub fn new(start: &str, observed: Observed, rows: Vec<Booking>, edits: Vec<(Timestamp, RowEdit)>) -> Self {
        Self::with_config(CONFIG, start, observed, rows, edits)
    }

    /// Like [`Scenario::new`] with another config text.
    pub fn with_config(
        config: &str,
        start: &str,
        observed: Observed,
        rows: Vec<Booking>,
        edits: Vec<(Timestamp, RowEdit)>,
    ) -> Self {
        let config = Config::from_toml(config, "scenario").expect("scenario config is valid");
        let clock = SimClock::new(jst(start));
        let fleet = SandboxFleet::new(&observed, clock.clone(), Timing::default());
        let source = ScriptedSource::new(clock.clone(), config.notion.active_statuses.clone(), rows, edits);
        Scenario { config, clock, fleet, source, state: CycleState::default() }
    }

    /// One reconcile cycle at the clock's now.
    pub fn cycle(&mut self) -> Report {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(reconcile(&self.config, &self.source, &self.fleet, &self.clock, &mut self.state, Mode::Apply))
            .expect("the sandbox fleet can always be observed")
    }

    /// Runs one cycle per minute until `until` (exclusive), returning every report.
    pub fn run_until(&mut self, until: &str) -> Vec<Report> {
        let end = jst(until);
        let mut out = Vec::new();
        while envsched_core::Clock::now(&self.clock) < end {
            out.push(self.cycle());
            self.clock.advance(SignedDuration::from_mins(1));
        }
        out
    }
}
