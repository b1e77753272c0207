//! Notion webhooks: events mean "re-query now", never data.
//!
//! * The one-time **verification request** (`{"verification_token": "secret_…"}`) is accepted
//!   whether or not a token is configured yet — that is how the operator gets it. The token is
//!   handed to the caller to log once, with where to put it (the variable named by
//!   `notion.webhook_token_env`). If the request carries a signature, it must match the token
//!   in the body.
//! * Every **event** must carry `X-Notion-Signature: sha256=<hex HMAC-SHA256(raw body,
//!   verification token)>`, checked over the raw bytes (never re-serialized JSON) in constant
//!   time. No token configured, no signature, or a wrong one: rejected (401), never a trigger.
//! * A valid event whose parent is this database (or its data source) triggers a re-fetch.
//!   Delivery is at-least-once: an event id seen before is acknowledged and ignored, so a
//!   replay causes no extra fetch. Polling stays the backstop for lost events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-notion-signature";

/// How many recent event ids are remembered for deduplication.
const REMEMBERED_EVENTS: usize = 4096;

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
    /// The subscription's verification request. Log the token once and tell the operator
    /// to store it in the variable named by `notion.webhook_token_env`.
    Verification {
        /// The verification token (a secret: the caller logs it exactly once, on purpose).
        token: SecretString,
    },
    /// A valid event about this database's rows: fetch now.
    Refetch {
        /// Event id.
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
        // The verification request: the only delivery accepted without a stored token.
        if let Some(token) = json.as_ref().and_then(verification_token) {
            let token = SecretString::from(token);
            if signature.is_some() && !signature_is_valid(body, signature, &token) {
                return Err(Rejected::BadSignature);
            }
            return Ok(Delivery::Verification { token });
        }
        let Some(token) = &self.token else { return Err(Rejected::NoToken) };
        if !signature_is_valid(body, signature, token) {
            return Err(Rejected::BadSignature);
        }
        let Some(event) = json else { return Err(Rejected::NotJson) };
        let event_id = event.get("id").and_then(Value::as_str).unwrap_or("").to_string();
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
        if !event_id.is_empty() && seen.contains(&event_id) {
            return Ok(Delivery::Ignored { reason: format!("event {event_id} was already delivered") });
        }
        seen.push_back(event_id.clone());
        if seen.len() > REMEMBERED_EVENTS {
            seen.pop_front();
        }
        Ok(Delivery::Refetch { event_id, kind })
    }
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
    /// A delivery was refused.
    fn rejected(&self, why: &Rejected);
}

struct RouteState<S> {
    receiver: Arc<WebhookReceiver>,
    sink: Arc<S>,
}

impl<S> Clone for RouteState<S> {
    fn clone(&self) -> Self {
        RouteState { receiver: self.receiver.clone(), sink: self.sink.clone() }
    }
}

/// `POST /webhooks/notion`, to be mounted by the daemon.
pub fn router<S: WebhookSink>(receiver: Arc<WebhookReceiver>, sink: Arc<S>) -> Router {
    Router::new().route("/webhooks/notion", post(handle::<S>)).with_state(RouteState { receiver, sink })
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
            st.sink.rejected(&e);
            match e {
                Rejected::NotJson => StatusCode::BAD_REQUEST,
                Rejected::NoToken | Rejected::BadSignature => StatusCode::UNAUTHORIZED,
            }
        }
    }
}
