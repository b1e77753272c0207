//! The savings metrics, the tally between two summaries, and the summary line.

use std::time::Duration;

use envsched_core::{CycleOutcome, MemoryKeys, Outcome, Report, Usage};
use metrics::{counter, gauge};

/// One cycle's share of the savings estimate ([`envsched_core::savings`]): the fleet as the
/// cycle observed it, held over `elapsed` since the previous cycle. Updates the counters and
/// the running total `saved_usd` (since start); returns the share and its USD.
pub fn savings(
    report: &Report,
    elapsed: Duration,
    config: &envsched_core::Config,
    saved_usd: &mut f64,
) -> (Usage, f64) {
    let usage = Usage::sample(&report.observed, &MemoryKeys::from(&config.tags), elapsed);
    counter!("envsched_service_seconds_total", "state" => "always_on").increment(usage.service_s_always_on as u64);
    counter!("envsched_service_seconds_total", "state" => "running").increment(usage.service_s as u64);
    let services = &report.observed.ecs_services;
    let running = services.iter().filter(|s| s.desired_count > 0).count();
    gauge!("envsched_services", "state" => "running").set(running as f64);
    gauge!("envsched_services", "state" => "stopped").set((services.len() - running) as f64);
    let usd = usage.cost(&config.pricing).saved();
    *saved_usd += usd;
    gauge!("envsched_estimated_savings_usd").set(*saved_usd);
    (usage, usd)
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
    /// Usage summed over the cycles.
    pub usage: Usage,
    /// Estimated USD saved, summed.
    pub saved_usd: f64,
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
            usage: Usage::default(),
            saved_usd: 0.0,
        }
    }

    /// Counts a completed cycle.
    pub fn cycle(&mut self, report: &Report) {
        let failed = report.failures().count() as u64;
        match report.outcome() {
            CycleOutcome::Frozen => self.frozen += 1,
            CycleOutcome::Partial => self.partial += 1,
            CycleOutcome::Ok => self.ok += 1,
        }
        self.actions += report.applied.iter().filter(|a| matches!(a.outcome, Outcome::Done(_))).count() as u64;
        self.actions_failed += failed;
    }

    /// Adds a cycle's share of the savings (every cycle that observed the fleet, as the
    /// savings metric does).
    pub fn saved(&mut self, (usage, usd): (Usage, f64)) {
        self.usage += usage;
        self.saved_usd += usd;
    }
}

/// `schedule.summary` fired: what happened since the last summary, in one line.
pub struct Summary<'a> {
    /// The tally (reset by the caller afterwards).
    pub tally: &'a Tally,
    /// The last cycle's plan, for what is up now.
    pub plan: Option<&'a envsched_core::Plan>,
}

impl Summary<'_> {
    /// One info line.
    pub fn emit(self) {
        let t = self.tally;
        let since = t.since.to_string();
        let cycles = t.ok + t.partial + t.frozen + t.failed;
        let hours = |s: f64| (s / 360.0).round() / 10.0;
        let (always_on_h, running_h) = (hours(t.usage.service_s_always_on), hours(t.usage.service_s));
        let usd = (t.saved_usd * 100.0).round() / 100.0;
        let up = self.plan.map_or(0, |p| p.wanted_up());
        let problems = self.plan.map_or(0, |p| p.problems.len());
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
