//! What the daemon remembers for the status page: each target's observed up/down history
//! over the last hours and the last actions, both bounded (memory stays flat at 10,000
//! targets: a target that does not change keeps one entry).

use std::collections::{BTreeMap, VecDeque};

use envsched_core::{Plan, Report};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// How far back the history reaches (the status page's timeline starts 12 hours ago).
pub const HISTORY: SignedDuration = SignedDuration::from_hours(12);
/// At most this many changes are kept per target (a target flapping every minute).
const MAX_CHANGES: usize = 96;
/// The last actions kept.
pub const MAX_ACTIONS: usize = 50;

/// Observed up/down per target, as changes: `(since, up)`, oldest first.
#[derive(Debug, Default)]
pub struct History {
    by_target: BTreeMap<String, VecDeque<(Timestamp, bool)>>,
}

/// Whether a target counts as up: a service with tasks wanted, or an available cluster.
pub fn is_up(state: &str) -> bool {
    matches!(state, "running" | "available")
}

impl History {
    /// Records what cycle `plan` observed at `at`, and forgets what is older than
    /// [`HISTORY`] (keeping the state that held when the window starts).
    pub fn observe(&mut self, at: Timestamp, plan: &Plan) {
        let horizon = at.checked_sub(HISTORY).unwrap_or(at);
        for t in &plan.targets {
            let up = is_up(&t.observed.state);
            let changes = self.by_target.entry(t.key.to_string()).or_default();
            if changes.back().is_none_or(|(_, was)| *was != up) {
                changes.push_back((at, up));
            }
            while changes.len() > MAX_CHANGES || (changes.len() > 1 && changes[1].0 <= horizon) {
                changes.pop_front();
            }
        }
    }

    /// The spans `(from, to, up)` of target `key` within `[from, to)`, as observed.
    pub fn spans(&self, key: &str, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp, bool)> {
        let Some(changes) = self.by_target.get(key) else { return Vec::new() };
        let mut out = Vec::new();
        for (i, (since, up)) in changes.iter().enumerate() {
            let end = changes.get(i + 1).map_or(to, |n| n.0).min(to);
            let start = (*since).max(from);
            if start < end {
                out.push((start, end, *up));
            }
        }
        out
    }
}

/// One action the daemon took.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRecord {
    /// When its cycle planned.
    pub at: Timestamp,
    /// The target's key.
    pub target: String,
    /// The operation (`scale`, `start`, …).
    pub op: &'static str,
    /// `done`, `already-done`, `skipped`, `failed`.
    pub outcome: &'static str,
    /// What happened, or why it failed.
    pub detail: String,
    /// Why it was taken (the bookings and the rule).
    pub reason: String,
}

/// Appends `report`'s actions to `actions`, keeping the last [`MAX_ACTIONS`].
pub fn record_actions(actions: &mut VecDeque<ActionRecord>, report: &Report) {
    for a in &report.applied {
        let detail = match &a.outcome {
            envsched_core::Outcome::Done(d)
            | envsched_core::Outcome::AlreadyDone(d)
            | envsched_core::Outcome::Skipped(d) => d.clone(),
            envsched_core::Outcome::DryRun => String::new(),
            envsched_core::Outcome::Failed(e) => e.to_string(),
        };
        actions.push_back(ActionRecord {
            at: report.at,
            target: a.action.target.to_string(),
            op: a.action.op.name(),
            outcome: a.outcome.label(),
            detail,
            reason: a.action.reason.clone(),
        });
        while actions.len() > MAX_ACTIONS {
            actions.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envsched_core::{Config, Observed};

    /// A day of one-minute cycles flapping a service: the history keeps at most
    /// `MAX_CHANGES` changes and nothing older than 12 hours but the state then.
    #[test]
    fn the_history_stays_bounded_and_answers_spans() {
        let config =
            Config::from_toml("[[targets]]\nname = \"a\"\necs = { cluster = \"c\", service = \"s\" }\n", "t").unwrap();
        let mut h = History::default();
        let t0: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        for m in 0..(24 * 60) {
            let at = t0.checked_add(SignedDuration::from_mins(m)).unwrap();
            let count = if (m / 30) % 2 == 0 { 1 } else { 0 };
            let observed: Observed = serde_json::from_str(&format!(
                r#"{{"ecs_services": [{{"cluster": "c", "service": "s", "desired_count": {count}, "running_count": {count}}}]}}"#
            ))
            .unwrap();
            let d = envsched_core::plan_now(&config, &[], &observed, at, None, None);
            h.observe(at, &d.plan);
        }
        let changes = &h.by_target["a"];
        assert!(changes.len() <= MAX_CHANGES && changes.len() >= 24, "{}", changes.len());
        let end = t0.checked_add(SignedDuration::from_hours(24)).unwrap();
        let spans = h.spans("a", end.checked_sub(SignedDuration::from_hours(2)).unwrap(), end);
        assert_eq!(spans.len(), 4, "{spans:?}");
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0 && w[0].2 != w[1].2), "contiguous, alternating: {spans:?}");
    }
}
