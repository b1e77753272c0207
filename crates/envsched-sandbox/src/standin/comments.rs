//! Comments on rows: `POST /v1/comments` (a page comment of text and user mentions) and
//! `GET /v1/comments?block_id=` (a row's comments), in the shapes of the recorded
//! 2026-03-11 responses. Without the "insert comments" capability
//! ([`StandIn::set_comments_allowed`](super::StandIn::set_comments_allowed)) both answer 403.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::call::{Call, param};
use super::faults::{error, invalid, not_found};
use super::shapes::{rich_text, same_id};
use super::{BOT_USER, Comment, OWNER, Shared, lock};

/// Notion's 403 for a capability the integration lacks.
fn forbidden(rid: &str) -> Response {
    error(403, "restricted_resource", "Insufficient permissions for this endpoint.", rid)
}

/// `POST /v1/comments` on a row.
pub(super) async fn create(State(s): State<Shared>, call: Call) -> Response {
    let rid = &call.rid;
    let req: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
    let mut st = lock(&s);
    if !st.comments_allowed {
        drop(st);
        return call.answer(forbidden(rid));
    }
    let Some(page) = req.pointer("/parent/page_id").and_then(Value::as_str).map(str::to_string) else {
        drop(st);
        return call.answer(invalid("body failed validation: body.parent.page_id should be defined.", rid));
    };
    if !st.rows.iter().any(|r| same_id(&r.id, &page)) {
        drop(st);
        return call.answer(not_found("page", &page, rid));
    }
    let Some(parts) = req.get("rich_text").and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        drop(st);
        return call.answer(invalid("body failed validation: body.rich_text should be a non-empty array.", rid));
    };
    let mut out = Vec::new();
    let (mut text, mut mentions) = (String::new(), Vec::new());
    for p in parts {
        match p.get("type").and_then(Value::as_str) {
            Some("text") => {
                let c = p.pointer("/text/content").and_then(Value::as_str).unwrap_or_default();
                text.push_str(c);
                out.push(rich_text(c));
            }
            Some("mention") => {
                let Some(user) = p.pointer("/mention/user/id").and_then(Value::as_str) else {
                    drop(st);
                    return call.answer(invalid("body failed validation: a mention needs mention.user.id.", rid));
                };
                let shown = if user == OWNER { "@利用者 A".to_string() } else { "@Unknown user".to_string() };
                text.push_str(&shown);
                mentions.push(user.to_string());
                let mut m = rich_text(&shown);
                if let Some(o) = m.as_object_mut() {
                    o.remove("text");
                }
                m["type"] = json!("mention");
                m["mention"] = json!({"type": "user", "user": {"object": "user", "id": user}});
                out.push(m);
            }
            _ => {
                drop(st);
                return call.answer(invalid("body failed validation: rich_text items are text or mention.", rid));
            }
        }
    }
    st.request_counter += 1;
    let n = st.request_counter;
    let created = st.touch();
    let comment = json!({
        "object": "comment",
        "id": format!("7c1e0000-0000-4000-8000-{n:012x}"),
        "parent": {"type": "page_id", "page_id": page},
        "discussion_id": format!("4f6a0000-0000-4000-8000-{n:012x}"),
        "created_time": created, "last_edited_time": created,
        "created_by": {"object": "user", "id": BOT_USER},
        "rich_text": out,
    });
    st.comments.push(Comment { page_id: page, text, mentions, body: comment.clone() });
    drop(st);
    let mut body = comment;
    body["request_id"] = json!(rid);
    call.ok(body)
}

/// `GET /v1/comments?block_id=…`: the row's comments, oldest first.
pub(super) async fn list(State(s): State<Shared>, RawQuery(query): RawQuery, call: Call) -> Response {
    let rid = &call.rid;
    let block = param(query.as_deref(), "block_id").map(str::to_string);
    let st = lock(&s);
    if !st.comments_allowed {
        drop(st);
        return call.answer(forbidden(rid));
    }
    let Some(block) = block else {
        drop(st);
        return call.answer(invalid("block_id should be defined.", rid));
    };
    let results: Vec<Value> =
        st.comments.iter().filter(|c| same_id(&c.page_id, &block)).map(|c| c.body.clone()).collect();
    drop(st);
    call.ok(json!({
        "object": "list", "results": results, "next_cursor": null, "has_more": false,
        "type": "comment", "comment": {}, "request_id": rid,
    }))
}
