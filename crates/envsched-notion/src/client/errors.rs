//! How requests fail and are retried: Notion's error bodies, edge and transport errors, and
//! what each becomes for the cycle.

use std::time::Duration;

use envsched_core::SourceError;

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
    pub(super) fn retryable(&self) -> bool {
        match self {
            ApiError::Api { status, .. } => matches!(status, 409 | 429 | 500 | 502 | 503 | 504 | 529),
            ApiError::NotJson { status, .. } => *status >= 500 || *status == 200,
            ApiError::Transport { .. } => true,
        }
    }

    pub(super) fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error as a [`SourceError`], with what to check.
    pub fn into_source_error(self, doing: &str) -> SourceError {
        self.into_source_error_hinted(doing, |_| None)
    }

    /// [`Self::into_source_error`], with `hint(status)` as what to check when it gives one
    /// (a setup command or a comment fails for other reasons than a fetch does).
    pub fn into_source_error_hinted(self, doing: &str, hint: impl FnOnce(u16) -> Option<String>) -> SourceError {
        match self {
            ApiError::Api { status, code, message, request_id, .. } => {
                let hint = hint(status).unwrap_or_else(|| match (status, code.as_str()) {
                    (401, _) => "the token was rejected: check the integration secret in the variable named by notion.token_env (revoked or mistyped?)".to_string(),
                    (403, _) => "the integration lacks a capability: give it \"Read content\" (and \"Update content\" for write-back)".to_string(),
                    (404, _) => "the database is not shared with the integration (database ⋯ → Connections → add it) or notion.database_id / data_source_id is wrong".to_string(),
                    (400, "validation_error") => "a configured property name does not exist in the database: run `envsched check` and compare the [notion] property names".to_string(),
                    (429 | 529, _) => "Notion kept rate-limiting: lower notion.requests_per_second or share fewer integrations' load".to_string(),
                    (500..=599, _) => "Notion is failing: see https://status.notion.so; envsched keeps everything as it is meanwhile".to_string(),
                    _ => "see the message".to_string(),
                });
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

/// reqwest's error, without the URL's query string (which never holds secrets here, but
/// keep it short).
pub(super) fn describe(e: reqwest::Error) -> String {
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
