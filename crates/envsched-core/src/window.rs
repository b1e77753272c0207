//! Booking windows and environment calendars: when is a booking active?
//!
//! The rules (brief §2 and §12):
//!
//! * A **date-time range** ([`Window::Span`]) is exact: those instants, operating hours or not.
//!   That is how people book a night or a weekend. A span with no end lasts until the end of
//!   the start's calendar day in the environment's zone.
//! * A **date-only range** ([`Window::Days`]) means those whole days in the environment's zone,
//!   or — where the environment has a calendar with operating hours, holidays or skipped
//!   dates — only the operating hours of the operating days among them.
//! * A row with **no date** ([`Window::Open`]) is active whenever its status is, again limited
//!   to the operating hours where those are configured.
//! * Lead time is added before and linger after every interval, so services are up *when* the
//!   window opens, not a few minutes after.
//!
//! All results are absolute instants ([`jiff::Timestamp`]). Local times are turned into
//! instants with [`first_instant_at_or_after`]: the first instant at which the wall clock in
//! the zone shows that time or later. In a DST gap that is the end of the gap (09:00 never
//! comes too early, an interval never gains or loses more than the clock change itself); in a
//! fold it is the first occurrence.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::holidays::HolidayCalendar;

/// When a booking row applies, as written in Notion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// The row has no date: active whenever its status is active (within operating hours
    /// where configured).
    Open,
    /// A date-only range, both days inclusive (`end: null` in Notion means `last == first`).
    Days {
        /// First booked day.
        first: Date,
        /// Last booked day (inclusive).
        last: Date,
    },
    /// An exact range of instants. `end: None` means "until the end of the start's day" in
    /// the environment's time zone.
    Span {
        /// Start instant.
        start: Timestamp,
        /// End instant (exclusive), if the row has one.
        end: Option<Timestamp>,
    },
}

impl Window {
    /// A short human description (`2026-11-24 … 2026-11-26`, `2026-11-30T10:00:00Z … …`).
    pub fn describe(&self) -> String {
        match self {
            Window::Open => "no date (while the status is active)".to_string(),
            Window::Days { first, last } if first == last => format!("{first} (whole day)"),
            Window::Days { first, last } => format!("{first} … {last} (whole days)"),
            Window::Span { start, end: Some(end) } => format!("{start} … {end}"),
            Window::Span { start, end: None } => format!("{start} … end of that day"),
        }
    }

    /// What is wrong with the window as written, if anything (an end before its start, or an
    /// empty range whose end is its start).
    pub fn defect(&self) -> Option<String> {
        match self {
            Window::Days { first, last } if last < first => {
                Some(format!("the date range ends ({last}) before it starts ({first})"))
            }
            Window::Span { start, end: Some(end) } if end == start => Some(format!(
                "the date range is empty: it starts and ends at {start}; give it an end after its start, \
                 or no end to book the rest of that day"
            )),
            Window::Span { start, end: Some(end) } if end < start => {
                Some(format!("the date range ends ({end}) before it starts ({start})"))
            }
            _ => None,
        }
    }
}

/// A half-open interval of instants `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
}

impl Interval {
    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// The length of the interval (zero if empty).
    pub fn duration(&self) -> SignedDuration {
        if self.end > self.start { self.end.duration_since(self.start) } else { SignedDuration::ZERO }
    }
}

/// Operating hours: the weekdays and the local time range an environment is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatingHours {
    /// Weekdays on which the environment operates.
    pub days: BTreeSet<WeekdayKey>,
    /// Local start time.
    pub from: Time,
    /// Local end time; `None` means midnight at the end of the day (`"24:00"`).
    pub to: Option<Time>,
}

/// A weekday usable as a set key (jiff's `Weekday` is not `Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekdayKey(pub i8);

impl From<Weekday> for WeekdayKey {
    fn from(w: Weekday) -> Self {
        WeekdayKey(w.to_monday_one_offset())
    }
}

/// An environment's calendar: time zone, operating hours, holidays and skipped dates.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// IANA zone dates and hours are read in.
    pub zone: TimeZone,
    /// Operating hours; `None` = whole days.
    pub hours: Option<OperatingHours>,
    /// Public holidays that are not operating days.
    pub holidays: Option<HolidayCalendar>,
    /// The official list that replaces the built-in rule for the years it lists
    /// (`holidays_csv`), once loaded.
    pub official: Option<std::sync::Arc<crate::holidays::Official>>,
    /// Dates that are not operating days (e.g. the office's year-end closure).
    pub skip_dates: BTreeSet<Date>,
}

/// How far [`Calendar::next_edge`] looks ahead for a window boundary.
pub const EDGE_HORIZON: SignedDuration = SignedDuration::from_hours(8 * 24);

impl Calendar {
    /// A calendar of whole days in `zone`, with no hours, holidays or skipped dates.
    pub fn whole_days(zone: TimeZone) -> Self {
        Calendar { zone, hours: None, holidays: None, official: None, skip_dates: BTreeSet::new() }
    }

    /// True when the calendar restricts nothing: every instant is operating time.
    pub fn is_unrestricted(&self) -> bool {
        self.hours.is_none() && self.holidays.is_none() && self.skip_dates.is_empty()
    }

    /// Whether `day` is an operating day (right weekday, not a holiday, not skipped).
    pub fn is_operating_day(&self, day: Date) -> bool {
        if self.skip_dates.contains(&day) {
            return false;
        }
        if self.is_holiday(day) {
            return false;
        }
        match &self.hours {
            Some(hours) => hours.days.contains(&WeekdayKey::from(day.weekday())),
            None => true,
        }
    }

    /// Whether `day` is a public holiday: by the official list for the years it lists, by the
    /// built-in rule otherwise.
    pub fn is_holiday(&self, day: Date) -> bool {
        let Some(h) = self.holidays else { return false };
        match &self.official {
            Some(o) if o.covers(day.year()) => o.dates.contains(&day),
            _ => h.holiday(day).is_some(),
        }
    }

    /// Whether the calendar knows `year`'s holidays (the rule's years and the official
    /// list's); `true` without holidays.
    pub fn covers_holidays(&self, year: i16) -> bool {
        self.holidays.is_none_or(|h| h.covers(year) || self.official.as_ref().is_some_and(|o| o.covers(year)))
    }

    /// The operating interval of `day`, if it is an operating day.
    pub fn operating_interval(&self, day: Date) -> Option<Interval> {
        if !self.is_operating_day(day) {
            return None;
        }
        let (from, to) = match &self.hours {
            Some(h) => (h.from, h.to),
            None => (Time::midnight(), None),
        };
        let start = first_instant_at_or_after(day.to_datetime(from), &self.zone);
        let end = match to {
            Some(t) => first_instant_at_or_after(day.to_datetime(t), &self.zone),
            None => start_of_day(next_day(day), &self.zone),
        };
        (end > start).then_some(Interval { start, end })
    }

    /// The local calendar date of `t` in this calendar's zone.
    pub fn local_date(&self, t: Timestamp) -> Date {
        t.to_zoned(self.zone.clone()).date()
    }

    /// The instant the local day after `t`'s local day begins (end of `t`'s day).
    pub fn end_of_local_day(&self, t: Timestamp) -> Timestamp {
        start_of_day(next_day(self.local_date(t)), &self.zone)
    }

    /// Every interval during which `window` is active, widened by `lead` before and `linger`
    /// after, merged, sorted, restricted to those that overlap `[from, to)`.
    ///
    /// Intervals are returned whole (not clipped to `[from, to)`), so callers can read a
    /// booking's real end ("up until 20:00") from the result.
    pub fn intervals(
        &self,
        window: &Window,
        lead: SignedDuration,
        linger: SignedDuration,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<Interval> {
        let raw: Vec<Interval> = match window {
            Window::Span { start, end } => {
                let end = end.unwrap_or_else(|| self.end_of_local_day(*start));
                vec![Interval { start: *start, end }]
            }
            Window::Open if self.is_unrestricted() => {
                vec![Interval { start: Timestamp::MIN, end: Timestamp::MAX }]
            }
            Window::Open => self.operating_intervals(None, lead, linger, from, to),
            Window::Days { first, last } => self.operating_intervals(Some((*first, *last)), lead, linger, from, to),
        };
        let mut widened: Vec<Interval> = raw
            .into_iter()
            .filter(|i| i.end > i.start)
            .map(|i| Interval { start: sat_sub(i.start, lead), end: sat_add(i.end, linger) })
            .collect();
        widened.sort();
        let mut merged: Vec<Interval> = Vec::with_capacity(widened.len());
        for i in widened {
            match merged.last_mut() {
                Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
                _ => merged.push(i),
            }
        }
        merged.retain(|i| i.end > from && i.start < to);
        merged
    }

    /// Operating intervals of the days in `days` (all days if `None`) that could, once widened
    /// by lead/linger, overlap `[from, to)`.
    fn operating_intervals(
        &self,
        days: Option<(Date, Date)>,
        lead: SignedDuration,
        linger: SignedDuration,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<Interval> {
        // One spare day each side covers zones whose days are longer than 24 h around
        // transitions and intervals that end at the next local midnight.
        let mut day = self.local_date(sat_sub(from, linger)).yesterday().unwrap_or(Date::MIN);
        let mut last = self.local_date(sat_add(to, lead)).tomorrow().unwrap_or(Date::MAX);
        if let Some((first, booked_last)) = days {
            day = day.max(first);
            last = last.min(booked_last);
        }
        let mut out = Vec::new();
        while day <= last {
            if let Some(i) = self.operating_interval(day) {
                out.push(i);
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        out
    }

    /// Whether `window` is active at `at` (with lead/linger).
    pub fn is_active(&self, window: &Window, lead: SignedDuration, linger: SignedDuration, at: Timestamp) -> bool {
        self.active_interval(window, lead, linger, at).is_some()
    }

    /// The (widened) interval containing `at`, if the window is active then.
    pub fn active_interval(
        &self,
        window: &Window,
        lead: SignedDuration,
        linger: SignedDuration,
        at: Timestamp,
    ) -> Option<Interval> {
        let to = sat_add(at, SignedDuration::from_nanos(1));
        self.intervals(window, lead, linger, at, to).into_iter().find(|i| i.contains(at))
    }

    /// The first instant after `after` (within [`EDGE_HORIZON`]) at which the window's
    /// activity changes: an interval starts or ends. Used to wake the daemon on time.
    pub fn next_edge(
        &self,
        window: &Window,
        lead: SignedDuration,
        linger: SignedDuration,
        after: Timestamp,
    ) -> Option<Timestamp> {
        let horizon = sat_add(after, EDGE_HORIZON);
        self.intervals(window, lead, linger, after, horizon)
            .into_iter()
            .flat_map(|i| [i.start, i.end])
            .filter(|t| *t > after && *t < Timestamp::MAX && *t <= horizon)
            .min()
    }
}

/// The first instant at which the wall clock in `zone` reads `local` or later.
///
/// Unambiguous times map to their one instant. In a gap (spring forward) no instant shows
/// `local`, and the answer is the transition itself — the first instant after the gap. In a
/// fold (fall back) it is the earlier of the two instants.
pub fn first_instant_at_or_after(local: DateTime, zone: &TimeZone) -> Timestamp {
    let ambiguous = zone.to_ambiguous_timestamp(local);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => match ambiguous.earlier() {
            Ok(t) => t,
            Err(_) => Timestamp::MAX,
        },
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the post-gap offset, the local time is an instant *before* the
            // transition; the transition is the next one after it.
            let probe = local.to_zoned(TimeZone::fixed(after)).map(|z| z.timestamp()).unwrap_or(Timestamp::MIN);
            zone.following(probe).next().map(|tr| tr.timestamp()).unwrap_or(probe)
        }
    }
}

/// The first instant of `day` in `zone` (midnight, or the end of a gap at midnight).
pub fn start_of_day(day: Date, zone: &TimeZone) -> Timestamp {
    first_instant_at_or_after(day.to_datetime(Time::midnight()), zone)
}

fn next_day(day: Date) -> Date {
    day.tomorrow().unwrap_or(Date::MAX)
}

fn sat_add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() { Timestamp::MIN } else { Timestamp::MAX })
}

fn sat_sub(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(if d.is_negative() { Timestamp::MAX } else { Timestamp::MIN })
}
