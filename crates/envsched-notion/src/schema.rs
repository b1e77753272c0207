//! `envsched check`: does the database look the way the config says?
//!
//! Checks each configured property exists with a usable type, that the active statuses are
//! options of the status property, that every component option selects at least one target
//! (the orphans are listed), and that environment options are declared environments. The
//! same check runs when the daemon starts. A property renamed later is caught by the next
//! fetch (a parse error naming it), not read as "no bookings".

use std::fmt::Write;

use envsched_core::{Config, Notion, NotionApi, Selector};
use serde_json::Value;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// As configured.
    Ok,
    /// Works, but probably not what was meant.
    Warning,
    /// envsched cannot work like this.
    Error,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub level: Level,
    /// What was found, and the fix when it is not OK.
    pub text: String,
}

/// The result of a schema check.
#[derive(Debug, Clone, Default)]
pub struct SchemaReport {
    /// Findings in check order.
    pub findings: Vec<Finding>,
}

impl SchemaReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }

    /// The report for people.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let mark = match f.level {
                Level::Ok => "ok     ",
                Level::Warning => "warning",
                Level::Error => "ERROR  ",
            };
            let _ = writeln!(s, "  {mark} {}", f.text);
        }
        s
    }

    fn push(&mut self, level: Level, text: String) {
        self.findings.push(Finding { level, text });
    }
}

fn options(prop: &Value) -> Vec<String> {
    let kind = prop.get("type").and_then(Value::as_str).unwrap_or("");
    prop.get(kind)
        .and_then(|c| c.get("options"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|o| o.get("name").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Checks a database's (or data source's) `properties` against the config.
pub fn check_schema(properties: &Value, config: &Config) -> SchemaReport {
    let mut r = SchemaReport::default();
    check_version(&mut r, config.notion.api_version);
    let empty = serde_json::Map::new();
    let props = properties.as_object().unwrap_or(&empty);
    check_properties(&mut r, props, &config.notion);
    let n = &config.notion;
    if let Some(status) = props.get(&n.status_property) {
        let opts = options(status);
        for s in &n.active_statuses {
            if opts.contains(s) {
                r.push(Level::Ok, format!("active status {s:?} is an option of {:?}", n.status_property));
            } else {
                r.push(
                    Level::Error,
                    format!(
                        "active status {s:?} is not an option of {:?} (options: {opts:?}) — fix notion.active_statuses",
                        n.status_property
                    ),
                );
            }
        }
    }
    if let Some(components) = props.get(&n.components_property) {
        check_components(&mut r, components, config);
    }
    if let Some(env) = n.environment_property.as_ref().and_then(|e| props.get(e)) {
        let unknown: Vec<String> = options(env).into_iter().filter(|o| config.environment(o).is_none()).collect();
        if !unknown.is_empty() {
            r.push(Level::Warning, format!("environment options not declared in [[environments]]: {unknown:?} — rows using them are reported, not acted on"));
        }
    }
    r
}

/// The data source's templates (the common combinations people book): each component a
/// template fills in selects a target, or the template is named with the ones that do not.
pub fn check_templates(templates: &[crate::client::Template], config: &Config) -> Vec<Finding> {
    if templates.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut fine = 0;
    for t in templates {
        let dead: Vec<&str> = t
            .components
            .iter()
            .filter(|c| Selector::parse(c).map_or(true, |s| config.targets.select(&s, None).is_empty()))
            .map(String::as_str)
            .collect();
        if dead.is_empty() {
            fine += 1;
        } else {
            out.push(Finding {
                level: Level::Error,
                text: format!(
                    "template {:?} fills in components that select no target: {} — fix the template in Notion (every booking made from it reports them)",
                    t.name,
                    dead.join(", ")
                ),
            });
        }
    }
    if fine > 0 {
        out.insert(
            0,
            Finding {
                level: Level::Ok,
                text: format!("{fine} of {} templates select only known targets", templates.len()),
            },
        );
    }
    out
}

/// Which `Notion-Version` the config speaks, and whether a newer one exists.
fn check_version(r: &mut SchemaReport, v: NotionApi) {
    if v == NotionApi::NEWEST {
        r.push(Level::Ok, format!("notion.api_version = \"{v}\", the newest envsched speaks"));
    } else {
        let newest = NotionApi::NEWEST;
        r.push(
            Level::Warning,
            format!(
                "notion.api_version = \"{v}\": Notion API {newest} is newer — set notion.api_version = \"{newest}\" (envsched reads and writes the same bookings under it{})",
                if v.has_data_sources() { "" } else { "; the database's data source is found for you" }
            ),
        );
    }
}

/// Every property the config names exists, with a type envsched reads.
fn check_properties(r: &mut SchemaReport, props: &serde_json::Map<String, Value>, n: &Notion) {
    let typed = |types: &[&str]| -> Vec<String> {
        props
            .iter()
            .filter(|(_, v)| v.get("type").and_then(Value::as_str).is_some_and(|t| types.contains(&t)))
            .map(|(k, _)| k.clone())
            .collect()
    };
    let wanted: [(&str, Option<&String>, &[&str]); 6] = [
        ("notion.status_property", Some(&n.status_property), &["status", "select"]),
        ("notion.components_property", Some(&n.components_property), &["multi_select"]),
        ("notion.window_property", Some(&n.window_property), &["date"]),
        ("notion.environment_property", n.environment_property.as_ref(), &["select"]),
        ("notion.feedback_property", n.feedback_property.as_ref(), &["rich_text"]),
        ("notion.title_property", n.title_property.as_ref(), &["title"]),
    ];
    for (key, name, types) in wanted {
        let Some(name) = name else { continue };
        match props.get(name.as_str()) {
            None => {
                let candidates = typed(types);
                r.push(
                    Level::Error,
                    format!(
                        "{key} = {name:?}: no such property; {} properties here: {candidates:?} — set {key} to one of them, or rename the property back in Notion",
                        types.join("/")
                    ),
                );
            }
            Some(p) => {
                let t = p.get("type").and_then(Value::as_str).unwrap_or("?");
                if types.contains(&t) {
                    r.push(Level::Ok, format!("{key} = {name:?} ({t})"));
                } else {
                    r.push(
                        Level::Error,
                        format!(
                            "{key} = {name:?} is a {t} property; envsched needs {} — point {key} at another property",
                            types.join(" or ")
                        ),
                    );
                }
            }
        }
    }
}

/// Every component option selects at least one target.
fn check_components(r: &mut SchemaReport, components: &Value, config: &Config) {
    let opts = options(components);
    let orphans: Vec<&String> = opts
        .iter()
        .filter(|o| Selector::parse(o).map_or(true, |s| config.targets.select(&s, None).is_empty()))
        .collect();
    if orphans.is_empty() {
        r.push(Level::Ok, format!("all {} component options select at least one target", opts.len()));
    } else {
        r.push(
            Level::Error,
            format!(
                "{} of {} component options select no target: {} — remove them in Notion or declare targets whose names start with them",
                orphans.len(),
                opts.len(),
                orphans.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
            ),
        );
    }
}
