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
use envsched_core::notify::{self, Notice};
use envsched_core::{
    Action, Booking, BookingSource, Clock, Config, CycleError, CycleState, Discovery, Fleet, FleetError, Last, Locator,
    Mode, Observed, Outcome, Problem, Report, SourceError, TargetSet, Wake, WakeReason, next_wake, reconcile,
};
use envsched_notion::{NotionClient, Told, WriteBack};
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
    /// The last completed cycle: when it planned, and its plan.
    pub report: Option<LastCycle>,
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
    /// The live bookings the last good cycle read (the page's bars and what comes up).
    pub bookings: Vec<Booking>,
    /// Each target's observed up/down over the last hours.
    pub history: record::History,
    /// The last actions taken.
    pub actions: std::collections::VecDeque<record::ActionRecord>,
    /// The estimated savings since the day began in the default zone: (that day, USD).
    pub saved_today: Option<(jiff::civil::Date, f64)>,
}

/// What the endpoints keep of a completed cycle's [`Report`]: when it planned and its plan
/// (every target's desired and observed summary, actions, problems). Not its desired state
/// nor the fleet as it was read, which no endpoint shows: at 10,000 targets those are 7 MiB
/// the daemon would otherwise hold until the next cycle ends, beside the next cycle's own.
pub struct LastCycle {
    /// When the cycle planned for.
    pub at: Timestamp,
    /// Its plan.
    pub plan: envsched_core::Plan,
}

impl From<Report> for LastCycle {
    fn from(r: Report) -> Self {
        LastCycle { at: r.at, plan: r.plan }
    }
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
    async fn observe(&self, resources: &[&Locator], discovery: &Discovery) -> Result<Observed, FleetError> {
        self.inner.observe(resources, discovery).await
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

/// Where the daemon reads bookings and tells each row its state: Notion in production, any
/// source in the loop's tests.
pub trait Rows: BookingSource {
    /// Tells each row its state; see [`NotionClient::write_back`].
    fn write_back(&self, texts: &[(String, String)], live: &[Booking]) -> impl Future<Output = WriteBack>;
    /// Forgets what was learned between fetches (a resync); see [`NotionClient::forget`].
    fn forget(&self);
    /// Comments each notice on its row once; see [`NotionClient::notify`].
    fn notify(&self, notices: &[Notice]) -> impl Future<Output = Told>;
    /// Adds the component options `targets` offer (`[notion] sync_options`): the ones added.
    fn sync_options(&self, targets: &TargetSet) -> impl Future<Output = Result<Vec<String>, SourceError>>;
}

impl Rows for NotionClient {
    fn write_back(&self, texts: &[(String, String)], live: &[Booking]) -> impl Future<Output = WriteBack> {
        NotionClient::write_back(self, texts, live)
    }

    fn notify(&self, notices: &[Notice]) -> impl Future<Output = Told> {
        NotionClient::notify(self, notices)
    }

    async fn sync_options(&self, targets: &TargetSet) -> Result<Vec<String>, SourceError> {
        let change = self.options_change(targets).await?;
        self.add_options(&change).await?;
        Ok(change.added)
    }

    fn forget(&self) {
        NotionClient::forget(self);
    }
}

/// The rows' source as the daemon uses it: each fetch timed and counted.
pub struct TimedSource<'a, R>(pub &'a R);

impl<R: Rows + Sync> BookingSource for TimedSource<'_, R> {
    async fn fetch(&self) -> Result<Vec<Booking>, SourceError> {
        let started = Instant::now();
        let r = self.0.fetch().await;
        telemetry::NotionFetched { duration: started.elapsed(), rows: r.as_ref().ok().map(Vec::len) }.emit();
        r
    }
}

/// Runs cycles until `stop` turns true, on the system clock. Returns when the last cycle has
/// finished (or the drain ran out).
pub async fn run<F: Fleet + Sync>(
    config: &Config,
    client: &NotionClient,
    fleet: &LoggedFleet<F>,
    calls: impl Fn() -> envsched_aws::CallCounts,
    stop: watch::Receiver<bool>,
    coordination: Option<Coordination>,
) {
    Daemon::new(config, client, fleet, &SystemClock, stop, coordination).run(calls).await;
}

/// The loop: what it reads, acts on and tells, its clock, and what it carries from one
/// cycle to the next. Generic over the clock so its tests run on tokio's paused time (a
/// clock that follows it); the sleeps are tokio's, which a paused runtime advances at once.
pub struct Daemon<'a, R, F, C: ?Sized> {
    config: &'a Config,
    rows: &'a R,
    fleet: &'a LoggedFleet<F>,
    clock: &'a C,
    stop: watch::Receiver<bool>,
    coordination: Option<Coordination>,
    shared: Arc<Shared>,
    state: CycleState,
    /// Failed cycles in a row.
    failures: u32,
    /// What woke the coming cycle.
    trigger: WakeReason,
    seen_calls: envsched_aws::CallCounts,
    /// When the last cycle ended (savings are counted between cycles).
    last_end: Instant,
    saved_usd: f64,
    last_problems: Vec<Problem>,
    last_frozen: Option<String>,
    /// A resync ran: add missing component options after its cycle (`[notion] sync_options`).
    sync_due: bool,
    /// The savings the last cycle's interval added (the same model as the metric).
    saved_this_cycle: f64,
    standing: Standing,
    resync_at: Option<Timestamp>,
    summary_at: Option<Timestamp>,
    tally: telemetry::Tally,
}

/// Why the loop ends.
struct Stopped;

impl<'a, R: Rows + Sync, F: Fleet + Sync, C: Clock + ?Sized> Daemon<'a, R, F, C> {
    /// A loop that has not run a cycle.
    pub fn new(
        config: &'a Config,
        rows: &'a R,
        fleet: &'a LoggedFleet<F>,
        clock: &'a C,
        stop: watch::Receiver<bool>,
        coordination: Option<Coordination>,
    ) -> Self {
        let now = clock.now();
        let mut d = Daemon {
            config,
            rows,
            fleet,
            clock,
            stop,
            coordination,
            shared: fleet.shared.clone(),
            state: CycleState::default(),
            failures: 0,
            trigger: WakeReason::Startup,
            seen_calls: Default::default(),
            last_end: Instant::now(),
            saved_usd: 0.0,
            last_problems: Vec::new(),
            last_frozen: None,
            sync_due: false,
            saved_this_cycle: 0.0,
            standing: Standing::Waiting,
            resync_at: None,
            summary_at: None,
            tally: telemetry::Tally::new(now),
        };
        d.resync_at = d.next_fire(WakeReason::Resync, None);
        d.summary_at = d.next_fire(WakeReason::Summary, None);
        d.shared.status.write().unwrap_or_else(|p| p.into_inner()).poll = config.schedule.poll_interval.unsigned_abs();
        d
    }

    /// Cycles until `stop` turns true. `calls` reads the fleet's API call counts.
    pub async fn run(mut self, calls: impl Fn() -> envsched_aws::CallCounts) {
        let _: Result<(), Stopped> = async {
            loop {
                self.gate().await?;
                let result = self.cycle().await?;
                telemetry::api_calls(&calls(), &mut self.seen_calls);
                let wake = self.after_cycle(result).await?;
                self.sleep_until_next(wake).await?;
            }
        }
        .await;
    }

    /// The next fire of the cron job `job` (`schedule.resync` or `schedule.summary`) after
    /// `done` (or now, if later): a clock read a hair early never fires twice.
    fn next_fire(&self, job: WakeReason, done: Option<Timestamp>) -> Option<Timestamp> {
        let schedule = &self.config.schedule;
        let cron = match job {
            WakeReason::Resync => schedule.resync.as_ref(),
            WakeReason::Summary => schedule.summary.as_ref(),
            _ => None,
        }?;
        let key = job.label();
        let now = self.clock.now();
        let next = cron.next_after(done.map_or(now, |d| d.max(now)), &self.config.default_calendar.zone);
        if next.is_none() {
            tracing::warn!(key, "schedule.{key} = \"{cron}\" has no fire time in the next 9 years; it will not run");
        }
        next
    }

    /// With a lease: waits until this copy holds it, and starts afresh when it has just
    /// become the active copy (another copy acted meanwhile, as a new envsched would).
    async fn gate(&mut self) -> Result<(), Stopped> {
        let Some(co) = self.coordination.as_mut() else { return Ok(()) };
        let was = self.standing;
        match co.gate(&self.shared, &mut self.stop, &mut self.standing).await {
            Gate::Act => {}
            Gate::Stop => return Err(Stopped),
        }
        if was != Standing::Active {
            self.state = CycleState::default();
            self.failures = 0;
            self.last_problems.clear();
            self.last_frozen = None;
        }
        Ok(())
    }

    /// One reconcile cycle (a due resync first), drained on shutdown.
    async fn cycle(&mut self) -> Result<(Result<Report, CycleError>, Duration), Stopped> {
        let started = Instant::now();
        // A due resync rides on whichever cycle comes first at or after its time (woken for
        // it counts as due, whatever a wall clock a hair behind the monotonic one says).
        if self.trigger == WakeReason::Resync || self.resync_at.is_some_and(|at| at <= self.clock.now()) {
            self.rows.forget();
            let backoffs = std::mem::take(&mut self.state.backoff).len();
            tracing::info!(
                backoffs_cleared = backoffs as u64,
                "Resync: reading the Notion schema and every row's text again, retrying every target"
            );
            self.resync_at = self.next_fire(WakeReason::Resync, self.resync_at);
            self.sync_due = self.config.notion.sync_options;
        }
        let drain = self.config.schedule.drain.unsigned_abs();
        let source = TimedSource(self.rows);
        let result = {
            let mut cycle =
                std::pin::pin!(reconcile(self.config, &source, self.fleet, self.clock, &mut self.state, Mode::Apply));
            tokio::select! {
                r = &mut cycle => r,
                _ = self.stop.wait_for(|s| *s) => {
                    self.shared.stopping.store(true, Ordering::SeqCst);
                    self.fleet.halt();
                    tracing::info!(drain_s = drain.as_secs(), "Stopping: finishing the calls in flight, sending no new ones");
                    match tokio::time::timeout(drain, &mut cycle).await {
                        Ok(r) => r,
                        Err(_) => {
                            tracing::warn!("Drain time ran out with the cycle still running; exiting");
                            return Err(Stopped);
                        }
                    }
                }
            }
        };
        // Halted before the fleet could be observed: nothing was planned, nothing failed.
        if let Err(CycleError::Observe(FleetError::Stopping)) = &result {
            tracing::info!("Stopping: the fleet was not observed, so nothing was planned or done");
            return Err(Stopped);
        }
        Ok((result, started.elapsed()))
    }

    /// Tells the rows, logs and counts what the cycle did, updates the endpoints' view, and
    /// says when to wake next.
    async fn after_cycle(
        &mut self,
        (result, duration): (Result<Report, CycleError>, Duration),
    ) -> Result<Wake, Stopped> {
        let now = self.clock.now();
        let stopping = self.shared.stopping.load(Ordering::SeqCst);
        let failed_error = match &result {
            Err(e) => Some((e.to_string(), e.area())),
            Ok(r) => r.source_error.as_ref().map(|e| (e.to_string(), e.area())),
        };
        let (last, write_back) = match (&result, &failed_error) {
            (Ok(report), None) => {
                if self.failures > 0 {
                    telemetry::Recovered { failures: self.failures }.emit();
                }
                self.failures = 0;
                let write_back = if stopping { None } else { self.tell_rows(report).await };
                // Only a copy that acts (not frozen, lease held, bookings read) edits the schema.
                if std::mem::take(&mut self.sync_due) && !stopping && report.may_tell_rows() {
                    match self.rows.sync_options(&self.config.targets).await {
                        Ok(added) if added.is_empty() => {}
                        Ok(added) => {
                            tracing::info!(added = added.len() as u64, "Added component options: {}", added.join(", "))
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "Could not add component options; trying at the next resync")
                        }
                    }
                }
                (Last::Completed(report), write_back)
            }
            _ => {
                self.failures += 1;
                let (message, kind) = failed_error.clone().unwrap_or_else(|| ("unknown".into(), "fleet"));
                telemetry::CycleFailed { error: &message, kind, failures: self.failures }.emit();
                self.tally.failed += 1;
                (Last::Failed { failures: self.failures }, None)
            }
        };
        if let Ok(report) = &result {
            self.report(report, duration, write_back, failed_error.is_none());
        }
        self.last_end = Instant::now();
        let cycle_wake = next_wake(last, &self.state, self.config, now);
        {
            let mut st = self.shared.status.write().unwrap_or_else(|p| p.into_inner());
            st.cycles += 1;
            st.error = failed_error.map(|(m, _)| m);
            st.frozen = self.last_frozen.clone();
            if st.error.is_none() {
                st.last_ok = Some(now);
            }
            if let Ok(r) = result {
                st.history.observe(r.at, &r.plan);
                record::record_actions(&mut st.actions, &r);
                if r.source_error.is_none() {
                    st.bookings = self.state.last_bookings.clone();
                }
                let day = r.at.to_zoned(self.config.default_calendar.zone.clone()).date();
                let before = st.saved_today.filter(|(d, _)| *d == day).map_or(0.0, |(_, usd)| usd);
                st.saved_today = Some((day, before + self.saved_this_cycle));
                st.report = Some(r.into());
            }
        }
        if stopping || self.shared.stopping.load(Ordering::SeqCst) {
            return Err(Stopped);
        }
        Ok(cycle_wake)
    }

    /// Tells each row its state, unless shutdown begins meanwhile: rows not yet told are told
    /// by the next envsched (the rows themselves say what they were last told). Returns how
    /// long it took, when it ran.
    async fn tell_rows(&mut self, report: &Report) -> Option<Duration> {
        let texts = report.row_texts(&self.state.last_bookings, &report.observed, self.config)?;
        let started = Instant::now();
        tokio::select! {
            wb = self.rows.write_back(&texts, &self.state.last_bookings) => {
                if !wb.failed.is_empty() {
                    tracing::warn!(failed = wb.failed.len() as u64, "Could not tell {} row(s) their state", wb.failed.len());
                }
            }
            _ = self.stop.wait_for(|s| *s) => {
                self.shared.stopping.store(true, Ordering::SeqCst);
                self.fleet.halt();
                tracing::info!("Stopping: the write-back to Notion stops here; the next envsched tells the remaining rows");
                return Some(started.elapsed());
            }
        }
        self.give_notices(report, &texts).await;
        Some(started.elapsed())
    }

    /// `[notify]`: comments on the rows whose booking ends soon (or, opt-in, became ready),
    /// once each; never after a cycle that may not tell rows anything ([`notify::due`]).
    async fn give_notices(&mut self, report: &Report, texts: &[(String, String)]) {
        let notices = notify::due(report, &self.state.last_bookings, self.config, texts);
        if notices.is_empty() {
            return;
        }
        let told = tokio::select! {
            told = self.rows.notify(&notices) => told,
            _ = self.stop.wait_for(|s| *s) => return,
        };
        for (row, text) in &told.posted {
            telemetry::NoticePosted { row, text }.emit();
        }
        if !told.failed.is_empty() {
            let (row, why) = &told.failed[0];
            tracing::warn!(
                failed = told.failed.len() as u64,
                row = row.as_str(),
                error = why.as_str(),
                "Could not comment on {} row(s); trying again next cycle",
                told.failed.len()
            );
        }
    }

    /// The cycle's log line and metrics, freezes and problems logged when they change, and
    /// the savings. `clean`: the bookings were read.
    fn report(&mut self, report: &Report, duration: Duration, write_back: Option<Duration>, clean: bool) {
        telemetry::CycleCompleted { report, duration, write_back, trigger: self.trigger }.emit();
        let reason = report.plan.frozen.as_ref().map(|f| f.reason.clone());
        // A freeze is logged when it starts and when it ends, not on every cycle; the current
        // reason stays on /ready and the status page.
        match (&self.last_frozen, &reason) {
            (None, Some(r)) if clean => tracing::warn!(reason = r.as_str(), "Frozen: changing nothing"),
            (Some(_), None) => tracing::info!("Unfrozen: acting on the bookings again"),
            _ => {}
        }
        self.last_frozen = reason;
        let saved = telemetry::savings(report, self.last_end.elapsed(), self.config, &mut self.saved_usd);
        self.saved_this_cycle = saved.1;
        self.tally.saved(saved);
        if clean {
            self.tally.cycle(report);
        }
        if report.plan.problems != self.last_problems {
            telemetry::ProblemsChanged { problems: &report.plan.problems }.emit();
            self.last_problems = report.plan.problems.clone();
        }
    }

    /// Sleeps until the next cycle, logging a summary due meanwhile without one. Wakes early
    /// for a webhook event or a lost lease.
    async fn sleep_until_next(&mut self, cycle_wake: Wake) -> Result<(), Stopped> {
        loop {
            let wake = cycle_wake
                .or_earlier(self.resync_at, WakeReason::Resync)
                .or_earlier(self.summary_at, WakeReason::Summary);
            self.shared.status.write().unwrap_or_else(|p| p.into_inner()).next_wake = Some(wake);
            // A wake-up already due (negative wait) means no sleep at all.
            let sleep = Duration::try_from(wake.at.duration_since(self.clock.now())).unwrap_or(Duration::ZERO);
            tracing::debug!(at = %wake.at, reason = wake.reason.label(), "Next wake-up");
            let woken = tokio::select! {
                _ = tokio::time::sleep(sleep) => wake.reason,
                _ = self.shared.trigger.notified() => WakeReason::Webhook,
                _ = lease_lost(&mut self.coordination) => WakeReason::Lease,
                _ = self.stop.wait_for(|s| *s) => return Err(Stopped),
            };
            if woken == WakeReason::Summary {
                self.summary();
                continue;
            }
            self.trigger = woken;
            return Ok(());
        }
    }

    /// The `schedule.summary` log line, and a fresh tally.
    fn summary(&mut self) {
        let st = self.shared.status.read().unwrap_or_else(|p| p.into_inner());
        telemetry::Summary { tally: &self.tally, plan: st.report.as_ref().map(|r| &r.plan) }.emit();
        drop(st);
        self.tally = telemetry::Tally::new(self.clock.now());
        self.summary_at = self.next_fire(WakeReason::Summary, self.summary_at);
    }
}

pub mod record;
#[cfg(test)]
mod tests;
