//! Parsing a big bookings database: 100 query responses of 100 rows each (10,000 rows, the
//! most a cycle pages through at Notion's 100-row page size in 100 requests), built from the
//! recorded 2026-03-11 response `../shared/fixtures/notion/2026-03-11/query-data-source-page1.json`
//! (read in place; its rows repeated with fresh ids). Times `parse_query_response` over all
//! 100 bodies, as the client does once per cycle; prints the median and the worst of `RUNS`
//! runs. Run: `cargo bench -p envsched-notion --bench parse` (a release build).

/// The allocator the `envsched` binary uses, so the figures are the daemon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use envsched_core::config::Notion;
use envsched_notion::parse_query_response;
use serde_json::Value;

const PAGES: usize = 100;
const ROWS_PER_PAGE: usize = 100;
const RUNS: usize = 15;

fn fixture() -> Value {
    let dir = std::env::var_os("ENVSCHED_NOTION_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/notion"));
    let path = dir.join("2026-03-11/query-data-source-page1.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (set ENVSCHED_NOTION_FIXTURES to ../shared/fixtures/notion)", path.display())
    });
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// `PAGES` response bodies of `ROWS_PER_PAGE` rows, each row a recorded one with its own id.
fn bodies() -> Vec<String> {
    let recorded = fixture();
    let rows = recorded["results"].as_array().expect("the fixture has results").clone();
    (0..PAGES)
        .map(|p| {
            let mut body = recorded.clone();
            let results: Vec<Value> = (0..ROWS_PER_PAGE)
                .map(|r| {
                    let mut row = rows[(p * ROWS_PER_PAGE + r) % rows.len()].clone();
                    row["id"] = Value::String(format!("2b4e6a17-3c5d-8101-{p:04}-{r:012}"));
                    row
                })
                .collect();
            body["results"] = Value::Array(results);
            let last = p + 1 == PAGES;
            body["has_more"] = Value::Bool(!last);
            body["next_cursor"] =
                if last { Value::Null } else { Value::String(format!("2b4e6a17-3c5d-8106-{:04}-000000000000", p + 1)) };
            body.to_string()
        })
        .collect()
}

fn main() {
    let notion = Notion {
        environment_property: Some("環境".into()),
        feedback_property: Some("envsched".into()),
        ..Notion::default()
    };
    let bodies = bodies();
    let bytes: usize = bodies.iter().map(String::len).sum();
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut bookings = Vec::with_capacity(PAGES * ROWS_PER_PAGE);
        for body in &bodies {
            let page = parse_query_response(body, &notion).expect("the recorded rows parse");
            bookings.extend(page.bookings);
        }
        times.push(t.elapsed());
        rows = bookings.len();
        std::hint::black_box(bookings);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{PAGES} query responses × {ROWS_PER_PAGE} rows ({rows} bookings, {:.1} MiB of JSON); over {RUNS} runs:",
        bytes as f64 / 1048576.0
    );
    println!("  parse              median {:>8.2} ms   worst {:>8.2} ms", ms(times[RUNS / 2]), ms(times[RUNS - 1]));
}
