//! The demo's world: the seed's services, the calendars and clusters of `config/demo.toml`,
//! the fleet as it runs before envsched, and the week's bookings as data.

use std::collections::{BTreeMap, BTreeSet};

use envsched_core::config::ConfigFile;
use envsched_core::{AuroraStatus, Config, ConfigError, Observed, ObservedCluster, ObservedService};
use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::standin::Row;
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
    let observed = before_envsched(&config);
    let fleet = SandboxFleet::new(&observed, clock.clone(), Timing::default());
    if let Some(c) = observed.aurora_clusters.iter().find(|c| c.id.starts_with("stg3")) {
        // Stopped 6 days 10 hours before the week: it starts itself on Monday at 14:00.
        fleet.set_stopped_since(&c.id, start.checked_sub(SignedDuration::from_hours(6 * 24 + 10)).unwrap_or(start));
    }

    let (rows, edits, deploys) = week();
    Ok(World { config, clock, fleet, rows, edits, start, end, deploys })
}

fn toml_file(text: &str) -> Result<ConfigFile, ConfigError> {
    envsched_core::config::parse_file(text)
        .map_err(|message| ConfigError::Syntax { origin: "config/demo.toml".into(), message })
}

/// Before envsched: everything runs. Web services run 2 tasks and autoscale 1–4; stg3's
/// cluster was stopped by hand the week before.
fn before_envsched(config: &Config) -> Observed {
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
    observed
}

/// The week's bookings database, what people do to it, and a deploy outside envsched.
type Week = (Vec<Row>, Vec<(Timestamp, DemoEdit)>, Vec<(Timestamp, String, String, u32)>);

/// The week as data: the rows as it starts, the edits and the deploy.
fn week() -> Week {
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
        // Just when two bookings' "ending soon" comments fall due (19:30 for 20:00).
        (jst(2026, 11, 26, 19, 27), DemoEdit::Outage(503)),
        (jst(2026, 11, 26, 19, 33), DemoEdit::OutageEnds),
    ];
    let deploys = vec![(jst(2026, 11, 25, 15, 0), "stg4".to_string(), "campaign-web".to_string(), 1)];
    (rows, edits, deploys)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_config_builds_a_world_of_four_slices_of_sixty_services() {
        let w = super::world(include_str!("../../../../config/demo.toml")).expect("demo world");
        let ecs = w.config.targets.all().iter().filter(|t| t.kind() == envsched_core::TargetKind::EcsService).count();
        assert_eq!(ecs, 240);
        assert_eq!(w.config.environments.len(), 4);
    }
}
