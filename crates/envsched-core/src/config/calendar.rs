//! Validation of environments: calendars (zone, operating hours, holidays, skipped dates),
//! places (role, Region) and what each discovers.

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use super::file::{ConfigFile, EnvironmentSection, HoursSection};
use super::model::{Discovery, DiscoverySource, Environment};
use super::validate::Validator;
use crate::holidays::HolidayCalendar;
use crate::target::Place;
use crate::window::{Calendar, OperatingHours, WeekdayKey};

impl Validator {
    /// Every `[[environments]]` entry; names are unique and non-empty.
    pub(super) fn environments(&mut self, f: &ConfigFile, default_zone: Option<&TimeZone>) -> Option<Vec<Environment>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut ok = true;
        for (i, e) in f.environments.iter().enumerate() {
            let key = format!("environments[{i}]");
            if e.name.trim().is_empty() {
                self.issue(
                    format!("{key}.name"),
                    "is empty",
                    "name the environment as the Notion environment property does, e.g. \"stg1\"",
                );
            } else if !seen.insert(e.name.clone()) {
                self.issue(
                    format!("{key}.name"),
                    format!("{:?} is declared twice", e.name),
                    "give each [[environments]] entry a unique name",
                );
            }
            match self.environment(&key, e, default_zone) {
                Some(env) => out.push(env),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// One environment's calendar and place; `None` without a zone or with an unknown
    /// holiday calendar.
    fn environment(
        &mut self,
        key: &str,
        e: &EnvironmentSection,
        default_zone: Option<&TimeZone>,
    ) -> Option<Environment> {
        let zone = match &e.time_zone {
            Some(z) => self.zone(&format!("{key}.time_zone"), z),
            None => default_zone.cloned(),
        };
        let hours = e.hours.as_ref().and_then(|h| self.hours(&format!("{key}.hours"), h));
        let holidays = e.holidays.as_deref().map(|name| {
            let calendar = HolidayCalendar::from_name(name);
            if calendar.is_none() {
                self.issue(
                    format!("{key}.holidays"),
                    format!("{name:?} is not a built-in holiday calendar"),
                    "use \"jp\" (Japanese public holidays) or list the dates in skip_dates",
                );
            }
            calendar
        });
        if e.holidays_csv.is_some() && e.holidays.is_none() {
            self.issue(
                format!("{key}.holidays_csv"),
                "an official holiday list needs a holiday calendar",
                "add holidays = \"jp\" to the environment, or remove holidays_csv",
            );
        }
        let mut skip_dates = BTreeSet::new();
        for (j, d) in e.skip_dates.iter().enumerate() {
            match Date::from_str(d) {
                Ok(d) => {
                    skip_dates.insert(d);
                }
                Err(_) => self.issue(
                    format!("{key}.skip_dates[{j}]"),
                    format!("{d:?} is not a date"),
                    "write dates as \"YYYY-MM-DD\"",
                ),
            }
        }
        let place = place(e);
        self.check_place(key, &place);
        let holidays = match holidays {
            Some(None) => return None,
            Some(h) => h,
            None => None,
        };
        Some(Environment {
            name: e.name.clone(),
            calendar: Calendar { zone: zone?, hours, holidays, official: None, skip_dates },
            place,
            holidays_csv: e.holidays_csv.clone(),
        })
    }

    /// An environment's `aws = { role_arn, region }`.
    fn check_place(&mut self, key: &str, place: &Place) {
        if let Some(r) = &place.role_arn
            && !role_arn_ok(r)
        {
            self.issue(
                format!("{key}.aws.role_arn"),
                format!("{r:?} is not an IAM role ARN"),
                "write arn:aws:iam::<12-digit account id>:role/<name>",
            );
        }
        if let Some(g) = &place.region
            && (g.is_empty() || !g.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            self.issue(
                format!("{key}.aws.region"),
                format!("{g:?} is not a Region name"),
                "write e.g. \"ap-northeast-1\"",
            );
        }
    }

    fn hours(&mut self, key: &str, h: &HoursSection) -> Option<OperatingHours> {
        let mut days = BTreeSet::new();
        for (j, d) in h.days.iter().enumerate() {
            match weekday(d) {
                Some(w) => {
                    days.insert(w);
                }
                None => self.issue(
                    format!("{key}.days[{j}]"),
                    format!("{d:?} is not a weekday"),
                    "use mon, tue, wed, thu, fri, sat, sun",
                ),
            }
        }
        if h.days.is_empty() {
            self.issue(
                format!("{key}.days"),
                "is empty: the environment would never operate",
                "list the operating weekdays, or remove hours for whole days",
            );
        }
        let from = self.clock_time(&format!("{key}.from"), &h.from)?;
        let to = self.clock_time(&format!("{key}.to"), &h.to)?;
        if let Some(to) = to
            && from.is_none_or(|f| to <= f)
        {
            self.issue(format!("{key}.to"), format!("{:?} is not after from = {:?}", h.to, h.from), "operating hours run within one day: use to > from (\"24:00\" for midnight); book nights with a date-time range");
            return None;
        }
        match from {
            Some(from) => Some(OperatingHours { days, from, to }),
            None => {
                self.issue(format!("{key}.from"), "\"24:00\" cannot start the day", "use \"00:00\"");
                None
            }
        }
    }

    /// `HH:MM`, with `24:00` (midnight at the end of the day) as `Some(None)`; the caller
    /// rejects `24:00` where it makes no sense (as `from`).
    fn clock_time(&mut self, key: &str, s: &str) -> Option<Option<Time>> {
        if s == "24:00" {
            return Some(None);
        }
        let parsed = s.split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?);
            Time::new(h, m, 0, 0).ok()
        });
        match parsed {
            Some(t) if s.len() == 5 => Some(Some(t)),
            _ => {
                self.issue(key, format!("{s:?} is not a time of day"), "write times as \"HH:MM\" (24-hour clock)");
                None
            }
        }
    }

    /// Checks that `environment` (named at `key`, for `what`) is declared.
    pub(super) fn known_environment(
        &mut self,
        f: &ConfigFile,
        key: &str,
        environment: Option<&str>,
        what: &str,
    ) -> bool {
        let Some(env) = environment else { return true };
        if f.environments.iter().any(|e| e.name == env) {
            return true;
        }
        let known: Vec<&str> = f.environments.iter().map(|e| e.name.as_str()).collect();
        self.issue(
            key,
            format!("{what:?} names environment {env:?}, which is not declared"),
            format!("declare it with [[environments]] name = {env:?}, or use one of {known:?}"),
        );
        false
    }

    pub(super) fn discovery(&mut self, f: &ConfigFile) -> Discovery {
        let mut sources = vec![DiscoverySource {
            environment: None,
            place: Place::default(),
            ecs_clusters: f.discovery.ecs_clusters.clone(),
            aurora: f.discovery.aurora,
        }];
        for e in &f.environments {
            if let Some(d) = &e.discover {
                sources.push(DiscoverySource {
                    environment: Some(e.name.clone()),
                    place: place(e),
                    ecs_clusters: d.ecs_clusters.clone(),
                    aurora: d.aurora,
                });
            }
        }
        let mut seen = HashSet::new();
        for (i, s) in sources.iter().enumerate() {
            for c in &s.ecs_clusters {
                let key = match i {
                    0 => "discovery.ecs_clusters".to_string(),
                    _ => format!("environments[{}].discover.ecs_clusters", position(f, s)),
                };
                if c.trim().is_empty() {
                    self.issue(key, "holds an empty cluster name", "write the cluster's name, e.g. \"stg1\"");
                } else if !seen.insert((s.place.clone(), c.clone())) {
                    self.issue(
                        key,
                        format!("cluster {c:?} ({}) is listed for discovery twice", s.place),
                        "list each cluster under one environment (or under [discovery] for shared targets)",
                    );
                }
            }
        }
        sources.retain(|s| !s.ecs_clusters.is_empty() || s.aurora);
        Discovery { tag: String::new(), sources }
    }
}

/// An environment's place, as declared.
pub(super) fn place(e: &EnvironmentSection) -> Place {
    let a = e.aws.clone().unwrap_or_default();
    Place { role_arn: a.role_arn, region: a.region }
}

fn position(f: &ConfigFile, s: &DiscoverySource) -> usize {
    f.environments.iter().position(|e| Some(&e.name) == s.environment.as_ref()).unwrap_or(0)
}

/// `arn:<partition>:iam::<12 digits>:role/<name>`.
fn role_arn_ok(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()))
}

fn weekday(s: &str) -> Option<WeekdayKey> {
    use jiff::civil::Weekday::*;
    let w = match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Monday,
        "tue" | "tuesday" => Tuesday,
        "wed" | "wednesday" => Wednesday,
        "thu" | "thursday" => Thursday,
        "fri" | "friday" => Friday,
        "sat" | "saturday" => Saturday,
        "sun" | "sunday" => Sunday,
        _ => return None,
    };
    Some(w.into())
}
