//! Properties of windows and plans that must hold for every input.

mod common;

use std::collections::BTreeMap;

use common::*;
use envsched_core::window::first_instant_at_or_after;
use envsched_core::{
    AuroraStatus, Booking, Calendar, Config, Direction, Interval, Observed, Op, Policy, Step, Window, desired, plan,
};
use jiff::civil::{Date, DateTime, Time, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const ZONES: &[&str] = &["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo", "America/Santiago"];
/// 2026's DST transition days per zone (Tokyo has none: the control). Santiago's happen at
/// midnight, so whole days there start at 01:00 on one of them.
const TRANSITIONS: &[(&str, (i8, i8))] = &[
    ("Europe/Berlin", (3, 29)),
    ("Europe/Berlin", (10, 25)),
    ("America/New_York", (3, 8)),
    ("America/New_York", (11, 1)),
    ("Australia/Lord_Howe", (4, 5)),
    ("Australia/Lord_Howe", (10, 4)),
    ("America/Santiago", (4, 5)),
    ("America/Santiago", (9, 6)),
    ("Asia/Tokyo", (3, 29)),
];

/// Operating hours as half-hour indices (48 = 24:00), biased towards the hours in which
/// clocks jump: 00:00–03:00.
fn arb_hours() -> impl Strategy<Value = Option<(i8, i8)>> {
    let edge = prop::sample::select(vec![0i8, 1, 2, 3, 4, 5, 6]);
    prop_oneof![
        Just(None),
        (edge.clone(), 1i8..8).prop_map(|(f, len)| Some((f, (f + len).min(48)))),
        (0i8..40).prop_flat_map(|f| ((f + 1)..=48).prop_map(move |t| Some((f, t)))),
    ]
}

/// Brute force: the first whole minute at which the wall clock reads `local` or later.
fn oracle_first_at_or_after(local: DateTime, zone: &TimeZone) -> Timestamp {
    // At +14:00 (the largest offset in use) an instant shows the earliest wall time it can.
    let mut t = local.to_zoned(TimeZone::fixed(jiff::tz::offset(14))).unwrap().timestamp();
    while t.to_zoned(zone.clone()).datetime() < local {
        t = t.checked_add(SignedDuration::from_mins(1)).unwrap();
    }
    t
}

fn calendar(zone: &str, hours: Option<(i8, i8)>) -> Calendar {
    let mut cal = Calendar::whole_days(TimeZone::get(zone).unwrap());
    if let Some((from, to)) = hours {
        cal.hours = Some(envsched_core::window::OperatingHours {
            days: (1..=7).map(envsched_core::window::WeekdayKey).collect(),
            from: Time::new(from / 2, (from % 2) * 30, 0, 0).unwrap(),
            to: (to < 48).then(|| Time::new(to / 2, (to % 2) * 30, 0, 0).unwrap()),
        });
    }
    cal
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// DST gaps and folds never lose or duplicate time: the intervals of a date-only booking
    /// are exactly the brute-force wall-clock intervals of its operating days, disjoint.
    #[test]
    fn date_only_windows_match_the_wall_clock_across_dst(
        (zone, pivot) in prop::sample::select(TRANSITIONS),
        offset in -2i32..=0,
        len in 0i32..4,
        hours in arb_hours(),
    ) {
        let cal = calendar(zone, hours);
        let first = date(2026, pivot.0, pivot.1).checked_add(jiff::Span::new().days(offset)).unwrap();
        let last = first.checked_add(jiff::Span::new().days(len)).unwrap();
        let w = Window::Days { first, last };
        let got = cal.intervals(&w, SignedDuration::ZERO, SignedDuration::ZERO, Timestamp::MIN, Timestamp::MAX);
        let z = TimeZone::get(zone).unwrap();
        let mut want: Vec<Interval> = Vec::new();
        let mut day: Date = first;
        while day <= last {
            let (from, to) = match hours {
                Some((f, t)) => (day.to_datetime(Time::new(f / 2, (f % 2) * 30, 0, 0).unwrap()),
                                 if t < 48 { day.to_datetime(Time::new(t / 2, (t % 2) * 30, 0, 0).unwrap()) } else { day.tomorrow().unwrap().to_datetime(Time::midnight()) }),
                None => (day.to_datetime(Time::midnight()), day.tomorrow().unwrap().to_datetime(Time::midnight())),
            };
            let i = Interval { start: oracle_first_at_or_after(from, &z), end: oracle_first_at_or_after(to, &z) };
            prop_assert_eq!(first_instant_at_or_after(from, &z), i.start);
            if i.end > i.start {
                match want.last_mut() {
                    Some(l) if l.end >= i.start => l.end = i.end,
                    _ => want.push(i),
                }
            }
            day = day.tomorrow().unwrap();
        }
        prop_assert_eq!(&got, &want);
        prop_assert!(got.windows(2).all(|p| p[0].end < p[1].start), "disjoint and sorted");
    }

    /// More lead or linger never makes a booking inactive where it was active.
    #[test]
    fn window_membership_is_monotone_in_lead_and_linger(
        zone in prop::sample::select(ZONES),
        hours in prop::option::of((0i8..40).prop_flat_map(|f| (Just(f), (f + 1)..=48))),
        kind in 0u8..3,
        start_min in 0i64..(14 * 24 * 60),
        len_min in 1i64..(3 * 24 * 60),
        probe_min in -(24 * 60i64)..(18 * 24 * 60),
        lead in 0i64..180, linger in 0i64..180, more_lead in 0i64..180, more_linger in 0i64..180,
    ) {
        let cal = calendar(zone, hours);
        let base: Timestamp = "2026-03-20T00:00:00Z".parse().unwrap();
        let min = |m: i64| base.checked_add(SignedDuration::from_mins(m)).unwrap();
        let w = match kind {
            0 => Window::Open,
            1 => { let d = cal.local_date(min(start_min)); Window::Days { first: d, last: cal.local_date(min(start_min + len_min)) } }
            _ => Window::Span { start: min(start_min), end: Some(min(start_min + len_min)) },
        };
        let d = |m: i64| SignedDuration::from_mins(m);
        let t = min(probe_min);
        if cal.is_active(&w, d(lead), d(linger), t) {
            prop_assert!(cal.is_active(&w, d(lead + more_lead), d(linger + more_linger), t));
        }
    }
}

/// Applies a plan's actions to a snapshot as if every call took effect at once.
fn apply_instantly(observed: &mut Observed, p: &envsched_core::Plan, config: &Config) {
    for (_, a) in p.actions() {
        let t = &config.targets.all()[config.targets.index_of_key(&a.target).unwrap()];
        match (&t.locator, &a.op) {
            (envsched_core::Locator::Aurora { cluster_id, .. }, op) => {
                let c = observed.aurora_clusters.iter_mut().find(|c| &c.id == cluster_id).unwrap();
                match op {
                    Op::Start => c.status = AuroraStatus::Available,
                    Op::Stop => c.status = AuroraStatus::Stopped,
                    other => panic!("{other:?} on a cluster"),
                }
            }
            (envsched_core::Locator::Ecs { cluster, service, .. }, op) => {
                let s =
                    observed.ecs_services.iter_mut().find(|s| &s.cluster == cluster && &s.service == service).unwrap();
                match envsched_core::memory::step(op, &a.memory, &envsched_core::ServiceNow::from(&*s)) {
                    Step::Scale(to) => {
                        s.desired_count = to;
                        s.running_count = to;
                    }
                    Step::Autoscaling(to) => s.autoscaling = Some(to),
                    Step::Tag(set) => s.tags.extend(set),
                    Step::AlreadyDone(_) => {}
                    Step::Refuse(why) => panic!("{} {} refused on a snapshot the plan saw: {why}", a.target, op.name()),
                }
            }
        }
    }
}

fn world() -> Config {
    config_with(
        r#"
[safety]
max_stops_per_cycle = 3
protected = ["prod-*"]
[[targets]]
name = "services/prod-mirror"
environment = "stg1"
ecs = { cluster = "stg1", service = "prod-mirror" }
[[targets]]
name = "services/points"
environment = "stg1"
ecs = { cluster = "stg1", service = "points" }
depends_on = ["products/app1-api"]
"#,
    )
}

fn arb_observed() -> impl Strategy<Value = Observed> {
    let svc = (0u32..4, any::<bool>(), prop::option::of((0u32..3, 0u32..5)), prop::option::of(0u32..5), any::<bool>());
    let statuses = prop::sample::select(vec!["available", "stopped", "starting", "stopping", "backing-up"]);
    (prop::collection::vec(svc, 7), statuses).prop_map(|(svcs, status)| {
        let names = [
            ("stg1", "app1-web"),
            ("stg1", "app1-api"),
            ("stg1", "creditcard"),
            ("stg1", "monitor"),
            ("stg2", "app1-web"),
            ("stg1", "prod-mirror"),
            ("stg1", "points"),
        ];
        let keys = envsched_core::config::TagKeys::default();
        let ecs_services = names
            .iter()
            .zip(svcs)
            .map(|((c, s), (desired, protected_tag, scaling, remembered, remembered_cap))| {
                let mut tags = BTreeMap::new();
                if protected_tag && *s == "creditcard" {
                    tags.insert(keys.protected.clone(), "true".into());
                }
                if let Some(r) = remembered {
                    tags.insert(keys.count.clone(), r.to_string());
                }
                let autoscaling = scaling.map(|(min, extra)| envsched_core::Capacity { min, max: min + extra });
                if remembered_cap && autoscaling.is_some() {
                    tags.insert(keys.autoscaling.clone(), "1/3".into());
                }
                envsched_core::ObservedService {
                    place: Default::default(),
                    cluster: c.to_string(),
                    service: s.to_string(),
                    desired_count: desired,
                    running_count: desired,
                    pending_count: 0,
                    tags,
                    autoscaling,
                }
            })
            .collect();
        Observed {
            ecs_services,
            aurora_clusters: vec![envsched_core::ObservedCluster {
                place: Default::default(),
                id: "stg1-aurora".into(),
                status: AuroraStatus::from(status.to_string()),
                tags: BTreeMap::new(),
                unstoppable: None,
            }],
        }
    })
}

fn arb_bookings() -> impl Strategy<Value = Vec<Booking>> {
    let comps = prop::sample::subsequence(
        vec!["products/app1", "services/", "db/stg-aurora", "services/points", "nothing/here"],
        0..3,
    );
    prop::collection::vec((comps, any::<bool>(), prop::sample::select(vec![Some("stg1"), Some("stg2"), None])), 0..4)
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (c, night, env))| {
                    let mut b = booking(&format!("b{i}")).env(env);
                    b.0.components = c.iter().map(|s| s.to_string()).collect();
                    if night {
                        b = b.span("2026-11-24T19:00:00+09:00", Some("2026-11-25T07:00:00+09:00"));
                    }
                    b.build()
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A protected target (by name pattern or by tag) never appears in any plan.
    #[test]
    fn a_protected_target_never_appears_in_any_plan(observed in arb_observed(), bookings in arb_bookings(), hour in 0i64..48) {
        let config = world();
        let t = at("2026-11-24T00:00:00+09:00[Asia/Tokyo]").checked_add(SignedDuration::from_hours(hour)).unwrap();
        let p = plan(&desired(&bookings, &config, t), &observed, &Policy::new(&config, None));
        let tagged: Vec<&str> = observed.ecs_services.iter().filter(|s| s.tags.contains_key("envsched:protected")).map(|s| s.service.as_str()).collect();
        for (_, a) in p.actions() {
            prop_assert!(!a.target.contains("prod-mirror"), "{a:?}");
            if let envsched_core::Locator::Ecs { service, .. } = &a.locator {
                prop_assert!(!tagged.contains(&service.as_str()), "{a:?}");
            }
        }
    }

    /// Re-planning after applying a plan converges to an empty plan (idempotence), and a plan
    /// with nothing waiting, deferred or held is empty after one application.
    #[test]
    fn replanning_after_apply_is_empty(observed in arb_observed(), bookings in arb_bookings(), hour in 0i64..48) {
        let config = world();
        let t = at("2026-11-24T00:00:00+09:00[Asia/Tokyo]").checked_add(SignedDuration::from_hours(hour)).unwrap();
        let d = desired(&bookings, &config, t);
        let mut obs = observed.clone();
        // Transitional Aurora states settle on their own in AWS; settle them here.
        for c in &mut obs.aurora_clusters {
            c.status = match c.status { AuroraStatus::Starting => AuroraStatus::Available, AuroraStatus::Stopping => AuroraStatus::Stopped, ref s => s.clone() };
        }
        let mut rounds = 0;
        loop {
            let p = plan(&d, &obs, &Policy::new(&config, None));
            let blocked = p.targets.iter().any(|t| matches!(t.status, envsched_core::TargetStatus::Waiting(_) | envsched_core::TargetStatus::Deferred(_) | envsched_core::TargetStatus::Held(_)));
            if p.is_empty() { break; }
            apply_instantly(&mut obs, &p, &config);
            rounds += 1;
            if !blocked {
                let again = plan(&d, &obs, &Policy::new(&config, None));
                prop_assert!(again.is_empty(), "not idempotent: {:?}", ops(&again));
                break;
            }
            prop_assert!(rounds < 10, "no convergence: {:?}", ops(&p));
        }
    }

    /// On the way up a dependent is never scaled while its DB is not available; on the way
    /// down a DB is stopped only in a later phase than its running dependents.
    #[test]
    fn databases_come_up_first_and_go_down_last(observed in arb_observed(), bookings in arb_bookings(), hour in 0i64..48) {
        let config = world();
        let t = at("2026-11-24T00:00:00+09:00[Asia/Tokyo]").checked_add(SignedDuration::from_hours(hour)).unwrap();
        let p = plan(&desired(&bookings, &config, t), &observed, &Policy::new(&config, None));
        let db_available = observed.aurora_clusters[0].status == AuroraStatus::Available;
        let mut db_stop_phase = None;
        for (phase, a) in p.actions() {
            if a.op == Op::Stop { db_stop_phase = Some(phase.number); }
        }
        for (phase, a) in p.actions() {
            let dependent = a.target.contains("app1-web") && a.target.starts_with("stg1") || a.target.contains("app1-api") || a.target.contains("points");
            if dependent && a.direction == Direction::Up && matches!(a.op, Op::Scale { from: 0, .. }) {
                prop_assert!(db_available, "{a:?} while the DB is {}", observed.aurora_clusters[0].status);
            }
            if dependent && a.direction == Direction::Down
                && let Some(db) = db_stop_phase { prop_assert!(phase.number < db); }
        }
    }
}
