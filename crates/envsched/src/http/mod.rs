//! The daemon's HTTP endpoints: `GET /live`, `GET /ready`, `GET /metrics`, the status page
//! at `GET /` and its content at `GET /status.json`, and `POST /webhooks/notion`. Read-only
//! except the webhook, which only asks for a cycle.
//!
//! | module | holds |
//! |---|---|
//! | this one | the router, readiness, metrics, the headers |
//! | `view` | the status model both `/` and `/status.json` show |
//! | `page` | the model as HTML with an SVG timeline |

mod page;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use envsched_notion::webhook::{Rejected, WebhookReceiver, WebhookSink};
use jiff::Timestamp;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;

use envsched_core::Config;

use crate::daemon::Shared;

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    metrics: PrometheusHandle,
    config: Arc<Config>,
    /// The default Region for console links (`[aws] region`, else `AWS_REGION`).
    region: Option<String>,
    /// The upcoming edges, computed once per cycle.
    edges: Arc<view::EdgeCache>,
}

/// Webhook events wake the loop.
struct Wakeup(Arc<Shared>);

impl WebhookSink for Wakeup {
    fn refetch(&self, event_id: &str, kind: &str) {
        tracing::info!(event_id, kind, "Notion webhook: cycle requested");
        self.0.trigger.notify_one();
    }
    fn verification(&self, token: &SecretString) {
        use secrecy::ExposeSecret;
        // Logged once, on purpose: Notion shows it nowhere else, and the operator must paste
        // it back into Notion and store it in the variable named by notion.webhook_token_env.
        tracing::warn!(
            verification_token = token.expose_secret(),
            "Notion webhook verification token received: paste it into Notion's subscription dialog and store it \
             in the variable named by notion.webhook_token_env, then restart"
        );
    }
    fn rejected(&self, why: &Rejected, suppressed: u64) {
        // At most one line a minute (the route throttles): a flood of forged requests must
        // not flood the logs.
        tracing::warn!(
            error.kind = "webhook",
            error.message = %why,
            suppressed,
            "Refused a webhook delivery: {why} ({suppressed} more refused since the previous such line)"
        );
    }
}

/// The router.
pub fn router(shared: Arc<Shared>, metrics: PrometheusHandle, webhook: WebhookReceiver, config: Arc<Config>) -> Router {
    let region = config.aws.region.clone().or_else(|| std::env::var("AWS_REGION").ok());
    let hook = envsched_notion::webhook::router(Arc::new(webhook), Arc::new(Wakeup(shared.clone())));
    Router::new()
        .route("/live", get(|| async { "live\n" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/", get(status_page))
        .route("/status.json", get(status_json))
        .with_state(AppState { shared, metrics, config, region, edges: Arc::new(view::EdgeCache::default()) })
        .merge(hook)
}

async fn ready(State(st): State<AppState>) -> Response {
    let status = st.shared.status.read().unwrap_or_else(|p| p.into_inner());
    // A copy on standby is healthy: it serves, and takes over when the lease is free.
    if let Some(why) = &status.standby {
        return (StatusCode::OK, format!("{why}\n")).into_response();
    }
    match status.ready(Timestamp::now()) {
        // Ready but frozen (the suspicious-drop guard holds): say why, keep serving.
        Ok(()) => match &status.frozen {
            Some(why) => (StatusCode::OK, format!("ready, but frozen: {why}\n")).into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        },
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")).into_response(),
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], st.metrics.render()).into_response()
}

/// What the status page and its JSON send besides the body: no script may run (the page
/// has none), no type sniffing, no framing, no referrer to Notion or AWS.
fn safe_headers() -> [(header::HeaderName, &'static str); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ]
}

fn view(st: &AppState) -> view::StatusView {
    let status = st.shared.status.read().unwrap_or_else(|p| p.into_inner());
    view::build(&status, &st.config, Timestamp::now(), st.region.as_deref(), &st.edges)
}

/// `GET /`: the status page, rendered from the same model as `/status.json`.
async fn status_page(State(st): State<AppState>) -> Response {
    (safe_headers(), Html(page::render(&view(&st)))).into_response()
}

/// `GET /status.json`: the status page's content for scripts and Datadog's HTTP check.
async fn status_json(State(st): State<AppState>) -> Response {
    match serde_json::to_string_pretty(&view(&st)) {
        Ok(body) => (safe_headers(), [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot render the status: {e}\n")).into_response(),
    }
}

/// `envsched healthcheck`: GET /live on `addr`; true when it answers 200.
pub async fn healthcheck(addr: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(format!("GET /live HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(std::time::Duration::from_secs(3), probe).await, Ok(Some(true)))
}
