//! The planner, case by case, as the brief states the rules (§3–8).

mod common;

use common::*;
use envsched_core::{DropGuard, Freeze, Policy, Subject, TargetStatus, Verdict, desired, plan};

const TUE_NOON: &str = "2026-11-24T12:00:00+09:00[Asia/Tokyo]";
const SAT_NOON: &str = "2026-11-28T12:00:00+09:00[Asia/Tokyo]";

fn web_booking() -> envsched_core::Booking {
    booking("ServiceSite 検証").components(["products/app1-web"]).build()
}

fn status<'a>(p: &'a envsched_core::Plan, key: &str) -> &'a TargetStatus {
    &p.target(key).unwrap_or_else(|| panic!("no target {key}")).status
}

// ---- Counts (brief §5) ----

#[test]
fn a_booked_service_comes_up_with_its_declared_count() {
    let f = fleet().cluster("stg1-aurora", "available").build();
    let p = plan_at(&config(), &[web_booking()], &f, TUE_NOON);
    assert_eq!(ops(&p), ["stg1:products/app1-web scale 0→2"]);
    let (_, a) = p.actions().next().unwrap();
    assert!(a.reason.contains("booked by 'ServiceSite 検証' (id-ServiceSite-検証)"), "{}", a.reason);
    assert!(a.reason.contains("count 2 declared in config"), "{}", a.reason);
}

#[test]
fn without_a_declared_count_the_remembered_count_is_restored_and_the_tag_cleared() {
    let f = fleet().cluster("stg1-aurora", "available").tag("stg1", "app1-api", "envsched:count", "3").build();
    let b = booking("api").components(["products/app1-api"]).build();
    let p = plan_at(&config(), &[b], &f, TUE_NOON);
    assert_eq!(ops(&p), ["stg1:products/app1-api scale 0→3", "stg1:products/app1-api mark-running parked→running"]);
}

#[test]
fn with_nothing_declared_or_remembered_the_default_count_is_used() {
    let b = booking("cc").components(["services/creditcard"]).build();
    let p = plan_at(&config_with("[defaults]\ncount = 2"), &[b], &fleet().build(), TUE_NOON);
    assert_eq!(ops(&p), ["stg1:services/creditcard scale 0→2"]);
}

#[test]
fn an_unreadable_remembered_count_is_a_problem_and_the_default_is_used() {
    let f = fleet().cluster("stg1-aurora", "available").tag("stg1", "app1-api", "envsched:count", "lots").build();
    let b = booking("api").components(["products/app1-api"]).build();
    let p = plan_at(&config(), &[b], &f, TUE_NOON);
    assert_eq!(ops(&p)[0], "stg1:products/app1-api scale 0→1");
    assert!(p.problems.iter().any(|pr| pr.message.contains("\"lots\" is not a positive count")));
}

#[test]
fn the_count_is_remembered_in_a_tag_before_scaling_to_zero() {
    let f = fleet().service("stg1", "creditcard", 3, 3).build();
    let p = plan_at(&config(), &[], &f, TUE_NOON);
    assert_eq!(
        ops(&p),
        ["stg1:services/creditcard remember →count=3,parked", "stg1:services/creditcard scale 3→0"],
        "the tag comes first so a crash between the two cannot lose the count"
    );
}

#[test]
fn a_service_that_is_already_right_gets_nothing() {
    let f = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 2, 2).build();
    assert_eq!(ops(&plan_at(&config(), &[web_booking()], &f, TUE_NOON)), Vec::<String>::new());
    assert_eq!(ops(&plan_at(&config(), &[], &fleet().build(), TUE_NOON)), Vec::<String>::new());
}

#[test]
fn a_running_services_count_is_left_to_the_people_and_autoscaler_using_it() {
    let f = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 5, 4).build();
    let p = plan_at(&config(), &[web_booking()], &f, TUE_NOON);
    assert!(p.is_empty(), "{:?}", ops(&p));
    assert_eq!(p.target("stg1:products/app1-web").unwrap().count, Some(5));
}

#[test]
fn autoscaling_is_parked_at_zero_and_its_old_values_remembered_first() {
    let f = fleet().service("stg1", "creditcard", 2, 2).autoscaling("stg1", "creditcard", 1, 4).build();
    let p = plan_at(&config(), &[], &f, TUE_NOON);
    assert_eq!(
        ops(&p),
        [
            "stg1:services/creditcard remember →count=2,autoscaling=1/4,parked",
            "stg1:services/creditcard park-autoscaling min=1,max=4→min=0,max=0",
            "stg1:services/creditcard scale 2→0",
        ]
    );
}

#[test]
fn autoscaling_is_restored_from_remembered_values_before_scaling_up() {
    let f = fleet()
        .autoscaling("stg1", "creditcard", 0, 0)
        .tag("stg1", "creditcard", "envsched:count", "2")
        .tag("stg1", "creditcard", "envsched:autoscaling", "1/4")
        .build();
    let b = booking("cc").components(["services/creditcard"]).build();
    let p = plan_at(&config(), &[b], &f, TUE_NOON);
    assert_eq!(
        ops(&p),
        [
            "stg1:services/creditcard restore-autoscaling min=0,max=0→min=1,max=4",
            "stg1:services/creditcard scale 0→2",
            "stg1:services/creditcard mark-running parked→running",
        ]
    );
}

#[test]
fn a_parked_service_scaled_up_outside_envsched_is_parked_again_as_drift() {
    // ecspresso deploy applied the service definition's desiredCount = 1.
    let f = fleet()
        .service("stg1", "creditcard", 1, 0)
        .tag("stg1", "creditcard", "envsched:count", "3")
        .tag("stg1", "creditcard", "envsched:state", "parked")
        .build();
    let p = plan_at(&config(), &[], &f, TUE_NOON);
    assert_eq!(ops(&p), ["stg1:services/creditcard scale 1→0"], "the remembered 3 is kept, not overwritten by 1");
    let (_, a) = p.actions().next().unwrap();
    assert!(a.is_drift());
    assert!(a.reason.starts_with("drift: parked by envsched (remembered 3)"), "{}", a.reason);
}

// ---- Order and Aurora (brief §6, §7) ----

#[test]
fn the_db_starts_first_and_its_dependents_wait_until_it_is_available() {
    let b = booking("web").components(["products/app1-web"]).build();
    let stopped = plan_at(&config(), std::slice::from_ref(&b), &fleet().build(), TUE_NOON);
    assert_eq!(ops(&stopped), ["stg1:db/stg-aurora start stopped→available"]);
    assert_eq!(
        status(&stopped, "stg1:products/app1-web"),
        &TargetStatus::Waiting("waiting for stg1:db/stg-aurora (stopped)".into())
    );
    let d = stopped.target("stg1:db/stg-aurora").unwrap();
    assert!(d.reason.to_string().starts_with("needed by stg1:products/app1-web (booked by 'web'"), "{}", d.reason);

    let starting =
        plan_at(&config(), std::slice::from_ref(&b), &fleet().cluster("stg1-aurora", "starting").build(), TUE_NOON);
    assert!(starting.is_empty(), "health-gated, not a fixed delay: {:?}", ops(&starting));

    let available = plan_at(&config(), &[b], &fleet().cluster("stg1-aurora", "available").build(), TUE_NOON);
    assert_eq!(ops(&available), ["stg1:products/app1-web scale 0→2"]);
}

#[test]
fn on_the_way_down_dependents_stop_before_their_db() {
    let f = fleet()
        .cluster("stg1-aurora", "available")
        .service("stg1", "app1-web", 2, 2)
        .tag("stg1", "app1-web", "envsched:count", "2")
        .tag("stg1", "app1-web", "envsched:state", "parked")
        .build();
    let p = plan_at(&config(), &[], &f, SAT_NOON);
    assert_eq!(ops(&p), ["stg1:products/app1-web scale 2→0"]);
    assert_eq!(
        status(&p, "stg1:db/stg-aurora"),
        &TargetStatus::Held("waiting for stg1:products/app1-web to stop".into()),
        "health-gated: the DB waits until the app reports no tasks"
    );
    // Tasks still draining after desiredCount went to 0: keep waiting.
    let draining = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 0, 1).build();
    assert!(plan_at(&config(), &[], &draining, SAT_NOON).is_empty());
    let drained = fleet().cluster("stg1-aurora", "available").build();
    assert_eq!(ops(&plan_at(&config(), &[], &drained, SAT_NOON)), ["stg1:db/stg-aurora stop available→stopped"]);
}

#[test]
fn the_db_is_not_stopped_while_a_protected_dependent_still_runs() {
    let f = fleet()
        .cluster("stg1-aurora", "available")
        .service("stg1", "app1-web", 2, 2)
        .tag("stg1", "app1-web", "envsched:protected", "true")
        .build();
    let p = plan_at(&config(), &[], &f, SAT_NOON);
    assert!(p.is_empty(), "{:?}", ops(&p));
    assert_eq!(
        status(&p, "stg1:db/stg-aurora"),
        &TargetStatus::Held("waiting for stg1:products/app1-web to stop".into())
    );
}

#[test]
fn aurora_transitional_states_wait() {
    let b = booking("db").components(["db/stg-aurora"]).build();
    let stopping = plan_at(&config(), &[b], &fleet().cluster("stg1-aurora", "stopping").build(), TUE_NOON);
    assert!(stopping.is_empty());
    assert!(matches!(status(&stopping, "stg1:db/stg-aurora"), TargetStatus::Waiting(w) if w.contains("stopping")));
    let backing_up = plan_at(&config(), &[], &fleet().cluster("stg1-aurora", "backing-up").build(), SAT_NOON);
    assert!(backing_up.is_empty());
    assert!(matches!(status(&backing_up, "stg1:db/stg-aurora"), TargetStatus::Waiting(w) if w.contains("backing-up")));
}

#[test]
fn an_aurora_cluster_that_started_itself_after_seven_days_is_stopped_again() {
    let starting = plan_at(&config(), &[], &fleet().cluster("stg1-aurora", "starting").build(), SAT_NOON);
    assert!(starting.is_empty(), "it cannot be stopped while starting");
    let p = plan_at(&config(), &[], &fleet().cluster("stg1-aurora", "available").build(), SAT_NOON);
    assert_eq!(ops(&p), ["stg1:db/stg-aurora stop available→stopped"]);
}

#[test]
fn an_unstoppable_cluster_is_a_problem_not_an_action() {
    let f =
        fleet().cluster("stg1-aurora", "available").unstoppable("stg1-aurora", "member of a global database").build();
    let p = plan_at(&config(), &[], &f, SAT_NOON);
    assert!(p.is_empty());
    assert!(p.problems.iter().any(|pr| pr.message.contains("cannot be stopped: member of a global database")));
}

// ---- Components and desired state (brief §3, §4) ----

#[test]
fn a_component_selects_by_prefix_within_the_rows_environment() {
    let f = fleet().cluster("stg1-aurora", "available").build();
    let b = booking("app1").components(["products/app1"]).build();
    let p = plan_at(&config(), &[b], &f, TUE_NOON);
    assert_eq!(ops(&p), ["stg1:products/app1-api scale 0→1", "stg1:products/app1-web scale 0→2"]);
}

#[test]
fn an_unknown_component_is_a_problem_naming_the_row_never_silently_dropped() {
    let b = booking("旧管理画面").components(["products/legacy-admin", "services/creditcard"]).build();
    let p = plan_at(&config(), &[b], &fleet().build(), TUE_NOON);
    assert_eq!(ops(&p), ["stg1:services/creditcard scale 0→1"], "the rest of the row still counts");
    let pr = &p.problems[0];
    assert_eq!(
        pr.subject,
        Subject::Booking(envsched_core::BookingRef {
            id: "id-旧管理画面".into(), title: "旧管理画面".into()
        })
    );
    assert_eq!(pr.message, "unknown component products/legacy-admin");
}

#[test]
fn a_component_that_exists_only_in_another_environment_says_so() {
    let b = booking("wrong slice").env(Some("stg2")).components(["services/creditcard"]).build();
    let p = plan_at(&config(), &[b], &fleet().build(), TUE_NOON);
    assert!(p.problems[0].fix.contains("only in stg1"), "{}", p.problems[0]);
}

#[test]
fn rows_with_no_components_or_an_unknown_environment_are_problems() {
    let empty = booking("empty").build();
    let elsewhere = booking("nowhere").env(Some("stg9")).components(["products/app1-web"]).build();
    let p = plan_at(&config(), &[empty, elsewhere], &fleet().build(), TUE_NOON);
    let msgs: Vec<&str> = p.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(msgs.contains(&"no components selected"), "{msgs:?}");
    assert!(msgs.contains(&"environment \"stg9\" is not configured"), "{msgs:?}");
    assert!(p.is_empty());
}

#[test]
fn a_date_only_booking_on_a_holiday_is_reported_with_the_way_to_book_it() {
    let b = booking("holiday").components(["products/app1-web"]).days("2026-11-23", "2026-11-23").build();
    let p = plan_at(&config(), &[b], &fleet().build(), "2026-11-20T12:00:00+09:00[Asia/Tokyo]");
    assert!(p.problems[0].message.contains("has no operating hours"), "{}", p.problems[0]);
    assert!(p.problems[0].fix.contains("date-time range"));
}

#[test]
fn holidays_past_the_published_table_still_count_in_2028_and_raise_no_coverage_problem() {
    // 2028-03-20 is a Monday and 春分の日 by the rule: a date-only booking of it is empty.
    let b = booking("equinox").components(["products/app1-web"]).days("2028-03-20", "2028-03-20").build();
    let p = plan_at(&config(), &[b], &fleet().build(), "2028-03-17T12:00:00+09:00[Asia/Tokyo]");
    assert!(p.problems.iter().any(|pr| pr.message.contains("has no operating hours")), "{:?}", p.problems);
    assert!(!p.problems.iter().any(|pr| pr.message.contains("does not cover")), "{:?}", p.problems);
    // The next day is a working day: booked, it starts the app.
    let b = booking("tuesday").components(["products/app1-web"]).days("2028-03-21", "2028-03-21").build();
    let p = plan_at(&config(), &[b], &fleet().build(), "2028-03-21T12:00:00+09:00[Asia/Tokyo]");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert!(ops(&p).iter().any(|o| o.starts_with("stg1:db/stg-aurora start")), "{:?}", ops(&p));
}

#[test]
fn pins_hold_targets_up_or_down_whatever_the_bookings_say() {
    let f = fleet().service("stg1", "monitor", 0, 0).build();
    let p = plan_at(&config(), &[], &f, SAT_NOON);
    assert_eq!(ops(&p), ["stg1:services/monitor scale 0→1"]);
    assert_eq!(p.target("stg1:services/monitor").unwrap().reason, "pinned up in config");
    let c = config_with(
        "[[targets]]\nname = \"services/batch\"\nenvironment = \"stg1\"\necs = { cluster = \"stg1\", service = \"batch\" }\npin = \"down\"",
    );
    let f = fleet().service("stg1", "batch", 1, 1).build();
    let b = booking("batch").components(["services/batch"]).build();
    assert_eq!(
        ops(&plan_at(&c, &[b], &f, TUE_NOON)),
        ["stg1:services/batch remember →count=1,parked", "stg1:services/batch scale 1→0"]
    );
}

#[test]
fn a_db_kept_up_by_a_pinned_dependent_names_the_pin_not_an_empty_booking_list() {
    let c = config_with(
        "[[targets]]\nname = \"services/batch\"\nenvironment = \"stg1\"\necs = { cluster = \"stg1\", service = \"batch\" }\npin = \"up\"\ndepends_on = [\"db/stg-aurora\"]",
    );
    let f = fleet().service("stg1", "batch", 0, 0).build();
    let p = plan_at(&c, &[], &f, SAT_NOON);
    let reason = p.target("stg1:db/stg-aurora").unwrap().reason.to_string();
    assert_eq!(reason, "needed by stg1:services/batch (pinned up in config)");
    assert!(ops(&p).contains(&"stg1:db/stg-aurora start stopped→available".to_string()), "{:?}", ops(&p));
}

#[test]
fn a_range_that_ends_at_its_start_is_named_empty_and_books_nothing() {
    let at = "2026-11-24T10:00:00+09:00[Asia/Tokyo]";
    let b = booking("zero").components(["products/app1-web"]).span(at, Some(at)).build();
    let p = plan_at(&config(), &[b], &fleet().build(), at);
    assert!(p.is_empty(), "{:?}", ops(&p));
    let m = &p.problems[0].message;
    assert!(m.contains("is empty") && m.contains("starts and ends at"), "{m}");
    assert!(!m.contains("before it starts"), "{m}");
}

// ---- Safety (brief §8) ----

#[test]
fn protected_names_and_tags_never_get_actions() {
    let c = config_with("[safety]\nprotected = [\"creditcard\"]");
    let f = fleet()
        .service("stg1", "creditcard", 2, 2)
        .service("stg1", "app1-api", 1, 1)
        .tag("stg1", "app1-api", "envsched:protected", "yes")
        .build();
    let p = plan_at(&c, &[], &f, SAT_NOON);
    assert!(p.is_empty(), "{:?}", ops(&p));
    assert_eq!(
        status(&p, "stg1:services/creditcard"),
        &TargetStatus::Protected("matches safety.protected \"creditcard\"".into())
    );
    assert_eq!(status(&p, "stg1:products/app1-api"), &TargetStatus::Protected("tagged envsched:protected=yes".into()));
    // `false` is the one value that does not protect.
    let f = fleet().service("stg1", "app1-api", 1, 1).tag("stg1", "app1-api", "envsched:protected", "false").build();
    assert_eq!(ops(&plan_at(&config(), &[], &f, SAT_NOON)).len(), 2);
}

#[test]
fn at_most_max_stops_per_cycle_targets_stop_and_the_rest_are_deferred() {
    let c = config_with("[safety]\nmax_stops_per_cycle = 2");
    let f = fleet()
        .service("stg1", "app1-api", 1, 1)
        .service("stg1", "app1-web", 1, 1)
        .service("stg1", "creditcard", 1, 1)
        .service("stg2", "app1-web", 1, 1)
        .cluster("stg1-aurora", "available")
        .build();
    let p = plan_at(&c, &[], &f, SAT_NOON);
    let (_, stopping, _) = p.counts();
    assert_eq!(stopping, 2);
    let deferred: Vec<&str> =
        p.targets.iter().filter(|t| matches!(t.status, TargetStatus::Deferred(_))).map(|t| t.key.as_str()).collect();
    // Dependents go first (app1-api, app1-web); creditcard and stg2's web wait for the cap,
    // the DB for its dependents.
    assert_eq!(deferred, ["stg1:services/creditcard", "stg2:products/app1-web"]);
    assert!(matches!(status(&p, "stg1:db/stg-aurora"), TargetStatus::Held(_)));
    assert!(status(&p, "stg2:products/app1-web").detail().unwrap().contains("max_stops_per_cycle = 2"));
    assert_eq!(
        ops(&p),
        [
            "stg1:products/app1-api remember →count=1,parked",
            "stg1:products/app1-api scale 1→0",
            "stg1:products/app1-web remember →count=1,parked",
            "stg1:products/app1-web scale 1→0"
        ]
    );
}

#[test]
fn a_frozen_plan_changes_nothing_and_says_why() {
    let c = config();
    let f = fleet().service("stg1", "creditcard", 3, 3).build();
    let d = desired(&[], &c, at(TUE_NOON));
    let p = plan(&d, &f, &Policy::new(&c, Some(Freeze { reason: "Notion returned 503".into() })));
    assert!(p.is_empty());
    assert_eq!(p.frozen.as_ref().unwrap().reason, "Notion returned 503");
    assert!(p.targets.iter().all(|t| matches!(t.status, TargetStatus::Frozen | TargetStatus::Missing)));
}

#[test]
fn a_missing_resource_is_reported_and_left_alone() {
    let mut f = fleet().build();
    f.ecs_services.retain(|s| s.service != "creditcard");
    let p = plan_at(&config(), &[booking("cc").components(["services/creditcard"]).build()], &f, TUE_NOON);
    assert_eq!(status(&p, "stg1:services/creditcard"), &TargetStatus::Missing);
    assert!(p.problems.iter().any(|pr| pr.message == "ECS service stg1/creditcard was not found"));
}

#[test]
fn all_bookings_vanishing_while_windows_are_open_freezes_then_is_accepted_after_the_hold() {
    let c = config_with("[safety.suspicious_drop]\nmin_open_bookings = 2\nhold = \"15m\"");
    let two = [web_booking(), booking("cc").components(["services/creditcard"]).build()];
    let mut guard = DropGuard::default();
    assert_eq!(guard.assess(&two, &c, at(TUE_NOON)), Verdict::Normal);
    let Verdict::Frozen(f) = guard.assess(&[], &c, at("2026-11-24T12:01:00+09:00[Asia/Tokyo]")) else {
        panic!("not frozen")
    };
    assert!(f.reason.contains("no bookings at all while 2 windows were still open"), "{}", f.reason);
    assert!(matches!(guard.assess(&[], &c, at("2026-11-24T12:10:00+09:00[Asia/Tokyo]")), Verdict::Frozen(_)));
    assert_eq!(guard.assess(&[], &c, at("2026-11-24T12:16:00+09:00[Asia/Tokyo]")), Verdict::Accepted { open: 2 });
    assert_eq!(guard.assess(&[], &c, at("2026-11-24T12:17:00+09:00[Asia/Tokyo]")), Verdict::Normal);
}

#[test]
fn bookings_ending_on_time_do_not_trip_the_drop_guard() {
    let c = config();
    let two = [web_booking(), booking("cc").components(["services/creditcard"]).build()];
    let mut guard = DropGuard::default();
    guard.assess(&two, &c, at(TUE_NOON));
    // At 21:00 both undated rows are outside stg1's operating hours: their windows are closed.
    assert_eq!(guard.assess(&[], &c, at("2026-11-24T21:00:00+09:00[Asia/Tokyo]")), Verdict::Normal);
}

#[test]
fn text_counts_tell_how_many_start_stop_and_stay() {
    let f = fleet().cluster("stg1-aurora", "available").service("stg1", "creditcard", 1, 1).build();
    let p = plan_at(&config(), &[web_booking()], &f, TUE_NOON);
    assert_eq!(p.counts(), (1, 1, 4));
}

#[test]
fn an_ecs_dependency_coming_up_in_the_same_plan_must_succeed_first() {
    let c = config_with(
        "[[targets]]\nname = \"services/points\"\nenvironment = \"stg1\"\necs = { cluster = \"stg1\", service = \"points\" }\ndepends_on = [\"services/creditcard\"]",
    );
    let f = fleet().service("stg1", "points", 0, 0).build();
    let b = booking("points").components(["services/points"]).build();
    let p = plan_at(&c, &[b], &f, TUE_NOON);
    assert_eq!(ops(&p), ["stg1:services/creditcard scale 0→1", "stg1:services/points scale 0→1"]);
    let phases: Vec<usize> = p.actions().map(|(ph, _)| ph.number).collect();
    assert!(phases[0] < phases[1], "dependencies first");
    let (_, points) = p.actions().last().unwrap();
    assert_eq!(points.after, ["stg1:services/creditcard"]);
}
