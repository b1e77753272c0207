//! The demo: the seed's world and a week of bookings, run minute by minute.
//!
//! The world: four staging slices `stg1`–`stg4` with 60 ECS services each (36 `products/…`,
//! 20 `services/…`, 4 `tools/…`), an Aurora cluster `db/aurora` in stg1–stg3 that every
//! `products/…` service of its slice depends on, and everything running before envsched
//! arrives — the always-on world the seed started from. The calendars and clusters come from
//! `config/demo.toml`; the services are generated here.
//!
//! The week (Monday 2026-11-23, a public holiday, to the next Monday, Asia/Tokyo): three dev
//! teams and QA book what they need — whole days, a night, a weekend, a template-style
//! multi-component row, a row with an unknown component, an undated row; one booking is
//! cancelled mid-week, one is added two days ahead, someone deploys a parked service, Notion
//! is down for six minutes, and an Aurora cluster starts itself after seven days stopped.
//!
//! | module | holds |
//! |---|---|
//! | this one | what a run produces: [`Simulation`], its tracks, events and [`Savings`] |
//! | `world` | the world: services, fleet before envsched, the week's rows and edits as data |
//! | `run` | playing the week minute by minute, and sampling it |
//! | `narrate` | the timeline's lines and the report's counts for each cycle |

mod narrate;
mod run;
mod world;

use std::collections::BTreeMap;

use envsched_core::config::PricingSection;
use envsched_core::savings::{Cost, Usage};
use envsched_core::{Booking, TargetKey, TargetKind};
use jiff::Timestamp;

pub use run::run;
pub use world::{DemoEdit, SERVICES, World, world};

/// What one simulated target did, minute by minute.
#[derive(Debug, Clone)]
pub struct TargetTrack {
    /// Target key.
    pub key: TargetKey,
    /// Target name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// Kind.
    pub kind: TargetKind,
    /// Running tasks (ECS) or 1 when the cluster is billed (not stopped), per minute.
    pub running: Vec<u16>,
    /// Up (ECS running ≥ 1, Aurora available), per minute.
    pub up: Vec<bool>,
    /// Booked (an active booking needs it now, lead time excluded), per minute.
    pub booked: Vec<bool>,
}

/// What one booking row looked like over the week.
#[derive(Debug, Clone)]
pub struct BookingTrack {
    /// The row as it ended the week.
    pub booking: Booking,
    /// Active (status live and inside the window, no lead), per minute.
    pub active: Vec<bool>,
    /// Components and the targets each selects (indices into [`Simulation::targets`]).
    pub components: Vec<(String, Vec<usize>)>,
}

/// Something worth a line in the timeline.
#[derive(Debug, Clone)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// Environment, if one.
    pub environment: Option<String>,
    /// What happened.
    pub text: String,
}

/// The result of a demo run.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// First minute.
    pub start: Timestamp,
    /// Minutes simulated.
    pub minutes: usize,
    /// The environments, in config order.
    pub environments: Vec<String>,
    /// Per target.
    pub targets: Vec<TargetTrack>,
    /// Per booking row.
    pub bookings: Vec<BookingTrack>,
    /// Notable events.
    pub events: Vec<Event>,
    /// Summary figures.
    pub report: Savings,
}

/// The savings report: the week's usage against always-on ([`envsched_core::savings`], the
/// model the daemon's metrics use, sampled each simulated minute), and what the week did.
#[derive(Debug, Clone, Default)]
pub struct Savings {
    /// Resource-seconds used and always-on.
    pub usage: Usage,
    /// The prices used.
    pub pricing: PricingSection,
    /// Minutes × targets where a booked target was not up.
    pub booked_minutes_missed: usize,
    /// Reconcile cycles run.
    pub cycles: usize,
    /// Actions carried out, by op.
    pub actions: BTreeMap<String, usize>,
    /// Actions that failed.
    pub failed_actions: usize,
    /// Drift re-parks.
    pub drift_reparked: usize,
    /// Aurora auto-starts seen.
    pub aurora_auto_starts: usize,
    /// Cycles frozen (source down or suspicious drop).
    pub frozen_cycles: usize,
    /// Distinct problems reported.
    pub problems: Vec<String>,
}

impl Savings {
    /// The week's usage priced.
    pub fn cost(&self) -> Cost {
        self.usage.cost(&self.pricing)
    }
}
