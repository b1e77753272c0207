//! A phase's actions run on a bounded pool per place: a phase of hundreds of stops keeps at
//! most `IN_FLIGHT_PER_PLACE` calls waiting per account and Region, still runs them
//! concurrently, reports every outcome in plan order, and places do not share a bound.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use envsched_core::{
    Action, CycleState, Discovery, FixedClock, FixedSource, Fleet, FleetError, IN_FLIGHT_PER_PLACE, Locator, Mode,
    Observed, ObservedService, Outcome, Place, reconcile,
};
use envsched_fixtures::{World, at};

/// Every service running one task; each call waits once (as an HTTP call would) and counts
/// how many calls are in flight, per place.
#[derive(Default)]
struct Slow {
    in_flight: Mutex<BTreeMap<Place, usize>>,
    most: Mutex<BTreeMap<Place, usize>>,
    calls: AtomicUsize,
}

/// Pending once (waking itself), then ready: one turn of the executor.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

impl Fleet for Slow {
    async fn observe(&self, resources: &[&Locator], _: &Discovery) -> Result<Observed, FleetError> {
        let ecs_services = resources
            .iter()
            .filter_map(|l| match l {
                Locator::Ecs { place, cluster, service } => Some(ObservedService {
                    place: place.clone(),
                    cluster: cluster.clone(),
                    service: service.clone(),
                    desired_count: 1,
                    running_count: 1,
                    pending_count: 0,
                    tags: BTreeMap::new(),
                    autoscaling: None,
                }),
                Locator::Aurora { .. } => None,
            })
            .collect();
        Ok(Observed { ecs_services, ..Default::default() })
    }

    async fn apply(&self, action: &Action) -> Outcome {
        let place = action.locator.place().clone();
        {
            let mut f = self.in_flight.lock().unwrap();
            let n = f.entry(place.clone()).or_default();
            *n += 1;
            let mut most = self.most.lock().unwrap();
            let m = most.entry(place.clone()).or_default();
            *m = (*m).max(*n);
        }
        YieldOnce(false).await;
        *self.in_flight.lock().unwrap().get_mut(&place).unwrap() -= 1;
        self.calls.fetch_add(1, Ordering::Relaxed);
        Outcome::Done("ok".into())
    }
}

/// Polls until ready (the fleet's calls wake themselves).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn a_phase_of_300_stops_keeps_at_most_the_bound_in_flight_per_place_and_reports_in_plan_order() {
    // 300 services in the default place and 100 in another Region.
    let mut w = World::tokyo().section("[safety]\nmax_stops_per_cycle = 1000").env("stg1");
    for s in 0..300 {
        w = w.ecs(&format!("products/svc-{s:03}"), &format!("svc-{s:03}"));
    }
    w = w.env_with("stg2", "aws = { region = \"us-east-1\" }");
    for s in 0..100 {
        w = w.ecs(&format!("products/far-{s:03}"), &format!("far-{s:03}"));
    }
    let config = w.config();
    let fleet = Slow::default();
    let t = at("2026-11-24T20:00:00+09:00");
    let r = block_on(reconcile(
        &config,
        &FixedSource(vec![]),
        &fleet,
        &FixedClock(t),
        &mut CycleState::default(),
        Mode::Apply,
    ))
    .unwrap();

    let planned: Vec<&Action> = r.plan.phases.iter().flat_map(|p| &p.actions).collect();
    assert!(planned.len() >= 400, "every service is stopped: {} actions", planned.len());
    assert_eq!(fleet.calls.load(Ordering::Relaxed), planned.len(), "every action was carried out");
    let most = fleet.most.lock().unwrap();
    assert_eq!(most.len(), 2, "both places acted on: {most:?}");
    for (place, n) in most.iter() {
        assert!(*n <= IN_FLIGHT_PER_PLACE, "{place:?}: {n} calls in flight at once, over {IN_FLIGHT_PER_PLACE}");
        assert!(*n > 1, "{place:?}: calls ran one at a time");
    }
    // Outcomes come back in plan order, whatever order the calls finished in.
    let applied: Vec<(&str, &envsched_core::Op)> =
        r.applied.iter().map(|a| (a.action.target.as_str(), &a.action.op)).collect();
    let expected: Vec<(&str, &envsched_core::Op)> = planned.iter().map(|a| (a.target.as_str(), &a.op)).collect();
    assert_eq!(applied, expected);
    assert!(r.applied.iter().all(|a| matches!(a.outcome, Outcome::Done(_))));
}
