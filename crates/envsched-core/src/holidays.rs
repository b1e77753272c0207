//! Built-in public-holiday calendars.
//!
//! # Japan (`holidays = "jp"`)
//!
//! A dated table, not a rule engine: the dates below are the ones the Cabinet Office
//! publishes (内閣府「国民の祝日について」, <https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html>,
//! CSV `syukujitsu.csv`), including substitute holidays (振替休日) and citizens' holidays
//! (国民の休日). The vernal and autumnal equinox days are fixed by the National
//! Astronomical Observatory each February for the following year, which is why no table
//! can honestly go further ahead than the published CSV.
//!
//! Covered years: [`JP_FIRST_YEAR`]..=[`JP_LAST_YEAR`]. Outside them [`HolidayCalendar::covers`]
//! is false and the desired-state computation reports a problem for the environment so the
//! gap is visible (and treats those dates as ordinary days) — extend the table then.

use jiff::civil::{Date, date};

/// First year the Japanese table covers.
pub const JP_FIRST_YEAR: i16 = 2024;
/// Last year the Japanese table covers.
pub const JP_LAST_YEAR: i16 = 2027;

/// (date, name) for every Japanese public holiday in the covered years, sorted.
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

/// A built-in holiday calendar an environment can follow (`holidays = "jp"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayCalendar {
    /// Japanese public holidays (国民の祝日), from the Cabinet Office table.
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
            Self::Jp => JP.binary_search_by(|(d, _)| d.cmp(&day)).ok().map(|i| JP[i].1),
        }
    }

    /// Whether the table knows the holidays of `year`.
    pub fn covers(self, year: i16) -> bool {
        match self {
            Self::Jp => (JP_FIRST_YEAR..=JP_LAST_YEAR).contains(&year),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jp(y: i16, m: i8, d: i8) -> Option<&'static str> {
        HolidayCalendar::Jp.holiday(date(y, m, d))
    }

    #[test]
    fn table_is_sorted_so_binary_search_is_valid() {
        assert!(JP.windows(2).all(|w| w[0].0 < w[1].0));
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
        assert!(!HolidayCalendar::Jp.covers(2028));
    }
}
