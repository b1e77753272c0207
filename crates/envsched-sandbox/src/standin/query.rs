//! Queries: `page_size` (≤ 100), `start_cursor` (a row id, as Notion's cursors are), a
//! status/select `equals` filter alone or under `or`, and the result cap.

use axum::response::Response;
use serde_json::{Value, json};

use super::call::Call;
use super::faults::{Fault, error, invalid};
use super::shapes::page;
use super::{Row, Shared, lock};

/// A query's answer: one page of the live rows the filter selects.
pub(super) fn query(s: &Shared, call: &Call) -> Response {
    let (body, version, rid, fault) = (&call.body, call.version, call.rid.as_str(), call.fault.clone());
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) if body.is_empty() => json!({}),
        Err(e) => return call.answer(error(400, "invalid_json", &format!("Error parsing JSON body: {e}"), rid)),
    };
    let page_size = req.get("page_size").and_then(Value::as_u64).unwrap_or(100);
    if page_size == 0 || page_size > 100 {
        return call.answer(invalid("body failed validation: body.page_size should be ≤ 100.", rid));
    }
    let st = lock(s);
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let kind = if st.status_is_select { "select" } else { "status" };
    let matches = match req.get("filter") {
        None => Ok(None),
        Some(f) => compile_filter(f, &status_name, kind).map(Some),
    };
    let wanted = match matches {
        Ok(w) => w,
        Err(p) => return call.answer(invalid(&p, rid)),
    };
    let mut rows: Vec<&Row> =
        st.rows.iter().filter(|r| !r.in_trash && wanted.as_ref().is_none_or(|w| w.contains(&r.status))).collect();
    let capped = rows.len() > st.result_cap;
    rows.truncate(st.result_cap);
    let start = match req.get("start_cursor").and_then(Value::as_str) {
        None => 0,
        Some(c) => match rows.iter().position(|r| r.id == c) {
            Some(p) => p,
            None => {
                return call
                    .answer(invalid(&format!("body failed validation: body.start_cursor {c} is not valid."), rid));
            }
        },
    };
    let page_size = usize::try_from(page_size).unwrap_or(100);
    let end = (start + page_size).min(rows.len());
    let mut next = rows.get(end).map(|r| r.id.clone());
    if fault == Some(Fault::CursorLoop) {
        next = rows.first().map(|r| r.id.clone());
    }
    let results: Vec<Value> = rows[start..end].iter().map(|r| page(r, version, &st)).collect();
    let kind = if version.has_data_sources() { "page_or_data_source" } else { "page_or_database" };
    let mut out = serde_json::Map::new();
    out.insert("object".into(), json!("list"));
    out.insert("results".into(), Value::Array(results));
    out.insert("next_cursor".into(), json!(next));
    out.insert("has_more".into(), json!(next.is_some()));
    out.insert("type".into(), json!(kind));
    out.insert(kind.into(), json!({}));
    if capped && next.is_none() {
        out.insert(
            "request_status".into(),
            json!({"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}),
        );
    }
    out.insert("request_id".into(), json!(rid));
    drop(st);
    call.ok(Value::Object(out))
}

/// The status values a filter accepts; `Err(message)` for a filter Notion would refuse (an
/// unknown property, or a condition of the wrong type for the property).
fn compile_filter(f: &Value, status_name: &str, kind: &str) -> Result<Vec<String>, String> {
    if let Some(any) = f.get("or").and_then(Value::as_array) {
        let mut out = Vec::new();
        for sub in any {
            out.extend(compile_filter(sub, status_name, kind)?);
        }
        return Ok(out);
    }
    let prop = f.get("property").and_then(Value::as_str).unwrap_or("");
    if prop != status_name {
        return Err(format!("Could not find property with name or id: {prop}"));
    }
    let Some(cond) = f.get(kind) else {
        return Err(format!("body failed validation: filter on {prop} must use a {kind} condition."));
    };
    Ok(vec![cond.get("equals").and_then(Value::as_str).unwrap_or("").to_string()])
}
