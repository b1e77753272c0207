//! The JSON shapes of the objects the stand-in serves, as the recorded responses have them:
//! databases, data sources, schemas and pages, per API version.

use envsched_core::NotionApi;
use serde_json::{Value, json};

use super::{DATA_SOURCE_ID, DATABASE_ID, Inner, OWNER, PARENT_PAGE, Row, SECOND_DATA_SOURCE_ID};

/// What databases and data sources share: the booking table's name, icon, authorship and
/// the flags every object carries (`archived` only before 2026-03-11).
pub(super) fn table(object: &str, id: &str, title: &str, version: NotionApi, rid: &str) -> Value {
    let mut t = json!({
        "object": object,
        "id": id,
        "cover": null,
        "icon": {"type": "emoji", "emoji": "🗓️"},
        "created_time": "2026-09-01T02:00:00.000Z",
        "created_by": {"object": "user", "id": OWNER},
        "last_edited_by": {"object": "user", "id": OWNER},
        "last_edited_time": "2026-11-21T05:44:00.000Z",
        "title": [rich_text(title)],
        "description": [rich_text("envsched が読み取る開発環境（stg）の予約表")],
        "is_inline": false,
        "url": format!("https://app.notion.com/p/{}", id.replace('-', "")),
        "public_url": null,
        "archived": false,
        "in_trash": false,
        "request_id": rid,
    });
    if !version.has_archived()
        && let Some(o) = t.as_object_mut()
    {
        o.remove("archived");
    }
    t
}

/// The database object `version` returns: its schema (2022-06-28) or its data sources.
pub(super) fn database(st: &Inner, version: NotionApi, rid: &str) -> Value {
    let mut db = table("database", DATABASE_ID, "開発環境予約", version, rid);
    db["parent"] = json!({"type": "page_id", "page_id": PARENT_PAGE});
    if !version.has_data_sources() {
        db["properties"] = schema(st);
    } else {
        let mut sources = vec![json!({"id": DATA_SOURCE_ID, "name": "開発環境予約"})];
        if st.multi_source {
            sources.push(json!({"id": SECOND_DATA_SOURCE_ID, "name": "アーカイブ"}));
        }
        db["data_sources"] = Value::Array(sources);
        db["is_locked"] = json!(false);
        // Database objects lost their authorship fields with data sources.
        if let Some(o) = db.as_object_mut() {
            o.remove("created_by");
            o.remove("last_edited_by");
        }
    }
    db
}

/// The data source object (2025-09-03 and later), with the schema.
pub(super) fn data_source(st: &Inner, version: NotionApi, rid: &str) -> Value {
    let mut ds = table("data_source", DATA_SOURCE_ID, "開発環境予約", version, rid);
    ds["properties"] = schema(st);
    ds["parent"] = json!({"type": "database_id", "database_id": DATABASE_ID});
    ds["database_parent"] = json!({"type": "page_id", "page_id": PARENT_PAGE});
    ds
}

pub(super) fn same_id(a: &str, b: &str) -> bool {
    a.replace('-', "").eq_ignore_ascii_case(&b.replace('-', ""))
}

pub(super) fn rich_text(s: &str) -> Value {
    json!({
        "type": "text",
        "text": {"content": s, "link": null},
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": s,
        "href": null,
    })
}

/// A stable option id for a name (Notion's ids are opaque; these are derived so the schema
/// and the rows agree).
fn option_id(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

pub(super) fn option(name: &str, color: &str) -> Value {
    json!({"id": option_id(name), "name": name, "color": color})
}

const STATUSES: [(&str, &str, &str); 3] =
    [("未着手", "default", "To-do"), ("利用中", "blue", "In progress"), ("完了", "green", "Complete")];

fn schema(st: &Inner) -> Value {
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let mut envs: Vec<String> = st.rows.iter().filter_map(|r| r.environment.clone()).collect();
    envs.extend(["stg1", "stg2", "stg3", "stg4"].map(String::from));
    envs.sort();
    envs.dedup();
    let described = |name: &str, color: &str| {
        let mut o = option(name, color);
        o["description"] = Value::Null;
        o
    };
    let mut props = serde_json::Map::new();
    props.insert(
        "担当".into(),
        json!({"id": "uJ%7Bc", "name": "担当", "description": null, "type": "people", "people": {}}),
    );
    props.insert("環境".into(), json!({"id": "Hx~n", "name": "環境", "description": null, "type": "select", "select": {"options": envs.iter().map(|e| described(e, "yellow")).collect::<Vec<_>>()}}));
    props.insert("envsched".into(), json!({"id": "%3DvQa", "name": "envsched", "description": "envsched が書き戻す状態（手で編集しないでください）", "type": "rich_text", "rich_text": {}}));
    props.insert(
        "期間".into(),
        json!({"id": "pT%5Ds", "name": "期間", "description": null, "type": "date", "date": {}}),
    );
    props.insert("コンポーネント".into(), json!({"id": "k%40Wd", "name": "コンポーネント", "description": null, "type": "multi_select", "multi_select": {"options": super::setup::default_options(st)}}));
    let groups: Vec<Value> = STATUSES
        .iter()
        .map(|(name, color, group)| json!({"id": option_id(group), "name": group, "color": color, "option_ids": [status_option_id(name)]}))
        .collect();
    let options: Vec<Value> = STATUSES
        .iter()
        .map(
            |(name, color, _)| json!({"id": status_option_id(name), "name": name, "color": color, "description": null}),
        )
        .collect();
    if st.status_is_select {
        props.insert(status_name.clone(), json!({"id": "Rb%3Ez", "name": status_name, "description": null, "type": "select", "select": {"options": options}}));
    } else {
        props.insert(status_name.clone(), json!({"id": "Rb%3Ez", "name": status_name, "description": null, "type": "status", "status": {"options": options, "groups": groups}}));
    }
    props.insert(
        "名前".into(),
        json!({"id": "title", "name": "名前", "description": null, "type": "title", "title": {}}),
    );
    Value::Object(props)
}

fn status_option_id(name: &str) -> String {
    if name == "利用中" { "q:Tm".to_string() } else { option_id(name) }
}

/// A page object in the shape `version` returns.
pub(super) fn page(r: &Row, version: NotionApi, st: &Inner) -> Value {
    let status_name = st.status_renamed_to.clone().unwrap_or_else(|| "ステータス".to_string());
    let date = match &r.date {
        None => Value::Null,
        Some((start, end, tz)) => json!({"start": start, "end": end, "time_zone": tz}),
    };
    let status_color = STATUSES.iter().find(|(n, _, _)| *n == r.status).map_or("default", |(_, c, _)| c);
    let mut props = serde_json::Map::new();
    props.insert("担当".into(), json!({"id": "uJ%7Bc", "type": "people", "people": []}));
    props.insert(
        "環境".into(),
        json!({"id": "Hx~n", "type": "select", "select": r.environment.as_ref().map(|e| option(e, "yellow"))}),
    );
    props.insert(
        "envsched".into(),
        json!({"id": "%3DvQa", "type": "rich_text", "rich_text": if r.feedback.is_empty() { vec![] } else { vec![rich_text(&r.feedback)] }}),
    );
    props.insert("期間".into(), json!({"id": "pT%5Ds", "type": "date", "date": date}));
    props.insert("コンポーネント".into(), json!({"id": "k%40Wd", "type": "multi_select", "multi_select": r.components.iter().map(|c| option(c, "blue")).collect::<Vec<_>>()}));
    let kind = if st.status_is_select { "select" } else { "status" };
    props.insert(status_name, json!({"id": "Rb%3Ez", "type": kind, kind: {"id": status_option_id(&r.status), "name": r.status, "color": status_color}}));
    props.insert("名前".into(), json!({"id": "title", "type": "title", "title": [rich_text(&r.title)]}));
    let mut p = serde_json::Map::new();
    p.insert("object".into(), json!("page"));
    p.insert("id".into(), json!(r.id));
    p.insert("created_time".into(), json!("2026-11-16T01:12:00.000Z"));
    p.insert("last_edited_time".into(), json!(r.last_edited));
    p.insert("created_by".into(), json!({"object": "user", "id": OWNER}));
    p.insert("last_edited_by".into(), json!({"object": "user", "id": OWNER}));
    p.insert("cover".into(), Value::Null);
    p.insert("icon".into(), Value::Null);
    if !version.has_data_sources() {
        p.insert("parent".into(), json!({"type": "database_id", "database_id": DATABASE_ID}));
        p.insert("archived".into(), json!(r.in_trash));
        p.insert("in_trash".into(), json!(r.in_trash));
        p.insert("properties".into(), Value::Object(props));
        p.insert("url".into(), json!(format!("https://app.notion.com/p/{}", r.id.replace('-', ""))));
        p.insert("public_url".into(), Value::Null);
    } else {
        p.insert(
            "parent".into(),
            json!({"type": "data_source_id", "data_source_id": DATA_SOURCE_ID, "database_id": DATABASE_ID}),
        );
        p.insert("in_trash".into(), json!(r.in_trash));
        p.insert("is_archived".into(), json!(r.in_trash));
        p.insert("is_locked".into(), json!(false));
        p.insert("properties".into(), Value::Object(props));
        p.insert("url".into(), json!(format!("https://app.notion.com/p/{}", r.id.replace('-', ""))));
        p.insert("public_url".into(), Value::Null);
        if version.has_archived() {
            p.insert("archived".into(), json!(r.in_trash));
        }
    }
    Value::Object(p)
}
