//! "Now", injected. Core never reads the system clock.

use jiff::Timestamp;

/// A source of the current instant: the system clock in the daemon, a simulated one in the
/// sandbox and tests.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// A clock stuck at one instant (for `plan --at` and tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
