//! What every endpoint does first, as one axum extractor: record the request, answer a
//! queued fault, check the token and the `Notion-Version`, in that order, as Notion does.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use envsched_core::NotionApi;
use serde_json::Value;

use super::faults::{Fault, error, json_response, unauthorized};
use super::{Recorded, Shared, lock};

/// A request past the checks every endpoint makes first.
pub(super) struct Call {
    /// The `x-notion-request-id` of the answer.
    pub(super) rid: String,
    /// The `Notion-Version` asked for.
    pub(super) version: NotionApi,
    /// A fault that shapes the normal answer (truncated body, cursor loop).
    pub(super) fault: Option<Fault>,
    /// The request body.
    pub(super) body: Bytes,
    state: Shared,
    /// Where the request was recorded.
    index: usize,
}

impl FromRequest<Shared> for Call {
    type Rejection = Response;

    async fn from_request(req: Request, s: &Shared) -> Result<Self, Response> {
        let (method, path, headers) = (req.method().to_string(), req.uri().path().to_string(), req.headers().clone());
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = Bytes::from_request(req, s).await.map_err(IntoResponse::into_response)?;
        let (index, rid, fault, token) = {
            let mut st = lock(s);
            st.request_counter += 1;
            let rid = format!("5a1e0000-0000-4000-8000-{:012x}", st.request_counter);
            st.requests.push(Recorded {
                at: Instant::now(),
                method,
                path,
                version: header("notion-version"),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                status: 200,
            });
            let fault = st.outage.map(Fault::Status).or_else(|| st.faults.pop_front());
            (st.requests.len() - 1, rid, fault, st.token.clone())
        };
        let mut call = Call { rid, version: NotionApi::default(), fault: None, body, state: s.clone(), index };
        let fault = match fault {
            Some(Fault::Slow(d)) => {
                tokio::time::sleep(d).await;
                None
            }
            other => other,
        };
        if let Some(r) = fault.as_ref().and_then(|f| f.response(&call.rid)) {
            return Err(call.answer(r));
        }
        let bearer = header("authorization");
        if bearer.as_deref().and_then(|v| v.strip_prefix("Bearer ")) != Some(token.as_str()) {
            return Err(call.answer(unauthorized(&call.rid)));
        }
        let Some(version) = header("notion-version") else {
            let message = "Notion-Version header failed validation: Notion-Version header should be defined.";
            return Err(call.answer(error(400, "missing_version", message, &call.rid)));
        };
        let Ok(version) = version.parse::<NotionApi>() else {
            let message = format!("Notion-Version {version} is not supported by this stand-in.");
            return Err(call.answer(error(400, "validation_error", &message, &call.rid)));
        };
        call.version = version;
        call.fault = fault;
        if !version.has_archived()
            && let Some(path) = archived_in(&serde_json::from_slice(&call.body).unwrap_or(Value::Null), "body")
        {
            // 2026-03-11 removed `archived` from every request: Notion refuses it.
            let message = format!("{path} should not be present; archived was removed in 2026-03-11, use in_trash.");
            return Err(call.answer(error(400, "validation_error", &message, &call.rid)));
        }
        Ok(call)
    }
}

impl Call {
    /// `r`, with its status recorded.
    pub(super) fn answer(&self, r: Response) -> Response {
        if let Some(rec) = lock(&self.state).requests.get_mut(self.index) {
            rec.status = r.status().as_u16();
        }
        r
    }

    /// 200 with `body` (cut in half under [`Fault::TruncatedJson`]).
    pub(super) fn ok(&self, body: Value) -> Response {
        let mut text = body.to_string();
        if self.fault == Some(Fault::TruncatedJson) {
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        self.answer(json_response(StatusCode::OK, text, &self.rid))
    }

    /// The 400 `invalid_request_url` Notion answers when an endpoint is called under an API
    /// version that does not have it: `data_sources` (true: 2025-09-03 and later) or not.
    pub(super) fn wrong_version(&self, data_sources: bool) -> Option<Response> {
        (self.version.has_data_sources() != data_sources)
            .then(|| self.answer(error(400, "invalid_request_url", "Invalid request URL.", &self.rid)))
    }
}

/// Where `v` names `archived`, at any depth (a path like `body.filter.archived`).
fn archived_in(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Object(o) => o.iter().find_map(|(k, v)| {
            let here = format!("{path}.{k}");
            if k == "archived" { Some(here) } else { archived_in(v, &here) }
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| archived_in(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The value of `key` in a request's query string (`a=1&b=2`): ids and numbers, no escapes.
pub(super) fn param<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v)
}
