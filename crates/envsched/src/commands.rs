//! `plan`, `apply` and `demo`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use envsched_core::{
    BookingSource, CycleState, FixedClock, FixedSource, Fleet, Mode, Outcome, Policy, desired, plan, reconcile,
};
use envsched_sandbox::{SandboxFleet, SimClock, Timing};

use crate::cli::{ApplyArgs, CheckArgs, Cli, Command, DemoArgs, Output, PlanArgs};
use crate::{inputs, render};

/// The demo's configuration, embedded so `envsched demo` needs no files.
const DEMO_CONFIG: &str = include_str!("../../../config/demo.toml");

/// Runs the command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Plan(a) => plan_cmd(a),
        Command::Apply(a) => apply_cmd(a),
        Command::Demo(a) => demo_cmd(a),
        Command::Check(a) => check_cmd(a),
    }
}

/// Where `plan` and `apply` get bookings: files, or Notion.
enum Source {
    Files(FixedSource),
    Notion(Box<envsched_notion::NotionClient>),
}

impl Source {
    fn new(files: &[std::path::PathBuf], config: &envsched_core::Config) -> Result<Source> {
        Ok(if files.is_empty() {
            Source::Notion(Box::new(inputs::notion(config)?))
        } else {
            Source::Files(FixedSource(inputs::bookings(files, config)?))
        })
    }
}

impl BookingSource for Source {
    async fn fetch(&self) -> Result<Vec<envsched_core::Booking>, envsched_core::SourceError> {
        match self {
            Source::Files(f) => f.fetch().await,
            Source::Notion(n) => n.fetch().await,
        }
    }
}

/// What `plan` and `apply` act on: a snapshot file (the sandbox fleet), or AWS.
enum Fleets {
    Snapshot(Box<SandboxFleet>),
    Aws(Box<envsched_aws::AwsFleet>),
}

impl Fleets {
    async fn new(
        observed: Option<&std::path::Path>,
        config: &envsched_core::Config,
        at: jiff::Timestamp,
    ) -> Result<Fleets> {
        Ok(match observed {
            Some(path) => {
                let snapshot = inputs::observed(path)?;
                Fleets::Snapshot(Box::new(SandboxFleet::new(&snapshot, SimClock::new(at), Timing::instant())))
            }
            None => Fleets::Aws(Box::new(envsched_aws::AwsFleet::from_env(config.aws.region.clone()).await)),
        })
    }
}

impl Fleet for Fleets {
    async fn observe(
        &self,
        targets: &envsched_core::TargetSet,
        discovery: &envsched_core::Discovery,
    ) -> Result<envsched_core::Observed, envsched_core::FleetError> {
        match self {
            Fleets::Snapshot(f) => f.observe(targets, discovery).await,
            Fleets::Aws(f) => f.observe(targets, discovery).await,
        }
    }

    async fn apply(&self, action: &envsched_core::Action) -> Outcome {
        match self {
            Fleets::Snapshot(f) => f.apply(action).await,
            Fleets::Aws(f) => f.apply(action).await,
        }
    }
}

fn check_cmd(a: CheckArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.config)?;
    let client = inputs::notion(&config)?;
    let props = runtime()?.block_on(client.schema())?;
    let report = envsched_notion::schema::check_schema(&props, &config);
    println!(
        "Notion database {} (API {}) against {}:",
        config.notion.database_id.as_deref().unwrap_or("?"),
        config.notion.api_version,
        a.config.display()
    );
    print!("{}", report.render());
    Ok(if report.has_errors() {
        println!("\nProblems found: fix them in Notion or in the config, then run check again.");
        ExitCode::from(1)
    } else {
        println!("\nThe database matches the config.");
        ExitCode::SUCCESS
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

fn plan_cmd(a: PlanArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.inputs.config)?;
    let source = Source::new(&a.inputs.bookings, &config)?;
    let at = inputs::at(a.inputs.at.as_deref())?;
    let rt = runtime()?;
    let fleet = rt.block_on(Fleets::new(a.inputs.observed.as_deref(), &config, at))?;
    let observed = rt
        .block_on(fleet.observe(&config.targets, &config.discovery))
        .context("cannot observe the fleet, so there is no plan")?;
    let bookings = rt.block_on(source.fetch()).context("cannot read the bookings, so there is no plan")?;
    let (config, problems, _) = envsched_core::effective(&config, &observed);
    let mut wanted = desired(&bookings, &config, at);
    wanted.problems.extend(problems);
    let p = plan(&wanted, &observed, &Policy::new(&config, None));
    match a.inputs.output {
        Output::Text => print!("{}", render::plan::text(&p, &config)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&render::plan::json(&p, None))?),
    }
    Ok(if a.detailed_exitcode && !p.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn apply_cmd(a: ApplyArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.inputs.config)?;
    let source = Source::new(&a.inputs.bookings, &config)?;
    let at = inputs::at(a.inputs.at.as_deref())?;
    // With --observed, apply acts on the sandbox fleet loaded from that snapshot (changes
    // take effect at once); without it, on AWS. Either way through the reconcile cycle `run`
    // and `demo` use.
    let rt = runtime()?;
    let fleet = rt.block_on(Fleets::new(a.inputs.observed.as_deref(), &config, at))?;
    let clock = FixedClock(at);
    let mode = if a.dry_run { Mode::DryRun } else { Mode::Apply };
    let mut state = CycleState::default();
    let report = rt.block_on(reconcile(&config, &source, &fleet, &clock, &mut state, mode))?;
    let (p, applied) = (&report.plan, &report.applied);
    match a.inputs.output {
        Output::Text => print!("{}", render::plan::applied_text(p, applied, &config)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&render::plan::json(p, Some(applied)))?),
    }
    // Tell each row its state (after AWS was acted on; a write failure changes no action).
    // Never after a failed fetch or while frozen: every row would look vanished and be told
    // "ended".
    let write_back =
        matches!((&source, mode, &report.source_error, &p.frozen), (Source::Notion(_), Mode::Apply, None, None));
    // The fleet as the actions left it, observed once for both uses.
    let after = if write_back || a.save_observed.is_some() {
        Some(rt.block_on(fleet.observe(&config.targets, &config.discovery)))
    } else {
        None
    };
    if let Some(path) = &a.save_observed {
        let observed = after.clone().expect("observed above when --save-observed is given")?;
        let text = serde_json::to_string_pretty(&observed)?;
        std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let (Source::Notion(client), true) = (&source, write_back) {
        let now = match after {
            Some(Ok(o)) => o,
            _ => report.observed.clone(),
        };
        let texts = envsched_core::feedback(&state.last_bookings, &report.desired, p, &now, &config);
        let wb = rt.block_on(client.write_back(&texts, &state.last_bookings));
        eprintln!(
            "notion write-back: {} rows updated, {} unchanged, {} failed",
            wb.written,
            wb.unchanged,
            wb.failed.len()
        );
        for (id, e) in &wb.failed {
            eprintln!("  row {id}: {e}");
        }
    }
    if let Some(e) = &report.source_error {
        eprintln!("error: {e}");
        return Ok(ExitCode::from(1));
    }
    let failed = applied.iter().any(|x| matches!(x.outcome, Outcome::Failed(_)));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The demo's integration token for its stand-in (not a secret: the stand-in is local).
const DEMO_TOKEN: &str = "secret_envsched_demo";

fn demo_cmd(a: DemoArgs) -> Result<ExitCode> {
    let world = envsched_sandbox::demo::world(DEMO_CONFIG)?;
    let started = std::time::Instant::now();
    let (sim, notion) = runtime()?.block_on(demo_week(&world))?;
    let elapsed = started.elapsed();
    match a.output {
        Output::Text => print!("{}", render::demo::text(&sim, &world.config, render::width(a.width), elapsed, &notion)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&render::demo::json(&sim, &notion))?),
    }
    Ok(if sim.report.booked_minutes_missed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The demo's week: bookings read through the real Notion client from a local stand-in, each
/// row's state written back after every cycle (and shown in the timeline when it changes).
async fn demo_week(
    world: &envsched_sandbox::demo::World,
) -> Result<(envsched_sandbox::demo::Simulation, render::demo::NotionUse)> {
    use envsched_sandbox::standin::{DATABASE_ID, StandIn};
    let standin = StandIn::start(DEMO_TOKEN, world.rows.clone()).await.context("cannot start the Notion stand-in")?;
    let mut notion = world.config.notion.clone();
    notion.base_url = standin.base_url.clone();
    notion.database_id = Some(DATABASE_ID.to_string());
    notion.environment_property = Some("環境".into());
    notion.feedback_property = Some("envsched".into());
    // Simulated minutes pass in microseconds: the real limiter would stretch the week to hours.
    notion.requests_per_second = 1_000_000.0;
    let client = envsched_notion::NotionClient::new(&notion, secrecy::SecretString::from(DEMO_TOKEN))?.with_retry(
        envsched_notion::RetryPolicy {
            max_retries: 1,
            min_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(2),
        },
    );
    // Titles and environments of every row seen, to name rows that have left the live set.
    let mut seen: std::collections::HashMap<String, (String, Option<String>)> = std::collections::HashMap::new();
    let mut written = 0usize;
    let sim = envsched_sandbox::demo::run(world, &standin, &client, async |report, bookings| {
        // Never while frozen: an empty, suspicious fetch would tell every row "ended".
        if report.plan.frozen.is_some() {
            return Vec::new();
        }
        for b in bookings {
            seen.insert(b.id.clone(), (b.title.clone(), b.environment.clone()));
        }
        let texts =
            envsched_core::feedback(bookings, &report.desired, &report.plan, &world.fleet.snapshot(), &world.config);
        let wb = client.write_back(&texts, bookings).await;
        written += wb.written;
        wb.rows
            .into_iter()
            // "starting 3/5" changes every minute or two: Notion shows it, the timeline skips it.
            .filter(|(_, text)| !text.starts_with("starting"))
            .filter_map(|(id, text)| {
                let (title, environment) = seen.get(&id)?.clone();
                Some(envsched_sandbox::demo::Event {
                    at: report.at,
                    environment,
                    text: format!("✎ Notion «{title}»: {text}"),
                })
            })
            .collect()
    })
    .await?;
    let requests = standin.requests();
    let usage = render::demo::NotionUse {
        queries: requests.iter().filter(|r| r.path.ends_with("/query")).count(),
        patches: written,
        failed: requests.iter().filter(|r| r.status >= 400).count(),
    };
    Ok((sim, usage))
}
