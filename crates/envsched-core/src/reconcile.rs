//! The reconcile cycle: fetch → observe → desired → plan → apply phase by phase → report.
//!
//! One function for `apply`, `run` and `demo`; only the source, fleet and clock differ.
//! It needs no runtime. Phases run in order; within a phase, different targets' actions run
//! concurrently — at most [`IN_FLIGHT_PER_PLACE`] targets at a time in each account and
//! Region (the AWS fleet paces its own calls) — and each target's own actions in order.
//! A failed action skips the rest of its target's chain and every later action that names it
//! in [`Action::after`], and nothing else.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream;

use jiff::{SignedDuration, Timestamp};

use crate::action::Action;
use crate::booking::Booking;
use crate::clock::Clock;
use crate::config::Config;
use crate::desired::{Desired, desired, next_change};
use crate::discover::effective;
use crate::feedback::feedback;
use crate::fleet::{Fleet, FleetError, Outcome};
use crate::guard::{DropGuard, Verdict};
use crate::memory::{MemoryKeys, Recall};
use crate::observed::{Found, Observed, ObservedIndex};
use crate::plan::{Freeze, Plan, Policy, plan};
use crate::source::{BookingSource, SourceError};
use crate::sweep::{Sweep, Swept};
use crate::target::{Place, TargetKey};

/// Whether actions are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Call the fleet.
    Apply,
    /// Decide and report, call nothing that changes anything.
    DryRun,
}

/// What a cycle carries over to the next one.
#[derive(Debug, Clone, Default)]
pub struct CycleState {
    /// The suspicious-drop guard's memory.
    pub guard: DropGuard,
    /// The last bookings fetched successfully (shown while the source is failing).
    pub last_bookings: Vec<Booking>,
    /// Targets whose actions keep failing, by key: retried with backoff, not every cycle.
    pub backoff: BTreeMap<TargetKey, Backoff>,
    /// The memory values seen on each service, put back if its tags vanish.
    pub recall: Recall,
    /// The fleet as last read: what a cycle that reads a slice plans the rest with.
    pub sweep: Sweep,
}

/// A target whose actions failed in consecutive cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// Consecutive cycles with a failed action.
    pub failures: u32,
    /// No action is attempted before this instant.
    pub until: Timestamp,
    /// The last error.
    pub error: String,
}

/// The longest wait between attempts on a failing target.
pub const MAX_BACKOFF: SignedDuration = SignedDuration::from_mins(30);

impl Backoff {
    /// The wait after `failures` consecutive failed cycles: one poll interval after the
    /// first (the next cycle tries again), doubling, at most [`MAX_BACKOFF`].
    pub fn delay(failures: u32, poll: SignedDuration) -> SignedDuration {
        doubling(poll, failures, MAX_BACKOFF)
    }
}

/// `base` after the first of `failures` consecutive failures, doubling with each one after
/// it (base, 2 × base, 4 × base …), at most `cap`.
pub fn doubling(base: SignedDuration, failures: u32, cap: SignedDuration) -> SignedDuration {
    let factor = 1i32 << failures.saturating_sub(1).min(16);
    base.checked_mul(factor).unwrap_or(cap).min(cap)
}

/// One action and what became of it.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Phase number.
    pub phase: usize,
    /// The action.
    pub action: Action,
    /// Its outcome.
    pub outcome: Outcome,
}

/// Everything a cycle did.
#[derive(Debug, Clone)]
pub struct Report {
    /// When the cycle planned for.
    pub at: Timestamp,
    /// The fleet as observed at the start of the cycle.
    pub observed: Observed,
    /// The desired state.
    pub desired: Desired,
    /// The plan.
    pub plan: Plan,
    /// Each action's outcome, in execution order.
    pub applied: Vec<Applied>,
    /// Set when the bookings could not be read (the plan is then frozen).
    pub source_error: Option<SourceError>,
    /// The guard accepted a sudden drop to zero bookings this cycle.
    pub accepted_drop: Option<usize>,
    /// The next instant a booking window opens or closes.
    pub next_change: Option<Timestamp>,
    /// How many targets discovery by tag added to the declared ones.
    pub discovered: usize,
    /// What the cycle read from the fleet ([`crate::sweep`]).
    pub swept: Swept,
}

/// How a cycle that observed the fleet ended ([`Report::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CycleOutcome {
    /// Every action it took succeeded (or there was none to take).
    Ok,
    /// At least one action failed.
    Partial,
    /// Frozen: nothing could be done (source down, suspicious drop, lease not held).
    Frozen,
}

impl CycleOutcome {
    /// The name logs and metrics use: `ok`, `partial`, `frozen`.
    pub fn name(self) -> &'static str {
        match self {
            CycleOutcome::Ok => "ok",
            CycleOutcome::Partial => "partial",
            CycleOutcome::Frozen => "frozen",
        }
    }
}

impl Report {
    /// The cycle's outcome: frozen (nothing may be done), partial (an action failed) or ok.
    pub fn outcome(&self) -> CycleOutcome {
        if self.plan.frozen.is_some() {
            CycleOutcome::Frozen
        } else if self.failures().next().is_some() {
            CycleOutcome::Partial
        } else {
            CycleOutcome::Ok
        }
    }

    /// Whether this cycle may tell each booking's row its state: not while frozen, and not
    /// after a failed fetch (every row would look vanished and be told `ended`).
    pub fn may_tell_rows(&self) -> bool {
        self.plan.frozen.is_none() && self.source_error.is_none()
    }

    /// The state text for each live booking's row (`(row id, text)`), when this cycle may tell
    /// rows anything ([`Report::may_tell_rows`]). `now` is the fleet as the cycle left it.
    pub fn row_texts(&self, bookings: &[Booking], now: &Observed, config: &Config) -> Option<Vec<(String, String)>> {
        self.may_tell_rows().then(|| feedback(bookings, &self.desired, &self.plan, now, config))
    }

    /// Actions that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Applied> {
        self.applied.iter().filter(|a| matches!(a.outcome, Outcome::Failed(_)))
    }
}

/// A cycle that could not plan at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CycleError {
    /// The fleet could not be observed: nothing can be compared, nothing is done.
    #[error("could not observe the fleet: {0}")]
    Observe(#[source] FleetError),
}

impl CycleError {
    /// Which side of a cycle failed, as the "Cycle failed" log line's `error.kind` names it:
    /// `fleet`.
    pub fn area(&self) -> &'static str {
        match self {
            CycleError::Observe(_) => "fleet",
        }
    }
}

/// Runs one reconcile cycle.
pub async fn reconcile<S, F, C>(
    config: &Config,
    source: &S,
    fleet: &F,
    clock: &C,
    state: &mut CycleState,
    mode: Mode,
) -> Result<Report, CycleError>
where
    S: BookingSource,
    F: Fleet,
    C: Clock + ?Sized,
{
    let fetched = source.fetch().await;
    let read_at = clock.now();
    let (mut observed, mut swept) = state.sweep.observe(fleet, config, read_at).await.map_err(CycleError::Observe)?;
    let at = clock.now();
    let read = state.read(fetched, config, at);
    let mut decision = plan_now(config, &read.bookings, &observed, at, read.freeze.clone(), Some(&state.recall));
    // A booking began or ended for a target this cycle did not read: read it, plan again.
    let changed = state.sweep.changed(fleet, &decision.desired, &config.discovery.tag, read_at).await;
    if let Some((fresh, n)) = changed.map_err(CycleError::Observe)? {
        observed = fresh;
        swept.read += n;
        decision = plan_now(config, &read.bookings, &observed, at, read.freeze, Some(&state.recall));
    }
    let config = decision.config.as_ref();
    learn(&mut state.recall, &decision.desired, &observed, &MemoryKeys::from(&config.tags));
    let held = state.held(config, at);
    let applied = apply_holding(&decision.plan, fleet, mode, &held).await;
    state.sweep.acted(applied.iter().map(|a| &a.action.locator));
    if mode == Mode::Apply {
        state.backoff = next_backoff(&state.backoff, &applied, &held, config, at);
    }
    Ok(Report {
        at,
        next_change: next_change(&read.bookings, config, at),
        desired: decision.desired,
        plan: decision.plan,
        applied,
        observed,
        source_error: read.source_error,
        accepted_drop: read.accepted_drop,
        discovered: decision.discovered,
        swept,
    })
}

/// What a cycle decides before it acts.
#[derive(Debug)]
pub struct Decision<'a> {
    /// The configuration planned with: the declared targets plus the discovered ones.
    pub config: Cow<'a, Config>,
    /// The desired state (discovery's problems included).
    pub desired: Desired,
    /// The plan.
    pub plan: Plan,
    /// How many targets discovery by tag added.
    pub discovered: usize,
}

/// Desired state and plan at `at`, from bookings and one snapshot of the fleet: the part of
/// a cycle that `plan` shows and `reconcile` acts on. Discovered targets join the declared
/// ones; `recall` heals vanished memory tags; `freeze` says why nothing may be done.
pub fn plan_now<'a>(
    config: &'a Config,
    bookings: &[Booking],
    observed: &Observed,
    at: Timestamp,
    freeze: Option<Freeze>,
    recall: Option<&Recall>,
) -> Decision<'a> {
    let (config, discovery_problems, discovered) = effective(config, observed);
    let mut desired = desired(bookings, &config, at);
    desired.problems.extend(discovery_problems);
    let policy = Policy::new(&config, freeze);
    let policy = match recall {
        Some(r) => policy.with_recall(r),
        None => policy,
    };
    let plan = plan(&desired, observed, &policy);
    Decision { config, desired, plan, discovered }
}

/// The bookings a cycle plans with, and whether it may act on them.
struct Read {
    bookings: Vec<Booking>,
    source_error: Option<SourceError>,
    freeze: Option<Freeze>,
    accepted_drop: Option<usize>,
}

impl CycleState {
    /// The fetch's bookings, or the last good ones with a freeze when the fetch failed; the
    /// drop guard's verdict on a fetch that worked.
    fn read(&mut self, fetched: Result<Vec<Booking>, SourceError>, config: &Config, at: Timestamp) -> Read {
        let bookings = match fetched {
            Ok(bookings) => bookings,
            Err(e) => {
                let freeze = Freeze {
                    reason: format!(
                        "{e}; changing nothing until bookings can be read again (when in doubt, keep it running)"
                    ),
                };
                let bookings = self.last_bookings.clone();
                return Read { bookings, source_error: Some(e), freeze: Some(freeze), accepted_drop: None };
            }
        };
        let (freeze, accepted_drop) = match self.guard.assess(&bookings, config, at) {
            Verdict::Normal => (None, None),
            Verdict::Frozen(f) => (Some(f), None),
            Verdict::Accepted { open } => (None, Some(open)),
        };
        self.last_bookings = bookings.clone();
        Read { bookings, source_error: None, freeze, accepted_drop }
    }

    /// The targets backing off at `at`, by key, and why.
    fn held(&self, config: &Config, at: Timestamp) -> HashMap<TargetKey, String> {
        self.backoff
            .iter()
            .filter(|(_, b)| b.until > at)
            .map(|(k, b)| {
                let when = b.until.to_zoned(config.default_calendar.zone.clone()).strftime("%H:%M");
                let why =
                    format!("backing off after {} failed cycle(s) (last: {}); next try at {when}", b.failures, b.error);
                (k.clone(), why)
            })
            .collect()
    }
}

/// The backoff after a cycle: a failed target waits longer, a held one keeps its wait, and a
/// target that succeeded, or needs nothing any more, starts afresh.
fn next_backoff(
    backoff: &BTreeMap<TargetKey, Backoff>,
    applied: &[Applied],
    held: &HashMap<TargetKey, String>,
    config: &Config,
    at: Timestamp,
) -> BTreeMap<TargetKey, Backoff> {
    let mut next = BTreeMap::new();
    for a in applied {
        let key = &a.action.target;
        match &a.outcome {
            Outcome::Failed(e) => {
                let failures = backoff.get(key).map_or(0, |b| b.failures) + 1;
                let until = at.checked_add(Backoff::delay(failures, config.schedule.poll_interval)).unwrap_or(at);
                next.insert(key.clone(), Backoff { failures, until, error: e.to_string() });
            }
            Outcome::Skipped(_) if held.contains_key(key) => {
                if let Some(b) = backoff.get(key) {
                    next.entry(key.clone()).or_insert_with(|| b.clone());
                }
            }
            _ => {}
        }
    }
    next
}

/// Adds the memory values on every observed service to `recall`.
fn learn(recall: &mut Recall, desired: &Desired, observed: &Observed, keys: &MemoryKeys) {
    let idx = ObservedIndex::new(observed);
    for td in &desired.targets {
        if let Some(Found::Service(s)) = idx.find(&td.target.locator) {
            recall.learn(&td.key, s, keys);
        }
    }
}

/// Carries out a plan's actions phase by phase. Within a phase, each target's actions run in
/// order and different targets run concurrently (the fleet paces its API calls); a phase
/// starts when the previous one has finished.
pub async fn apply<F: Fleet>(plan: &Plan, fleet: &F, mode: Mode) -> Vec<Applied> {
    apply_holding(plan, fleet, mode, &HashMap::new()).await
}

/// [`apply`], skipping the targets in `held` (key → why) and what depends on them.
/// Targets acted on at once per account and Region within a phase. AWS's write budgets
/// (UpdateService 5/s, StartDBCluster within RDS's 12/s) are kept by the fleet's pacing;
/// this bounds what waits on them, and with pacing off (an emulator) the calls in flight.
pub const IN_FLIGHT_PER_PLACE: usize = 16;

async fn apply_holding<'a, F: Fleet>(
    plan: &'a Plan,
    fleet: &F,
    mode: Mode,
    held: &HashMap<TargetKey, String>,
) -> Vec<Applied> {
    let mut failed: HashSet<TargetKey> = HashSet::new();
    let mut out = Vec::new();
    for phase in &plan.phases {
        // A phase's actions are grouped by target already; keep that order.
        let mut chains: Vec<Vec<&'a Action>> = Vec::new();
        for a in &phase.actions {
            match chains.last_mut() {
                Some(c) if c[0].target == a.target => c.push(a),
                _ => chains.push(vec![a]),
            }
        }
        let failed_before = &failed;
        let run_chain = |chain: Vec<&'a Action>| async move {
            let mut outcomes = Vec::with_capacity(chain.len());
            let mut chain_failed: Option<String> = None;
            for action in chain {
                let blocked = if let Some(why) = held.get(action.target.as_str()) {
                    Some(why.clone())
                } else if let Some(why) = &chain_failed {
                    Some(why.clone())
                } else {
                    action
                        .after
                        .iter()
                        .find(|a| failed_before.contains(a.as_str()))
                        .map(|a| format!("{a} did not get ready this cycle"))
                };
                let outcome = match (blocked, mode) {
                    (Some(why), _) => Outcome::Skipped(why),
                    (None, Mode::DryRun) => Outcome::DryRun,
                    (None, Mode::Apply) => fleet.apply(action).await,
                };
                if chain_failed.is_none() && !outcome.succeeded() {
                    chain_failed = Some(match &outcome {
                        Outcome::Skipped(why) => format!("an earlier action on this target was skipped ({why})"),
                        _ => "an earlier action on this target failed".to_string(),
                    });
                }
                outcomes.push(Applied { phase: phase.number, action: action.clone(), outcome });
            }
            outcomes
        };
        // A bounded pool per place: a phase of 2,500 starts keeps a few dozen calls in
        // flight, not 2,500 futures each holding a request; places do not wait for each other.
        let mut by_place: BTreeMap<&Place, Vec<(usize, Vec<&Action>)>> = BTreeMap::new();
        for (i, chain) in chains.into_iter().enumerate() {
            by_place.entry(chain[0].locator.place()).or_default().push((i, chain));
        }
        let pools = by_place.into_values().map(|chains| {
            stream::iter(chains)
                .map(|(i, chain)| async move { (i, run_chain(chain).await) })
                .buffer_unordered(IN_FLIGHT_PER_PLACE)
                .collect::<Vec<_>>()
        });
        let mut results: Vec<(usize, Vec<Applied>)> = join_all(pools).await.into_iter().flatten().collect();
        // Report in plan order, whatever order the calls finished in.
        results.sort_by_key(|(i, _)| *i);
        let results = results.into_iter().map(|(_, outcomes)| outcomes);
        for applied in results.into_iter().flatten() {
            if !applied.outcome.succeeded() {
                failed.insert(applied.action.target.clone());
            }
            out.push(applied);
        }
    }
    out
}
