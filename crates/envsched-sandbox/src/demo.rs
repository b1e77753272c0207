//! The demo: the seed's world and a week of bookings, run minute by minute.
//!
//! The world: four staging slices `stg1`–`stg4` with 60 ECS services each (36 `products/…`,
//! 20 `services/…`, 4 `tools/…`), an Aurora cluster `db/aurora` in stg1–stg3 that every
//! `products/…` service of its slice depends on, and everything running before envsched
//! arrives — the always-on world the seed started from. The calendars and clusters come from
//! `config/demo.toml`; the services are generated here.
//!
//! The week (Monday 2026-11-23, a public holiday, to the next Monday, Asia/Tokyo): three dev
//! teams and QA book what they need — whole days, a night, a weekend, a template-style
//! multi-component row, a row with an unknown component, an undated row; one booking is
//! cancelled mid-week, one is added two days ahead, someone deploys a parked service, Notion
//! is down for six minutes, and an Aurora cluster starts itself after seven days stopped.

use std::collections::{BTreeMap, BTreeSet};

use envsched_core::config::ConfigFile;
use envsched_core::{
    AuroraStatus, Booking, BookingSource, Config, ConfigError, CycleError, CycleState, DesiredState, Mode, Observed,
    ObservedCluster, ObservedService, Outcome, Pin, Report, Selector, TargetKey, TargetKind, desired, reconcile,
};
use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::standin::{Row, StandIn};
use crate::{SandboxFleet, SimClock, Timing};

/// The 60 services of every slice.
pub const SERVICES: [&str; 60] = [
    "products/servicesite-web",
    "products/servicesite-api",
    "products/servicesite-admin",
    "products/servicesite-batch",
    "products/app1-web",
    "products/app1-api",
    "products/app1-worker",
    "products/app2-web",
    "products/app2-api",
    "products/app2-worker",
    "products/app3-web",
    "products/app3-api",
    "products/points-web",
    "products/points-api",
    "products/points-batch",
    "products/campaign-web",
    "products/campaign-api",
    "products/mypage-web",
    "products/mypage-api",
    "products/search-api",
    "products/search-indexer",
    "products/report-web",
    "products/report-batch",
    "products/onboarding-web",
    "products/onboarding-api",
    "products/portfolio-web",
    "products/portfolio-api",
    "products/rebalance-worker",
    "products/deposit-api",
    "products/withdraw-api",
    "products/statement-batch",
    "products/faq-web",
    "products/inquiry-api",
    "products/referral-api",
    "products/survey-web",
    "products/cms-web",
    "services/creditcard-api",
    "services/payment-api",
    "services/auth-api",
    "services/notification-api",
    "services/mail-api",
    "services/ledger-api",
    "services/fx-rate-api",
    "services/kyc-api",
    "services/audit-api",
    "services/session-api",
    "services/feature-flag-api",
    "services/scheduler-worker",
    "services/pdf-renderer",
    "services/image-resizer",
    "services/sms-api",
    "services/push-api",
    "services/address-api",
    "services/bank-api",
    "services/tax-api",
    "services/market-data-api",
    "tools/admin-console",
    "tools/metabase",
    "tools/mock-bank",
    "tools/mock-broker",
];

/// A change to the bookings database during the week.
#[derive(Debug, Clone)]
pub enum DemoEdit {
    /// Someone adds a row.
    Add(Row),
    /// Someone changes a row's status (cancels it).
    SetStatus {
        /// Row id.
        id: String,
        /// New status.
        status: String,
    },
    /// Notion answers every request with this status until [`DemoEdit::OutageEnds`].
    Outage(u16),
    /// The outage is over.
    OutageEnds,
}

/// Everything a demo run needs.
#[derive(Debug)]
pub struct World {
    /// The validated config (demo.toml + generated services).
    pub config: Config,
    /// The simulation clock.
    pub clock: SimClock,
    /// The simulated fleet.
    pub fleet: SandboxFleet,
    /// The bookings database as it starts the week (served by the Notion stand-in).
    pub rows: Vec<Row>,
    /// What people do to it during the week, and when.
    pub edits: Vec<(Timestamp, DemoEdit)>,
    /// First simulated minute.
    pub start: Timestamp,
    /// End of the simulation (exclusive).
    pub end: Timestamp,
    /// Deploys that scale a service outside envsched: (when, cluster, service, count, who).
    pub deploys: Vec<(Timestamp, String, String, u32)>,
}

fn jst(y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
    date(y, m, d)
        .at(h, min, 0, 0)
        .to_zoned(TimeZone::get("Asia/Tokyo").expect("bundled tzdb has Asia/Tokyo"))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A row as Notion stores it: dates as Notion renders them (`2026-11-24`,
/// `2026-11-25T19:00:00.000+09:00`), `None` for no date.
fn row(id: &str, title: &str, env: &str, components: &[&str], date: Option<(&str, Option<&str>)>) -> Row {
    Row::new(id, title, components, date).env(env)
}

/// Builds the demo world from `config/demo.toml`'s text.
pub fn world(demo_toml: &str) -> Result<World, ConfigError> {
    let mut file: ConfigFile = toml_file(demo_toml)?;
    let envs: Vec<String> = file.environments.iter().map(|e| e.name.clone()).collect();
    let with_db: BTreeSet<String> = file.targets.iter().filter_map(|t| t.environment.clone()).collect();
    for env in &envs {
        for name in SERVICES {
            let service = name.rsplit('/').next().unwrap_or(name).to_string();
            let needs_db = name.starts_with("products/") && with_db.contains(env);
            file.targets.push(envsched_core::config::TargetSection {
                name: name.to_string(),
                environment: Some(env.clone()),
                ecs: Some(envsched_core::config::EcsSection { cluster: env.clone(), service }),
                aurora: None,
                count: None,
                depends_on: if needs_db { vec!["db/aurora".into()] } else { Vec::new() },
                pin: None,
            });
        }
    }
    let config = Config::from_file(file, "config/demo.toml (+ 60 generated services per environment)")?;

    let start = jst(2026, 11, 23, 0, 0);
    let end = jst(2026, 11, 30, 0, 0);
    let clock = SimClock::new(start);
    // Before envsched: everything runs. Web services run 2 tasks and autoscale 1–4.
    let mut observed = Observed::default();
    for t in config.targets.all() {
        match &t.locator {
            envsched_core::Locator::Ecs { cluster, service, .. } => {
                let web = service.ends_with("-web");
                let count = if web { 2 } else { 1 };
                observed.ecs_services.push(ObservedService {
                    place: Default::default(),
                    cluster: cluster.clone(),
                    service: service.clone(),
                    desired_count: count,
                    running_count: count,
                    pending_count: 0,
                    tags: BTreeMap::new(),
                    autoscaling: web.then_some(envsched_core::Capacity { min: 1, max: 4 }),
                });
            }
            envsched_core::Locator::Aurora { cluster_id, .. } => observed.aurora_clusters.push(ObservedCluster {
                place: Default::default(),
                id: cluster_id.clone(),
                // stg3's cluster was stopped by hand last week: AWS will start it again.
                status: if cluster_id.starts_with("stg3") { AuroraStatus::Stopped } else { AuroraStatus::Available },
                tags: BTreeMap::new(),
                unstoppable: None,
            }),
        }
    }
    let fleet = SandboxFleet::new(&observed, clock.clone(), Timing::default());
    if let Some(c) = observed.aurora_clusters.iter().find(|c| c.id.starts_with("stg3")) {
        // Stopped 6 days 10 hours before the week: it starts itself on Monday at 14:00.
        fleet.set_stopped_since(&c.id, start.checked_sub(SignedDuration::from_hours(6 * 24 + 10)).unwrap_or(start));
    }

    let rows = vec![
        // Team A, stg1
        row(
            "2b4e6a17-0000-8000-a000-0000000000a1",
            "[A] ServiceSite 改修",
            "stg1",
            &["products/servicesite", "db/aurora"],
            Some(("2026-11-24", Some("2026-11-27"))),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000a2",
            "[A] 決済まわり一式（テンプレート）",
            "stg1",
            &["services/creditcard", "services/payment", "services/auth", "services/ledger", "products/mypage"],
            Some(("2026-11-25", Some("2026-11-26"))),
        ),
        // Team B, stg2
        row(
            "2b4e6a17-0000-8000-a000-0000000000b1",
            "[B] アプリ1 夜間負荷試験",
            "stg2",
            &["products/app1", "db/aurora"],
            Some(("2026-11-25T19:00:00.000+09:00", Some("2026-11-26T07:00:00.000+09:00"))),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000b2",
            "[B] アプリ1 UI 確認",
            "stg2",
            &["products/app1-web"],
            Some(("2026-11-24", None)),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000b3",
            "[B] ポイント改修",
            "stg2",
            &["products/points"],
            Some(("2026-11-24", Some("2026-11-27"))),
        ),
        // Team C, stg3
        row(
            "2b4e6a17-0000-8000-a000-0000000000c1",
            "[C] 週末リリース検証",
            "stg3",
            &["products/portfolio", "products/rebalance", "services/market-data"],
            Some(("2026-11-28T10:00:00.000+09:00", Some("2026-11-29T18:00:00.000+09:00"))),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000c2",
            "[C] 検索改善",
            "stg3",
            &["products/search"],
            Some(("2026-11-24", Some("2026-11-25"))),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000c3",
            "[C] 旧管理画面の調査",
            "stg3",
            &["products/legacy-admin"],
            Some(("2026-11-26", None)),
        ),
        // QA, stg4
        row(
            "2b4e6a17-0000-8000-a000-0000000000d1",
            "[QA] 回帰テスト（全 web）",
            "stg4",
            &["products/*-web", "services/auth", "services/session"],
            Some(("2026-11-26", Some("2026-11-27"))),
        ),
        row(
            "2b4e6a17-0000-8000-a000-0000000000d2",
            "[QA] 共通基盤（期間なし）",
            "stg4",
            &["services/feature-flag", "tools/mock-bank"],
            None,
        ),
    ];
    let edits = vec![
        (
            jst(2026, 11, 25, 12, 0),
            DemoEdit::SetStatus { id: "2b4e6a17-0000-8000-a000-0000000000b3".into(), status: "中止".into() },
        ),
        (
            jst(2026, 11, 26, 10, 0),
            DemoEdit::Add(row(
                "2b4e6a17-0000-8000-a000-0000000000a3",
                "[A] ServiceSite 追加検証（金曜夜）",
                "stg1",
                &["products/servicesite-web", "products/servicesite-api"],
                Some(("2026-11-27T19:00:00.000+09:00", Some("2026-11-27T22:00:00.000+09:00"))),
            )),
        ),
        (jst(2026, 11, 26, 14, 0), DemoEdit::Outage(503)),
        (jst(2026, 11, 26, 14, 6), DemoEdit::OutageEnds),
    ];
    let deploys = vec![(jst(2026, 11, 25, 15, 0), "stg4".to_string(), "campaign-web".to_string(), 1)];
    Ok(World { config, clock, fleet, rows, edits, start, end, deploys })
}

fn toml_file(text: &str) -> Result<ConfigFile, ConfigError> {
    envsched_core::config::parse_file(text)
        .map_err(|message| ConfigError::Syntax { origin: "config/demo.toml".into(), message })
}

/// What one simulated target did, minute by minute.
#[derive(Debug, Clone)]
pub struct TargetTrack {
    /// Target key.
    pub key: TargetKey,
    /// Target name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// Kind.
    pub kind: TargetKind,
    /// Running tasks (ECS) or 1 when the cluster is billed (not stopped), per minute.
    pub running: Vec<u16>,
    /// Up (ECS running ≥ 1, Aurora available), per minute.
    pub up: Vec<bool>,
    /// Booked (an active booking needs it now, lead time excluded), per minute.
    pub booked: Vec<bool>,
    /// The count it ran with before envsched.
    pub initial_count: u32,
}

/// What one booking row looked like over the week.
#[derive(Debug, Clone)]
pub struct BookingTrack {
    /// The row as it ended the week.
    pub booking: Booking,
    /// Active (status live and inside the window, no lead), per minute.
    pub active: Vec<bool>,
    /// Components and the targets each selects (indices into [`Simulation::targets`]).
    pub components: Vec<(String, Vec<usize>)>,
}

/// Something worth a line in the timeline.
#[derive(Debug, Clone)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// Environment, if one.
    pub environment: Option<String>,
    /// What happened.
    pub text: String,
}

/// The result of a demo run.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// First minute.
    pub start: Timestamp,
    /// Minutes simulated.
    pub minutes: usize,
    /// The environments, in config order.
    pub environments: Vec<String>,
    /// Per target.
    pub targets: Vec<TargetTrack>,
    /// Per booking row.
    pub bookings: Vec<BookingTrack>,
    /// Notable events.
    pub events: Vec<Event>,
    /// Summary figures.
    pub report: Savings,
}

/// The savings report.
#[derive(Debug, Clone, Default)]
pub struct Savings {
    /// ECS service-hours with at least one running task.
    pub service_hours: f64,
    /// ECS service-hours if everything ran all week.
    pub service_hours_always_on: f64,
    /// ECS task-hours run.
    pub task_hours: f64,
    /// ECS task-hours if everything ran all week at its original count.
    pub task_hours_always_on: f64,
    /// Aurora cluster-hours billed (not stopped).
    pub aurora_hours: f64,
    /// Aurora cluster-hours if always on.
    pub aurora_hours_always_on: f64,
    /// USD per task-hour used.
    pub task_hour_usd: f64,
    /// USD per cluster-hour used.
    pub aurora_hour_usd: f64,
    /// Minutes × targets where a booked target was not up.
    pub booked_minutes_missed: usize,
    /// Reconcile cycles run.
    pub cycles: usize,
    /// Actions carried out, by op.
    pub actions: BTreeMap<String, usize>,
    /// Actions that failed.
    pub failed_actions: usize,
    /// Drift re-parks.
    pub drift_reparked: usize,
    /// Aurora auto-starts seen.
    pub aurora_auto_starts: usize,
    /// Cycles frozen (source down or suspicious drop).
    pub frozen_cycles: usize,
    /// Distinct problems reported.
    pub problems: Vec<String>,
}

impl Savings {
    /// Estimated USD spent on ECS tasks.
    pub fn task_usd(&self) -> f64 {
        self.task_hours * self.task_hour_usd
    }
    /// Estimated USD if always on.
    pub fn task_usd_always_on(&self) -> f64 {
        self.task_hours_always_on * self.task_hour_usd
    }
    /// Estimated USD spent on Aurora.
    pub fn aurora_usd(&self) -> f64 {
        self.aurora_hours * self.aurora_hour_usd
    }
    /// Estimated USD on Aurora if always on.
    pub fn aurora_usd_always_on(&self) -> f64 {
        self.aurora_hours_always_on * self.aurora_hour_usd
    }
}

/// A source read the way the daemon reads Notion: again when `poll_interval` has passed or
/// when a row was edited (a webhook event in production), every cycle while reads fail
/// (so the cycle stays frozen until one succeeds), and from the last answer otherwise —
/// windows are evaluated locally, so a window opening needs no read.
struct Polled<'a, S> {
    inner: &'a S,
    clock: SimClock,
    every: SignedDuration,
    state: std::sync::Mutex<PolledState>,
}

#[derive(Default)]
struct PolledState {
    last: Option<(Timestamp, Vec<Booking>)>,
    failing: bool,
    edited: bool,
}

impl<S: BookingSource + Sync> BookingSource for Polled<'_, S> {
    async fn fetch(&self) -> Result<Vec<Booking>, envsched_core::SourceError> {
        let now = envsched_core::Clock::now(&self.clock);
        let cached = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &st.last {
                Some((at, rows)) if !st.failing && !st.edited && now.duration_since(*at) < self.every => {
                    Some(rows.clone())
                }
                _ => None,
            }
        };
        if let Some(rows) = cached {
            return Ok(rows);
        }
        let got = self.inner.fetch().await;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.edited = false;
        st.failing = got.is_err();
        if let Ok(rows) = &got {
            st.last = Some((now, rows.clone()));
        }
        got
    }
}

/// Runs the week: one reconcile cycle per simulated minute, the same cycle `apply` runs,
/// reading bookings from `source` — in `envsched demo`, the real Notion client against
/// `standin`, to which the week's edits are made as the simulated clock passes them. The
/// source is re-read every `schedule.poll_interval` and right after each edit (see `Polled`).
/// `after` runs after every cycle (the demo writes each row's state back there) and returns
/// events for the timeline.
pub async fn run<S, F>(world: &World, standin: &StandIn, source: &S, mut after: F) -> Result<Simulation, CycleError>
where
    S: BookingSource + Sync,
    F: AsyncFnMut(&Report, &[Booking]) -> Vec<Event>,
{
    let source = Polled {
        inner: source,
        clock: world.clock.clone(),
        every: world.config.schedule.poll_interval,
        state: std::sync::Mutex::new(PolledState::default()),
    };
    let source = &source;
    let config = &world.config;
    let minutes = usize::try_from(world.end.duration_since(world.start).as_mins()).unwrap_or(0);
    let mut booked_config = config.clone();
    booked_config.schedule.lead = SignedDuration::ZERO;
    booked_config.schedule.linger = SignedDuration::ZERO;

    let initial = world.fleet.snapshot();
    let mut targets: Vec<TargetTrack> = config
        .targets
        .all()
        .iter()
        .map(|t| TargetTrack {
            key: t.key(),
            name: t.name.clone(),
            environment: t.environment.clone().unwrap_or_default(),
            kind: t.kind(),
            running: vec![0; minutes],
            up: vec![false; minutes],
            booked: vec![false; minutes],
            initial_count: match &t.locator {
                envsched_core::Locator::Ecs { cluster, service, .. } => initial
                    .ecs_services
                    .iter()
                    .find(|s| &s.cluster == cluster && &s.service == service)
                    .map_or(0, |s| s.desired_count),
                envsched_core::Locator::Aurora { .. } => 1,
            },
        })
        .collect();
    let mut bookings: Vec<BookingTrack> = Vec::new();
    let mut events = Vec::new();
    let mut report = Savings {
        task_hour_usd: config.pricing.task_hour_usd,
        aurora_hour_usd: config.pricing.aurora_cluster_hour_usd,
        ..Savings::default()
    };
    let mut state = CycleState::default();
    let mut seen_problems: BTreeSet<String> = BTreeSet::new();
    let mut seen_auto = 0;
    let mut was_frozen = false;
    let mut deploys = world.deploys.clone();
    deploys.sort_by_key(|d| std::cmp::Reverse(d.0));
    let mut edits = world.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut seen_rows: Vec<Booking> = Vec::new();

    for m in 0..minutes {
        let now = world.start.checked_add(SignedDuration::from_mins(m as i64)).unwrap_or(world.end);
        world.clock.set(now);
        while deploys.last().is_some_and(|d| d.0 <= now) {
            if let Some((at, cluster, service, count)) = deploys.pop() {
                world.fleet.scale_by_hand(&cluster, &service, count);
                events.push(Event {
                    at,
                    environment: Some(cluster.clone()),
                    text: format!("someone deploys {service} with ecspresso: desiredCount {count}, outside envsched"),
                });
            }
        }
        while edits.last().is_some_and(|e| e.0 <= now) {
            source.state.lock().unwrap_or_else(|p| p.into_inner()).edited = true;
            match edits.pop().map(|e| e.1) {
                Some(DemoEdit::Add(row)) => {
                    let mut rows = standin.rows();
                    rows.push(row);
                    standin.set_rows(rows);
                }
                Some(DemoEdit::SetStatus { id, status }) => standin.edit_row(&id, |r| r.status = status),
                Some(DemoEdit::Outage(status)) => standin.set_outage(Some(status)),
                Some(DemoEdit::OutageEnds) => standin.set_outage(None),
                None => {}
            }
        }
        let r = reconcile(config, source, &world.fleet, &world.clock, &mut state, Mode::Apply).await?;
        report.cycles += 1;
        if r.source_error.is_none() {
            events.extend(after(&r, &state.last_bookings).await);
        }
        let auto = world.fleet.auto_starts();
        for (at, id) in auto.iter().skip(seen_auto) {
            events.push(Event {
                at: *at,
                environment: id.split('-').next().map(str::to_string),
                text: format!("Aurora cluster {id} starts itself after 7 days stopped"),
            });
        }
        seen_auto = auto.len();
        match (&r.plan.frozen, was_frozen) {
            (Some(f), false) => {
                events.push(Event { at: now, environment: None, text: format!("FROZEN — {}", f.reason) })
            }
            (None, true) => events.push(Event {
                at: now,
                environment: None,
                text: "bookings readable again: reconciling resumes".into(),
            }),
            _ => {}
        }
        was_frozen = r.plan.frozen.is_some();
        if was_frozen {
            report.frozen_cycles += 1;
        }
        for p in &r.plan.problems {
            let text = p.to_string();
            if seen_problems.insert(text.clone()) {
                report.problems.push(text.clone());
                events.push(Event { at: now, environment: None, text: format!("problem: {text}") });
            }
        }
        summarise_actions(&r, now, &mut events, &mut report);
        let deferred =
            r.plan.targets.iter().filter(|t| matches!(t.status, envsched_core::TargetStatus::Deferred(_))).count();
        if deferred > 0 {
            events.push(Event {
                at: now,
                environment: None,
                text: format!(
                    "stop cap: max_stops_per_cycle = {} reached, {deferred} stops deferred to the next cycle",
                    config.safety.max_stops_per_cycle
                ),
            });
        }

        // Sample the world at this minute, as the cycle observed it.
        let snapshot = &r.observed;
        let live: Vec<Booking> = state.last_bookings.clone();
        let statuses: BTreeMap<String, String> = standin.rows().into_iter().map(|r| (r.id, r.status)).collect();
        for b in &live {
            match seen_rows.iter_mut().find(|s| s.id == b.id) {
                Some(s) => *s = b.clone(),
                None => seen_rows.push(b.clone()),
            }
        }
        for s in &mut seen_rows {
            if let Some(status) = statuses.get(&s.id) {
                s.status = status.clone();
            }
        }
        let rows = seen_rows.clone();
        let booked = desired(&live, &booked_config, now);
        let idx = envsched_core::observed::ObservedIndex::new(snapshot);
        for (i, t) in config.targets.all().iter().enumerate() {
            let track = &mut targets[i];
            match idx.find(&t.locator) {
                Some(envsched_core::observed::Found::Service(s)) => {
                    track.running[m] = u16::try_from(s.running_count).unwrap_or(u16::MAX);
                    track.up[m] = s.running_count > 0 && s.desired_count > 0;
                }
                Some(envsched_core::observed::Found::Cluster(c)) => {
                    track.running[m] = u16::from(c.status != AuroraStatus::Stopped);
                    track.up[m] = c.status == AuroraStatus::Available;
                }
                None => {}
            }
            let td = &booked.targets[i];
            track.booked[m] = td.state == DesiredState::Up && td.target.pin != Some(Pin::Up);
            if track.booked[m] && !track.up[m] {
                report.booked_minutes_missed += 1;
            }
        }
        for b in &rows {
            let pos = match bookings.iter().position(|t| t.booking.id == b.id) {
                Some(p) => p,
                None => {
                    bookings.push(BookingTrack {
                        booking: b.clone(),
                        active: vec![false; minutes],
                        components: components(b, config),
                    });
                    bookings.len() - 1
                }
            };
            let track = &mut bookings[pos];
            track.booking = b.clone();
            track.active[m] = envsched_core::desired::is_live(b, config)
                && config.calendar(b.environment.as_deref()).is_active(
                    &b.window,
                    SignedDuration::ZERO,
                    SignedDuration::ZERO,
                    now,
                );
        }
    }

    for t in &targets {
        let hours = |v: f64| v / 60.0;
        let total = minutes as f64;
        match t.kind {
            TargetKind::EcsService => {
                report.service_hours += hours(t.running.iter().filter(|r| **r > 0).count() as f64);
                report.service_hours_always_on += hours(total);
                report.task_hours += hours(t.running.iter().map(|r| f64::from(*r)).sum::<f64>());
                report.task_hours_always_on += hours(total * f64::from(t.initial_count));
            }
            TargetKind::AuroraCluster => {
                report.aurora_hours += hours(t.running.iter().map(|r| f64::from(*r)).sum::<f64>());
                report.aurora_hours_always_on += hours(total);
            }
        }
    }
    report.aurora_auto_starts = seen_auto;
    events.sort_by_key(|e| e.at);
    Ok(Simulation {
        start: world.start,
        minutes,
        environments: config.environments.iter().map(|e| e.name.clone()).collect(),
        targets,
        bookings,
        events,
        report,
    })
}

fn components(b: &Booking, config: &Config) -> Vec<(String, Vec<usize>)> {
    b.components
        .iter()
        .map(|c| {
            let sel =
                Selector::parse(c).map(|s| config.targets.select(&s, b.environment.as_deref())).unwrap_or_default();
            (c.clone(), sel)
        })
        .collect()
}

/// Turns a cycle's applied actions into a few readable events.
fn summarise_actions(r: &envsched_core::Report, now: Timestamp, events: &mut Vec<Event>, report: &mut Savings) {
    // (environment, up?) → (targets, bookings)
    let mut groups: BTreeMap<(String, bool), (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for a in &r.applied {
        *report.actions.entry(a.action.op.name().to_string()).or_default() += 1;
        if matches!(a.outcome, Outcome::Failed(_)) {
            report.failed_actions += 1;
            events.push(Event {
                at: now,
                environment: None,
                text: format!("FAILED {} {}: {:?}", a.action.target, a.action.op.name(), a.outcome),
            });
        }
        if a.action.is_drift() && matches!(a.action.op, envsched_core::Op::Scale { .. }) {
            report.drift_reparked += 1;
            events.push(Event {
                at: now,
                environment: a.action.target.environment().map(str::to_string),
                text: format!("{} parked again — {}", a.action.target, a.action.reason),
            });
            continue;
        }
        let up = match a.action.op {
            envsched_core::Op::Start | envsched_core::Op::Scale { from: 0, .. } => true,
            envsched_core::Op::Stop | envsched_core::Op::Scale { to: 0, .. } => false,
            _ => continue,
        };
        let (env, name) = (a.action.target.environment().unwrap_or(""), a.action.target.name());
        let entry = groups.entry((env.to_string(), up)).or_default();
        entry.0.insert(name.to_string());
        if let Some(t) = r.plan.target(&a.action.target) {
            entry.1.extend(t.bookings.iter().map(|b| b.title.clone()));
        }
    }
    for ((env, up), (names, titles)) in groups {
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        let shown = if list.len() > 4 {
            format!("{}, … ({} in all)", list[..3].join(", "), list.len())
        } else {
            list.join(", ")
        };
        let why = if titles.is_empty() {
            "no active booking".to_string()
        } else {
            titles.into_iter().collect::<Vec<_>>().join(" + ")
        };
        let arrow = if up { "▲ up  " } else { "▼ down" };
        events.push(Event { at: now, environment: Some(env), text: format!("{arrow} {shown} — {why}") });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_config_builds_a_world_of_four_slices_of_sixty_services() {
        let w = super::world(include_str!("../../../config/demo.toml")).expect("demo world");
        let ecs = w.config.targets.all().iter().filter(|t| t.kind() == envsched_core::TargetKind::EcsService).count();
        assert_eq!(ecs, 240);
        assert_eq!(w.config.environments.len(), 4);
    }
}
