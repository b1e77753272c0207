//! The daemon's idle footprint: `cargo bench -p envsched --bench idle`.
//!
//! Runs the optimised `envsched run` against moto (the seed's world: 4 clusters × 60 ECS
//! services and 3 Aurora clusters, all declared; `IDLE_CLUSTERS=167` makes 10,020 services)
//! and the Notion stand-in (`IDLE_ROWS` rows with the live status, default 40, booked for
//! 2030), at the default 30 s poll and 10 min sweep, for `IDLE_SECS` (default 180) after the
//! cycle that follows the first (it catches up with what went unread while the first cycle
//! read the whole fleet). Every 5 s it reads `VmRSS`, `VmHWM` and `Threads` from
//! `/proc/<pid>/status` and the process's user + system CPU ticks from `/proc/<pid>/stat`;
//! `/metrics` gives the `DescribeServices` calls made meanwhile. Linux only. "Idle" means
//! nothing to start or stop: each cycle still reads Notion and observes the fleet (in full up
//! to 600 services, in slices of the sweep above that), the daemon's steady state outside
//! booking edges. It prints a table and writes it into `BENCHMARKS.md` as the section for
//! that fleet size (replacing the last run's).

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use envsched_fixtures::{World, moto};
use envsched_sandbox::moto::MotoServer;
use envsched_sandbox::standin::{DATABASE_ID, Row, StandIn};

const TOKEN: &str = "ntn_idle_bench_token_7e21";
const SERVICES_PER_CLUSTER: usize = 60;

/// `IDLE_CLUSTERS` clusters of 60 services (default 4: the seed's 240; 167 makes 10,020).
fn clusters() -> Vec<String> {
    let n: usize = std::env::var("IDLE_CLUSTERS").ok().and_then(|s| s.parse().ok()).unwrap_or(4);
    (1..=n).map(|i| format!("stg{i}")).collect()
}

/// `IDLE_ROWS` Notion rows (default 40), all with the live status, booked for 2030.
fn row_count() -> usize {
    std::env::var("IDLE_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(40)
}

/// `DescribeServices` calls so far, from `/metrics`.
fn describes(port: u16) -> f64 {
    http_get(port, "/metrics")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("envsched_aws_api_calls_total{") && l.contains("DescribeServices"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn status_field(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The seed's world on moto, and the config that declares it (without its `[notion]` and
/// `[http]` sections).
fn world(rt: &tokio::runtime::Runtime, sdk: &aws_config::SdkConfig) -> World {
    rt.block_on(async {
        let mut world = World::new();
        for (n, cluster) in clusters().iter().map(String::as_str).enumerate() {
            let names: Vec<String> = (0..SERVICES_PER_CLUSTER).map(|i| format!("app{i:02}")).collect();
            let services: Vec<(&str, i32)> = names.iter().map(|n| (n.as_str(), 0)).collect();
            moto::ecs_services(sdk, cluster, &services).await;
            world = world.env(cluster);
            for service in &names {
                world = world.ecs(&format!("products/{service}"), service);
            }
            if n < 3 {
                moto::stopped_aurora(sdk, &format!("{cluster}-aurora")).await;
                world = world.aurora("db/aurora", &format!("{cluster}-aurora"));
            }
        }
        world
    })
}

/// `IDLE_ROWS` rows booked in 2030: fetched and parsed every cycle, none in its window now.
fn rows() -> Vec<Row> {
    let envs = clusters();
    (0..row_count())
        .map(|i| {
            let mut row = Row::new(
                &format!("2b4e6a17-3c5d-8101-a4c2-e8f1b3d5{i:04}"),
                &format!("booking {i}"),
                &[&format!("products/app{:02}", i % SERVICES_PER_CLUSTER)],
                Some(("2030-01-07T10:00:00.000+09:00", Some("2030-01-07T12:00:00.000+09:00"))),
            )
            .env(&envs[i % envs.len()]);
            // What envsched writes for them, already there: a steady state has nothing to
            // write back (2,000 first writes at Notion's 3 req/s would hold /ready 11 min).
            row.feedback = "scheduled".into();
            row
        })
        .collect()
}

/// Waits until `GET path` answers 200, at most `limit`.
fn wait_for(port: u16, path: &str, limit: Duration) {
    let started = Instant::now();
    while !http_get(port, path).is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(started.elapsed() < limit, "{path} not served within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Counts the daemon's log lines and its good cycles as they are written.
fn count_lines(out: std::process::ChildStdout) -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (cycles, lines) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, n) = (cycles.clone(), lines.clone());
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            n.fetch_add(1, Ordering::Relaxed);
            if line.contains("\"message\":\"Cycle ok") {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (cycles, lines)
}

/// What `secs` of idling cost: RSS samples every 5 s, the most threads, CPU seconds, cycles.
struct Idle {
    rss: Vec<u64>,
    threads: u64,
    wall: f64,
    cpu_s: f64,
    cycles: usize,
}

fn idle(pid: u32, secs: u64, cycles: &AtomicUsize) -> Idle {
    let (t0, cpu0, cycles0) = (Instant::now(), cpu_ticks(pid).unwrap_or(0), cycles.load(Ordering::Relaxed));
    let (mut rss, mut threads) = (Vec::new(), 0);
    while t0.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(5));
        rss.push(status_field(pid, "VmRSS:").unwrap_or(0));
        threads = threads.max(status_field(pid, "Threads:").unwrap_or(0));
    }
    Idle {
        rss,
        threads,
        wall: t0.elapsed().as_secs_f64(),
        cpu_s: (cpu_ticks(pid).unwrap_or(0) - cpu0) as f64 / clock_ticks_per_second(),
        cycles: cycles.load(Ordering::Relaxed) - cycles0,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let secs: u64 = std::env::var("IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(180);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let moto = MotoServer::start().expect("moto_server starts (pip install 'moto[server]' into .venv)");
    let sdk = rt.block_on(moto::sdk(&moto.url));
    let set_up = Instant::now();
    let world = world(&rt, &sdk);
    let notion = rt.block_on(StandIn::start(TOKEN, rows())).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("envsched.toml");
    let text = world
        .section(&format!(
            "[notion]\ndatabase_id = \"{DATABASE_ID}\"\ntoken_env = \"ENVSCHED_BENCH_NOTION_TOKEN\"\nbase_url = \"{}\"\n\
             environment_property = \"環境\"\nfeedback_property = \"envsched\"\n[http]\nlisten = \"127.0.0.1:{port}\"",
            notion.base_url
        ))
        .toml();
    std::fs::write(&config, text).unwrap();
    let services = clusters().len() * SERVICES_PER_CLUSTER;
    eprintln!("set up moto ({services} services, 3 Aurora) and the stand-in in {:.1?}", set_up.elapsed());

    let mut child = moto::at_moto(&mut Command::new(env!("CARGO_BIN_EXE_envsched")), &moto.url)
        .args(["run", "--config", config.to_str().unwrap(), "--log-format", "json"])
        .env("ENVSCHED_BENCH_NOTION_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let (cycles, lines) = count_lines(child.stdout.take().unwrap());
    let started = Instant::now();
    wait_for(port, "/live", Duration::from_secs(30));
    let rss_live = status_field(pid, "VmRSS:").unwrap_or(0);
    wait_for(port, "/ready", Duration::from_secs(900));
    let (ready_after, rss_ready) = (started.elapsed(), status_field(pid, "VmRSS:").unwrap_or(0));
    // The cycle after the first catches up with what went unread while the first read the
    // whole fleet (at 10,000 services, a minute or more): the steady state starts after it.
    let first = cycles.load(Ordering::Relaxed);
    let caught_up = Instant::now();
    while cycles.load(Ordering::Relaxed) <= first && caught_up.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let reads0 = describes(port);
    let Idle { mut rss, threads, wall, cpu_s, cycles } = idle(pid, secs, &cycles);
    let reads = describes(port) - reads0;
    let hwm = status_field(pid, "VmHWM:").unwrap_or(0);
    let metrics = http_get(port, "/metrics").unwrap_or_default();
    let calls: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("envsched_aws_api_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = child.wait();

    let max = rss.iter().max().copied().unwrap_or(0);
    let med = median(&mut rss);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let rows = row_count();
    let mut out = vec![
        format!("## `envsched run`, steady state: {services} ECS services + 3 Aurora, {rows} live rows"),
        String::new(),
        format!(
            "Measured {} by `IDLE_CLUSTERS={} IDLE_ROWS={rows} IDLE_SECS={secs} cargo bench -p envsched --bench idle`:",
            jiff::Zoned::now().strftime("%Y-%m-%d %H:%M %Z"),
            clusters().len()
        ),
        "the release binary on moto and the Notion stand-in (rows booked for 2030: nothing to start or".into(),
        "stop), default 30 s poll and 10 min sweep, sampled every 5 s after the catch-up cycle.".into(),
        String::new(),
        "| figure | value |".into(),
        "|---|---|".into(),
        format!(
            "| ready after | {:.0} s (startup checks and the first, full read, at the default pacing) |",
            ready_after.as_secs_f64()
        ),
        format!(
            "| RSS | {:.1} MiB at /live, {:.1} MiB when ready; then median {:.1} MiB, max {:.1} MiB (VmHWM {:.1} MiB, the startup included) |",
            mib(rss_live),
            mib(rss_ready),
            mib(med),
            mib(max),
            mib(hwm)
        ),
        format!(
            "| CPU | {cpu_s:.2} s in {wall:.0} s: {:.2} % of one core, {cycles} cycles, {:.0} ms per cycle |",
            100.0 * cpu_s / wall,
            if cycles > 0 { 1000.0 * cpu_s / cycles as f64 } else { f64::NAN }
        ),
        format!("| threads | {threads} |"),
        format!(
            "| DescribeServices | {reads:.0} in {wall:.0} s = {:.2}/s (the budget: 2/s, 10 % of ECS's documented 20/s) |",
            reads / wall
        ),
        format!(
            "| AWS calls since start | {calls:.0} (startup checks and first cycle included); {} log lines |",
            lines.load(Ordering::Relaxed)
        ),
    ];
    out.push(String::new());
    let section = out.join("\n");
    println!("{section}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md");
    let before = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    std::fs::write(&path, upsert(&before, &out[0], &section)).unwrap();
    eprintln!("wrote {}", path.display());
}

/// `text` with the section under `heading` (up to the next `## `) replaced by `section`, or
/// with `section` appended.
fn upsert(text: &str, heading: &str, section: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| *l == heading) else {
        let sep = if text.ends_with("\n\n") {
            ""
        } else if text.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        return format!("{text}{sep}{section}");
    };
    let end = lines[start + 1..].iter().position(|l| l.starts_with("## ")).map_or(lines.len(), |i| start + 1 + i);
    // A blank line still parts the section from the next one (`lines` drops the trailing one).
    let gap = (end < lines.len()).then_some("");
    lines.splice(start..end, section.lines().chain(gap));
    lines.join("\n") + "\n"
}
