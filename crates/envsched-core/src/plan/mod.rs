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

//!
//! | module | holds |
//! |---|---|
//! | this one | [`plan`], [`Policy`] and the steps: chains, the gate up, the order down, phases |
//! | `service` | an ECS service's chain: counts, autoscaling, memory, drift and healing |
//! | `aurora` | an Aurora cluster's chain: the table of states |
//! | `status` | what the plan says: [`Plan`], [`TargetPlan`], [`TargetStatus`] |

mod aurora;
mod service;
mod status;

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

pub use crate::action::{Action, Cause, Direction, Op, Phase};
use crate::config::{Config, MemoryKeys, Safety, TagKeys};
use crate::desired::{Desired, DesiredState, TargetDesire};
use crate::memory::Recall;
use crate::observed::{Found, Observed, ObservedIndex};
use crate::problem::Problem;
use crate::target::{TargetKey, TargetKind};
pub use status::{ObservedSummary, Plan, TargetPlan, TargetStatus, Waiting};

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
    let mut planner = Planner::new(desired, observed, policy);
    let chains = planner.chains();
    let (chains, up) = planner.gate_up(chains);
    let chains = planner.order_down(chains);
    let phases = planner.phases(chains, &up);
    planner.finish(phases)
}

/// One plan in the making: what is known of each target (by its position in `desired`).
struct Planner<'a> {
    desired: &'a Desired,
    /// What AWS reports for each target (looked up once).
    found: Vec<Option<Found<'a>>>,
    policy: &'a Policy<'a>,
    status: Vec<TargetStatus>,
    /// The count a service has or gets when up.
    counts: Vec<Option<u32>>,
    problems: Vec<Problem>,
}

impl<'a> Planner<'a> {
    fn new(desired: &'a Desired, observed: &'a Observed, policy: &'a Policy<'a>) -> Self {
        let n = desired.targets.len();
        let idx = ObservedIndex::new(observed);
        Planner {
            desired,
            found: desired.targets.iter().map(|td| idx.find(&td.target.locator)).collect(),
            policy,
            status: vec![TargetStatus::Unchanged; n],
            counts: vec![None; n],
            problems: desired.problems.clone(),
        }
    }

    fn key(&self, p: usize) -> TargetKey {
        self.desired.targets[p].key.clone()
    }

    /// Each target's chain of ops, from desired vs observed alone.
    fn chains(&mut self) -> Vec<Chain> {
        let mut chains = Vec::new();
        for (p, td) in self.desired.targets.iter().enumerate() {
            let t = &td.target;
            let found = self.found[p];
            if let Some(why) = protection(td, found, self.policy) {
                self.status[p] = TargetStatus::Protected(why);
                continue;
            }
            let Some(found) = found else {
                self.status[p] = TargetStatus::Missing;
                self.problems.push(Problem::target(
                    &td.key,
                    format!("{} was not found", t.locator),
                    "check the cluster/service (or cluster id) in the target's config and that envsched can see it",
                ));
                continue;
            };
            if self.policy.freeze.is_some() {
                self.status[p] = TargetStatus::Frozen;
                continue;
            }
            let chain = match found {
                Found::Service(s) => {
                    let recalled = self.policy.recall.map(|r| r.get(&td.key)).unwrap_or_default();
                    let (chain, count) = service::chain(p, td, s, self.policy, recalled, &mut self.problems);
                    self.counts[p] = count;
                    chain
                }
                Found::Cluster(c) => aurora::chain(p, td, c, &mut self.status[p], &mut self.problems),
            };
            chains.extend(chain);
        }
        chains
    }

    /// The way up waits for every Aurora cluster among the dependencies to be available.
    /// Returns the chains that go ahead and the targets coming up in this plan.
    fn gate_up(&mut self, mut chains: Vec<Chain>) -> (Vec<Chain>, HashSet<usize>) {
        let mut up = HashSet::new();
        chains.retain(|c| {
            if c.direction == Direction::Down || !c.ops.iter().any(Op::starts) {
                return true;
            }
            let waits: Vec<(TargetKey, String)> = self.desired.targets[c.index]
                .all_deps
                .iter()
                .filter(|&&q| self.desired.targets[q].target.kind() == TargetKind::AuroraCluster)
                .filter_map(|&q| self.ready_db(q).err())
                .collect();
            if waits.is_empty() {
                up.insert(c.index);
                true
            } else {
                self.status[c.index] = TargetStatus::Waiting(Waiting::on_targets(waits));
                false
            }
        });
        (chains, up)
    }

    /// Whether dependency `p` lets its dependents come up, and if not, what they wait for.
    fn ready_db(&self, p: usize) -> Result<(), (TargetKey, String)> {
        let state = match self.found[p] {
            Some(Found::Cluster(c)) if c.status == crate::observed::AuroraStatus::Available => return Ok(()),
            Some(Found::Cluster(c)) => c.status.to_string(),
            Some(Found::Service(_)) => return Ok(()),
            None => "not found".to_string(),
        };
        let key = self.desired.targets[p].key.clone();
        let why = format!("waiting for {key} ({state})");
        Err((key, why))
    }

    /// The way down: dependents first, the stop cap, and holds. Returns the chains that go
    /// ahead.
    fn order_down(&mut self, mut chains: Vec<Chain>) -> Vec<Chain> {
        let targets = &self.desired.targets;
        let mut down: Vec<usize> = chains.iter().filter(|c| c.direction == Direction::Down).map(|c| c.index).collect();
        down.sort_by_key(|&p| (targets[p].height, targets[p].key.clone()));
        // Chains that only write memory (healing, marking parked): no stop, no cap, no holds.
        let tag_only: HashSet<usize> = chains
            .iter()
            .filter(|c| c.direction == Direction::Down && !c.ops.iter().any(Op::stops))
            .map(|c| c.index)
            .collect();
        let mut stopping: HashSet<usize> = HashSet::new();
        let cap = self.policy.safety.max_stops_per_cycle;
        for p in down.into_iter().filter(|p| !tag_only.contains(p)) {
            // Health-gated like the way up: a dependency stops only once every dependent
            // reports no tasks (or is stopped), not merely once its stop was requested.
            let blockers: Vec<String> = targets[p]
                .dependents
                .iter()
                .copied()
                .filter(|&q| {
                    stopping.contains(&q)
                        || self.found[q].is_some_and(|f| !f.is_drained())
                        || matches!(self.status[q], TargetStatus::Deferred(_) | TargetStatus::Held(_))
                })
                .map(|q| targets[q].key.clone().to_string())
                .collect();
            if !blockers.is_empty() {
                self.status[p] = TargetStatus::Held(format!("waiting for {} to stop", blockers.join(", ")));
            } else if stopping.len() >= cap {
                self.status[p] =
                    TargetStatus::Deferred(format!("max_stops_per_cycle = {cap} reached; stops next cycle"));
            } else {
                stopping.insert(p);
            }
        }
        chains.retain(|c| c.direction == Direction::Up || stopping.contains(&c.index) || tag_only.contains(&c.index));
        chains
    }

    /// The chains as actions, in phases: up by dependency depth, down by dependent height.
    fn phases(&mut self, mut chains: Vec<Chain>, up: &HashSet<usize>) -> Vec<Phase> {
        let mut phases: BTreeMap<(Direction, usize), Vec<Action>> = BTreeMap::new();
        chains.sort_by_key(|c| self.key(c.index));
        for c in chains {
            let td = &self.desired.targets[c.index];
            self.status[c.index] = TargetStatus::Changing;
            // Up, a dependency coming up in this plan must succeed first. Down needs no such
            // link: a dependency is never in the same plan as a dependent's stop (it is held).
            let (level, after): (usize, Vec<usize>) = match c.direction {
                Direction::Up => (td.depth, td.all_deps.iter().copied().filter(|q| up.contains(q)).collect()),
                Direction::Down => (td.height, Vec::new()),
            };
            let mut after: Vec<TargetKey> = after.into_iter().map(|q| self.key(q)).collect();
            after.sort();
            after.dedup();
            let list = phases.entry((c.direction, level)).or_default();
            for op in c.ops {
                list.push(Action {
                    target: td.key.clone(),
                    locator: td.target.locator.clone(),
                    direction: c.direction,
                    reason: c.reason.clone(),
                    after: after.clone(),
                    cause: c.cause,
                    memory: MemoryKeys::from(self.policy.tags),
                    op,
                });
            }
        }
        phases
            .into_iter()
            .enumerate()
            .map(|(i, ((direction, level), actions))| Phase { number: i + 1, direction, level, actions })
            .collect()
    }

    /// The plan: each target's entry, the phases and the problems.
    fn finish(mut self, phases: Vec<Phase>) -> Plan {
        let targets = self
            .desired
            .targets
            .iter()
            .enumerate()
            .map(|(p, td)| {
                let found = self.found[p];
                TargetPlan {
                    key: td.key.clone(),
                    locator: td.target.locator.clone(),
                    name: td.target.name.clone(),
                    kind: td.target.kind(),
                    environment: td.target.environment.clone(),
                    desired: td.state,
                    count: match found {
                        Some(Found::Service(s)) => Some(match td.state {
                            DesiredState::Down => 0,
                            DesiredState::Up => self.counts[p].unwrap_or(s.desired_count),
                        }),
                        _ => None,
                    },
                    observed: ObservedSummary::of(found),
                    bookings: td.bookings.clone(),
                    reason: td.why(),
                    status: self.status[p].clone(),
                    until: td.until,
                }
            })
            .collect();
        self.problems.sort();
        self.problems.dedup();
        Plan { at: self.desired.at, frozen: self.policy.freeze.clone(), targets, phases, problems: self.problems }
    }
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
