//! Logs and metrics, from one place: each thing that happens is a named event whose `emit`
//! writes one log line and updates its metrics (telemetry as events, as Vector does it).
//!
//! Logs are JSON, one flat object per line, with the keys Datadog maps without a pipeline:
//! `timestamp` (RFC 3339), `status`, `message`, `logger.name`, errors as `error.kind` /
//! `error.message`, and `dd.service` / `dd.env` / `dd.version` from `DD_SERVICE` /
//! `DD_ENV` / `DD_VERSION`. `--log-format text` (the default on a terminal) is for people.
//! Metric labels are bounded: no booking ids, titles or error texts.

use std::io::Write;
use std::time::Duration;

use envsched_core::{Action, Outcome, Report, WakeReason};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (Datadog).
    Json,
    /// Human-readable lines.
    Text,
}

/// Installs the logger and the metrics recorder. Returns the handle `/metrics` renders.
pub fn init(format: LogFormat) -> anyhow::Result<PrometheusHandle> {
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("envsched", Level::INFO).with_default(Level::WARN);
    let registry = tracing_subscriber::registry();
    let installed = match format {
        LogFormat::Json => registry.with(JsonLines::from_env().with_filter(filter)).try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_target(false).with_writer(std::io::stderr).with_filter(filter))
            .try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    PrometheusBuilder::new()
        .set_buckets(&[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

/// The JSON log layer: every event, flat, one line on stdout.
struct JsonLines {
    tags: Map<String, Value>,
}

impl JsonLines {
    fn from_env() -> Self {
        let mut tags = Map::new();
        for (var, key) in [("DD_SERVICE", "dd.service"), ("DD_ENV", "dd.env"), ("DD_VERSION", "dd.version")] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                tags.insert(key.into(), Value::String(v));
            }
        }
        JsonLines { tags }
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::String(value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

impl<S: Subscriber> Layer<S> for JsonLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(jiff::Timestamp::now().to_string()));
        line.insert("status".into(), Value::String(event.metadata().level().as_str().to_ascii_lowercase()));
        line.insert("message".into(), fields.0.remove("message").unwrap_or(Value::String(String::new())));
        line.insert("logger.name".into(), Value::String(event.metadata().target().into()));
        line.extend(self.tags.clone());
        line.extend(fields.0);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line, so lines from concurrent tasks never interleave.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}

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
        let outcome = r.outcome();
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
