//! A Notion stand-in: an HTTP server speaking the parts of the Notion API envsched uses, in
//! the shapes the real API returns (checked by contract tests against the recorded
//! responses), holding rows in memory, with faults that tests switch on per request.
//!
//! Endpoints, by `Notion-Version`:
//!
//! | version | endpoint |
//! |---|---|
//! | both | `GET /v1/pages/{id}`, `PATCH /v1/pages/{id}` (rich_text write-back) |
//! | 2022-06-28 | `GET /v1/databases/{id}` (schema), `POST /v1/databases/{id}/query` |
//! | 2025-09-03 | `GET /v1/databases/{id}` (data sources), `GET /v1/data_sources/{id}`, `POST /v1/data_sources/{id}/query` |
//!
//! Queries honour `page_size` (≤ 100), `start_cursor` (a row id, as Notion's cursors are)
//! and a status/select `equals` filter, alone or under `or`. Errors use Notion's error body
//! (`{"object": "error", "status", "code", "message", "request_id"}`); every response
//! carries `x-notion-request-id`. Faults ([`Fault`]) are consumed one per request, in order.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// The database id the stand-in serves by default (the fixtures' database).
pub const DATABASE_ID: &str = "2b4e6a17-3c5d-80f1-9a2e-d41c7e8b5f03";
/// Its data source (API 2025-09-03).
pub const DATA_SOURCE_ID: &str = "2b4e6a17-3c5d-81a9-b6c4-000c2f7e9d18";
/// A second data source, present when [`StandIn::set_multi_source`] is on.
pub const SECOND_DATA_SOURCE_ID: &str = "2b4e6a17-3c5d-81c7-a0d2-000b9e4f1a63";
/// The integration's bot user (last editor of written-back rows).
const BOT_USER: &str = "b7e9f1a3-5c2d-4e6f-9a8b-0c1d2e3f4a5b";

/// A fault to answer one request with instead of the normal response.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 `rate_limited` with `Retry-After: secs`.
    RateLimited(u32),
    /// 529 `service_overload` with `Retry-After: secs`.
    Overloaded(u32),
    /// A JSON error with this status (500, 503, 504, 409, 400…), code chosen by status.
    Status(u16),
    /// 502 HTML from the edge proxy, no request id.
    EdgeBadGateway,
    /// 401 `unauthorized` (a revoked token).
    Unauthorized,
    /// 404 `object_not_found` (database not shared).
    NotFound,
    /// Answer normally after this delay.
    Slow(Duration),
    /// Answer with the first half of the normal body.
    TruncatedJson,
    /// Answer a query normally but point `next_cursor` back at the first row.
    CursorLoop,
}

/// A booking row held by the stand-in.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Status option name.
    pub status: String,
    /// Multi-select option names.
    pub components: Vec<String>,
    /// Select option name.
    pub environment: Option<String>,
    /// Date value (`start`, `end`, `time_zone`) as Notion renders it, or `None` (no date).
    pub date: Option<(String, Option<String>, Option<String>)>,
    /// The write-back property's text.
    pub feedback: String,
    /// In the trash.
    pub in_trash: bool,
    /// `last_edited_time`.
    pub last_edited: String,
}

impl Row {
    /// A live booking row with the given components and date.
    pub fn new(id: &str, title: &str, components: &[&str], date: Option<(&str, Option<&str>)>) -> Self {
        Row {
            id: id.to_string(),
            title: title.to_string(),
            status: "利用中".into(),
            components: components.iter().map(|c| c.to_string()).collect(),
            environment: None,
            date: date.map(|(s, e)| (s.to_string(), e.map(str::to_string), None)),
            feedback: String::new(),
            in_trash: false,
            last_edited: "2026-11-20T07:41:00.000Z".into(),
        }
    }

    /// Scopes the row to an environment.
    pub fn env(mut self, env: &str) -> Self {
        self.environment = Some(env.to_string());
        self
    }

    /// Sets the status.
    pub fn status(mut self, status: &str) -> Self {
        self.status = status.to_string();
        self
    }
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When it arrived.
    pub at: Instant,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// `Notion-Version` header.
    pub version: Option<String>,
    /// JSON body (null when none).
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug)]
struct Inner {
    token: String,
    rows: Vec<Row>,
    faults: VecDeque<Fault>,
    requests: Vec<Recorded>,
    /// Status property renamed to this (schema drift).
    status_renamed_to: Option<String>,
    multi_source: bool,
    /// At most this many rows per query (Notion: 10,000).
    result_cap: usize,
    request_counter: u64,
    /// While set, every request is answered with this status (an outage).
    outage: Option<u16>,
    /// Edits so far: each edit moves a row's `last_edited_time` forward, as in Notion.
    edits: u64,
    /// The status property is a select, not a status.
    status_is_select: bool,
}

impl Inner {
    /// The next `last_edited_time`, strictly later than the previous one.
    fn touch(&mut self) -> String {
        self.edits += 1;
        let base: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let t = base.checked_add(jiff::SignedDuration::from_secs(60 * self.edits as i64)).unwrap_or(base);
        t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
    }
}

/// A running stand-in. Dropping it stops the server.
#[derive(Debug)]
pub struct StandIn {
    /// `http://127.0.0.1:PORT`, for `notion.base_url`.
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Starts a stand-in on 127.0.0.1 (a free port) accepting `token`, holding `rows`.
    /// Must be called inside a tokio runtime.
    pub async fn start(token: &str, rows: Vec<Row>) -> std::io::Result<StandIn> {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_string(),
            rows,
            faults: VecDeque::new(),
            requests: Vec::new(),
            status_renamed_to: None,
            multi_source: false,
            result_cap: 10_000,
            request_counter: 0,
            outage: None,
            edits: 0,
            status_is_select: false,
        }));
        let app = Router::new()
            .route("/v1/databases/{id}", get(retrieve_database))
            .route("/v1/databases/{id}/query", post(query_database))
            .route("/v1/data_sources/{id}", get(retrieve_data_source))
            .route("/v1/data_sources/{id}/query", post(query_data_source))
            .route("/v1/pages/{id}", get(retrieve_page).patch(update_page))
            .fallback(not_a_route)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            // The server ends when the task is aborted (StandIn dropped).
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { base_url: format!("http://{addr}"), inner, task })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues faults; each answers one request, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Replaces the rows.
    pub fn set_rows(&self, rows: Vec<Row>) {
        self.lock().rows = rows;
    }

    /// Applies `f` to the row with `id` (an edit in Notion; `last_edited_time` moves on).
    pub fn edit_row(&self, id: &str, f: impl FnOnce(&mut Row)) {
        let mut st = self.lock();
        let stamp = st.touch();
        if let Some(r) = st.rows.iter_mut().find(|r| r.id == id) {
            f(r);
            r.last_edited = stamp;
        }
    }

    /// The rows as they are now (write-back included).
    pub fn rows(&self) -> Vec<Row> {
        self.lock().rows.clone()
    }

    /// Renames the status property in the schema and in every row (schema drift).
    pub fn rename_status_property(&self, to: &str) {
        self.lock().status_renamed_to = Some(to.to_string());
    }

    /// Makes the status property a `select` (some databases use one): filters must then
    /// say `select`, as in Notion.
    pub fn set_status_is_select(&self, on: bool) {
        self.lock().status_is_select = on;
    }

    /// Gives the database a second data source (API 2025-09-03).
    pub fn set_multi_source(&self, on: bool) {
        self.lock().multi_source = on;
    }

    /// Caps query results like Notion's 10,000-row limit, at `cap` rows.
    pub fn set_result_cap(&self, cap: usize) {
        self.lock().result_cap = cap;
    }

    /// While `Some(status)`, answers every request with that status (a Notion outage);
    /// `None` ends it.
    pub fn set_outage(&self, status: Option<u16>) {
        self.lock().outage = status;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn request_id(n: u64) -> String {
    format!("5a1e0000-0000-4000-8000-{n:012x}")
}

fn error(status: u16, code: &str, message: &str, rid: &str) -> Response {
    let body = json!({"object": "error", "status": status, "code": code, "message": message, "request_id": rid});
    json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string(), rid)
}

fn json_response(status: StatusCode, body: String, rid: &str) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-notion-request-id", v);
    }
    r
}

/// Everything every endpoint does first: record, authenticate, version, fault.
async fn prelude(
    s: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(String, String, Option<Fault>), Response> {
    let (rid, fault, token) = {
        let mut st = lock(s);
        st.request_counter += 1;
        let rid = request_id(st.request_counter);
        st.requests.push(Recorded {
            at: Instant::now(),
            method: method.to_string(),
            path: path.to_string(),
            version: headers.get("notion-version").and_then(|v| v.to_str().ok()).map(str::to_string),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            status: 200,
        });
        let fault = st.outage.map(Fault::Status).or_else(|| st.faults.pop_front());
        (rid, fault, st.token.clone())
    };
    let answer = |s: &Shared, r: Response| {
        if let Some(last) = lock(s).requests.last_mut() {
            last.status = r.status().as_u16();
        }
        r
    };
    let fault = match fault {
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };
    match fault {
        Some(Fault::RateLimited(secs)) => {
            let mut r = error(
                429,
                "rate_limited",
                "This request exceeds the number of requests allowed. Slow down and try again.",
                &rid,
            );
            r.headers_mut().insert("retry-after", HeaderValue::from(secs));
            return Err(answer(s, r));
        }
        Some(Fault::Overloaded(secs)) => {
            let mut r = error(529, "service_overload", "Notion is overloaded. Retry later.", &rid);
            r.headers_mut().insert("retry-after", HeaderValue::from(secs));
            return Err(answer(s, r));
        }
        Some(Fault::Status(code)) => {
            let (c, m) = match code {
                500 => ("internal_server_error", "Unexpected error occurred."),
                503 => ("service_unavailable", "Notion is unavailable, try again later."),
                504 => ("gateway_timeout", "Notion timed out while processing the request."),
                409 => ("conflict_error", "Conflict occurred while saving. Please try again."),
                _ => ("validation_error", "The request was rejected."),
            };
            return Err(answer(s, error(code, c, m, &rid)));
        }
        Some(Fault::EdgeBadGateway) => {
            let mut r = (StatusCode::BAD_GATEWAY, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n").into_response();
            r.headers_mut().insert("content-type", HeaderValue::from_static("text/html"));
            r.headers_mut().insert("cf-ray", HeaderValue::from_static("8f1e2d3c4b5a6978-NRT"));
            return Err(answer(s, r));
        }
        Some(Fault::Unauthorized) => return Err(answer(s, error(401, "unauthorized", "API token is invalid.", &rid))),
        Some(Fault::NotFound) => return Err(answer(s, not_shared(&rid))),
        _ => {}
    }
    let auth_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.strip_prefix("Bearer ") == Some(token.as_str()));
    if !auth_ok {
        return Err(answer(s, error(401, "unauthorized", "API token is invalid.", &rid)));
    }
    let Some(version) = headers.get("notion-version").and_then(|v| v.to_str().ok()).map(str::to_string) else {
        return Err(answer(
            s,
            error(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be defined.",
                &rid,
            ),
        ));
    };
    if version != "2022-06-28" && version != "2025-09-03" {
        return Err(answer(
            s,
            error(
                400,
                "validation_error",
                &format!("Notion-Version {version} is not supported by this stand-in."),
                &rid,
            ),
        ));
    }
    Ok((rid, version, fault))
}

/// The 400 `invalid_request_url` Notion answers when an endpoint is called under the wrong
/// API version, if it is.
fn wrong_version(version: &str, wanted: &str, rid: &str) -> Option<Response> {
    (version != wanted).then(|| error(400, "invalid_request_url", "Invalid request URL.", rid))
}

fn not_shared(rid: &str) -> Response {
    error(
        404,
        "object_not_found",
        &format!(
            "Could not find database with ID: {DATABASE_ID}. Make sure the relevant pages and databases are shared with your integration."
        ),
        rid,
    )
}

fn finish(s: &Shared, status: StatusCode, body: Value, rid: &str, fault: Option<Fault>) -> Response {
    let mut text = body.to_string();
    if fault == Some(Fault::TruncatedJson) {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let r = json_response(status, text, rid);
    if let Some(last) = lock(s).requests.last_mut() {
        last.status = r.status().as_u16();
    }
    r
}

async fn not_a_route(
    State(s): State<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match prelude(&s, &method, uri.path(), &headers, &body).await {
        Err(r) => r,
        Ok((rid, _, _)) => error(400, "invalid_request_url", "Invalid request URL.", &rid),
    }
}

async fn retrieve_database(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, version, fault) = match prelude(&s, &method, &format!("/v1/databases/{id}"), &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !same_id(&id, DATABASE_ID) {
        return not_shared(&rid);
    }
    let st = lock(&s);
    let mut db = json!({
        "object": "database",
        "id": DATABASE_ID,
        "cover": null,
        "icon": {"type": "emoji", "emoji": "🗓️"},
        "created_time": "2026-09-01T02:00:00.000Z",
        "created_by": {"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"},
        "last_edited_by": {"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"},
        "last_edited_time": "2026-11-21T05:44:00.000Z",
        "title": [rich_text("開発環境予約")],
        "description": [rich_text("envsched が読み取る開発環境（stg）の予約表")],
        "is_inline": false,
        "parent": {"type": "page_id", "page_id": "2b4e6a17-3c5d-8012-8e4f-c9a1d3b5e7f0"},
        "url": format!("https://app.notion.com/p/{}", DATABASE_ID.replace('-', "")),
        "public_url": null,
        "archived": false,
        "in_trash": false,
        "request_id": rid,
    });
    if version == "2022-06-28" {
        db["properties"] = schema(&st);
    } else {
        let mut sources = vec![json!({"id": DATA_SOURCE_ID, "name": "開発環境予約"})];
        if st.multi_source {
            sources.push(json!({"id": SECOND_DATA_SOURCE_ID, "name": "アーカイブ"}));
        }
        db["data_sources"] = Value::Array(sources);
        db["is_locked"] = json!(false);
        // Database objects lost their authorship fields with data sources.
        if let Some(o) = db.as_object_mut() {
            o.remove("created_by");
            o.remove("last_edited_by");
        }
    }
    drop(st);
    finish(&s, StatusCode::OK, db, &rid, fault)
}

async fn retrieve_data_source(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, version, fault) = match prelude(&s, &method, &format!("/v1/data_sources/{id}"), &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = wrong_version(&version, "2025-09-03", &rid) {
        return r;
    }
    if !same_id(&id, DATA_SOURCE_ID) {
        return error(404, "object_not_found", &format!("Could not find data source with ID: {id}."), &rid);
    }
    let st = lock(&s);
    let ds = json!({
        "object": "data_source",
        "id": DATA_SOURCE_ID,
        "cover": null,
        "icon": {"type": "emoji", "emoji": "🗓️"},
        "created_time": "2026-09-01T02:00:00.000Z",
        "created_by": {"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"},
        "last_edited_by": {"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"},
        "last_edited_time": "2026-11-21T05:44:00.000Z",
        "title": [rich_text("開発環境予約")],
        "description": [rich_text("envsched が読み取る開発環境（stg）の予約表")],
        "is_inline": false,
        "properties": schema(&st),
        "parent": {"type": "database_id", "database_id": DATABASE_ID},
        "database_parent": {"type": "page_id", "page_id": "2b4e6a17-3c5d-8012-8e4f-c9a1d3b5e7f0"},
        "url": format!("https://app.notion.com/p/{}", DATA_SOURCE_ID.replace('-', "")),
        "public_url": null,
        "in_trash": false,
        "archived": false,
        "request_id": rid,
    });
    drop(st);
    finish(&s, StatusCode::OK, ds, &rid, fault)
}

/// The two query endpoints: which API version each belongs to, and which id it serves.
#[derive(Clone, Copy)]
enum QueryEndpoint {
    /// `POST /v1/databases/{id}/query` (2022-06-28).
    Database,
    /// `POST /v1/data_sources/{id}/query` (2025-09-03).
    DataSource,
}

async fn query_database(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    query_endpoint(QueryEndpoint::Database, s, id, method, headers, body).await
}

async fn query_data_source(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    query_endpoint(QueryEndpoint::DataSource, s, id, method, headers, body).await
}

async fn query_endpoint(
    endpoint: QueryEndpoint,
    s: Shared,
    id: String,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (path, version_wanted) = match endpoint {
        QueryEndpoint::Database => (format!("/v1/databases/{id}/query"), "2022-06-28"),
        QueryEndpoint::DataSource => (format!("/v1/data_sources/{id}/query"), "2025-09-03"),
    };
    let (rid, version, fault) = match prelude(&s, &method, &path, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = wrong_version(&version, version_wanted, &rid) {
        return r;
    }
    match endpoint {
        QueryEndpoint::Database if !same_id(&id, DATABASE_ID) => not_shared(&rid),
        QueryEndpoint::DataSource if !same_id(&id, DATA_SOURCE_ID) => {
            error(404, "object_not_found", &format!("Could not find data source with ID: {id}."), &rid)
        }
        _ => query(&s, &body, &version, &rid, fault),
    }
}

fn query(s: &Shared, body: &Bytes, version: &str, rid: &str, fault: Option<Fault>) -> Response {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) if body.is_empty() => json!({}),
        Err(e) => return error(400, "invalid_json", &format!("Error parsing JSON body: {e}"), rid),
    };
    let page_size = req.get("page_size").and_then(Value::as_u64).unwrap_or(100);
    if page_size == 0 || page_size > 100 {
        return error(400, "validation_error", "body failed validation: body.page_size should be ≤ 100.", rid);
    }
    let st = lock(s);
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let kind = if st.status_is_select { "select" } else { "status" };
    let matches = match req.get("filter") {
        None => Ok(None),
        Some(f) => compile_filter(f, &status_name, kind).map(Some),
    };
    let wanted = match matches {
        Ok(w) => w,
        Err(p) => return error(400, "validation_error", &p, rid),
    };
    let rows: Vec<&Row> = st
        .rows
        .iter()
        .filter(|r| !r.in_trash)
        .filter(|r| wanted.as_ref().is_none_or(|w| w.contains(&r.status)))
        .take(st.result_cap)
        .collect();
    let capped = st
        .rows
        .iter()
        .filter(|r| !r.in_trash)
        .filter(|r| wanted.as_ref().is_none_or(|w| w.contains(&r.status)))
        .count()
        > st.result_cap;
    let start = match req.get("start_cursor").and_then(Value::as_str) {
        None => 0,
        Some(c) => match rows.iter().position(|r| r.id == c) {
            Some(p) => p,
            None => {
                return error(
                    400,
                    "validation_error",
                    &format!("body failed validation: body.start_cursor {c} is not valid."),
                    rid,
                );
            }
        },
    };
    let page_size = usize::try_from(page_size).unwrap_or(100);
    let end = (start + page_size).min(rows.len());
    let mut next = rows.get(end).map(|r| r.id.clone());
    if fault == Some(Fault::CursorLoop) {
        next = rows.first().map(|r| r.id.clone());
    }
    let results: Vec<Value> = rows[start..end].iter().map(|r| page(r, version, &st)).collect();
    let kind = if version == "2022-06-28" { "page_or_database" } else { "page_or_data_source" };
    let mut out = serde_json::Map::new();
    out.insert("object".into(), json!("list"));
    out.insert("results".into(), Value::Array(results));
    out.insert("next_cursor".into(), json!(next));
    out.insert("has_more".into(), json!(next.is_some()));
    out.insert("type".into(), json!(kind));
    out.insert(kind.into(), json!({}));
    if capped && next.is_none() {
        out.insert(
            "request_status".into(),
            json!({"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}),
        );
    }
    out.insert("request_id".into(), json!(rid));
    drop(st);
    finish(s, StatusCode::OK, Value::Object(out), rid, fault)
}

/// The status values a filter accepts; `Err(message)` for a filter Notion would refuse (an
/// unknown property, or a condition of the wrong type for the property).
fn compile_filter(f: &Value, status_name: &str, kind: &str) -> Result<Vec<String>, String> {
    if let Some(any) = f.get("or").and_then(Value::as_array) {
        let mut out = Vec::new();
        for sub in any {
            out.extend(compile_filter(sub, status_name, kind)?);
        }
        return Ok(out);
    }
    let prop = f.get("property").and_then(Value::as_str).unwrap_or("");
    if prop != status_name {
        return Err(format!("Could not find property with name or id: {prop}"));
    }
    let Some(cond) = f.get(kind) else {
        return Err(format!("body failed validation: filter on {prop} must use a {kind} condition."));
    };
    Ok(vec![cond.get("equals").and_then(Value::as_str).unwrap_or("").to_string()])
}

async fn retrieve_page(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, version, fault) = match prelude(&s, &method, &format!("/v1/pages/{id}"), &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = lock(&s);
    let Some(row) = st.rows.iter().find(|r| same_id(&r.id, &id)) else {
        return error(404, "object_not_found", &format!("Could not find page with ID: {id}."), &rid);
    };
    let mut p = page(row, &version, &st);
    p["request_id"] = json!(rid);
    drop(st);
    finish(&s, StatusCode::OK, p, &rid, fault)
}

async fn update_page(
    State(s): State<Shared>,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, version, fault) = match prelude(&s, &method, &format!("/v1/pages/{id}"), &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(400, "invalid_json", &format!("Error parsing JSON body: {e}"), &rid),
    };
    let mut st = lock(&s);
    let Some(pos) = st.rows.iter().position(|r| same_id(&r.id, &id)) else {
        return error(404, "object_not_found", &format!("Could not find page with ID: {id}."), &rid);
    };
    let props = req.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, v) in props {
        if name != "envsched" {
            return error(400, "validation_error", &format!("Could not find property with name or id: {name}"), &rid);
        }
        let Some(items) = v.get("rich_text").and_then(Value::as_array) else {
            return error(400, "validation_error", "body failed validation: rich_text should be an array.", &rid);
        };
        if items.len() > 100 {
            return error(400, "validation_error", "body failed validation: rich_text should have ≤ 100 items.", &rid);
        }
        let mut text = String::new();
        for i in items {
            let c = i.get("text").and_then(|t| t.get("content")).and_then(Value::as_str).unwrap_or("");
            if c.chars().count() > 2000 {
                return error(
                    400,
                    "validation_error",
                    "body failed validation: text.content.length should be ≤ 2000.",
                    &rid,
                );
            }
            text.push_str(c);
        }
        st.rows[pos].feedback = text;
        st.rows[pos].last_edited = st.touch();
    }
    let mut p = page(&st.rows[pos], &version, &st);
    p["last_edited_by"] = json!({"object": "user", "id": BOT_USER});
    p["request_id"] = json!(rid);
    drop(st);
    finish(&s, StatusCode::OK, p, &rid, fault)
}

fn same_id(a: &str, b: &str) -> bool {
    a.replace('-', "").eq_ignore_ascii_case(&b.replace('-', ""))
}

fn rich_text(s: &str) -> Value {
    json!({
        "type": "text",
        "text": {"content": s, "link": null},
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": s,
        "href": null,
    })
}

/// A stable option id for a name (Notion's ids are opaque; these are derived so the schema
/// and the rows agree).
fn option_id(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn option(name: &str, color: &str) -> Value {
    json!({"id": option_id(name), "name": name, "color": color})
}

const STATUSES: [(&str, &str, &str); 3] =
    [("未着手", "default", "To-do"), ("利用中", "blue", "In progress"), ("完了", "green", "Complete")];

fn schema(st: &Inner) -> Value {
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let mut components: Vec<String> = st.rows.iter().flat_map(|r| r.components.clone()).collect();
    components.sort();
    components.dedup();
    let mut envs: Vec<String> = st.rows.iter().filter_map(|r| r.environment.clone()).collect();
    envs.extend(["stg1", "stg2", "stg3", "stg4"].map(String::from));
    envs.sort();
    envs.dedup();
    let described = |name: &str, color: &str| {
        let mut o = option(name, color);
        o["description"] = Value::Null;
        o
    };
    let mut props = serde_json::Map::new();
    props.insert(
        "担当".into(),
        json!({"id": "uJ%7Bc", "name": "担当", "description": null, "type": "people", "people": {}}),
    );
    props.insert("環境".into(), json!({"id": "Hx~n", "name": "環境", "description": null, "type": "select", "select": {"options": envs.iter().map(|e| described(e, "yellow")).collect::<Vec<_>>()}}));
    props.insert("envsched".into(), json!({"id": "%3DvQa", "name": "envsched", "description": "envsched が書き戻す状態（手で編集しないでください）", "type": "rich_text", "rich_text": {}}));
    props.insert(
        "期間".into(),
        json!({"id": "pT%5Ds", "name": "期間", "description": null, "type": "date", "date": {}}),
    );
    props.insert("コンポーネント".into(), json!({"id": "k%40Wd", "name": "コンポーネント", "description": null, "type": "multi_select", "multi_select": {"options": components.iter().map(|c| described(c, "blue")).collect::<Vec<_>>()}}));
    let groups: Vec<Value> = STATUSES
        .iter()
        .map(|(name, color, group)| json!({"id": option_id(group), "name": group, "color": color, "option_ids": [status_option_id(name)]}))
        .collect();
    let options: Vec<Value> = STATUSES
        .iter()
        .map(
            |(name, color, _)| json!({"id": status_option_id(name), "name": name, "color": color, "description": null}),
        )
        .collect();
    if st.status_is_select {
        props.insert(status_name.clone(), json!({"id": "Rb%3Ez", "name": status_name, "description": null, "type": "select", "select": {"options": options}}));
    } else {
        props.insert(status_name.clone(), json!({"id": "Rb%3Ez", "name": status_name, "description": null, "type": "status", "status": {"options": options, "groups": groups}}));
    }
    props.insert(
        "名前".into(),
        json!({"id": "title", "name": "名前", "description": null, "type": "title", "title": {}}),
    );
    Value::Object(props)
}

fn status_option_id(name: &str) -> String {
    if name == "利用中" { "q:Tm".to_string() } else { option_id(name) }
}

/// A page object in the shape `version` returns.
fn page(r: &Row, version: &str, st: &Inner) -> Value {
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let date = match &r.date {
        None => Value::Null,
        Some((start, end, tz)) => json!({"start": start, "end": end, "time_zone": tz}),
    };
    let status_color = STATUSES.iter().find(|(n, _, _)| *n == r.status).map_or("default", |(_, c, _)| c);
    let mut props = serde_json::Map::new();
    props.insert("担当".into(), json!({"id": "uJ%7Bc", "type": "people", "people": []}));
    props.insert(
        "環境".into(),
        json!({"id": "Hx~n", "type": "select", "select": r.environment.as_ref().map(|e| option(e, "yellow"))}),
    );
    props.insert(
        "envsched".into(),
        json!({"id": "%3DvQa", "type": "rich_text", "rich_text": if r.feedback.is_empty() { vec![] } else { vec![rich_text(&r.feedback)] }}),
    );
    props.insert("期間".into(), json!({"id": "pT%5Ds", "type": "date", "date": date}));
    props.insert("コンポーネント".into(), json!({"id": "k%40Wd", "type": "multi_select", "multi_select": r.components.iter().map(|c| option(c, "blue")).collect::<Vec<_>>()}));
    let kind = if st.status_is_select { "select" } else { "status" };
    props.insert(status_name, json!({"id": "Rb%3Ez", "type": kind, kind: {"id": status_option_id(&r.status), "name": r.status, "color": status_color}}));
    props.insert("名前".into(), json!({"id": "title", "type": "title", "title": [rich_text(&r.title)]}));
    let mut p = serde_json::Map::new();
    p.insert("object".into(), json!("page"));
    p.insert("id".into(), json!(r.id));
    p.insert("created_time".into(), json!("2026-11-16T01:12:00.000Z"));
    p.insert("last_edited_time".into(), json!(r.last_edited));
    p.insert("created_by".into(), json!({"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"}));
    p.insert("last_edited_by".into(), json!({"object": "user", "id": "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d"}));
    p.insert("cover".into(), Value::Null);
    p.insert("icon".into(), Value::Null);
    if version == "2022-06-28" {
        p.insert("parent".into(), json!({"type": "database_id", "database_id": DATABASE_ID}));
        p.insert("archived".into(), json!(r.in_trash));
        p.insert("in_trash".into(), json!(r.in_trash));
        p.insert("properties".into(), Value::Object(props));
        p.insert("url".into(), json!(format!("https://app.notion.com/p/{}", r.id.replace('-', ""))));
        p.insert("public_url".into(), Value::Null);
    } else {
        p.insert(
            "parent".into(),
            json!({"type": "data_source_id", "data_source_id": DATA_SOURCE_ID, "database_id": DATABASE_ID}),
        );
        p.insert("in_trash".into(), json!(r.in_trash));
        p.insert("is_archived".into(), json!(r.in_trash));
        p.insert("is_locked".into(), json!(false));
        p.insert("properties".into(), Value::Object(props));
        p.insert("url".into(), json!(format!("https://app.notion.com/p/{}", r.id.replace('-', ""))));
        p.insert("public_url".into(), Value::Null);
        p.insert("archived".into(), json!(r.in_trash));
    }
    Value::Object(p)
}
