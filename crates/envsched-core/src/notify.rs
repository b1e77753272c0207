//! Notices for people, posted where they look (a comment on the booking's row).
//!
//! [`ending_soon`] is pure: the cycle's desired state + bookings + config + instant → the
//! bookings whose **last** window closes within `[notify] ending_soon`, with the targets that
//! will then stop. A target another booking keeps up past that instant does not stop, and a
//! booking whose end stops nothing gets no notice. A window that is followed by another
//! (tomorrow's operating hours of a multi-day booking) is not an end. [`Notice::key`] names
//! one booking end: whoever posts remembers the keys it posted, so each end is noticed once;
//! moving the end date makes a new key, and a new notice before the new end.
//!
//! [`ready`] gives, opt-in, one notice when a row's state becomes `ready` after waiting.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::booking::{Booking, BookingRef};
use crate::config::Config;
use crate::desired::{Desired, DesiredState, desired};
use crate::reconcile::Report;

/// What a notice says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// The booking's last window closes at `at`, and `targets` stop then.
    EndingSoon,
    /// What the booking asked for is up.
    Ready,
}

/// One notice for one booking row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What it says.
    pub kind: NoticeKind,
    /// The booking.
    pub booking: BookingRef,
    /// The row's creator (a Notion user id), mentioned in the comment.
    pub creator: Option<String>,
    /// When its targets stop (ending soon), or when the window that is now ready ends.
    pub at: Timestamp,
    /// The targets that stop then (ending soon), by name, sorted.
    pub targets: Vec<String>,
    /// The zone the row's times read in (its environment's).
    pub zone: jiff::tz::TimeZone,
}

impl Notice {
    /// The notice's identity: one booking end (or one window ready) — post each key once.
    pub fn key(&self) -> String {
        let kind = match self.kind {
            NoticeKind::EndingSoon => "ending-soon",
            NoticeKind::Ready => "ready",
        };
        format!("{kind} {} {}", self.booking.id, self.at)
    }

    /// The words that name this notice in its comment (`stop at 20:00 (Asia/Tokyo) on
    /// 2026-11-24`): a comment holding them says it already, so a copy that restarts does
    /// not say it twice.
    pub fn phrase(&self) -> String {
        let when = self.at.to_zoned(self.zone.clone());
        let zone = self.zone.iana_name().unwrap_or("UTC");
        let (date, time) = (when.strftime("%Y-%m-%d"), when.strftime("%H:%M"));
        match self.kind {
            NoticeKind::EndingSoon => format!("stop at {time} ({zone}) on {date}"),
            NoticeKind::Ready => format!("is up, until {time} ({zone}) on {date}"),
        }
    }

    /// The comment's text after `envsched: ` and the mention: what happens when, and what to
    /// do. `date_property` is the row's date property (`notion.window_property`).
    pub fn text(&self, date_property: &str) -> String {
        match self.kind {
            NoticeKind::EndingSoon => format!(
                " {} {} when this booking ends. Move the end of {date_property} to keep them running.",
                self.targets.join(", "),
                self.phrase()
            ),
            NoticeKind::Ready => format!(" what this booking asked for {}.", self.phrase()),
        }
    }
}

/// The notices `config`'s `[notify]` asks of cycle `report`, whose live bookings were
/// `bookings` and whose rows were told `texts`: none when the cycle may not tell rows
/// anything ([`Report::may_tell_rows`]: frozen, or the bookings unread).
pub fn due(report: &Report, bookings: &[Booking], config: &Config, texts: &[(String, String)]) -> Vec<Notice> {
    if !report.may_tell_rows() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(ahead) = config.notify.ending_soon {
        out.extend(ending_soon(&report.desired, bookings, config, report.at, ahead));
    }
    if config.notify.ready {
        out.extend(ready(texts, &report.desired, bookings, config));
    }
    out
}

/// The bookings whose last window closes within `ahead` of `now` and whose end stops
/// something, given the cycle's `now_desired` (the desired state at `now`).
pub fn ending_soon(
    now_desired: &Desired,
    bookings: &[Booking],
    config: &Config,
    now: Timestamp,
    ahead: SignedDuration,
) -> Vec<Notice> {
    let (lead, linger) = (config.schedule.lead, config.schedule.linger);
    let horizon = now.checked_add(ahead).unwrap_or(Timestamp::MAX);
    // Whether a booking's own last window ends at `stop` in an environment's calendar, and
    // the desired state at each stop instant: each worked out once, not once per target.
    let mut ends: BTreeMap<(&str, Option<&str>, Timestamp), bool> = BTreeMap::new();
    let mut then: BTreeMap<Timestamp, Desired> = BTreeMap::new();
    let mut notices: BTreeMap<(String, Timestamp), Notice> = BTreeMap::new();
    for td in &now_desired.targets {
        let Some(stop) = td.until.filter(|u| td.state == DesiredState::Up && *u > now && *u <= horizon) else {
            continue;
        };
        let ending: Vec<(&Booking, Option<&str>)> = td
            .bookings
            .iter()
            .filter_map(|r| bookings.iter().find(|b| *b.id == *r.id))
            .map(|b| (b, td.target.environment.as_deref().or(b.environment.as_deref())))
            .filter(|(b, env)| {
                *ends.entry((b.id.as_str(), *env, stop)).or_insert_with(|| {
                    // Only the booking's own end: active until `stop`, no window after it.
                    let calendar = config.calendar(*env);
                    calendar.active_interval(&b.window, lead, linger, now).is_some_and(|iv| iv.end == stop)
                        && calendar.next_edge(&b.window, lead, linger, stop).is_none()
                })
            })
            .collect();
        if ending.is_empty() {
            continue; // an evening of a booking that goes on, or no booking's end
        }
        let later = then.entry(stop).or_insert_with(|| desired(bookings, config, stop));
        if later.targets.get(td.index).is_none_or(|t| t.state == DesiredState::Up) {
            continue; // another booking (or a pin) keeps it up past the end
        }
        for (b, env) in ending {
            let n = notices.entry((b.id.clone(), stop)).or_insert_with(|| Notice {
                kind: NoticeKind::EndingSoon,
                booking: b.to_ref(),
                creator: b.creator.clone(),
                at: stop,
                targets: Vec::new(),
                zone: config.calendar(env).zone.clone(),
            });
            n.targets.push(td.target.name.clone());
        }
    }
    let mut out: Vec<Notice> = notices.into_values().collect();
    for n in &mut out {
        n.targets.sort();
        n.targets.dedup();
    }
    out
}

/// One notice per booking whose row is told `ready` now after being told something else
/// (waiting, starting) before: `told` are this cycle's texts by row id, and each booking's
/// `feedback` is what its row said when it was read. The notice's instant is when the
/// booking's current window ends (so each window is noticed once), `None` for none.
pub fn ready(told: &[(String, String)], now_desired: &Desired, bookings: &[Booking], config: &Config) -> Vec<Notice> {
    told.iter()
        .filter(|(_, text)| text == "ready")
        .filter_map(|(id, _)| {
            let b = bookings.iter().find(|b| &b.id == id)?;
            let before = b.feedback.as_deref().unwrap_or("");
            if !(before.starts_with("waiting") || before.starts_with("starting")) {
                return None;
            }
            let until = now_desired
                .targets
                .iter()
                .filter(|t| t.bookings.iter().any(|r| *r.id == **id))
                .filter_map(|t| t.until)
                .max()?;
            Some(Notice {
                kind: NoticeKind::Ready,
                booking: b.to_ref(),
                creator: b.creator.clone(),
                at: until,
                targets: Vec::new(),
                zone: config.calendar(b.environment.as_deref()).zone.clone(),
            })
        })
        .collect()
}
