//! `plan`, `apply` and `demo`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use envsched_core::{BookingSource, CycleState, FixedClock, FixedSource, Fleet, Mode, Outcome, plan_now, reconcile};
use envsched_notion::schema::{Finding, Level, SchemaReport};
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
        Command::Run(a) => run_cmd(a),
        Command::Healthcheck(a) => {
            let ok = runtime()?.block_on(crate::http::healthcheck(&a.addr));
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Init(a) => crate::setup::init(a),
        Command::SyncOptions(a) => crate::setup::sync_options(a),
    }
}

/// Resolves on the first SIGTERM or SIGINT.
async fn signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn run_cmd(a: crate::cli::RunArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;

    // A config error exits 1 before anything starts.
    let config = inputs::config(&a.config)?;
    let config_dir = a.config.parent().unwrap_or(std::path::Path::new(".")).to_path_buf();
    let client = inputs::notion(&config)?;
    let format = a.log_format.unwrap_or(if std::io::stdout().is_terminal() {
        crate::telemetry::LogFormat::Text
    } else {
        crate::telemetry::LogFormat::Json
    });
    let metrics = crate::telemetry::init(format)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let shared = std::sync::Arc::new(crate::daemon::Shared::default());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = serve(&config, shared.clone(), metrics, stop_rx.clone()).await?;
        on_signals(stop_tx);
        crate::telemetry::Started { listen: &config.listen.to_string(), targets: config.targets.len() }.emit();
        let (aws, lease) = fleet_and_lease(&config).await;
        let mut interrupted = stop_rx.clone();
        tokio::select! {
            _ = startup_checks(&config, &config_dir, &client, &aws, lease.is_none()) => {}
            _ = interrupted.wait_for(|s| *s) => {}
        }
        // A signal during the checks: no cycle at all.
        if *stop_rx.borrow() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
            tracing::info!("Stopped");
            return Ok(ExitCode::SUCCESS);
        }
        let (done_tx, done_rx) = tokio::sync::watch::channel(false);
        let (coordination, keeper) = match lease {
            Some((lease, fence)) => {
                let (co, keeper) = keep_lease(lease, fence, done_rx);
                (Some(co), Some(keeper))
            }
            None => (None, None),
        };
        let fleet = crate::daemon::LoggedFleet { inner: aws, shared };
        crate::daemon::run(&config, &client, &fleet, || fleet.inner.calls(), stop_rx, coordination).await;
        let _ = done_tx.send(true);
        if let Some(keeper) = keeper {
            match tokio::time::timeout(std::time::Duration::from_secs(5), keeper).await {
                Ok(_) => tracing::info!("Released the lease"),
                Err(_) => tracing::warn!("Could not release the lease within 5 s; it expires on its own"),
            }
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
        tracing::info!("Stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Serves `/live`, `/ready`, `/metrics`, the status page and the webhook on `http.listen`
/// until `stop` turns true (then drains).
async fn serve(
    config: &envsched_core::Config,
    shared: std::sync::Arc<crate::daemon::Shared>,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (http.listen)", config.listen))?;
    let token = config
        .notion
        .webhook_token_env
        .as_ref()
        .and_then(|v| std::env::var(v).ok())
        .filter(|t| !t.is_empty())
        .map(secrecy::SecretString::from);
    let receiver = envsched_notion::webhook::WebhookReceiver::new(
        token,
        config.notion.database_id.as_deref().unwrap_or_default(),
        config.notion.data_source_id.as_deref(),
    );
    let app = crate::http::router(shared, metrics, receiver, std::sync::Arc::new(config.clone()));
    Ok(tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
    }))
}

/// The first SIGTERM/SIGINT turns `stop` true (drain); a second one exits at once.
fn on_signals(stop: tokio::sync::watch::Sender<bool>) {
    tokio::spawn(async move {
        signal().await;
        let _ = stop.send(true);
        // A second signal forces the exit (the first is already draining).
        signal().await;
        tracing::warn!("Second signal: exiting now");
        std::process::exit(1);
    });
}

/// The startup checks, as `check` makes them: logged, never fatal (the cycles retry and say
/// what fails).
async fn startup_checks(
    config: &envsched_core::Config,
    config_dir: &std::path::Path,
    client: &envsched_notion::NotionClient,
    aws: &envsched_aws::AwsFleet,
    without_lease: bool,
) {
    let place = crate::preflight::default_place(aws);
    let (schema, reach) = tokio::join!(client.schema(), crate::preflight::aws(aws, config, &place));
    match schema {
        Ok(props) => crate::preflight::log("notion", &envsched_notion::schema::check_schema(&props, config)),
        Err(e) => {
            tracing::warn!(error.kind = "notion", error.message = %e, "Cannot read the Notion schema yet: {e}")
        }
    }
    crate::preflight::log("aws", &reach);
    crate::preflight::log("ecspresso", &crate::preflight::ecspresso(config, config_dir));
    if without_lease {
        crate::preflight::log("lease", &crate::preflight::lease(config, None).await);
    }
}

/// Keeps the lease (takes and renews it) beside the loop until `done`, then releases it:
/// only once the loop has finished its calls in flight.
fn keep_lease(
    lease: envsched_aws::DynamoLease,
    fence: std::sync::Arc<envsched_aws::Fence>,
    mut done: tokio::sync::watch::Receiver<bool>,
) -> (crate::daemon::Coordination, tokio::task::JoinHandle<()>) {
    let (view_tx, view_rx) = tokio::sync::watch::channel(None);
    let co = crate::daemon::Coordination { fence: fence.clone(), view: view_rx, lease: lease.describe() };
    let keeper = tokio::spawn(async move {
        lease
            .keep(&fence, &view_tx, async move {
                let _ = done.wait_for(|d| *d).await;
            })
            .await;
        // Held until here so the loop never sees the keeper gone while it runs.
        drop(view_tx);
    });
    (co, keeper)
}

/// The AWS fleet, and with `[aws.lease]` the lease and the fence the fleet writes behind
/// (closed until the lease is taken).
/// The AWS fleet `[aws]` describes: its Region and its pacing.
async fn aws_fleet(config: &envsched_core::Config) -> envsched_aws::AwsFleet {
    envsched_aws::AwsFleet::from_env(config.aws.region.clone(), envsched_aws::Pacing::from_section(&config.aws.pacing))
        .await
}

async fn fleet_and_lease(
    config: &envsched_core::Config,
) -> (envsched_aws::AwsFleet, Option<(envsched_aws::DynamoLease, std::sync::Arc<envsched_aws::Fence>)>) {
    let aws = aws_fleet(config).await;
    match &config.lease {
        Some(settings) => {
            let fence = std::sync::Arc::new(envsched_aws::Fence::closed());
            let lease = envsched_aws::DynamoLease::new(aws.sdk_config(), settings, envsched_aws::lease::this_copy());
            (aws.with_fence(fence.clone()), Some((lease, fence)))
        }
        None => (aws, None),
    }
}

/// Takes the lease for `apply`, or says who holds it; then keeps it in the background until
/// the returned sender says done (and releases it).
async fn take_lease(
    lease: envsched_aws::DynamoLease,
    fence: std::sync::Arc<envsched_aws::Fence>,
) -> Result<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)> {
    let sent = std::time::Instant::now();
    match lease.acquire().await.context("cannot take the lease, so nothing was applied")? {
        envsched_aws::LeaseView::Held { .. } => fence.held(sent, lease.ttl()),
        envsched_aws::LeaseView::Standby { owner, expires_at } => anyhow::bail!(
            "another envsched is the active copy: {owner} holds the lease ({}) until {expires_at:.0} unless \
             renewed, so nothing was applied. It acts on these bookings itself; to act by hand, stop it \
             first (its lease is released on shutdown), or use `apply --dry-run` to see what it would do",
            lease.describe()
        ),
    }
    let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
    let keeper = tokio::spawn(async move {
        let (view, _) = tokio::sync::watch::channel(None);
        lease
            .keep(&fence, &view, async move {
                let _ = done_rx.wait_for(|d| *d).await;
            })
            .await;
    });
    Ok((done_tx, keeper))
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
            None => Fleets::Aws(Box::new(aws_fleet(config).await)),
        })
    }
}

impl Fleet for Fleets {
    async fn observe(
        &self,
        resources: &[&envsched_core::Locator],
        discovery: &envsched_core::Discovery,
    ) -> Result<envsched_core::Observed, envsched_core::FleetError> {
        match self {
            Fleets::Snapshot(f) => f.observe(resources, discovery).await,
            Fleets::Aws(f) => f.observe(resources, discovery).await,
        }
    }

    async fn apply(&self, action: &envsched_core::Action) -> Outcome {
        fault_point();
        match self {
            Fleets::Snapshot(f) => f.apply(action).await,
            Fleets::Aws(f) => f.apply(action).await,
        }
    }
}

/// Test-only fault point: with `ENVSCHED_TEST_ABORT_BEFORE_ACTION=N`, `apply` dies (abort:
/// no destructor, no drain, no write-back, as `kill -9`) just before its action N (0-based),
/// that is at the boundary after N steps. The reliability suite uses it to crash at every
/// step boundary without depending on timing. Unset (always, outside tests): nothing.
fn fault_point() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    static LIMIT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    let limit = LIMIT.get_or_init(|| std::env::var("ENVSCHED_TEST_ABORT_BEFORE_ACTION").ok()?.parse().ok());
    if let Some(n) = *limit
        && STARTED.fetch_add(1, Ordering::SeqCst) >= n
    {
        std::process::abort();
    }
}

/// How far ahead `check` looks for window openings that lead cannot meet (a weekend away).
const CHECK_HORIZON: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);
/// How far ahead `plan` looks.
const PLAN_HORIZON: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

fn check_cmd(a: CheckArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.config)?;
    let client = inputs::notion(&config)?;
    let rt = runtime()?;
    // Notion first; its failure is reported, and AWS is still checked.
    let mut notion = match rt.block_on(client.schema()) {
        Ok(props) => {
            let mut r = envsched_notion::schema::check_schema(&props, &config);
            match rt.block_on(client.templates()) {
                Ok(t) => r.findings.extend(envsched_notion::schema::check_templates(&t, &config)),
                Err(e) => {
                    r.findings.push(Finding { level: Level::Warning, text: format!("templates not checked: {e}") })
                }
            }
            r
        }
        Err(e) => SchemaReport {
            findings: vec![Finding { level: Level::Error, text: format!("Notion cannot be read: {e}") }],
        },
    };
    if config.notify.ending_soon.is_some() || config.notify.ready {
        notion.findings.push(rt.block_on(crate::setup::comments_capability(&client)));
    }
    outln!(
        "Notion database {} (API {}) against {}:",
        config.notion.database_id.as_deref().unwrap_or("?"),
        config.notion.api_version,
        a.config.display()
    );
    out!("{}", notion.render());
    let fleet = rt.block_on(Fleets::new(a.observed.as_deref(), &config, jiff::Timestamp::now()))?;
    let default_place = match &fleet {
        Fleets::Snapshot(_) => "the snapshot".to_string(),
        Fleets::Aws(f) => crate::preflight::default_place(f),
    };
    let (aws, observed) = rt.block_on(crate::preflight::aws_observed(&fleet, &config, &default_place));
    outln!("\nAWS:");
    out!("{}", aws.render());
    // Whether lead leaves time for each window opening of the coming week (discovered
    // targets included); a late one is a warning: the config works, the window opens late.
    let openings = match rt.block_on(client.fetch()) {
        Ok(bookings) => {
            let effective = observed.as_ref().map(|o| envsched_core::effective(&config, o).0);
            let config = effective.as_deref().unwrap_or(&config);
            let needs = crate::preflight::openings(config, &bookings, jiff::Timestamp::now(), CHECK_HORIZON);
            crate::preflight::lead(&needs, config, "in the next 7 days", &default_place)
        }
        Err(e) => SchemaReport {
            findings: vec![Finding { level: Level::Warning, text: format!("window openings not checked: {e}") }],
        },
    };
    outln!("\nWindow openings:");
    out!("{}", openings.render());
    let lease = match &fleet {
        Fleets::Aws(f) => config
            .lease
            .as_ref()
            .map(|s| envsched_aws::DynamoLease::new(f.sdk_config(), s, envsched_aws::lease::this_copy())),
        Fleets::Snapshot(_) => None,
    };
    let copies = rt.block_on(crate::preflight::lease(&config, lease.as_ref()));
    outln!("\nCopies:");
    out!("{}", copies.render());
    let ecspresso = crate::preflight::ecspresso(&config, a.config.parent().unwrap_or(std::path::Path::new(".")));
    if !ecspresso.findings.is_empty() {
        outln!("\necspresso:");
        out!("{}", ecspresso.render());
    }
    Ok(if notion.has_errors() || aws.has_errors() || copies.has_errors() {
        outln!("\nProblems found: fix them in Notion, in AWS or in the config, then run check again.");
        ExitCode::from(1)
    } else {
        outln!("\nNotion and AWS match the config.");
        ExitCode::SUCCESS
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

fn plan_cmd(a: PlanArgs) -> Result<ExitCode> {
    let config = inputs::config(&a.inputs.config)?;
    let source = Source::new(&a.inputs.bookings, &config)?;
    let at = inputs::at(a.inputs.at.as_deref())?;
    let rt = runtime()?;
    let fleet = rt.block_on(Fleets::new(a.inputs.observed.as_deref(), &config, at))?;
    let observed = rt
        .block_on(fleet.observe(&config.targets.locators(), &config.discovery))
        .context("cannot observe the fleet, so there is no plan")?;
    let bookings = rt.block_on(source.fetch()).context("cannot read the bookings, so there is no plan")?;
    let decision = plan_now(&config, &bookings, &observed, at, None, None);
    let (p, config) = (&decision.plan, decision.config.as_ref());
    // The next day's window openings: the plan says when one starts too late for lead.
    let needs = crate::preflight::openings(config, &bookings, at, PLAN_HORIZON);
    match a.inputs.output {
        Output::Text => {
            out!("{}", render::plan::text(p, config));
            if needs.iter().any(|n| n.is_late(config)) {
                let place = match &fleet {
                    Fleets::Snapshot(_) => "the snapshot".to_string(),
                    Fleets::Aws(f) => crate::preflight::default_place(f),
                };
                outln!("\nWindow openings in the next 24 hours:");
                out!("{}", crate::preflight::lead(&needs, config, "in the next 24 hours", &place).render());
            }
        }
        Output::Json => {
            let mut v = render::plan::json(p, None);
            v["openings"] = needs.iter().map(|n| n.json(config)).collect();
            outln!("{}", serde_json::to_string_pretty(&v)?)
        }
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
    let mode = if a.dry_run { Mode::DryRun } else { Mode::Apply };
    // On AWS with `[aws.lease]`, a real apply is one more copy: it acts only if it can take
    // the lease, and keeps it while it acts.
    let (fleet, lease) = match (a.inputs.observed.as_deref(), mode) {
        (None, Mode::Apply) if config.lease.is_some() => {
            let (aws, lease) = rt.block_on(fleet_and_lease(&config));
            (Fleets::Aws(Box::new(aws)), lease)
        }
        (observed, _) => (rt.block_on(Fleets::new(observed, &config, at))?, None),
    };
    let keeper = match lease {
        Some((lease, fence)) => Some(rt.block_on(take_lease(lease, fence))?),
        None => None,
    };
    let clock = FixedClock(at);
    let mut state = CycleState::default();
    let report = rt.block_on(reconcile(&config, &source, &fleet, &clock, &mut state, mode));
    if let Some((done, keeper)) = keeper {
        let _ = done.send(true);
        let _ = rt.block_on(tokio::time::timeout(std::time::Duration::from_secs(5), keeper));
    }
    let report = report?;
    let (p, applied) = (&report.plan, &report.applied);
    match a.inputs.output {
        Output::Text => out!("{}", render::plan::applied_text(p, applied, &config)),
        Output::Json => outln!("{}", serde_json::to_string_pretty(&render::plan::json(p, Some(applied)))?),
    }
    // Tell each row its state (after AWS was acted on; a write failure changes no action).
    // Never after a failed fetch or while frozen: every row would look vanished and be told
    // "ended".
    let write_back = matches!((&source, mode), (Source::Notion(_), Mode::Apply)) && report.may_tell_rows();
    // The fleet as the actions left it, observed once for both uses.
    let after = if write_back || a.save_observed.is_some() {
        Some(rt.block_on(fleet.observe(&config.targets.locators(), &config.discovery)))
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
        let texts = report.row_texts(&state.last_bookings, &now, &config).unwrap_or_default();
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
    // What the run cost in AWS API calls (the figure to weigh against the account's rate
    // limits), on stderr so that stdout stays the plan.
    if let Fleets::Aws(aws) = &fleet {
        let calls = aws.calls();
        let list: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
        eprintln!("aws calls: {} ({})", calls.values().sum::<usize>(), list.join(", "));
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
        Output::Text => out!("{}", render::demo::text(&sim, &world.config, render::width(a.width), elapsed, &notion)),
        Output::Json => outln!("{}", serde_json::to_string_pretty(&render::demo::json(&sim, &notion))?),
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
    let mut comments: Vec<(jiff::Timestamp, String, String)> = Vec::new();
    let sim = envsched_sandbox::demo::run(world, &standin, &client, async |report, bookings| {
        // Never while frozen: an empty, suspicious fetch would tell every row "ended".
        let Some(texts) = report.row_texts(bookings, &world.fleet.snapshot(), &world.config) else {
            return Vec::new();
        };
        for b in bookings {
            seen.insert(b.id.clone(), (b.title.clone(), b.environment.clone()));
        }
        let wb = client.write_back(&texts, bookings).await;
        written += wb.written;
        // `[notify]`, as the daemon gives it.
        let mut events = Vec::new();
        let notices = envsched_core::notify::due(report, bookings, &world.config, &texts);
        if !notices.is_empty() {
            let told = client.notify(&notices).await;
            for (id, text) in told.posted {
                let (title, environment) = seen.get(&id).cloned().unwrap_or_default();
                comments.push((report.at, id, text.clone()));
                events.push(envsched_sandbox::demo::Event {
                    at: report.at,
                    environment,
                    text: format!("💬 Notion «{title}»: {}@creator{text}", envsched_notion::client::PREFIX),
                });
            }
        }
        events.extend(
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
                }),
        );
        events
    })
    .await?;
    let requests = standin.requests();
    let usage = render::demo::NotionUse {
        queries: requests.iter().filter(|r| r.path.ends_with("/query")).count(),
        patches: written,
        failed: requests.iter().filter(|r| r.status >= 400).count(),
        // What the stand-in holds, in the order given, with the mention as Notion shows it.
        comments: comments.iter().zip(standin.comments()).map(|((at, row, _), c)| (*at, row.clone(), c.text)).collect(),
    };
    Ok((sim, usage))
}
