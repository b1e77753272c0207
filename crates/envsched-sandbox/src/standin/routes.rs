//! The endpoints. Each starts with a [`Call`]: the request recorded, a queued fault answered,
//! the token and the `Notion-Version` checked, in that order, as Notion does.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::faults::{Fault, error, invalid, json_response, not_found, not_shared, unauthorized};
use super::shapes::{data_source, database, page, same_id};
use super::{BOT_USER, DATA_SOURCE_ID, DATABASE_ID, Recorded, Shared, lock};

/// The stand-in's routes over `state`.
pub(super) fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1/databases/{id}", get(retrieve_database))
        .route("/v1/databases/{id}/query", post(query_database))
        .route("/v1/data_sources/{id}", get(retrieve_data_source))
        .route("/v1/data_sources/{id}/query", post(query_data_source))
        .route("/v1/pages/{id}", get(retrieve_page).patch(update_page))
        .fallback(not_a_route)
        .with_state(state)
}

/// A request past the checks every endpoint makes first.
pub(super) struct Call {
    /// The `x-notion-request-id` of the answer.
    pub(super) rid: String,
    /// The `Notion-Version` asked for.
    pub(super) version: String,
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
        let mut call = Call { rid, version: String::new(), fault: None, body, state: s.clone(), index };
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
        if version != "2022-06-28" && version != "2025-09-03" {
            let message = format!("Notion-Version {version} is not supported by this stand-in.");
            return Err(call.answer(error(400, "validation_error", &message, &call.rid)));
        }
        call.version = version;
        call.fault = fault;
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

    /// The 400 `invalid_request_url` Notion answers when an endpoint is called under another
    /// API version than its own.
    fn wrong_version(&self, wanted: &str) -> Option<Response> {
        (self.version != wanted)
            .then(|| self.answer(error(400, "invalid_request_url", "Invalid request URL.", &self.rid)))
    }
}

async fn not_a_route(call: Call) -> Response {
    call.answer(error(400, "invalid_request_url", "Invalid request URL.", &call.rid))
}

async fn retrieve_database(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if !same_id(&id, DATABASE_ID) {
        return call.answer(not_shared(&call.rid));
    }
    let db = database(&lock(&s), &call.version, &call.rid);
    call.ok(db)
}

async fn retrieve_data_source(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version("2025-09-03") {
        return r;
    }
    if !same_id(&id, DATA_SOURCE_ID) {
        return call.answer(not_found("data source", &id, &call.rid));
    }
    let ds = data_source(&lock(&s), &call.rid);
    call.ok(ds)
}

/// `POST /v1/databases/{id}/query` (2022-06-28).
async fn query_database(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version("2022-06-28") {
        return r;
    }
    if !same_id(&id, DATABASE_ID) {
        return call.answer(not_shared(&call.rid));
    }
    super::query::query(&s, &call)
}

/// `POST /v1/data_sources/{id}/query` (2025-09-03).
async fn query_data_source(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version("2025-09-03") {
        return r;
    }
    if !same_id(&id, DATA_SOURCE_ID) {
        return call.answer(not_found("data source", &id, &call.rid));
    }
    super::query::query(&s, &call)
}

async fn retrieve_page(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let st = lock(&s);
    let Some(row) = st.rows.iter().find(|r| same_id(&r.id, &id)) else {
        drop(st);
        return call.answer(not_found("page", &id, &call.rid));
    };
    let mut p = page(row, &call.version, &st);
    drop(st);
    p["request_id"] = json!(call.rid);
    call.ok(p)
}

/// `PATCH /v1/pages/{id}`: the write-back property's rich text, as Notion validates it.
async fn update_page(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let rid = &call.rid;
    let req: Value = match serde_json::from_slice(&call.body) {
        Ok(v) => v,
        Err(e) => return call.answer(error(400, "invalid_json", &format!("Error parsing JSON body: {e}"), rid)),
    };
    let mut st = lock(&s);
    let Some(pos) = st.rows.iter().position(|r| same_id(&r.id, &id)) else {
        drop(st);
        return call.answer(not_found("page", &id, rid));
    };
    let props = req.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, v) in props {
        match rich_text_content(&name, &v) {
            Ok(text) => {
                st.rows[pos].feedback = text;
                st.rows[pos].last_edited = st.touch();
            }
            Err(message) => {
                drop(st);
                return call.answer(invalid(&message, rid));
            }
        }
    }
    let mut p = page(&st.rows[pos], &call.version, &st);
    drop(st);
    p["last_edited_by"] = json!({"object": "user", "id": BOT_USER});
    p["request_id"] = json!(rid);
    call.ok(p)
}

/// The text a PATCH writes to property `name`, or Notion's validation message.
fn rich_text_content(name: &str, v: &Value) -> Result<String, String> {
    if name != "envsched" {
        return Err(format!("Could not find property with name or id: {name}"));
    }
    let Some(items) = v.get("rich_text").and_then(Value::as_array) else {
        return Err("body failed validation: rich_text should be an array.".into());
    };
    if items.len() > 100 {
        return Err("body failed validation: rich_text should have ≤ 100 items.".into());
    }
    let mut text = String::new();
    for i in items {
        let c = i.get("text").and_then(|t| t.get("content")).and_then(Value::as_str).unwrap_or("");
        if c.chars().count() > 2000 {
            return Err("body failed validation: text.content.length should be ≤ 2000.".into());
        }
        text.push_str(c);
    }
    Ok(text)
}
