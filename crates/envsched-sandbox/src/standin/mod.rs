//! A Notion stand-in: an HTTP server speaking the parts of the Notion API envsched uses, in
//! the shapes the real API returns (checked by contract tests against the recorded
//! responses), holding rows in memory, with faults that tests switch on per request.
//!
//! Endpoints, by `Notion-Version`:
//!
//! | version | endpoint |
//! |---|---|
//! | all three | `GET /v1/pages/{id}`, `PATCH /v1/pages/{id}` (rich_text write-back), `GET /v1/blocks/{id}/children` (a shared page's `child_database` blocks), `POST /v1/databases`, `POST /v1/comments`, `GET /v1/comments?block_id=` |
//! | 2025-09-03, 2026-03-11 | `GET /v1/data_sources/{id}/templates` (each template is also a page) |
//! | 2022-06-28 | `PATCH /v1/databases/{id}` (select and multi-select options) |
//! | 2025-09-03, 2026-03-11 | `PATCH /v1/data_sources/{id}` (select and multi-select options) |
//! | 2022-06-28 | `GET /v1/databases/{id}` (schema), `POST /v1/databases/{id}/query` |
//! | 2025-09-03, 2026-03-11 | `GET /v1/databases/{id}` (data sources), `GET /v1/data_sources/{id}`, `POST /v1/data_sources/{id}/query` |
//!
//! Under 2026-03-11 no object carries `archived` (only `in_trash`), and a request body
//! naming `archived` anywhere is refused with 400 `validation_error`, as Notion refuses it.
//!
//! Queries honour `page_size` (≤ 100), `start_cursor` (a row id, as Notion's cursors are)
//! and a status/select `equals` filter, alone or under `or`. Errors use Notion's error body
//! (`{"object": "error", "status", "code", "message", "request_id"}`); every response
//! carries `x-notion-request-id`. Faults ([`Fault`]) are consumed one per request, in order.
//!
//! | module | holds |
//! |---|---|
//! | this one | [`StandIn`], its rows ([`Row`]) and what it recorded ([`Recorded`]) |
//! | `routes` | the endpoints |
//! | `call` | the extractor every endpoint starts with: record, fault, token, version |
//! | `faults` | [`Fault`] and Notion's error bodies |
//! | `query` | queries: page size, cursors, the status filter, the result cap |
//! | `shapes` | the JSON of databases, data sources, schemas and pages, per version |
//! | `setup` | `init` and `sync-options`: a page's databases, creating one, replacing options |
//! | `comments` | comments on rows: adding one, listing a row's |

mod call;
mod comments;
mod faults;
mod query;
mod routes;
mod setup;
mod shapes;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

pub use faults::Fault;

/// The database id the stand-in serves by default (the fixtures' database).
pub const DATABASE_ID: &str = "2b4e6a17-3c5d-80f1-9a2e-d41c7e8b5f03";
/// Its data source (API 2025-09-03).
pub const DATA_SOURCE_ID: &str = "2b4e6a17-3c5d-81a9-b6c4-000c2f7e9d18";
/// A second data source, present when [`StandIn::set_multi_source`] is on.
pub const SECOND_DATA_SOURCE_ID: &str = "2b4e6a17-3c5d-81c7-a0d2-000b9e4f1a63";
/// The page the database sits on, shared with the integration.
pub const PARENT_PAGE: &str = "2b4e6a17-3c5d-8012-8e4f-c9a1d3b5e7f0";
/// The person who created the database and its rows.
pub const OWNER: &str = "5a1d9c3e-7b2f-4e8a-9c6d-1f3b5e7a9c2d";
/// The integration's bot user (last editor of written-back rows).
const BOT_USER: &str = "b7e9f1a3-5c2d-4e6f-9a8b-0c1d2e3f4a5b";

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

/// A database made through the API (`POST /v1/databases`); it holds no rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The database id.
    pub id: String,
    /// Its one data source.
    pub data_source_id: String,
    /// The page it is on.
    pub parent: String,
    /// Its title.
    pub title: String,
    /// Its schema, as Notion returns it.
    pub properties: serde_json::Map<String, Value>,
}

/// A comment added to a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The row.
    pub page_id: String,
    /// Its plain text, mentions shown as Notion renders them (`@name`).
    pub text: String,
    /// The users it mentions.
    pub mentions: Vec<String>,
    /// The comment object as served.
    pub body: Value,
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
    /// Pages shared with the integration (databases can be made on them).
    shared_pages: Vec<String>,
    /// Databases made through the API.
    created: Vec<Created>,
    /// The default database's component options once a PATCH set them (until then, the
    /// rows' components).
    component_options: Option<Vec<Value>>,
    /// Comments on rows, oldest first.
    comments: Vec<Comment>,
    /// The integration may read and insert comments.
    comments_allowed: bool,
    /// The data source's templates (pages outside the query's results).
    templates: Vec<Row>,
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
            shared_pages: vec![PARENT_PAGE.to_string()],
            created: Vec::new(),
            component_options: None,
            comments: Vec::new(),
            comments_allowed: true,
            templates: Vec::new(),
        }));
        let app = routes::router(inner.clone());
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

    /// Shares page `id` with the integration: databases can then be made on it.
    pub fn share_page(&self, id: &str) {
        self.lock().shared_pages.push(id.to_string());
    }

    /// The databases made through the API so far.
    pub fn created(&self) -> Vec<Created> {
        self.lock().created.clone()
    }

    /// Gives the data source these templates (the first is the default), served by
    /// `GET /v1/data_sources/{id}/templates` and as pages.
    pub fn set_templates(&self, templates: Vec<Row>) {
        self.lock().templates = templates;
    }

    /// The comments added so far, oldest first.
    pub fn comments(&self) -> Vec<Comment> {
        self.lock().comments.clone()
    }

    /// Gives or takes the "read/insert comments" capabilities (taken: 403).
    pub fn set_comments_allowed(&self, on: bool) {
        self.lock().comments_allowed = on;
    }

    /// The default database's component option names now.
    pub fn component_options(&self) -> Vec<String> {
        let st = self.lock();
        setup::default_options(&st).iter().filter_map(|o| o["name"].as_str().map(str::to_string)).collect()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }
}

/// The stand-in's state, shared by its handlers.
type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}
