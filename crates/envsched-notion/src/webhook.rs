//! Notion webhooks: events mean "re-query now", never data.
//!
//! * The one-time **verification request** (`{"verification_token": "secret_…"}`) is accepted
//!   while no token is configured — that is how the operator gets it. The token is handed to
//!   the caller to log once, with where to put it (the variable named by
//!   `notion.webhook_token_env`). If the request carries a signature, it must match the token
//!   in the body.
//! * Once a token is configured, a verification-shaped body is checked like any event: signed
//!   with the configured token it is acknowledged and ignored; otherwise it is refused (401)
//!   and the string it carries is neither handed over nor logged. Anyone who can reach the
//!   route can send one, so it must not be able to write into the logs.
//! * Every **event** must carry `X-Notion-Signature: sha256=<hex HMAC-SHA256(raw body,
//!   verification token)>`, checked over the raw bytes (never re-serialized JSON) in constant
//!   time. No token configured, no signature, or a wrong one: rejected (401), never a trigger.
//! * A valid event whose parent is this database (or its data source) triggers a re-fetch.
//!   Delivery is at-least-once: an event id seen before is acknowledged and ignored, so a
//!   replay causes no extra fetch. An event with an empty or missing id is recognised by its
//!   content instead ([`dedupe_key`]). Polling stays the backstop for lost events.
//! * **Refusals are reported sparingly**: the route tells its sink about at most one refused
//!   delivery per [`REFUSAL_REPORT_EVERY`], with the count held back since the last report
//!   ([`RefusalThrottle`]), so a flood of forged requests costs one log line a minute.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-notion-signature";

/// How many recent event ids are remembered for deduplication.
const REMEMBERED_EVENTS: usize = 4096;

/// At most one refused delivery per this long is reported to the sink (see
/// [`RefusalThrottle`]).
pub const REFUSAL_REPORT_EVERY: Duration = Duration::from_secs(60);

/// Whether `header` is `sha256=<hex HMAC-SHA256(body, token)>`, compared in constant time.
pub fn signature_is_valid(body: &[u8], header: Option<&str>, token: &SecretString) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Ok(sig) = hex::decode(hex_sig) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(token.expose_secret().as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The `X-Notion-Signature` value for `body` under `token` (`sha256=<hex>`), as Notion
/// computes it (for tests and tools that send events).
pub fn signature(body: &[u8], token: &SecretString) -> String {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(token.expose_secret().as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length: this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a delivery means.
#[derive(Debug)]
pub enum Delivery {
    /// The subscription's verification request, while no token is configured. Log the token
    /// once and tell the operator to store it in the variable named by
    /// `notion.webhook_token_env`.
    Verification {
        /// The verification token (a secret: the caller logs it exactly once, on purpose).
        token: SecretString,
    },
    /// A valid event about this database's rows: fetch now.
    Refetch {
        /// Event id ([`dedupe_key`]: the content key for an event without one).
        event_id: String,
        /// Event type (`page.properties_updated`, …).
        kind: String,
    },
    /// A valid delivery that needs nothing (another database, a replayed event).
    Ignored {
        /// Why.
        reason: String,
    },
}

/// Why a delivery was refused (answered 401 or 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// No token configured yet, so no event can be trusted.
    #[error("no webhook verification token is configured (notion.webhook_token_env); events cannot be verified")]
    NoToken,
    /// The signature header is missing or does not match the body.
    #[error("X-Notion-Signature is missing or does not match the body")]
    BadSignature,
    /// Signed correctly but not JSON.
    #[error("the body is not JSON")]
    NotJson,
    /// A verification request (`{"verification_token": …}`) arrived while a token is
    /// configured, not signed with that token. Anyone can send one; its token is not logged.
    #[error(
        "a webhook verification request arrived, but a verification token is already configured and it is not signed with it; its token was not logged. To subscribe anew, unset the variable named by notion.webhook_token_env and restart"
    )]
    VerificationWhileConfigured,
}

/// Checks and interprets webhook deliveries for one database.
pub struct WebhookReceiver {
    token: Option<SecretString>,
    database_id: String,
    data_source_id: Option<String>,
    seen: Mutex<VecDeque<String>>,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("database_id", &self.database_id)
            .finish_non_exhaustive()
    }
}

fn same_id(a: &str, b: &str) -> bool {
    a.replace('-', "").eq_ignore_ascii_case(&b.replace('-', ""))
}

impl WebhookReceiver {
    /// A receiver for `database_id` (and its data source, if known), trusting `token`.
    pub fn new(token: Option<SecretString>, database_id: &str, data_source_id: Option<&str>) -> Self {
        WebhookReceiver {
            token,
            database_id: database_id.to_string(),
            data_source_id: data_source_id.map(str::to_string),
            seen: Mutex::new(VecDeque::new()),
        }
    }

    /// Interprets one delivery: raw body bytes and the signature header.
    pub fn receive(&self, body: &[u8], signature: Option<&str>) -> Result<Delivery, Rejected> {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let verification = json.as_ref().and_then(verification_token);
        let Some(token) = &self.token else {
            // The verification request: the only delivery accepted without a stored token.
            let Some(offered) = verification else { return Err(Rejected::NoToken) };
            let offered = SecretString::from(offered);
            if signature.is_some() && !signature_is_valid(body, signature, &offered) {
                return Err(Rejected::BadSignature);
            }
            return Ok(Delivery::Verification { token: offered });
        };
        if verification.is_some() {
            // A token is stored: only Notion (which holds it) can sign with it. Anything else
            // is refused without handing over, or logging, the string it carries.
            if !signature_is_valid(body, signature, token) {
                return Err(Rejected::VerificationWhileConfigured);
            }
            return Ok(Delivery::Ignored {
                reason: "a verification request for the configured token (already stored)".into(),
            });
        }
        if !signature_is_valid(body, signature, token) {
            return Err(Rejected::BadSignature);
        }
        let Some(event) = json else { return Err(Rejected::NotJson) };
        let event_id = dedupe_key(&event);
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("").to_string();
        let parent = event.get("data").and_then(|d| d.get("parent"));
        let ours = parent.is_some_and(|p| {
            p.get("id").and_then(Value::as_str).is_some_and(|id| same_id(id, &self.database_id))
                || p.get("data_source_id")
                    .and_then(Value::as_str)
                    .zip(self.data_source_id.as_deref())
                    .is_some_and(|(a, b)| same_id(a, b))
        });
        if !ours {
            return Ok(Delivery::Ignored {
                reason: format!("{kind} event {event_id} is not about the bookings database"),
            });
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(&event_id) {
            return Ok(Delivery::Ignored { reason: format!("event {event_id} was already delivered") });
        }
        seen.push_back(event_id.clone());
        if seen.len() > REMEMBERED_EVENTS {
            seen.pop_front();
        }
        Ok(Delivery::Refetch { event_id, kind })
    }
}

/// The key a delivered event is deduplicated by: its `id` when that is a non-empty string;
/// otherwise `content:<hex SHA-256>` of the canonical JSON of its `type`, `timestamp`,
/// `entity` and `data`.
///
/// Why not the raw body or its signature: Notion retries a delivery up to 8 times with the
/// next `attempt_number`, so the bytes differ between attempts of one event. `type`,
/// `timestamp`, `entity` and `data` say what happened and are the same in every attempt;
/// two different events differ at least in `timestamp`. Fields added to the envelope later
/// cannot split one event into several. serde_json's map keeps keys sorted, so neither key
/// order nor whitespace changes the key.
pub fn dedupe_key(event: &Value) -> String {
    if let Some(id) = event.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) {
        return id.to_string();
    }
    let field = |name: &str| event.get(name).cloned().unwrap_or(Value::Null);
    let content = serde_json::json!({
        "type": field("type"),
        "timestamp": field("timestamp"),
        "entity": field("entity"),
        "data": field("data"),
    });
    format!("content:{}", hex::encode(Sha256::digest(content.to_string().as_bytes())))
}

fn verification_token(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    (o.len() == 1).then(|| o.get("verification_token")?.as_str().map(str::to_string)).flatten()
}

/// What the route does with an accepted delivery.
pub trait WebhookSink: Send + Sync + 'static {
    /// A re-fetch is wanted now.
    fn refetch(&self, event_id: &str, kind: &str);
    /// The verification token arrived (log it once, with where to put it).
    fn verification(&self, token: &SecretString);
    /// A delivery was refused. Called for at most one refusal per [`REFUSAL_REPORT_EVERY`];
    /// `suppressed` counts the refusals not reported since the previous call.
    fn rejected(&self, why: &Rejected, suppressed: u64);
}

/// Decides which refusals are reported: the first, then at most one per `every`, each
/// carrying the number held back since the previous one. The caller passes the time, so
/// tests drive it without sleeping.
#[derive(Debug)]
pub struct RefusalThrottle {
    every: Duration,
    last_reported: Option<Instant>,
    suppressed: u64,
}

impl RefusalThrottle {
    /// Reports at most one refusal per `every`.
    pub fn new(every: Duration) -> Self {
        RefusalThrottle { every, last_reported: None, suppressed: 0 }
    }

    /// A delivery was refused at `now`. `Some(n)`: report this one, with `n` refusals held
    /// back since the last report. `None`: only counted, to be included in the next report.
    pub fn refused(&mut self, now: Instant) -> Option<u64> {
        match self.last_reported {
            Some(last) if now.saturating_duration_since(last) < self.every => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last_reported = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

struct RouteState<S> {
    receiver: Arc<WebhookReceiver>,
    sink: Arc<S>,
    /// Shared by every request on the route: one budget of log lines for all senders.
    refusals: Arc<Mutex<RefusalThrottle>>,
}

impl<S> Clone for RouteState<S> {
    fn clone(&self) -> Self {
        RouteState { receiver: self.receiver.clone(), sink: self.sink.clone(), refusals: self.refusals.clone() }
    }
}

/// `POST /webhooks/notion`, to be mounted by the daemon.
pub fn router<S: WebhookSink>(receiver: Arc<WebhookReceiver>, sink: Arc<S>) -> Router {
    let refusals = Arc::new(Mutex::new(RefusalThrottle::new(REFUSAL_REPORT_EVERY)));
    Router::new().route("/webhooks/notion", post(handle::<S>)).with_state(RouteState { receiver, sink, refusals })
}

async fn handle<S: WebhookSink>(State(st): State<RouteState<S>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    match st.receiver.receive(&body, signature) {
        Ok(Delivery::Verification { token }) => {
            st.sink.verification(&token);
            StatusCode::OK
        }
        Ok(Delivery::Refetch { event_id, kind }) => {
            st.sink.refetch(&event_id, &kind);
            StatusCode::OK
        }
        Ok(Delivery::Ignored { .. }) => StatusCode::OK,
        Err(e) => {
            let report = st.refusals.lock().unwrap_or_else(|p| p.into_inner()).refused(Instant::now());
            if let Some(suppressed) = report {
                st.sink.rejected(&e, suppressed);
            }
            match e {
                Rejected::NotJson => StatusCode::BAD_REQUEST,
                Rejected::NoToken | Rejected::BadSignature | Rejected::VerificationWhileConfigured => {
                    StatusCode::UNAUTHORIZED
                }
            }
        }
    }
}
