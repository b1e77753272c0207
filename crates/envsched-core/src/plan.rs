//! The planner: desired vs observed → the actions that close the gap, in safe order.
//!
//! [`plan`] is pure. Its guarantees (brief §5–8):
//!
//! * **One action per real difference.** A target that is already right gets nothing.
//!   A service that is up keeps whatever count it has (the autoscaler or a person may have
//!   changed it); counts matter only when coming up from 0.
//! * **Counts.** Up = the count declared in config, else the count remembered in the
//!   `<prefix>count` tag, else `defaults.count`. Going down, the current count is written to
//!   that tag *before* scaling to 0 (an earlier action in the same chain) unless a remembered
//!   value is already there; it is removed once the service is up again.
//! * **Autoscaling** is parked at min/max 0/0 after the old values are remembered in the
//!   `<prefix>autoscaling` tag, and restored before the service is scaled up.
//! * **Drift.** A service envsched parked (a remembered tag is present) that is running again
//!   without a booking is parked again, and the action is marked as drift.
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
}

impl<'a> Policy<'a> {
    /// The policy a config describes, frozen or not.
    pub fn new(config: &'a Config, freeze: Option<Freeze>) -> Self {
        Policy { default_count: config.default_count, safety: &config.safety, tags: &config.tags, freeze }
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
    /// Write and/or remove envsched's tags on the resource.
    Tag {
        /// Tags to write.
        set: Vec<(String, String)>,
        /// Tag keys to remove.
        remove: Vec<String>,
    },
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
            Op::Tag { .. } => "tag",
        }
    }

    /// Human from/to values.
    pub fn from_to(&self) -> (String, String) {
        match self {
            Op::Start => ("stopped".into(), "available".into()),
            Op::Stop => ("available".into(), "stopped".into()),
            Op::Scale { from, to } => (from.to_string(), to.to_string()),
            Op::ParkAutoscaling { from } => (from.to_string(), Capacity { min: 0, max: 0 }.to_string()),
            Op::RestoreAutoscaling { to } => (Capacity { min: 0, max: 0 }.to_string(), to.to_string()),
            Op::Tag { set, remove } => {
                let to: Vec<String> =
                    set.iter().map(|(k, v)| format!("{k}={v}")).chain(remove.iter().map(|k| format!("-{k}"))).collect();
                (String::new(), to.join(","))
            }
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
    /// The target was parked by envsched and changed outside it.
    pub drift: bool,
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
    drift: bool,
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
                let (chain, count) = service_chain(p, td, s, policy, &mut problems);
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
                        drift: false,
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
                            drift: false,
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
    let mut kept = 0usize;
    let dependents_of = |p: usize| -> &[usize] { &desired.targets[p].dependents };
    for p in down {
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
    chains.retain(|c| c.direction == Direction::Up || stopping.contains(&c.index));

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
                drift: c.drift,
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

/// The ops for an ECS service, and the count it has or will get when up.
fn service_chain(
    p: usize,
    td: &TargetDesire,
    s: &ObservedService,
    policy: &Policy<'_>,
    problems: &mut Vec<Problem>,
) -> (Option<Chain>, Option<u32>) {
    let keys = policy.tags;
    let remembered_count = s.tags.get(&keys.count);
    let remembered_cap = s.tags.get(&keys.autoscaling);
    let name = &td.target.key();
    match td.state {
        DesiredState::Up => {
            let (count, source) = up_count(td, remembered_count, policy, problems);
            let mut ops = Vec::new();
            let mut restored = false;
            if let Some(cap) = s.autoscaling.filter(|c| c.is_parked()) {
                match remembered_cap.map(|v| (v, Capacity::from_tag(v))) {
                    Some((_, Some(r))) => {
                        ops.push(Op::RestoreAutoscaling { to: r });
                        restored = true;
                    }
                    Some((v, None)) => problems.push(Problem::target(name, format!("tag {}={v:?} is not min/max", keys.autoscaling), format!("set the scalable target's min/max by hand and remove the tag, or write it as \"1/4\"; autoscaling stays at {cap}"))),
                    None => {}
                }
            }
            if s.desired_count == 0 {
                ops.push(Op::Scale { from: 0, to: count });
            }
            let mut remove = Vec::new();
            if remembered_count.is_some() {
                remove.push(keys.count.clone());
            }
            if remembered_cap.is_some() && (restored || s.autoscaling.is_none_or(|c| !c.is_parked())) {
                remove.push(keys.autoscaling.clone());
            }
            if !remove.is_empty() {
                ops.push(Op::Tag { set: Vec::new(), remove });
            }
            let shown = if s.desired_count == 0 { count } else { s.desired_count };
            let reason = if s.desired_count == 0 {
                format!("{}; count {count} {source}", td.reason())
            } else {
                format!("{}; already up, forget the remembered values", td.reason())
            };
            let chain =
                (!ops.is_empty()).then_some(Chain { index: p, direction: Direction::Up, ops, reason, drift: false });
            (chain, Some(shown))
        }
        DesiredState::Down => {
            let parkable = s.autoscaling.filter(|c| !c.is_parked());
            let mut set = Vec::new();
            if s.desired_count > 0 && remembered_count.is_none() {
                set.push((keys.count.clone(), s.desired_count.to_string()));
            }
            if let (Some(cap), None) = (parkable, remembered_cap) {
                set.push((keys.autoscaling.clone(), cap.to_tag()));
            }
            let mut ops = Vec::new();
            if !set.is_empty() {
                ops.push(Op::Tag { set, remove: Vec::new() });
            }
            if let Some(cap) = parkable {
                ops.push(Op::ParkAutoscaling { from: cap });
            }
            if s.desired_count > 0 {
                ops.push(Op::Scale { from: s.desired_count, to: 0 });
            }
            let drift =
                (s.desired_count > 0 && remembered_count.is_some()) || (parkable.is_some() && remembered_cap.is_some());
            let reason = if drift {
                format!(
                    "drift: parked by envsched (remembered {}) but scaled outside envsched (deploy or by hand) to {}; no active booking — book it in Notion to keep it up",
                    remembered_count.or(remembered_cap).map(String::as_str).unwrap_or("?"),
                    s.desired_count
                )
            } else {
                td.reason()
            };
            // Only tags to write (a service already at 0 with nothing remembered needs none).
            let chain =
                ops.iter().any(Op::stops).then_some(Chain { index: p, direction: Direction::Down, ops, reason, drift });
            (chain, Some(0))
        }
    }
}

fn up_count(
    td: &TargetDesire,
    remembered: Option<&String>,
    policy: &Policy<'_>,
    problems: &mut Vec<Problem>,
) -> (u32, &'static str) {
    if let Some(c) = td.target.count {
        return (c, "declared in config");
    }
    if let Some(v) = remembered {
        match v.trim().parse::<u32>() {
            Ok(c) if c > 0 => return (c, "remembered from before envsched stopped it"),
            _ => problems.push(Problem::target(
                &td.target.key(),
                format!("tag {}={v:?} is not a positive count", policy.tags.count),
                format!(
                    "declare count in the target's config or fix the tag; using defaults.count = {}",
                    policy.default_count
                ),
            )),
        }
    }
    (policy.default_count, "(defaults.count)")
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (from, to) = self.op.from_to();
        let mut st = s.serialize_struct("Action", 8)?;
        st.serialize_field("target", &self.target)?;
        st.serialize_field("op", self.op.name())?;
        st.serialize_field("from", &from)?;
        st.serialize_field("to", &to)?;
        st.serialize_field("direction", &self.direction)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("after", &self.after)?;
        st.serialize_field("drift", &self.drift)?;
        st.end()
    }
}
