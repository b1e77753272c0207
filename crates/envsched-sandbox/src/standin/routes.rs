//! The endpoints. Each starts with a [`Call`](super::call::Call): the request recorded, a
//! queued fault answered, the token and the `Notion-Version` checked, in that order.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::call::Call;
use super::faults::{error, invalid, not_found, not_shared};
use super::setup::{created_data_source, created_database};
use super::shapes::{data_source, database, page, same_id};
use super::{BOT_USER, DATA_SOURCE_ID, DATABASE_ID, Shared, lock};

/// The stand-in's routes over `state`.
pub(super) fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1/databases", post(super::setup::create))
        .route("/v1/databases/{id}", get(retrieve_database).patch(update_database))
        .route("/v1/databases/{id}/query", post(query_database))
        .route("/v1/data_sources/{id}", get(retrieve_data_source).patch(update_data_source))
        .route("/v1/blocks/{id}/children", get(super::setup::children))
        .route("/v1/comments", post(super::comments::create).get(super::comments::list))
        .route("/v1/data_sources/{id}/query", post(query_data_source))
        .route("/v1/data_sources/{id}/templates", get(list_templates))
        .route("/v1/pages/{id}", get(retrieve_page).patch(update_page))
        .fallback(not_a_route)
        .with_state(state)
}

async fn not_a_route(call: Call) -> Response {
    call.answer(error(400, "invalid_request_url", "Invalid request URL.", &call.rid))
}

async fn retrieve_database(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let st = lock(&s);
    let db = if same_id(&id, DATABASE_ID) {
        database(&st, call.version, &call.rid)
    } else if let Some(c) = st.created.iter().find(|c| same_id(&c.id, &id)) {
        created_database(c, call.version, &call.rid)
    } else {
        drop(st);
        return call.answer(not_shared(&call.rid));
    };
    drop(st);
    call.ok(db)
}

async fn retrieve_data_source(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version(true) {
        return r;
    }
    let st = lock(&s);
    let ds = if same_id(&id, DATA_SOURCE_ID) {
        data_source(&st, call.version, &call.rid)
    } else if let Some(c) = st.created.iter().find(|c| same_id(&c.data_source_id, &id)) {
        created_data_source(c, call.version, &call.rid)
    } else {
        drop(st);
        return call.answer(not_found("data source", &id, &call.rid));
    };
    drop(st);
    call.ok(ds)
}

/// `PATCH /v1/databases/{id}`: the schema under 2022-06-28; later versions moved
/// `properties` to the data source.
async fn update_database(s: State<Shared>, id: Path<String>, call: Call) -> Response {
    if call.version.has_data_sources() {
        let message = "body failed validation: properties are updated on the data source since 2025-09-03.";
        return call.answer(invalid(message, &call.rid));
    }
    super::setup::update_schema(s, id, call).await
}

/// `PATCH /v1/data_sources/{id}` (2025-09-03 and later).
async fn update_data_source(s: State<Shared>, id: Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version(true) {
        return r;
    }
    super::setup::update_schema(s, id, call).await
}

/// A created database's (empty) query answer, if `id` is one; `data_sources` picks which
/// of its ids `id` is.
fn created_query(s: &Shared, id: &str, call: &Call, data_sources: bool) -> Option<Response> {
    let st = lock(s);
    st.created.iter().find(|c| same_id(if data_sources { &c.data_source_id } else { &c.id }, id))?;
    drop(st);
    let kind = if data_sources { "page_or_data_source" } else { "page_or_database" };
    Some(call.ok(json!({
        "object": "list", "results": [], "next_cursor": null, "has_more": false,
        "type": kind, kind: {}, "request_id": call.rid,
    })))
}

/// `POST /v1/databases/{id}/query` (2022-06-28).
async fn query_database(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version(false) {
        return r;
    }
    if let Some(r) = created_query(&s, &id, &call, false) {
        return r;
    }
    if !same_id(&id, DATABASE_ID) {
        return call.answer(not_shared(&call.rid));
    }
    super::query::query(&s, &call)
}

/// `POST /v1/data_sources/{id}/query` (2025-09-03 and later).
async fn query_data_source(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version(true) {
        return r;
    }
    if let Some(r) = created_query(&s, &id, &call, true) {
        return r;
    }
    if !same_id(&id, DATA_SOURCE_ID) {
        return call.answer(not_found("data source", &id, &call.rid));
    }
    super::query::query(&s, &call)
}

/// `GET /v1/data_sources/{id}/templates` (2025-09-03 and later): `templates`, not `results`.
async fn list_templates(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    if let Some(r) = call.wrong_version(true) {
        return r;
    }
    if !same_id(&id, DATA_SOURCE_ID) {
        return call.answer(not_found("data source", &id, &call.rid));
    }
    let st = lock(&s);
    let templates: Vec<Value> = st
        .templates
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": t.id, "name": t.title, "is_default": i == 0}))
        .collect();
    drop(st);
    call.ok(json!({"templates": templates, "has_more": false, "next_cursor": null}))
}

async fn retrieve_page(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let st = lock(&s);
    let Some(row) = st.rows.iter().chain(&st.templates).find(|r| same_id(&r.id, &id)) else {
        drop(st);
        return call.answer(not_found("page", &id, &call.rid));
    };
    let mut p = page(row, call.version, &st);
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
    let mut p = page(&st.rows[pos], call.version, &st);
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
