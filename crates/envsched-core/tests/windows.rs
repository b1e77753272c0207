//! Windows and calendars, as the brief states them (§2, §12).

mod common;

use common::*;
use envsched_core::window::{first_instant_at_or_after, start_of_day};
use envsched_core::{Calendar, Window, desired};
use jiff::SignedDuration;
use jiff::civil::date;
use jiff::tz::TimeZone;

fn up(config: &envsched_core::Config, b: &envsched_core::Booking, t: &str, key: &str) -> bool {
    let d = desired(std::slice::from_ref(b), config, at(t));
    d.target(key).expect("target exists").state == envsched_core::DesiredState::Up
}

const WEB1: &str = "stg1:products/app1-web";
const WEB2: &str = "stg2:products/app1-web";

#[test]
fn date_only_booking_covers_whole_days_in_the_configured_zone() {
    let c = config();
    let b = booking("two days")
        .env(Some("stg2"))
        .components(["products/app1-web"])
        .days("2026-11-24", "2026-11-25")
        .build();
    // stg2 has no hours: whole days in Asia/Tokyo, read with 10 minutes lead.
    assert!(!up(&c, &b, "2026-11-23T23:49:00+09:00[Asia/Tokyo]", WEB2));
    assert!(up(&c, &b, "2026-11-23T23:50:00+09:00[Asia/Tokyo]", WEB2), "lead time starts it early");
    assert!(up(&c, &b, "2026-11-24T03:00:00+09:00[Asia/Tokyo]", WEB2));
    assert!(up(&c, &b, "2026-11-25T23:59:59+09:00[Asia/Tokyo]", WEB2));
    assert!(!up(&c, &b, "2026-11-26T00:00:00+09:00[Asia/Tokyo]", WEB2));
    // In UTC the window starts the day before: a UTC date filter would get this wrong.
    assert!(up(&c, &b, "2026-11-23T15:00:00Z", WEB2));
}

#[test]
fn date_only_booking_follows_operating_hours_where_configured() {
    let c = config();
    let b = booking("tue").components(["products/app1-web"]).days("2026-11-24", "2026-11-24").build();
    assert!(!up(&c, &b, "2026-11-24T07:49:00+09:00[Asia/Tokyo]", WEB1));
    assert!(up(&c, &b, "2026-11-24T07:50:00+09:00[Asia/Tokyo]", WEB1), "08:00 minus 10m lead");
    assert!(up(&c, &b, "2026-11-24T19:59:00+09:00[Asia/Tokyo]", WEB1));
    assert!(!up(&c, &b, "2026-11-24T20:00:00+09:00[Asia/Tokyo]", WEB1));
}

#[test]
fn date_only_booking_skips_weekends_japanese_holidays_and_skip_dates() {
    let c = config();
    let b = booking("long").components(["products/app1-web"]).days("2026-11-21", "2026-12-31").build();
    // Saturday, 勤労感謝の日 (Monday 11/23), and the configured skip date 12/29.
    for t in [
        "2026-11-21T12:00:00+09:00[Asia/Tokyo]",
        "2026-11-23T12:00:00+09:00[Asia/Tokyo]",
        "2026-12-29T12:00:00+09:00[Asia/Tokyo]",
    ] {
        assert!(!up(&c, &b, t, WEB1), "{t} is not an operating day");
    }
    assert!(up(&c, &b, "2026-11-24T12:00:00+09:00[Asia/Tokyo]", WEB1));
    assert!(up(&c, &b, "2026-12-28T12:00:00+09:00[Asia/Tokyo]", WEB1));
}

#[test]
fn a_date_time_range_is_exact_even_outside_operating_hours() {
    let c = config();
    // A Friday-night-to-Saturday booking: outside stg1's hours entirely.
    let b = booking("night")
        .components(["products/app1-web"])
        .span("2026-11-27T19:00:00+09:00", Some("2026-11-28T07:00:00+09:00"))
        .build();
    assert!(up(&c, &b, "2026-11-28T02:00:00+09:00[Asia/Tokyo]", WEB1));
    assert!(up(&c, &b, "2026-11-27T18:50:00+09:00[Asia/Tokyo]", WEB1), "lead applies");
    assert!(!up(&c, &b, "2026-11-28T07:00:00+09:00[Asia/Tokyo]", WEB1));
}

#[test]
fn a_start_without_end_is_that_one_day() {
    let c = config();
    let dt = booking("from 09:30").components(["products/app1-web"]).span("2026-12-10T09:30:00+09:00", None).build();
    assert!(up(&c, &dt, "2026-12-10T23:59:00+09:00[Asia/Tokyo]", WEB1), "until the end of that day, hours or not");
    assert!(!up(&c, &dt, "2026-12-11T00:00:00+09:00[Asia/Tokyo]", WEB1));
    let d = booking("one day").components(["products/app1-web"]).days("2026-12-10", "2026-12-10").build();
    assert!(up(&c, &d, "2026-12-10T12:00:00+09:00[Asia/Tokyo]", WEB1));
    assert!(!up(&c, &d, "2026-12-11T12:00:00+09:00[Asia/Tokyo]", WEB1));
}

#[test]
fn an_undated_row_is_active_while_its_status_is_within_operating_hours() {
    let c = config();
    let b = booking("always").components(["products/app1-web"]).build();
    assert!(up(&c, &b, "2026-11-24T12:00:00+09:00[Asia/Tokyo]", WEB1));
    assert!(!up(&c, &b, "2026-11-24T21:00:00+09:00[Asia/Tokyo]", WEB1));
    assert!(!up(&c, &b, "2026-11-28T12:00:00+09:00[Asia/Tokyo]", WEB1), "Saturday");
    let anywhere = booking("always").env(Some("stg2")).components(["products/app1-web"]).build();
    assert!(up(&c, &anywhere, "2026-11-28T03:00:00+09:00[Asia/Tokyo]", WEB2), "no hours: always");
    let done = booking("done").components(["products/app1-web"]).status("完了").build();
    assert!(!up(&c, &done, "2026-11-24T12:00:00+09:00[Asia/Tokyo]", WEB1), "inactive status");
}

#[test]
fn linger_keeps_things_up_after_the_window() {
    let c = config();
    let mut c2 = c.clone();
    c2.schedule.linger = SignedDuration::from_mins(30);
    let b = booking("b")
        .components(["products/app1-web"])
        .span("2026-11-24T10:00:00+09:00", Some("2026-11-24T12:00:00+09:00"))
        .build();
    assert!(!up(&c, &b, "2026-11-24T12:10:00+09:00[Asia/Tokyo]", WEB1));
    assert!(up(&c2, &b, "2026-11-24T12:10:00+09:00[Asia/Tokyo]", WEB1));
    assert!(!up(&c2, &b, "2026-11-24T12:30:00+09:00[Asia/Tokyo]", WEB1));
}

fn berlin(hours: Option<(&str, &str)>) -> Calendar {
    let toml = match hours {
        Some((from, to)) => format!(
            "time_zone = \"Europe/Berlin\"\n[[environments]]\nname = \"e\"\nhours = {{ days = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"], from = \"{from}\", to = \"{to}\" }}\n"
        ),
        None => "time_zone = \"Europe/Berlin\"\n[[environments]]\nname = \"e\"\n".to_string(),
    };
    envsched_core::Config::from_toml(&toml, "t").unwrap().calendar(Some("e")).clone()
}

fn total(cal: &Calendar, w: &Window) -> SignedDuration {
    cal.intervals(w, SignedDuration::ZERO, SignedDuration::ZERO, jiff::Timestamp::MIN, jiff::Timestamp::MAX)
        .iter()
        .map(|i| i.duration())
        .sum()
}

#[test]
fn whole_day_bookings_on_dst_days_last_23_and_25_hours() {
    let cal = berlin(None);
    let spring = Window::Days { first: date(2026, 3, 29), last: date(2026, 3, 29) };
    let autumn = Window::Days { first: date(2026, 10, 25), last: date(2026, 10, 25) };
    assert_eq!(total(&cal, &spring), SignedDuration::from_hours(23));
    assert_eq!(total(&cal, &autumn), SignedDuration::from_hours(25));
    let week = Window::Days { first: date(2026, 3, 26), last: date(2026, 4, 1) };
    assert_eq!(total(&cal, &week), SignedDuration::from_hours(7 * 24 - 1));
}

#[test]
fn operating_hours_across_dst_keep_their_wall_clock_length() {
    let cal = berlin(Some(("08:00", "20:00")));
    for day in [date(2026, 3, 29), date(2026, 10, 25)] {
        let w = Window::Days { first: day, last: day };
        assert_eq!(total(&cal, &w), SignedDuration::from_hours(12), "{day}");
    }
    // Hours that straddle the 02:00→03:00 gap lose exactly the skipped hour.
    let night = berlin(Some(("01:00", "04:00")));
    let w = Window::Days { first: date(2026, 3, 29), last: date(2026, 3, 29) };
    assert_eq!(total(&night, &w), SignedDuration::from_hours(2));
    let w = Window::Days { first: date(2026, 10, 25), last: date(2026, 10, 25) };
    assert_eq!(total(&night, &w), SignedDuration::from_hours(4), "the repeated hour is counted once, as real time");
}

#[test]
fn a_local_time_in_a_dst_gap_starts_at_the_end_of_the_gap() {
    let zone = TimeZone::get("Europe/Berlin").unwrap();
    let t = first_instant_at_or_after(date(2026, 3, 29).at(2, 30, 0, 0), &zone);
    assert_eq!(t.to_string(), "2026-03-29T01:00:00Z", "03:00 CEST, the first instant whose clock reads ≥ 02:30");
    let fold = first_instant_at_or_after(date(2026, 10, 25).at(2, 30, 0, 0), &zone);
    assert_eq!(fold.to_string(), "2026-10-25T00:30:00Z", "the first 02:30 (CEST) in a fold");
    let ny = TimeZone::get("America/New_York").unwrap();
    assert_eq!(start_of_day(date(2026, 3, 8), &ny).to_string(), "2026-03-08T05:00:00Z");
}

#[test]
fn next_edge_is_the_window_start_minus_lead() {
    let c = config();
    let b = booking("tue").components(["products/app1-web"]).days("2026-11-24", "2026-11-24").build();
    let next = envsched_core::next_change(std::slice::from_ref(&b), &c, at("2026-11-23T12:00:00+09:00[Asia/Tokyo]"));
    assert_eq!(next, Some(at("2026-11-24T07:50:00+09:00[Asia/Tokyo]")));
    let next = envsched_core::next_change(&[b], &c, at("2026-11-24T12:00:00+09:00[Asia/Tokyo]"));
    assert_eq!(next, Some(at("2026-11-24T20:00:00+09:00[Asia/Tokyo]")));
}

#[test]
fn a_booking_scoped_to_stg1_reads_stg1s_calendar_but_an_unscoped_one_reads_each_targets() {
    let c = config();
    let b = booking("everywhere, Saturday")
        .env(None)
        .components(["products/app1-web"])
        .days("2026-11-28", "2026-11-28")
        .build();
    let t = "2026-11-28T12:00:00+09:00[Asia/Tokyo]";
    assert!(!up(&c, &b, t, WEB1), "stg1 does not operate on Saturdays");
    assert!(up(&c, &b, t, WEB2), "stg2 has whole days");
}
