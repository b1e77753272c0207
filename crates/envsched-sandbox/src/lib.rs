//! The sandbox: envsched without AWS or Notion.
//!
//! * [`SimClock`] — a settable clock shared by everything in a simulation.
//! * [`SandboxFleet`] — an in-memory [`envsched_core::Fleet`] that behaves like ECS and Aurora
//!   where it matters: services take a while to reach their running count, Aurora passes
//!   through `starting`/`stopping` for minutes, a stopped cluster starts itself after 7 days,
//!   and start/stop outside `stopped`/`available` fail like `InvalidDBClusterStateFault`.
//! * [`ScriptedSource`] — a [`envsched_core::BookingSource`] whose rows change at scripted
//!   instants (a row is added, cancelled, edited), as people do in Notion.
//! * [`demo`] — the seed's world (4 slices × 60 services, 3 Aurora clusters, 3 dev teams + QA)
//!   and a week of bookings, run minute by minute through [`envsched_core::reconcile`].
//!
//! * [`standin`] — a Notion stand-in HTTP server: the same endpoints and shapes as the Notion
//!   API, rows in memory, faults switchable per request.
//!
//! * [`moto`] — starting moto's server, the AWS emulator the tests talk to through the SDK.
//!
//! Never used by `envsched run` against real AWS.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | this one | [`SimClock`] |
//! | `fleet` | [`SandboxFleet`] and its [`Timing`] |
//! | `source` | [`ScriptedSource`] and its row edits |
//! | `demo` | the demo's world, week and report |
//! | `standin` | the Notion stand-in server |
//! | `moto` | moto's server for tests |
#![deny(missing_docs)]

pub mod demo;
mod fleet;
pub mod moto;
mod source;
pub mod standin;

pub use fleet::{SandboxFleet, Timing};
pub use source::{RowEdit, ScriptedSource};

use std::sync::{Arc, Mutex};

use envsched_core::Clock;
use jiff::{SignedDuration, Timestamp};

/// A clock the simulation sets; clones share the same instant.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<Mutex<Timestamp>>);

impl SimClock {
    /// A clock at `t`.
    pub fn new(t: Timestamp) -> Self {
        SimClock(Arc::new(Mutex::new(t)))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t = t.checked_add(d).unwrap_or(Timestamp::MAX);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
