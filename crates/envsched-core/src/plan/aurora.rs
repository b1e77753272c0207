//! An Aurora cluster's chain: it starts only from `stopped` and stops only from
//! `available`; every other state waits, and a cluster AWS reports as unstoppable is a
//! problem, never an action.

use super::{Cause, Chain, Direction, Op, TargetStatus};
use crate::desired::{DesiredState, TargetDesire};
use crate::observed::{AuroraStatus, ObservedCluster};
use crate::problem::Problem;

/// The chain for target `p`, a cluster, or its status when it has none.
pub(super) fn chain(
    p: usize,
    td: &TargetDesire,
    c: &ObservedCluster,
    status: &mut TargetStatus,
    problems: &mut Vec<Problem>,
) -> Option<Chain> {
    let act =
        |direction, op| Some(Chain { index: p, direction, ops: vec![op], reason: td.reason(), cause: Cause::Desired });
    let wait = |status: &mut TargetStatus, why: String| {
        *status = TargetStatus::Waiting(why.into());
        None
    };
    match (td.state, &c.status) {
        (DesiredState::Up, AuroraStatus::Stopped) => act(Direction::Up, Op::Start),
        (DesiredState::Up, AuroraStatus::Available)
        | (DesiredState::Down, AuroraStatus::Stopped | AuroraStatus::Stopping) => None,
        (DesiredState::Down, AuroraStatus::Available) => match &c.unstoppable {
            Some(why) => {
                *status = TargetStatus::Held(format!("cannot be stopped: {why}"));
                problems.push(Problem::target(
                    &td.key,
                    format!("Aurora cluster {} cannot be stopped: {why}", c.id),
                    "remove it from envsched's targets or pin it up; it keeps running (and costing) meanwhile",
                ));
                None
            }
            None => act(Direction::Down, Op::Stop),
        },
        (DesiredState::Up, AuroraStatus::Stopping) => {
            wait(status, "cluster is stopping; it is started once stopped".into())
        }
        (DesiredState::Down, AuroraStatus::Starting) => wait(
            status,
            "cluster is starting (Aurora restarts itself after 7 days stopped); it is stopped once available".into(),
        ),
        (_, s) => wait(status, format!("cluster is {s}; waiting for available or stopped")),
    }
}
