//! The status page's content, as one model: `GET /status.json` serializes it and `GET /`
//! renders it, so both always say the same. Built from the daemon's [`Status`] and the
//! config at request time: 12 hours back to 24 hours ahead.

use envsched_core::{Booking, Config, DesiredState, Locator, Selector, desired, next_change};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::daemon::Status;
use crate::daemon::record::{ActionRecord, HISTORY};

/// How far ahead the page looks.
pub const AHEAD: SignedDuration = SignedDuration::from_hours(24);
/// At most this many upcoming edges are listed.
const MAX_EDGES: usize = 24;

/// An interval on the timeline.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub from: Timestamp,
    /// End (exclusive).
    pub to: Timestamp,
}

/// A booking row as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BookingView {
    /// Notion page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The row in Notion.
    pub url: Option<String>,
    /// Components, as written.
    pub components: Vec<String>,
    /// Its effective windows in the timeline (lead, linger and operating hours applied).
    pub windows: Vec<Span>,
}

/// A booking that keeps a target up.
#[derive(Debug, Clone, Serialize)]
pub struct KeptBy {
    /// Notion page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The row in Notion.
    pub url: Option<String>,
}

/// A target as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    /// `env:name`.
    pub key: String,
    /// Name.
    pub name: String,
    /// `ecs` or `aurora`.
    pub kind: &'static str,
    /// Its AWS name: `cluster/service` or the DB cluster id.
    pub aws: String,
    /// The AWS console page, when the Region is known.
    pub console_url: Option<String>,
    /// `up` or `down`.
    pub wanted: &'static str,
    /// What the last cycle observed.
    pub now: String,
    /// What the plan does with it, and why it waits if it does.
    pub status: String,
    /// Bookings keeping it up.
    pub kept_up_by: Vec<KeptBy>,
    /// When they end.
    pub until: Option<Timestamp>,
    /// Observed up (true) or down, in the past part of the timeline.
    pub history: Vec<(Span, bool)>,
    /// Past spans a booking named it directly while it was not up.
    pub gaps: Vec<Span>,
}

/// An upcoming window edge in one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// When envsched acts (window start − lead, end + linger).
    pub at: Timestamp,
    /// Targets that start then.
    pub starts: Vec<String>,
    /// Targets that stop then.
    pub stops: Vec<String>,
    /// Why: the bookings opening or closing.
    pub why: Vec<String>,
}

/// One environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentView {
    /// Name (`shared` for targets outside environments).
    pub name: String,
    /// The IANA zone its times read in.
    pub zone: String,
    /// Its bookings with a window in the timeline.
    pub bookings: Vec<BookingView>,
    /// Its targets.
    pub targets: Vec<TargetView>,
    /// What starts or stops in the next 24 hours.
    pub coming_up: Vec<Edge>,
}

/// The whole page.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    /// Now.
    pub now: Timestamp,
    /// The timeline's span: 12 hours back, 24 ahead.
    pub timeline: Span,
    /// `ready`, or why not (or why standing by).
    pub ready: String,
    /// Cycles run.
    pub cycles: u64,
    /// When and why the loop looks next.
    pub next_wake: Option<(Timestamp, &'static str)>,
    /// Why nothing is being changed, if so.
    pub frozen: Option<String>,
    /// When the last completed cycle planned.
    pub last_cycle: Option<Timestamp>,
    /// Environments, in config order, then `shared`.
    pub environments: Vec<EnvironmentView>,
    /// The last actions, newest first.
    pub actions: Vec<ActionRecord>,
    /// The estimated savings since the day began (USD, the metrics' savings model).
    pub saved_today_usd: f64,
    /// Problems the last cycle reported.
    pub problems: Vec<String>,
}

/// The AWS console page of a resource, for `region` when the target's place has none.
fn console_url(locator: &Locator, region: Option<&str>) -> Option<String> {
    let region = locator.place().region.as_deref().or(region)?;
    Some(match locator {
        Locator::Ecs { cluster, service, .. } => format!(
            "https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}/services/{service}/health?region={region}"
        ),
        Locator::Aurora { cluster_id, .. } => format!(
            "https://{region}.console.aws.amazon.com/rds/home?region={region}#database:id={cluster_id};is-cluster=true"
        ),
    })
}

/// `spans` minus `minus`, both sorted.
fn subtract(spans: &[Span], minus: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for s in spans {
        let mut start = s.from;
        for m in minus.iter().filter(|m| m.to > s.from && m.from < s.to) {
            if m.from > start {
                out.push(Span { from: start, to: m.from });
            }
            start = start.max(m.to);
        }
        if start < s.to {
            out.push(Span { from: start, to: s.to });
        }
    }
    out
}

/// The model of the page at `now`; `region` is the default Region for console links.
pub fn build(status: &Status, config: &Config, now: Timestamp, region: Option<&str>) -> StatusView {
    let from = now.checked_sub(HISTORY).unwrap_or(now);
    let to = now.checked_add(AHEAD).unwrap_or(now);
    let ready = match (&status.standby, status.ready(now)) {
        (Some(why), _) => why.clone(),
        (None, Ok(())) => "ready".to_string(),
        (None, Err(e)) => format!("not ready: {e}"),
    };
    let mut view = StatusView {
        now,
        timeline: Span { from, to },
        ready,
        cycles: status.cycles,
        next_wake: status.next_wake.map(|w| (w.at, w.reason.label())),
        frozen: status.report.as_ref().and_then(|r| r.plan.frozen.as_ref()).map(|f| f.reason.clone()),
        last_cycle: status.report.as_ref().map(|r| r.at),
        environments: Vec::new(),
        actions: status.actions.iter().rev().cloned().collect(),
        saved_today_usd: status
            .saved_today
            .filter(|(d, _)| *d == now.to_zoned(config.default_calendar.zone.clone()).date())
            .map_or(0.0, |(_, usd)| usd),
        problems: status
            .report
            .as_ref()
            .map(|r| r.plan.problems.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
    };
    let Some(report) = &status.report else { return view };
    let edges = coming_up(&status.bookings, config, now, to);
    let mut names: Vec<Option<&str>> = config.environments.iter().map(|e| Some(e.name.as_str())).collect();
    if report.plan.targets.iter().any(|t| t.environment.is_none()) {
        names.push(None);
    }
    let region = region.or(config.aws.region.as_deref());
    for env in names {
        let ctx = EnvContext { status, config, env, from, now, to, region };
        if let Some(e) = ctx.view(&report.plan, &edges) {
            view.environments.push(e);
        }
    }
    view
}

/// What one environment's part of the page is built from.
struct EnvContext<'a> {
    status: &'a Status,
    config: &'a Config,
    /// `None`: the shared targets.
    env: Option<&'a str>,
    from: Timestamp,
    now: Timestamp,
    to: Timestamp,
    region: Option<&'a str>,
}

impl EnvContext<'_> {
    /// Whether booking `b` can book in this environment.
    fn has(&self, b: &Booking) -> bool {
        self.env.is_none_or(|e| b.environment.as_deref().is_none_or(|be| be == e))
    }

    /// `b`'s effective windows in the timeline, in this environment's calendar.
    fn windows(&self, b: &Booking) -> Vec<Span> {
        let (lead, linger) = (self.config.schedule.lead, self.config.schedule.linger);
        self.config
            .calendar(self.env)
            .intervals(&b.window, lead, linger, self.from, self.to)
            .into_iter()
            .map(|i| Span { from: i.start.max(self.from), to: i.end.min(self.to) })
            .collect()
    }

    /// The environment's view; `None` when it has neither targets nor bookings.
    fn view(&self, plan: &envsched_core::Plan, edges: &[Edge]) -> Option<EnvironmentView> {
        let bookings: Vec<BookingView> = self
            .status
            .bookings
            .iter()
            .filter(|b| self.has(b))
            .map(|b| BookingView {
                id: b.id.clone(),
                title: b.title.clone(),
                url: b.url.clone(),
                components: b.components.clone(),
                windows: self.windows(b),
            })
            .filter(|b| !b.windows.is_empty())
            .collect();
        let targets: Vec<TargetView> =
            plan.targets.iter().filter(|t| t.environment.as_deref() == self.env).map(|t| self.target(t)).collect();
        if targets.is_empty() && bookings.is_empty() {
            return None;
        }
        let keys: Vec<&str> = targets.iter().map(|t| t.key.as_str()).collect();
        let coming_up = edges
            .iter()
            .filter_map(|e| {
                let starts: Vec<String> = e.starts.iter().filter(|k| keys.contains(&k.as_str())).cloned().collect();
                let stops: Vec<String> = e.stops.iter().filter(|k| keys.contains(&k.as_str())).cloned().collect();
                (!starts.is_empty() || !stops.is_empty()).then(|| Edge { at: e.at, starts, stops, why: e.why.clone() })
            })
            .collect();
        Some(EnvironmentView {
            name: self.env.unwrap_or("shared").to_string(),
            zone: self.config.calendar(self.env).zone.iana_name().unwrap_or("UTC").to_string(),
            bookings,
            targets,
            coming_up,
        })
    }

    /// One target: its AWS name and console link, what keeps it up, its observed history
    /// and the past spans a booking named it directly while it was not up.
    fn target(&self, t: &envsched_core::TargetPlan) -> TargetView {
        let (status, now) = (self.status, self.now);
        let key = t.key.to_string();
        let history: Vec<(Span, bool)> = status
            .history
            .spans(&key, self.from, now)
            .into_iter()
            .map(|(a, b, up)| (Span { from: a, to: b }, up))
            .collect();
        let up: Vec<Span> = history.iter().filter(|(_, up)| *up).map(|(s, _)| *s).collect();
        // Booked directly, in the part of the past the daemon saw.
        let seen_from = history.first().map_or(now, |(s, _)| s.from);
        let mut booked: Vec<Span> = status
            .bookings
            .iter()
            .filter(|b| self.has(b))
            .filter(|b| b.components.iter().any(|c| Selector::parse(c).is_ok_and(|s| s.matches(&t.name))))
            .flat_map(|b| self.windows(b))
            .map(|s| Span { from: s.from.max(seen_from), to: s.to.min(now) })
            .filter(|s| s.from < s.to)
            .collect();
        booked.sort_by_key(|s| s.from);
        let url_of = |id: &str| status.bookings.iter().find(|b| b.id == id).and_then(|b| b.url.clone());
        TargetView {
            key,
            name: t.name.clone(),
            kind: t.kind.as_str(),
            aws: match &t.locator {
                Locator::Ecs { cluster, service, .. } => format!("{cluster}/{service}"),
                Locator::Aurora { cluster_id, .. } => cluster_id.clone(),
            },
            console_url: console_url(&t.locator, self.region),
            wanted: if t.desired == DesiredState::Up { "up" } else { "down" },
            now: match (t.observed.running_count, t.observed.desired_count) {
                (Some(r), Some(d)) => format!("{} ({r}/{d} tasks)", t.observed.state),
                _ => t.observed.state.clone(),
            },
            status: match t.status.detail() {
                Some(d) => format!("{}: {d}", t.status.name()),
                None => t.status.name().to_string(),
            },
            kept_up_by: t
                .bookings
                .iter()
                .map(|b| KeptBy { id: b.id.clone(), title: b.title.clone(), url: url_of(&b.id) })
                .collect(),
            until: t.until,
            gaps: subtract(&booked, &up),
            history,
        }
    }
}

/// The window edges in `(now, to]` and what each changes, from the planner's own rules
/// (`desired` before and at each `next_change`).
fn coming_up(bookings: &[Booking], config: &Config, now: Timestamp, to: Timestamp) -> Vec<Edge> {
    let mut out = Vec::new();
    let mut before = desired(bookings, config, now);
    let mut t = now;
    while out.len() < MAX_EDGES {
        let Some(next) = next_change(bookings, config, t).filter(|n| *n <= to) else { break };
        let after = desired(bookings, config, next);
        let mut e = Edge { at: next, starts: Vec::new(), stops: Vec::new(), why: Vec::new() };
        for (b, a) in before.targets.iter().zip(&after.targets) {
            match (b.state, a.state) {
                (DesiredState::Down, DesiredState::Up) => {
                    e.starts.push(a.target.key().to_string());
                    e.why.extend(a.bookings.iter().map(|r| format!("«{}» opens", r.title)));
                }
                (DesiredState::Up, DesiredState::Down) => {
                    e.stops.push(b.target.key().to_string());
                    e.why.extend(b.bookings.iter().map(|r| format!("«{}» ends", r.title)));
                }
                _ => {}
            }
        }
        e.why.sort();
        e.why.dedup();
        if !e.starts.is_empty() || !e.stops.is_empty() {
            out.push(e);
        }
        before = after;
        t = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH.checked_add(SignedDuration::from_hours(h)).unwrap()
    }

    #[test]
    fn a_gap_is_the_booked_time_the_target_was_not_up() {
        let booked = [Span { from: t(1), to: t(5) }];
        let up = [Span { from: t(2), to: t(3) }, Span { from: t(4), to: t(9) }];
        assert_eq!(subtract(&booked, &up), [Span { from: t(1), to: t(2) }, Span { from: t(3), to: t(4) }]);
        assert_eq!(subtract(&booked, &[Span { from: t(0), to: t(9) }]), []);
    }
}
