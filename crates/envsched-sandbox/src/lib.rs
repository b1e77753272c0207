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

/// A clock the simulation sets; clones share the same instant. [`SimClock::following_tokio`]
/// makes one that moves with tokio's clock instead, so a test on a paused runtime
/// (`tokio::time::pause`, `advance`) moves the daemon, the fleet and the bookings together.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<Mutex<SimTime>>);

#[derive(Debug, Clone, Copy)]
enum SimTime {
    /// Where the simulation set it.
    Set(Timestamp),
    /// `base` plus the time tokio's clock has moved since `since`.
    Following { base: Timestamp, since: tokio::time::Instant },
}

impl SimTime {
    fn now(self) -> Timestamp {
        match self {
            SimTime::Set(t) => t,
            SimTime::Following { base, since } => {
                let moved = SignedDuration::try_from(since.elapsed()).unwrap_or(SignedDuration::MAX);
                base.checked_add(moved).unwrap_or(Timestamp::MAX)
            }
        }
    }
}

impl SimClock {
    /// A clock at `t`.
    pub fn new(t: Timestamp) -> Self {
        SimClock(Arc::new(Mutex::new(SimTime::Set(t))))
    }

    /// A clock at `t` now, moving with tokio's clock from here on. Must be called inside a
    /// tokio runtime.
    pub fn following_tokio(t: Timestamp) -> Self {
        SimClock(Arc::new(Mutex::new(SimTime::Following { base: t, since: tokio::time::Instant::now() })))
    }

    /// Moves the clock to `t` (a following clock goes on following from there).
    pub fn set(&self, t: Timestamp) {
        let mut time = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *time = match *time {
            SimTime::Set(_) => SimTime::Set(t),
            SimTime::Following { .. } => SimTime::Following { base: t, since: tokio::time::Instant::now() },
        };
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: SignedDuration) {
        let now = self.now();
        self.set(now.checked_add(d).unwrap_or(Timestamp::MAX));
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).now()
    }
}
