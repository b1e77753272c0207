//! envsched's core: everything that decides, nothing that talks to the world.
//!
//! envsched keeps shared dev/staging environments running only while someone has booked them
//! in Notion. This crate holds the rules: how a booking's window reads in an environment's
//! calendar, which targets a component selects, what must be up at an instant, and which
//! actions close the gap to what AWS reports — in which order, under which safety limits.
//!
//! It must not do I/O: no network, no files, no system clock, no tokio. The edges
//! (`envsched-notion`, `envsched-aws`, `envsched-sandbox`) implement [`BookingSource`],
//! [`Fleet`] and [`Clock`]; the binary wires them to [`reconcile`].
//!
//! # Brief overview
//!
//! * [`Booking`] / [`Window`] — a Notion row and when it applies; [`Calendar`] reads windows
//!   in an environment's zone and operating hours ([`holidays`] for public holidays).
//! * [`Target`] / [`TargetSet`] / [`Selector`] — managed resources and component selection.
//! * [`Config`] — the validated TOML configuration.
//! * [`desired()`] → [`Desired`]; [`plan()`] → [`Plan`] of [`Action`]s in [`Phase`]s.
//! * [`Observed`] — a fleet snapshot; [`DropGuard`] — the suspicious-drop guard.
//! * [`reconcile()`] — one cycle over the three traits.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `window` | windows, calendars, operating hours, DST-safe local → instant |
//! | `holidays` | the Japanese holiday calendar, by rule (2022–2099) |
//! | `booking`, `problem` | rows and what is wrong with them |
//! | `target` | targets and their keys, the dependency graph, component selection (a folder: `set`, `select`) |
//! | `config` | the file model, defaults and validation (a folder: `file`, `model`, `validate`, …) |
//! | `cron` | cron expressions evaluated on the wall clock of a zone (`resync`, `summary`) |
//! | `discover` | targets from tags: the rules that turn listed resources into targets |
//! | `observed` | fleet snapshots |
//! | `openings` | what each upcoming window edge starts, per place, for the lead check of `plan` and `check` |
//! | `desired` | desired state at an instant, next window edge |
//! | `action` | what a plan is made of: ops, actions, phases |
//! | `plan` | the planner and its safety rules (a folder: `service`, `aurora`, `status`) |
//! | `memory` | the remembered-size protocol (tags on parked services) and its re-checks |
//! | `feedback` | the state text written back to each booking's row |
//! | `guard` | the suspicious-drop guard |
//! | `source`, `fleet`, `clock` | the traits the edges implement |
//! | `sweep` | observation that scales with change: full reads when cheap, else slices oldest first |
//! | `reconcile` | the cycle |
//! | `savings` | the savings estimate: usage against always-on, priced (daemon metrics and demo report) |
//! | `wake` | when the daemon wakes next: poll, window edges, follow-ups, backoff |
//!
//! # Example
//!
//! ```
//! use envsched_core::{Config, Observed, desired, plan, Policy, Booking, Window};
//!
//! let config = Config::from_toml(r#"
//!     [[targets]]
//!     name = "products/app1-web"
//!     ecs = { cluster = "stg1", service = "app1-web" }
//! "#, "inline").unwrap();
//! let at: jiff::Timestamp = "2026-11-24T03:00:00Z".parse().unwrap();
//! let booking = Booking {
//!     id: "p1".into(), title: "App1 check".into(), status: "利用中".into(),
//!     components: vec!["products/app1".into()], environment: None,
//!     window: Window::Open, trashed: false, feedback: None, last_edited: None, url: None, creator: None,
//! };
//! let observed: Observed = serde_json::from_str(r#"{"ecs_services": [{"cluster": "stg1",
//!     "service": "app1-web", "desired_count": 0, "running_count": 0}]}"#).unwrap();
//! let d = desired(&[booking], &config, at);
//! let p = plan(&d, &observed, &Policy::new(&config, None));
//! let (_, action) = p.actions().next().unwrap();
//! assert_eq!(action.op.name(), "scale");
//! assert_eq!(action.op.from_to(), ("0".to_string(), "1".to_string()));
//! assert!(action.reason.contains("booked by 'App1 check' (p1)"));
//! ```
#![deny(missing_docs)]

pub mod action;
pub mod booking;
pub mod clock;
pub mod config;
pub mod cron;
pub mod desired;
pub mod discover;
pub mod feedback;
pub mod fleet;
pub mod guard;
pub mod holidays;
pub mod memory;
pub mod notify;
pub mod observed;
pub mod openings;
pub mod plan;
pub mod problem;
pub mod reconcile;
pub mod savings;
pub mod source;
pub mod sweep;
pub mod target;
pub mod wake;
pub mod window;

pub use action::{Action, Cause, Direction, Op, Phase};
pub use booking::{Booking, BookingRef};
pub use clock::{Clock, FixedClock};
pub use config::{Config, ConfigError, ConfigFile, Discovery, DiscoverySource, LeaseSettings, Notion, NotionApi};
pub use cron::Cron;
pub use desired::{Desired, DesiredState, Reason, TargetDesire, desired, next_change};
pub use discover::{Discovered, discover, effective};
pub use feedback::feedback;
pub use fleet::{Fleet, FleetError, Outcome};
pub use guard::{DropGuard, Verdict};
pub use memory::{Memory, MemoryKeys, Recall, ServiceNow, Step};
pub use observed::{AuroraStatus, Capacity, Observed, ObservedCluster, ObservedService};
pub use openings::{Opening, Starts, openings};
pub use plan::{Freeze, Plan, Policy, TargetPlan, TargetStatus, Waiting, plan};
pub use problem::{Problem, Subject};
pub use reconcile::{
    Applied, CycleError, CycleOutcome, CycleState, Decision, IN_FLIGHT_PER_PLACE, Mode, Report, plan_now, reconcile,
};
pub use savings::Usage;
pub use source::{BookingSource, FixedSource, SourceError};
pub use sweep::{Sweep, Swept};
pub use target::{Locator, Pin, Place, Selector, Target, TargetKey, TargetKind, TargetSet};
pub use wake::{Last, Wake, WakeReason, next_wake};
pub use window::{Calendar, Interval, Window};
