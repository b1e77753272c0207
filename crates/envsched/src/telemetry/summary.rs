//! The savings estimate, the tally between two summaries, and the summary line.

use std::time::Duration;

use envsched_core::{Outcome, Report};
use metrics::{counter, gauge};

/// One cycle's share of the savings estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Savings {
    /// Service-seconds had every service run (the always-on baseline).
    pub always_on_s: f64,
    /// Service-seconds the services actually ran.
    pub running_s: f64,
    /// Estimated USD not spent (stopped services at their remembered counts).
    pub usd: f64,
}

/// Estimated savings over `elapsed` since the last cycle: ECS services running vs always on,
/// priced per task-hour. Updates the counters and the running total `saved_usd` (since
/// start); returns this cycle's share.
pub fn savings(report: &Report, elapsed: Duration, config: &envsched_core::Config, saved_usd: &mut f64) -> Savings {
    let services = &report.observed.ecs_services;
    let running = services.iter().filter(|s| s.desired_count > 0).count();
    let secs = elapsed.as_secs_f64();
    let (always_on_s, running_s) = (services.len() as f64 * secs, running as f64 * secs);
    counter!("envsched_service_seconds_total", "state" => "always_on").increment(always_on_s as u64);
    counter!("envsched_service_seconds_total", "state" => "running").increment(running_s as u64);
    gauge!("envsched_services", "state" => "running").set(running as f64);
    gauge!("envsched_services", "state" => "stopped").set((services.len() - running) as f64);
    // A stopped service would have run its remembered count (1 when unknown).
    let idle_tasks: f64 = services
        .iter()
        .filter(|s| s.desired_count == 0)
        .map(|s| s.tags.get(&config.tags.count).and_then(|c| c.parse::<f64>().ok()).unwrap_or(1.0))
        .sum();
    let usd = idle_tasks * secs / 3600.0 * config.pricing.task_hour_usd;
    *saved_usd += usd;
    gauge!("envsched_estimated_savings_usd").set(*saved_usd);
    Savings { always_on_s, running_s, usd }
}

/// What happened since the last summary (or the start), for [`Summary`].
#[derive(Debug, Clone)]
pub struct Tally {
    /// Since when.
    pub since: jiff::Timestamp,
    /// Cycles by outcome: ok, partial (some action failed), frozen, failed.
    pub ok: u64,
    /// See `ok`.
    pub partial: u64,
    /// See `ok`.
    pub frozen: u64,
    /// See `ok`.
    pub failed: u64,
    /// Actions done (`Done`), and failed.
    pub actions: u64,
    /// See `actions`.
    pub actions_failed: u64,
    /// Savings summed.
    pub savings: Savings,
}

impl Tally {
    /// An empty tally from `since`.
    pub fn new(since: jiff::Timestamp) -> Self {
        Tally {
            since,
            ok: 0,
            partial: 0,
            frozen: 0,
            failed: 0,
            actions: 0,
            actions_failed: 0,
            savings: Savings::default(),
        }
    }

    /// Counts a completed cycle.
    pub fn cycle(&mut self, report: &Report) {
        let failed = report.failures().count() as u64;
        match report.outcome() {
            "frozen" => self.frozen += 1,
            "partial" => self.partial += 1,
            _ => self.ok += 1,
        }
        self.actions += report.applied.iter().filter(|a| matches!(a.outcome, Outcome::Done(_))).count() as u64;
        self.actions_failed += failed;
    }

    /// Adds a cycle's share of the savings (every cycle that observed the fleet, as the
    /// savings metric does).
    pub fn saved(&mut self, savings: Savings) {
        self.savings.always_on_s += savings.always_on_s;
        self.savings.running_s += savings.running_s;
        self.savings.usd += savings.usd;
    }
}

/// `schedule.summary` fired: what happened since the last summary, in one line.
pub struct Summary<'a> {
    /// The tally (reset by the caller afterwards).
    pub tally: &'a Tally,
    /// The last report, for what is up now.
    pub report: Option<&'a Report>,
}

impl Summary<'_> {
    /// One info line.
    pub fn emit(self) {
        let t = self.tally;
        let since = t.since.to_string();
        let cycles = t.ok + t.partial + t.frozen + t.failed;
        let hours = |s: f64| (s / 360.0).round() / 10.0;
        let (always_on_h, running_h) = (hours(t.savings.always_on_s), hours(t.savings.running_s));
        let usd = (t.savings.usd * 100.0).round() / 100.0;
        let up = self.report.map_or(0, |r| r.plan.wanted_up());
        let problems = self.report.map_or(0, |r| r.plan.problems.len());
        tracing::info!(
            since = since.as_str(),
            cycles,
            ok = t.ok,
            partial = t.partial,
            frozen = t.frozen,
            failed = t.failed,
            actions = t.actions,
            actions_failed = t.actions_failed,
            service_hours_always_on = always_on_h,
            service_hours_running = running_h,
            estimated_savings_usd = usd,
            targets_wanted_up = up as u64,
            problems = problems as u64,
            "Summary since {since}: {cycles} cycles ({} failed, {} frozen), {} actions ({} failed), services ran {running_h} of {always_on_h} service-hours, about ${usd:.2} saved; {up} target(s) wanted up at the last cycle",
            t.failed,
            t.frozen,
            t.actions,
            t.actions_failed
        );
    }
}
