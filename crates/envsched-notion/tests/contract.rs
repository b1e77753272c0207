//! Contract: the stand-in answers in the same shapes as the recorded Notion responses in
//! `../shared/fixtures/notion` — the same keys and JSON types at every level — so the
//! client is tested against Notion's shapes, not our assumptions.

mod common;

use envsched_sandbox::standin::{DATA_SOURCE_ID, DATABASE_ID, Fault, Row, StandIn};
use serde_json::{Value, json};

const TOKEN: &str = "secret_contract";

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .unwrap()
}

/// Differences in shape between `want` (a fixture) and `got` (the stand-in), as paths.
fn shape_diff(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(w), Value::Object(g)) => {
            for k in w.keys().filter(|k| !g.contains_key(*k)) {
                out.push(format!("{path}.{k}: missing in the stand-in"));
            }
            for k in g.keys().filter(|k| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in the fixture"));
            }
            for (k, wv) in w {
                if let Some(gv) = g.get(k) {
                    shape_diff(wv, gv, &format!("{path}.{k}"), out);
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if let (Some(a), Some(b)) = (w.first(), g.first()) {
                shape_diff(a, b, &format!("{path}[0]"), out);
            }
        }
        (w, g) if std::mem::discriminant(w) == std::mem::discriminant(g) => {}
        (w, g) => out.push(format!("{path}: fixture has {w}, stand-in has {g}")),
    }
}

fn assert_same_shape(fixture_name: &str, want: &Value, got: &Value) {
    let mut diffs = Vec::new();
    shape_diff(want, got, "$", &mut diffs);
    assert!(diffs.is_empty(), "stand-in vs {fixture_name}:\n{}", diffs.join("\n"));
}

/// Rows covering every value shape: dates of each kind, select set and unset, feedback set.
fn rows() -> Vec<Row> {
    let mut a = Row::new(
        "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701",
        "ServiceSite 検証",
        &["products/servicesite", "db/stg-aurora"],
        Some(("2026-11-24", Some("2026-11-26"))),
    )
    .env("stg1");
    a.feedback = "ready".into();
    let b = Row::new(
        "2b4e6a17-3c5d-8102-b7d4-f2a6c8e0b902",
        "夜間",
        &["products/app1-web"],
        Some(("2026-11-30T19:00:00.000+09:00", Some("2026-12-01T07:00:00.000+09:00"))),
    );
    let c = Row::new("2b4e6a17-3c5d-8105-b2c4-d6e8f0a2e305", "期間なし", &["services/*"], None).env("stg4");
    vec![a, b, c]
}

async fn get(
    s: &StandIn,
    method: &str,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let http = reqwest::Client::new();
    let mut req = http
        .request(method.parse().unwrap(), format!("{}{path}", s.base_url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Notion-Version", version);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

#[tokio::test]
async fn query_responses_have_the_recorded_shapes_in_both_versions() {
    let s = StandIn::start(TOKEN, rows()).await.unwrap();
    let (_, h, v) =
        get(&s, "POST", &format!("/v1/databases/{DATABASE_ID}/query"), "2022-06-28", Some(json!({"page_size": 2})))
            .await;
    assert_same_shape("query-page1.json", &fixture("query-page1.json"), &v);
    assert!(h.contains_key("x-notion-request-id"));
    let (_, _, last) = get(
        &s,
        "POST",
        &format!("/v1/databases/{DATABASE_ID}/query"),
        "2022-06-28",
        Some(json!({"page_size": 2, "start_cursor": v["next_cursor"]})),
    )
    .await;
    assert_same_shape("query-page2.json", &fixture("query-page2.json"), &last);
    assert_eq!((last["has_more"].as_bool(), last["next_cursor"].is_null()), (Some(false), true));
    let (_, _, v) = get(
        &s,
        "POST",
        &format!("/v1/data_sources/{DATA_SOURCE_ID}/query"),
        "2025-09-03",
        Some(json!({"page_size": 2})),
    )
    .await;
    assert_same_shape("query-data-source-page1.json", &fixture("query-data-source-page1.json"), &v);
}

#[tokio::test]
async fn schema_responses_have_the_recorded_shapes() {
    let s = StandIn::start(TOKEN, rows()).await.unwrap();
    let (_, _, v) = get(&s, "GET", &format!("/v1/databases/{DATABASE_ID}"), "2022-06-28", None).await;
    let mut want = fixture("database-2022-06-28.json");
    // The 2022 fixture predates is_locked (see the fixtures README): the stand-in omits it too.
    want.as_object_mut().unwrap().remove("is_locked");
    assert_same_shape("database-2022-06-28.json", &want, &v);
    let (_, _, v) = get(&s, "GET", &format!("/v1/databases/{DATABASE_ID}"), "2025-09-03", None).await;
    assert_same_shape("database-2025-09-03.json", &fixture("database-2025-09-03.json"), &v);
    let (_, _, v) = get(&s, "GET", &format!("/v1/data_sources/{DATA_SOURCE_ID}"), "2025-09-03", None).await;
    assert_same_shape("data-source-2025-09-03.json", &fixture("data-source-2025-09-03.json"), &v);
}

/// Under 2026-03-11 the stand-in answers in the shapes of `2026-03-11/` (no `archived`
/// anywhere), and refuses a request that still sends `archived`, as Notion does.
#[tokio::test]
async fn the_2026_03_11_responses_have_the_recorded_shapes_and_archived_is_refused() {
    const V: &str = "2026-03-11";
    let mut trashed = rows();
    trashed[2].in_trash = true;
    let s = StandIn::start(TOKEN, trashed).await.unwrap();
    let ds_query = format!("/v1/data_sources/{DATA_SOURCE_ID}/query");
    let (status, _, v) = get(&s, "POST", &ds_query, V, Some(json!({"page_size": 1}))).await;
    assert_eq!(status, 200, "{v}");
    assert_same_shape(
        "2026-03-11/query-data-source-page1.json",
        &fixture("2026-03-11/query-data-source-page1.json"),
        &v,
    );
    let (_, _, last) =
        get(&s, "POST", &ds_query, V, Some(json!({"page_size": 1, "start_cursor": v["next_cursor"]}))).await;
    assert_same_shape(
        "2026-03-11/query-data-source-page2.json",
        &fixture("2026-03-11/query-data-source-page2.json"),
        &last,
    );
    let (_, _, v) = get(&s, "GET", &format!("/v1/databases/{DATABASE_ID}"), V, None).await;
    assert_same_shape("2026-03-11/database.json", &fixture("2026-03-11/database.json"), &v);
    let (_, _, v) = get(&s, "GET", &format!("/v1/data_sources/{DATA_SOURCE_ID}"), V, None).await;
    assert_same_shape("2026-03-11/data-source.json", &fixture("2026-03-11/data-source.json"), &v);
    let (_, _, v) = get(&s, "GET", "/v1/pages/2b4e6a17-3c5d-8105-b2c4-d6e8f0a2e305", V, None).await;
    assert_same_shape("2026-03-11/page-in-trash.json", &fixture("2026-03-11/page-in-trash.json"), &v);
    assert_eq!(v["in_trash"], json!(true));
    let id = "2b4e6a17-3c5d-8102-b7d4-f2a6c8e0b902";
    let (_, _, v) = get(&s, "PATCH", &format!("/v1/pages/{id}"), V, Some(fixture("page-update-request.json"))).await;
    assert_same_shape("2026-03-11/page-update-response.json", &fixture("2026-03-11/page-update-response.json"), &v);
    // Under 2025-09-03 the same objects still carry it.
    let (_, _, v) = get(&s, "GET", &format!("/v1/pages/{id}"), "2025-09-03", None).await;
    assert_eq!(v["archived"], json!(false));
    // A request naming `archived` is refused under 2026-03-11 and changes nothing.
    let (status, _, v) = get(&s, "PATCH", &format!("/v1/pages/{id}"), V, Some(json!({"archived": true}))).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("validation_error")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("archived"), "{v}");
    assert!(!s.rows()[1].in_trash);
}

#[tokio::test]
async fn page_updates_have_the_recorded_request_and_response_shapes() {
    let s = StandIn::start(TOKEN, rows()).await.unwrap();
    let request = fixture("page-update-request.json");
    let id = "2b4e6a17-3c5d-8102-b7d4-f2a6c8e0b902";
    let (status, _, v) = get(&s, "PATCH", &format!("/v1/pages/{id}"), "2025-09-03", Some(request.clone())).await;
    assert_eq!(status, 200);
    assert_same_shape("page-update-response.json", &fixture("page-update-response.json"), &v);
    let (_, _, v) = get(&s, "PATCH", &format!("/v1/pages/{id}"), "2022-06-28", Some(request)).await;
    assert_same_shape("page-update-response-2022-06-28.json", &fixture("page-update-response-2022-06-28.json"), &v);
    assert_eq!(s.rows()[1].feedback, "ready");
}

#[tokio::test]
async fn errors_have_the_recorded_bodies_and_headers() {
    let s = StandIn::start(TOKEN, rows()).await.unwrap();
    let cases = [
        (Fault::Unauthorized, "errors/401-unauthorized.json"),
        (Fault::NotFound, "errors/404-object_not_found.json"),
        (Fault::RateLimited(7), "errors/429-rate_limited.json"),
        (Fault::Status(500), "errors/500-internal_server_error.json"),
        (Fault::Status(503), "errors/503-service_unavailable.json"),
        (Fault::Status(504), "errors/504-gateway_timeout.json"),
        (Fault::Overloaded(2), "errors/529-service_overload.json"),
    ];
    let headers = fixture("errors/headers.json");
    for (fault, name) in cases {
        s.push_faults([fault]);
        let (status, h, v) =
            get(&s, "POST", &format!("/v1/databases/{DATABASE_ID}/query"), "2022-06-28", Some(json!({}))).await;
        let want = fixture(name);
        assert_same_shape(name, &want, &v);
        assert_eq!((status, &v["code"]), (want["status"].as_u64().unwrap() as u16, &want["code"]), "{name}");
        let file = name.trim_start_matches("errors/");
        if let Some(ra) = headers[file].get("retry-after") {
            assert_eq!(h.get("retry-after").and_then(|v| v.to_str().ok()), ra.as_str(), "{name}");
        }
    }
}

#[test]
fn check_reports_the_recorded_schema_against_a_config() {
    let props = fixture("data-source-2025-09-03.json")["properties"].clone();
    let config = envsched_core::Config::from_toml(
        r#"
[notion]
environment_property = "環境"
feedback_property = "envsched"
[[environments]]
name = "stg1"
[[targets]]
name = "products/servicesite"
environment = "stg1"
ecs = { cluster = "stg1", service = "servicesite" }
[[targets]]
name = "db/stg-aurora"
environment = "stg1"
aurora = { cluster_id = "stg-aurora" }
"#,
        "check.toml",
    )
    .unwrap();
    let report = envsched_notion::schema::check_schema(&props, &config);
    let text = report.render();
    assert!(report.has_errors(), "{text}");
    assert!(text.contains("ok      notion.status_property = \"ステータス\" (status)"), "{text}");
    assert!(text.contains("ok      notion.api_version = \"2026-03-11\", the newest envsched speaks"), "{text}");
    assert!(text.contains("active status \"利用中\" is an option"), "{text}");
    assert!(
        text.contains("select no target: products/app1-web, services/creditcard, services/*, products/legacy-admin"),
        "{text}"
    );
    assert!(
        text.contains("environment options not declared in [[environments]]: [\"stg2\", \"stg3\", \"stg4\"]"),
        "{text}"
    );
    // An older version is a warning naming the newer one.
    let mut older = config.clone();
    older.notion.api_version = envsched_core::NotionApi::V2025_09_03;
    let text = envsched_notion::schema::check_schema(&props, &older).render();
    assert!(
        text.contains("warning notion.api_version = \"2025-09-03\": Notion API 2026-03-11 is newer — set notion.api_version = \"2026-03-11\""),
        "{text}"
    );
    // A renamed status property is named, with the candidates.
    let mut renamed = props.clone();
    let status = renamed.as_object_mut().unwrap().remove("ステータス").unwrap();
    renamed.as_object_mut().unwrap().insert("状態".into(), status);
    let text = envsched_notion::schema::check_schema(&renamed, &config).render();
    assert!(text.contains("notion.status_property = \"ステータス\": no such property; status/select properties here: [\"状態\", \"環境\"]"), "{text}");
}

/// `[notify]`'s comment: the client's request has the recorded request's shape, the
/// stand-in's answer the recorded response's; each notice is posted once, a restarted
/// notifier finds it in the row's comments, and a missing capability names it.
#[tokio::test]
async fn comments_have_the_recorded_shapes_and_each_notice_is_posted_once() {
    use envsched_core::notify::{Notice, NoticeKind};
    let s = StandIn::start(TOKEN, rows()).await.unwrap();
    let notion = envsched_core::config::Notion {
        database_id: Some(DATABASE_ID.into()),
        base_url: s.base_url.clone(),
        requests_per_second: 1000.0,
        ..envsched_core::config::Notion::default()
    };
    let client = envsched_notion::NotionClient::new(&notion, secrecy::SecretString::from(TOKEN)).unwrap();
    let row = "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701";
    let notice = Notice {
        kind: NoticeKind::EndingSoon,
        booking: envsched_core::BookingRef { id: row.into(), title: "ServiceSite 検証".into() },
        creator: Some("5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d".into()),
        at: "2026-11-26T11:00:00Z".parse().unwrap(),
        targets: vec!["products/servicesite".into(), "services/creditcard".into()],
        zone: jiff::tz::TimeZone::get("Asia/Tokyo").unwrap(),
    };
    let notifier = envsched_notion::Notifier::default();
    let told = notifier.tell(&client, std::slice::from_ref(&notice), "期間").await;
    assert_eq!((told.posted.len(), told.failed.len()), (1, 0), "{told:?}");
    let sent = s.requests().into_iter().find(|r| r.method == "POST" && r.path == "/v1/comments").unwrap();
    assert_same_shape(
        "2026-03-11/comment-create-request.json",
        &fixture("2026-03-11/comment-create-request.json"),
        &sent.body,
    );
    let c = &s.comments()[0];
    assert_same_shape(
        "2026-03-11/comment-create-response.json",
        &fixture("2026-03-11/comment-create-response.json"),
        &{
            let mut b = c.body.clone();
            b["request_id"] = json!("x");
            b
        },
    );
    assert_eq!(c.mentions, ["5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"]);
    assert_eq!(
        c.text,
        "envsched: @利用者 A products/servicesite, services/creditcard stop at 20:00 (Asia/Tokyo) on 2026-11-26 when this booking ends. Move the end of 期間 to keep them running."
    );
    // Again in this process: nothing; in a new one (a restart): found in the comments.
    assert!(notifier.tell(&client, std::slice::from_ref(&notice), "期間").await.posted.is_empty());
    let restarted = envsched_notion::Notifier::default();
    let told = restarted.tell(&client, std::slice::from_ref(&notice), "期間").await;
    assert_eq!((told.posted.len(), told.already), (0, 1));
    assert_eq!(s.comments().len(), 1);
    // Without the capability: a failure naming it, retried by the next round.
    s.set_comments_allowed(false);
    let other = Notice { at: "2026-11-27T11:00:00Z".parse().unwrap(), ..notice.clone() };
    let told = notifier.tell(&client, std::slice::from_ref(&other), "期間").await;
    assert_eq!(told.failed.len(), 1);
    assert!(told.failed[0].1.contains("\"Insert comments\""), "{:?}", told.failed);
    s.set_comments_allowed(true);
    assert_eq!(notifier.tell(&client, &[other], "期間").await.posted.len(), 1);
}
