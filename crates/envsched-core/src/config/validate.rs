//! Validation: the file model in, [`Config`] out, and every problem reported with the key
//! it concerns and the fix. The checks of environments and calendars are in
//! `calendar.rs`, those of targets in `targets.rs`: each an `impl Validator` of its own.

use std::net::SocketAddr;
use std::str::FromStr;

use globset::GlobBuilder;
use jiff::SignedDuration;
use jiff::tz::TimeZone;

use super::error::{ConfigError, ConfigIssue, redact_tokens};
use super::file::parse_file;
use super::file::{
    API_2022_06_28, API_2025_09_03, API_2026_03_11, ConfigFile, DefaultsSection, HttpSection, LeaseSection,
    NotionSection, PricingSection, SafetySection, ScheduleSection, TagsSection,
};
use super::model::{Config, Discovery, LeaseSettings, Notify, Notion, NotionApi, Safety, Schedule, TagKeys};
use crate::cron::Cron;
use crate::window::Calendar;

/// Parses a duration written like `30s`, `10m`, `1h 30m` or ISO 8601 `PT10M`.
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    SignedDuration::from_str(s.trim()).map_err(|e| format!("{s:?} is not a duration ({e})"))
}

/// Collects every problem of one file.
#[derive(Default)]
pub(super) struct Validator {
    pub(super) issues: Vec<ConfigIssue>,
}

impl Validator {
    /// Records a problem. Values quoted in the message or fix are redacted if they look like
    /// a Notion token.
    pub(super) fn issue(&mut self, key: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) {
        self.issues.push(ConfigIssue {
            key: key.into(),
            message: redact_tokens(&message.into()),
            fix: redact_tokens(&fix.into()),
        });
    }

    pub(super) fn zone(&mut self, key: &str, name: &str) -> Option<TimeZone> {
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

    pub(super) fn duration(
        &mut self,
        key: &str,
        value: &str,
        min: SignedDuration,
        max: SignedDuration,
    ) -> SignedDuration {
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

    /// The whole file. Problems are reported in the file's order of sections.
    pub(super) fn config(&mut self, f: &ConfigFile) -> Option<Config> {
        let zone = self.zone("time_zone", &f.time_zone);
        let notion = self.notion(&f.notion);
        let schedule = self.schedule(&f.schedule);
        let listen = self.listen(&f.http);
        self.defaults(&f.defaults);
        let environments = self.environments(f, zone.as_ref());
        let targets = self.targets(f);
        let safety = self.safety(&f.safety);
        let tags = self.tags(&f.tags, f.discovery.tag.as_deref());
        let discovery = Discovery { tag: tags.name.clone(), ..self.discovery(f) };
        let lease = self.lease(f.aws.lease.as_ref());
        self.ecspresso(f);
        self.pricing(&f.pricing);
        self.pacing(&f.aws.pacing);
        let ending_soon = f.notify.ending_soon.as_deref().map(|d| {
            self.duration("notify.ending_soon", d, SignedDuration::from_mins(1), SignedDuration::from_hours(24))
        });
        let notify = Notify { ending_soon, ready: f.notify.ready };
        Some(Config {
            time_zone_name: f.time_zone.clone(),
            default_calendar: Calendar::whole_days(zone?),
            notion,
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
            notify,
        })
    }

    fn pacing(&mut self, p: &super::file::PacingSection) {
        let preset = p.preset.as_deref().unwrap_or("headroom");
        if !["headroom", "aws-limits", "off"].contains(&preset) {
            self.issue(
                "aws.pacing.preset",
                format!("{preset:?} is not a pacing preset"),
                "use \"headroom\" (the default), \"aws-limits\" or \"off\" (emulators only)",
            );
        }
        let families = [
            ("ecs_read", p.ecs_read),
            ("ecs_write", p.ecs_write),
            ("ecs_tag", p.ecs_tag),
            ("rds", p.rds),
            ("autoscaling", p.autoscaling),
        ];
        for (name, r) in families {
            let Some(r) = r else { continue };
            let key = format!("aws.pacing.{name}");
            if preset == "off" {
                self.issue(
                    &key,
                    "a rate with pacing off",
                    "remove it, or choose the preset \"headroom\" or \"aws-limits\"",
                );
            }
            if !(r.rate > 0.0 && r.rate <= 1000.0) {
                self.issue(
                    &key,
                    format!("rate {} is out of range", r.rate),
                    "use calls per second above 0 and at most 1000",
                );
            }
            if !(1..=10_000).contains(&r.burst) {
                self.issue(&key, format!("burst {} is out of range", r.burst), "use a burst from 1 to 10000");
            }
        }
    }

    fn schedule(&mut self, s: &ScheduleSection) -> Schedule {
        let (second, hour, day) =
            (SignedDuration::from_secs(1), SignedDuration::from_hours(1), SignedDuration::from_hours(24));
        Schedule {
            poll_interval: self.duration("schedule.poll_interval", &s.poll_interval, second, hour),
            lead: self.duration("schedule.lead", &s.lead, SignedDuration::ZERO, day),
            linger: self.duration("schedule.linger", &s.linger, SignedDuration::ZERO, day),
            drain: self.duration("schedule.drain", &s.drain, second, SignedDuration::from_secs(110)),
            sweep: self.duration("schedule.sweep", &s.sweep, second, day),
            aurora_start: self.duration("schedule.aurora_start", &s.aurora_start, SignedDuration::ZERO, hour),
            resync: self.cron("schedule.resync", s.resync.as_deref()),
            summary: self.cron("schedule.summary", s.summary.as_deref()),
        }
    }

    fn listen(&mut self, h: &HttpSection) -> Option<SocketAddr> {
        let parsed = h.listen.parse::<SocketAddr>();
        if parsed.is_err() {
            self.issue(
                "http.listen",
                format!("{:?} is not an address to listen on", h.listen),
                "write host:port, e.g. \"0.0.0.0:8080\" (all interfaces) or \"127.0.0.1:8080\"",
            );
        }
        parsed.ok()
    }

    fn defaults(&mut self, d: &DefaultsSection) {
        if d.count == 0 {
            self.issue(
                "defaults.count",
                "0 would bring services \"up\" with no tasks",
                "use 1 or more; pin a target with pin = \"down\" to keep it off",
            );
        }
    }

    fn ecspresso(&mut self, f: &ConfigFile) {
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
    }

    fn pricing(&mut self, p: &PricingSection) {
        for (key, v) in
            [("pricing.task_hour_usd", p.task_hour_usd), ("pricing.aurora_cluster_hour_usd", p.aurora_cluster_hour_usd)]
        {
            if !(v.is_finite() && v >= 0.0) {
                self.issue(key, format!("{v} is not a price"), "use a non-negative number of USD");
            }
        }
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

    fn notion(&mut self, n: &NotionSection) -> Notion {
        let api_version = n.api_version.parse::<NotionApi>();
        if api_version.is_err() {
            self.issue(
                "notion.api_version",
                format!("{:?} is not supported", n.api_version),
                format!("use \"{API_2026_03_11}\" (the newest), \"{API_2025_09_03}\" or \"{API_2022_06_28}\""),
            );
        }
        if !(n.base_url.starts_with("https://") || n.base_url.starts_with("http://")) {
            self.issue(
                "notion.base_url",
                format!("{:?} is not an http(s) URL", n.base_url),
                "use \"https://api.notion.com\" (or the stand-in's http://127.0.0.1:PORT)",
            );
        }
        self.token_env(&n.token_env);
        self.notion_ids(n);
        if !(n.requests_per_second > 0.0 && n.requests_per_second <= 1000.0) {
            self.issue(
                "notion.requests_per_second",
                format!("{} is not a request rate", n.requests_per_second),
                "use a number above 0 (Notion documents an average of 3 per second)",
            );
        }
        let fetch_deadline = self.duration(
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
        Notion {
            database_id: n.database_id.clone(),
            data_source_id: n.data_source_id.clone(),
            token_env: n.token_env.clone(),
            api_version: api_version.unwrap_or_default(),
            base_url: n.base_url.clone(),
            status_property: n.status_property.clone(),
            active_statuses: n.active_statuses.clone(),
            components_property: n.components_property.clone(),
            window_property: n.window_property.clone(),
            environment_property: n.environment_property.clone(),
            feedback_property: n.feedback_property.clone(),
            title_property: n.title_property.clone(),
            requests_per_second: n.requests_per_second,
            fetch_deadline: fetch_deadline.unsigned_abs(),
            webhook_token_env: n.webhook_token_env.clone(),
            sync_options: n.sync_options,
        }
    }

    /// `notion.token_env` names a variable, and is not a token pasted in its place.
    fn token_env(&mut self, token_env: &str) {
        let t = token_env.trim();
        if t.starts_with("secret_") || t.starts_with("ntn_") {
            self.issue("notion.token_env", "this looks like a Notion token, not the name of an environment variable", "put the token in an environment variable (Secrets Manager on ECS) and name that variable here, e.g. \"NOTION_TOKEN\"; revoke the token that was written into the file");
        } else if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.issue(
                "notion.token_env",
                format!("{:?} is not an environment variable name", token_env),
                "use letters, digits and _, e.g. \"NOTION_TOKEN\"",
            );
        }
    }

    fn notion_ids(&mut self, n: &NotionSection) {
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

    /// The tag keys, from `tags.prefix` and `discovery.tag`.
    fn tags(&mut self, t: &TagsSection, discovery_tag: Option<&str>) -> TagKeys {
        if t.prefix.is_empty() || t.prefix.len() > 100 || t.prefix.to_ascii_lowercase().starts_with("aws:") {
            self.issue(
                "tags.prefix",
                format!("{:?} cannot prefix AWS tag keys", t.prefix),
                "use a short prefix that does not start with \"aws:\", e.g. \"envsched:\"",
            );
        }
        let mut tags = TagKeys::with_prefix(&t.prefix);
        if let Some(t) = discovery_tag {
            if t.trim().is_empty() || t.to_ascii_lowercase().starts_with("aws:") || t.len() > 128 {
                self.issue(
                    "discovery.tag",
                    format!("{t:?} cannot be an AWS tag key"),
                    "use a key such as \"envsched:name\" (not starting with \"aws:\")",
                );
            }
            tags.name = t.to_string();
        }
        tags
    }
}

impl Config {
    /// Parses and validates a TOML document. `origin` names it in errors (a file path).
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let file = parse_file(text).map_err(|message| ConfigError::Syntax { origin: origin.to_string(), message })?;
        Config::from_file(file, origin)
    }

    /// Loads each environment's `holidays_csv` with `read` (its path as written → the
    /// file's bytes; the caller resolves it against the config file's folder). A file that
    /// cannot be read or is not the Cabinet Office's CSV is an error naming the key; nothing
    /// is loaded then.
    pub fn load_holiday_lists(
        &mut self,
        origin: &str,
        read: impl Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<(), ConfigError> {
        let mut issues = Vec::new();
        let mut loaded = Vec::new();
        for (i, env) in self.environments.iter().enumerate() {
            let Some(path) = &env.holidays_csv else { continue };
            let key = format!("environments[{i}].holidays_csv");
            match read(path).map_err(|e| format!("cannot read {path:?}: {e}")).and_then(|b| {
                crate::holidays::Official::parse_csv(&b).map_err(|e| format!("{path:?}: {e}"))
            }) {
                Ok(list) => loaded.push((i, std::sync::Arc::new(list))),
                Err(message) => issues.push(super::error::ConfigIssue {
                    key,
                    message,
                    fix: "download https://www8.cao.go.jp/chosei/shukujitsu/syukujitsu.csv next to the config (as is), or remove holidays_csv".into(),
                }),
            }
        }
        if !issues.is_empty() {
            return Err(ConfigError::Invalid { origin: origin.to_string(), issues });
        }
        for (i, list) in loaded {
            self.environments[i].calendar.official = Some(list);
        }
        Ok(())
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
