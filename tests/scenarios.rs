//! Scenarios: the reconcile cycle over time, on the sandbox fleet (Aurora takes 7 minutes to
//! start and 5 to stop; services 90 s to reach their count).

use envsched_core::{Clock, Locator, Op, Outcome};
use envsched_sandbox::RowEdit;
use envsched_tests::*;

fn when(reports: &[envsched_core::Report], target: &str, op: &str) -> Vec<String> {
    reports
        .iter()
        .flat_map(|r| r.applied.iter().map(move |a| (r.at, a)))
        .filter(|(_, a)| a.action.target == target && a.action.op.name() == op && matches!(a.outcome, Outcome::Done(_)))
        .map(|(t, _)| t.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).strftime("%H:%M").to_string())
        .collect()
}

#[test]
fn the_db_starts_at_window_minus_lead_and_its_apps_follow_once_it_is_available() {
    let b = booking("web", &["products/app1-web"], "2026-11-24T09:00", "2026-11-24T12:00");
    let mut s = Scenario::new("2026-11-24T08:30", all_down(), vec![b], vec![]);
    let reports = s.run_until("2026-11-24T12:30");
    assert_eq!(when(&reports, "stg1:db/aurora", "start"), ["08:50"], "09:00 minus 10 minutes lead");
    assert_eq!(
        when(&reports, "stg1:products/app1-web", "scale"),
        ["08:57", "12:00"],
        "after 7 minutes of starting, then down at the end"
    );
    assert_eq!(when(&reports, "stg1:db/aurora", "stop"), ["12:01"], "once the app reports no tasks");
    // Never a dependent scaled up while its DB was not available.
    for r in &reports {
        for a in &r.applied {
            if a.action.target.ends_with("app1-web") && matches!(a.action.op, Op::Scale { from: 0, .. }) {
                assert!(r.observed.aurora_clusters[0].status == envsched_core::AuroraStatus::Available);
            }
        }
    }
    // Down: the app goes in an earlier phase than the DB of the same cycle.
    let down = reports.iter().find(|r| r.applied.iter().any(|a| a.action.op == Op::Stop)).unwrap();
    let phase =
        |t: &str| down.applied.iter().find(|a| a.action.target.ends_with(t) && a.outcome.succeeded()).map(|a| a.phase);
    assert!(phase("app1-web") < phase("db/aurora"));
}

#[test]
fn a_failing_target_does_not_block_the_others_and_is_retried_next_cycle() {
    let b = booking("two", &["services/creditcard", "products/app1-api"], "2026-11-24T09:00", "2026-11-24T18:00");
    let mut up = all_down();
    up.aurora_clusters[0].status = envsched_core::AuroraStatus::Available;
    let mut s = Scenario::new("2026-11-24T08:50", up, vec![b], vec![]);
    let cc = Locator::ecs("stg1", "creditcard");
    s.fleet.set_failure(cc.clone(), Some("AccessDeniedException: not authorized to perform ecs:UpdateService"));
    let first = s.cycle();
    let outcome = |r: &envsched_core::Report, t: &str| {
        r.applied.iter().find(|a| a.action.target.ends_with(t)).map(|a| a.outcome.label())
    };
    assert_eq!(outcome(&first, "creditcard"), Some("failed"));
    assert_eq!(outcome(&first, "app1-api"), Some("done"), "the other target proceeds");
    s.fleet.set_failure(cc, None);
    s.clock.advance(jiff::SignedDuration::from_mins(1));
    let second = s.cycle();
    assert_eq!(outcome(&second, "creditcard"), Some("done"), "retried next cycle");
    assert_eq!(outcome(&second, "app1-api"), None, "already up: nothing to redo");
}

#[test]
fn a_dependent_that_fails_to_stop_holds_back_its_db_and_nothing_else() {
    let mut up = all_down();
    up.aurora_clusters[0].status = envsched_core::AuroraStatus::Available;
    for s in &mut up.ecs_services {
        s.desired_count = 1;
        s.running_count = 1;
    }
    let mut s = Scenario::new("2026-11-24T21:00", up, vec![], vec![]);
    s.fleet.set_failure(Locator::ecs("stg1", "app1-web"), Some("ThrottlingException: Rate exceeded"));
    let r = s.cycle();
    let outcome = |t: &str, op: &str| {
        r.applied
            .iter()
            .filter(|a| a.action.target.ends_with(t) && a.action.op.name() == op)
            .map(|a| a.outcome.label())
            .next_back()
    };
    assert_eq!(outcome("app1-web", "remember"), Some("failed"));
    assert_eq!(outcome("app1-web", "scale"), Some("skipped"), "the rest of its chain is skipped");
    assert_eq!(outcome("db/aurora", "stop"), None, "the DB waits for its dependent");
    assert!(matches!(r.plan.target("stg1:db/aurora").unwrap().status, envsched_core::TargetStatus::Held(_)));
    assert_eq!(outcome("app1-api", "scale"), Some("done"));
    assert_eq!(outcome("creditcard", "scale"), Some("done"));
}

#[test]
fn a_dependency_that_fails_to_come_up_skips_its_dependents_this_cycle() {
    // creditcard needs auth: if auth cannot be scaled, creditcard is not started without it.
    // creditcard is the world's last target: `needs` is its depends_on.
    let config = world().needs(&["services/auth"]).ecs("services/auth", "auth").toml();
    let mut observed = all_down();
    let mut auth = observed.ecs_services[2].clone();
    auth.service = "auth".into();
    observed.ecs_services.push(auth);
    let b = booking("cc", &["services/creditcard"], "2026-11-24T09:00", "2026-11-24T10:00");
    let mut s = Scenario::with_config(&config, "2026-11-24T09:00", observed, vec![b], vec![]);
    s.fleet.set_failure(Locator::ecs("stg1", "auth"), Some("AccessDeniedException"));
    let r = s.cycle();
    let outcome = |t: &str| r.applied.iter().find(|a| a.action.target.ends_with(t)).map(|a| a.outcome.clone());
    assert!(matches!(outcome("services/auth"), Some(Outcome::Failed(_))));
    assert_eq!(
        outcome("services/creditcard"),
        Some(Outcome::Skipped("stg1:services/auth did not get ready this cycle".into()))
    );
}

#[test]
fn a_target_that_keeps_failing_is_retried_with_backoff_and_only_it_waits() {
    let config = world().schedule("poll_interval", "1m").ecs("services/auth", "auth").toml();
    let mut observed = all_down();
    let mut auth = observed.ecs_services[2].clone();
    auth.service = "auth".into();
    observed.ecs_services.push(auth);
    let rows = vec![
        booking("auth", &["services/auth"], "2026-11-24T09:00", "2026-11-24T12:00"),
        booking("cc", &["services/creditcard"], "2026-11-24T09:05", "2026-11-24T12:00"),
    ];
    let mut s = Scenario::with_config(&config, "2026-11-24T08:50", observed, rows, vec![]);
    s.fleet.set_failure(Locator::ecs("stg1", "auth"), Some("AccessDeniedException"));
    let reports = s.run_until("2026-11-24T09:30");
    let tried: Vec<String> = reports
        .iter()
        .filter(|r| {
            r.applied.iter().any(|a| a.action.target == "stg1:services/auth" && matches!(a.outcome, Outcome::Failed(_)))
        })
        .map(|r| r.at.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).strftime("%H:%M").to_string())
        .collect();
    // Lead 10 minutes: first try at 08:50, then after 1, 2, 4, 8 and 16 polls.
    assert_eq!(tried, ["08:50", "08:51", "08:53", "08:57", "09:05", "09:21"]);
    let held = reports[2].applied.iter().find(|a| a.action.target == "stg1:services/auth").unwrap();
    assert!(
        matches!(&held.outcome, Outcome::Skipped(why) if why.contains("backing off after 2 failed cycle(s)") && why.contains("AccessDeniedException") && why.contains("next try at 08:53")),
        "{:?}",
        held.outcome
    );
    // The other booking's service is not held back by auth's failures.
    assert_eq!(when(&reports, "stg1:services/creditcard", "scale"), ["08:55"]);
    // Once the failure is fixed, the next try (32 polls, capped at 30 minutes after 09:21)
    // succeeds and the backoff is forgotten.
    s.fleet.set_failure(Locator::ecs("stg1", "auth"), None);
    let reports = s.run_until("2026-11-24T10:00");
    assert_eq!(when(&reports, "stg1:services/auth", "scale"), ["09:51"]);
    assert!(s.state.backoff.is_empty(), "{:?}", s.state.backoff);
}

#[test]
fn a_notion_outage_freezes_everything_until_bookings_can_be_read_again() {
    let b = booking("cc", &["services/creditcard"], "2026-11-24T09:00", "2026-11-24T10:00");
    let edits = vec![
        (
            jst("2026-11-24T09:55"),
            RowEdit::Fail(envsched_core::SourceError::Unavailable { message: "503 service_unavailable".into() }),
        ),
        (jst("2026-11-24T10:20"), RowEdit::Recover),
    ];
    let mut s = Scenario::new("2026-11-24T08:40", all_down(), vec![b], edits);
    let reports = s.run_until("2026-11-24T10:30");
    let frozen: Vec<&envsched_core::Report> = reports.iter().filter(|r| r.plan.frozen.is_some()).collect();
    assert_eq!(frozen.len(), 25, "09:55 to 10:19");
    assert!(frozen.iter().all(|r| r.applied.is_empty()), "nothing changes while frozen");
    assert!(frozen[0].plan.frozen.as_ref().unwrap().reason.contains("503 service_unavailable"));
    assert_eq!(
        when(&reports, "stg1:services/creditcard", "scale"),
        ["08:50", "10:20"],
        "kept running through the outage, stopped after it"
    );
}

#[test]
fn an_aurora_cluster_that_starts_itself_after_seven_days_is_stopped_again() {
    let mut s = Scenario::new("2026-11-24T00:00", all_down(), vec![], vec![]);
    s.fleet.set_stopped_since("stg1-aurora", jst("2026-11-17T00:30"));
    let reports = s.run_until("2026-11-24T01:00");
    assert_eq!(s.fleet.auto_starts().len(), 1);
    assert_eq!(
        when(&reports, "stg1:db/aurora", "stop"),
        ["00:37"],
        "stopped once available, 7 minutes after it started itself"
    );
}

#[test]
fn a_service_deployed_while_parked_is_parked_again_and_keeps_its_remembered_count() {
    let mut running = all_down();
    running.ecs_services[2].desired_count = 3;
    running.ecs_services[2].running_count = 3;
    let b = booking("later", &["services/creditcard"], "2026-11-24T15:00", "2026-11-24T16:00");
    let mut s = Scenario::new("2026-11-24T09:00", running, vec![b], vec![]);
    s.run_until("2026-11-24T09:02");
    s.fleet.scale_by_hand("stg1", "creditcard", 1);
    let r = s.cycle();
    let drift: Vec<_> = r.applied.iter().filter(|a| a.action.is_drift()).collect();
    assert_eq!(drift.len(), 1, "{:?}", r.applied);
    assert!(drift[0].action.reason.contains("remembered 3"));
    s.clock.set(jst("2026-11-24T14:50"));
    let r = s.cycle();
    let up = r.applied.iter().find(|a| matches!(a.action.op, Op::Scale { from: 0, .. })).expect("scaled up");
    assert_eq!(up.action.op, Op::Scale { from: 0, to: 3 }, "the count before envsched, not the deploy's");
}

#[test]
fn two_copies_applying_the_same_plan_do_no_harm() {
    let b = booking("cc", &["services/creditcard"], "2026-11-24T09:00", "2026-11-24T10:00");
    let mut s = Scenario::new("2026-11-24T09:00", all_down(), vec![b], vec![]);
    let r = s.cycle();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    // The second copy planned from the same observation and acts a moment later.
    let again = rt.block_on(envsched_core::reconcile::apply(&r.plan, &s.fleet, envsched_core::Mode::Apply));
    assert!(again.iter().all(|a| matches!(a.outcome, Outcome::AlreadyDone(_))), "{again:?}");
    assert_eq!(s.fleet.snapshot().ecs_services[2].desired_count, 1);
    assert!(s.clock.now() == jst("2026-11-24T09:00"));
}

#[test]
fn tags_removed_from_five_parked_services_are_healed_and_each_comes_back_at_its_real_size() {
    let mut config =
        String::from("time_zone = \"Asia/Tokyo\"\n[schedule]\nlead = \"0s\"\n[[environments]]\nname = \"stg1\"\n");
    let mut observed = all_down();
    observed.ecs_services.clear();
    observed.aurora_clusters.clear();
    for i in 0..5u32 {
        config.push_str(&format!(
            "[[targets]]\nname = \"services/svc{i}\"\nenvironment = \"stg1\"\necs = {{ cluster = \"stg1\", service = \"svc{i}\" }}\n"
        ));
        observed.ecs_services.push(envsched_core::ObservedService {
            place: Default::default(),
            cluster: "stg1".into(),
            service: format!("svc{i}"),
            desired_count: i + 2,
            running_count: i + 2,
            pending_count: 0,
            tags: Default::default(),
            autoscaling: (i == 0).then_some(envsched_core::Capacity { min: 2, max: 4 }),
        });
    }
    let all: Vec<String> = (0..5).map(|i| format!("services/svc{i}")).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let morning = booking("m", &all, "2026-11-25T09:00", "2026-11-25T12:00");
    let mut s = Scenario::with_config(&config, "2026-11-24T20:00", observed, vec![morning], vec![]);
    s.run_until("2026-11-24T20:05");
    assert!(s.fleet.snapshot().ecs_services.iter().all(|svc| svc.desired_count == 0), "parked for the night");
    // Overnight, CI deploys every service with ecspresso: it removes keys its definition lacks.
    for i in 0..5 {
        s.fleet.untag_by_hand(
            "stg1",
            &format!("svc{i}"),
            &["envsched:count", "envsched:autoscaling", "envsched:state"],
        );
    }
    let night = s.run_until("2026-11-24T20:10");
    let healed: Vec<&envsched_core::Applied> = night
        .iter()
        .flat_map(|r| &r.applied)
        .filter(|a| a.action.cause == envsched_core::Cause::Heal && matches!(a.outcome, Outcome::Done(_)))
        .collect();
    assert_eq!(healed.len(), 5, "one heal per service: {healed:#?}");
    assert!(healed.iter().all(|a| a.action.reason.contains("ecspresso deploy")));
    s.clock.advance(jiff::SignedDuration::from_mins(12 * 60 + 45));
    s.run_until("2026-11-25T09:05");
    let after = s.fleet.snapshot();
    for (i, svc) in after.ecs_services.iter().enumerate() {
        assert_eq!(svc.desired_count, i as u32 + 2, "{}", svc.service);
    }
    assert_eq!(after.ecs_services[0].autoscaling, Some(envsched_core::Capacity { min: 2, max: 4 }));
}
