//! Parsing Notion query responses into bookings.
//!
//! Rules (from the API reference and the recorded fixtures):
//!
//! * Properties are found **by name** as configured; each value carries its `type`, which
//!   must be the one envsched expects (status or select for the status, multi_select for
//!   components, date for the window, select for the environment, rich_text for feedback).
//!   A missing property is a schema error naming it — and, when the row has an unmapped
//!   property of the right type (a rename in Notion keeps the property id but changes the
//!   name), suggesting that name. It is never read as "no bookings".
//! * A `date` value of `null` is an undated row ([`Window::Open`]); `YYYY-MM-DD` values are
//!   date-only ([`Window::Days`], end inclusive, `end: null` = that day); date-times with an
//!   offset are exact instants; date-times without an offset are read in the value's
//!   `time_zone` (Notion's request form), first instant at or after the wall time.
//! * `request_status.type == "incomplete"` (the 10,000-result cap) is an error: a short list
//!   would stop environments people booked.
//! * Unknown fields are ignored; key order carries no meaning.

// Parse errors are rare and carry the row and property they name; boxing them would only
// make every caller's match noisier.
#![allow(clippy::result_large_err)]

use std::str::FromStr;

use envsched_core::config::Notion;
use envsched_core::window::first_instant_at_or_after;
use envsched_core::{Booking, SourceError, Window};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::Value;

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPage {
    /// The rows on this page, parsed.
    pub bookings: Vec<Booking>,
    /// `has_more`.
    pub has_more: bool,
    /// `next_cursor`, when `has_more`.
    pub next_cursor: Option<String>,
}

/// A response or row envsched cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON (an HTML error page from the edge, a truncated body).
    #[error("response is not JSON ({message}); the body starts with {head:?}")]
    NotJson {
        /// The JSON error.
        message: String,
        /// The first bytes of the body.
        head: String,
    },
    /// The JSON is not a query result list.
    #[error("response is not a query result: {message}")]
    Shape {
        /// What was expected.
        message: String,
    },
    /// Notion cut the result short (`request_status: incomplete`).
    #[error(
        "Notion cut the result short ({reason}): at most 10,000 rows are returned per query — archive old bookings or filter the database so fewer rows have an active status"
    )]
    Incomplete {
        /// `incomplete_reason`.
        reason: String,
    },
    /// A configured property is absent from a row.
    #[error("row '{title}' ({row}) has no property {property:?}{}; fix: {}", suggestion.as_ref().map(|s| format!(" but has {s:?} of the same type — was it renamed in Notion?")).unwrap_or_default(), fix(.key, suggestion))]
    MissingProperty {
        /// Row title.
        title: String,
        /// Row id.
        row: String,
        /// The configured property name.
        property: String,
        /// The config key naming it.
        key: String,
        /// An unmapped property of the expected type, if there is one.
        suggestion: Option<String>,
    },
    /// A property has an unexpected type.
    #[error(
        "row '{title}' ({row}): property {property:?} is {found}, expected {expected}; fix: point {key} at a {expected} property or change the property's type in Notion"
    )]
    WrongType {
        /// Row title.
        title: String,
        /// Row id.
        row: String,
        /// Property name.
        property: String,
        /// Config key.
        key: String,
        /// Expected type(s).
        expected: String,
        /// Type found.
        found: String,
    },
    /// A property value cannot be read.
    #[error("row '{title}' ({row}): property {property:?}: {message}")]
    BadValue {
        /// Row title.
        title: String,
        /// Row id.
        row: String,
        /// Property name.
        property: String,
        /// What is wrong and what to do.
        message: String,
    },
}

fn fix(key: &str, suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("set {key} = {s:?} in the config, or rename the property back in Notion"),
        None => format!("check {key} in the config against the database's property names"),
    }
}

impl From<ParseError> for SourceError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Incomplete { .. } => SourceError::Incomplete { message: e.to_string() },
            ParseError::NotJson { .. } | ParseError::Shape { .. } => {
                SourceError::Unavailable { message: e.to_string() }
            }
            _ => SourceError::Schema { message: e.to_string() },
        }
    }
}

/// Notion's error object (`"object": "error"`): what the client reads from a failed
/// request, and what a saved query file holds when `curl` ran without `-f`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorObject {
    /// `status` as the body gives it (the HTTP status, when sent).
    pub status: Option<u64>,
    /// `code` (`"unknown"` when missing).
    pub code: String,
    /// `message` (empty when missing).
    pub message: String,
    /// `request_id`.
    pub request_id: Option<String>,
}

impl ErrorObject {
    /// `v` as an error object, or `None` when it is something else.
    pub(crate) fn read(v: &Value) -> Option<ErrorObject> {
        if v.get("object").and_then(Value::as_str) != Some("error") {
            return None;
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Some(ErrorObject {
            status: v.get("status").and_then(Value::as_u64),
            code: text("code").unwrap_or_else(|| "unknown".into()),
            message: text("message").unwrap_or_default(),
            request_id: text("request_id"),
        })
    }

    /// What a saved query file that holds this error says, and what to do.
    fn in_saved_file(&self) -> String {
        let status = self.status.map_or_else(|| "?".to_string(), |s| s.to_string());
        let request = self.request_id.as_ref().map(|r| format!(" (request_id {r})")).unwrap_or_default();
        format!(
            "it is a Notion error: {status} {}: {}{request}; \
             fix what Notion says (token, sharing, database id) and save the query again (curl -f fails instead of saving an error)",
            self.code, self.message
        )
    }
}

/// Parses one query response body (either API version).
pub fn parse_query_response(body: &str, notion: &Notion) -> Result<QueryPage, ParseError> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| ParseError::NotJson { message: e.to_string(), head: body.chars().take(60).collect() })?;
    if let Some(error) = ErrorObject::read(&v) {
        return Err(ParseError::Shape { message: error.in_saved_file() });
    }
    if v.get("object").and_then(Value::as_str) != Some("list") {
        let found = v.get("object").map(Value::to_string).unwrap_or_else(|| "nothing".into());
        return Err(ParseError::Shape { message: format!("\"object\" is {found}, expected \"list\"") });
    }
    if let Some(rs) = v.get("request_status")
        && rs.get("type").and_then(Value::as_str) == Some("incomplete")
    {
        let reason = rs.get("incomplete_reason").and_then(Value::as_str).unwrap_or("unknown").to_string();
        return Err(ParseError::Incomplete { reason });
    }
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::Shape { message: "\"results\" is not an array".into() })?;
    let has_more = v.get("has_more").and_then(Value::as_bool).unwrap_or(false);
    let next_cursor = v.get("next_cursor").and_then(Value::as_str).map(str::to_string);
    if has_more && next_cursor.is_none() {
        return Err(ParseError::Shape { message: "\"has_more\" is true but \"next_cursor\" is missing".into() });
    }
    let bookings = results
        .iter()
        .filter(|p| p.get("object").and_then(Value::as_str) == Some("page"))
        .map(|p| parse_page(p, notion))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryPage { bookings, has_more, next_cursor })
}

/// Parses one page object into a booking.
pub fn parse_page(page: &Value, notion: &Notion) -> Result<Booking, ParseError> {
    let id = page.get("id").and_then(Value::as_str).unwrap_or("").to_string();
    let props = page
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| ParseError::Shape { message: format!("page {id} has no \"properties\" object") })?;
    let row = Row { id: id.clone(), title: title(props, notion), props };

    let status_v = row.require(&notion.status_property, "notion.status_property", &["status", "select"])?;
    let status = status_v
        .get(status_v.get("type").and_then(Value::as_str).unwrap_or("status"))
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();

    let comp_v = row.require(&notion.components_property, "notion.components_property", &["multi_select"])?;
    let components = comp_v
        .get("multi_select")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|o| o.get("name").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default();

    let date_v = row.require(&notion.window_property, "notion.window_property", &["date"])?;
    let window = parse_date(date_v.get("date").unwrap_or(&Value::Null)).map_err(|message| ParseError::BadValue {
        title: row.title.clone(),
        row: id.clone(),
        property: notion.window_property.clone(),
        message,
    })?;

    let environment = match &notion.environment_property {
        None => None,
        Some(name) => {
            let v = row.require(name, "notion.environment_property", &["select"])?;
            v.get("select").and_then(|s| s.get("name")).and_then(Value::as_str).map(str::to_string)
        }
    };
    let feedback = notion.feedback_property.as_ref().and_then(|name| {
        let v = props.get(name)?;
        (v.get("type").and_then(Value::as_str) == Some("rich_text")).then(|| plain_text(v.get("rich_text")))
    });
    let flag = |k: &str| page.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(Booking {
        id,
        title: row.title,
        status,
        components,
        environment,
        window,
        trashed: flag("in_trash") || flag("archived"),
        feedback,
        last_edited: page.get("last_edited_time").and_then(Value::as_str).and_then(|s| Timestamp::from_str(s).ok()),
        url: page.get("url").and_then(Value::as_str).map(str::to_string),
        creator: page.pointer("/created_by/id").and_then(Value::as_str).map(str::to_string),
    })
}

struct Row<'a> {
    id: String,
    title: String,
    props: &'a serde_json::Map<String, Value>,
}

impl Row<'_> {
    fn require(&self, name: &str, key: &str, types: &[&str]) -> Result<&Value, ParseError> {
        let Some(v) = self.props.get(name) else {
            let suggestion = self
                .props
                .iter()
                .find(|(_, v)| v.get("type").and_then(Value::as_str).is_some_and(|t| types.contains(&t)))
                .map(|(k, _)| k.clone());
            return Err(ParseError::MissingProperty {
                title: self.title.clone(),
                row: self.id.clone(),
                property: name.to_string(),
                key: key.to_string(),
                suggestion,
            });
        };
        let found = v.get("type").and_then(Value::as_str).unwrap_or("untyped");
        if !types.contains(&found) {
            return Err(ParseError::WrongType {
                title: self.title.clone(),
                row: self.id.clone(),
                property: name.to_string(),
                key: key.to_string(),
                expected: types.join(" or "),
                found: found.to_string(),
            });
        }
        Ok(v)
    }
}

fn title(props: &serde_json::Map<String, Value>, notion: &Notion) -> String {
    let v = match &notion.title_property {
        Some(name) => props.get(name),
        None => props.values().find(|v| v.get("type").and_then(Value::as_str) == Some("title")),
    };
    v.map(|v| plain_text(v.get("title"))).unwrap_or_default()
}

fn plain_text(rich: Option<&Value>) -> String {
    rich.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i.get("plain_text").and_then(Value::as_str)).collect())
        .unwrap_or_default()
}

/// Parses a `date` property value (`{"start", "end", "time_zone"}` or `null`).
pub fn parse_date(v: &Value) -> Result<Window, String> {
    if v.is_null() {
        return Ok(Window::Open);
    }
    let start = v.get("start").and_then(Value::as_str).ok_or("the date has no start; set one or clear the date")?;
    let end = v.get("end").and_then(Value::as_str);
    let zone = match v.get("time_zone").and_then(Value::as_str) {
        Some(name) => Some(TimeZone::get(name).map_err(|_| format!("time_zone {name:?} is not a known IANA zone"))?),
        None => None,
    };
    let date_only = |s: &str| s.len() == 10;
    if date_only(start) {
        let first = Date::from_str(start).map_err(|e| format!("start {start:?} is not a date: {e}"))?;
        let last = match end {
            None => first,
            Some(e) if date_only(e) => Date::from_str(e).map_err(|err| format!("end {e:?} is not a date: {err}"))?,
            Some(e) => {
                return Err(format!("start {start:?} is a date but end {e:?} has a time; give both a time or neither"));
            }
        };
        return Ok(Window::Days { first, last });
    }
    let instant = |s: &str| -> Result<Timestamp, String> {
        if let Ok(t) = Timestamp::from_str(s) {
            return Ok(t);
        }
        let dt = DateTime::from_str(s).map_err(|e| format!("{s:?} is not a date-time: {e}"))?;
        match &zone {
            Some(z) => Ok(first_instant_at_or_after(dt, z)),
            None => Err(format!("{s:?} has neither an offset nor a time_zone, so its instant is unknown")),
        }
    };
    let start_t = instant(start)?;
    let end_t = match end {
        None => None,
        Some(e) if date_only(e) => {
            return Err(format!("start {start:?} has a time but end {e:?} does not; give both a time or neither"));
        }
        Some(e) => Some(instant(e)?),
    };
    Ok(Window::Span { start: start_t, end: end_t })
}
