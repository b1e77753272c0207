//! The daemon's HTTP endpoints: `GET /live`, `GET /ready`, `GET /metrics`, the status page
//! at `GET /`, and `POST /webhooks/notion`. Read-only except the webhook, which only asks
//! for a cycle.

use std::fmt::Write as _;
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

use crate::daemon::Shared;

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    metrics: PrometheusHandle,
    zone: jiff::tz::TimeZone,
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
pub fn router(
    shared: Arc<Shared>,
    metrics: PrometheusHandle,
    webhook: WebhookReceiver,
    zone: jiff::tz::TimeZone,
) -> Router {
    let hook = envsched_notion::webhook::router(Arc::new(webhook), Arc::new(Wakeup(shared.clone())));
    Router::new()
        .route("/live", get(|| async { "live\n" }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/", get(status_page))
        .with_state(AppState { shared, metrics, zone })
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

/// Escapes text for HTML (every string from Notion passes through here).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn status_page(State(st): State<AppState>) -> Html<String> {
    let status = st.shared.status.read().unwrap_or_else(|p| p.into_inner());
    let local = |t: Timestamp| t.to_zoned(st.zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string();
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>envsched</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>\
         body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}\
         th,td{border-bottom:1px solid #ddd;padding:.3em .7em;text-align:left;vertical-align:top}\
         .up{color:#06702b}.down{color:#777}.warn{color:#9a5b00}</style></head><body><h1>envsched</h1>",
    );
    let ready = match (&status.standby, status.ready(Timestamp::now())) {
        (Some(why), _) => why.clone(),
        (None, Ok(())) => "ready".to_string(),
        (None, Err(e)) => format!("not ready: {e}"),
    };
    let _ = write!(h, "<p>{} · {} cycles", esc(&ready), status.cycles);
    if let Some(w) = status.next_wake {
        let _ = write!(h, " · next look at {} ({})", esc(&local(w.at)), w.reason.label());
    }
    h.push_str("</p>");
    let Some(r) = &status.report else {
        h.push_str("<p>No cycle has completed yet.</p></body></html>");
        return Html(h);
    };
    if let Some(f) = &r.plan.frozen {
        let _ = write!(h, "<p class=\"warn\">Frozen: {}</p>", esc(&f.reason));
    }
    let mut envs: Vec<Option<&str>> = r.plan.targets.iter().map(|t| t.environment.as_deref()).collect();
    envs.sort();
    envs.dedup();
    for env in envs {
        let _ = write!(
            h,
            "<h2>{}</h2><table><tr><th>target</th><th>wanted</th><th>now</th><th>kept up by</th><th>status</th></tr>",
            esc(env.unwrap_or("shared"))
        );
        for t in r.plan.targets.iter().filter(|t| t.environment.as_deref() == env) {
            let wanted = match t.desired {
                envsched_core::DesiredState::Up => "up",
                envsched_core::DesiredState::Down => "down",
            };
            let now = match (t.observed.running_count, t.observed.desired_count) {
                (Some(r), Some(d)) => format!("{} ({r}/{d} tasks)", t.observed.state),
                _ => t.observed.state.clone(),
            };
            let by: Vec<String> = t.bookings.iter().map(|b| esc(&b.title)).collect();
            let until = t.until.map(|u| format!(" until {}", local(u))).unwrap_or_default();
            let detail = t.status.detail().map(|d| format!(": {}", esc(d))).unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"{wanted}\">{wanted}</td><td>{}</td><td>{}{}</td><td>{}{detail}</td></tr>",
                esc(&t.name),
                esc(&now),
                by.join(", "),
                esc(&until),
                t.status.name()
            );
        }
        h.push_str("</table>");
    }
    if !r.plan.problems.is_empty() {
        h.push_str("<h2>Problems</h2><ul>");
        for p in &r.plan.problems {
            let _ = write!(h, "<li class=\"warn\">{}</li>", esc(&p.to_string()));
        }
        h.push_str("</ul>");
    }
    let _ = write!(h, "<p>Last cycle planned for {}.</p></body></html>", esc(&local(r.at)));
    Html(h)
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
