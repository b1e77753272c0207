//! Faults a test queues, and the error bodies Notion answers with.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::DATABASE_ID;

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

impl Fault {
    /// The response this fault answers a request with; `None` for faults that shape a normal
    /// answer instead (slow, truncated, cursor loop).
    pub(super) fn response(&self, rid: &str) -> Option<Response> {
        let retry_after = |mut r: Response, secs: u32| {
            r.headers_mut().insert("retry-after", HeaderValue::from(secs));
            r
        };
        Some(match self {
            Fault::RateLimited(secs) => retry_after(
                error(
                    429,
                    "rate_limited",
                    "This request exceeds the number of requests allowed. Slow down and try again.",
                    rid,
                ),
                *secs,
            ),
            Fault::Overloaded(secs) => {
                retry_after(error(529, "service_overload", "Notion is overloaded. Retry later.", rid), *secs)
            }
            Fault::Status(code) => {
                let (c, m) = match code {
                    500 => ("internal_server_error", "Unexpected error occurred."),
                    503 => ("service_unavailable", "Notion is unavailable, try again later."),
                    504 => ("gateway_timeout", "Notion timed out while processing the request."),
                    409 => ("conflict_error", "Conflict occurred while saving. Please try again."),
                    _ => ("validation_error", "The request was rejected."),
                };
                error(*code, c, m, rid)
            }
            Fault::EdgeBadGateway => {
                let mut r = (StatusCode::BAD_GATEWAY, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n").into_response();
                r.headers_mut().insert("content-type", HeaderValue::from_static("text/html"));
                r.headers_mut().insert("cf-ray", HeaderValue::from_static("8f1e2d3c4b5a6978-NRT"));
                r
            }
            Fault::Unauthorized => unauthorized(rid),
            Fault::NotFound => not_shared(rid),
            Fault::Slow(_) | Fault::TruncatedJson | Fault::CursorLoop => return None,
        })
    }
}

/// Notion's error body with this status, code and message.
pub(super) fn error(status: u16, code: &str, message: &str, rid: &str) -> Response {
    let body = json!({"object": "error", "status": status, "code": code, "message": message, "request_id": rid});
    json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body.to_string(), rid)
}

/// A JSON response carrying the request id, as every Notion response does.
pub(super) fn json_response(status: StatusCode, body: String, rid: &str) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-notion-request-id", v);
    }
    r
}

/// 401 for a token that is wrong or revoked.
pub(super) fn unauthorized(rid: &str) -> Response {
    error(401, "unauthorized", "API token is invalid.", rid)
}

/// 404 for a database that is not shared with the integration.
pub(super) fn not_shared(rid: &str) -> Response {
    error(
        404,
        "object_not_found",
        &format!(
            "Could not find database with ID: {DATABASE_ID}. Make sure the relevant pages and databases are shared with your integration."
        ),
        rid,
    )
}

/// 404 for an object that does not exist (`page`, `data source`).
pub(super) fn not_found(what: &str, id: &str, rid: &str) -> Response {
    error(404, "object_not_found", &format!("Could not find {what} with ID: {id}."), rid)
}

/// 400 for a body Notion would refuse.
pub(super) fn invalid(message: &str, rid: &str) -> Response {
    error(400, "validation_error", message, rid)
}
