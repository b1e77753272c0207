//! The Notion API client.
//!
//! * **Versions.** `2022-06-28` queries `POST /v1/databases/{id}/query`; `2025-09-03`
//!   discovers the data source with `GET /v1/databases/{id}` (or uses
//!   `notion.data_source_id`) and queries `POST /v1/data_sources/{id}/query`. A database with
//!   several data sources and no configured one is an error listing them.
//! * **Query.** Filtered server-side on the status only (`or` over `active_statuses`);
//!   windows are evaluated by core. Pages of 100, `next_cursor` followed to the end; a cursor
//!   seen twice, more pages than 10,000 rows need, or `request_status: incomplete` is an
//!   error — never a short list.
//! * **Limits.** Every request (queries, schema, write-back) waits for the client-side rate
//!   limiter (`notion.requests_per_second`, default 3). 429 and 529 are retried after their
//!   `Retry-After`; 5xx, edge errors with a non-JSON body and transport errors with
//!   exponential backoff and jitter. A whole fetch is bounded by `notion.fetch_deadline`.
//! * **Waits are capped**: no single wait exceeds
//!   30 s or a quarter of `notion.fetch_deadline`, whichever is less, so a Notion that asks
//!   for an hour but is back in 20 s is probed again soon; and within a fetch no wait
//!   outlasts what the deadline leaves, less a margin for the retried request (a tenth of
//!   the deadline, at most 1 s). When nothing is left, the fetch ends with Notion's own
//!   answer rather than waiting out the deadline.
//! * **Failures** become [`SourceError`]s that say what happened (status, code, message,
//!   request id) and what to check; the reconcile cycle then freezes.
//! * **Secrets.** The token is a [`SecretString`]: it is sent only in the `Authorization`
//!   header and never appears in `Debug` output or errors.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use envsched_core::config::Notion;
use envsched_core::{Booking, BookingSource, SourceError};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::parse::parse_query_response;

/// How failed requests are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Largest backoff delay (a longer `Retry-After` still wins, within the caps the
    /// [module docs](crate::client) describe).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 5, min_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

/// A request Notion (or the way to it) did not answer with success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Notion's JSON error body.
    Api {
        /// HTTP status.
        status: u16,
        /// `code`.
        code: String,
        /// `message`.
        message: String,
        /// `request_id`.
        request_id: Option<String>,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// A body that is not JSON (an edge proxy's HTML page, a cut connection).
    NotJson {
        /// HTTP status.
        status: u16,
        /// The first characters of the body.
        head: String,
    },
    /// No HTTP answer at all (connect error, timeout).
    Transport {
        /// What reqwest said.
        message: String,
    },
}

impl ApiError {
    fn retryable(&self) -> bool {
        match self {
            ApiError::Api { status, .. } => matches!(status, 409 | 429 | 500 | 502 | 503 | 504 | 529),
            ApiError::NotJson { status, .. } => *status >= 500 || *status == 200,
            ApiError::Transport { .. } => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error as a [`SourceError`], with what to check.
    pub fn into_source_error(self, doing: &str) -> SourceError {
        match self {
            ApiError::Api { status, code, message, request_id, .. } => {
                let hint = match (status, code.as_str()) {
                    (401, _) => "the token was rejected: check the integration secret in the variable named by notion.token_env (revoked or mistyped?)".to_string(),
                    (403, _) => "the integration lacks a capability: give it \"Read content\" (and \"Update content\" for write-back)".to_string(),
                    (404, _) => "the database is not shared with the integration (database ⋯ → Connections → add it) or notion.database_id / data_source_id is wrong".to_string(),
                    (400, "validation_error") => "a configured property name does not exist in the database: run `envsched check` and compare the [notion] property names".to_string(),
                    (429 | 529, _) => "Notion kept rate-limiting: lower notion.requests_per_second or share fewer integrations' load".to_string(),
                    (500..=599, _) => "Notion is failing: see https://status.notion.so; envsched keeps everything as it is meanwhile".to_string(),
                    _ => "see the message".to_string(),
                };
                if status >= 500 || status == 429 {
                    SourceError::Unavailable {
                        message: format!(
                            "{doing}: HTTP {status} {code}: {message}{} after retries; {hint}",
                            request_id.map(|r| format!(" (request_id {r})")).unwrap_or_default()
                        ),
                    }
                } else {
                    SourceError::Rejected { status, code, message: format!("{doing}: {message}"), request_id, hint }
                }
            }
            ApiError::NotJson { status, head } => SourceError::Unavailable {
                message: format!(
                    "{doing}: HTTP {status} with a body that is not JSON ({head:?}) after retries — an edge proxy or a cut connection; Notion is probably degraded"
                ),
            },
            ApiError::Transport { message } => SourceError::Unavailable {
                message: format!(
                    "{doing}: no answer from Notion ({message}) after retries — check the network path (NAT, security group, proxy) to notion.base_url"
                ),
            },
        }
    }
}

/// The longest single wait before a retry, whatever `Retry-After` says: the client probes
/// again at least this often (also at most a quarter of `notion.fetch_deadline`).
const MAX_SINGLE_WAIT: Duration = Duration::from_secs(30);

/// The most a fetch keeps for its retried request when cutting a wait to its deadline (also
/// at most a tenth of the deadline).
const MAX_DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// Spaces requests to at most `rate` per second (no bursts: simple, and within Notion's
/// documented average by construction).
#[derive(Debug)]
struct Limiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Limiter {
    fn new(rate: f64) -> Self {
        let interval = if rate > 0.0 { Duration::from_secs_f64(1.0 / rate) } else { Duration::from_secs(1) };
        Limiter { interval, next: Mutex::new(None) }
    }

    async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// The Notion client. Implements [`BookingSource`].
pub struct NotionClient {
    http: reqwest::Client,
    notion: Notion,
    token: SecretString,
    limiter: Limiter,
    retry: RetryPolicy,
    deadline: Duration,
    /// The data source to query (2025-09-03), configured or discovered once.
    data_source: Mutex<Option<String>>,
    /// Write-back memory, see [`Shown`].
    shown: Mutex<Shown>,
    /// The status property's type (`status` or `select`), read from the schema once: the
    /// query filter must name it.
    status_kind: Mutex<Option<String>>,
}

/// What the write-back knows about the rows.
#[derive(Debug, Default)]
struct Shown {
    /// The text each row is known to show.
    text: HashMap<String, String>,
    /// Each row's `last_edited_time` when its text was last taken from a fetch: the same
    /// snapshot seen again (a cached fetch) must not undo a write made since.
    stamp: HashMap<String, Option<jiff::Timestamp>>,
    /// The rows that were live last time.
    live: HashSet<String>,
    /// Rows a write-back PATCH was answered 404 `object_not_found` for (deleted, or no
    /// longer shared): not written to again until a fetch returns them. Without this, a row
    /// still in the plan's texts was PATCHed, and failed, every cycle.
    gone: HashSet<String>,
}

/// What one write-back pass did.
#[derive(Debug, Default)]
pub struct WriteBack {
    /// Rows patched.
    pub written: usize,
    /// What was written where: `(row id, text)`.
    pub rows: Vec<(String, String)>,
    /// Rows already showing the right text.
    pub unchanged: usize,
    /// Rows that could not be patched, with why. A row Notion answers 404
    /// `object_not_found` for is here once, then counted in `gone`.
    pub failed: Vec<(String, SourceError)>,
    /// Rows not patched because an earlier PATCH found them gone from Notion; they are
    /// written to again once a fetch returns them.
    pub gone: usize,
}

impl fmt::Debug for NotionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotionClient")
            .field("base_url", &self.notion.base_url)
            .field("api_version", &self.notion.api_version)
            .field("database_id", &self.notion.database_id)
            .field("token", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// Reads the token from the environment variable `name`. The error names the variable,
/// never a value.
pub fn token_from_env(name: &str) -> Result<SecretString, String> {
    match std::env::var(name) {
        Ok(t) if !t.trim().is_empty() => Ok(SecretString::from(t.trim().to_string())),
        _ => Err(format!(
            "the environment variable {name} (notion.token_env) is not set: put the Notion integration's secret there (on ECS, inject it from Secrets Manager with the task definition's `secrets`)"
        )),
    }
}

impl NotionClient {
    /// A client for the configured database. Fails when `notion.database_id` is missing.
    pub fn new(notion: &Notion, token: SecretString) -> Result<Self, SourceError> {
        let Some(_) = &notion.database_id else {
            return Err(SourceError::Rejected {
                status: 0,
                code: "not_configured".into(),
                message: "notion.database_id is not set".into(),
                request_id: None,
                hint: "copy the database id from its URL into [notion] database_id".into(),
            });
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(70)) // Notion answers 503 itself after 60 s
            .user_agent(concat!("envsched/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SourceError::Unavailable { message: format!("cannot build the HTTP client: {e}") })?;
        Ok(NotionClient {
            http,
            limiter: Limiter::new(notion.requests_per_second),
            data_source: Mutex::new(notion.data_source_id.clone()),
            notion: notion.clone(),
            token,
            retry: RetryPolicy::default(),
            deadline: notion.fetch_deadline,
            shown: Mutex::new(Shown::default()),
            status_kind: Mutex::new(None),
        })
    }

    /// Forgets what was learned from Notion between fetches (a full resync): the discovered
    /// data source and the status property's type are read again on the next fetch, and each
    /// row's text is taken from that fetch rather than from memory. Which rows were live is
    /// kept, so a row that ends meanwhile is still told `ended`.
    pub fn forget(&self) {
        *self.data_source.lock().unwrap_or_else(|p| p.into_inner()) = self.notion.data_source_id.clone();
        *self.status_kind.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        shown.text.clear();
        shown.stamp.clear();
    }

    /// Replaces the retry policy (tests use short delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn database_id(&self) -> &str {
        self.notion.database_id.as_deref().unwrap_or_default()
    }

    fn legacy(&self) -> bool {
        !self.notion.api_version.has_data_sources()
    }

    /// One HTTP exchange, after the rate limiter.
    async fn once(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        self.limiter.acquire().await;
        let url = format!("{}{path}", self.notion.base_url.trim_end_matches('/'));
        let mut req = self
            .http
            .request(method, url)
            .header("Authorization", format!("Bearer {}", self.token.expose_secret()))
            .header("Notion-Version", self.notion.api_version.as_str());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| ApiError::Transport { message: describe(e) })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(600)));
        let text = resp.text().await.map_err(|e| ApiError::Transport { message: describe(e) })?;
        let parsed: Result<Value, _> = serde_json::from_str(&text);
        match (status, parsed) {
            (StatusCode::OK, Ok(v)) => Ok(v),
            (s, Ok(v)) if v.get("object").and_then(Value::as_str) == Some("error") => Err(ApiError::Api {
                status: s.as_u16(),
                code: v.get("code").and_then(Value::as_str).unwrap_or("unknown").to_string(),
                message: v.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
                request_id: v.get("request_id").and_then(Value::as_str).map(str::to_string),
                retry_after,
            }),
            (s, _) => Err(ApiError::NotJson { status: s.as_u16(), head: text.chars().take(60).collect() }),
        }
    }

    /// One request with retries and backoff (Retry-After wins when longer), each wait capped
    /// by [`Self::wait_before_retry`]. `until` is the fetch's deadline, if the request is
    /// part of one.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        until: Option<Instant>,
    ) -> Result<Value, ApiError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.max_retries)
            .with_jitter();
        (|| self.once(method.clone(), path, body))
            .retry(backoff)
            .when(ApiError::retryable)
            .adjust(|e: &ApiError, next: Option<Duration>| self.wait_before_retry(e, next, until, Instant::now()))
            .await
    }

    /// How long to wait before retrying after `e`, given the backoff's `next` delay (`None`:
    /// retries are used up), the fetch's deadline `until` and the time `now`. `None` stops
    /// retrying, so the caller gets `e` itself.
    ///
    /// * The wait is `Retry-After` when Notion sent one and it is longer than the backoff.
    /// * It is at most 30 s or a quarter of `notion.fetch_deadline`, whichever is less: a
    ///   `Retry-After: 3600` must not keep the client from noticing that Notion is back.
    /// * Within a fetch, it is at most what the deadline leaves less a margin for the retried
    ///   request (a tenth of the deadline, at most 1 s). With no time left, no retry: the
    ///   fetch fails with Notion's answer (HTTP 429 …) instead of a bare deadline error.
    fn wait_before_retry(
        &self,
        e: &ApiError,
        next: Option<Duration>,
        until: Option<Instant>,
        now: Instant,
    ) -> Option<Duration> {
        let backoff = next?;
        let wanted = e.retry_after().map_or(backoff, |ra| ra.max(backoff));
        let wait = wanted.min(MAX_SINGLE_WAIT.min(self.deadline / 4));
        let Some(until) = until else { return Some(wait) };
        let margin = MAX_DEADLINE_MARGIN.min(self.deadline / 10);
        let left = until.saturating_duration_since(now).saturating_sub(margin);
        (!left.is_zero()).then(|| wait.min(left))
    }

    /// The query path, discovering the data source under 2025-09-03.
    async fn query_path(&self, until: Option<Instant>) -> Result<String, SourceError> {
        if self.legacy() {
            return Ok(format!("/v1/databases/{}/query", self.database_id()));
        }
        if let Some(ds) = self.data_source.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(format!("/v1/data_sources/{ds}/query"));
        }
        let db = self
            .call(Method::GET, &format!("/v1/databases/{}", self.database_id()), None, until)
            .await
            .map_err(|e| e.into_source_error("retrieving the database"))?;
        let ids: Vec<String> = db
            .get("data_sources")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|d| d.get("id").and_then(Value::as_str)).map(str::to_string).collect())
            .unwrap_or_default();
        match ids.as_slice() {
            [one] => {
                *self.data_source.lock().unwrap_or_else(|p| p.into_inner()) = Some(one.clone());
                Ok(format!("/v1/data_sources/{one}/query"))
            }
            [] => Err(SourceError::Schema {
                message: "the database lists no data sources (API 2025-09-03); check notion.database_id".into(),
            }),
            many => Err(SourceError::Schema {
                message: format!(
                    "the database has {} data sources ({}); set notion.data_source_id to the one holding the bookings",
                    many.len(),
                    many.join(", ")
                ),
            }),
        }
    }

    /// The schema: the database's (2022-06-28) or data source's (2025-09-03) `properties`.
    pub async fn schema(&self) -> Result<Value, SourceError> {
        self.schema_until(None).await
    }

    /// [`Self::schema`], within a fetch's deadline `until`.
    async fn schema_until(&self, until: Option<Instant>) -> Result<Value, SourceError> {
        let path = if self.legacy() {
            format!("/v1/databases/{}", self.database_id())
        } else {
            let q = self.query_path(until).await?;
            q.trim_end_matches("/query").to_string()
        };
        let v = self
            .call(Method::GET, &path, None, until)
            .await
            .map_err(|e| e.into_source_error("retrieving the schema"))?;
        v.get("properties")
            .cloned()
            .ok_or_else(|| SourceError::Schema { message: format!("GET {path} returned no properties") })
    }

    /// The status property's type, from the schema the first time (one extra request per
    /// process). A missing or wrongly typed property is a schema error naming it.
    async fn status_kind(&self, until: Option<Instant>) -> Result<String, SourceError> {
        if let Some(k) = self.status_kind.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(k);
        }
        let props = self.schema_until(until).await?;
        let name = &self.notion.status_property;
        let kind = match props.get(name).and_then(|p| p.get("type")).and_then(Value::as_str) {
            Some(k @ ("status" | "select")) => k.to_string(),
            Some(other) => {
                return Err(SourceError::Schema {
                    message: format!(
                        "notion.status_property {name:?} is a {other} property; it must be status or select — run `envsched check`"
                    ),
                });
            }
            None => {
                return Err(SourceError::Schema {
                    message: format!(
                        "the database has no property {name:?} (notion.status_property): renamed in Notion? run `envsched check` to see the candidates"
                    ),
                });
            }
        };
        *self.status_kind.lock().unwrap_or_else(|p| p.into_inner()) = Some(kind.clone());
        Ok(kind)
    }

    /// The query body: status filter only, pages of 100.
    fn filter(&self, kind: &str, cursor: Option<&str>) -> Value {
        let any: Vec<Value> = self
            .notion
            .active_statuses
            .iter()
            .map(|s| json!({"property": self.notion.status_property, kind: {"equals": s}}))
            .collect();
        let mut body = json!({"filter": {"or": any}, "page_size": 100});
        if let Some(c) = cursor {
            body["start_cursor"] = json!(c);
        }
        body
    }

    /// Every page of the query; `until` is the fetch's deadline, for the retry waits.
    async fn fetch_all(&self, until: Instant) -> Result<Vec<Booking>, SourceError> {
        let until = Some(until);
        let path = self.query_path(until).await?;
        let kind = self.status_kind(until).await?;
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen: HashSet<String> = HashSet::new();
        // 10,000 rows at 100 per page, plus one: more pages than that cannot be right.
        for page_no in 1..=101 {
            let body = self.filter(&kind, cursor.as_deref());
            let v = self
                .call(Method::POST, &path, Some(&body), until)
                .await
                .map_err(|e| e.into_source_error(&format!("querying bookings (page {page_no})")))?;
            let page = parse_query_response(&v.to_string(), &self.notion)?;
            out.extend(page.bookings);
            match page.next_cursor {
                Some(c) if page.has_more => {
                    if !seen.insert(c.clone()) {
                        return Err(SourceError::Incomplete {
                            message: format!(
                                "Notion returned cursor {c} twice (page {page_no}): the pagination loops, so the list cannot be trusted"
                            ),
                        });
                    }
                    cursor = Some(c);
                }
                _ => return Ok(out),
            }
        }
        Err(SourceError::Incomplete {
            message: "more than 101 pages of results: beyond Notion's 10,000-row cap".into(),
        })
    }

    /// Writes each `(row id, text)` whose row does not already show that text, and `ended` to
    /// rows that were live last time and are gone now (status changed, trashed). `fetched` is
    /// this cycle's fetch: a row's current text there wins over memory, so a person's edit of
    /// the cell is corrected, and a restart reads the state from the rows. No-op without
    /// `notion.feedback_property`. Uses the same rate limiter as queries. Call it only after a
    /// successful fetch and an unfrozen plan: given an empty `fetched` (a failed fetch, or an
    /// empty one the suspicious-drop guard froze), every row would look gone and be told
    /// `ended`. A row Notion answered 404 `object_not_found` for is reported in
    /// [`WriteBack::failed`] once, then skipped (counted in [`WriteBack::gone`]) until a
    /// fetch returns it again.
    pub async fn write_back(&self, texts: &[(String, String)], fetched: &[Booking]) -> WriteBack {
        let mut out = WriteBack::default();
        if self.notion.feedback_property.is_none() {
            return out;
        }
        let (mut todo, live): (Vec<(String, String)>, HashSet<String>) = {
            let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
            for b in fetched {
                // A row edited since we last looked (by a person, or our own write coming
                // back) shows what the fetch says; an unchanged snapshot tells us nothing new.
                if shown.stamp.get(&b.id) != Some(&b.last_edited) {
                    shown.text.insert(b.id.clone(), b.feedback.clone().unwrap_or_default());
                    shown.stamp.insert(b.id.clone(), b.last_edited);
                }
            }
            let live: HashSet<String> = fetched.iter().map(|b| b.id.clone()).collect();
            let mut todo = Vec::new();
            let mut skipped: HashSet<&str> = HashSet::new();
            for (id, text) in texts {
                if shown.gone.contains(id) {
                    skipped.insert(id);
                } else if shown.text.get(id) == Some(text) {
                    out.unchanged += 1;
                } else {
                    todo.push((id.clone(), text.clone()));
                }
            }
            for left in shown.live.difference(&live) {
                if shown.gone.contains(left) {
                    skipped.insert(left);
                } else if shown.text.get(left).map(String::as_str) != Some("ended") {
                    todo.push((left.clone(), "ended".to_string()));
                }
            }
            out.gone = skipped.len();
            (todo, live)
        };
        todo.sort();
        for (id, text) in todo {
            match self.write_feedback(&id, &text).await {
                Ok(()) => {
                    out.written += 1;
                    out.rows.push((id.clone(), text.clone()));
                    self.shown.lock().unwrap_or_else(|p| p.into_inner()).text.insert(id, text);
                }
                Err(SourceError::Rejected { status: 404, code, message, request_id, .. })
                    if code == "object_not_found" =>
                {
                    self.shown.lock().unwrap_or_else(|p| p.into_inner()).gone.insert(id.clone());
                    let hint = format!(
                        "row {id} is gone from Notion (deleted, or no longer shared with the integration); envsched stops writing to it until a fetch returns it again"
                    );
                    out.failed.push((id, SourceError::Rejected { status: 404, code, message, request_id, hint }));
                }
                Err(e) => out.failed.push((id, e)),
            }
        }
        self.shown.lock().unwrap_or_else(|p| p.into_inner()).live = live;
        out
    }

    /// Writes `text` into the row's feedback property (cut to Notion's 2,000 characters).
    pub async fn write_feedback(&self, page_id: &str, text: &str) -> Result<(), SourceError> {
        let Some(prop) = &self.notion.feedback_property else { return Ok(()) };
        let text: String = text.chars().take(2000).collect();
        let body = json!({"properties": {prop: {"rich_text": [{"type": "text", "text": {"content": text}}]}}});
        self.call(Method::PATCH, &format!("/v1/pages/{page_id}"), Some(&body), None)
            .await
            .map(|_| ())
            .map_err(|e| e.into_source_error(&format!("writing back to row {page_id}")))
    }
}

impl BookingSource for NotionClient {
    async fn fetch(&self) -> Result<Vec<Booking>, SourceError> {
        let until = Instant::now() + self.deadline;
        match tokio::time::timeout_at(until, self.fetch_all(until)).await {
            Ok(Ok(bookings)) => {
                // A row the query returns exists again (restored from the trash, shared
                // again): write-back may write to it.
                let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
                for b in &bookings {
                    shown.gone.remove(&b.id);
                }
                Ok(bookings)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SourceError::Unavailable {
                message: format!(
                    "fetching bookings took longer than notion.fetch_deadline ({:?}); Notion is slow or rate-limiting hard",
                    self.deadline
                ),
            }),
        }
    }
}

/// reqwest's error, without the URL's query string (which never holds secrets here, but
/// keep it short).
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body cut short"
    } else {
        "request failed"
    };
    format!("{kind}: {}", e.without_url())
}
