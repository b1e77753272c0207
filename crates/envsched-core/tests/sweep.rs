//! Observation that scales with change: what a cycle reads, on an in-memory fleet that counts
//! `DescribeServices` calls as ECS bills them (⌈services ÷ 10⌉ per cluster asked).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use common::{World, at, booking};
use envsched_core::{
    Action, Config, CycleState, Discovery, FixedClock, FixedSource, Fleet, FleetError, Locator, Mode, Observed,
    ObservedService, Op, Outcome, Sweep, reconcile,
};
use jiff::{SignedDuration, Timestamp};

/// ECS services in memory; every read is logged.
#[derive(Default)]
struct Counted {
    world: Mutex<BTreeMap<Locator, ObservedService>>,
    reads: Mutex<Vec<Vec<Locator>>>,
}

impl Counted {
    fn new(config: &Config) -> Self {
        let f = Counted::default();
        for t in config.targets.all() {
            if let Locator::Ecs { place, cluster, service } = &t.locator {
                let s = ObservedService {
                    place: place.clone(),
                    cluster: cluster.clone(),
                    service: service.clone(),
                    desired_count: 0,
                    running_count: 0,
                    pending_count: 0,
                    tags: BTreeMap::new(),
                    autoscaling: None,
                };
                f.world.lock().unwrap().insert(t.locator.clone(), s);
            }
        }
        f
    }

    /// Someone else's scale (a deploy, the console).
    fn scale_behind_our_back(&self, l: &Locator, count: u32) {
        let mut w = self.world.lock().unwrap();
        let s = w.get_mut(l).unwrap();
        s.desired_count = count;
        s.running_count = count;
    }

    /// `DescribeServices` calls made so far: per read, ⌈services ÷ 10⌉ per cluster.
    fn describe_calls(&self) -> usize {
        self.reads
            .lock()
            .unwrap()
            .iter()
            .map(|read| {
                let mut per: HashMap<&str, usize> = HashMap::new();
                for l in read {
                    if let Locator::Ecs { cluster, .. } = l {
                        *per.entry(cluster).or_default() += 1;
                    }
                }
                per.values().map(|n| n.div_ceil(10)).sum::<usize>()
            })
            .sum()
    }
}

impl Fleet for Counted {
    async fn observe(&self, resources: &[&Locator], discovery: &Discovery) -> Result<Observed, FleetError> {
        let w = self.world.lock().unwrap();
        if !discovery.is_empty() {
            // A listing: everything, as if every service carried the name tag.
            self.reads.lock().unwrap().push(w.keys().cloned().collect());
            return Ok(Observed { ecs_services: w.values().cloned().collect(), ..Default::default() });
        }
        self.reads.lock().unwrap().push(resources.iter().map(|l| (*l).clone()).collect());
        Ok(Observed {
            ecs_services: resources.iter().filter_map(|l| w.get(*l).cloned()).collect(),
            ..Default::default()
        })
    }

    async fn apply(&self, action: &Action) -> Outcome {
        if let Op::Scale { to, .. } = action.op {
            self.scale_behind_our_back(&action.locator, to);
        }
        Outcome::Done("ok".into())
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    // The fleet above never waits: one poll completes every future here.
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the test fleet never waits"),
    }
}

/// `clusters` × `per` services (`svc-NNN` in `c-NN`), one environment, default schedule
/// (30 s poll, 10 min sweep) unless `schedule` says otherwise.
fn fleet_config(clusters: usize, per: usize) -> Config {
    let mut w = World::tokyo().lead("0s").env("stg1");
    for c in 0..clusters {
        for s in 0..per {
            w = w.ecs_in(&format!("products/c{c:02}-svc-{s:03}"), &format!("c-{c:02}"), &format!("svc-{s:03}"));
        }
    }
    w.config()
}

fn service(config: &Config, name: &str) -> Locator {
    let i = config.targets.find(Some("stg1"), name).unwrap();
    config.targets.get(i).locator.clone()
}

#[test]
fn ten_thousand_services_cost_under_two_describe_calls_a_second_and_each_is_read_within_one_sweep() {
    let config = fleet_config(40, 250);
    assert_eq!(config.targets.len(), 10_000);
    let fleet = Counted::new(&config);
    let mut sweep = Sweep::default();
    let t0 = at("2026-11-24T10:00:00+09:00");
    let poll = config.schedule.poll_interval;
    let (_, first) = block_on(sweep.observe(&fleet, &config, t0)).unwrap();
    assert!(first.full, "nothing read yet: the first cycle reads everything");
    let full = fleet.describe_calls();
    assert_eq!(full, 1_000);

    let drifted = service(&config, "products/c17-svc-123");
    let mut last_read: HashMap<Locator, Timestamp> = HashMap::new();
    let mut seen_drift = None;
    let cycles = 60; // 30 minutes: three sweeps
    for k in 1..=cycles {
        let t = t0 + poll * k;
        if k == 3 {
            fleet.scale_behind_our_back(&drifted, 3);
        }
        let before = fleet.reads.lock().unwrap().len();
        let (observed, swept) = block_on(sweep.observe(&fleet, &config, t)).unwrap();
        assert!(!swept.full);
        assert_eq!(observed.ecs_services.len(), 10_000, "the rest comes from the last read");
        for read in &fleet.reads.lock().unwrap()[before..] {
            for l in read {
                last_read.insert(l.clone(), t);
            }
        }
        let now = observed.ecs_services.iter().find(|s| s.cluster == "c-17" && s.service == "svc-123").unwrap();
        if now.desired_count == 3 && seen_drift.is_none() {
            seen_drift = Some(k);
        }
        if k * poll >= config.schedule.sweep {
            let stalest = config.targets.all().iter().map(|t| last_read.get(&t.locator).copied().unwrap_or(t0)).min();
            assert!(
                t.duration_since(stalest.unwrap()) <= config.schedule.sweep,
                "cycle {k}: a target unread for a sweep"
            );
        }
    }
    let calls = fleet.describe_calls() - full;
    let rate = calls as f64 / (poll * cycles).as_secs_f64();
    assert!(rate <= 2.0, "{calls} DescribeServices in {cycles} cycles: {rate:.2}/s");
    assert!(rate > 0.0);
    let found = seen_drift.expect("the drift was never read");
    assert!((found - 3) * poll <= config.schedule.sweep, "drift found {} cycles after it happened", found - 3);
}

#[test]
fn a_fleet_whose_full_read_is_cheap_is_read_whole_every_cycle() {
    // The seed's 240 services in 4 clusters: 24 DescribeServices per cycle, 0.8/s at 30 s.
    let config = fleet_config(4, 60);
    let fleet = Counted::new(&config);
    let mut sweep = Sweep::default();
    let t0 = at("2026-11-24T10:00:00+09:00");
    for k in 0..5 {
        let (_, swept) = block_on(sweep.observe(&fleet, &config, t0 + config.schedule.poll_interval * k)).unwrap();
        assert!(swept.full);
        assert_eq!(fleet.describe_calls(), 24 * (k as usize + 1));
    }
}

#[test]
fn a_booking_that_ends_is_planned_on_a_fresh_read_at_the_next_poll() {
    // 2,400 services: read in slices. app c05-svc-007 is booked, then someone scales it to 5
    // by hand; when the booking ends, envsched has not swept it again yet, but the stop is
    // planned on a fresh read: the count it leaves from (and remembers) is 5, not its last read.
    let config = fleet_config(40, 60);
    let fleet = Counted::new(&config);
    let target = service(&config, "products/c05-svc-007");
    let t0 = at("2026-11-24T10:00:00+09:00");
    let end = t0 + SignedDuration::from_mins(5);
    let b = booking("check").components(["products/c05-svc-007"]).span_at(t0, Some(end)).build();
    let mut state = CycleState::default();
    let poll = config.schedule.poll_interval;
    let mut stop = None;
    for k in 0..=12 {
        let t = t0 + poll * k;
        if k == 4 {
            fleet.scale_behind_our_back(&target, 5);
        }
        let source = FixedSource(vec![b.clone()]);
        let r = block_on(reconcile(&config, &source, &fleet, &FixedClock(t), &mut state, Mode::Apply)).unwrap();
        assert_eq!(r.swept.full, k == 0);
        if k == 0 {
            assert_eq!(r.applied.len(), 1, "the booking starts the service");
        }
        if let Some(a) = r.applied.iter().find(|a| a.action.op.from_to().1 == "0") {
            stop = Some((k, a.action.op.from_to()));
            break;
        }
    }
    let (k, from_to) = stop.expect("the service was never stopped");
    assert_eq!(poll * k, end.duration_since(t0), "stopped at the first poll after the end");
    assert_eq!(from_to, ("5".to_string(), "0".to_string()));
}

#[test]
fn discovered_services_count_towards_the_cost_of_a_full_read() {
    // One declared service, 2,400 found by listing: the listing reads them all once per
    // sweep, and the cycles between read slices.
    let world = fleet_config(40, 60);
    let fleet = Counted::new(&world);
    let config = World::tokyo()
        .env_with("stg1", "discover = { ecs_clusters = [\"c-00\"] }")
        .ecs_in("products/c00-svc-000", "c-00", "svc-000")
        .config();
    let mut sweep = Sweep::default();
    let t0 = at("2026-11-24T10:00:00+09:00");
    let (observed, first) = block_on(sweep.observe(&fleet, &config, t0)).unwrap();
    assert!(first.full);
    assert_eq!(observed.ecs_services.len(), 2_400);
    let (observed, next) = block_on(sweep.observe(&fleet, &config, t0 + config.schedule.poll_interval)).unwrap();
    assert!(!next.full, "2,400 known services cost 240 calls: more than a cycle's 60");
    assert_eq!(observed.ecs_services.len(), 2_400);
    assert!(fleet.describe_calls() - 240 <= 60, "{} calls", fleet.describe_calls() - 240);
}
