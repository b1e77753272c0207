//! Shared helpers for the workspace-level scenario tests (`scenarios.rs`): a small world on
//! the sandbox fleet, a simulated clock and scripted bookings, driven minute by minute
//! through the same reconcile cycle `apply`, `run` and `demo` use.

use envsched_core::{Booking, Config, CycleState, Mode, Observed, Report, reconcile};
pub use envsched_fixtures::{Snapshot, World};
use envsched_sandbox::{RowEdit, SandboxFleet, ScriptedSource, SimClock, Timing};
use jiff::{SignedDuration, Timestamp};

/// A slice with a DB, two apps that need it and one service that does not.
pub fn world() -> World {
    World::tokyo()
        .lead("10m")
        .env("stg1")
        .aurora("db/aurora", "stg1-aurora")
        .ecs("products/app1-web", "app1-web")
        .needs(&["db/aurora"])
        .ecs("products/app1-api", "app1-api")
        .needs(&["db/aurora"])
        .ecs("services/creditcard", "creditcard")
}

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
    envsched_fixtures::booking(&format!("booking {id}"))
        .id(id)
        .components(components)
        .span_at(jst(start), Some(jst(end)))
        .build()
}

/// Everything stopped, as envsched leaves it at night.
pub fn all_down() -> Observed {
    Snapshot::default()
        .service("stg1", "app1-web", 0, 0)
        .service("stg1", "app1-api", 0, 0)
        .service("stg1", "creditcard", 0, 0)
        .cluster("stg1-aurora", "stopped")
        .build()
}

impl Scenario {
    /// A scenario starting at `start` with `observed` and the given rows and edits.
    pub fn new(start: &str, observed: Observed, rows: Vec<Booking>, edits: Vec<(Timestamp, RowEdit)>) -> Self {
        Self::with_config(&world().toml(), start, observed, rows, edits)
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
