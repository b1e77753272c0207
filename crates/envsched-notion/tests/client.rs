//! The real client against the Notion stand-in over HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use envsched_core::config::Notion;
use envsched_core::{BookingSource, SourceError};
use envsched_notion::{NotionClient, RetryPolicy};
use envsched_sandbox::standin::{DATA_SOURCE_ID, DATABASE_ID, Fault, Row, SECOND_DATA_SOURCE_ID, StandIn};
use secrecy::SecretString;

const TOKEN: &str = "ntn_TOPSECRET_4f9a2c7e1b3d";

fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let row = Row::new(
                &format!("2b4e6a17-3c5d-8200-a000-{i:012}"),
                &format!("booking {i}"),
                &["products/app1-web"],
                Some(("2026-11-24", None)),
            );
            // Every fourth row is done: the status filter must leave it out.
            if i % 4 == 3 { row.status("完了") } else { row }
        })
        .collect()
}

fn notion(base_url: &str, version: &str) -> Notion {
    Notion {
        database_id: Some(DATABASE_ID.into()),
        api_version: version.parse().expect("a supported Notion API version"),
        base_url: base_url.into(),
        environment_property: Some("環境".into()),
        feedback_property: Some("envsched".into()),
        requests_per_second: 1000.0,
        ..Notion::default()
    }
}

fn client(n: &Notion) -> NotionClient {
    NotionClient::new(n, SecretString::from(TOKEN)).unwrap().with_retry(RetryPolicy {
        max_retries: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    })
}

fn queries(s: &StandIn) -> Vec<envsched_sandbox::standin::Recorded> {
    s.requests().into_iter().filter(|r| r.path.ends_with("/query")).collect()
}

#[tokio::test]
async fn every_api_version_returns_the_same_bookings() {
    let s = StandIn::start(TOKEN, rows(7)).await.unwrap();
    let old = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap();
    let new = client(&notion(&s.base_url, "2025-09-03")).fetch().await.unwrap();
    let newest = client(&notion(&s.base_url, "2026-03-11")).fetch().await.unwrap();
    assert_eq!(old.len(), 6, "the 完了 rows are filtered out server-side");
    assert_eq!(old, new);
    assert_eq!(new, newest);
    let paths: Vec<String> = s
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.version.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        paths,
        [
            // The schema once per process (the status property's type), then the query.
            format!("GET /v1/databases/{DATABASE_ID} 2022-06-28"),
            format!("POST /v1/databases/{DATABASE_ID}/query 2022-06-28"),
            format!("GET /v1/databases/{DATABASE_ID} 2025-09-03"),
            format!("GET /v1/data_sources/{DATA_SOURCE_ID} 2025-09-03"),
            format!("POST /v1/data_sources/{DATA_SOURCE_ID}/query 2025-09-03"),
            format!("GET /v1/databases/{DATABASE_ID} 2026-03-11"),
            format!("GET /v1/data_sources/{DATA_SOURCE_ID} 2026-03-11"),
            format!("POST /v1/data_sources/{DATA_SOURCE_ID}/query 2026-03-11"),
        ]
    );
}

#[tokio::test]
async fn three_pages_are_followed_to_the_end_with_the_status_filter() {
    let s = StandIn::start(TOKEN, rows(290)).await.unwrap();
    let got = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap();
    assert_eq!(got.len(), 290 - 290 / 4 - usize::from(290 % 4 == 3));
    let q = queries(&s);
    assert_eq!(q.len(), 3, "100 + 100 + 18 live rows");
    assert!(q[0].body.get("start_cursor").is_none());
    assert_eq!(q[1].body["start_cursor"], got[100].id.as_str());
    // The request body has the recorded shape: `or` over the active statuses, 100 per page.
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("query-request-status-filter.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(q[0].body, fixture);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.push_faults([Fault::RateLimited(1)]);
    let got = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap();
    assert_eq!(got.len(), 3);
    let q = s.requests();
    assert_eq!((q[0].status, q[1].status), (429, 200));
    assert!(q[1].at.duration_since(q[0].at) >= Duration::from_secs(1), "waited {:?}", q[1].at.duration_since(q[0].at));
}

#[tokio::test]
async fn a_500_storm_becomes_a_clear_source_error_after_bounded_retries() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.push_faults(std::iter::repeat_n(Fault::Status(500), 10));
    let err = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap_err();
    assert_eq!(err.kind(), "unavailable");
    let msg = err.to_string();
    assert!(msg.contains("HTTP 500 internal_server_error"), "{msg}");
    assert!(msg.contains("request_id 5a1e0000-"), "{msg}");
    assert_eq!(s.requests().len(), 4, "1 attempt + 3 retries");
}

#[tokio::test]
async fn edge_html_and_truncated_json_are_retried_then_reported() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.push_faults([Fault::EdgeBadGateway, Fault::TruncatedJson]);
    assert_eq!(client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap().len(), 3);
    s.push_faults(std::iter::repeat_n(Fault::TruncatedJson, 10));
    let err = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[tokio::test]
async fn the_result_cap_is_an_error_never_a_short_list() {
    let s = StandIn::start(TOKEN, rows(300)).await.unwrap();
    s.set_result_cap(150);
    let err = client(&notion(&s.base_url, "2025-09-03")).fetch().await.unwrap_err();
    assert_eq!(err.kind(), "incomplete");
    assert!(err.to_string().contains("10,000"), "{err}");
}

#[tokio::test]
async fn a_cursor_loop_is_an_error() {
    let s = StandIn::start(TOKEN, rows(250)).await.unwrap();
    // The first fault is spent on the schema request; the next two loop the cursor.
    s.push_faults([Fault::CursorLoop, Fault::CursorLoop, Fault::CursorLoop]);
    let err = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap_err();
    assert!(matches!(err, SourceError::Incomplete { .. }), "{err}");
}

#[tokio::test]
async fn a_rejected_token_is_not_retried_and_says_what_to_check() {
    let s = StandIn::start("another-token", rows(3)).await.unwrap();
    let err = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap_err();
    let SourceError::Rejected { status, ref code, ref hint, .. } = err else { panic!("{err}") };
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(hint.contains("notion.token_env"), "{hint}");
    assert_eq!(s.requests().len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_database_not_shared_with_the_integration_says_so() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.push_faults([Fault::NotFound]);
    let err = client(&notion(&s.base_url, "2022-06-28")).fetch().await.unwrap_err();
    assert!(err.to_string().contains("not shared with the integration"), "{err}");
}

#[tokio::test]
async fn a_status_property_renamed_in_notion_is_an_error_naming_it() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.rename_status_property("状態");
    let err = client(&notion(&s.base_url, "2025-09-03")).fetch().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no property \"ステータス\" (notion.status_property)"), "{msg}");
    assert!(msg.contains("envsched check"), "{msg}");
    assert_eq!(err.kind(), "schema");
}

#[tokio::test]
async fn a_select_typed_status_property_is_filtered_with_a_select_condition() {
    let s = StandIn::start(TOKEN, rows(8)).await.unwrap();
    s.set_status_is_select(true);
    let got = client(&notion(&s.base_url, "2025-09-03")).fetch().await.unwrap();
    assert_eq!(got.len(), 6);
    let q = queries(&s);
    assert_eq!(q[0].body["filter"]["or"][0]["select"]["equals"], "利用中");
}

#[tokio::test]
async fn several_data_sources_need_data_source_id() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.set_multi_source(true);
    let err = client(&notion(&s.base_url, "2025-09-03")).fetch().await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(DATA_SOURCE_ID) && msg.contains(SECOND_DATA_SOURCE_ID) && msg.contains("notion.data_source_id"),
        "{msg}"
    );
    let mut n = notion(&s.base_url, "2025-09-03");
    n.data_source_id = Some(DATA_SOURCE_ID.into());
    assert_eq!(client(&n).fetch().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_rate_limiter_spaces_requests() {
    let s = StandIn::start(TOKEN, rows(290)).await.unwrap();
    let mut n = notion(&s.base_url, "2022-06-28");
    n.requests_per_second = 3.0;
    client(&n).fetch().await.unwrap();
    let q = queries(&s);
    assert_eq!(q.len(), 3);
    for pair in q.windows(2) {
        // 1/3 s apart, less a little for timer granularity.
        assert!(
            pair[1].at.duration_since(pair[0].at) >= Duration::from_millis(320),
            "{:?}",
            pair[1].at.duration_since(pair[0].at)
        );
    }
}

#[tokio::test]
async fn a_fetch_slower_than_its_deadline_gives_up() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    s.push_faults([Fault::Slow(Duration::from_secs(3))]);
    let mut n = notion(&s.base_url, "2022-06-28");
    n.fetch_deadline = Duration::from_secs(1);
    let err = client(&n).fetch().await.unwrap_err();
    assert!(err.to_string().contains("notion.fetch_deadline"), "{err}");
}

#[tokio::test]
async fn the_token_never_appears_in_debug_output_or_errors() {
    let s = StandIn::start("another-token", rows(3)).await.unwrap();
    let c = client(&notion(&s.base_url, "2022-06-28"));
    assert!(!format!("{c:?}").contains(TOKEN));
    let err = c.fetch().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    s.push_faults(std::iter::repeat_n(Fault::Status(503), 10));
    let err = c.fetch().await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[tokio::test]
async fn write_back_patches_only_rows_whose_text_changes() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    let c = client(&notion(&s.base_url, "2025-09-03"));
    let patches = |s: &StandIn| s.requests().iter().filter(|r| r.method == "PATCH").count();
    let got = c.fetch().await.unwrap();
    let texts: Vec<(String, String)> = got.iter().map(|b| (b.id.clone(), "ready".to_string())).collect();
    let first = c.write_back(&texts, &got).await;
    assert_eq!((first.written, first.unchanged, first.failed.len()), (3, 0, 0));
    assert!(s.rows().iter().filter(|r| r.status == "利用中").all(|r| r.feedback == "ready"));
    // Next cycle, same state: nothing written.
    let got = c.fetch().await.unwrap();
    let second = c.write_back(&texts, &got).await;
    assert_eq!((second.written, second.unchanged), (0, 3));
    assert_eq!(patches(&s), 3);
    // One row changes state, another is set to 完了 in Notion: both are told, once.
    s.edit_row(&got[2].id, |r| r.status = "完了".into());
    let got = c.fetch().await.unwrap();
    let mut texts: Vec<(String, String)> = got.iter().map(|b| (b.id.clone(), "ready".to_string())).collect();
    texts[0].1 = "starting 1/2".into();
    let third = c.write_back(&texts, &got).await;
    assert_eq!(third.written, 2);
    let rows = s.rows();
    assert_eq!(rows.iter().find(|r| r.id == texts[0].0).unwrap().feedback, "starting 1/2");
    assert_eq!(rows.iter().find(|r| r.status == "完了" && r.id.ends_with("002")).unwrap().feedback, "ended");
    let got = c.fetch().await.unwrap();
    assert_eq!(c.write_back(&texts, &got).await.written, 0);
}

#[tokio::test]
async fn a_person_editing_the_state_cell_is_corrected_and_a_restart_reads_the_rows() {
    let mut r = rows(1);
    r[0].feedback = "ready".into();
    let s = StandIn::start(TOKEN, r).await.unwrap();
    // A fresh client (a restart) reads "ready" from the row: no write needed.
    let c = client(&notion(&s.base_url, "2022-06-28"));
    let got = c.fetch().await.unwrap();
    let texts = vec![(got[0].id.clone(), "ready".to_string())];
    assert_eq!(c.write_back(&texts, &got).await.written, 0);
    s.edit_row(&got[0].id, |r| r.feedback = "手で書いた".into());
    let got = c.fetch().await.unwrap();
    assert_eq!(c.write_back(&texts, &got).await.written, 1);
    assert_eq!(s.rows()[0].feedback, "ready");
}

#[tokio::test]
async fn the_same_snapshot_seen_again_does_not_undo_a_write() {
    let s = StandIn::start(TOKEN, rows(1)).await.unwrap();
    let c = client(&notion(&s.base_url, "2022-06-28"));
    let got = c.fetch().await.unwrap();
    let id = got[0].id.clone();
    assert_eq!(c.write_back(&[(id.clone(), "waiting for db/stg-aurora".into())], &got).await.written, 1);
    // The daemon may plan again from the same fetch before the next poll.
    assert_eq!(c.write_back(&[(id.clone(), "waiting for db/stg-aurora".into())], &got).await.written, 0);
    assert_eq!(c.write_back(&[(id.clone(), "ready".into())], &got).await.written, 1);
    assert_eq!(c.write_back(&[(id, "ready".into())], &got).await.written, 0);
}

#[tokio::test]
async fn a_500_storm_freezes_the_cycle_with_the_error_and_no_actions() {
    use envsched_core::{Config, CycleState, Mode, reconcile};
    use envsched_sandbox::{SandboxFleet, SimClock, Timing};
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    let config = Config::from_toml(
        &format!(
            "[notion]\ndatabase_id = \"{DATABASE_ID}\"\nbase_url = \"{}\"\n[[targets]]\nname = \"services/creditcard\"\necs = {{ cluster = \"stg1\", service = \"creditcard\" }}\n",
            s.base_url
        ),
        "freeze.toml",
    )
    .unwrap();
    // creditcard runs with no booking: a normal cycle would stop it.
    let observed: envsched_core::Observed = serde_json::from_str(
        r#"{"ecs_services": [{"cluster": "stg1", "service": "creditcard", "desired_count": 2, "running_count": 2}]}"#,
    )
    .unwrap();
    let clock = SimClock::new("2026-11-24T03:00:00Z".parse().unwrap());
    let fleet = SandboxFleet::new(&observed, clock.clone(), Timing::instant());
    s.push_faults(std::iter::repeat_n(Fault::Status(500), 10));
    let source = client(&config.notion);
    let mut state = CycleState::default();
    let r = reconcile(&config, &source, &fleet, &clock, &mut state, Mode::Apply).await.unwrap();
    let frozen = r.plan.frozen.as_ref().expect("frozen");
    assert!(frozen.reason.contains("HTTP 500 internal_server_error"), "{}", frozen.reason);
    assert!(frozen.reason.contains("keep it running"), "{}", frozen.reason);
    assert!(r.applied.is_empty());
    assert_eq!(fleet.snapshot().ecs_services[0].desired_count, 2, "nothing was stopped");
}

#[tokio::test]
async fn an_hour_long_retry_after_is_cut_short_so_the_fetch_succeeds_soon_after_notion_recovers() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    // Notion asks for an hour, twice, and is back by the second retry.
    s.push_faults([Fault::RateLimited(3600), Fault::RateLimited(3600)]);
    let mut n = notion(&s.base_url, "2022-06-28");
    n.fetch_deadline = Duration::from_secs(4);
    let started = std::time::Instant::now();
    let got = client(&n).fetch().await;
    let took = started.elapsed();
    assert_eq!(got.unwrap_or_else(|e| panic!("after {took:?}: {e}")).len(), 3);
    let q = s.requests();
    assert_eq!(q.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 429, 200, 200]);
    // Each wait is at most a quarter of the deadline (1 s here), so the client re-probes.
    for pair in q[..3].windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(900) && gap < Duration::from_millis(1500), "waited {gap:?}");
    }
    assert!(took < Duration::from_secs(3), "took {took:?}, the deadline is 4 s");
}

#[tokio::test]
async fn a_retry_after_wait_never_outlasts_what_the_fetch_deadline_leaves() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    // 3 s of the 4 s deadline go on a slow schema request; then Notion asks for an hour.
    s.push_faults([Fault::Slow(Duration::from_secs(3)), Fault::RateLimited(3600)]);
    let mut n = notion(&s.base_url, "2022-06-28");
    n.fetch_deadline = Duration::from_secs(4);
    let started = std::time::Instant::now();
    let got = client(&n).fetch().await;
    let took = started.elapsed();
    // The wait is cut to what is left less a margin for the retried request itself.
    assert_eq!(got.unwrap_or_else(|e| panic!("after {took:?}: {e}")).len(), 3);
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn a_row_deleted_from_notion_after_a_fetch_is_patched_at_most_once() {
    let s = StandIn::start(TOKEN, rows(3)).await.unwrap();
    let c = client(&notion(&s.base_url, "2025-09-03"));
    let got = c.fetch().await.unwrap();
    let gone = got[1].id.clone();
    let all_rows = s.rows();
    s.set_rows(all_rows.iter().filter(|r| r.id != gone).cloned().collect());
    let patches_to =
        |s: &StandIn, id: &str| s.requests().iter().filter(|r| r.method == "PATCH" && r.path.ends_with(id)).count();
    // The daemon plans again from the same fetch, and the state keeps changing.
    let mut reports = Vec::new();
    for text in ["starting 0/1", "starting 1/1", "ready", "ready", "waiting for db/stg-aurora"] {
        let texts: Vec<(String, String)> = got.iter().map(|b| (b.id.clone(), text.to_string())).collect();
        reports.push(c.write_back(&texts, &got).await);
    }
    assert_eq!(patches_to(&s, &gone), 1, "one PATCH learns the row is gone");
    let (id, err) = &reports[0].failed[0];
    assert_eq!(id, &gone);
    assert!(err.to_string().contains(&gone) && err.to_string().contains("gone"), "{err}");
    for (later, written) in reports[1..].iter().zip([2, 2, 0, 2]) {
        assert!(later.failed.is_empty(), "{:?}", later.failed);
        assert_eq!((later.written, later.gone), (written, 1));
    }
    // The next fetch no longer has it: it is not told `ended` either.
    let got = c.fetch().await.unwrap();
    assert_eq!(got.len(), 2);
    let texts: Vec<(String, String)> = got.iter().map(|b| (b.id.clone(), "ready".to_string())).collect();
    c.write_back(&texts, &got).await;
    assert_eq!(patches_to(&s, &gone), 1);
    // Restored in Notion: once a fetch shows it again, it is written to again.
    s.set_rows(all_rows);
    let got = c.fetch().await.unwrap();
    let texts: Vec<(String, String)> = got.iter().map(|b| (b.id.clone(), "ready".to_string())).collect();
    let wb = c.write_back(&texts, &got).await;
    assert_eq!((wb.gone, wb.failed.len()), (0, 0));
    assert_eq!(patches_to(&s, &gone), 2);
}
