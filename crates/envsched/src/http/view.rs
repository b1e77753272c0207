//! The status page's content, as one model: `GET /status.json` serializes it and `GET /`
//! renders it, so both always say the same. Built from the daemon's [`Status`] and the
//! config at request time: 12 hours back to 24 hours ahead.

use std::collections::HashMap;

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
pub fn build(status: &Status, config: &Config, now: Timestamp, region: Option<&str>, cache: &EdgeCache) -> StatusView {
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
    let edges = cache.edges(status, config, now);
    let mut names: Vec<Option<&str>> = config.environments.iter().map(|e| Some(e.name.as_str())).collect();
    if report.plan.targets.iter().any(|t| t.environment.is_none()) {
        names.push(None);
    }
    let region = region.or(config.aws.region.as_deref());
    let urls: HashMap<&str, &str> =
        status.bookings.iter().filter_map(|b| Some((b.id.as_str(), b.url.as_deref()?))).collect();
    for env in names {
        let ctx = EnvContext { status, config, env, from, now, to, region, urls: &urls };
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
    /// Each live booking's row URL, by page id.
    urls: &'a HashMap<&'a str, &'a str>,
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
        // Each booking's windows and selectors, once for all the environment's targets.
        let booked: Vec<(&Booking, Vec<Selector>, Vec<Span>)> = self
            .status
            .bookings
            .iter()
            .filter(|b| self.has(b))
            .map(|b| (b, b.components.iter().filter_map(|c| Selector::parse(c).ok()).collect(), self.windows(b)))
            .collect();
        let bookings: Vec<BookingView> = booked
            .iter()
            .filter(|(_, _, windows)| !windows.is_empty())
            .map(|(b, _, windows)| BookingView {
                id: b.id.clone(),
                title: b.title.clone(),
                url: b.url.clone(),
                components: b.components.clone(),
                windows: windows.clone(),
            })
            .collect();
        let targets: Vec<TargetView> = plan
            .targets
            .iter()
            .filter(|t| t.environment.as_deref() == self.env)
            .map(|t| self.target(t, &booked))
            .collect();
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
    fn target(&self, t: &envsched_core::TargetPlan, booked: &[(&Booking, Vec<Selector>, Vec<Span>)]) -> TargetView {
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
        let mut booked: Vec<Span> = booked
            .iter()
            .filter(|(_, selectors, _)| selectors.iter().any(|s| s.matches(&t.name)))
            .flat_map(|(_, _, windows)| windows)
            .map(|s| Span { from: s.from.max(seen_from), to: s.to.min(now) })
            .filter(|s| s.from < s.to)
            .collect();
        booked.sort_by_key(|s| s.from);
        let url_of = |id: &str| self.urls.get(id).map(|u| u.to_string());
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
                .map(|b| KeptBy { id: b.id.to_string(), title: b.title.to_string(), url: url_of(&b.id) })
                .collect(),
            until: t.until,
            gaps: subtract(&booked, &up),
            history,
        }
    }
}

/// The upcoming edges, computed once per cycle rather than per request: each edge costs a
/// `desired` over every target (tens of milliseconds at 10,000), and `/status.json` may be
/// polled by a monitor. An edge list depends only on the bookings and the config, so the
/// list computed at one instant serves every later request of the same cycle that it covers.
#[derive(Debug, Default)]
pub struct EdgeCache(std::sync::Mutex<Option<CachedEdges>>);

#[derive(Debug)]
struct CachedEdges {
    /// The cycle whose bookings they came from.
    cycle: Timestamp,
    /// Every edge in `(from, to]` is in `edges`.
    from: Timestamp,
    to: Timestamp,
    edges: Vec<Edge>,
}

impl EdgeCache {
    /// How much further than the page shows a computation looks, so it serves later requests.
    const SPARE: SignedDuration = SignedDuration::from_hours(1);

    /// The first edges in `(now, now + 24 h]` of the last cycle's bookings.
    fn edges(&self, status: &Status, config: &Config, now: Timestamp) -> Vec<Edge> {
        let Some(cycle) = status.report.as_ref().map(|r| r.at) else { return Vec::new() };
        let to = now.checked_add(AHEAD).unwrap_or(now);
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = cached.as_ref().is_some_and(|c| c.cycle == cycle && c.from <= now && c.to >= to);
        if !fresh {
            let horizon = to.checked_add(Self::SPARE).unwrap_or(to);
            let edges = coming_up(&status.bookings, config, now, horizon, 2 * MAX_EDGES);
            // A list cut by the count covers only up to its last edge.
            let covered = if edges.len() == 2 * MAX_EDGES { edges.last().map_or(now, |e| e.at) } else { horizon };
            *cached = Some(CachedEdges { cycle, from: now, to: covered, edges });
        }
        let c = cached.as_ref().map_or(&[][..], |c| c.edges.as_slice());
        c.iter().filter(|e| e.at > now && e.at <= to).take(MAX_EDGES).cloned().collect()
    }
}

/// The first `max` window edges in `(now, to]` and what each changes, from the planner's
/// own rules (`desired` before and at each `next_change`).
fn coming_up(bookings: &[Booking], config: &Config, now: Timestamp, to: Timestamp, max: usize) -> Vec<Edge> {
    let mut out = Vec::new();
    let mut before = desired(bookings, config, now);
    let mut t = now;
    while out.len() < max {
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

    /// A later request of the same cycle gets, from the cached list, what a fresh
    /// computation at its instant gives; a new cycle computes again.
    #[tokio::test]
    async fn the_edge_cache_answers_later_requests_as_a_fresh_computation_would() {
        use envsched_core::{CycleState, FixedClock, FixedSource, Mode, Observed, reconcile};
        let config =
            Config::from_toml("[[targets]]\nname = \"a\"\necs = { cluster = \"c\", service = \"s\" }\n", "t").unwrap();
        let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let hours = |h: i64| now.checked_add(SignedDuration::from_hours(h)).unwrap();
        let bookings: Vec<Booking> = (0..4)
            .map(|i| Booking {
                id: format!("b{i}"),
                title: format!("b{i}"),
                status: "利用中".into(),
                components: vec!["a".into()],
                environment: None,
                window: envsched_core::Window::Span { start: hours(1 + 5 * i), end: Some(hours(2 + 5 * i)) },
                trashed: false,
                feedback: None,
                last_edited: None,
                url: None,
                creator: None,
            })
            .collect();
        let observed: Observed = serde_json::from_str(
            r#"{"ecs_services": [{"cluster": "c", "service": "s", "desired_count": 0, "running_count": 0}]}"#,
        )
        .unwrap();
        let fleet = envsched_sandbox::SandboxFleet::new(
            &observed,
            envsched_sandbox::SimClock::new(now),
            envsched_sandbox::Timing::instant(),
        );
        let report = reconcile(
            &config,
            &FixedSource(bookings.clone()),
            &fleet,
            &FixedClock(now),
            &mut CycleState::default(),
            Mode::DryRun,
        )
        .await
        .unwrap();
        let mut status = Status { report: Some(report.into()), bookings: bookings.clone(), ..Status::default() };
        let cache = EdgeCache::default();
        let first = cache.edges(&status, &config, now);
        // Starts at start − lead (the default 10 m), stops at the end.
        let lead = config.schedule.lead;
        let want: Vec<Timestamp> =
            (0..4).flat_map(|i| [hours(1 + 5 * i).checked_sub(lead).unwrap(), hours(2 + 5 * i)]).collect();
        assert_eq!(first.iter().map(|e| e.at).collect::<Vec<_>>(), want);
        // Past the first edge (00:50), within what the first computation covers.
        let later = now + SignedDuration::from_mins(55);
        let cached = cache.edges(&status, &config, later);
        let fresh = coming_up(&bookings, &config, later, later.checked_add(AHEAD).unwrap(), MAX_EDGES);
        assert_eq!(
            cached.iter().map(|e| (e.at, &e.starts, &e.stops)).collect::<Vec<_>>(),
            fresh.iter().map(|e| (e.at, &e.starts, &e.stops)).collect::<Vec<_>>()
        );
        assert_eq!(cached.len(), want.len() - 1, "the first edge is past");
        assert_eq!(cache.0.lock().unwrap().as_ref().unwrap().from, now, "served from the first computation");
        // A new cycle (its bookings may differ): computed again.
        status.report.as_mut().unwrap().at = later;
        assert_eq!(cache.edges(&status, &config, later).len(), cached.len());
        assert_eq!(cache.0.lock().unwrap().as_ref().unwrap().from, later);
    }

    #[test]
    fn a_gap_is_the_booked_time_the_target_was_not_up() {
        let booked = [Span { from: t(1), to: t(5) }];
        let up = [Span { from: t(2), to: t(3) }, Span { from: t(4), to: t(9) }];
        assert_eq!(subtract(&booked, &up), [Span { from: t(1), to: t(2) }, Span { from: t(3), to: t(4) }]);
        assert_eq!(subtract(&booked, &[Span { from: t(0), to: t(9) }]), []);
    }
}
