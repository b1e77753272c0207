//! Cron expressions for the daemon's optional jobs (`schedule.resync`, `schedule.summary`),
//! evaluated on wall-clock time in an IANA zone, correct across DST changes.
//!
//! Why not tokio-cron-scheduler (named in the design card): 0.15 takes the zone's UTC offset
//! once, when a job is created (`Job::new_tz` → `time_offset_seconds`), and computes every
//! later fire time in that fixed offset. A `0 0 9 * * *` job created in winter in
//! Europe/London then fires at 10:00 all summer. Jiff already knows every zone's rules, so
//! fire times are computed here, on jiff, with no second time library.
//!
//! Syntax: 5 fields (`min hour day-of-month month day-of-week`) or 6 with seconds first (`sec
//! min hour dom month dow`, as in `resync = "0 0 * * * *"`). Each field is `*`, `?` (same as
//! `*`), a number, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, or a comma list of those.
//! Months and weekdays take names (`JAN`, `MON-FRI`); day-of-week 0 and 7 are Sunday. When
//! both day fields are restricted, a day matching either fires (as in Vixie cron). `@hourly`,
//! `@daily`, `@weekly`, `@monthly` and `@yearly` are shorthands.
//!
//! DST: every matching local time fires once. A local time that a spring-forward skips fires
//! at the shifted instant (02:30 in a 02:00→03:00 gap fires at 03:30; hourly `0 0 * * * *`
//! fires at 03:00 once). A local time that a fall-back repeats fires at its first occurrence
//! only (so an hourly job waits two real hours across that repeated hour, and a daily 01:30
//! job never fires twice).

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How far ahead a match is looked for: a Feb 29 schedule can wait 8 years (2096 → 2104).
const SEARCH_DAYS: i32 = 366 * 9;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    seconds: u64,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Both day fields restricted: a day matching either fires.
    either_day: bool,
}

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Field = Field { name: "second", min: 0, max: 59, names: &[] };
const MINUTE: Field = Field { name: "minute", min: 0, max: 59, names: &[] };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, names: &[] };
const DAY: Field = Field { name: "day-of-month", min: 1, max: 31, names: &[] };
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
};
// 7 is Sunday too; it is folded onto 0 after parsing.
const WEEKDAY: Field =
    Field { name: "day-of-week", min: 0, max: 7, names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] };

impl Field {
    fn value(&self, s: &str) -> Result<u32, String> {
        let upper = s.to_ascii_uppercase();
        if let Some(i) = self.names.iter().position(|n| *n == upper) {
            return Ok(i as u32 + if self.min == 1 { 1 } else { 0 });
        }
        let v: u32 = s.parse().map_err(|_| {
            let names =
                if self.names.is_empty() { String::new() } else { format!(" or a name like {}", self.names[0]) };
            format!("{s:?} is not a number{names}")
        })?;
        if v < self.min || v > self.max {
            return Err(format!("{v} is outside {}–{}", self.min, self.max));
        }
        Ok(v)
    }

    /// The set of values `spec` names, as bits.
    fn parse(&self, spec: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for part in spec.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => {
                    let step: u32 = s
                        .parse()
                        .ok()
                        .filter(|n| *n > 0 && *n <= self.max)
                        .ok_or_else(|| format!("step {s:?} must be a number from 1 to {}", self.max))?;
                    (r, Some(step))
                }
                None => (part, None),
            };
            let (lo, hi) = match range {
                "*" | "?" => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (self.value(a)?, self.value(b)?);
                        if a > b {
                            return Err(format!("range {range:?} runs backwards"));
                        }
                        (a, b)
                    }
                    // `a/n` runs from a to the field's end.
                    None => {
                        let a = self.value(range)?;
                        (a, if step.is_some() { self.max } else { a })
                    }
                },
            };
            let mut v = Some(lo);
            while let Some(x) = v.filter(|x| *x <= hi) {
                bits |= 1 << x;
                v = x.checked_add(step.unwrap_or(1));
            }
        }
        Ok(bits)
    }
}

impl FromStr for Cron {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, CronError> {
        let text = s.trim();
        let expanded = match text {
            "@hourly" => "0 0 * * * *",
            "@daily" | "@midnight" => "0 0 0 * * *",
            "@weekly" => "0 0 0 * * SUN",
            "@monthly" => "0 0 0 1 * *",
            "@yearly" | "@annually" => "0 0 0 1 1 *",
            other if other.starts_with('@') => {
                return Err(CronError(format!(
                    "{other:?} is not a shorthand; use @hourly, @daily, @weekly, @monthly or @yearly"
                )));
            }
            other => other,
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        let parts: Vec<&str> = match parts.len() {
            5 => std::iter::once("0").chain(parts).collect(),
            6 => parts,
            n => {
                return Err(CronError(format!(
                    "{text:?} has {n} fields; write 5 (minute hour day-of-month month day-of-week) or 6 (second first), e.g. \"0 0 * * * *\" for hourly"
                )));
            }
        };
        let fields = [&SECOND, &MINUTE, &HOUR, &DAY, &MONTH, &WEEKDAY];
        let mut bits = [0u64; 6];
        for (i, (f, p)) in fields.iter().zip(&parts).enumerate() {
            bits[i] = f.parse(p).map_err(|e| CronError(format!("{text:?}: {} field {p:?}: {e}", f.name)))?;
        }
        // Sunday is 0 and 7.
        let weekdays = ((bits[5] | (bits[5] >> 7)) & 0x7f) as u8;
        // As in Vixie cron, a field starting with `*` (`*/2` too) does not restrict the day.
        let restricted = |p: &str| !p.starts_with('*') && p != "?";
        let cron = Cron {
            text: text.to_string(),
            seconds: bits[0],
            minutes: bits[1],
            hours: bits[2] as u32,
            days: bits[3] as u32,
            months: bits[4] as u16,
            weekdays,
            either_day: restricted(parts[3]) && restricted(parts[5]),
        };
        // Refuse what never fires (e.g. "0 0 0 31 2 *"), rather than sleeping forever.
        let probe = jiff::civil::date(2000, 1, 1);
        if (0..SEARCH_DAYS).all(|d| probe.checked_add(d.days()).map(|day| !cron.date_matches(day)).unwrap_or(true)) {
            return Err(CronError(format!("{text:?} matches no date (check day-of-month against month)")));
        }
        Ok(cron)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn has(bits: u64, v: i8) -> bool {
    v >= 0 && bits & (1 << v) != 0
}

/// The smallest value ≥ `from` in `bits`, below 64.
fn first_from(bits: u64, from: i8) -> Option<i8> {
    (from.max(0)..64).find(|v| has(bits, *v))
}

impl Cron {
    fn date_matches(&self, d: Date) -> bool {
        if !has(u64::from(self.months), d.month()) {
            return false;
        }
        let dom = has(u64::from(self.days), d.day());
        let dow = has(u64::from(self.weekdays), d.weekday().to_sunday_zero_offset());
        if self.either_day { dom || dow } else { dom && dow }
    }

    /// The first matching time of day at or after `h:m:s`.
    fn time_from(&self, h: i8, m: i8, s: i8) -> Option<(i8, i8, i8)> {
        let mut hour = first_from(u64::from(self.hours), h)?;
        loop {
            let (m0, s0) = if hour == h { (m, s) } else { (0, 0) };
            let mut minute = first_from(self.minutes, m0);
            while let Some(mm) = minute.filter(|mm| *mm < 60) {
                let s0 = if hour == h && mm == m { s0 } else { 0 };
                if let Some(sec) = first_from(self.seconds, s0).filter(|s| *s < 60) {
                    return Some((hour, mm, sec));
                }
                minute = first_from(self.minutes, mm + 1);
            }
            hour = first_from(u64::from(self.hours), hour + 1).filter(|h| *h < 24)?;
        }
    }

    /// The first matching local date-time at or after `from`.
    fn next_civil(&self, from: DateTime) -> Option<DateTime> {
        let mut date = from.date();
        let mut start = (from.hour(), from.minute(), from.second());
        for _ in 0..SEARCH_DAYS {
            if self.date_matches(date)
                && let Some((h, m, s)) = self.time_from(start.0, start.1, start.2)
            {
                return Some(date.at(h, m, s, 0));
            }
            start = (0, 0, 0);
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The first fire time strictly after `after`, in `zone`'s wall-clock time. `None` when
    /// nothing matches within 9 years of `after` (a rare day-of-month and weekday pair such
    /// as Feb 29 on a Sunday can run out), or past the end of jiff's calendar.
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        // Whole seconds: the next candidate is the next second of local time.
        let local = zone.to_datetime(after);
        let mut from = local.with().subsec_nanosecond(0).build().ok()?.checked_add(1.second()).ok()?;
        loop {
            let civil = self.next_civil(from)?;
            // Gap: the instant shifted forward by the gap; repeated hour: its first occurrence.
            let at = zone.to_ambiguous_timestamp(civil).compatible().ok()?;
            if at > after {
                return Some(at);
            }
            // A repeated local time already passed (we are in its second occurrence).
            from = civil.checked_add(1.second()).ok()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fires(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
        let cron: Cron = expr.parse().unwrap();
        let tz = TimeZone::get(zone).unwrap();
        let mut at = DateTime::from_str(from).unwrap().to_zoned(tz.clone()).unwrap().timestamp();
        let mut out = Vec::new();
        for _ in 0..n {
            at = cron.next_after(at, &tz).unwrap();
            out.push(at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S%:z").to_string());
        }
        out
    }

    #[test]
    fn a_daily_job_keeps_its_wall_clock_time_across_both_dst_changes() {
        // Europe/London: 2027-03-28 01:00 GMT → 02:00 BST; 2027-10-31 02:00 BST → 01:00 GMT.
        assert_eq!(
            fires("0 0 9 * * *", "Europe/London", "2027-03-27T12:00", 3),
            ["2027-03-28 09:00:00+01:00", "2027-03-29 09:00:00+01:00", "2027-03-30 09:00:00+01:00"]
        );
        assert_eq!(
            fires("0 9 * * MON-FRI", "Europe/London", "2027-10-29T12:00", 2),
            ["2027-11-01 09:00:00+00:00", "2027-11-02 09:00:00+00:00"]
        );
        // The same in UTC, to show the offset really moved: 08:00Z in summer, 09:00Z after.
        let cron: Cron = "0 0 9 * * *".parse().unwrap();
        let tz = TimeZone::get("Europe/London").unwrap();
        let summer = cron.next_after("2027-06-01T00:00:00Z".parse().unwrap(), &tz).unwrap();
        assert_eq!(summer.to_string(), "2027-06-01T08:00:00Z");
    }

    #[test]
    fn a_local_time_skipped_by_spring_forward_fires_once_at_the_shifted_instant() {
        // America/New_York, 2027-03-14: 02:00 EST → 03:00 EDT, so 02:30 does not exist.
        assert_eq!(
            fires("0 30 2 * * *", "America/New_York", "2027-03-13T12:00", 2),
            ["2027-03-14 03:30:00-04:00", "2027-03-15 02:30:00-04:00"]
        );
        assert_eq!(
            fires("0 0 * * * *", "America/New_York", "2027-03-14T00:30", 3),
            ["2027-03-14 01:00:00-05:00", "2027-03-14 03:00:00-04:00", "2027-03-14 04:00:00-04:00"]
        );
    }

    #[test]
    fn a_local_time_repeated_by_fall_back_fires_once_at_its_first_occurrence() {
        // America/New_York, 2027-11-07: 02:00 EDT → 01:00 EST, so 01:00–01:59 happens twice.
        assert_eq!(
            fires("0 30 1 * * *", "America/New_York", "2027-11-06T12:00", 2),
            ["2027-11-07 01:30:00-04:00", "2027-11-08 01:30:00-05:00"]
        );
        assert_eq!(
            fires("0 0 * * * *", "America/New_York", "2027-11-07T00:30", 3),
            ["2027-11-07 01:00:00-04:00", "2027-11-07 02:00:00-05:00", "2027-11-07 03:00:00-05:00"]
        );
        // Started inside the second 01:xx: today's 01:30 is already past.
        let tz = TimeZone::get("America/New_York").unwrap();
        let second = "2027-11-07T06:10:00Z".parse::<Timestamp>().unwrap(); // 01:10 EST
        let next = "0 30 1 * * *".parse::<Cron>().unwrap().next_after(second, &tz).unwrap();
        assert_eq!(next.to_string(), "2027-11-08T06:30:00Z");
    }

    #[test]
    fn fields_steps_names_and_the_either_day_rule() {
        assert_eq!(
            fires("*/20 * * * * *", "UTC", "2026-01-01T00:00:05", 3),
            ["2026-01-01 00:00:20+00:00", "2026-01-01 00:00:40+00:00", "2026-01-01 00:01:00+00:00"]
        );
        // The 13th or any Friday (2026-11-13 is a Friday; the 20th too).
        assert_eq!(
            fires("0 12 13 * FRI", "UTC", "2026-11-12T00:00", 3),
            ["2026-11-13 12:00:00+00:00", "2026-11-20 12:00:00+00:00", "2026-11-27 12:00:00+00:00"]
        );
        assert_eq!(fires("0 0 0 29 2 *", "UTC", "2097-01-01T00:00", 1), ["2104-02-29 00:00:00+00:00"]);
        assert_eq!(fires("@weekly", "UTC", "2026-11-23T00:00", 1), ["2026-11-29 00:00:00+00:00"]);
        assert_eq!(fires("0 0 0 * * 7", "UTC", "2026-11-23T00:00", 1), ["2026-11-29 00:00:00+00:00"]);
        assert_eq!(
            fires("0 0 10-14/2 * * *", "UTC", "2026-11-23T10:00", 2),
            ["2026-11-23 12:00:00+00:00", "2026-11-23 14:00:00+00:00"]
        );
    }

    fn list(values: &[u32]) -> String {
        if values.is_empty() { "*".into() } else { values.iter().map(u32::to_string).collect::<Vec<_>>().join(",") }
    }

    proptest::proptest! {
        /// Against a minute-by-minute scan in UTC (no DST) with the sets written as lists: the
        /// next fire is the first matching minute, and nothing matches in between.
        #[test]
        fn the_next_fire_is_the_first_matching_minute(
            minutes in proptest::collection::vec(0u32..60, 0..4),
            hours in proptest::collection::vec(0u32..24, 0..3),
            days in proptest::collection::vec(1u32..32, 0..3),
            weekdays in proptest::collection::vec(0u32..7, 0..3),
            start in 1_767_225_600i64..1_830_297_600, // 2026 to 2028
        ) {
            let expr = format!("{} {} {} * {}", list(&minutes), list(&hours), list(&days), list(&weekdays));
            let cron: Cron = expr.parse().unwrap();
            let any = |set: &[u32], v: i8| set.is_empty() || set.contains(&(v as u32));
            let matches = |t: Timestamp| {
                let d = t.to_zoned(TimeZone::UTC).datetime();
                let dom = any(&days, d.day());
                let dow = any(&weekdays, d.weekday().to_sunday_zero_offset());
                let day = if !days.is_empty() && !weekdays.is_empty() { dom || dow } else { dom && dow };
                d.second() == 0 && any(&minutes, d.minute()) && any(&hours, d.hour()) && day
            };
            let after = Timestamp::from_second(start).unwrap();
            let next = cron.next_after(after, &TimeZone::UTC).unwrap();
            proptest::prop_assert!(next > after && matches(next), "{expr}: {next} does not match");
            let mut t = Timestamp::from_second(start - start.rem_euclid(60) + 60).unwrap();
            while t < next {
                proptest::prop_assert!(!matches(t), "{expr}: {t} matches but {next} came first");
                t = t.checked_add(jiff::SignedDuration::from_mins(1)).unwrap();
            }
        }
    }

    #[test]
    fn bad_expressions_name_the_field_and_the_fix() {
        let err = |s: &str| s.parse::<Cron>().unwrap_err().to_string();
        assert!(err("0 0 24 * * *").contains("hour field \"24\": 24 is outside 0–23"), "{}", err("0 0 24 * * *"));
        assert!(err("0 0 * * *  * *").contains("has 7 fields"));
        assert!(err("0 0 * * FOO").contains("day-of-week field \"FOO\""));
        assert!(err("0 0 0 31 2 *").contains("matches no date"));
        assert!(err("*/0 * * * *").contains("step \"0\" must be a number from 1 to 59"));
        assert!(err("1/4294967295 * * * *").contains("must be a number from 1 to 59"));
        assert!(err("0 5-1 * * *").contains("runs backwards"));
        assert!(err("@often").contains("not a shorthand"));
    }
}
