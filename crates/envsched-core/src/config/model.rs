//! The validated configuration: what the rest of envsched reads, every field typed.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use globset::GlobMatcher;
use jiff::SignedDuration;

use super::file::{
    API_2022_06_28, API_2025_09_03, API_2026_03_11, AwsSection, EcspressoSection, PricingSection, default_tag_prefix,
};
use crate::cron::Cron;
use crate::target::{Place, TargetSet};
use crate::window::Calendar;

/// The `Notion-Version` envsched speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum NotionApi {
    /// `2022-06-28`: databases are queried directly.
    V2022_06_28,
    /// `2025-09-03`: a database holds data sources, which are queried.
    V2025_09_03,
    /// `2026-03-11`: as 2025-09-03, without `archived` (only `in_trash`) in requests and
    /// responses. The default.
    #[default]
    V2026_03_11,
}

impl NotionApi {
    /// Every version envsched speaks, oldest first.
    pub const ALL: [NotionApi; 3] = [NotionApi::V2022_06_28, NotionApi::V2025_09_03, NotionApi::V2026_03_11];
    /// The newest version envsched speaks.
    pub const NEWEST: NotionApi = NotionApi::V2026_03_11;

    /// The header value (`2025-09-03`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotionApi::V2022_06_28 => API_2022_06_28,
            NotionApi::V2025_09_03 => API_2025_09_03,
            NotionApi::V2026_03_11 => API_2026_03_11,
        }
    }

    /// Whether databases hold data sources (2025-09-03 and later).
    pub fn has_data_sources(self) -> bool {
        self != NotionApi::V2022_06_28
    }

    /// Whether objects still carry `archived` beside `in_trash` (before 2026-03-11); under
    /// 2026-03-11 a request naming `archived` is refused.
    pub fn has_archived(self) -> bool {
        self < NotionApi::V2026_03_11
    }
}

impl fmt::Display for NotionApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NotionApi {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NotionApi::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a supported Notion API version"))
    }
}

/// `[notion]`, validated: where the bookings live and how their properties are named.
#[derive(Debug, Clone, PartialEq)]
pub struct Notion {
    /// The database id; `None` while bookings come from files.
    pub database_id: Option<String>,
    /// The data source to query (API 2025-09-03), if the config names one.
    pub data_source_id: Option<String>,
    /// The environment variable holding the integration token.
    pub token_env: String,
    /// The `Notion-Version` to speak.
    pub api_version: NotionApi,
    /// API base URL.
    pub base_url: String,
    /// The status (or select) property.
    pub status_property: String,
    /// Status values that make a row a live booking.
    pub active_statuses: Vec<String>,
    /// The multi-select property listing components.
    pub components_property: String,
    /// The date property holding the booked range.
    pub window_property: String,
    /// The select property scoping a row to one environment, if any.
    pub environment_property: Option<String>,
    /// The rich-text property envsched writes each booking's state to, if any.
    pub feedback_property: Option<String>,
    /// The title property; `None`: the database's one `title` property.
    pub title_property: Option<String>,
    /// Client-side rate limit, requests per second.
    pub requests_per_second: f64,
    /// A whole fetch (all pages, retries included) gives up after this long.
    pub fetch_deadline: Duration,
    /// The environment variable holding the webhook verification token, if any.
    pub webhook_token_env: Option<String>,
    /// Add missing component options at each resync.
    pub sync_options: bool,
}

impl Default for Notion {
    /// The defaults of an empty `[notion]` section.
    fn default() -> Self {
        let parsed = super::file::NotionSection::default();
        Notion {
            database_id: None,
            data_source_id: None,
            token_env: parsed.token_env,
            api_version: NotionApi::default(),
            base_url: parsed.base_url,
            status_property: parsed.status_property,
            active_statuses: parsed.active_statuses,
            components_property: parsed.components_property,
            window_property: parsed.window_property,
            environment_property: None,
            feedback_property: None,
            title_property: None,
            requests_per_second: parsed.requests_per_second,
            fetch_deadline: Duration::from_secs(120),
            webhook_token_env: None,
            sync_options: false,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The top-level zone's name.
    pub time_zone_name: String,
    /// The calendar for bookings and targets outside any environment.
    pub default_calendar: Calendar,
    /// The Notion section, validated.
    pub notion: Notion,
    /// Loop and window timing.
    pub schedule: Schedule,
    /// desiredCount when nothing better is known.
    pub default_count: u32,
    /// Environments, in file order.
    pub environments: Vec<Environment>,
    /// The targets.
    pub targets: TargetSet,
    /// Safety settings.
    pub safety: Safety,
    /// Tag keys.
    pub tags: TagKeys,
    /// Prices for estimates.
    pub pricing: PricingSection,
    /// AWS settings.
    pub aws: AwsSection,
    /// What to list for discovery by tag.
    pub discovery: Discovery,
    /// ecspresso imports (already merged into `targets` by the loader).
    pub ecspresso: Vec<EcspressoSection>,
    /// Where `run` serves HTTP.
    pub listen: std::net::SocketAddr,
    /// The lease that makes one copy active, if configured.
    pub lease: Option<LeaseSettings>,
    /// Comments on rows.
    pub notify: Notify,
}

/// `[notify]`, validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notify {
    /// How long before a booking's last window closes to comment; `None`: never.
    pub ending_soon: Option<SignedDuration>,
    /// Comment when a booking becomes ready after waiting.
    pub ready: bool,
}

/// Where to look for tagged resources, compiled from `[discovery]` and each environment's
/// `discover`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The tag key naming a discovered resource's target (`envsched:name`).
    pub tag: String,
    /// The places and clusters to list.
    pub sources: Vec<DiscoverySource>,
}

impl Discovery {
    /// Whether nothing is discovered (the declared targets are all there is).
    pub fn is_empty(&self) -> bool {
        self.sources.iter().all(|s| s.ecs_clusters.is_empty() && !s.aurora)
    }
}

/// One environment's (or the shared) discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverySource {
    /// The environment discovered targets belong to; `None`: shared.
    pub environment: Option<String>,
    /// Where to list.
    pub place: Place,
    /// ECS clusters to list.
    pub ecs_clusters: Vec<String>,
    /// Whether to list Aurora clusters.
    pub aurora: bool,
}

/// Timing, parsed.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Poll interval of `run`.
    pub poll_interval: SignedDuration,
    /// Lead time before windows.
    pub lead: SignedDuration,
    /// Linger after windows.
    pub linger: SignedDuration,
    /// Shutdown drain.
    pub drain: SignedDuration,
    /// Longest time between two reads of one target ([`crate::sweep`]).
    pub sweep: SignedDuration,
    /// How long an Aurora cluster takes to become available, for the lead check
    /// ([`crate::openings`]).
    pub aurora_start: SignedDuration,
    /// When to run a full resync, if ever.
    pub resync: Option<Cron>,
    /// When to log a summary, if ever.
    pub summary: Option<Cron>,
}

/// An environment and its calendar.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// Its calendar.
    pub calendar: Calendar,
    /// Where its resources live.
    pub place: Place,
    /// `holidays_csv` as written (relative to the config file), loaded by
    /// [`Config::load_holiday_lists`].
    pub holidays_csv: Option<String>,
}

/// Safety settings, compiled.
#[derive(Debug, Clone)]
pub struct Safety {
    /// The stop cap per cycle.
    pub max_stops_per_cycle: usize,
    /// Protected name patterns.
    pub protected: Vec<(String, GlobMatcher)>,
    /// Guard threshold (0 = off).
    pub suspicious_min_open_bookings: usize,
    /// Guard hold time.
    pub suspicious_hold: SignedDuration,
}

impl Safety {
    /// The protected pattern matching any of `names`, if one does.
    pub fn protected_by<'a>(&'a self, names: &[&str]) -> Option<&'a str> {
        self.protected.iter().find(|(_, m)| names.iter().any(|n| m.is_match(n))).map(|(p, _)| p.as_str())
    }
}

/// The tag keys envsched uses on AWS resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagKeys {
    /// Remembered desiredCount (written before scaling to 0).
    pub count: String,
    /// Remembered autoscaling `min/max` (written before parking at 0/0).
    pub autoscaling: String,
    /// `parked` / `running`: whether the remembered values describe a parked service.
    pub state: String,
    /// Leave-alone marker: present with any value but `false` = never touch.
    pub protected: String,
    /// Discovery marker (the target name), used by the AWS fleet.
    pub name: String,
    /// On a discovered Aurora cluster: the environment it belongs to.
    pub environment: String,
    /// On a discovered resource: the target names it depends on, space-separated (AWS tag
    /// values cannot hold commas).
    pub depends_on: String,
}

impl TagKeys {
    /// Keys derived from `prefix`.
    pub fn with_prefix(prefix: &str) -> Self {
        TagKeys {
            count: format!("{prefix}count"),
            autoscaling: format!("{prefix}autoscaling"),
            state: format!("{prefix}state"),
            protected: format!("{prefix}protected"),
            name: format!("{prefix}name"),
            environment: format!("{prefix}environment"),
            depends_on: format!("{prefix}depends-on"),
        }
    }
}

impl Default for TagKeys {
    fn default() -> Self {
        TagKeys::with_prefix(&default_tag_prefix())
    }
}

impl Config {
    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The calendar that applies in environment `env` (the default calendar for `None` or an
    /// unknown name).
    pub fn calendar(&self, env: Option<&str>) -> &Calendar {
        env.and_then(|e| self.environment(e)).map(|e| &e.calendar).unwrap_or(&self.default_calendar)
    }

    /// The same configuration with another target set (declared plus discovered).
    pub fn with_targets(&self, targets: TargetSet) -> Config {
        Config { targets, ..self.clone() }
    }
}

/// The lease, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// The DynamoDB table.
    pub table: String,
    /// The item's partition key value.
    pub key: String,
    /// How long a taken or renewed lease lasts.
    pub ttl: std::time::Duration,
}

/// The keys of the memory tags, carried by each ECS action so a fleet re-checks exactly the
/// keys the config names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryKeys {
    /// Remembered desiredCount.
    pub count: String,
    /// Remembered autoscaling `min/max`.
    pub autoscaling: String,
    /// `parked` / `running`.
    pub state: String,
}

impl From<&TagKeys> for MemoryKeys {
    fn from(k: &TagKeys) -> Self {
        MemoryKeys { count: k.count.clone(), autoscaling: k.autoscaling.clone(), state: k.state.clone() }
    }
}

impl Default for MemoryKeys {
    fn default() -> Self {
        MemoryKeys::from(&TagKeys::default())
    }
}
