//! `envsched run`: the reconcile cycle, forever, single-flight.
//!
//! After each cycle [`envsched_core::next_wake`] says when to look again (the poll, the next
//! window edge, a follow-up while something starts, a target's backoff, a failed cycle's
//! retry). The loop sleeps until then, or until a webhook event triggers a cycle. Triggers
//! that arrive during a cycle coalesce into one follow-up (a [`Notify`] keeps one permit).
//!
//! Shutdown: the first SIGTERM/SIGINT stops new work. From that moment no AWS call is sent
//! that was not already on its way (one waiting for a rate-limit token is not: the fleet is
//! halted), actions not yet started are skipped and logged, and the write-back to Notion
//! stops. Calls in flight complete within `schedule.drain`, whatever the number of targets or
//! rows; then the HTTP server drains and the process exits 0.
//!
//! One active copy: with `[aws.lease]`, a cycle runs only while this copy holds the lease
//! ([`Coordination`]; the rules are in [`envsched_aws::lease`]). Without it the copy stands
//! by: no Notion reads, no AWS calls, `standby` on `/ready`; it wakes when the lease changes
//! hands, and starts afresh (a new [`CycleState`]) when it becomes the active copy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use envsched_aws::{Fence, LeaseError, LeaseView};
use envsched_core::{
    Action, Clock, Config, CycleState, Discovery, Fleet, FleetError, Last, Mode, Observed, Outcome, Report, TargetSet,
    Wake, WakeReason, next_wake, reconcile,
};
use envsched_notion::NotionClient;
use jiff::Timestamp;
use tokio::sync::{Notify, watch};

use crate::telemetry;

/// The system clock (the daemon's only source of "now").
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// What the loop shares with the HTTP endpoints.
#[derive(Default)]
pub struct Shared {
    /// Wakes the loop for a cycle now (webhook events). One stored permit = coalesced.
    pub trigger: Notify,
    /// Set on the first shutdown signal: actions not yet started are skipped.
    pub stopping: AtomicBool,
    /// The loop's view, for `/ready` and the status page.
    pub status: RwLock<Status>,
}

/// The last cycles, as the endpoints show them.
#[derive(Default)]
pub struct Status {
    /// When the last good cycle ended.
    pub last_ok: Option<Timestamp>,
    /// Why the last cycle failed (source unreadable, fleet unobservable), if it did.
    pub error: Option<String>,
    /// The last completed cycle's report.
    pub report: Option<Report>,
    /// When and why the loop wakes next.
    pub next_wake: Option<Wake>,
    /// Cycles run.
    pub cycles: u64,
    /// The poll interval (readiness allows three missed polls).
    pub poll: Duration,
    /// Why the last cycle changed nothing (frozen), if it did.
    pub frozen: Option<String>,
    /// Why this copy is standing by (another copy holds the lease), if it is.
    pub standby: Option<String>,
}

impl Status {
    /// `Ok` when the last cycle succeeded recently; else why not.
    pub fn ready(&self, now: Timestamp) -> Result<(), String> {
        if let Some(e) = &self.error {
            return Err(format!("the last cycle failed: {e}"));
        }
        let Some(ok) = self.last_ok else { return Err("no cycle has completed yet".into()) };
        let allowed = (self.poll * 3).max(Duration::from_secs(120));
        let age = now.duration_since(ok).unsigned_abs();
        if age > allowed {
            return Err(format!("the last good cycle ended {}s ago (allowed {}s)", age.as_secs(), allowed.as_secs()));
        }
        Ok(())
    }
}

/// The fleet as the daemon uses it: every action logged as it ends, none started once
/// shutdown began.
pub struct LoggedFleet<F> {
    /// The real fleet.
    pub inner: F,
    /// The shared state (for `stopping`).
    pub shared: Arc<Shared>,
}

impl<F: Fleet + Sync> Fleet for LoggedFleet<F> {
    async fn observe(&self, targets: &TargetSet, discovery: &Discovery) -> Result<Observed, FleetError> {
        self.inner.observe(targets, discovery).await
    }

    async fn apply(&self, action: &Action) -> Outcome {
        let started = Instant::now();
        let outcome = if self.shared.stopping.load(Ordering::SeqCst) {
            Outcome::Skipped("shutting down; the next envsched will do it".into())
        } else {
            self.inner.apply(action).await
        };
        telemetry::ActionApplied { action, outcome: &outcome, duration: started.elapsed() }.emit();
        outcome
    }

    fn halt(&self) {
        self.inner.halt();
    }
}

/// The lease as the loop sees it: the fence the fleet checks before every write, and the
/// keeper's last answer ([`envsched_aws::DynamoLease::keep`]).
pub struct Coordination {
    /// Until when this copy may write.
    pub fence: Arc<Fence>,
    /// The last attempt to take or renew the lease (`None`: none has answered yet).
    pub view: watch::Receiver<Option<Result<LeaseView, LeaseError>>>,
    /// Where the lease lives, for the logs.
    pub lease: String,
}

/// What the lease lets the loop do now.
enum Gate {
    /// This copy holds it: run the cycle.
    Act,
    /// Shutdown began while standing by.
    Stop,
}

/// Where the lease stands, for logging changes once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Standing {
    Active,
    Standby,
    Unreachable,
    Waiting,
}

impl Coordination {
    /// Waits until this copy holds the lease (or shutdown begins), keeping `/ready` current
    /// and logging each change of standing once.
    async fn gate(&mut self, shared: &Shared, stop: &mut watch::Receiver<bool>, last: &mut Standing) -> Gate {
        loop {
            let view = self.view.borrow_and_update().clone();
            let standing = if self.fence.check().is_ok() {
                Standing::Active
            } else {
                match &view {
                    Some(Ok(LeaseView::Standby { .. })) => Standing::Standby,
                    Some(Err(_)) => Standing::Unreachable,
                    _ => Standing::Waiting,
                }
            };
            if standing != *last {
                match (&standing, &view) {
                    (Standing::Active, _) => telemetry::LeaseState::Active { lease: &self.lease }.emit(),
                    (Standing::Standby, Some(Ok(LeaseView::Standby { owner, .. }))) => {
                        telemetry::LeaseState::Standby { owner, lease: &self.lease }.emit()
                    }
                    (Standing::Unreachable, Some(Err(e))) => {
                        telemetry::LeaseState::Unreachable { error: &e.to_string() }.emit()
                    }
                    _ => {}
                }
            }
            {
                let mut st = shared.status.write().unwrap_or_else(|p| p.into_inner());
                st.standby = match &view {
                    Some(Ok(v @ LeaseView::Standby { .. })) if standing == Standing::Standby => Some(v.to_string()),
                    _ if standing == Standing::Waiting => Some(format!("taking the lease ({})", self.lease)),
                    _ => None,
                };
                if let (Standing::Unreachable, Some(Err(e))) = (&standing, &view) {
                    st.error = Some(format!("cannot take the lease: {e}"));
                }
            }
            *last = standing;
            if standing == Standing::Active {
                return Gate::Act;
            }
            let keeper_gone = tokio::select! {
                changed = self.view.changed() => changed.is_err(),
                _ = stop.wait_for(|s| *s) => return Gate::Stop,
            };
            if keeper_gone {
                // The keeper is gone (shutdown): nothing more will change.
                let _ = stop.wait_for(|s| *s).await;
                return Gate::Stop;
            }
        }
    }

    /// Resolves once this copy may no longer write (lease lost, or not renewed in time).
    async fn lost(&mut self) {
        while self.fence.check().is_ok() {
            // The fence also runs out without a new answer: look at least every second.
            if let Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(1), self.view.changed()).await {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Resolves when `co`'s lease is lost; never without a lease.
async fn lease_lost(co: &mut Option<Coordination>) {
    match co {
        Some(co) => co.lost().await,
        None => std::future::pending().await,
    }
}

/// The Notion client as the daemon uses it: each fetch timed and counted.
pub struct TimedSource<'a>(pub &'a NotionClient);

impl envsched_core::BookingSource for TimedSource<'_> {
    async fn fetch(&self) -> Result<Vec<envsched_core::Booking>, envsched_core::SourceError> {
        let started = Instant::now();
        let r = self.0.fetch().await;
        telemetry::NotionFetched { duration: started.elapsed(), rows: r.as_ref().ok().map(Vec::len) }.emit();
        r
    }
}

/// Runs cycles until `stop` turns true. Returns when the last cycle has finished (or the
/// drain ran out).
pub async fn run<F: Fleet + Sync>(
    config: &Config,
    client: &NotionClient,
    fleet: &LoggedFleet<F>,
    calls: impl Fn() -> envsched_aws::CallCounts,
    mut stop: watch::Receiver<bool>,
    mut coordination: Option<Coordination>,
) {
    let shared = fleet.shared.clone();
    let mut state = CycleState::default();
    let mut failures: u32 = 0;
    let mut trigger = "startup";
    let mut seen_calls = Default::default();
    let mut last_end = Instant::now();
    let mut saved_usd = 0.0;
    let mut last_problems: Vec<envsched_core::Problem> = Vec::new();
    let mut last_frozen: Option<String> = None;
    let mut standing = Standing::Waiting;
    let drain = config.schedule.drain.unsigned_abs();
    let source = TimedSource(client);
    let zone = &config.default_calendar.zone;
    // The fire after `done` (or now, if later): a clock read a hair early never fires twice.
    let next_fire = |key: &str, cron: &Option<envsched_core::Cron>, done: Option<Timestamp>| {
        let cron = cron.as_ref()?;
        let next = cron.next_after(done.map_or(Timestamp::now(), |d| d.max(Timestamp::now())), zone);
        if next.is_none() {
            tracing::warn!(key, "schedule.{key} = \"{cron}\" has no fire time in the next 9 years; it will not run");
        }
        next
    };
    let mut resync_at = next_fire("resync", &config.schedule.resync, None);
    let mut summary_at = next_fire("summary", &config.schedule.summary, None);
    let mut tally = telemetry::Tally::new(Timestamp::now());
    shared.status.write().unwrap_or_else(|p| p.into_inner()).poll = config.schedule.poll_interval.unsigned_abs();
    loop {
        if let Some(co) = coordination.as_mut() {
            let was = standing;
            match co.gate(&shared, &mut stop, &mut standing).await {
                Gate::Act => {}
                Gate::Stop => return,
            }
            // Another copy acted meanwhile: start afresh, as a new envsched would.
            if was != Standing::Active {
                state = CycleState::default();
                failures = 0;
                last_problems.clear();
                last_frozen = None;
            }
        }
        let started = Instant::now();
        // A due resync rides on whichever cycle comes first at or after its time (woken for
        // it counts as due, whatever a wall clock a hair behind the monotonic one says).
        if trigger == WakeReason::Resync.label() || resync_at.is_some_and(|at| at <= Timestamp::now()) {
            client.forget();
            let backoffs = std::mem::take(&mut state.backoff).len();
            tracing::info!(
                backoffs_cleared = backoffs as u64,
                "Resync: reading the Notion schema and every row's text again, retrying every target"
            );
            resync_at = next_fire("resync", &config.schedule.resync, resync_at);
        }
        let result = {
            let mut cycle = std::pin::pin!(reconcile(config, &source, fleet, &SystemClock, &mut state, Mode::Apply));
            tokio::select! {
                r = &mut cycle => r,
                _ = stop.wait_for(|s| *s) => {
                    shared.stopping.store(true, Ordering::SeqCst);
                    fleet.halt();
                    tracing::info!(drain_s = drain.as_secs(), "Stopping: finishing the calls in flight, sending no new ones");
                    match tokio::time::timeout(drain, &mut cycle).await {
                        Ok(r) => r,
                        Err(_) => {
                            tracing::warn!("Drain time ran out with the cycle still running; exiting");
                            return;
                        }
                    }
                }
            }
        };
        // Halted before the fleet could be observed: nothing was planned, nothing failed.
        if let Err(envsched_core::CycleError::Observe(FleetError::Stopping)) = &result {
            tracing::info!("Stopping: the fleet was not observed, so nothing was planned or done");
            return;
        }
        let now = Timestamp::now();
        let duration = started.elapsed();
        let mut write_back = None;
        let stopping = shared.stopping.load(Ordering::SeqCst);
        telemetry::api_calls(&calls(), &mut seen_calls);
        let failed_error = match &result {
            Err(e) => Some((e.to_string(), "fleet")),
            Ok(r) => r.source_error.as_ref().map(|e| (e.to_string(), "notion")),
        };
        let last = match (&result, &failed_error) {
            (Ok(report), None) => {
                if failures > 0 {
                    telemetry::Recovered { failures }.emit();
                }
                failures = 0;
                if report.plan.frozen.is_none() && !stopping {
                    let texts = envsched_core::feedback(
                        &state.last_bookings,
                        &report.desired,
                        &report.plan,
                        &report.observed,
                        config,
                    );
                    let wb_started = Instant::now();
                    // SIGTERM stops the write-back where it is: rows not yet told are told by
                    // the next envsched (the rows themselves say what they were last told).
                    tokio::select! {
                        wb = client.write_back(&texts, &state.last_bookings) => {
                            if !wb.failed.is_empty() {
                                tracing::warn!(
                                    failed = wb.failed.len() as u64,
                                    "Could not tell {} row(s) their state",
                                    wb.failed.len()
                                );
                            }
                        }
                        _ = stop.wait_for(|s| *s) => {
                            shared.stopping.store(true, Ordering::SeqCst);
                            fleet.halt();
                            tracing::info!("Stopping: the write-back to Notion stops here; the next envsched tells the remaining rows");
                        }
                    }
                    write_back = Some(wb_started.elapsed());
                }
                Last::Completed(report)
            }
            _ => {
                failures += 1;
                let (message, kind) = failed_error.clone().unwrap_or_else(|| ("unknown".into(), "fleet"));
                telemetry::CycleFailed { error: &message, kind, failures, first: failures == 1 }.emit();
                tally.failed += 1;
                Last::Failed { failures }
            }
        };
        if let Ok(report) = &result {
            telemetry::CycleCompleted { report, duration, write_back, trigger }.emit();
            let reason = report.plan.frozen.as_ref().map(|f| f.reason.clone());
            // A freeze is logged when it starts and when it ends, not on every cycle; the
            // current reason stays on /ready and the status page.
            match (&last_frozen, &reason) {
                (None, Some(r)) if failed_error.is_none() => {
                    tracing::warn!(reason = r.as_str(), "Frozen: changing nothing")
                }
                (Some(_), None) => tracing::info!("Unfrozen: acting on the bookings again"),
                _ => {}
            }
            last_frozen = reason;
            let saved = telemetry::savings(report, last_end.elapsed(), config, &mut saved_usd);
            tally.saved(saved);
            if failed_error.is_none() {
                tally.cycle(report);
            }
            if report.plan.problems != last_problems {
                telemetry::ProblemsChanged { problems: &report.plan.problems }.emit();
                last_problems = report.plan.problems.clone();
            }
        }
        last_end = Instant::now();
        let cycle_wake = next_wake(last, &state, config, now);
        {
            let mut st = shared.status.write().unwrap_or_else(|p| p.into_inner());
            st.cycles += 1;
            st.error = failed_error.map(|(m, _)| m);
            st.frozen = last_frozen.clone();
            if st.error.is_none() {
                st.last_ok = Some(now);
            }
            if let Ok(r) = result {
                st.report = Some(r);
            }
        }
        if stopping || shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        // Sleep until the next cycle; a summary due meanwhile is logged without one.
        loop {
            let wake = cycle_wake.or_earlier(resync_at, WakeReason::Resync).or_earlier(summary_at, WakeReason::Summary);
            shared.status.write().unwrap_or_else(|p| p.into_inner()).next_wake = Some(wake);
            // A wake-up already due (negative wait) means no sleep at all.
            let sleep = Duration::try_from(wake.at.duration_since(Timestamp::now())).unwrap_or(Duration::ZERO);
            tracing::debug!(at = %wake.at, reason = wake.reason.label(), "Next wake-up");
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {
                    if wake.reason == WakeReason::Summary {
                        let st = shared.status.read().unwrap_or_else(|p| p.into_inner());
                        telemetry::Summary { tally: &tally, report: st.report.as_ref() }.emit();
                        drop(st);
                        tally = telemetry::Tally::new(Timestamp::now());
                        summary_at = next_fire("summary", &config.schedule.summary, summary_at);
                        continue;
                    }
                    trigger = wake.reason.label();
                }
                _ = shared.trigger.notified() => trigger = "webhook",
                _ = lease_lost(&mut coordination) => trigger = "lease",
                _ = stop.wait_for(|s| *s) => return,
            }
            break;
        }
    }
}
