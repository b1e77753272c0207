//! Built-in public-holiday calendars.
//!
//! # Japan (`holidays = "jp"`)
//!
//! Computed by rule for every year from [`JP_FIRST_YEAR`] to [`JP_LAST_YEAR`], as the
//! National Holidays Act (国民の祝日に関する法律) has them since 2020:
//! - fixed dates: 元日 1/1, 建国記念の日 2/11, 天皇誕生日 2/23, 昭和の日 4/29, 憲法記念日 5/3,
//!   みどりの日 5/4, こどもの日 5/5, 山の日 8/11, 文化の日 11/3, 勤労感謝の日 11/23;
//! - Happy Monday days: 成人の日 (2nd Monday of January), 海の日 (3rd of July), 敬老の日
//!   (3rd of September), スポーツの日 (2nd of October);
//! - the equinox days by the standard approximation (valid 1980–2099): 春分の日 on March
//!   ⌊20.8431 + 0.242194 (y − 1980) − ⌊(y − 1980) / 4⌋⌋, 秋分の日 on September
//!   ⌊23.2488 + 0.242194 (y − 1980) − ⌊(y − 1980) / 4⌋⌋;
//! - 振替休日: a holiday on a Sunday moves the day off to the next day that is not a holiday;
//! - 国民の休日: a day between two holidays is a day off.
//!
//! The years start at 2022 because 2020 and 2021 moved 海の日, スポーツの日 and 山の日 for the
//! Olympics by special law. The equinox days are officially fixed by the National
//! Astronomical Observatory each February for the following year; the tests check that the
//! rule reproduces the Cabinet Office's published dates (内閣府「国民の祝日について」,
//! <https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html>, CSV `syukujitsu.csv`) for
//! 2024–2027. Outside the covered years [`HolidayCalendar::covers`] is false and the
//! desired-state computation reports a problem for the environment (and treats those dates
//! as ordinary days).
//!
//! # The official list (`holidays_csv`)
//!
//! An environment may also point at a copy of the Cabinet Office's `syukujitsu.csv`
//! ([`Official::parse_csv`]): for every year that file lists, its dates replace the rule's
//! (the official list wins, should an equinox ever fall on another day than the rule says);
//! other years follow the rule.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jiff::civil::{Date, Weekday, date};

/// First year the Japanese rule covers (the first after the Olympic special dates).
pub const JP_FIRST_YEAR: i16 = 2022;
/// Last year the Japanese rule covers (the end of the equinox approximation's range).
pub const JP_LAST_YEAR: i16 = 2099;

/// The Japanese public holidays of `year` by rule, sorted.
fn jp_year(year: i16) -> Vec<(Date, &'static str)> {
    let fixed = [
        (1, 1, "元日"),
        (2, 11, "建国記念の日"),
        (2, 23, "天皇誕生日"),
        (4, 29, "昭和の日"),
        (5, 3, "憲法記念日"),
        (5, 4, "みどりの日"),
        (5, 5, "こどもの日"),
        (8, 11, "山の日"),
        (11, 3, "文化の日"),
        (11, 23, "勤労感謝の日"),
    ];
    let monday = |month: i8, nth: i8| {
        date(year, month, 1).nth_weekday_of_month(nth, Weekday::Monday).expect("every month has a 2nd and a 3rd Monday")
    };
    let since = f64::from(year - 1980);
    let equinox = |base: f64| (base + 0.242194 * since - (since / 4.0).floor()).floor() as i8;
    let mut days: Vec<(Date, &str)> = fixed.iter().map(|&(m, d, name)| (date(year, m, d), name)).collect();
    days.extend([
        (monday(1, 2), "成人の日"),
        (monday(7, 3), "海の日"),
        (monday(9, 3), "敬老の日"),
        (monday(10, 2), "スポーツの日"),
        (date(year, 3, equinox(20.8431)), "春分の日"),
        (date(year, 9, equinox(23.2488)), "秋分の日"),
    ]);
    days.sort();
    let is_national = |d: Date| days.iter().any(|(h, _)| *h == d);
    let mut off = Vec::new();
    for &(day, _) in &days {
        // 振替休日: the nearest later day that is not a national holiday.
        if day.weekday() == Weekday::Sunday {
            let mut next = day.tomorrow().expect("in range");
            while is_national(next) {
                next = next.tomorrow().expect("in range");
            }
            off.push(next);
        }
        // 国民の休日: a day whose eve and morrow are both national holidays.
        let between = day.tomorrow().expect("in range");
        if !is_national(between) && between.tomorrow().is_ok_and(is_national) {
            off.push(between);
        }
    }
    days.extend(off.into_iter().map(|d| (d, "休日")));
    days.sort();
    days.dedup_by_key(|(d, _)| *d);
    days
}

/// Every covered year's holidays, computed once, sorted.
fn jp_all() -> &'static [(Date, &'static str)] {
    static ALL: OnceLock<Vec<(Date, &'static str)>> = OnceLock::new();
    ALL.get_or_init(|| (JP_FIRST_YEAR..=JP_LAST_YEAR).flat_map(jp_year).collect())
}

/// A built-in holiday calendar an environment can follow (`holidays = "jp"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayCalendar {
    /// Japanese public holidays (国民の祝日 and the days off they bring), by rule.
    Jp,
}

impl HolidayCalendar {
    /// Parses the config value (`"jp"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "jp" | "japan" => Some(Self::Jp),
            _ => None,
        }
    }

    /// The config value for this calendar.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jp => "jp",
        }
    }

    /// The holiday's name when `day` is a public holiday.
    pub fn holiday(self, day: Date) -> Option<&'static str> {
        match self {
            Self::Jp => {
                let all = jp_all();
                all.binary_search_by(|(d, _)| d.cmp(&day)).ok().map(|i| all[i].1)
            }
        }
    }

    /// Whether the calendar knows the holidays of `year`.
    pub fn covers(self, year: i16) -> bool {
        match self {
            Self::Jp => (JP_FIRST_YEAR..=JP_LAST_YEAR).contains(&year),
        }
    }
}

/// An official list of holidays: the Cabinet Office's `syukujitsu.csv` (内閣府「国民の祝日に
/// ついて」), one `YYYY/M/D,名称` line per day off after a header line, in Shift_JIS with CRLF
/// line ends as published (a UTF-8 copy reads the same: only the ASCII date column is read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Official {
    /// The years the list has at least one date in: for those, it is the whole truth.
    pub years: BTreeSet<i16>,
    /// Its days off (substitute holidays and 国民の休日 included, named 休日 there).
    pub dates: BTreeSet<Date>,
}

impl Official {
    /// Reads the CSV's bytes. A line whose first field is not a date is an error naming the
    /// line, except the header (line 1); an empty list is an error.
    pub fn parse_csv(bytes: &[u8]) -> Result<Official, String> {
        let mut out = Official::default();
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let field = line.split(|b| *b == b',').next().unwrap_or_default();
            match std::str::from_utf8(field).ok().and_then(parse_slash_date) {
                Some(d) => {
                    out.years.insert(d.year());
                    out.dates.insert(d);
                }
                None if i == 0 => {} // the header: 国民の祝日・休日月日,国民の祝日・休日名称
                None => {
                    return Err(format!(
                        "line {}: {:?} is not a date (the file should be the Cabinet Office's syukujitsu.csv: YYYY/M/D,name)",
                        i + 1,
                        String::from_utf8_lossy(field)
                    ));
                }
            }
        }
        if out.dates.is_empty() {
            return Err("no holiday dates in the file (expected lines like 2027/3/21,春分の日)".into());
        }
        Ok(out)
    }

    /// Whether the list speaks for `year`.
    pub fn covers(&self, year: i16) -> bool {
        self.years.contains(&year)
    }
}

/// `2027/3/21` (or `2027-03-21`).
fn parse_slash_date(s: &str) -> Option<Date> {
    let mut parts = s.trim().split(['/', '-']);
    let (y, m, d) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if parts.next().is_some() {
        return None;
    }
    Date::new(y, m, d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Cabinet Office's published dates for 2024–2027 (`syukujitsu.csv`), which the
    /// rule must reproduce exactly.
    const JP: &[(Date, &str)] = &[
        (date(2024, 1, 1), "元日"),
        (date(2024, 1, 8), "成人の日"),
        (date(2024, 2, 11), "建国記念の日"),
        (date(2024, 2, 12), "休日"),
        (date(2024, 2, 23), "天皇誕生日"),
        (date(2024, 3, 20), "春分の日"),
        (date(2024, 4, 29), "昭和の日"),
        (date(2024, 5, 3), "憲法記念日"),
        (date(2024, 5, 4), "みどりの日"),
        (date(2024, 5, 5), "こどもの日"),
        (date(2024, 5, 6), "休日"),
        (date(2024, 7, 15), "海の日"),
        (date(2024, 8, 11), "山の日"),
        (date(2024, 8, 12), "休日"),
        (date(2024, 9, 16), "敬老の日"),
        (date(2024, 9, 22), "秋分の日"),
        (date(2024, 9, 23), "休日"),
        (date(2024, 10, 14), "スポーツの日"),
        (date(2024, 11, 3), "文化の日"),
        (date(2024, 11, 4), "休日"),
        (date(2024, 11, 23), "勤労感謝の日"),
        (date(2025, 1, 1), "元日"),
        (date(2025, 1, 13), "成人の日"),
        (date(2025, 2, 11), "建国記念の日"),
        (date(2025, 2, 23), "天皇誕生日"),
        (date(2025, 2, 24), "休日"),
        (date(2025, 3, 20), "春分の日"),
        (date(2025, 4, 29), "昭和の日"),
        (date(2025, 5, 3), "憲法記念日"),
        (date(2025, 5, 4), "みどりの日"),
        (date(2025, 5, 5), "こどもの日"),
        (date(2025, 5, 6), "休日"),
        (date(2025, 7, 21), "海の日"),
        (date(2025, 8, 11), "山の日"),
        (date(2025, 9, 15), "敬老の日"),
        (date(2025, 9, 23), "秋分の日"),
        (date(2025, 10, 13), "スポーツの日"),
        (date(2025, 11, 3), "文化の日"),
        (date(2025, 11, 23), "勤労感謝の日"),
        (date(2025, 11, 24), "休日"),
        (date(2026, 1, 1), "元日"),
        (date(2026, 1, 12), "成人の日"),
        (date(2026, 2, 11), "建国記念の日"),
        (date(2026, 2, 23), "天皇誕生日"),
        (date(2026, 3, 20), "春分の日"),
        (date(2026, 4, 29), "昭和の日"),
        (date(2026, 5, 3), "憲法記念日"),
        (date(2026, 5, 4), "みどりの日"),
        (date(2026, 5, 5), "こどもの日"),
        (date(2026, 5, 6), "休日"),
        (date(2026, 7, 20), "海の日"),
        (date(2026, 8, 11), "山の日"),
        (date(2026, 9, 21), "敬老の日"),
        (date(2026, 9, 22), "休日"),
        (date(2026, 9, 23), "秋分の日"),
        (date(2026, 10, 12), "スポーツの日"),
        (date(2026, 11, 3), "文化の日"),
        (date(2026, 11, 23), "勤労感謝の日"),
        (date(2027, 1, 1), "元日"),
        (date(2027, 1, 11), "成人の日"),
        (date(2027, 2, 11), "建国記念の日"),
        (date(2027, 2, 23), "天皇誕生日"),
        (date(2027, 3, 21), "春分の日"),
        (date(2027, 3, 22), "休日"),
        (date(2027, 4, 29), "昭和の日"),
        (date(2027, 5, 3), "憲法記念日"),
        (date(2027, 5, 4), "みどりの日"),
        (date(2027, 5, 5), "こどもの日"),
        (date(2027, 7, 19), "海の日"),
        (date(2027, 8, 11), "山の日"),
        (date(2027, 9, 20), "敬老の日"),
        (date(2027, 9, 23), "秋分の日"),
        (date(2027, 10, 11), "スポーツの日"),
        (date(2027, 11, 3), "文化の日"),
        (date(2027, 11, 23), "勤労感謝の日"),
    ];

    fn jp(y: i16, m: i8, d: i8) -> Option<&'static str> {
        HolidayCalendar::Jp.holiday(date(y, m, d))
    }

    #[test]
    fn the_rule_reproduces_the_cabinet_office_dates_for_2024_to_2027() {
        let rule: Vec<_> = (2024..=2027).flat_map(jp_year).collect();
        assert_eq!(rule, JP);
    }

    #[test]
    fn the_computed_calendar_is_sorted_so_binary_search_is_valid() {
        assert!(jp_all().windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn years_past_the_table_have_their_holidays_by_rule() {
        // 2028: 春分の日 3/20 (Mon), 秋分の日 9/22 (Fri); 建国記念の日 on Friday.
        assert_eq!(jp(2028, 3, 20), Some("春分の日"));
        assert_eq!(jp(2028, 9, 22), Some("秋分の日"));
        assert_eq!(jp(2028, 1, 10), Some("成人の日"));
        // 2029: 憲法記念日 on Thursday, こどもの日 on Saturday; 2030: 5/5 is a Sunday, so 5/6.
        assert_eq!(jp(2030, 5, 5), Some("こどもの日"));
        assert_eq!(jp(2030, 5, 6), Some("休日"));
        // 2032: 敬老の日 9/20 and 秋分の日 9/22 sandwich 9/21 (国民の休日).
        assert_eq!(jp(2032, 9, 20), Some("敬老の日"));
        assert_eq!(jp(2032, 9, 21), Some("休日"));
        assert_eq!(jp(2032, 9, 22), Some("秋分の日"));
        // Every year has its 16 national holidays and at most a few days off besides.
        for y in JP_FIRST_YEAR..=JP_LAST_YEAR {
            let n = jp_year(y).iter().filter(|(_, name)| *name != "休日").count();
            assert_eq!(n, 16, "{y}");
        }
    }

    /// 2028–2030 as published ahead of the official 暦要項 by the holiday_jp dataset
    /// (github.com/holiday-jp/holiday_jp, `holidays.yml`), whose equinox days agree with the
    /// National Astronomical Observatory's formula (国立天文台 暦計算室); the Cabinet Office
    /// CSV lists a year only from the February before it.
    #[test]
    fn the_rule_gives_the_published_dates_for_2028_to_2030() {
        let published = [
            (2028, "1/1 1/10 2/11 2/23 3/20 4/29 5/3 5/4 5/5 7/17 8/11 9/18 9/22 10/9 11/3 11/23"),
            (2029, "1/1 1/8 2/11 2/12 2/23 3/20 4/29 4/30 5/3 5/4 5/5 7/16 8/11 9/17 9/23 9/24 10/8 11/3 11/23"),
            (2030, "1/1 1/14 2/11 2/23 3/20 4/29 5/3 5/4 5/5 5/6 7/15 8/11 8/12 9/16 9/23 10/14 11/3 11/4 11/23"),
        ];
        for (y, days) in published {
            let want: Vec<Date> = days
                .split(' ')
                .map(|md| {
                    let (m, d) = md.split_once('/').unwrap();
                    date(y, m.parse().unwrap(), d.parse().unwrap())
                })
                .collect();
            let got: Vec<Date> = jp_year(y).into_iter().map(|(d, _)| d).collect();
            assert_eq!(got, want, "{y}");
        }
    }

    #[test]
    fn japanese_holidays_2026_include_golden_week_substitute_and_silver_week() {
        // 憲法記念日 falls on a Sunday in 2026: the substitute is Wednesday 5/6,
        // the first day after it that is not itself a holiday.
        assert_eq!(jp(2026, 5, 3), Some("憲法記念日"));
        assert_eq!(jp(2026, 5, 6), Some("休日"));
        // A citizens' holiday sandwiched between 敬老の日 and 秋分の日.
        assert_eq!(jp(2026, 9, 21), Some("敬老の日"));
        assert_eq!(jp(2026, 9, 22), Some("休日"));
        assert_eq!(jp(2026, 9, 23), Some("秋分の日"));
        // Happy Monday holidays land on the right Monday.
        assert_eq!(jp(2026, 1, 12), Some("成人の日"));
        assert_eq!(jp(2026, 10, 12), Some("スポーツの日"));
        assert_eq!(jp(2026, 11, 23), Some("勤労感謝の日"));
        assert_eq!(jp(2026, 11, 24), None);
    }

    #[test]
    fn japanese_holidays_2027_move_the_sunday_equinox_to_monday() {
        assert_eq!(jp(2027, 3, 21), Some("春分の日"));
        assert_eq!(jp(2027, 3, 22), Some("休日"));
        assert_eq!(jp(2027, 7, 19), Some("海の日"));
        assert_eq!(jp(2027, 9, 20), Some("敬老の日"));
        // 9/21 2027 is between Monday 敬老の日 and Thursday 秋分の日 but not sandwiched.
        assert_eq!(jp(2027, 9, 21), None);
        assert_eq!(jp(2027, 12, 23), None);
    }

    #[test]
    fn year_counts_match_the_cabinet_office_table() {
        let count = |y: i16| JP.iter().filter(|(d, _)| d.year() == y).count();
        assert_eq!(count(2026), 18);
        assert_eq!(count(2027), 17);
    }

    #[test]
    fn coverage_is_explicit() {
        assert!(HolidayCalendar::Jp.covers(2026));
        assert!(HolidayCalendar::Jp.covers(2027));
        assert!(HolidayCalendar::Jp.covers(2028));
        assert!(HolidayCalendar::Jp.covers(2099));
        assert!(!HolidayCalendar::Jp.covers(2100));
        assert!(!HolidayCalendar::Jp.covers(2021));
    }
}
