//! When the daemon should look again: the earliest of the poll, the next window edge, a
//! follow-up while something is starting or stopping, a target's backoff expiring, or — after
//! a failed cycle — a retry with backoff.
//!
//! Pure, like the planner: `run` asks [`next_wake`] after every cycle and sleeps until then
//! (or until a webhook event arrives). A booking that opens at 09:00 is thus acted on at
//! 09:00 − lead, not a poll later.

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::plan::TargetStatus;
use crate::reconcile::{CycleState, Report, doubling};

/// How often to look while a DB is starting or tasks are starting/stopping (at most).
pub const FOLLOW_UP: SignedDuration = SignedDuration::from_secs(30);
/// The first retry after a failed cycle; it doubles up to the poll interval (at least 5 min).
pub const RETRY: SignedDuration = SignedDuration::from_secs(10);

/// Why the daemon wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeReason {
    /// The regular poll.
    Poll,
    /// A booking window opens or closes (start − lead, end + linger, operating-hours edges).
    WindowEdge,
    /// Something is starting or stopping (a DB its dependents wait for, tasks coming up).
    FollowUp,
    /// A failing target's backoff ends.
    TargetRetry,
    /// The last cycle failed; retrying with backoff.
    CycleRetry,
    /// `schedule.resync` is due: a cycle that first forgets what it remembers.
    Resync,
    /// `schedule.summary` is due: a log line, no cycle.
    Summary,
    /// A booking's end comes within `[notify] ending_soon`: a cycle that comments on its row.
    Notice,
    /// The daemon started (the first cycle). Not computed by [`next_wake`].
    Startup,
    /// A Notion webhook event arrived. Not computed by [`next_wake`].
    Webhook,
    /// This copy lost the lease and looks again. Not computed by [`next_wake`].
    Lease,
}

impl WakeReason {
    /// Stable label for logs, metrics and the status page.
    pub fn label(self) -> &'static str {
        match self {
            WakeReason::Poll => "poll",
            WakeReason::WindowEdge => "window-edge",
            WakeReason::FollowUp => "follow-up",
            WakeReason::TargetRetry => "target-retry",
            WakeReason::CycleRetry => "cycle-retry",
            WakeReason::Resync => "resync",
            WakeReason::Summary => "summary",
            WakeReason::Notice => "notice",
            WakeReason::Startup => "startup",
            WakeReason::Webhook => "webhook",
            WakeReason::Lease => "lease",
        }
    }
}

/// The next wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    /// When.
    pub at: Timestamp,
    /// Why.
    pub reason: WakeReason,
}

impl Wake {
    /// This wake-up, or `at` for `reason` if that comes first (a cron job's next fire).
    pub fn or_earlier(self, at: Option<Timestamp>, reason: WakeReason) -> Wake {
        match at {
            Some(at) if at < self.at => Wake { at, reason },
            _ => self,
        }
    }
}

/// The last cycle, as far as scheduling cares.
#[derive(Debug, Clone, Copy)]
pub enum Last<'a> {
    /// It completed (possibly frozen, possibly with failed actions).
    Completed(&'a Report),
    /// It could not plan at all; `failures` consecutive cycles have failed.
    Failed {
        /// Consecutive failed cycles, this one included (≥ 1).
        failures: u32,
    },
}

/// When to wake after a cycle that ended at `now`.
pub fn next_wake(last: Last<'_>, state: &CycleState, config: &Config, now: Timestamp) -> Wake {
    let poll = config.schedule.poll_interval;
    let mut best = Wake { at: now.checked_add(poll).unwrap_or(now), reason: WakeReason::Poll };
    // A time already past means "now".
    let mut consider = |at: Timestamp, reason: WakeReason| best = best.or_earlier(Some(at.max(now)), reason);
    match last {
        Last::Failed { failures } => {
            let cap = poll.max(SignedDuration::from_mins(5));
            let delay = doubling(RETRY, failures, cap);
            // A failed cycle is retried on its own schedule, even past the poll interval.
            return Wake { at: now.checked_add(delay).unwrap_or(now), reason: WakeReason::CycleRetry };
        }
        Last::Completed(report) => {
            if let Some(edge) = report.next_change {
                consider(edge, WakeReason::WindowEdge);
            }
            let moving = report.plan.frozen.is_none()
                && report.plan.targets.iter().any(|t| match &t.status {
                    TargetStatus::Waiting(_) | TargetStatus::Changing => true,
                    // Up but not all tasks running yet: report progress soon.
                    _ => t.count.is_some_and(|c| t.observed.running_count.is_some_and(|r| r < c)),
                });
            if moving {
                consider(now.checked_add(FOLLOW_UP.min(poll)).unwrap_or(now), WakeReason::FollowUp);
            }
            // An "ending soon" comment is due `ending_soon` before a target's bookings end.
            if let Some(ahead) = config.notify.ending_soon {
                let due = report
                    .desired
                    .targets
                    .iter()
                    .filter_map(|t| t.until?.checked_sub(ahead).ok())
                    .filter(|d| *d > now)
                    .min();
                if let Some(d) = due {
                    consider(d, WakeReason::Notice);
                }
            }
        }
    }
    if let Some(until) = state.backoff.values().map(|b| b.until).min() {
        consider(until, WakeReason::TargetRetry);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::Booking;
    use crate::clock::FixedClock;
    use crate::reconcile::{Mode, reconcile};
    use crate::source::FixedSource;
    use crate::window::Window;

    const CONFIG: &str = r#"
[schedule]
poll_interval = "10m"
lead = "5m"
[[environments]]
name = "stg1"
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-web" }
"#;

    struct Down;
    impl crate::fleet::Fleet for Down {
        async fn observe(
            &self,
            _: &[&crate::target::Locator],
            _: &crate::config::Discovery,
        ) -> Result<crate::observed::Observed, crate::fleet::FleetError> {
            Ok(serde_json::from_str(
                r#"{"ecs_services": [{"cluster": "stg1", "service": "app1-web", "desired_count": 0, "running_count": 0}]}"#,
            )
            .expect("valid snapshot"))
        }
        async fn apply(&self, _: &crate::plan::Action) -> crate::fleet::Outcome {
            crate::fleet::Outcome::Done("ok".into())
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The futures here never wait on I/O: one poll completes them.
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        match f.as_mut().poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the test fleet never waits"),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("valid instant")
    }

    fn report(config: &Config, bookings: Vec<Booking>, now: Timestamp) -> (Report, CycleState) {
        let mut state = CycleState::default();
        let r = block_on(reconcile(config, &FixedSource(bookings), &Down, &FixedClock(now), &mut state, Mode::DryRun));
        (r.expect("observable"), state)
    }

    fn booking(start: &str) -> Booking {
        Booking {
            id: "b".into(),
            title: "t".into(),
            status: "利用中".into(),
            components: vec!["products/app1-web".into()],
            environment: Some("stg1".into()),
            window: Window::Span { start: at(start), end: Some(at("2026-11-24T12:00:00Z")) },
            trashed: false,
            feedback: None,
            last_edited: None,
            url: None,
            creator: None,
        }
    }

    #[test]
    fn a_window_opening_before_the_next_poll_wakes_at_its_start_minus_lead() {
        let c = Config::from_toml(CONFIG, "t").expect("valid");
        let now = at("2026-11-24T08:58:00Z");
        let (r, st) = report(&c, vec![booking("2026-11-24T09:05:00Z")], now);
        let w = next_wake(Last::Completed(&r), &st, &c, now);
        assert_eq!((w.at, w.reason), (at("2026-11-24T09:00:00Z"), WakeReason::WindowEdge));
    }

    #[test]
    fn a_window_after_the_next_poll_leaves_the_poll_first() {
        let c = Config::from_toml(CONFIG, "t").expect("valid");
        let now = at("2026-11-24T08:00:00Z");
        let (r, st) = report(&c, vec![booking("2026-11-24T09:05:00Z")], now);
        let w = next_wake(Last::Completed(&r), &st, &c, now);
        assert_eq!((w.at, w.reason), (at("2026-11-24T08:10:00Z"), WakeReason::Poll));
    }

    #[test]
    fn something_changing_is_looked_at_again_within_30_seconds() {
        let c = Config::from_toml(CONFIG, "t").expect("valid");
        let now = at("2026-11-24T09:30:00Z");
        let (r, st) = report(&c, vec![booking("2026-11-24T09:05:00Z")], now);
        assert!(!r.plan.is_empty(), "the service is to be started");
        let w = next_wake(Last::Completed(&r), &st, &c, now);
        assert_eq!((w.at, w.reason), (at("2026-11-24T09:30:30Z"), WakeReason::FollowUp));
    }

    #[test]
    fn failed_cycles_are_retried_sooner_than_the_poll_then_backed_off() {
        let c = Config::from_toml(CONFIG, "t").expect("valid");
        let now = at("2026-11-24T09:00:00Z");
        let st = CycleState::default();
        let delays: Vec<i64> = (1..=8)
            .map(|n| next_wake(Last::Failed { failures: n }, &st, &c, now).at.duration_since(now).as_secs())
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 600, 600], "capped at the poll interval (10 min)");
    }
}
