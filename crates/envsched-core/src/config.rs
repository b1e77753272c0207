//! Configuration: the TOML file's model, its defaults and its validation.
//!
//! [`ConfigFile`] mirrors the file one to one (every field documented; the docs are the
//! reference, `config/envsched.example.toml` shows every key). [`Config::from_toml`] parses
//! and validates it into [`Config`], the typed value the rest of envsched uses. Validation
//! happens once, here, and reports *every* problem with the key it concerns and the fix.
//! No error prints a value that looks like a Notion token, whatever the key
//! ([`redact_tokens`]).

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

use globset::{GlobBuilder, GlobMatcher};
use jiff::SignedDuration;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cron::Cron;
use crate::holidays::HolidayCalendar;
use crate::target::{Locator, Pin, Place, Target, TargetSet, TargetSetError};
use crate::window::{Calendar, OperatingHours, WeekdayKey};

/// The configuration file, key for key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// IANA time zone in which date-only bookings and operating hours are read, unless an
    /// environment sets its own. Default `Asia/Tokyo`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Where the bookings live in Notion and how their properties are named.
    #[serde(default)]
    pub notion: NotionSection,
    /// Timing of the reconcile loop and of windows.
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// Defaults for targets.
    #[serde(default)]
    pub defaults: DefaultsSection,
    /// Environments ("slices", 断面): calendars and scoping.
    #[serde(default)]
    pub environments: Vec<EnvironmentSection>,
    /// Declared targets: the resources envsched manages.
    #[serde(default)]
    pub targets: Vec<TargetSection>,
    /// Guards that keep envsched from doing harm.
    #[serde(default)]
    pub safety: SafetySection,
    /// Tags envsched reads and writes on AWS resources.
    #[serde(default)]
    pub tags: TagsSection,
    /// Prices used for the savings estimate (demo report, metrics).
    #[serde(default)]
    pub pricing: PricingSection,
    /// Where the AWS fleet lives.
    #[serde(default)]
    pub aws: AwsSection,
    /// Targets found by tag on AWS, in addition to the declared ones.
    #[serde(default)]
    pub discovery: DiscoverySection,
    /// Targets imported from an ecspresso monorepo (one `ecspresso.yml|json` per service).
    #[serde(default)]
    pub ecspresso: Vec<EcspressoSection>,
    /// The daemon's HTTP endpoints.
    #[serde(default)]
    pub http: HttpSection,
}

/// `[discovery]`: shared targets found by tag, and the tag key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySection {
    /// The tag whose value is a discovered resource's target name. Default `<prefix>name`
    /// (`envsched:name`).
    #[serde(default)]
    pub tag: Option<String>,
    /// ECS clusters (default place) whose tagged services become shared targets. Only these
    /// clusters are listed.
    #[serde(default)]
    pub ecs_clusters: Vec<String>,
    /// Tagged Aurora clusters (default place) without an `<prefix>environment` tag become
    /// shared targets.
    #[serde(default)]
    pub aurora: bool,
}

/// `discover = { ecs_clusters = [...], aurora = true }` in an environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentDiscoverySection {
    /// ECS clusters (in the environment's place) whose tagged services become this
    /// environment's targets. Only these clusters are listed.
    #[serde(default)]
    pub ecs_clusters: Vec<String>,
    /// Tagged Aurora clusters (in the environment's place) whose `<prefix>environment` tag
    /// names this environment become its targets.
    #[serde(default)]
    pub aurora: bool,
}

/// `aws = { role_arn = "…", region = "…" }` in an environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceSection {
    /// Role to assume for this environment's resources (another account), e.g.
    /// `arn:aws:iam::123456789012:role/envsched`. Absent: the task's own credentials.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// Region of this environment's resources. Absent: `[aws] region`.
    #[serde(default)]
    pub region: Option<String>,
}

/// `[[ecspresso]]`: import targets from an ecspresso monorepo.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcspressoSection {
    /// The monorepo directory holding `products/<svc>/<env>/ecspresso.yml` (relative paths
    /// are read from the config file's directory).
    pub root: String,
    /// The ecspresso environment directory to read (`stg` in `products/app1-web/stg/`).
    pub env: String,
    /// The envsched environment the imported targets belong to; absent: shared.
    #[serde(default)]
    pub environment: Option<String>,
}

/// `[aws]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsSection {
    /// The Region of the clusters; default: the standard chain's (`AWS_REGION`, profile, or
    /// the ECS task's Region).
    #[serde(default)]
    pub region: Option<String>,
    /// One active copy: a lease in a DynamoDB table. Absent: copies are not coordinated.
    #[serde(default)]
    pub lease: Option<LeaseSection>,
}

/// `[aws.lease]`: the DynamoDB item that makes one copy of envsched the active one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseSection {
    /// The DynamoDB table (partition key `pk`, a string), in `[aws] region`.
    /// `deploy/terraform` creates it as `<name>-lease`.
    pub table: String,
    /// The item's key: copies with the same key exclude each other. Give each deployment
    /// that manages a different fleet its own key. Default `"envsched"`.
    #[serde(default = "default_lease_key")]
    pub key: String,
    /// How long a lease lasts unless renewed (renewed every third of it). A copy that dies
    /// without releasing it is replaced after this long. Default `"60s"` (10s to 10m).
    #[serde(default = "default_lease_ttl")]
    pub ttl: String,
}

fn default_lease_key() -> String {
    "envsched".into()
}

fn default_lease_ttl() -> String {
    "60s".into()
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

/// `[notion]`: the bookings database.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotionSection {
    /// The database id (32 hex digits, with or without dashes), from the database's URL.
    /// Needed to read Notion; optional while bookings come from files (`--bookings`).
    #[serde(default)]
    pub database_id: Option<String>,
    /// The data source to query (API 2025-09-03) when the database has several.
    #[serde(default)]
    pub data_source_id: Option<String>,
    /// Name of the environment variable holding the integration token (never the token
    /// itself). Default `NOTION_TOKEN`.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// `Notion-Version` to speak: `2025-09-03` (default) or `2022-06-28`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// API base URL; point it at the stand-in for tests. Default `https://api.notion.com`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The status (or select) property. Default `ステータス`.
    #[serde(default = "default_status_property")]
    pub status_property: String,
    /// Status values that make a row a live booking. Default `["利用中"]`.
    #[serde(default = "default_active_statuses")]
    pub active_statuses: Vec<String>,
    /// The multi-select property listing components. Default `コンポーネント`.
    #[serde(default = "default_components_property")]
    pub components_property: String,
    /// The date property holding the booked range. Default `期間`.
    #[serde(default = "default_window_property")]
    pub window_property: String,
    /// Optional select property scoping a row to one environment (e.g. `環境`).
    #[serde(default)]
    pub environment_property: Option<String>,
    /// Optional rich-text property envsched writes each booking's state to (e.g. `envsched`).
    #[serde(default)]
    pub feedback_property: Option<String>,
    /// The title property; default: the database's one `title` property, whatever its name.
    #[serde(default)]
    pub title_property: Option<String>,
    /// Client-side rate limit, requests per second (Notion's documented average is 3 per
    /// integration). Default 3.
    #[serde(default = "default_requests_per_second")]
    pub requests_per_second: f64,
    /// Give up a whole fetch (all pages, retries included) after this long; the cycle then
    /// freezes. Default `2m`.
    #[serde(default = "default_fetch_deadline")]
    pub fetch_deadline: String,
    /// Optional: the environment variable holding the webhook subscription's verification
    /// token. Without it, webhook events are refused and polling alone keeps envsched current.
    #[serde(default)]
    pub webhook_token_env: Option<String>,
}

impl Default for NotionSection {
    fn default() -> Self {
        NotionSection {
            database_id: None,
            data_source_id: None,
            token_env: default_token_env(),
            api_version: default_api_version(),
            base_url: default_base_url(),
            status_property: default_status_property(),
            active_statuses: default_active_statuses(),
            components_property: default_components_property(),
            window_property: default_window_property(),
            environment_property: None,
            feedback_property: None,
            title_property: None,
            requests_per_second: default_requests_per_second(),
            fetch_deadline: default_fetch_deadline(),
            webhook_token_env: None,
        }
    }
}

/// `[schedule]`: loop and window timing. Durations are written like `30s`, `10m`, `1h 30m`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// How often `run` polls Notion and AWS even when no window edge is due. Default `30s`.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: String,
    /// Start this long before a window opens, so services are up when it does. Default `10m`.
    #[serde(default = "default_lead")]
    pub lead: String,
    /// Keep things up this long after a window closes. Default `0s`.
    #[serde(default = "default_linger")]
    pub linger: String,
    /// On SIGTERM, how long `run` may take to finish the AWS calls in flight before it exits.
    /// Keep it below the ECS container's `stopTimeout` (default 30 s). Default `20s`.
    #[serde(default = "default_drain")]
    pub drain: String,
    /// Optional full resync, as a cron expression in the top-level `time_zone`: a cycle that
    /// first forgets what envsched remembers between cycles (the Notion data source and its
    /// status property's type, the text each row is believed to show, per-target backoff), so
    /// a changed schema or a hand-edited status cell is picked up. E.g. `"0 0 * * * *"`
    /// (hourly). 5 fields (minute first) or 6 (second first). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync: Option<String>,
    /// Optional summary log line (cycles, actions, failures, savings since the last one), as a
    /// cron expression in the top-level `time_zone`. E.g. `"0 0 9 * * MON-FRI"`. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            poll_interval: default_poll_interval(),
            lead: default_lead(),
            linger: default_linger(),
            drain: default_drain(),
            resync: None,
            summary: None,
        }
    }
}

fn default_drain() -> String {
    "20s".into()
}

/// `[http]`: the daemon's endpoints (health, metrics, status page, Notion webhook).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Address `run` listens on. Default `0.0.0.0:8080`.
    #[serde(default = "default_listen")]
    pub listen: String,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection { listen: default_listen() }
    }
}

fn default_listen() -> String {
    "0.0.0.0:8080".into()
}

/// `[defaults]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultsSection {
    /// desiredCount for a service coming up with no declared and no remembered count.
    /// Default 1.
    #[serde(default = "default_count")]
    pub count: u32,
}

impl Default for DefaultsSection {
    fn default() -> Self {
        DefaultsSection { count: default_count() }
    }
}

/// `[[environments]]`: one slice and its calendar.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSection {
    /// Name, as used by targets and by the Notion environment property (`stg1`).
    pub name: String,
    /// IANA zone for this environment's dates and hours; default: the top-level `time_zone`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Operating hours. Date-only and undated bookings are active only inside them;
    /// date-time bookings ignore them. Absent: whole days.
    #[serde(default)]
    pub hours: Option<HoursSection>,
    /// Built-in public holidays that are not operating days: `"jp"`.
    #[serde(default)]
    pub holidays: Option<String>,
    /// Dates (`YYYY-MM-DD`) that are not operating days.
    #[serde(default)]
    pub skip_dates: Vec<String>,
    /// The AWS account (role to assume) and/or Region of this environment's resources.
    #[serde(default)]
    pub aws: Option<PlaceSection>,
    /// Targets of this environment found by tag.
    #[serde(default)]
    pub discover: Option<EnvironmentDiscoverySection>,
}

/// `hours = { days = [...], from = "08:00", to = "20:00" }`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursSection {
    /// Operating weekdays: `mon` `tue` `wed` `thu` `fri` `sat` `sun`. Default Monday–Friday.
    #[serde(default = "default_days")]
    pub days: Vec<String>,
    /// Local start time, `HH:MM`.
    pub from: String,
    /// Local end time, `HH:MM` (`24:00` for midnight), after `from`.
    pub to: String,
}

/// `[[targets]]`: one managed resource. Exactly one of `ecs` and `aurora`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    /// Path-like name Notion components select (`products/app1-web`, `db/stg-aurora`).
    pub name: String,
    /// The environment it belongs to (must be declared); absent: shared by all.
    #[serde(default)]
    pub environment: Option<String>,
    /// An ECS service: `{ cluster = "stg1", service = "app1-web" }`.
    #[serde(default)]
    pub ecs: Option<EcsSection>,
    /// An Aurora DB cluster: `{ cluster_id = "stg-aurora" }`.
    #[serde(default)]
    pub aurora: Option<AuroraSection>,
    /// desiredCount when up (ECS only); wins over the remembered count and the default.
    #[serde(default)]
    pub count: Option<u32>,
    /// Targets that must be up first (an app needs its DB). Pulled up with this target.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// `"up"`: always on; `"down"`: always off — whatever the bookings say.
    #[serde(default)]
    pub pin: Option<Pin>,
}

/// An ECS service locator.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsSection {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
}

/// An Aurora cluster locator.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuroraSection {
    /// DB cluster identifier.
    pub cluster_id: String,
}

/// `[safety]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetySection {
    /// At most this many targets are stopped per cycle; the rest wait for the next cycle.
    /// Default 50.
    #[serde(default = "default_max_stops")]
    pub max_stops_per_cycle: usize,
    /// Globs over target names, cluster, service and DB cluster names that are never
    /// touched (e.g. `prod-*`).
    #[serde(default)]
    pub protected: Vec<String>,
    /// The suspicious-drop guard: when every booking vanishes at once while windows are open.
    #[serde(default)]
    pub suspicious_drop: SuspiciousDropSection,
}

impl Default for SafetySection {
    fn default() -> Self {
        SafetySection {
            max_stops_per_cycle: default_max_stops(),
            protected: Vec::new(),
            suspicious_drop: SuspiciousDropSection::default(),
        }
    }
}

/// `[safety.suspicious_drop]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspiciousDropSection {
    /// The guard trips when the previous fetch had at least this many bookings whose windows
    /// are still open and the new fetch has none at all. Default 2; 0 disables the guard.
    #[serde(default = "default_min_open_bookings")]
    pub min_open_bookings: usize,
    /// How long to stay frozen before accepting the empty list as real. Default `15m`.
    #[serde(default = "default_hold")]
    pub hold: String,
}

impl Default for SuspiciousDropSection {
    fn default() -> Self {
        SuspiciousDropSection { min_open_bookings: default_min_open_bookings(), hold: default_hold() }
    }
}

/// `[tags]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsSection {
    /// Prefix of every tag key envsched uses. Default `envsched:`. Keys: `<prefix>count`
    /// (remembered desiredCount), `<prefix>autoscaling` (remembered `min/max`),
    /// `<prefix>state` (`parked`/`running`), `<prefix>protected` (any value but `false`:
    /// never touch).
    #[serde(default = "default_tag_prefix")]
    pub prefix: String,
}

impl Default for TagsSection {
    fn default() -> Self {
        TagsSection { prefix: default_tag_prefix() }
    }
}

/// `[pricing]`: for the savings estimate only.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingSection {
    /// USD per running ECS task-hour. Default 0.01542202 (the seed's Fargate Spot figure).
    #[serde(default = "default_task_hour")]
    pub task_hour_usd: f64,
    /// USD per available Aurora cluster-hour (instances included). Default 0.30.
    #[serde(default = "default_aurora_hour")]
    pub aurora_cluster_hour_usd: f64,
}

impl Default for PricingSection {
    fn default() -> Self {
        PricingSection { task_hour_usd: default_task_hour(), aurora_cluster_hour_usd: default_aurora_hour() }
    }
}

fn default_time_zone() -> String {
    "Asia/Tokyo".into()
}
fn default_token_env() -> String {
    "NOTION_TOKEN".into()
}
fn default_api_version() -> String {
    API_2025_09_03.into()
}
fn default_base_url() -> String {
    "https://api.notion.com".into()
}
fn default_status_property() -> String {
    "ステータス".into()
}
fn default_active_statuses() -> Vec<String> {
    vec!["利用中".into()]
}
fn default_components_property() -> String {
    "コンポーネント".into()
}
fn default_window_property() -> String {
    "期間".into()
}
fn default_requests_per_second() -> f64 {
    3.0
}
fn default_fetch_deadline() -> String {
    "2m".into()
}
fn default_poll_interval() -> String {
    "30s".into()
}
fn default_lead() -> String {
    "10m".into()
}
fn default_linger() -> String {
    "0s".into()
}
fn default_count() -> u32 {
    1
}
fn default_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec()
}
fn default_max_stops() -> usize {
    50
}
fn default_min_open_bookings() -> usize {
    2
}
fn default_hold() -> String {
    "15m".into()
}
fn default_tag_prefix() -> String {
    "envsched:".into()
}
fn default_task_hour() -> f64 {
    0.01542202
}
fn default_aurora_hour() -> f64 {
    0.30
}

/// Notion API version 2022-06-28 (`/v1/databases/{id}/query`).
pub const API_2022_06_28: &str = "2022-06-28";
/// Notion API version 2025-09-03 (data sources).
pub const API_2025_09_03: &str = "2025-09-03";

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The top-level zone's name.
    pub time_zone_name: String,
    /// The calendar for bookings and targets outside any environment.
    pub default_calendar: Calendar,
    /// The Notion section, validated.
    pub notion: NotionSection,
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

    /// Parses and validates a TOML document. `origin` names it in errors (a file path).
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let file = parse_file(text).map_err(|message| ConfigError::Syntax { origin: origin.to_string(), message })?;
        Config::from_file(file, origin)
    }

    /// Validates an already-deserialized file (used by the demo, which adds its generated
    /// services to the file's targets before validation).
    pub fn from_file(file: ConfigFile, origin: &str) -> Result<Config, ConfigError> {
        let mut v = Validator::default();
        let config = v.config(&file);
        match config {
            Some(c) if v.issues.is_empty() => Ok(c),
            _ => Err(ConfigError::Invalid { origin: origin.to_string(), issues: v.issues }),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or does not fit the schema (unknown or missing key, wrong
    /// type). The message carries line, column and key.
    #[error("{origin}: {message}\n  fix: compare with config/envsched.example.toml, which lists every key")]
    Syntax {
        /// The file.
        origin: String,
        /// toml's message.
        message: String,
    },
    /// Keys whose values are wrong.
    #[error("{origin}: {} problem(s):\n{}", .issues.len(), render_issues(.issues))]
    Invalid {
        /// The file.
        origin: String,
        /// Every problem found.
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(issues: &[ConfigIssue]) -> String {
    issues.iter().map(|i| format!("  - {}: {}\n    fix: {}", i.key, i.message, i.fix)).collect::<Vec<_>>().join("\n")
}

/// One invalid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key, as a path (`targets[2].depends_on`).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// Deserializes a TOML document into the file model without validating it (for callers that
/// add to it before [`Config::from_file`]). The message carries line, column and key, with
/// anything that looks like a Notion token redacted ([`redact_tokens`]): toml quotes the
/// offending source line.
pub fn parse_file(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| redact_tokens(e.to_string().trim_end()))
}

/// Prefixes of Notion integration tokens.
const TOKEN_PREFIXES: [&str; 2] = ["ntn_", "secret_"];

/// At least this many letters and digits after a prefix make a token (real ones carry 40 or
/// more; `secret_garden` stays readable).
const TOKEN_MIN_TAIL: usize = 16;

/// `text` with every run that looks like a Notion token (`ntn_` or `secret_` followed by at
/// least 16 ASCII letters and digits) replaced by its prefix and a note saying why. Every
/// config error passes through here, whatever the key: a token pasted into the wrong key
/// must not reach a terminal, a CI log or Datadog.
pub fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let token = TOKEN_PREFIXES.iter().find_map(|prefix| {
            let tail = rest.strip_prefix(prefix)?;
            let len = tail.bytes().take_while(u8::is_ascii_alphanumeric).count();
            (len >= TOKEN_MIN_TAIL).then_some((*prefix, prefix.len() + len))
        });
        match token {
            Some((prefix, len)) => {
                out.push_str(prefix);
                out.push_str(
                    "…(redacted, looks like a Notion token: tokens belong in the environment variable named by notion.token_env)",
                );
                rest = &rest[len..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Parses a duration written like `30s`, `10m`, `1h 30m` or ISO 8601 `PT10M`.
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    SignedDuration::from_str(s.trim()).map_err(|e| format!("{s:?} is not a duration ({e})"))
}

#[derive(Default)]
struct Validator {
    issues: Vec<ConfigIssue>,
}

impl Validator {
    /// Records a problem. Values quoted in the message or fix are redacted if they look like
    /// a Notion token.
    fn issue(&mut self, key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) {
        self.issues.push(ConfigIssue {
            key: key.into(),
            message: redact_tokens(&message.into()),
            fix: redact_tokens(&fix.into()),
        });
    }

    fn zone(&mut self, key: &str, name: &str) -> Option<TimeZone> {
        match TimeZone::get(name) {
            Ok(z) => Some(z),
            Err(_) => {
                self.issue(
                    key,
                    format!("{name:?} is not a known IANA time zone"),
                    "use a name such as \"Asia/Tokyo\" or \"Europe/Berlin\"",
                );
                None
            }
        }
    }

    fn duration(&mut self, key: &str, value: &str, min: SignedDuration, max: SignedDuration) -> SignedDuration {
        match parse_duration(value) {
            Ok(d) if d < min || d > max => {
                self.issue(
                    key,
                    format!("{value:?} is out of range"),
                    format!("use a duration between {min:#} and {max:#}"),
                );
                min
            }
            Ok(d) => d,
            Err(e) => {
                self.issue(key, e, "write durations like \"30s\", \"10m\" or \"1h 30m\"");
                min
            }
        }
    }

    fn cron(&mut self, key: &str, text: Option<&str>) -> Option<Cron> {
        match text?.parse::<Cron>() {
            Ok(c) => Some(c),
            Err(e) => {
                self.issue(
                    key,
                    e.to_string(),
                    "write a cron expression, e.g. \"0 0 * * * *\" (hourly) or \"0 9 * * MON-FRI\" (09:00 on weekdays)",
                );
                None
            }
        }
    }

    fn config(&mut self, f: &ConfigFile) -> Option<Config> {
        let zone = self.zone("time_zone", &f.time_zone);
        self.notion(&f.notion);
        let schedule = Schedule {
            poll_interval: self.duration(
                "schedule.poll_interval",
                &f.schedule.poll_interval,
                SignedDuration::from_secs(1),
                SignedDuration::from_hours(1),
            ),
            lead: self.duration(
                "schedule.lead",
                &f.schedule.lead,
                SignedDuration::ZERO,
                SignedDuration::from_hours(24),
            ),
            linger: self.duration(
                "schedule.linger",
                &f.schedule.linger,
                SignedDuration::ZERO,
                SignedDuration::from_hours(24),
            ),
            drain: self.duration(
                "schedule.drain",
                &f.schedule.drain,
                SignedDuration::from_secs(1),
                SignedDuration::from_secs(110),
            ),
            resync: self.cron("schedule.resync", f.schedule.resync.as_deref()),
            summary: self.cron("schedule.summary", f.schedule.summary.as_deref()),
        };
        let listen = match f.http.listen.parse::<std::net::SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.issue(
                    "http.listen",
                    format!("{:?} is not an address to listen on", f.http.listen),
                    "write host:port, e.g. \"0.0.0.0:8080\" (all interfaces) or \"127.0.0.1:8080\"",
                );
                None
            }
        };
        if f.defaults.count == 0 {
            self.issue(
                "defaults.count",
                "0 would bring services \"up\" with no tasks",
                "use 1 or more; pin a target with pin = \"down\" to keep it off",
            );
        }
        let environments = self.environments(f, zone.as_ref());
        let targets = self.targets(f);
        let safety = self.safety(&f.safety);
        self.tags(&f.tags);
        let mut tags = TagKeys::with_prefix(&f.tags.prefix);
        if let Some(t) = &f.discovery.tag {
            if t.trim().is_empty() || t.to_ascii_lowercase().starts_with("aws:") || t.len() > 128 {
                self.issue(
                    "discovery.tag",
                    format!("{t:?} cannot be an AWS tag key"),
                    "use a key such as \"envsched:name\" (not starting with \"aws:\")",
                );
            }
            tags.name = t.clone();
        }
        let discovery = Discovery { tag: tags.name.clone(), ..self.discovery(f) };
        let lease = self.lease(f.aws.lease.as_ref());
        for (i, e) in f.ecspresso.iter().enumerate() {
            self.known_environment(f, &format!("ecspresso[{i}].environment"), e.environment.as_deref(), &e.root);
            if e.env.trim().is_empty() || e.env.contains(['/', '\\']) {
                self.issue(
                    format!("ecspresso[{i}].env"),
                    format!("{:?} is not an ecspresso environment directory name", e.env),
                    "name the directory under products/<svc>/, e.g. \"stg\"",
                );
            }
        }
        for (key, v) in [
            ("pricing.task_hour_usd", f.pricing.task_hour_usd),
            ("pricing.aurora_cluster_hour_usd", f.pricing.aurora_cluster_hour_usd),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                self.issue(key, format!("{v} is not a price"), "use a non-negative number of USD");
            }
        }
        Some(Config {
            time_zone_name: f.time_zone.clone(),
            default_calendar: Calendar::whole_days(zone?),
            notion: f.notion.clone(),
            schedule,
            default_count: f.defaults.count,
            environments: environments?,
            targets: targets?,
            safety: safety?,
            tags,
            pricing: f.pricing.clone(),
            aws: f.aws.clone(),
            discovery,
            ecspresso: f.ecspresso.clone(),
            listen: listen?,
            lease,
        })
    }

    fn lease(&mut self, l: Option<&LeaseSection>) -> Option<LeaseSettings> {
        let l = l?;
        let t = l.table.as_str();
        if !(3..=255).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
            self.issue(
                "aws.lease.table",
                format!("{t:?} is not a DynamoDB table name"),
                "use 3 to 255 letters, digits, '_', '-' or '.', e.g. \"envsched-lease\" (deploy/terraform's output lease_table)",
            );
        }
        if l.key.trim().is_empty() || l.key.len() > 1024 {
            self.issue(
                "aws.lease.key",
                format!("{:?} cannot be the lease's key", l.key),
                "use a short name for this deployment, e.g. \"staging\" (default \"envsched\")",
            );
        }
        let ttl = self.duration("aws.lease.ttl", &l.ttl, SignedDuration::from_secs(10), SignedDuration::from_mins(10));
        Some(LeaseSettings { table: l.table.clone(), key: l.key.clone(), ttl: ttl.unsigned_abs() })
    }

    fn notion(&mut self, n: &NotionSection) {
        if n.api_version != API_2022_06_28 && n.api_version != API_2025_09_03 {
            self.issue(
                "notion.api_version",
                format!("{:?} is not supported", n.api_version),
                format!("use \"{API_2025_09_03}\" (data sources) or \"{API_2022_06_28}\""),
            );
        }
        if !(n.base_url.starts_with("https://") || n.base_url.starts_with("http://")) {
            self.issue(
                "notion.base_url",
                format!("{:?} is not an http(s) URL", n.base_url),
                "use \"https://api.notion.com\" (or the stand-in's http://127.0.0.1:PORT)",
            );
        }
        let t = n.token_env.trim();
        if t.starts_with("secret_") || t.starts_with("ntn_") {
            self.issue("notion.token_env", "this looks like a Notion token, not the name of an environment variable", "put the token in an environment variable (Secrets Manager on ECS) and name that variable here, e.g. \"NOTION_TOKEN\"; revoke the token that was written into the file");
        } else if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.issue(
                "notion.token_env",
                format!("{:?} is not an environment variable name", n.token_env),
                "use letters, digits and _, e.g. \"NOTION_TOKEN\"",
            );
        }
        for (key, id) in [("notion.database_id", &n.database_id), ("notion.data_source_id", &n.data_source_id)] {
            if let Some(id) = id {
                let hex: String = id.chars().filter(|c| *c != '-').collect();
                if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    self.issue(
                        key,
                        format!("{id:?} is not a Notion id"),
                        "copy the 32 hex digits from the database URL (notion.so/…/<id>?v=…), dashes optional",
                    );
                }
            }
        }
        if !(n.requests_per_second > 0.0 && n.requests_per_second <= 1000.0) {
            self.issue(
                "notion.requests_per_second",
                format!("{} is not a request rate", n.requests_per_second),
                "use a number above 0 (Notion documents an average of 3 per second)",
            );
        }
        self.duration(
            "notion.fetch_deadline",
            &n.fetch_deadline,
            SignedDuration::from_secs(1),
            SignedDuration::from_mins(30),
        );
        if n.active_statuses.is_empty() || n.active_statuses.iter().any(|s| s.trim().is_empty()) {
            self.issue(
                "notion.active_statuses",
                "needs at least one non-empty status value",
                "list the status values that mean \"in use\", e.g. [\"利用中\"]",
            );
        }
        for (key, v) in [
            ("notion.status_property", Some(&n.status_property)),
            ("notion.components_property", Some(&n.components_property)),
            ("notion.window_property", Some(&n.window_property)),
            ("notion.environment_property", n.environment_property.as_ref()),
            ("notion.feedback_property", n.feedback_property.as_ref()),
            ("notion.title_property", n.title_property.as_ref()),
        ] {
            if v.is_some_and(|v| v.trim().is_empty()) {
                self.issue(key, "is empty", "write the property's name exactly as shown in Notion, or remove the key");
            }
        }
    }

    fn environments(&mut self, f: &ConfigFile, default_zone: Option<&TimeZone>) -> Option<Vec<Environment>> {
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
            let zone = match &e.time_zone {
                Some(z) => self.zone(&format!("{key}.time_zone"), z),
                None => default_zone.cloned(),
            };
            let hours = e.hours.as_ref().and_then(|h| self.hours(&format!("{key}.hours"), h));
            let holidays = match e.holidays.as_deref() {
                None => None,
                Some(name) => match HolidayCalendar::from_name(name) {
                    Some(h) => Some(h),
                    None => {
                        self.issue(
                            format!("{key}.holidays"),
                            format!("{name:?} is not a built-in holiday calendar"),
                            "use \"jp\" (Japanese public holidays) or list the dates in skip_dates",
                        );
                        ok = false;
                        None
                    }
                },
            };
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
            match zone {
                Some(zone) => out.push(Environment {
                    name: e.name.clone(),
                    calendar: Calendar { zone, hours, holidays, skip_dates },
                    place,
                }),
                None => ok = false,
            }
        }
        ok.then_some(out)
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
    fn known_environment(&mut self, f: &ConfigFile, key: &str, environment: Option<&str>, what: &str) -> bool {
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

    fn discovery(&mut self, f: &ConfigFile) -> Discovery {
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

    fn targets(&mut self, f: &ConfigFile) -> Option<TargetSet> {
        let envs: HashSet<&str> = f.environments.iter().map(|e| e.name.as_str()).collect();
        let mut targets = Vec::with_capacity(f.targets.len());
        let mut ok = true;
        for (i, t) in f.targets.iter().enumerate() {
            let key = format!("targets[{i}]");
            if !crate::target::is_usable_name(&t.name) {
                self.issue(
                    format!("{key}.name"),
                    format!("{:?} is not a usable target name", t.name),
                    "use a path-like name without spaces or glob characters, e.g. \"products/app1-web\"",
                );
                ok = false;
            }
            if let Some(env) = &t.environment
                && !envs.contains(env.as_str())
            {
                let known: Vec<&str> = f.environments.iter().map(|e| e.name.as_str()).collect();
                self.issue(
                    format!("{key}.environment"),
                    format!("{:?} ({}) names environment {env:?}, which is not declared", t.name, key),
                    format!("declare it with [[environments]] name = {env:?}, or use one of {known:?}"),
                );
                ok = false;
            }
            let place = t
                .environment
                .as_ref()
                .and_then(|n| f.environments.iter().find(|e| &e.name == n))
                .map(place)
                .unwrap_or_default();
            let locator = match (&t.ecs, &t.aurora) {
                (Some(e), None) => Locator::ecs(&e.cluster, &e.service).in_place(place),
                (None, Some(a)) => Locator::aurora(&a.cluster_id).in_place(place),
                _ => {
                    self.issue(
                        key.clone(),
                        format!("target {:?} needs exactly one of ecs and aurora", t.name),
                        "add ecs = { cluster = \"…\", service = \"…\" } or aurora = { cluster_id = \"…\" }",
                    );
                    ok = false;
                    continue;
                }
            };
            match (t.count, &locator) {
                (Some(_), Locator::Aurora { .. }) => {
                    self.issue(
                        format!("{key}.count"),
                        format!("{:?} is an Aurora cluster; count applies to ECS services", t.name),
                        "remove count (clusters are started and stopped whole)",
                    );
                }
                (Some(0), _) => {
                    self.issue(
                        format!("{key}.count"),
                        "0 would bring the service \"up\" with no tasks",
                        "use 1 or more, or pin = \"down\" to keep it off",
                    );
                }
                _ => {}
            }
            targets.push(Target {
                name: t.name.clone(),
                environment: t.environment.clone(),
                locator,
                count: t.count,
                depends_on: t.depends_on.clone(),
                pin: t.pin,
            });
        }
        if !ok {
            return None;
        }
        match TargetSet::new(targets) {
            Ok(set) => Some(set),
            Err(errors) => {
                for e in errors {
                    let (key, fix) = match &e {
                        TargetSetError::DuplicateName { second, .. } => (
                            format!("targets[{second}].name"),
                            "give every target a unique name within its environment".to_string(),
                        ),
                        TargetSetError::DuplicateLocator { .. } => {
                            ("targets".to_string(), "declare each AWS resource once".to_string())
                        }
                        TargetSetError::UnknownDependency { index, near, .. } => (
                            format!("targets[{index}].depends_on"),
                            match near {
                                Some(n) => format!("use {n:?}, or declare the missing target"),
                                None => "declare the missing target or remove it from depends_on".to_string(),
                            },
                        ),
                        TargetSetError::Cycle { index, .. } => (
                            format!("targets[{index}].depends_on"),
                            "remove one of the depends_on links so the chain ends".to_string(),
                        ),
                    };
                    self.issue(key, e.to_string(), fix);
                }
                None
            }
        }
    }

    fn safety(&mut self, s: &SafetySection) -> Option<Safety> {
        if s.max_stops_per_cycle == 0 {
            self.issue("safety.max_stops_per_cycle", "0 would never stop anything", "use 1 or more (default 50)");
        }
        let mut protected = Vec::new();
        for (i, p) in s.protected.iter().enumerate() {
            match GlobBuilder::new(p).build() {
                Ok(g) => protected.push((p.clone(), g.compile_matcher())),
                Err(e) => self.issue(
                    format!("safety.protected[{i}]"),
                    format!("{p:?} is not a valid glob: {}", e.kind()),
                    "use * and ? wildcards, e.g. \"prod-*\"",
                ),
            }
        }
        let hold = self.duration(
            "safety.suspicious_drop.hold",
            &s.suspicious_drop.hold,
            SignedDuration::ZERO,
            SignedDuration::from_hours(24 * 7),
        );
        Some(Safety {
            max_stops_per_cycle: s.max_stops_per_cycle,
            protected,
            suspicious_min_open_bookings: s.suspicious_drop.min_open_bookings,
            suspicious_hold: hold,
        })
    }

    fn tags(&mut self, t: &TagsSection) {
        if t.prefix.is_empty() || t.prefix.len() > 100 || t.prefix.to_ascii_lowercase().starts_with("aws:") {
            self.issue(
                "tags.prefix",
                format!("{:?} cannot prefix AWS tag keys", t.prefix),
                "use a short prefix that does not start with \"aws:\", e.g. \"envsched:\"",
            );
        }
    }
}

/// An environment's place, as declared.
fn place(e: &EnvironmentSection) -> Place {
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
