//! What `envsched init` and `sync-options` call: the blocks of a shared page
//! (`child_database` blocks), creating a database on it, and replacing a property's
//! options (`PATCH` a data source, or a database under 2022-06-28), with Notion's rules —
//! exactly one title property, an option a PATCH omits is dropped, an option named by an
//! unknown id is an error.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::call::{Call, param};
use super::faults::{invalid, not_found};
use super::shapes::{option, same_id, table};
use super::{Created, DATA_SOURCE_ID, DATABASE_ID, Inner, PARENT_PAGE, Shared, lock};

/// Property types a created schema may use (the ones envsched creates, and people).
const TYPES: [&str; 6] = ["title", "rich_text", "date", "select", "multi_select", "people"];

/// `GET /v1/blocks/{id}/children`: a shared page's databases, as `child_database` blocks.
pub(super) async fn children(
    State(s): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    call: Call,
) -> Response {
    let (page_size, start_cursor) = (
        param(query.as_deref(), "page_size").and_then(|v| v.parse::<usize>().ok()),
        param(query.as_deref(), "start_cursor").map(str::to_string),
    );
    let st = lock(&s);
    if !st.shared_pages.iter().any(|p| same_id(p, &id)) {
        drop(st);
        return call.answer(not_found("block", &id, &call.rid));
    }
    let mut blocks: Vec<(String, String)> = Vec::new();
    if same_id(&id, PARENT_PAGE) {
        blocks.push((DATABASE_ID.to_string(), "開発環境予約".to_string()));
    }
    blocks.extend(st.created.iter().filter(|c| same_id(&c.parent, &id)).map(|c| (c.id.clone(), c.title.clone())));
    drop(st);
    let size = page_size.unwrap_or(100).clamp(1, 100);
    let start = match &start_cursor {
        None => 0,
        Some(c) => match blocks.iter().position(|(b, _)| b == c) {
            Some(p) => p,
            None => return call.answer(invalid(&format!("start_cursor {c} is not valid."), &call.rid)),
        },
    };
    let end = (start + size).min(blocks.len());
    let results: Vec<Value> = blocks[start..end]
        .iter()
        .map(|(db, title)| {
            let mut b = json!({
                "object": "block", "id": db, "parent": {"type": "page_id", "page_id": id},
                "created_time": "2026-09-01T02:00:00.000Z", "last_edited_time": "2026-11-21T05:44:00.000Z",
                "created_by": {"object": "user", "id": super::BOT_USER},
                "last_edited_by": {"object": "user", "id": super::BOT_USER},
                "has_children": false, "in_trash": false,
                "type": "child_database", "child_database": {"title": title},
            });
            if call.version.has_archived() {
                b["archived"] = json!(false);
            }
            b
        })
        .collect();
    let next = blocks.get(end).map(|(b, _)| b.clone());
    call.ok(json!({
        "object": "list", "results": results, "next_cursor": next, "has_more": next.is_some(),
        "type": "block", "block": {}, "request_id": call.rid,
    }))
}

/// `POST /v1/databases`: a database on a shared page, its schema at the top level
/// (2022-06-28) or under `initial_data_source` (later).
pub(super) async fn create(State(s): State<Shared>, call: Call) -> Response {
    let rid = &call.rid;
    let req: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
    let Some(parent) = req.pointer("/parent/page_id").and_then(Value::as_str) else {
        return call.answer(invalid("body failed validation: body.parent.page_id should be defined.", rid));
    };
    let given = if call.version.has_data_sources() {
        if req.get("properties").is_some() {
            return call.answer(invalid(
                "body failed validation: properties is not a top-level field since 2025-09-03; use initial_data_source.properties.",
                rid,
            ));
        }
        req.pointer("/initial_data_source/properties")
    } else {
        req.get("properties")
    };
    let properties = match schema(given) {
        Ok(p) => p,
        Err(message) => return call.answer(invalid(&message, rid)),
    };
    let title: String = req
        .get("title")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.pointer("/text/content").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let mut st = lock(&s);
    if !st.shared_pages.iter().any(|p| same_id(p, parent)) {
        drop(st);
        return call.answer(not_found("page", parent, rid));
    }
    st.request_counter += 1;
    let n = st.request_counter;
    let created = Created {
        id: format!("3c0de000-0000-4000-8000-{n:012x}"),
        data_source_id: format!("3c0de000-0000-4000-9000-{n:012x}"),
        parent: parent.to_string(),
        title,
        properties,
    };
    let db = created_database(&created, call.version, rid);
    st.created.push(created);
    drop(st);
    call.ok(db)
}

/// The database object of a created database, in `version`'s shape.
pub(super) fn created_database(c: &Created, version: envsched_core::NotionApi, rid: &str) -> Value {
    let mut db = table("database", &c.id, &c.title, version, rid);
    db["parent"] = json!({"type": "page_id", "page_id": c.parent});
    if version.has_data_sources() {
        db["data_sources"] = json!([{"id": c.data_source_id, "name": c.title}]);
        db["is_locked"] = json!(false);
        if let Some(o) = db.as_object_mut() {
            o.remove("created_by");
            o.remove("last_edited_by");
        }
    } else {
        db["properties"] = Value::Object(c.properties.clone());
    }
    db
}

/// The data source object of a created database.
pub(super) fn created_data_source(c: &Created, version: envsched_core::NotionApi, rid: &str) -> Value {
    let mut ds = table("data_source", &c.data_source_id, &c.title, version, rid);
    ds["properties"] = Value::Object(c.properties.clone());
    ds["parent"] = json!({"type": "database_id", "database_id": c.id});
    ds["database_parent"] = json!({"type": "page_id", "page_id": c.parent});
    ds
}

/// A request's property configurations as the schema Notion returns: ids, names, types,
/// options with ids and colours. Exactly one title; option names without commas.
fn schema(given: Option<&Value>) -> Result<Map<String, Value>, String> {
    let Some(given) = given.and_then(Value::as_object) else {
        return Err("body failed validation: properties should be an object.".into());
    };
    let mut out = Map::new();
    let mut titles = 0;
    for (i, (name, config)) in given.iter().enumerate() {
        let Some(kind) = TYPES.iter().find(|t| config.get(**t).is_some()) else {
            return Err(format!("body failed validation: property {name:?} has no type this stand-in serves."));
        };
        titles += usize::from(*kind == "title");
        let mut body = config[*kind].clone();
        if let Some(opts) = body.get_mut("options").and_then(Value::as_array_mut) {
            for o in opts.iter_mut() {
                let oname = o.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                if oname.is_empty() || oname.contains(',') {
                    return Err(format!(
                        "body failed validation: option name {oname:?} of {name:?} is empty or has a comma."
                    ));
                }
                let color = o.get("color").and_then(Value::as_str).unwrap_or("default").to_string();
                *o = option(&oname, &color);
                o["description"] = Value::Null;
            }
        }
        let id = if *kind == "title" { "title".to_string() } else { format!("p{i:03}") };
        let description = config.get("description").cloned().unwrap_or(Value::Null);
        out.insert(
            name.clone(),
            json!({"id": id, "name": name, "description": description, "type": kind, *kind: body}),
        );
    }
    if titles != 1 {
        return Err(format!("body failed validation: a database needs exactly one title property, got {titles}."));
    }
    Ok(out)
}

/// `PATCH /v1/data_sources/{id}` (2025-09-03 and later) and `PATCH /v1/databases/{id}`
/// (2022-06-28): each named select or multi-select property gets exactly the options the
/// request lists.
pub(super) async fn update_schema(State(s): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let rid = &call.rid;
    let req: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
    let Some(props) = req.get("properties").and_then(Value::as_object) else {
        return call.answer(invalid("body failed validation: body.properties should be defined.", rid));
    };
    let mut st = lock(&s);
    let is_default = same_id(&id, if call.version.has_data_sources() { DATA_SOURCE_ID } else { DATABASE_ID });
    let created = st
        .created
        .iter()
        .position(|c| same_id(&id, if call.version.has_data_sources() { &c.data_source_id } else { &c.id }));
    if !is_default && created.is_none() {
        drop(st);
        return call.answer(not_found("data source", &id, rid));
    }
    for (name, change) in props {
        let Some((kind, given)) = ["select", "multi_select"]
            .iter()
            .find_map(|k| change.pointer(&format!("/{k}/options")).and_then(Value::as_array).map(|o| (*k, o)))
        else {
            drop(st);
            return call
                .answer(invalid(&format!("body failed validation: {name:?}: only option lists are served."), rid));
        };
        let now = match created {
            Some(i) => st.created[i].properties.get(name).and_then(|p| p.pointer(&format!("/{kind}/options"))).cloned(),
            None if name == "コンポーネント" && kind == "multi_select" => {
                Some(Value::Array(default_options(&st)))
            }
            None => None,
        };
        let Some(Value::Array(now)) = now else {
            drop(st);
            return call.answer(invalid(&format!("Could not find property with name or id: {name}"), rid));
        };
        let next = match replace_options(&now, given) {
            Ok(n) => n,
            Err(message) => {
                drop(st);
                return call.answer(invalid(&message, rid));
            }
        };
        match created {
            Some(i) => st.created[i].properties[name.as_str()][kind]["options"] = Value::Array(next),
            None => st.component_options = Some(next),
        }
    }
    let body = match created {
        Some(i) if call.version.has_data_sources() => created_data_source(&st.created[i], call.version, rid),
        Some(i) => created_database(&st.created[i], call.version, rid),
        None if call.version.has_data_sources() => super::shapes::data_source(&st, call.version, rid),
        None => super::shapes::database(&st, call.version, rid),
    };
    drop(st);
    call.ok(body)
}

/// The default database's component options now.
pub(super) fn default_options(st: &Inner) -> Vec<Value> {
    if let Some(o) = &st.component_options {
        return o.clone();
    }
    let mut components: Vec<String> = st.rows.iter().flat_map(|r| r.components.clone()).collect();
    components.sort();
    components.dedup();
    components
        .iter()
        .map(|c| {
            let mut o = option(c, "blue");
            o["description"] = Value::Null;
            o
        })
        .collect()
}

/// The options after a PATCH listing `given`: exactly those, existing ones named by id or
/// name, new ones added; every option not listed is gone.
fn replace_options(now: &[Value], given: &[Value]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for g in given {
        let by_id = g.get("id").and_then(Value::as_str);
        let name = g.get("name").and_then(Value::as_str);
        let found = now.iter().find(|o| match (by_id, name) {
            (Some(id), _) => o.get("id").and_then(Value::as_str) == Some(id),
            (None, Some(n)) => o.get("name").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case(n)),
            (None, None) => false,
        });
        match (found, by_id, name) {
            (Some(o), _, _) => out.push(o.clone()),
            (None, Some(id), _) => return Err(format!("body failed validation: option id {id} does not exist.")),
            (None, None, Some(n)) if !n.is_empty() && !n.contains(',') => {
                let mut o = option(n, g.get("color").and_then(Value::as_str).unwrap_or("default"));
                o["description"] = Value::Null;
                out.push(o);
            }
            _ => return Err("body failed validation: an option needs an id or a name without commas.".into()),
        }
    }
    Ok(out)
}
