//! The vocabulary of plans: an [`Action`] is one [`Op`] on one target, moving it in a
//! [`Direction`] for a [`Cause`]; actions run in [`Phase`]s. The planner ([`crate::plan`])
//! makes them, the memory protocol ([`crate::memory`]) says how each op is re-checked, and a
//! [`crate::Fleet`] carries them out.

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::config::MemoryKeys;
use crate::observed::Capacity;
use crate::target::{Locator, TargetKey};

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

    pub(crate) fn stops(&self) -> bool {
        matches!(self, Op::Stop | Op::Scale { to: 0, .. } | Op::ParkAutoscaling { .. })
    }

    pub(crate) fn starts(&self) -> bool {
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
    pub target: TargetKey,
    /// Where it lives.
    pub locator: Locator,
    /// What to do.
    pub op: Op,
    /// Which way it moves the target.
    pub direction: Direction,
    /// Why: the bookings and the rule.
    pub reason: String,
    /// Keys of other targets whose actions in this plan must succeed first.
    pub after: Vec<TargetKey>,
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
