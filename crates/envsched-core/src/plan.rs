//! The planner: desired vs observed → the actions that close the gap, in safe order.
//!
//! [`plan`] is pure. Its guarantees (brief §5–8):
//!
//! * **One action per real difference.** A target that is already right gets nothing.
//!   A service that is up keeps whatever count it has (the autoscaler or a person may have
//!   changed it); counts matter only when coming up from 0.
//! * **Counts.** Up = the count declared in config, else the count remembered in the
//!   `<prefix>count` tag, else the one envsched last saw there ([`Recall`]), else
//!   `defaults.count`. Going down, the current count (and autoscaling range) is remembered
//!   *before* scaling to 0, in an earlier action of the same chain. The memory protocol, and
//!   why it is safe when two copies act at once, is in [`crate::memory`].
//! * **Autoscaling** is parked at min/max 0/0 after the old values are remembered in the
//!   `<prefix>autoscaling` tag, and restored before the service is scaled up.
//! * **Drift.** A service envsched parked (`<prefix>state=parked`) that is running again
//!   without a booking is parked again, its remembered values kept, and the action is marked
//!   as drift.
//! * **Healing.** A parked service whose memory tags vanished (a deploy tool or a person
//!   removed them) gets the values envsched saw there before written back.
//! * **Order.** Up: dependencies first (phase by dependency depth); a target whose
//!   dependencies include an Aurora cluster that is not `available` waits. Down: dependents
//!   first; a dependency is stopped only once every dependent reports no desired, running or
//!   pending tasks (a later cycle than the dependents' own stop), so apps never lose their DB
//!   while they drain.
//! * **Aurora** starts only from `stopped` and stops only from `available`; other states wait.
//!   A cluster AWS reports as unstoppable is a problem, never an action.
//! * **Safety.** Protected targets (name or AWS name matches `safety.protected`, or the
//!   `<prefix>protected` tag is present with any value but `false`) never get an action.
//!   At most `max_stops_per_cycle` targets are stopped per plan; the rest are deferred (and
//!   their dependencies held). A frozen policy yields no actions at all.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::booking::BookingRef;
use crate::config::{Config, Safety, TagKeys};
use crate::desired::{Desired, DesiredState, TargetDesire};
use crate::memory::{Memory, MemoryKeys, Recall, Recalled};
use crate::observed::{AuroraStatus, Capacity, Found, Observed, ObservedIndex, ObservedService};
use crate::problem::Problem;
use crate::target::{Locator, TargetKind};

/// What the planner may do, beyond the desired state.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Count for a service coming up with no declared or remembered count.
    pub default_count: u32,
    /// Safety settings (protected patterns, stop cap).
    pub safety: &'a Safety,
    /// Tag keys.
    pub tags: &'a TagKeys,
    /// When set, nothing is done this cycle, and this says why.
    pub freeze: Option<Freeze>,
    /// The memory values seen on services in earlier cycles (heals vanished tags).
    pub recall: Option<&'a Recall>,
}

impl<'a> Policy<'a> {
    /// The policy a config describes, frozen or not.
    pub fn new(config: &'a Config, freeze: Option<Freeze>) -> Self {
        Policy { default_count: config.default_count, safety: &config.safety, tags: &config.tags, freeze, recall: None }
    }

    /// The same policy, healing vanished memory tags from `recall`.
    pub fn with_recall(self, recall: &'a Recall) -> Self {
        Policy { recall: Some(recall), ..self }
    }
}

/// Why a cycle changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freeze {
    /// Human explanation: what failed and what to check.
    pub reason: String,
}

/// Which way an action moves a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Towards running.
    Up,
    /// Towards stopped.
    Down,
}

/// One change to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Start an Aurora cluster (`StartDBCluster`).
    Start,
    /// Stop an Aurora cluster (`StopDBCluster`).
    Stop,
    /// Set an ECS service's desiredCount.
    Scale {
        /// Current desiredCount.
        from: u32,
        /// New desiredCount.
        to: u32,
    },
    /// Set the scalable target's min/max to 0/0.
    ParkAutoscaling {
        /// The capacity before parking.
        from: Capacity,
    },
    /// Set the scalable target's min/max back.
    RestoreAutoscaling {
        /// The capacity to restore.
        to: Capacity,
    },
    /// Remember the service's size in its tags and mark it parked (before parking it), or
    /// put back values that vanished. See [`crate::memory`] for what is written when.
    Remember {
        /// The count to remember (where the memory lacks one, or the service is not parked).
        count: Option<u32>,
        /// The range to remember (likewise).
        autoscaling: Option<Capacity>,
        /// desiredCount as the planner saw it: the write happens only if it still holds.
        seen_count: u32,
        /// The range as the planner saw it (checked when remembering one).
        seen_autoscaling: Option<Capacity>,
    },
    /// Mark the memory `running` after a restore; the remembered values stay.
    MarkRunning,
}

impl Op {
    /// The stable name used in JSON and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Start => "start",
            Op::Stop => "stop",
            Op::Scale { .. } => "scale",
            Op::ParkAutoscaling { .. } => "park-autoscaling",
            Op::RestoreAutoscaling { .. } => "restore-autoscaling",
            Op::Remember { .. } => "remember",
            Op::MarkRunning => "mark-running",
        }
    }

    /// Whether a fleet must read the scalable target to re-check this op.
    pub fn reads_autoscaling(&self) -> bool {
        matches!(
            self,
            Op::ParkAutoscaling { .. } | Op::RestoreAutoscaling { .. } | Op::Remember { seen_autoscaling: Some(_), .. }
        )
    }

    /// Human from/to values.
    pub fn from_to(&self) -> (String, String) {
        match self {
            Op::Start => ("stopped".into(), "available".into()),
            Op::Stop => ("available".into(), "stopped".into()),
            Op::Scale { from, to } => (from.to_string(), to.to_string()),
            Op::ParkAutoscaling { from } => (from.to_string(), Capacity { min: 0, max: 0 }.to_string()),
            Op::RestoreAutoscaling { to } => (Capacity { min: 0, max: 0 }.to_string(), to.to_string()),
            Op::Remember { count, autoscaling, .. } => {
                let to: Vec<String> = count
                    .map(|c| format!("count={c}"))
                    .into_iter()
                    .chain(autoscaling.map(|c| format!("autoscaling={}", c.to_tag())))
                    .chain(std::iter::once("parked".to_string()))
                    .collect();
                (String::new(), to.join(","))
            }
            Op::MarkRunning => ("parked".into(), "running".into()),
        }
    }

    fn stops(&self) -> bool {
        matches!(self, Op::Stop | Op::Scale { to: 0, .. } | Op::ParkAutoscaling { .. })
    }

    fn starts(&self) -> bool {
        matches!(self, Op::Start | Op::RestoreAutoscaling { .. })
            || matches!(self, Op::Scale { from: 0, to } if *to > 0)
    }
}

/// What brought an action about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// The desired state (bookings, pins, dependencies).
    Desired,
    /// envsched parked the target and something outside it scaled it up again.
    Drift,
    /// The target's remembered values vanished and envsched puts back what it saw.
    Heal,
}

/// An action: one op on one target, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Target key (`stg1:products/app1-web`, see [`crate::Target::key`]).
    pub target: String,
    /// Where it lives.
    pub locator: Locator,
    /// What to do.
    pub op: Op,
    /// Which way it moves the target.
    pub direction: Direction,
    /// Why: the bookings and the rule.
    pub reason: String,
    /// Keys of other targets whose actions in this plan must succeed first.
    pub after: Vec<String>,
    /// Why the action exists beyond the desired state (drift, healing).
    pub cause: Cause,
    /// The memory tag keys the fleet re-checks (ECS services).
    pub memory: MemoryKeys,
}

impl Action {
    /// The target was parked by envsched and changed outside it.
    pub fn is_drift(&self) -> bool {
        self.cause == Cause::Drift
    }
}

/// A group of actions that may run together; phases run in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    /// 1-based position.
    pub number: usize,
    /// Up or down.
    pub direction: Direction,
    /// Dependency depth (up) or dependent height (down) of the targets in it.
    pub level: usize,
    /// The actions.
    pub actions: Vec<Action>,
}

impl Phase {
    /// A short title for people.
    pub fn title(&self) -> String {
        match (self.direction, self.level) {
            (Direction::Up, 0) => "up — targets without dependencies (databases first)".into(),
            (Direction::Up, n) => format!("up — dependents, level {n} (their dependencies are ready)"),
            (Direction::Down, 0) => "down — targets nothing depends on".into(),
            (Direction::Down, n) => format!("down — dependencies, level {n} (their dependents are stopping)"),
        }
    }
}

/// What the plan does with a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetStatus {
    /// Already as desired.
    Unchanged,
    /// Has actions in this plan.
    Changing,
    /// Waiting on something outside envsched's control (a DB starting, a cluster stopping).
    Waiting(String),
    /// Stop postponed by the per-cycle cap.
    Deferred(String),
    /// Stop held back because something still needs it, or it cannot be stopped.
    Held(String),
    /// Never touched.
    Protected(String),
    /// Not found in AWS.
    Missing,
    /// The plan is frozen.
    Frozen,
}

impl TargetStatus {
    /// Stable name for JSON.
    pub fn name(&self) -> &'static str {
        match self {
            TargetStatus::Unchanged => "unchanged",
            TargetStatus::Changing => "changing",
            TargetStatus::Waiting(_) => "waiting",
            TargetStatus::Deferred(_) => "deferred",
            TargetStatus::Held(_) => "held",
            TargetStatus::Protected(_) => "protected",
            TargetStatus::Missing => "missing",
            TargetStatus::Frozen => "frozen",
        }
    }

    /// The explanation, where there is one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            TargetStatus::Waiting(s)
            | TargetStatus::Deferred(s)
            | TargetStatus::Held(s)
            | TargetStatus::Protected(s) => Some(s),
            _ => None,
        }
    }
}

/// How a target looks in AWS, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedSummary {
    /// `running`/`stopped` for services, the status for clusters, `missing` when not found.
    pub state: String,
    /// desiredCount (services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<u32>,
    /// runningCount (services).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_count: Option<u32>,
}

impl ObservedSummary {
    fn of(found: Option<Found<'_>>) -> Self {
        match found {
            None => ObservedSummary { state: "missing".into(), desired_count: None, running_count: None },
            Some(Found::Service(s)) => ObservedSummary {
                state: if s.desired_count > 0 { "running" } else { "stopped" }.into(),
                desired_count: Some(s.desired_count),
                running_count: Some(s.running_count),
            },
            Some(Found::Cluster(c)) => {
                ObservedSummary { state: c.status.to_string(), desired_count: None, running_count: None }
            }
        }
    }
}

/// The plan's view of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPlan {
    /// Key (`stg1:products/app1-web`).
    pub key: String,
    /// Where it lives.
    pub locator: Locator,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TargetKind,
    /// Environment, if any.
    pub environment: Option<String>,
    /// Desired state.
    pub desired: DesiredState,
    /// The desiredCount it has or will get when up (services).
    pub count: Option<u32>,
    /// Observed summary.
    pub observed: ObservedSummary,
    /// Bookings keeping it up.
    pub bookings: Vec<BookingRef>,
    /// The rule behind the desired state.
    pub reason: String,
    /// What the plan does with it.
    pub status: TargetStatus,
    /// When the bookings keeping it up end.
    pub until: Option<Timestamp>,
}

/// Everything the planner decided for one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The instant planned for.
    pub at: Timestamp,
    /// Set when nothing may be done.
    pub frozen: Option<Freeze>,
    /// One entry per target.
    pub targets: Vec<TargetPlan>,
    /// Actions, in phases.
    pub phases: Vec<Phase>,
    /// Problems from the bookings, calendars and fleet.
    pub problems: Vec<Problem>,
}

impl Plan {
    /// All actions in execution order.
    pub fn actions(&self) -> impl Iterator<Item = (&Phase, &Action)> {
        self.phases.iter().flat_map(|p| p.actions.iter().map(move |a| (p, a)))
    }

    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.phases.iter().all(|p| p.actions.is_empty())
    }

    /// (targets starting, targets stopping, targets unchanged).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut dir: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
        for (_, a) in self.actions() {
            let e = dir.entry(a.target.as_str()).or_default();
            e.0 |= a.op.starts();
            e.1 |= a.op.stops();
        }
        let start = dir.values().filter(|(s, _)| *s).count();
        let stop = dir.values().filter(|(s, t)| *t && !*s).count();
        let unchanged = self.targets.iter().filter(|t| !dir.contains_key(t.key.as_str())).count();
        (start, stop, unchanged)
    }

    /// How many targets are wanted up.
    pub fn wanted_up(&self) -> usize {
        self.targets.iter().filter(|t| t.desired == crate::desired::DesiredState::Up).count()
    }

    /// The entry for the target with key `key`.
    pub fn target(&self, key: &str) -> Option<&TargetPlan> {
        self.targets.iter().find(|t| t.key == key)
    }
}

/// A target's chain of ops before ordering and gating.
struct Chain {
    index: usize,
    direction: Direction,
    ops: Vec<Op>,
    reason: String,
    cause: Cause,
}

/// Computes the plan. See the module docs for the rules.
pub fn plan(desired: &Desired, observed: &Observed, policy: &Policy<'_>) -> Plan {
    let idx = ObservedIndex::new(observed);
    let mut problems = desired.problems.clone();
    let n = desired.targets.len();
    let mut status: Vec<TargetStatus> = vec![TargetStatus::Unchanged; n];
    let mut counts: Vec<Option<u32>> = vec![None; n];
    let mut chains: Vec<Chain> = Vec::new();

    for (p, td) in desired.targets.iter().enumerate() {
        let t = &td.target;
        let found = idx.find(&t.locator);
        if let Some(why) = protection(td, found, policy) {
            status[p] = TargetStatus::Protected(why);
            continue;
        }
        let Some(found) = found else {
            status[p] = TargetStatus::Missing;
            problems.push(Problem::target(
                &t.key(),
                format!("{} was not found", t.locator),
                "check the cluster/service (or cluster id) in the target's config and that envsched can see it",
            ));
            continue;
        };
        if policy.freeze.is_some() {
            status[p] = TargetStatus::Frozen;
            continue;
        }
        let chain = match found {
            Found::Service(s) => {
                let recalled = policy.recall.map(|r| r.get(&t.key())).unwrap_or_default();
                let (chain, count) = service_chain(p, td, s, policy, recalled, &mut problems);
                counts[p] = count;
                chain
            }
            Found::Cluster(c) => {
                match (td.state, &c.status) {
                    (DesiredState::Up, AuroraStatus::Stopped) => Some(Chain {
                        index: p,
                        direction: Direction::Up,
                        ops: vec![Op::Start],
                        reason: td.reason(),
                        cause: Cause::Desired,
                    }),
                    (DesiredState::Up, AuroraStatus::Available)
                    | (DesiredState::Down, AuroraStatus::Stopped | AuroraStatus::Stopping) => None,
                    (DesiredState::Down, AuroraStatus::Available) => match &c.unstoppable {
                        Some(why) => {
                            status[p] = TargetStatus::Held(format!("cannot be stopped: {why}"));
                            problems.push(Problem::target(&t.key(), format!("Aurora cluster {} cannot be stopped: {why}", c.id), "remove it from envsched's targets or pin it up; it keeps running (and costing) meanwhile"));
                            None
                        }
                        None => Some(Chain {
                            index: p,
                            direction: Direction::Down,
                            ops: vec![Op::Stop],
                            reason: td.reason(),
                            cause: Cause::Desired,
                        }),
                    },
                    (DesiredState::Up, AuroraStatus::Stopping) => {
                        status[p] = TargetStatus::Waiting("cluster is stopping; it is started once stopped".into());
                        None
                    }
                    (DesiredState::Down, AuroraStatus::Starting) => {
                        status[p] = TargetStatus::Waiting("cluster is starting (Aurora restarts itself after 7 days stopped); it is stopped once available".into());
                        None
                    }
                    (_, s) => {
                        status[p] = TargetStatus::Waiting(format!("cluster is {s}; waiting for available or stopped"));
                        None
                    }
                }
            }
        };
        if let Some(chain) = chain {
            chains.push(chain);
        }
    }

    // Gate the way up: wait for every Aurora cluster among the dependencies to be available.
    let is_ready_db = |p: usize| -> Result<(), String> {
        let t = &desired.targets[p].target;
        match idx.find(&t.locator) {
            Some(Found::Cluster(c)) if c.status == AuroraStatus::Available => Ok(()),
            Some(Found::Cluster(c)) => Err(format!("waiting for {} ({})", t.key(), c.status)),
            Some(Found::Service(_)) => Ok(()),
            None => Err(format!("waiting for {} (not found)", t.key())),
        }
    };
    let deps_of = |p: usize| -> &[usize] { &desired.targets[p].all_deps };
    let mut up_chains: HashSet<usize> = HashSet::new();
    chains.retain(|c| {
        if c.direction == Direction::Down || !c.ops.iter().any(Op::starts) {
            return true;
        }
        let deps = deps_of(c.index);
        let waits: Vec<String> = deps
            .iter()
            .filter(|&&q| desired.targets[q].target.kind() == TargetKind::AuroraCluster)
            .filter_map(|&q| is_ready_db(q).err())
            .collect();
        if waits.is_empty() {
            up_chains.insert(c.index);
            true
        } else {
            status[c.index] = TargetStatus::Waiting(waits.join("; "));
            false
        }
    });

    // The way down: dependents first, the stop cap, and holds.
    let height = |p: usize| -> usize { desired.targets[p].height };
    let mut down: Vec<usize> = chains.iter().filter(|c| c.direction == Direction::Down).map(|c| c.index).collect();
    down.sort_by_key(|&p| (height(p), desired.targets[p].target.key()));
    let mut stopping: HashSet<usize> = HashSet::new();
    // Chains that only write memory (healing, marking parked): no stop, no cap, no holds.
    let tag_only: HashSet<usize> = chains
        .iter()
        .filter(|c| c.direction == Direction::Down && !c.ops.iter().any(Op::stops))
        .map(|c| c.index)
        .collect();
    let mut kept = 0usize;
    let dependents_of = |p: usize| -> &[usize] { &desired.targets[p].dependents };
    for p in down.into_iter().filter(|p| !tag_only.contains(p)) {
        // Health-gated like the way up: a dependency stops only once every dependent reports
        // no tasks (or is stopped), not merely once its stop was requested.
        let blockers: Vec<String> = dependents_of(p)
            .iter()
            .copied()
            .filter(|&q| {
                stopping.contains(&q)
                    || idx.find(&desired.targets[q].target.locator).is_some_and(|f| !f.is_drained())
                    || matches!(status[q], TargetStatus::Deferred(_) | TargetStatus::Held(_))
            })
            .map(|q| desired.targets[q].target.key())
            .collect();
        if !blockers.is_empty() {
            status[p] = TargetStatus::Held(format!("waiting for {} to stop", blockers.join(", ")));
            continue;
        }
        if kept >= policy.safety.max_stops_per_cycle {
            status[p] = TargetStatus::Deferred(format!(
                "max_stops_per_cycle = {} reached; stops next cycle",
                policy.safety.max_stops_per_cycle
            ));
            continue;
        }
        kept += 1;
        stopping.insert(p);
    }
    chains.retain(|c| c.direction == Direction::Up || stopping.contains(&c.index) || tag_only.contains(&c.index));

    // Phases.
    let mut phases: BTreeMap<(Direction, usize), Vec<Action>> = BTreeMap::new();
    chains.sort_by_key(|c| desired.targets[c.index].target.key());
    for c in chains {
        let td = &desired.targets[c.index];
        status[c.index] = TargetStatus::Changing;
        // Up, a dependency coming up in this plan must succeed first. Down needs no such link:
        // a dependency is never in the same plan as a dependent's stop (it is held instead).
        let (level, after): (usize, Vec<usize>) = match c.direction {
            Direction::Up => (td.depth, deps_of(c.index).iter().copied().filter(|q| up_chains.contains(q)).collect()),
            Direction::Down => (td.height, Vec::new()),
        };
        let mut after: Vec<String> = after.into_iter().map(|q| desired.targets[q].target.key()).collect();
        after.sort();
        after.dedup();
        let list = phases.entry((c.direction, level)).or_default();
        for op in c.ops {
            list.push(Action {
                target: td.target.key(),
                locator: td.target.locator.clone(),
                direction: c.direction,
                reason: c.reason.clone(),
                after: after.clone(),
                cause: c.cause,
                memory: MemoryKeys::from(policy.tags),
                op,
            });
        }
    }
    let phases: Vec<Phase> = phases
        .into_iter()
        .enumerate()
        .map(|(i, ((direction, level), actions))| Phase { number: i + 1, direction, level, actions })
        .collect();

    let targets = desired
        .targets
        .iter()
        .enumerate()
        .map(|(p, td)| {
            let found = idx.find(&td.target.locator);
            TargetPlan {
                key: td.target.key(),
                locator: td.target.locator.clone(),
                name: td.target.name.clone(),
                kind: td.target.kind(),
                environment: td.target.environment.clone(),
                desired: td.state,
                count: match found {
                    Some(Found::Service(s)) => Some(match td.state {
                        DesiredState::Down => 0,
                        DesiredState::Up => counts[p].unwrap_or(s.desired_count),
                    }),
                    _ => None,
                },
                observed: ObservedSummary::of(found),
                bookings: td.bookings.clone(),
                reason: td.reason(),
                status: status[p].clone(),
                until: td.until,
            }
        })
        .collect();
    problems.sort();
    problems.dedup();
    Plan { at: desired.at, frozen: policy.freeze.clone(), targets, phases, problems }
}

/// Why a target must not be touched, if it must not.
fn protection(td: &TargetDesire, found: Option<Found<'_>>, policy: &Policy<'_>) -> Option<String> {
    let mut names = vec![td.target.name.as_str()];
    names.extend(td.target.locator.names());
    if let Some(p) = policy.safety.protected_by(&names) {
        return Some(format!("matches safety.protected {p:?}"));
    }
    let found = found?;
    let value = found.tags().get(&policy.tags.protected)?;
    (!value.trim().eq_ignore_ascii_case("false")).then(|| format!("tagged {}={value}", policy.tags.protected))
}

/// The ops for an ECS service, and the count it has or will get when up. The steps and
/// their re-checks are [`crate::memory`]'s protocol.
fn service_chain(
    p: usize,
    td: &TargetDesire,
    s: &ObservedService,
    policy: &Policy<'_>,
    recalled: Recalled,
    problems: &mut Vec<Problem>,
) -> (Option<Chain>, Option<u32>) {
    let keys = policy.tags;
    let memory = Memory::read(&s.tags, &MemoryKeys::from(keys));
    let name = &td.target.key();
    // The range to restore: the remembered one, else the one envsched saw there before.
    let parked_range = s.autoscaling.filter(|c| c.is_parked());
    let recalled_range = parked_range.and(memory.autoscaling().is_none().then_some(recalled.autoscaling).flatten());
    match td.state {
        DesiredState::Up => {
            let (count, source) = up_count(td, &memory, recalled, policy, problems);
            let mut ops = Vec::new();
            let mut cause = Cause::Desired;
            if let Some(cap) = parked_range {
                match (&memory.autoscaling, recalled_range) {
                    (Some(Ok(r)), _) => ops.push(Op::RestoreAutoscaling { to: *r }),
                    (_, Some(r)) => {
                        ops.push(Op::RestoreAutoscaling { to: r });
                        cause = Cause::Heal;
                    }
                    (Some(Err(v)), None) => problems.push(Problem::target(name, format!("tag {}={v:?} is not min/max", keys.autoscaling), format!("set the scalable target's min/max by hand and remove the tag, or write it as \"1/4\"; autoscaling stays at {cap}"))),
                    (None, None) if s.desired_count == 0 => problems.push(Problem::target(
                        name,
                        format!("autoscaling is parked at {cap} and no range is remembered ({} is missing)", keys.autoscaling),
                        "set the scalable target's min/max by hand (the autoscaler keeps the service at 0 meanwhile), or add the tag as \"min/max\"",
                    )),
                    (None, None) => {}
                }
            }
            if s.desired_count == 0 {
                if source == CountSource::Recalled {
                    cause = Cause::Heal;
                }
                ops.push(Op::Scale { from: 0, to: count });
            }
            if memory.parked {
                ops.push(Op::MarkRunning);
            }
            let shown = if s.desired_count == 0 { count } else { s.desired_count };
            let reason = if s.desired_count == 0 {
                format!("{}; count {count} {}", td.reason(), source.describe())
            } else {
                format!("{}; already up, mark its memory running (the next park remembers its size then)", td.reason())
            };
            let chain = (!ops.is_empty()).then_some(Chain { index: p, direction: Direction::Up, ops, reason, cause });
            (chain, Some(shown))
        }
        DesiredState::Down => {
            let parkable = s.autoscaling.filter(|c| !c.is_parked());
            let running = (s.desired_count > 0).then_some(s.desired_count);
            // Parked: keep each value remembered; fill a missing one from what envsched saw
            // there before, else from the figures. Not parked: the figures are the real size.
            fn fill<T>(parked: bool, remembered: Option<T>, seen: Option<T>, figure: Option<T>) -> Option<T> {
                match (parked, remembered, figure) {
                    (true, Some(_), _) => None,
                    (true, None, figure) => seen.or(figure),
                    (false, _, Some(figure)) => Some(figure),
                    (false, Some(_), None) => None,
                    (false, None, None) => seen,
                }
            }
            let seen_range = recalled_range.or(parkable.and(recalled.autoscaling));
            let count = fill(memory.parked, memory.count(), recalled.count, running);
            let autoscaling = fill(memory.parked, memory.autoscaling(), seen_range, parkable);
            // Healing: a value comes from what envsched saw, not from the service's figures.
            let healed = (memory.count().is_none() && (memory.parked || running.is_none()) && recalled.count.is_some())
                || (memory.autoscaling().is_none() && (memory.parked || parkable.is_none()) && seen_range.is_some());
            let remembers = memory.count().is_some() || memory.autoscaling().is_some();
            let mut ops = Vec::new();
            if count.is_some() || autoscaling.is_some() || (remembers && !memory.parked) {
                ops.push(Op::Remember {
                    count,
                    autoscaling,
                    seen_count: s.desired_count,
                    seen_autoscaling: autoscaling.and(s.autoscaling),
                });
            }
            if let Some(cap) = parkable {
                ops.push(Op::ParkAutoscaling { from: cap });
            }
            if let Some(from) = running {
                ops.push(Op::Scale { from, to: 0 });
            }
            let drift = memory.parked && (running.is_some() || parkable.is_some());
            let (reason, cause) = if drift {
                let was = memory.count().map(|c| c.to_string()).or(memory.autoscaling().map(Capacity::to_tag));
                (
                    format!(
                        "drift: parked by envsched (remembered {}) but scaled outside envsched (deploy or by hand) to {}; no active booking — book it in Notion to keep it up",
                        was.as_deref().unwrap_or("?"),
                        s.desired_count
                    ),
                    Cause::Drift,
                )
            } else if healed {
                let what: Vec<String> = count
                    .map(|c| format!("count {c}"))
                    .into_iter()
                    .chain(autoscaling.map(|c| format!("autoscaling {}", c.to_tag())))
                    .collect();
                (
                    format!(
                        "heal: the parked service's memory tags ({}, {}) were removed outside envsched — a deploy tool (ecspresso deploy and Terraform remove tags their definition lacks; see README \"Living with ecspresso and Terraform\") or a person; putting back {} as envsched saw it",
                        keys.count,
                        keys.autoscaling,
                        what.join(" and ")
                    ),
                    Cause::Heal,
                )
            } else {
                (td.reason(), Cause::Desired)
            };
            let chain = (!ops.is_empty()).then_some(Chain { index: p, direction: Direction::Down, ops, reason, cause });
            (chain, Some(0))
        }
    }
}

/// Where a service's up count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountSource {
    Declared,
    Remembered,
    Recalled,
    Default,
}

impl CountSource {
    fn describe(self) -> &'static str {
        match self {
            CountSource::Declared => "declared in config",
            CountSource::Remembered => "remembered from before envsched stopped it",
            CountSource::Recalled => "as envsched saw it remembered before the service's tags were removed",
            CountSource::Default => "(defaults.count)",
        }
    }
}

fn up_count(
    td: &TargetDesire,
    memory: &Memory,
    recalled: Recalled,
    policy: &Policy<'_>,
    problems: &mut Vec<Problem>,
) -> (u32, CountSource) {
    if let Some(c) = td.target.count {
        return (c, CountSource::Declared);
    }
    match &memory.count {
        Some(Ok(c)) => return (*c, CountSource::Remembered),
        Some(Err(v)) => problems.push(Problem::target(
            &td.target.key(),
            format!("tag {}={v:?} is not a positive count", policy.tags.count),
            format!(
                "declare count in the target's config or fix the tag; using {}",
                recalled.count.map_or(format!("defaults.count = {}", policy.default_count), |c| format!(
                    "{c}, the count envsched saw remembered before"
                ))
            ),
        )),
        None => {}
    }
    if let Some(c) = recalled.count {
        return (c, CountSource::Recalled);
    }
    (policy.default_count, CountSource::Default)
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (from, to) = self.op.from_to();
        let mut st = s.serialize_struct("Action", 9)?;
        st.serialize_field("target", &self.target)?;
        st.serialize_field("op", self.op.name())?;
        st.serialize_field("from", &from)?;
        st.serialize_field("to", &to)?;
        st.serialize_field("direction", &self.direction)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("after", &self.after)?;
        st.serialize_field("drift", &self.is_drift())?;
        st.serialize_field("cause", &self.cause)?;
        st.end()
    }
}
