//! The suspicious-drop guard (brief §8): a fetch that suddenly returns no bookings at all
//! while the previous fetch had windows still open is more likely a Notion or permissions
//! glitch than a whole company cancelling at once. The guard freezes the plan for
//! `safety.suspicious_drop.hold`, then accepts the empty list as real.

use jiff::Timestamp;

use crate::booking::Booking;
use crate::config::Config;
use crate::desired::is_live;
use crate::plan::Freeze;

/// What the guard concluded about one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing suspicious.
    Normal,
    /// Suspicious: do nothing this cycle.
    Frozen(Freeze),
    /// The drop lasted the whole hold time and is now accepted as real.
    Accepted {
        /// How many windows were open when the bookings vanished.
        open: usize,
    },
}

/// Memory of the last non-empty fetch.
#[derive(Debug, Clone, Default)]
pub struct DropGuard {
    last: Vec<Booking>,
    empty_since: Option<Timestamp>,
}

impl DropGuard {
    /// Judges a fetch of `bookings` at `at`, updating the guard's memory.
    pub fn assess(&mut self, bookings: &[Booking], config: &Config, at: Timestamp) -> Verdict {
        let live: Vec<Booking> = bookings.iter().filter(|b| is_live(b, config)).cloned().collect();
        if !live.is_empty() {
            self.last = live;
            self.empty_since = None;
            return Verdict::Normal;
        }
        let min = config.safety.suspicious_min_open_bookings;
        let open: Vec<&Booking> = self
            .last
            .iter()
            .filter(|b| {
                config.calendar(b.environment.as_deref()).is_active(
                    &b.window,
                    config.schedule.lead,
                    config.schedule.linger,
                    at,
                )
            })
            .collect();
        if min == 0 || open.len() < min {
            self.last.clear();
            self.empty_since = None;
            return Verdict::Normal;
        }
        let since = *self.empty_since.get_or_insert(at);
        let hold = config.safety.suspicious_hold;
        let waited = at.duration_since(since);
        if waited >= hold {
            let n = open.len();
            self.last.clear();
            self.empty_since = None;
            return Verdict::Accepted { open: n };
        }
        let example = open.first().map(|b| b.to_ref().to_string()).unwrap_or_default();
        Verdict::Frozen(Freeze {
            reason: format!(
                "Notion returned no bookings at all while {} windows were still open (e.g. {example}); \
                 holding everything as it is for up to {hold:#} (since {since}) in case the answer was partial \
                 — check the database's sharing with the integration and its status values",
                open.len()
            ),
        })
    }
}
