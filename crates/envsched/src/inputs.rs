//! Reading the files the CLI is given. Every error names the file and what to do.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use envsched_core::{Booking, Config, Observed};
use jiff::Timestamp;

/// Reads and validates the config file, with the targets its `[[ecspresso]]` entries import
/// and the official holiday lists its environments point at.
pub fn config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    let origin = path.display().to_string();
    let mut file = envsched_core::config::parse_file(&text)
        .map_err(|message| envsched_core::ConfigError::Syntax { origin: origin.clone(), message })?;
    if !file.ecspresso.is_empty() {
        let base = path.parent().unwrap_or(Path::new("."));
        let env = |name: &str| std::env::var(name).ok();
        if let Err(errors) = envsched_aws::ecspresso::import(&mut file, base, &env) {
            let list: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
            bail!("{origin}: [[ecspresso]] import failed for {} file(s):\n{}", errors.len(), list.join("\n"));
        }
    }
    let mut config = Config::from_file(file, &origin)?;
    let base = path.parent().unwrap_or(Path::new("."));
    config.load_holiday_lists(&origin, |p| std::fs::read(base.join(p)))?;
    Ok(config)
}

/// A Notion client for the config, with the token from `notion.token_env`.
pub fn notion(config: &Config) -> Result<envsched_notion::NotionClient> {
    let token = envsched_notion::token_from_env(&config.notion.token_env).map_err(|e| anyhow!(e))?;
    Ok(envsched_notion::NotionClient::new(&config.notion, token)?)
}

/// Reads saved Notion query responses, one page per file, in order.
pub fn bookings(paths: &[std::path::PathBuf], config: &Config) -> Result<Vec<Booking>> {
    if paths.is_empty() {
        bail!("no --bookings files given");
    }
    let mut out = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read bookings file {}", p.display()))?;
        let page = envsched_notion::parse_query_response(&text, &config.notion)
            .map_err(|e| anyhow!("{}: {e}", p.display()))?;
        if page.has_more && i + 1 == paths.len() {
            bail!(
                "{}: the response says has_more = true but no further page was given; \
                 pass every page (in order) so no booking is missed",
                p.display()
            );
        }
        out.extend(page.bookings);
    }
    Ok(out)
}

/// Reads a fleet snapshot.
pub fn observed(path: &Path) -> Result<Observed> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read observed file {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}: {e} — expected {{\"ecs_services\": [{{\"cluster\", \"service\", \"desired_count\", \"running_count\", \"tags\", \"autoscaling\"}}], \"aurora_clusters\": [{{\"id\", \"status\", \"tags\"}}]}}",
            path.display()
        )
    })
}

/// Parses `--at`, or returns now.
pub fn at(s: Option<&str>) -> Result<Timestamp> {
    match s {
        None => Ok(Timestamp::now()),
        Some(s) => s
            .parse::<Timestamp>()
            .or_else(|_| s.parse::<jiff::Zoned>().map(|z| z.timestamp()))
            .map_err(|e| anyhow!("--at {s:?} is not an RFC 3339 instant ({e}); write e.g. 2026-11-24T20:00:00+09:00")),
    }
}
