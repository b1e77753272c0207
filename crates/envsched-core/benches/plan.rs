//! One cycle's planning at scale: `desired` and `plan_now` for 10,050 targets (50
//! environments × 200 ECS services + an Aurora cluster each, every service depending on its
//! environment's cluster) and 2,000 live bookings (prefixes, globs, date-only and date-time
//! windows around now), on a fleet observed all stopped. Prints the median and the worst of
//! `RUNS` runs. Run: `cargo bench -p envsched-core --bench plan` (a release build).

/// The allocator the `envsched` binary uses. The daemon also sets three of its options
/// before `main` (crates/envsched/src/main.rs); for its figures exactly, run with
/// `MIMALLOC_ARENA_EAGER_COMMIT=0 MIMALLOC_PURGE_DELAY=0 MIMALLOC_PAGE_FULL_RETAIN=0`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use envsched_core::{Booking, Config, Observed, Window, desired, plan_now};
use jiff::Timestamp;

const ENVS: usize = 50;
const SERVICES: usize = 200;
const BOOKINGS_PER_ENV: usize = 40;
const RUNS: usize = 15;

fn config() -> Config {
    let mut t = String::from("time_zone = \"Asia/Tokyo\"\n[safety]\nmax_stops_per_cycle = 20000\n");
    for e in 0..ENVS {
        let _ = write!(
            t,
            "[[environments]]\nname = \"stg{e}\"\nhours = {{ days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], from = \"08:00\", to = \"20:00\" }}\nholidays = \"jp\"\n"
        );
    }
    for e in 0..ENVS {
        let _ = write!(
            t,
            "[[targets]]\nname = \"db/aurora\"\nenvironment = \"stg{e}\"\naurora = {{ cluster_id = \"stg{e}-aurora\" }}\n"
        );
        for s in 0..SERVICES {
            let (app, role) = (s / 4, ["web", "api", "worker", "batch"][s % 4]);
            let _ = write!(
                t,
                "[[targets]]\nname = \"products/app{app}-{role}\"\nenvironment = \"stg{e}\"\necs = {{ cluster = \"stg{e}\", service = \"app{app}-{role}\" }}\ndepends_on = [\"db/aurora\"]\n"
            );
        }
    }
    Config::from_toml(&t, "bench.toml").expect("the bench's config is valid")
}

fn bookings(now: Timestamp) -> Vec<Booking> {
    let mut out = Vec::new();
    for e in 0..ENVS {
        for b in 0..BOOKINGS_PER_ENV {
            let components = match b % 4 {
                0 => vec![format!("products/app{}", b % 50)],
                1 => vec![format!("products/app{}-web", b % 50), "db/aurora".to_string()],
                2 => vec!["products/*-web".to_string()],
                _ => vec![format!("products/app{}-api", b % 50), format!("products/app{}-worker", (b + 7) % 50)],
            };
            let hours = |h: i64| now.checked_add(jiff::SignedDuration::from_hours(h)).unwrap();
            let window = if b % 2 == 0 {
                let day = now.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).date();
                Window::Days { first: day, last: day.checked_add(jiff::Span::new().days(2)).unwrap() }
            } else {
                Window::Span { start: hours(-(b as i64 % 5)), end: Some(hours(1 + b as i64 % 9)) }
            };
            out.push(Booking {
                id: format!("2b4e6a17-0000-8000-{e:04}-{b:012}"),
                title: format!("booking {e}/{b}"),
                status: "利用中".into(),
                components,
                environment: Some(format!("stg{e}")),
                window,
                trashed: false,
                feedback: None,
                last_edited: None,
                url: None,
                creator: None,
            });
        }
    }
    out
}

fn observed() -> Observed {
    let mut services = Vec::new();
    let mut clusters = Vec::new();
    for e in 0..ENVS {
        clusters.push(serde_json::json!({"id": format!("stg{e}-aurora"), "status": "stopped"}));
        for s in 0..SERVICES {
            let (app, role) = (s / 4, ["web", "api", "worker", "batch"][s % 4]);
            services.push(serde_json::json!({"cluster": format!("stg{e}"), "service": format!("app{app}-{role}"), "desired_count": 0, "running_count": 0}));
        }
    }
    serde_json::from_value(serde_json::json!({"ecs_services": services, "aurora_clusters": clusters})).unwrap()
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let now: Timestamp = "2026-12-02T03:00:00Z".parse().unwrap();
    let (config, bookings, observed) = (config(), bookings(now), observed());
    let mut d_times = Vec::new();
    let mut p_times = Vec::new();
    let mut actions = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let d = desired(&bookings, &config, now);
        d_times.push(t.elapsed());
        std::hint::black_box(d);
        let t = Instant::now();
        let decision = plan_now(&config, &bookings, &observed, now, None, None);
        p_times.push(t.elapsed());
        actions = decision.plan.actions().count();
    }
    let (dm, dw) = median(d_times);
    let (pm, pw) = median(p_times);
    println!(
        "{} targets, {} live bookings, {actions} actions planned; over {RUNS} runs:",
        config.targets.len(),
        bookings.len()
    );
    println!(
        "  desired            median {:>8.2} ms   worst {:>8.2} ms",
        dm.as_secs_f64() * 1e3,
        dw.as_secs_f64() * 1e3
    );
    println!(
        "  desired + plan     median {:>8.2} ms   worst {:>8.2} ms",
        pm.as_secs_f64() * 1e3,
        pw.as_secs_f64() * 1e3
    );
}
