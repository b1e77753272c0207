//! An ECS service's chain. The steps and their re-checks are [`crate::memory`]'s protocol:
//! going down, the size is remembered before autoscaling is parked and the count set to 0;
//! going up, the range is restored, the count set and the memory marked running.

use super::{Cause, Chain, Direction, Op, Policy};
use crate::desired::{DesiredState, TargetDesire};
use crate::memory::{Memory, Recalled};
use crate::observed::{Capacity, ObservedService};
use crate::problem::Problem;

/// The ops for target `p`, an ECS service, and the count it has or will get when up.
pub(super) fn chain(
    p: usize,
    td: &TargetDesire,
    s: &ObservedService,
    policy: &Policy<'_>,
    recalled: Recalled,
    problems: &mut Vec<Problem>,
) -> (Option<Chain>, Option<u32>) {
    let keys = policy.tags;
    let memory = Memory::read_keys(&s.tags, [&keys.count, &keys.autoscaling, &keys.state]);
    // The range to restore: the remembered one, else the one envsched saw there before.
    let parked_range = s.autoscaling.filter(|c| c.is_parked());
    let recalled_range = parked_range.and(memory.autoscaling().is_none().then_some(recalled.autoscaling).flatten());
    let service = Service { p, td, s, policy, recalled, memory, parked_range, recalled_range };
    match td.state {
        DesiredState::Up => service.up(problems),
        DesiredState::Down => (service.down(), Some(0)),
    }
}

/// What the chain of one service is made from.
struct Service<'a> {
    p: usize,
    td: &'a TargetDesire,
    s: &'a ObservedService,
    policy: &'a Policy<'a>,
    recalled: Recalled,
    memory: Memory,
    /// The range, when autoscaling is parked at 0/0.
    parked_range: Option<Capacity>,
    /// The range envsched saw remembered before, when the parked range's tag is gone.
    recalled_range: Option<Capacity>,
}

impl Service<'_> {
    /// Up: restore the range, scale from 0, mark the memory running.
    fn up(&self, problems: &mut Vec<Problem>) -> (Option<Chain>, Option<u32>) {
        let (s, td, memory, keys) = (self.s, self.td, &self.memory, self.policy.tags);
        let name = &td.key;
        let (count, source) = up_count(td, memory, self.recalled, self.policy, problems);
        let mut ops = Vec::new();
        let mut cause = Cause::Desired;
        if let Some(cap) = self.parked_range {
            match (&memory.autoscaling, self.recalled_range) {
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
        // Reasons are written only for chains that act (most targets need nothing).
        let chain = (!ops.is_empty()).then(|| {
            let reason = if s.desired_count == 0 {
                format!("{}; count {count} {}", td.reason(), source.describe())
            } else {
                format!("{}; already up, mark its memory running (the next park remembers its size then)", td.reason())
            };
            Chain { index: self.p, direction: Direction::Up, ops, reason, cause }
        });
        (chain, Some(shown))
    }

    /// Down: remember the size (or fill in what vanished), park the range, scale to 0.
    fn down(&self) -> Option<Chain> {
        let (s, memory, recalled) = (self.s, &self.memory, self.recalled);
        let parkable = s.autoscaling.filter(|c| !c.is_parked());
        let running = (s.desired_count > 0).then_some(s.desired_count);
        let seen_range = self.recalled_range.or(parkable.and(recalled.autoscaling));
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
        if ops.is_empty() {
            return None;
        }
        let drift = memory.parked && (running.is_some() || parkable.is_some());
        let (reason, cause) = match (drift, healed) {
            (true, _) => (self.drift_reason(), Cause::Drift),
            (false, true) => (self.heal_reason(count, autoscaling), Cause::Heal),
            (false, false) => (self.td.reason(), Cause::Desired),
        };
        Some(Chain { index: self.p, direction: Direction::Down, ops, reason, cause })
    }

    fn drift_reason(&self) -> String {
        let was = self.memory.count().map(|c| c.to_string()).or(self.memory.autoscaling().map(Capacity::to_tag));
        format!(
            "drift: parked by envsched (remembered {}) but scaled outside envsched (deploy or by hand) to {}; no active booking — book it in Notion to keep it up",
            was.as_deref().unwrap_or("?"),
            self.s.desired_count
        )
    }

    fn heal_reason(&self, count: Option<u32>, autoscaling: Option<Capacity>) -> String {
        let keys = self.policy.tags;
        let what: Vec<String> = count
            .map(|c| format!("count {c}"))
            .into_iter()
            .chain(autoscaling.map(|c| format!("autoscaling {}", c.to_tag())))
            .collect();
        format!(
            "heal: the parked service's memory tags ({}, {}) were removed outside envsched — a deploy tool (ecspresso deploy and Terraform remove tags their definition lacks; see crates/envsched-aws/README.md, \"Living with ecspresso and Terraform\") or a person; putting back {} as envsched saw it",
            keys.count,
            keys.autoscaling,
            what.join(" and ")
        )
    }
}

/// The value a down chain remembers. Parked: keep each value remembered; fill a missing one
/// from what envsched saw there before, else from the figures. Not parked: the figures are
/// the real size.
fn fill<T>(parked: bool, remembered: Option<T>, seen: Option<T>, figure: Option<T>) -> Option<T> {
    match (parked, remembered, figure) {
        (true, Some(_), _) => None,
        (true, None, figure) => seen.or(figure),
        (false, _, Some(figure)) => Some(figure),
        (false, Some(_), None) => None,
        (false, None, None) => seen,
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

/// The count a service comes up with, and where it comes from.
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
            &td.key,
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
