//! The evening stop and the morning start, the seed's way and envsched's, side by side:
//! `cargo bench -p envsched --bench evening`. Writes `BENCHMARKS.md` at the workspace root
//! and prints the same table.
//!
//! On moto's server (started here, as the tests start it), the seed's shape: 4 clusters ×
//! 60 ECS services (counts 1–3, every fifth autoscaled) and an Aurora cluster per cluster.
//!
//! * **The seed's way**: one `aws ecs update-service --desired-count N` per service through
//!   `xargs -P4` (the AWS CLI, installed into `.venv` on first use; the stand-in for one
//!   `ecspresso scale` process per service). It sets counts only: no memory of the count, no
//!   autoscaling, no Aurora.
//! * **envsched**: one `envsched apply` (release build, `[aws.pacing] preset = "off"`)
//!   reading the bookings from the Notion stand-in. It also remembers each count in a tag,
//!   parks and restores autoscaling, stops and starts Aurora, and writes the rows back.
//!
//! Both start from the same state: the evening from the seeded (running) world, the morning
//! from the state envsched's evening stop leaves (services at 0, counts remembered). Then
//! envsched alone stops 240 services with the `aws-limits` preset and with the default
//! pacing (real waiting, on the emulator: the schedule it would keep on AWS), and stops 2,400
//! services (40 clusters) with pacing off. `/usr/bin/time -f '%e %M'` gives each run's wall
//! time and peak RSS; envsched prints its API calls on stderr (`aws calls: …`).
//!
//! `BENCH_QUICK=1` skips the paced runs and the 2,400-service run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use envsched_fixtures::{World, moto};
use envsched_sandbox::moto::MotoServer;
use envsched_sandbox::standin::{DATABASE_ID, Row, StandIn};

const TOKEN: &str = "ntn_evening_bench_token_31c8";
const PER_CLUSTER: usize = 60;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The AWS CLI in `.venv` (the venv `.ci/run` makes for moto), installed on first use.
fn aws_cli() -> PathBuf {
    let venv = root().join(".venv/bin");
    let aws = venv.join("aws");
    if !aws.exists() {
        eprintln!("installing the AWS CLI into .venv (pip install awscli) …");
        let ok = Command::new(venv.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "awscli"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok && aws.exists(), "could not install awscli into .venv: run .ci/run first (it makes .venv)");
    }
    aws
}

/// One service of the seed's shape: its cluster, name, count, and autoscaling range.
struct Service {
    cluster: String,
    name: String,
    count: u32,
    autoscaled: bool,
}

fn shape(clusters: usize) -> Vec<Service> {
    let mut out = Vec::new();
    for c in 0..clusters {
        for i in 0..PER_CLUSTER {
            out.push(Service {
                cluster: format!("stg{}", c + 1),
                name: format!("app{i:02}"),
                count: 1 + (i % 3) as u32,
                autoscaled: i % 5 == 0,
            });
        }
    }
    out
}

/// Empties moto (`POST /moto-api/reset`).
fn reset(url: &str) {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("moto answers");
    write!(s, "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "moto's reset answered {out:?}");
}

/// Empties moto and creates the world: every service at its count, Aurora available.
fn seed(rt: &tokio::runtime::Runtime, url: &str, services: &[Service], clusters: usize) -> World {
    reset(url);
    let sdk = rt.block_on(moto::sdk(url));
    let mut world = World::new();
    rt.block_on(async {
        for c in 0..clusters {
            let cluster = format!("stg{}", c + 1);
            let mine: Vec<&Service> = services.iter().filter(|s| s.cluster == cluster).collect();
            let list: Vec<(&str, i32)> = mine.iter().map(|s| (s.name.as_str(), s.count as i32)).collect();
            moto::ecs_services(&sdk, &cluster, &list).await;
            world = std::mem::take(&mut world).env(&cluster);
            for s in &mine {
                if s.autoscaled {
                    moto::autoscaled(&sdk, &cluster, &s.name, s.count as i32, s.count as i32 + 2).await;
                }
                world = std::mem::take(&mut world).ecs(&format!("products/{}", s.name), &s.name);
            }
            moto::aurora(&sdk, &format!("{cluster}-aurora")).await;
            world = std::mem::take(&mut world).aurora("db/aurora", &format!("{cluster}-aurora"));
        }
    });
    world
}

/// A run's wall time (s), peak RSS (KiB) and, for envsched, its API calls.
struct Run {
    wall: f64,
    rss_kib: u64,
    calls: Option<(usize, String)>,
}

fn timed(cmd: &mut Command) -> Run {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut time = Command::new("/usr/bin/time");
    time.args(["-f", "%e %M", "-o", out.path().to_str().unwrap()]).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            time.env(k, v);
        }
    }
    let output = time.stdout(Stdio::piped()).stderr(Stdio::piped()).output().expect("/usr/bin/time runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let failed: Vec<&str> =
            stdout.lines().filter(|l| l.contains("FAILED") || l.contains("failed")).take(20).collect();
        panic!("{:?} failed:\n{stderr}\n{}", cmd.get_program(), failed.join("\n"));
    }
    let figures = std::fs::read_to_string(out.path()).unwrap();
    let mut f = figures.split_whitespace();
    let wall = f.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
    let rss_kib = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let calls = stderr.lines().find_map(|l| l.strip_prefix("aws calls: ")).and_then(|rest| {
        let (n, list) = rest.split_once(' ')?;
        Some((n.parse().ok()?, list.trim_matches(['(', ')']).to_string()))
    });
    Run { wall, rss_kib, calls }
}

/// `xargs -P4`, one `aws ecs update-service` per service, to the service's count (or 0).
fn seeds_way(aws: &Path, url: &str, services: &[Service], evening: bool) -> Run {
    let lines: String =
        services.iter().map(|s| format!("{} {} {}\n", s.cluster, s.name, if evening { 0 } else { s.count })).collect();
    let list = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(list.path(), lines).unwrap();
    let script = format!(
        "xargs -P4 -n3 sh -c '\"{}\" ecs update-service --endpoint-url {url} --cluster \"$0\" --service \"$1\" --desired-count \"$2\" >/dev/null' < {}",
        aws.display(),
        list.path().display()
    );
    let mut cmd = Command::new("sh");
    moto::at_moto(cmd.args(["-c", &script]), url).env("AWS_DEFAULT_REGION", moto::REGION);
    timed(&mut cmd)
}

fn envsched(config: &Path, url: &str) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_envsched"));
    moto::at_moto(&mut cmd, url)
        .args(["apply", "--config", config.to_str().unwrap()])
        .env("ENVSCHED_BENCH_NOTION_TOKEN", TOKEN);
    timed(&mut cmd)
}

fn write_config(dir: &Path, name: &str, world: &World, notion: &str, pacing: &str) -> PathBuf {
    let path = dir.join(name);
    let text = world
        .clone()
        .section(&format!(
            "[notion]\ndatabase_id = \"{DATABASE_ID}\"\ntoken_env = \"ENVSCHED_BENCH_NOTION_TOKEN\"\nbase_url = \"{notion}\"\n\
             environment_property = \"環境\"\nfeedback_property = \"envsched\"\n\
             [safety]\nmax_stops_per_cycle = 10000\n[aws.pacing]\npreset = \"{pacing}\""
        ))
        .toml();
    std::fs::write(&path, text).unwrap();
    path
}

/// One row per environment booking everything now (morning), or one past row (evening).
fn rows(clusters: usize, morning: bool) -> Vec<Row> {
    let now = jiff::Timestamp::now();
    let iso = |t: jiff::Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S.000+00:00").to_string();
    if !morning {
        let row = Row::new(
            "2b4e6a17-3c5d-8101-a4c2-e8f1b3d50000",
            "last week",
            &["products/"],
            Some(("2026-01-05T10:00:00.000+00:00", Some("2026-01-05T12:00:00.000+00:00"))),
        );
        return vec![row.env("stg1")];
    }
    let (start, end) = (iso(now - jiff::SignedDuration::from_hours(1)), iso(now + jiff::SignedDuration::from_hours(8)));
    (0..clusters)
        .map(|c| {
            Row::new(
                &format!("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5{c:04}"),
                &format!("stg{} all day", c + 1),
                &["products/", "db/aurora"],
                Some((&start, Some(&end))),
            )
            .env(&format!("stg{}", c + 1))
        })
        .collect()
}

/// The fewest calls the work needs: a Notion page per 100 rows, `DescribeServices` per 10
/// services of a cluster, `DescribeDBClusters` per 100 clusters, `DescribeScalableTargets`
/// per 50 services of a cluster, and one call per real change.
fn floor(services: &[Service], clusters: usize, rows: usize, changes: usize) -> usize {
    let per = PER_CLUSTER.div_ceil(10) + PER_CLUSTER.div_ceil(50);
    rows.div_ceil(100).max(1) + clusters * per + clusters.div_ceil(100) + changes.min(services.len() * 4 + clusters)
}

/// Real changes of an evening stop: per service a scale to 0 and a tag write (the count it
/// had), per autoscaled service its range parked, per Aurora cluster a stop.
fn changes(services: &[Service], clusters: usize) -> usize {
    services.len() * 2 + services.iter().filter(|s| s.autoscaled).count() + clusters
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let moto = Command::new(root().join(".venv/bin/python"))
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem}, Linux; moto {moto}")
}

fn calls(r: &Run) -> String {
    r.calls.as_ref().map(|(n, list)| format!("{n} ({list})")).unwrap_or_else(|| "—".into())
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let large_only = std::env::var_os("BENCH_LARGE_ONLY").is_some();
    let aws = aws_cli();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let moto = MotoServer::start().expect("moto_server starts (run .ci/run: it installs moto[server] into .venv)");
    let url = moto.url.clone();
    let notion = rt.block_on(StandIn::start(TOKEN, rows(4, false))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let small = shape(4);
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };

    // Evening, the seed's way, then envsched's, each from the seeded world.
    let pairs = (!large_only).then(|| {
        let world = seed(&rt, &url, &small, 4);
        let xargs_evening = seeds_way(&aws, &url, &small, true);
        let world_b = seed(&rt, &url, &small, 4);
        assert_eq!(world.clone().toml(), world_b.toml());
        let off = write_config(dir.path(), "off.toml", &world, &notion.base_url, "off");
        let env_evening = envsched(&off, &url);
        // Morning: envsched from the state its evening left; then that state again for xargs.
        notion.set_rows(rows(4, true));
        let env_morning = envsched(&off, &url);
        notion.set_rows(rows(4, false));
        let _ = envsched(&off, &url);
        let xargs_morning = seeds_way(&aws, &url, &small, false);
        [("evening stop", xargs_evening, env_evening), ("morning start", xargs_morning, env_morning)]
    });

    // envsched alone: the paced schedules (real waiting on the emulator), and 2,400 services.
    let paced = (!quick && !large_only).then(|| {
        let mut out = Vec::new();
        for preset in ["aws-limits", "headroom"] {
            let world = seed(&rt, &url, &small, 4);
            let config = write_config(dir.path(), &format!("{preset}.toml"), &world, &notion.base_url, preset);
            out.push((preset, envsched(&config, &url)));
        }
        out
    });
    let large = (!quick).then(|| {
        let services = shape(40);
        let t = Instant::now();
        let world = seed(&rt, &url, &services, 40);
        eprintln!("seeded 2,400 services in {:.0?}", t.elapsed());
        let config = write_config(dir.path(), "large.toml", &world, &notion.base_url, "off");
        (services, envsched(&config, &url))
    });

    let date = jiff::Zoned::now().strftime("%Y-%m-%d %H:%M %Z").to_string();
    line("# Benchmarks".into());
    line(String::new());
    line(format!("Measured {date} on {}, by `cargo bench -p envsched --bench evening`", machine()));
    line("(crates/envsched/benches/evening.rs says what each row does). Times are wall seconds".into());
    line("on the emulator, from `/usr/bin/time`; on real AWS, the paced rows are what counts.".into());
    line(String::new());
    if let Some(pairs) = &pairs {
        line("## Evening stop and morning start: 240 ECS services + 4 Aurora, pacing off".into());
        line(String::new());
        line("| run | the seed's way (xargs -P4 aws ecs update-service) | envsched apply | ratio | envsched peak RSS | envsched API calls |".into());
        line("|---|---|---|---|---|---|".into());
        for (name, x, e) in pairs {
            line(format!(
                "| {name} | {:.2} s | {:.2} s | {:.1}× | {} MiB | {} |",
                x.wall,
                e.wall,
                x.wall / e.wall,
                e.rss_kib / 1024,
                calls(e)
            ));
        }
        let ch = changes(&small, 4);
        line(String::new());
        line(format!(
            "The seed's way makes one UpdateService per service (240) and nothing else. envsched's floor for the \
             evening is {} calls: 1 Notion page, per cluster 6 DescribeServices and 2 DescribeScalableTargets, \
             1 DescribeDBClusters, and {ch} real changes (240 scale-downs, 240 count tags, {} autoscaling ranges \
             parked, 4 Aurora stops); what it made beyond that is the re-read before acting.",
            floor(&small, 4, 1, ch),
            small.iter().filter(|s| s.autoscaled).count()
        ));
    }
    if let Some(paced) = &paced {
        line(String::new());
        line("## The schedule on real AWS: 240 scale-downs, paced (real waiting, on the emulator)".into());
        line(String::new());
        line("| pacing | UpdateService budget | floor for 240 | envsched apply | of the floor |".into());
        line("|---|---|---|---|---|".into());
        for (preset, run) in paced {
            let (rate, burst) = if *preset == "aws-limits" { (5.0, 50.0) } else { (4.0, 25.0) };
            let floor = (240.0 - burst) / rate;
            line(format!(
                "| {preset} | {rate}/s after a burst of {burst} | {floor:.1} s | {:.2} s | {:.2}× |",
                run.wall,
                run.wall / floor
            ));
        }
        line(String::new());
        line(
            "The floor is (240 − burst) ÷ rate: no client can scale 240 services faster at that budget. \
              envsched's other families (tags, autoscaling, Aurora) have budgets of their own and run meanwhile."
                .into(),
        );
    }
    if let Some((services, run)) = &large {
        line(String::new());
        line("## 2,400 ECS services (40 clusters × 60) + 40 Aurora: evening stop, pacing off".into());
        line(String::new());
        let ch = changes(services, 40);
        line(format!(
            "envsched apply: {:.2} s, peak RSS {} MiB, API calls {} against a floor of {}.",
            run.wall,
            run.rss_kib / 1024,
            calls(run),
            floor(services, 40, 1, ch)
        ));
    }
    line(String::new());
    line("## Planning alone (no I/O)".into());
    line(String::new());
    line("`cargo bench -p envsched-core --bench plan`: desired state and plan for 10,050 targets and 2,000".into());
    line("live bookings, median of 15 runs; `cargo bench -p envsched-notion --bench parse`: parsing 100 query".into());
    line("responses of 100 rows. Each prints its own figures (crates/envsched-core/README.md quotes them).".into());
    // The idle bench's sections (`cargo bench -p envsched --bench idle`) are kept as they are.
    let before = std::fs::read_to_string(root().join("BENCHMARKS.md")).unwrap_or_default();
    if let Some(at) = before.find("\n## `envsched run`") {
        report.push_str(&before[at..]);
    }
    std::fs::write(root().join("BENCHMARKS.md"), report).unwrap();
    eprintln!("wrote {}", root().join("BENCHMARKS.md").display());
}
