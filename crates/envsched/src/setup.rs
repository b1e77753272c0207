//! `init` and `sync-options`: the bookings database made from the config, and its
//! component options kept with the fleet. The rules (which properties, which options, the
//! whole list on every PATCH) are in `envsched_notion::setup`.

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use envsched_core::BookingSource;
use envsched_notion::NotionClient;
use envsched_notion::schema::{Finding, Level};
use envsched_notion::setup::database_properties;

use crate::cli::{InitArgs, SyncOptionsArgs};
use crate::commands::runtime;
use crate::inputs;

/// The description `init` gives the database, so people know where it came from.
const DESCRIPTION: &str = "Bookings read by envsched (made by `envsched init`)";

pub fn init(a: InitArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.config)?;
    let token = envsched_notion::token_from_env(&config.notion.token_env).map_err(|e| anyhow!(e))?;
    let client = NotionClient::for_setup(&config.notion, token)?;
    let rt = runtime()?;
    if let Some(id) = &config.notion.database_id {
        let db = rt.block_on(client.database(id)).context("the config names a database that cannot be read")?;
        outln!(
            "{} already names the database {} (data sources: {}): nothing to create.",
            a.config.display(),
            db.database_id,
            db.data_sources.join(", ")
        );
        outln!("Run `envsched check --config {}` to compare it with the config.", a.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    let found: Vec<_> = rt
        .block_on(client.child_databases(&a.parent))
        .context("cannot list the parent page's databases")?
        .into_iter()
        .filter(|d| d.title == a.title)
        .collect();
    let (db, made) = match found.as_slice() {
        [] => {
            let props = database_properties(&config, &a.inactive);
            let db = rt
                .block_on(client.create_database(&a.parent, &a.title, DESCRIPTION, props))
                .context("cannot create the bookings database")?;
            (db, true)
        }
        [one] => (rt.block_on(client.database(&one.id)).context("cannot read the database found on the page")?, false),
        many => bail!(
            "the page {} holds {} databases titled {:?} ({}): set notion.database_id to the one holding the bookings, or give --title another name",
            a.parent,
            many.len(),
            a.title,
            many.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    let n = &config.notion;
    if made {
        outln!("Created the database {:?} on the page {} (Notion API {}).", a.title, a.parent, n.api_version);
        outln!(
            "  status {:?} is a select with {} (active) and {}: envsched reads a select like a status",
            n.status_property,
            n.active_statuses.join(", "),
            a.inactive.join(", ")
        );
        outln!(
            "  components {:?}: {} options, one per target and group the config offers",
            n.components_property,
            config.targets.offered_components().len()
        );
    } else {
        outln!("Found the database {:?} on the page {}: nothing created.", a.title, a.parent);
    }
    outln!("\nPaste into [notion] in {}:", a.config.display());
    outln!("database_id = \"{}\"", db.database_id);
    if let [ds] = db.data_sources.as_slice() {
        outln!("data_source_id = \"{ds}\"");
    }
    outln!("\nThen run `envsched check --config {}`.", a.config.display());
    Ok(ExitCode::SUCCESS)
}

pub fn sync_options(a: SyncOptionsArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.config)?;
    let client = inputs::notion(&config)?;
    let rt = runtime()?;
    let name = &config.notion.components_property;
    let change = rt.block_on(client.options_change(&config.targets)).context("cannot read the components' options")?;
    outln!(
        "{name:?} has {} options; the targets offer {}.",
        change.existing.len(),
        config.targets.offered_components().len()
    );
    if change.is_empty() {
        outln!("Nothing to add: every component the targets offer is an option.");
    } else {
        let verb = if a.dry_run { "Would add" } else { "Adding" };
        outln!("{verb} {}: {}", change.added.len(), change.added.join(", "));
    }
    if !change.unused.is_empty() {
        outln!(
            "Kept, though they select no target ({}): {} — remove them in Notion if nobody books them",
            change.unused.len(),
            change.unused.join(", ")
        );
    }
    if !a.dry_run && !change.is_empty() {
        rt.block_on(client.add_options(&change)).context("cannot add the options")?;
        outln!("Added; every existing option was kept.");
    }
    Ok(ExitCode::SUCCESS)
}

/// `check` with `[notify]` on: whether the integration may read a row's comments (what a
/// restarted copy does before commenting). "Insert comments" can only be proven by adding
/// one, so it is named, not tried.
pub async fn comments_capability(client: &NotionClient) -> Finding {
    let row = match client.fetch().await {
        Ok(rows) => rows.into_iter().next(),
        Err(e) => {
            return Finding {
                level: Level::Warning,
                text: format!("[notify]: comments not checked, the rows cannot be read: {e}"),
            };
        }
    };
    let Some(row) = row else {
        return Finding {
            level: Level::Warning,
            text: "[notify]: no live row to read the comments of; give the integration \"Read comments\" and \"Insert comments\"".into(),
        };
    };
    match client.comment_texts(&row.id).await {
        Ok(_) => Finding {
            level: Level::Ok,
            text: "[notify]: the integration reads comments (it needs \"Insert comments\" too, which only a comment proves)".into(),
        },
        Err(e) => Finding { level: Level::Error, text: format!("[notify] is on, but {e}") },
    }
}
