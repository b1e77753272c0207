//! The file model: [`ConfigFile`] mirrors the TOML file key for key, with its defaults.
//! Every field is documented; the docs are the reference and
//! `config/envsched.example.toml` shows every key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::redact_tokens;
use crate::target::Pin;

/// Notion API version 2022-06-28 (`/v1/databases/{id}/query`).
pub const API_2022_06_28: &str = "2022-06-28";
/// Notion API version 2025-09-03 (data sources).
pub const API_2025_09_03: &str = "2025-09-03";
/// Notion API version 2026-03-11 (data sources; `archived` gone, only `in_trash`).
pub const API_2026_03_11: &str = "2026-03-11";

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
    /// Comments envsched adds to rows where people look: "ending soon", "ready".
    #[serde(default)]
    pub notify: NotifySection,
}

/// `[notify]`: comments on booking rows (`POST /v1/comments`; the integration needs the
/// "Insert comments" capability, and "Read comments" so a restarted copy does not repeat
/// one). Off by default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// How long before a booking's last window closes (and its targets stop) to comment on
    /// its row, mentioning its creator: what stops when, and how to keep it (move the end
    /// date). A duration between 1m and 24h, e.g. `"30m"`. Unset: no such comment. Once
    /// per booking end; never while frozen; not when every target it keeps up stays up
    /// for another booking.
    #[serde(default)]
    pub ending_soon: Option<String>,
    /// Comment once on a row when what it booked becomes ready after waiting. Default false.
    #[serde(default)]
    pub ready: bool,
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
    /// How fast envsched calls each AWS API family, per account and Region.
    #[serde(default)]
    pub pacing: PacingSection,
}

/// `[aws.pacing]`: envsched's own token bucket per API family (per account and Region), so
/// it stays inside AWS's throttles by design and leaves room for people and pipelines in the
/// same account. AWS's documented buckets: ECS reads 20/s burst 100, ECS mutations
/// (UpdateService) 5/s burst 50, ECS tag changes 10/s burst 20, RDS 12/s burst ~300;
/// Application Auto Scaling publishes none.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PacingSection {
    /// `"headroom"` (default: about 80 % of each documented rate and half its burst — ECS
    /// reads 16/s burst 50, UpdateService 4/s burst 25, tags 8/s burst 10, RDS 10/s burst
    /// 100, Auto Scaling 5/s burst 20), `"aws-limits"` (the documented figures themselves,
    /// Auto Scaling 5/s burst 20: for an account envsched has to itself) or `"off"` (no
    /// pacing: for emulators such as moto; never against real AWS).
    #[serde(default)]
    pub preset: Option<String>,
    /// ECS reads (`DescribeServices`, `ListServices`), over the preset.
    #[serde(default)]
    pub ecs_read: Option<RateSection>,
    /// ECS mutations (`UpdateService`), over the preset.
    #[serde(default)]
    pub ecs_write: Option<RateSection>,
    /// ECS tag changes (`TagResource`, `UntagResource`), over the preset.
    #[serde(default)]
    pub ecs_tag: Option<RateSection>,
    /// RDS, every API, over the preset.
    #[serde(default)]
    pub rds: Option<RateSection>,
    /// Application Auto Scaling, over the preset.
    #[serde(default)]
    pub autoscaling: Option<RateSection>,
}

/// One API family's bucket: `rate` calls per second sustained after a `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Calls per second, sustained (> 0, at most 1000).
    pub rate: f64,
    /// Calls allowed at once from a full bucket (1 to 10,000).
    pub burst: u32,
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
    /// `Notion-Version` to speak: `2026-03-11` (default, the newest), `2025-09-03` or
    /// `2022-06-28`. envsched reads and writes the same things under each; the two newer ones
    /// query data sources, and `2026-03-11` has no `archived` field (envsched never sends it
    /// and reads `in_trash`).
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
    /// At each `schedule.resync`, add the component options the targets offer, as
    /// `envsched sync-options` does (never removing one). Default false.
    #[serde(default)]
    pub sync_options: bool,
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
            sync_options: false,
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
    /// Every target is read from AWS at least this often. A fleet whose full read costs more
    /// than 2 `DescribeServices` per second of poll is read in slices: each cycle re-reads the
    /// targets that can have changed and the oldest-read of the rest. Default `10m`.
    #[serde(default = "default_sweep")]
    pub sweep: String,
    /// How long an Aurora cluster takes from `StartDBCluster` to `available` in this account
    /// (AWS: minutes). Only `plan` and `check` use it, to say whether `lead` leaves time for a
    /// window's cluster and then the services that depend on it; the daemon never waits on
    /// it (it reads the cluster's state each cycle). Default `7m`.
    #[serde(default = "default_aurora_start")]
    pub aurora_start: String,
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
            sweep: default_sweep(),
            aurora_start: default_aurora_start(),
            resync: None,
            summary: None,
        }
    }
}

fn default_drain() -> String {
    "20s".into()
}

fn default_sweep() -> String {
    "10m".into()
}

fn default_aurora_start() -> String {
    "7m".into()
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
    /// With `holidays = "jp"`: a copy of the Cabinet Office's `syukujitsu.csv`
    /// (https://www8.cao.go.jp/chosei/shukujitsu/syukujitsu.csv), relative to the config
    /// file. For the years it lists, its dates replace the built-in rule's. Read when the
    /// config is loaded; an unreadable or malformed file is a config error.
    #[serde(default)]
    pub holidays_csv: Option<String>,
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
    API_2026_03_11.into()
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
pub(super) fn default_tag_prefix() -> String {
    "envsched:".into()
}
fn default_task_hour() -> f64 {
    0.01542202
}
fn default_aurora_hour() -> f64 {
    0.30
}

/// Deserializes a TOML document into the file model without validating it (for callers that
/// add to it before [`Config::from_file`](super::Config::from_file)). The message carries line, column and key, with
/// anything that looks like a Notion token redacted ([`redact_tokens`]): toml quotes the
/// offending source line.
pub fn parse_file(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| redact_tokens(e.to_string().trim_end()))
}
