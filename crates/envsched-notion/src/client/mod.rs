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

use std::collections::HashSet;
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

use crate::parse::{ErrorObject, parse_query_response};

mod admin;
mod comments;
mod errors;
mod write_back;

pub use admin::{ChildDatabase, Database, Template};
pub use comments::{Notifier, PREFIX, Told};

use errors::describe;
pub use errors::{ApiError, RetryPolicy};
use write_back::Shown;
pub use write_back::WriteBack;

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
    /// The notices posted so far (`[notify]`).
    notifier: Notifier,
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
                hint: "copy the database id from its URL into [notion] database_id (or make one with `envsched init`)"
                    .into(),
            });
        };
        Self::for_setup(notion, token)
    }

    /// A client that may have no database yet (`envsched init`, which makes one).
    pub fn for_setup(notion: &Notion, token: SecretString) -> Result<Self, SourceError> {
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
            notifier: Notifier::default(),
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

    /// Comments each of `notices` on its row once (see [`Notifier`]).
    pub async fn notify(&self, notices: &[envsched_core::notify::Notice]) -> Told {
        self.notifier.tell(self, notices, &self.notion.window_property).await
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
        let not_json = || ApiError::NotJson { status: status.as_u16(), head: text.chars().take(60).collect() };
        match serde_json::from_str::<Value>(&text) {
            Ok(v) if status == StatusCode::OK => Ok(v),
            Ok(v) => match ErrorObject::read(&v) {
                Some(e) => Err(ApiError::Api {
                    status: status.as_u16(),
                    code: e.code,
                    message: e.message,
                    request_id: e.request_id,
                    retry_after,
                }),
                None => Err(not_json()),
            },
            Err(_) => Err(not_json()),
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

    /// Every item under `key` of a paginated GET of `path` with the query `query`
    /// (`block_id=…`, or empty): pages of 100 followed by `start_cursor` to the end, at most
    /// `max_pages`. The flag says whether the end was reached.
    async fn get_all(
        &self,
        path: &str,
        query: &str,
        key: &str,
        max_pages: usize,
    ) -> Result<(Vec<Value>, bool), ApiError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let query = if query.is_empty() { String::new() } else { format!("{query}&") };
        for _ in 0..max_pages {
            let mut page = format!("{path}?{query}page_size=100");
            if let Some(c) = &cursor {
                page.push_str(&format!("&start_cursor={c}"));
            }
            let v = self.call(Method::GET, &page, None, None).await?;
            out.extend(v.get(key).and_then(Value::as_array).into_iter().flatten().cloned());
            match v.get("next_cursor").and_then(Value::as_str) {
                Some(c) if v.get("has_more").and_then(Value::as_bool) == Some(true) => cursor = Some(c.to_string()),
                _ => return Ok((out, true)),
            }
        }
        Ok((out, false))
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
