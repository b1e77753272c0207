//! Remembered sizes: how a parked ECS service keeps its real desiredCount and autoscaling
//! range on itself, safely when two copies of envsched (or other tools) act at once.
//!
//! # The tags
//!
//! | key (default prefix) | value | meaning |
//! |---|---|---|
//! | `envsched:count` | `3` | the desiredCount to restore |
//! | `envsched:autoscaling` | `2/4` | the scalable target's min/max to restore |
//! | `envsched:state` | `parked` / `running` | whether the values describe a service envsched parked |
//!
//! A service with a count or range but no `state` tag is parked (that is how the first
//! protocol, which deleted the values on restore, left it), so upgrading needs no migration.
//!
//! # Expected flow
//!
//! Parking (the way down), one action each, in this order:
//! 1. [`Op::Remember`]: if the service is not parked, write its current desiredCount and range
//!    together with `state=parked`, in one tagging call (they land together or not at all).
//!    If it is parked already (a deploy scaled it up: drift), the remembered values stay.
//! 2. [`Op::ParkAutoscaling`] to 0/0, only if a valid range is remembered *at that moment*.
//! 3. [`Op::Scale`] to 0, only if a positive count is remembered *at that moment*.
//!
//! Restoring (the way up):
//! 1. [`Op::RestoreAutoscaling`] from the remembered range, whenever the range is 0/0 — whoever
//!    parked it.
//! 2. [`Op::Scale`] from 0 to the declared count, else the remembered one, else the default.
//! 3. [`Op::MarkRunning`]: `state=running`, only while the service is still up. The values
//!    **stay**: the next park refreshes them from the service's figures instead.
//!
//! Every step re-reads the service first ([`step`]) and acts only if what the planner saw
//! still holds (compare-before-write); otherwise it refuses, and the next cycle plans again
//! from a fresh observation.
//!
//! # Guarantees
//!
//! * **No step removes a remembered value.** envsched never untags its memory. A value is
//!   written only while the service is not parked, from the figures the service shows at that
//!   moment (so it is the real size, not a deploy's), or to heal a parked service whose tags
//!   vanished, from the values envsched saw there before ([`Recall`]).
//! * **No scale-down without memory.** Scaling to 0 and parking autoscaling re-check, on the
//!   service as it is right then, that the value they would lose is remembered and the
//!   service is marked parked.
//! * **A parked range is always restored**, whichever copy parked it: restoring depends only
//!   on the range being 0/0 and a range being remembered, both of which stay until restored.
//!
//! # Assumptions and caveats
//!
//! * ECS has no conditional tagging: between a step's re-read and its write there is one
//!   API round trip in which another writer can act. Against another copy of envsched the
//!   worst outcome is a `state` tag that says `running` on a parked service (a late
//!   [`Op::MarkRunning`]); the values themselves are intact, and the next cycle marks it parked
//!   again. If a deploy scales it up inside that same window, the deploy's count would be
//!   taken for the real one. The lease (one active copy) closes the window between copies.
//! * Tools that reconcile tags (ecspresso `deploy`, Terraform) delete keys their definition
//!   lacks: envsched heals a parked service from [`Recall`] while it runs, but what it saw
//!   before a restart is lost with the process. See crates/envsched-aws/README.md, "Living
//!   with ecspresso and Terraform", for the `ignore` settings that keep the tags.

use std::collections::BTreeMap;

use crate::action::Op;
pub use crate::config::MemoryKeys;
use crate::observed::{Capacity, ObservedService};

/// The `state` tag's value on a service envsched parked.
pub const PARKED: &str = "parked";
/// The `state` tag's value once envsched has restored the service.
pub const RUNNING: &str = "running";

/// A remembered value: parsed, or the tag's text when it does not parse.
pub type Remembered<T> = Option<Result<T, String>>;

/// What a service's tags remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// The remembered count (`None`: no tag).
    pub count: Remembered<u32>,
    /// The remembered range (`None`: no tag).
    pub autoscaling: Remembered<Capacity>,
    /// The values describe a service envsched parked (`state=parked`, or values without a
    /// `state` tag, as the first protocol left them).
    pub parked: bool,
    /// The `state` tag says so explicitly (no repair needed).
    pub marked: bool,
}

impl Memory {
    /// Reads the memory tags.
    pub fn read(tags: &BTreeMap<String, String>, keys: &MemoryKeys) -> Memory {
        Memory::read_keys(tags, [&keys.count, &keys.autoscaling, &keys.state])
    }

    /// [`Memory::read`] with the count, autoscaling and state keys given as they are.
    pub fn read_keys(tags: &BTreeMap<String, String>, [count, autoscaling, state]: [&str; 3]) -> Memory {
        let count = tags.get(count).map(|v| match v.trim().parse::<u32>() {
            Ok(c) if c > 0 => Ok(c),
            _ => Err(v.clone()),
        });
        let autoscaling = tags.get(autoscaling).map(|v| Capacity::from_tag(v).ok_or_else(|| v.clone()));
        let state = tags.get(state).map(|s| s.trim());
        let parked = match state {
            Some(s) => s == PARKED,
            None => count.is_some() || autoscaling.is_some(),
        };
        Memory { count, autoscaling, parked, marked: state == Some(PARKED) }
    }

    /// The remembered count, when it is a positive number.
    pub fn count(&self) -> Option<u32> {
        self.count.clone().and_then(Result::ok)
    }

    /// The remembered range, when it is a valid `min/max`.
    pub fn autoscaling(&self) -> Option<Capacity> {
        self.autoscaling.clone().and_then(Result::ok)
    }
}

/// The service as a fleet sees it just before it acts.
#[derive(Debug, Clone, Copy)]
pub struct ServiceNow<'a> {
    /// desiredCount.
    pub desired_count: u32,
    /// The scalable target's min/max, if it has one (only read for the ops that need it; see
    /// [`Op::reads_autoscaling`]).
    pub autoscaling: Option<Capacity>,
    /// Tags.
    pub tags: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a ObservedService> for ServiceNow<'a> {
    fn from(s: &'a ObservedService) -> Self {
        ServiceNow { desired_count: s.desired_count, autoscaling: s.autoscaling, tags: &s.tags }
    }
}

/// What a fleet does for an ECS action, decided on the service as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Set desiredCount (`UpdateService`).
    Scale(u32),
    /// Set the scalable target's min/max (`RegisterScalableTarget`).
    Autoscaling(Capacity),
    /// Write these tags (`TagResource`, one call).
    Tag(Vec<(String, String)>),
    /// Nothing to do: already so.
    AlreadyDone(String),
    /// Do not act: the service is not as the plan assumed, or the value this step would lose
    /// is not remembered. The next cycle plans again from a fresh observation.
    Refuse(String),
}

/// Decides what `op` does to a service that is as `now` describes, under the memory protocol
/// (see the module docs). Pure: the fleets call it after their re-read.
pub fn step(op: &Op, keys: &MemoryKeys, now: &ServiceNow<'_>) -> Step {
    let memory = Memory::read(now.tags, keys);
    match op {
        Op::Remember { count, autoscaling, seen_count, seen_autoscaling } => {
            if now.desired_count != *seen_count || (seen_autoscaling.is_some() && now.autoscaling != *seen_autoscaling)
            {
                return Step::Refuse(format!(
                    "changed since observed (desiredCount {seen_count} → {}{}); not remembering",
                    now.desired_count,
                    now.autoscaling.map(|c| format!(", autoscaling {c}")).unwrap_or_default()
                ));
            }
            let mut set = Vec::new();
            // Parked: keep what is remembered, fill in only what is missing or unreadable.
            if let Some(c) = count
                && !(memory.parked && memory.count().is_some())
                && now.tags.get(&keys.count) != Some(&c.to_string())
            {
                set.push((keys.count.clone(), c.to_string()));
            }
            if let Some(c) = autoscaling
                && !(memory.parked && memory.autoscaling().is_some())
                && now.tags.get(&keys.autoscaling) != Some(&c.to_tag())
            {
                set.push((keys.autoscaling.clone(), c.to_tag()));
            }
            // Values without a state tag read as parked (the first protocol): mark them only
            // when writing, or when the tag says otherwise.
            if !memory.marked && (!set.is_empty() || !memory.parked) {
                set.push((keys.state.clone(), PARKED.to_string()));
            }
            if set.is_empty() { Step::AlreadyDone("already remembered".into()) } else { Step::Tag(set) }
        }
        Op::MarkRunning => {
            if now.desired_count == 0 {
                return Step::Refuse("desiredCount is 0 again (parked meanwhile); leaving it marked parked".into());
            }
            if now.tags.get(&keys.state).map(|s| s.trim()) == Some(RUNNING) {
                return Step::AlreadyDone("already marked running".into());
            }
            Step::Tag(vec![(keys.state.clone(), RUNNING.to_string())])
        }
        Op::Scale { to, .. } => {
            if now.desired_count == *to {
                return Step::AlreadyDone(format!("desiredCount already {to}"));
            }
            if *to == 0 {
                if !memory.parked || memory.count().is_none() {
                    return Step::Refuse(format!(
                        "no count remembered in {} (tag removed meanwhile?); not scaling {} to 0",
                        keys.count, now.desired_count
                    ));
                }
            } else if now.desired_count != 0 {
                return Step::AlreadyDone(format!("already up at {}", now.desired_count));
            }
            Step::Scale(*to)
        }
        Op::ParkAutoscaling { .. } => match now.autoscaling {
            None => Step::Refuse("no scalable target".into()),
            Some(c) if c.is_parked() => Step::AlreadyDone("autoscaling already parked at 0/0".into()),
            Some(c) if !memory.parked || memory.autoscaling().is_none() => Step::Refuse(format!(
                "no range remembered in {} (tag removed meanwhile?); not parking {c}",
                keys.autoscaling
            )),
            Some(_) => Step::Autoscaling(Capacity { min: 0, max: 0 }),
        },
        Op::RestoreAutoscaling { to } => match now.autoscaling {
            None => Step::Refuse("no scalable target".into()),
            Some(c) if c == *to => Step::AlreadyDone(format!("autoscaling already {to}")),
            Some(c) if !c.is_parked() => Step::AlreadyDone(format!("autoscaling is {c}, not parked; leaving it")),
            Some(_) => Step::Autoscaling(*to),
        },
        Op::Start | Op::Stop => Step::Refuse("an ECS service cannot be started or stopped as a cluster".into()),
    }
}

/// The memory values envsched has seen on each parked service, by target key: what it puts
/// back when a deploy tool or a person removes the tags ([`Op::Remember`] with
/// [`crate::Cause::Heal`]). Kept in the process, across cycles; a restart starts empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recall {
    seen: BTreeMap<String, Recalled>,
}

/// What [`Recall`] holds for one service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recalled {
    /// The last valid count seen.
    pub count: Option<u32>,
    /// The last valid range seen.
    pub autoscaling: Option<Capacity>,
}

impl Recall {
    /// Remembers the valid values on `service` (target `key`). Values only ever get replaced
    /// by newer valid values, never forgotten because a tag is missing.
    pub fn learn(&mut self, key: &str, service: &ObservedService, keys: &MemoryKeys) {
        let m = Memory::read(&service.tags, keys);
        if m.count().is_none() && m.autoscaling().is_none() {
            return;
        }
        let e = self.seen.entry(key.to_string()).or_default();
        e.count = m.count().or(e.count);
        e.autoscaling = m.autoscaling().or(e.autoscaling);
    }

    /// What was seen on target `key`.
    pub fn get(&self, key: &str) -> Recalled {
        self.seen.get(key).copied().unwrap_or_default()
    }

    /// How many services it holds values for.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn values_without_a_state_tag_read_as_parked_as_the_first_protocol_left_them() {
        let k = MemoryKeys::default();
        let m = Memory::read(&tags(&[("envsched:count", "3")]), &k);
        assert!(m.parked && !m.marked);
        assert_eq!(m.count(), Some(3));
        let m = Memory::read(&tags(&[("envsched:count", "3"), ("envsched:state", "running")]), &k);
        assert!(!m.parked);
    }

    #[test]
    fn a_scale_down_is_refused_when_the_count_tag_vanished_since_the_plan() {
        let k = MemoryKeys::default();
        let t = tags(&[("envsched:state", "parked")]);
        let now = ServiceNow { desired_count: 3, autoscaling: None, tags: &t };
        assert!(matches!(step(&Op::Scale { from: 3, to: 0 }, &k, &now), Step::Refuse(_)));
        let t = tags(&[("envsched:state", "parked"), ("envsched:count", "3")]);
        let now = ServiceNow { desired_count: 3, autoscaling: None, tags: &t };
        assert_eq!(step(&Op::Scale { from: 3, to: 0 }, &k, &now), Step::Scale(0));
    }

    #[test]
    fn remember_keeps_a_parked_services_values_and_refreshes_a_running_ones() {
        let k = MemoryKeys::default();
        let op = Op::Remember { count: Some(1), autoscaling: None, seen_count: 1, seen_autoscaling: None };
        let parked = tags(&[("envsched:state", "parked"), ("envsched:count", "3")]);
        let now = ServiceNow { desired_count: 1, autoscaling: None, tags: &parked };
        assert!(matches!(step(&op, &k, &now), Step::AlreadyDone(_)));
        let running = tags(&[("envsched:state", "running"), ("envsched:count", "3")]);
        let now = ServiceNow { desired_count: 1, autoscaling: None, tags: &running };
        assert_eq!(
            step(&op, &k, &now),
            Step::Tag(vec![("envsched:count".into(), "1".into()), ("envsched:state".into(), "parked".into())])
        );
    }
}
