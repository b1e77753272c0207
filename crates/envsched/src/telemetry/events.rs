//! The named events: each `emit` writes one log line and updates its metrics.

use std::time::Duration;

use envsched_core::{Action, Outcome, Report, WakeReason};
use metrics::{counter, gauge, histogram};

/// The daemon started.
pub struct Started<'a> {
    /// Where it listens.
    pub listen: &'a str,
    /// How many declared targets.
    pub targets: usize,
}

impl Started<'_> {
    /// Log it.
    pub fn emit(self) {
        tracing::info!(
            listen = self.listen,
            targets = self.targets as u64,
            version = env!("CARGO_PKG_VERSION"),
            "envsched started"
        );
    }
}

/// One action ended (or was skipped).
pub struct ActionApplied<'a> {
    /// The action.
    pub action: &'a Action,
    /// What became of it.
    pub outcome: &'a Outcome,
    /// How long the API calls took.
    pub duration: Duration,
}

impl ActionApplied<'_> {
    /// One log line and the actions counter.
    pub fn emit(self) {
        let a = self.action;
        let op = a.op.name();
        let (from, to) = a.op.from_to();
        let (from, to) = (from.as_str(), to.as_str());
        let outcome = self.outcome.label();
        counter!("envsched_actions_total", "op" => op, "outcome" => outcome).increment(1);
        let ms = self.duration.as_millis() as u64;
        let reason = a.reason.as_str();
        match self.outcome {
            Outcome::Failed(e) => tracing::warn!(
                target.name = a.target.as_str(), resource = %a.locator, op, from, to, reason, outcome, duration_ms = ms,
                error.kind = e.kind(), error.message = %e, drift = a.is_drift(),
                "Failed to {op} {}", a.target
            ),
            Outcome::Skipped(why) => tracing::info!(
                target.name = a.target.as_str(), resource = %a.locator, op, from, to, reason, outcome, skipped = why.as_str(),
                "Skipped {op} {}: {why}", a.target
            ),
            Outcome::Done(d) | Outcome::AlreadyDone(d) => tracing::info!(
                target.name = a.target.as_str(), resource = %a.locator, op, from, to, reason, outcome, result = d.as_str(),
                duration_ms = ms, drift = a.is_drift(),
                "{} {op} {}: {d}", if matches!(self.outcome, Outcome::Done(_)) { "Did" } else { "Already did" }, a.target
            ),
            Outcome::DryRun => tracing::info!(
                target.name = a.target.as_str(),
                op,
                from,
                to,
                reason,
                outcome,
                "Would {op} {}",
                a.target
            ),
        }
    }
}

/// A completed cycle (frozen or not, with or without failed actions).
pub struct CycleCompleted<'a> {
    /// Its report.
    pub report: &'a Report,
    /// How long the cycle took (fetch to the last action), the write-back not included.
    pub duration: Duration,
    /// How long the write-back to Notion took, when there was one.
    pub write_back: Option<Duration>,
    /// What woke it.
    pub trigger: WakeReason,
}

impl CycleCompleted<'_> {
    /// One summary line; the cycle, target and frozen metrics; drift and problems as warnings.
    pub fn emit(self) {
        let r = self.report;
        let (start, stop, unchanged) = r.plan.counts();
        let failed = r.failures().count();
        let frozen = r.plan.frozen.is_some();
        let outcome = r.outcome().name();
        counter!("envsched_cycles_total", "outcome" => outcome).increment(1);
        histogram!("envsched_cycle_duration_seconds").record(self.duration.as_secs_f64());
        gauge!("envsched_frozen").set(if frozen { 1.0 } else { 0.0 });
        let up = r.plan.wanted_up();
        gauge!("envsched_targets", "desired" => "up").set(up as f64);
        gauge!("envsched_targets", "desired" => "down").set((r.plan.targets.len() - up) as f64);
        gauge!("envsched_bookings_live").set(r.desired.active.len() as f64);
        tracing::info!(
            trigger = self.trigger.label(),
            outcome,
            actions = r.applied.len() as u64,
            failed = failed as u64,
            start = start as u64,
            stop = stop as u64,
            unchanged = unchanged as u64,
            frozen,
            discovered = r.discovered as u64,
            observed.full = r.swept.full,
            observed.read = r.swept.read as u64,
            observed.oldest_s = r.swept.oldest_s,
            duration_ms = self.duration.as_millis() as u64,
            write_back_ms = self.write_back.map(|d| d.as_millis() as u64),
            "Cycle {outcome}: {start} to start, {stop} to stop, {unchanged} unchanged, {failed} failed"
        );
        for a in r.applied.iter().filter(|a| a.action.is_drift()) {
            tracing::warn!(
                target.name = a.action.target.as_str(),
                reason = a.action.reason.as_str(),
                "Drift: {}",
                a.action.reason
            );
        }
    }
}

/// A `[notify]` comment was added to a row.
pub struct NoticePosted<'a> {
    /// The row (page id).
    pub row: &'a str,
    /// The comment's text after the mention.
    pub text: &'a str,
}

impl NoticePosted<'_> {
    /// One info line and the counter.
    pub fn emit(self) {
        counter!("envsched_notices_total").increment(1);
        tracing::info!(row = self.row, "Commented on the row:{}", self.text);
    }
}

/// The problems of a cycle, logged when they change (not every cycle).
pub struct ProblemsChanged<'a> {
    /// The problems now.
    pub problems: &'a [envsched_core::Problem],
}

impl ProblemsChanged<'_> {
    /// One warning per problem, and the gauge.
    pub fn emit(self) {
        gauge!("envsched_problems").set(self.problems.len() as f64);
        for p in self.problems {
            tracing::warn!(subject = ?p.subject, fix = p.fix.as_str(), "Problem: {p}");
        }
    }
}

/// A cycle could not plan (fleet unobservable), or bookings could not be read. Logged once
/// per state change; the metric counts every cycle.
pub struct CycleFailed<'a> {
    /// The error.
    pub error: &'a str,
    /// A bounded label.
    pub kind: &'static str,
    /// Consecutive failed cycles (the first since the last success is logged).
    pub failures: u32,
}

impl CycleFailed<'_> {
    /// The counter, and a log line on the first failure.
    pub fn emit(self) {
        counter!("envsched_cycles_total", "outcome" => "failed").increment(1);
        gauge!("envsched_failed_cycles_in_a_row").set(f64::from(self.failures));
        if self.failures == 1 {
            tracing::error!(error.kind = self.kind, error.message = self.error, "Cycle failed: {}", self.error);
        }
    }
}

/// Whether this copy may act, as the lease says: logged when it changes.
pub enum LeaseState<'a> {
    /// This copy holds the lease and acts.
    Active {
        /// Where the lease lives.
        lease: &'a str,
    },
    /// Another copy holds it; this one waits.
    Standby {
        /// The holder's identity.
        owner: &'a str,
        /// Where the lease lives.
        lease: &'a str,
    },
    /// The lease cannot be read or written: this copy does not act.
    Unreachable {
        /// The error.
        error: &'a str,
    },
}

impl LeaseState<'_> {
    /// One line and the `envsched_lease_held` gauge (1 while this copy acts).
    pub fn emit(self) {
        let held = matches!(self, LeaseState::Active { .. });
        gauge!("envsched_lease_held").set(if held { 1.0 } else { 0.0 });
        match self {
            LeaseState::Active { lease } => {
                tracing::info!(lease, "Active: this copy holds the lease and acts on the bookings")
            }
            LeaseState::Standby { owner, lease } => tracing::info!(
                lease,
                lease.owner = owner,
                "Standby: {owner} holds the lease; this copy acts only once it is released or expires"
            ),
            LeaseState::Unreachable { error } => tracing::error!(
                error.kind = "lease",
                error.message = error,
                "Cannot take the lease, so this copy changes nothing: {error}"
            ),
        }
    }
}

/// The source or fleet recovered after failing.
pub struct Recovered {
    /// How many cycles had failed.
    pub failures: u32,
}

impl Recovered {
    /// One line.
    pub fn emit(self) {
        gauge!("envsched_failed_cycles_in_a_row").set(0.0);
        tracing::info!(failures = self.failures as u64, "Recovered after {} failed cycle(s)", self.failures);
    }
}

/// One Notion fetch (all pages of the query).
pub struct NotionFetched {
    /// How long it took, retries included.
    pub duration: Duration,
    /// Live rows returned; `None` when it failed.
    pub rows: Option<usize>,
}

impl NotionFetched {
    /// The latency histogram and the rows gauge (the failure itself is logged by the cycle).
    pub fn emit(self) {
        let outcome = if self.rows.is_some() { "ok" } else { "failed" };
        histogram!("envsched_notion_fetch_seconds", "outcome" => outcome).record(self.duration.as_secs_f64());
        if let Some(n) = self.rows {
            gauge!("envsched_notion_rows").set(n as f64);
        }
    }
}

/// API calls made by the fleet (cumulative counters, by service and operation).
pub fn api_calls(calls: &envsched_aws::CallCounts, seen: &mut std::collections::BTreeMap<&'static str, usize>) {
    for (op, n) in calls {
        let before = seen.insert(op, *n).unwrap_or(0);
        let service = op.split(':').next().unwrap_or("aws");
        counter!("envsched_aws_api_calls_total", "service" => service, "operation" => *op)
            .increment(n.saturating_sub(before) as u64);
    }
}
