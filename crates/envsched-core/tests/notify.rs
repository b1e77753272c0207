//! "Ending soon" and "ready" notices: which booking ends get one, with which targets.

use envsched_core::notify::{NoticeKind, ending_soon, ready};
use envsched_core::{Config, desired};
use envsched_fixtures::{World, at, booking};
use jiff::SignedDuration;

fn world() -> Config {
    World::tokyo()
        .lead("0s")
        .linger("0s")
        .env_with(
            "stg1",
            "hours = { days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"08:00\", to = \"20:00\" }",
        )
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/app1-web", "app1-web")
        .needs(&["db/stg-aurora"])
        .ecs("services/batch", "batch")
        .config()
}

fn notices_at(config: &Config, bookings: &[envsched_core::Booking], now: &str) -> Vec<envsched_core::notify::Notice> {
    let now = at(now);
    ending_soon(&desired(bookings, config, now), bookings, config, now, SignedDuration::from_mins(30))
}

const END: &str = "2026-11-24T19:00:00+09:00[Asia/Tokyo]";

#[test]
fn a_booking_is_noticed_within_the_lead_time_before_its_end_with_what_stops() {
    let config = world();
    let b = booking("app1 検証")
        .components(["products/app1-web"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some(END))
        .creator("user-1")
        .build();
    assert!(notices_at(&config, std::slice::from_ref(&b), "2026-11-24T18:29:00+09:00[Asia/Tokyo]").is_empty());
    let n = notices_at(&config, std::slice::from_ref(&b), "2026-11-24T18:31:00+09:00[Asia/Tokyo]");
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(
        (n[0].kind.clone(), n[0].creator.as_deref(), n[0].at),
        (NoticeKind::EndingSoon, Some("user-1"), at(END))
    );
    assert_eq!(n[0].targets, ["db/stg-aurora", "products/app1-web"], "the DB it pulled up stops too");
    assert_eq!(
        n[0].text("期間"),
        " db/stg-aurora, products/app1-web stop at 19:00 (Asia/Tokyo) on 2026-11-24 when this booking ends. Move the end of 期間 to keep them running."
    );
    // After its end: nothing to say.
    assert!(notices_at(&config, &[b], "2026-11-24T19:01:00+09:00[Asia/Tokyo]").is_empty());
}

#[test]
fn targets_another_booking_keeps_up_are_not_named_and_an_end_that_stops_nothing_is_not_noticed() {
    let config = world();
    let ends = booking("short")
        .components(["products/app1-web", "services/batch"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some(END))
        .build();
    let longer = booking("longer")
        .components(["products/app1-web"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some("2026-11-24T21:00:00+09:00[Asia/Tokyo]"))
        .build();
    let n = notices_at(&config, &[ends.clone(), longer.clone()], "2026-11-24T18:45:00+09:00[Asia/Tokyo]");
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(&*n[0].booking.title, "short");
    assert_eq!(n[0].targets, ["services/batch"], "app1-web and its DB stay up for 'longer'");
    // Without batch, the short booking's end stops nothing: no notice.
    let only_web = booking("short")
        .components(["products/app1-web"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some(END))
        .build();
    assert!(notices_at(&config, &[only_web, longer], "2026-11-24T18:45:00+09:00[Asia/Tokyo]").is_empty());
}

#[test]
fn only_the_last_window_of_a_multi_day_booking_is_an_end() {
    let config = world();
    let b = booking("week").components(["services/batch"]).days("2026-11-24", "2026-11-25").build();
    // Tuesday 19:45: today's hours end at 20:00, but Wednesday opens again.
    assert!(notices_at(&config, std::slice::from_ref(&b), "2026-11-24T19:45:00+09:00[Asia/Tokyo]").is_empty());
    let n = notices_at(&config, &[b], "2026-11-25T19:45:00+09:00[Asia/Tokyo]");
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].at, at("2026-11-25T20:00:00+09:00[Asia/Tokyo]"));
    assert_ne!(n[0].key(), "", "a key per booking end");
}

#[test]
fn a_row_told_ready_after_waiting_gets_one_ready_notice() {
    let config = world();
    let waiting = booking("app1")
        .components(["products/app1-web"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some(END))
        .feedback("waiting for db/stg-aurora")
        .build();
    let already = booking("batch")
        .components(["services/batch"])
        .span("2026-11-24T10:00:00+09:00[Asia/Tokyo]", Some(END))
        .feedback("ready")
        .build();
    let now = at("2026-11-24T10:20:00+09:00[Asia/Tokyo]");
    let bookings = [waiting.clone(), already.clone()];
    let d = desired(&bookings, &config, now);
    let told = [(waiting.id.clone(), "ready".to_string()), (already.id.clone(), "ready".to_string())];
    let n = ready(&told, &d, &bookings, &config);
    assert_eq!(n.len(), 1, "only the row that was waiting: {n:?}");
    assert_eq!((n[0].kind.clone(), &*n[0].booking.title, n[0].at), (NoticeKind::Ready, "app1", at(END)));
}
