//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keeps shared dev/staging environments on AWS running only while someone has booked them
/// in Notion.
#[derive(Debug, Parser)]
#[command(name = "envsched", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what envsched would do now (or --at an instant): actions by phase, with reasons.
    Plan(PlanArgs),
    /// Plan once and carry the actions out (on AWS, or on a snapshot with --observed).
    Apply(ApplyArgs),
    /// Run a simulated week of the seed's world (4 slices × 60 services) and report savings.
    Demo(DemoArgs),
    /// Check the Notion database and AWS against the config: properties, statuses, components, targets.
    Check(CheckArgs),
    /// Run as a daemon: reconcile on every poll, window edge and webhook event; serve
    /// /live, /ready, /metrics, the status page and the Notion webhook.
    Run(RunArgs),
    /// Exit 0 if the local daemon answers GET /live (for the container health check).
    Healthcheck(HealthcheckArgs),
    /// Create the bookings database on a Notion page, with every property the config names,
    /// and print the ids to paste into the config (run it again: it finds the one it made).
    Init(InitArgs),
    /// Add a component option for every target and group the config offers; never remove one.
    SyncOptions(SyncOptionsArgs),
}

/// `envsched init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The configuration file (its [notion] property names, environments and targets).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// The Notion page to create the database on (its id, from the page's URL), shared with
    /// the integration.
    #[arg(long, value_name = "PAGE_ID")]
    pub parent: String,
    /// The database's title; a database with this title already on the page is reused.
    #[arg(long, default_value = "開発環境予約", value_name = "TITLE")]
    pub title: String,
    /// Status values besides notion.active_statuses (rows with them keep nothing up).
    #[arg(long = "inactive-status", value_name = "NAME", default_values_t = ["未着手".to_string(), "完了".to_string()])]
    pub inactive: Vec<String>,
}

/// `envsched sync-options`.
#[derive(Debug, Args)]
pub struct SyncOptionsArgs {
    /// The configuration file.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// Show what would be added; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `envsched run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration file.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// Log format: json (Datadog; the default when stdout is not a terminal) or text.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<crate::telemetry::LogFormat>,
}

/// `envsched healthcheck`.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The daemon's address.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
}

/// `envsched check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The configuration file.
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// Check the targets against this snapshot of the fleet (JSON) instead of AWS.
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,
}

/// Inputs shared by `plan` and `apply`.
#[derive(Debug, Args)]
pub struct Inputs {
    /// The configuration file (TOML; see config/envsched.example.toml).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    /// A saved Notion query response (JSON), one file per page; repeat for several pages.
    /// Without it, bookings are read from Notion as configured (token from notion.token_env).
    #[arg(long, value_name = "FILE")]
    pub bookings: Vec<PathBuf>,
    /// A fleet snapshot (JSON: {"ecs_services": [...], "aurora_clusters": [...]}) to plan and
    /// apply against instead of AWS (apply then acts on an in-memory copy).
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,
    /// Plan for this instant instead of now (RFC 3339, e.g. 2026-11-24T20:00:00+09:00).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// `envsched plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Exit 2 when the plan has actions (0 when there is nothing to do).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `envsched apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Log the actions without carrying them out.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the fleet's state after the actions to this file (same format as --observed).
    #[arg(long, value_name = "FILE")]
    pub save_observed: Option<PathBuf>,
}

/// `envsched demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Width of the timeline chart (default: the terminal's, else 120).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<usize>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// Stable JSON for scripts (documented in crates/envsched/README.md).
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
