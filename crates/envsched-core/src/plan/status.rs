//! What a plan says: per target ([`TargetPlan`], [`TargetStatus`]) and as a whole ([`Plan`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::Freeze;
use crate::action::{Action, Phase};
use crate::booking::BookingRef;
use crate::desired::{DesiredState, Reason};
use crate::observed::Found;
use crate::problem::Problem;
use crate::target::{Locator, TargetKey, TargetKind};

/// What the plan does with a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetStatus {
    /// Already as desired.
    Unchanged,
    /// Has actions in this plan.
    Changing,
    /// Waiting on something outside envsched's control (a DB starting, a cluster stopping).
    Waiting(Waiting),
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
            TargetStatus::Waiting(w) => Some(w.as_str()),
            TargetStatus::Deferred(s) | TargetStatus::Held(s) | TargetStatus::Protected(s) => Some(s),
            _ => None,
        }
    }
}

/// What a target waits for before it can move: the words people read, and the targets it
/// waits on. Two waits are the same when they read the same.
#[derive(Debug, Clone)]
pub struct Waiting {
    text: String,
    on: Vec<TargetKey>,
}

impl Waiting {
    /// A wait on other targets (`waiting for stg1:db/stg-aurora (starting)`), one clause each.
    pub fn on_targets(waits: Vec<(TargetKey, String)>) -> Self {
        let text = waits.iter().map(|(_, w)| w.as_str()).collect::<Vec<_>>().join("; ");
        Waiting { text, on: waits.into_iter().map(|(k, _)| k).collect() }
    }

    /// The targets waited on, first the first named; none when the wait is the target's own
    /// (a cluster stopping).
    pub fn on(&self) -> &[TargetKey] {
        &self.on
    }

    /// The words.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<String> for Waiting {
    /// A wait on the target's own state, naming no other target.
    fn from(text: String) -> Self {
        Waiting { text, on: Vec::new() }
    }
}

impl From<&str> for Waiting {
    fn from(text: &str) -> Self {
        Waiting::from(text.to_string())
    }
}

impl std::ops::Deref for Waiting {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Waiting {}

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
    pub(super) fn of(found: Option<Found<'_>>) -> Self {
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
    pub key: TargetKey,
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
    pub reason: Reason,
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
