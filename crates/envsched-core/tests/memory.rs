//! The remembered-size protocol (`envsched_core::memory`): the planner's cases, and a
//! property over every interleaving of copies that disagree.

mod common;

use common::*;
use envsched_core::memory::{MemoryKeys, Recall, ServiceNow, Step, step};
use envsched_core::{Capacity, Cause, ObservedService, Op, Plan, Policy, desired, plan};
use proptest::prelude::*;

const TUE_NOON: &str = "2026-11-24T12:00:00+09:00[Asia/Tokyo]";
const KEY: &str = "stg1:services/creditcard";

fn cc_booking() -> envsched_core::Booking {
    booking("cc").components(["services/creditcard"]).build()
}

fn plan_with_recall(bookings: &[envsched_core::Booking], f: &Snapshot, recall: &Recall) -> Plan {
    let config = config();
    let d = desired(bookings, &config, at(TUE_NOON));
    plan(&d, &f.0, &Policy::new(&config, None).with_recall(recall))
}

// ---- The planner's side ----

#[test]
fn a_restored_service_keeps_its_values_and_the_next_park_refreshes_them_from_its_figures() {
    // Restored at 3 earlier, then scaled to 5 by hand while booked.
    let f = fleet().service("stg1", "creditcard", 5, 5).tag("stg1", "creditcard", "envsched:count", "3").tag(
        "stg1",
        "creditcard",
        "envsched:state",
        "running",
    );
    let p = plan_at(&config(), &[], &f.0, TUE_NOON);
    assert_eq!(ops(&p), [format!("{KEY} remember →count=5,parked"), format!("{KEY} scale 5→0")]);
    assert!(!p.actions().any(|(_, a)| a.is_drift()), "a service envsched restored is not drift");
}

#[test]
fn values_left_by_the_first_protocol_read_as_parked() {
    // The first protocol removed the values on restore: values present = parked.
    let f = fleet().service("stg1", "creditcard", 0, 0).tag("stg1", "creditcard", "envsched:count", "3");
    assert!(plan_at(&config(), &[], &f.0, TUE_NOON).is_empty(), "parked already; nothing to write");
    let up = plan_at(&config(), &[cc_booking()], &f.0, TUE_NOON);
    assert_eq!(ops(&up), [format!("{KEY} scale 0→3"), format!("{KEY} mark-running parked→running")]);
    // A deploy scaled it up: drift, and the remembered 3 is kept.
    let drifted = f.service("stg1", "creditcard", 1, 1).tag("stg1", "creditcard", "envsched:count", "3");
    let p = plan_at(&config(), &[], &drifted.0, TUE_NOON);
    assert_eq!(ops(&p), [format!("{KEY} scale 1→0")]);
    assert!(p.actions().all(|(_, a)| a.is_drift()));
}

#[test]
fn a_parked_service_whose_tags_were_removed_is_healed_from_what_envsched_saw() {
    let parked = fleet()
        .service("stg1", "creditcard", 0, 0)
        .autoscaling("stg1", "creditcard", 0, 0)
        .tag("stg1", "creditcard", "envsched:count", "3")
        .tag("stg1", "creditcard", "envsched:autoscaling", "2/4")
        .tag("stg1", "creditcard", "envsched:state", "parked");
    let mut recall = Recall::default();
    recall.learn(
        KEY,
        parked.0.ecs_services.iter().find(|s| s.service == "creditcard").unwrap(),
        &MemoryKeys::default(),
    );
    // ecspresso deploy removed every key its definition lacks.
    let wiped = fleet().service("stg1", "creditcard", 0, 0).autoscaling("stg1", "creditcard", 0, 0);
    let p = plan_with_recall(&[], &wiped, &recall);
    assert_eq!(ops(&p), [format!("{KEY} remember →count=3,autoscaling=2/4,parked")]);
    let (_, a) = p.actions().next().unwrap();
    assert_eq!(a.cause, Cause::Heal);
    assert!(a.reason.contains("ecspresso deploy and Terraform"), "{}", a.reason);
    // Booked before the heal landed: restored from what envsched saw.
    let up = plan_with_recall(&[cc_booking()], &wiped, &recall);
    assert_eq!(ops(&up), [format!("{KEY} restore-autoscaling min=0,max=0→min=2,max=4"), format!("{KEY} scale 0→3")]);
    assert!(up.actions().all(|(_, a)| a.cause == Cause::Heal));
    // Without the memory of a previous cycle (a restart), nothing is invented.
    let fresh = plan_with_recall(&[], &wiped, &Recall::default());
    assert!(fresh.is_empty(), "{:?}", ops(&fresh));
}

#[test]
fn a_parked_range_with_nothing_remembered_is_a_problem_not_a_silent_zero() {
    let f = fleet().service("stg1", "creditcard", 0, 0).autoscaling("stg1", "creditcard", 0, 0);
    let p = plan_at(&config(), &[cc_booking()], &f.0, TUE_NOON);
    assert!(
        p.problems
            .iter()
            .any(|pr| pr.message.contains("autoscaling is parked at min=0,max=0 and no range is remembered")),
        "{:?}",
        p.problems
    );
}

#[test]
fn a_parked_service_marked_running_by_a_late_write_is_marked_parked_again() {
    let f = fleet().service("stg1", "creditcard", 0, 0).tag("stg1", "creditcard", "envsched:count", "3").tag(
        "stg1",
        "creditcard",
        "envsched:state",
        "running",
    );
    let p = plan_at(&config(), &[], &f.0, TUE_NOON);
    assert_eq!(ops(&p), [format!("{KEY} remember →parked")]);
    let up = plan_at(&config(), &[cc_booking()], &f.0, TUE_NOON);
    assert_eq!(ops(&up), [format!("{KEY} scale 0→3")], "the value is used although the state tag is wrong");
}

// ---- Re-checks at the moment of acting ----

#[test]
fn remembering_is_refused_when_the_service_changed_since_it_was_observed() {
    let k = MemoryKeys::default();
    let tags = Default::default();
    let op = Op::Remember { count: Some(3), autoscaling: None, seen_count: 3, seen_autoscaling: None };
    let now = ServiceNow { desired_count: 4, autoscaling: None, tags: &tags };
    assert!(matches!(step(&op, &k, &now), Step::Refuse(_)));
}

#[test]
fn marking_running_is_refused_once_another_copy_parked_the_service_again() {
    let k = MemoryKeys::default();
    let tags = [("envsched:count".to_string(), "3".to_string()), ("envsched:state".into(), "parked".into())].into();
    let now = ServiceNow { desired_count: 0, autoscaling: None, tags: &tags };
    assert!(matches!(step(&Op::MarkRunning, &k, &now), Step::Refuse(_)));
}

// ---- Every interleaving of disagreeing copies ----

/// Where a copy is in its cycle.
#[derive(Debug, Clone)]
enum Stage {
    /// Next: observe.
    Observe,
    /// Next: re-read for action `i` of `plan`.
    Read(usize),
    /// Next: write what the re-read decided for action `i`.
    Write(usize, Step),
    /// Cycles done.
    Done,
}

struct Copy {
    /// Desired up (true) or down, per cycle.
    cycles: Vec<bool>,
    cycle: usize,
    stage: Stage,
    plan: Vec<envsched_core::Action>,
    recall: Recall,
}

fn creditcard(o: &envsched_core::Observed) -> &ObservedService {
    o.ecs_services.iter().find(|s| s.service == "creditcard").expect("creditcard is in the fleet")
}

/// One micro-step of `copy` against the world: observe+plan, a re-read, or a write. Checks,
/// at every write, that a scale-down or a park has the real value remembered right then.
fn advance(copy: &mut Copy, world: &mut Snapshot, count: u32, range: Option<Capacity>) {
    let keys = MemoryKeys::default();
    let stage = std::mem::replace(&mut copy.stage, Stage::Done);
    copy.stage = match stage {
        Stage::Done => Stage::Done,
        Stage::Observe => {
            let bookings = if copy.cycles[copy.cycle] { vec![cc_booking()] } else { vec![] };
            let p = plan_with_recall(&bookings, world, &copy.recall);
            copy.recall.learn(KEY, creditcard(&world.0), &keys);
            copy.plan = p.actions().filter(|(_, a)| a.target == KEY).map(|(_, a)| a.clone()).collect();
            Stage::Read(0)
        }
        Stage::Read(i) if i >= copy.plan.len() => {
            copy.cycle += 1;
            if copy.cycle < copy.cycles.len() { Stage::Observe } else { Stage::Done }
        }
        Stage::Read(i) => {
            let s = ServiceNow::from(creditcard(&world.0));
            match step(&copy.plan[i].op, &copy.plan[i].memory, &s) {
                // A refusal ends this target's chain for the cycle.
                Step::Refuse(_) => Stage::Read(copy.plan.len()),
                Step::AlreadyDone(_) => Stage::Read(i + 1),
                write => Stage::Write(i, write),
            }
        }
        Stage::Write(i, write) => {
            let s = world.0.ecs_services.iter_mut().find(|s| s.service == "creditcard").expect("exists");
            let m = envsched_core::Memory::read(&s.tags, &keys);
            match write {
                Step::Scale(0) => {
                    assert_eq!(m.count(), Some(count), "scaled to 0 with {:?} remembered (real {count})", s.tags)
                }
                Step::Autoscaling(c) if c.is_parked() => {
                    assert_eq!(m.autoscaling(), range, "parked with {:?} remembered (real {range:?})", s.tags)
                }
                _ => {}
            }
            match write {
                Step::Scale(to) => {
                    s.desired_count = to;
                    s.running_count = to;
                }
                Step::Autoscaling(c) => s.autoscaling = Some(c),
                Step::Tag(set) => s.tags.extend(set),
                Step::AlreadyDone(_) | Step::Refuse(_) => unreachable!("only writes are staged"),
            }
            Stage::Read(i + 1)
        }
    }
}

/// The service's starting point: running at its real size (maybe with stale values from an
/// earlier park), or parked by envsched (either protocol).
fn arb_start() -> impl Strategy<Value = (u32, Option<Capacity>, Snapshot)> {
    let range = prop::option::of((0u32..3, 1u32..4).prop_map(|(min, extra)| Capacity { min, max: min + extra }));
    (1u32..6, range, 0u8..4, 1u32..9).prop_map(|(count, range, shape, stale)| {
        let mut f = fleet();
        match shape {
            // Running, never parked.
            0 => f = f.service("stg1", "creditcard", count, count),
            // Running, stale values from an earlier park.
            1 => {
                f = f
                    .service("stg1", "creditcard", count, count)
                    .tag("stg1", "creditcard", "envsched:count", &stale.to_string())
                    .tag("stg1", "creditcard", "envsched:state", "running");
                if range.is_some() {
                    f = f.tag("stg1", "creditcard", "envsched:autoscaling", "9/9");
                }
            }
            // Parked (this protocol, or the first one without a state tag).
            _ => {
                f = f.service("stg1", "creditcard", 0, 0).tag(
                    "stg1",
                    "creditcard",
                    "envsched:count",
                    &count.to_string(),
                );
                if shape == 2 {
                    f = f.tag("stg1", "creditcard", "envsched:state", "parked");
                }
                if let Some(r) = range {
                    f = f.tag("stg1", "creditcard", "envsched:autoscaling", &r.to_tag());
                }
            }
        }
        if let Some(r) = range {
            let parked = shape >= 2;
            f = if parked {
                f.autoscaling("stg1", "creditcard", 0, 0)
            } else {
                f.autoscaling("stg1", "creditcard", r.min, r.max)
            };
        }
        (count, range, f)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Two or three copies, each running one to three cycles that want the service up or down,
    /// their observations, re-reads and writes interleaved in any order; then one fresh
    /// all-up `apply` until nothing is left to do. The service ends at its real count and
    /// range, and no scale-down or park ever happened without the real value remembered.
    #[test]
    fn copies_that_disagree_never_lose_the_real_count_or_range(
        (count, range, start) in arb_start(),
        copies in prop::collection::vec(prop::collection::vec(any::<bool>(), 1..4), 2..4),
        schedule in prop::collection::vec(0usize..3, 0..120),
    ) {
        let mut world = start;
        let mut copies: Vec<Copy> = copies
            .into_iter()
            .map(|cycles| Copy { cycles, cycle: 0, stage: Stage::Observe, plan: Vec::new(), recall: Recall::default() })
            .collect();
        let n = copies.len();
        for pick in schedule {
            advance(&mut copies[pick % n], &mut world, count, range);
        }
        // Whatever is left of each copy's cycles runs out, in turn.
        for c in copies.iter_mut() {
            for _ in 0..64 {
                advance(c, &mut world, count, range);
            }
        }
        let mut last = Copy { cycles: vec![true; 4], cycle: 0, stage: Stage::Observe, plan: Vec::new(), recall: Recall::default() };
        for _ in 0..64 {
            advance(&mut last, &mut world, count, range);
        }
        let s = creditcard(&world.0);
        prop_assert_eq!(s.desired_count, count, "count lost: {:?}", s);
        prop_assert_eq!(s.autoscaling, range, "range lost: {:?}", s);
        let again = plan_with_recall(&[cc_booking()], &world, &Recall::default());
        prop_assert!(again.actions().all(|(_, a)| a.target != KEY), "not settled: {:?}", ops(&again));
    }
}
