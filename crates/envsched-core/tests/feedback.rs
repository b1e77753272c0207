//! The state written back to each row, case by case (brief §10).

mod common;

use common::*;
use envsched_core::{Booking, Config, Freeze, Observed, Policy, desired, feedback, plan};

fn texts(config: &Config, bookings: &[Booking], observed: &Observed, t: &str) -> Vec<(String, String)> {
    let d = desired(bookings, config, at(t));
    let p = plan(&d, observed, &Policy::new(config, None));
    feedback(bookings, &d, &p, observed, config)
}

fn one(config: &Config, b: Booking, observed: &Observed, t: &str) -> String {
    texts(config, std::slice::from_ref(&b), observed, t).remove(0).1
}

fn web(window: (&str, &str)) -> Booking {
    booking("web").components(["products/app1-web"]).span(window.0, Some(window.1)).build()
}

const WINDOW: (&str, &str) = ("2026-11-24T10:00:00+09:00", "2026-11-24T12:00:00+09:00");

#[test]
fn before_the_window_it_is_scheduled_and_after_it_ended() {
    let c = config();
    assert_eq!(one(&c, web(WINDOW), &fleet().build(), "2026-11-24T09:00:00+09:00[Asia/Tokyo]"), "scheduled");
    assert_eq!(one(&c, web(WINDOW), &fleet().build(), "2026-11-24T13:00:00+09:00[Asia/Tokyo]"), "ended");
}

/// A window beyond the edge horizon (8 days) has not opened either: a booking made weeks
/// ahead reads `scheduled`, never `ended`.
#[test]
fn a_window_weeks_ahead_is_scheduled_too() {
    let c = config();
    for far in [
        ("2026-12-24T10:00:00+09:00", "2026-12-24T12:00:00+09:00"),
        ("2030-01-07T10:00:00+09:00", "2030-01-07T12:00:00+09:00"),
    ] {
        assert_eq!(
            one(&c, web(far), &fleet().build(), "2026-11-24T09:00:00+09:00[Asia/Tokyo]"),
            "scheduled",
            "{far:?}"
        );
    }
    let days = booking("web").components(["products/app1-web"]).days("2026-12-21", "2026-12-22").build();
    assert_eq!(one(&c, days, &fleet().build(), "2026-11-24T09:00:00+09:00[Asia/Tokyo]"), "scheduled");
}

#[test]
fn while_the_database_starts_it_waits_for_it_by_name() {
    let f = fleet().cluster("stg1-aurora", "starting").build();
    assert_eq!(one(&config(), web(WINDOW), &f, "2026-11-24T09:55:00+09:00[Asia/Tokyo]"), "waiting for db/stg-aurora");
}

#[test]
fn while_tasks_start_it_counts_them_and_then_it_is_ready() {
    // app1-web wants 2 tasks (declared); the DB counts as one.
    let starting = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 2, 1).build();
    assert_eq!(one(&config(), web(WINDOW), &starting, "2026-11-24T10:00:00+09:00[Asia/Tokyo]"), "starting 2/3");
    let ready = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 2, 2).build();
    assert_eq!(one(&config(), web(WINDOW), &ready, "2026-11-24T10:00:00+09:00[Asia/Tokyo]"), "ready");
}

#[test]
fn problems_are_told_to_the_row_they_concern() {
    let f = fleet().cluster("stg1-aurora", "available").service("stg1", "app1-web", 2, 2).build();
    let b = booking("mixed")
        .components(["products/app1-web", "products/legacy-admin"])
        .span(WINDOW.0, Some(WINDOW.1))
        .build();
    assert_eq!(
        one(&config(), b, &f, "2026-11-24T10:30:00+09:00[Asia/Tokyo]"),
        "ready — unknown component products/legacy-admin"
    );
    let empty = booking("empty").span(WINDOW.0, Some(WINDOW.1)).build();
    assert_eq!(one(&config(), empty, &f, "2026-11-24T10:30:00+09:00[Asia/Tokyo]"), "no components selected");
}

#[test]
fn nothing_is_written_while_frozen_and_inactive_rows_get_nothing() {
    let c = config();
    let bookings = [web(WINDOW), booking("done").components(["products/app1-web"]).status("完了").build()];
    let d = desired(&bookings, &c, at("2026-11-24T10:30:00+09:00[Asia/Tokyo]"));
    let frozen = plan(&d, &fleet().build(), &Policy::new(&c, Some(Freeze { reason: "Notion down".into() })));
    assert!(feedback(&bookings, &d, &frozen, &fleet().build(), &c).is_empty());
    let all = texts(&c, &bookings, &fleet().build(), "2026-11-24T10:30:00+09:00[Asia/Tokyo]");
    assert_eq!(all.len(), 1, "only live rows: {all:?}");
}

#[test]
fn a_booked_protected_target_is_named_as_unmanaged_not_counted_as_starting() {
    // creditcard is tagged protected: envsched never starts it, so it never "starts".
    let f = fleet()
        .cluster("stg1-aurora", "available")
        .service("stg1", "app1-web", 2, 2)
        .tag("stg1", "creditcard", "envsched:protected", "true")
        .build();
    let b =
        booking("cc").components(["products/app1-web", "services/creditcard"]).span(WINDOW.0, Some(WINDOW.1)).build();
    assert_eq!(
        one(&config(), b, &f, "2026-11-24T10:30:00+09:00[Asia/Tokyo]"),
        "ready — protected: services/creditcard is not managed by envsched"
    );
    let only = booking("only").components(["services/creditcard"]).span(WINDOW.0, Some(WINDOW.1)).build();
    assert_eq!(
        one(&config(), only, &f, "2026-11-24T10:30:00+09:00[Asia/Tokyo]"),
        "protected: services/creditcard is not managed by envsched"
    );
}
