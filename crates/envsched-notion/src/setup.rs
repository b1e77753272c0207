//! Setting the bookings database up and keeping its options with the fleet: the schema
//! `envsched init` creates from a config, and the option list `envsched sync-options` sends.
//!
//! Pure: JSON in, JSON out; the requests are in [`crate::client`].
//!
//! **The status property is created as a `select`**, with the configured active values and
//! the inactive ones given to `init`. envsched reads a select-typed status exactly like a
//! status (the query filter names the type it finds), a select's options can be created and
//! extended through the API under every version envsched speaks, and nothing is left to do
//! by hand. A Notion `status` property could not be given options through the API before
//! 2026-03-19, and its options' groups still cannot be set reliably (the `group` field's
//! shape is undocumented), so a created `status` would need a manual step to be right.
//! People who prefer Notion's status type can convert the property in Notion afterwards:
//! envsched reads either.

use envsched_core::{Config, Selector, TargetSet};
use serde_json::{Map, Value, json};

/// The title property's name when the config does not name one.
pub const DEFAULT_TITLE_PROPERTY: &str = "名前";

/// The properties of a new bookings database for `config`: the title, the status (a
/// select with `active_statuses` then `inactive`), the components (one option per
/// component the targets offer), the date, and, when configured, the environment select
/// (one option per environment) and the write-back text.
pub fn database_properties(config: &Config, inactive: &[String]) -> Value {
    let n = &config.notion;
    let mut props = Map::new();
    let title = n.title_property.as_deref().unwrap_or(DEFAULT_TITLE_PROPERTY);
    props.insert(title.into(), json!({"title": {}}));
    let mut statuses: Vec<(&str, &str)> = n.active_statuses.iter().map(|s| (s.as_str(), "blue")).collect();
    for s in inactive {
        if !statuses.iter().any(|(name, _)| name == s) {
            statuses.push((s.as_str(), "default"));
        }
    }
    props.insert(n.status_property.clone(), json!({"select": {"options": named(statuses)}}));
    let components = config.targets.offered_components();
    props.insert(
        n.components_property.clone(),
        json!({"multi_select": {"options": named(components.iter().map(|c| (c.as_str(), "blue")))}}),
    );
    props.insert(n.window_property.clone(), json!({"date": {}}));
    if let Some(env) = &n.environment_property {
        let envs = config.environments.iter().map(|e| (e.name.as_str(), "yellow"));
        props.insert(env.clone(), json!({"select": {"options": named(envs)}}));
    }
    if let Some(fb) = &n.feedback_property {
        props.insert(
            fb.clone(),
            json!({"rich_text": {}, "description": "written by envsched: the booking's state (do not edit)"}),
        );
    }
    Value::Object(props)
}

fn named<'a>(options: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Value> {
    options.into_iter().map(|(name, color)| json!({"name": name, "color": color})).collect()
}

/// An option the property has now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingOption {
    /// Notion's option id, when the schema gives one.
    pub id: Option<String>,
    /// The option's name.
    pub name: String,
}

/// What `sync-options` changes in the components property: every option it has now stays
/// (Notion drops an option a PATCH omits, so the whole list is always sent), the missing
/// ones are added, and those that select no target are only reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsChange {
    /// The options now, in Notion's order.
    pub existing: Vec<ExistingOption>,
    /// Components the targets offer that are not options yet, sorted.
    pub added: Vec<String>,
    /// Options that select no target (kept: people may use them; remove them in Notion).
    pub unused: Vec<String>,
}

impl OptionsChange {
    /// The change for `property` (the components property's schema object) and `targets`.
    /// A property that is not a multi-select is an error naming what to fix.
    pub fn new(property: &Value, targets: &TargetSet, name: &str) -> Result<OptionsChange, String> {
        let kind = property.get("type").and_then(Value::as_str).unwrap_or("?");
        if kind != "multi_select" {
            return Err(format!(
                "notion.components_property {name:?} is a {kind} property, not a multi_select — point notion.components_property at the components property"
            ));
        }
        let existing: Vec<ExistingOption> = property
            .pointer("/multi_select/options")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|o| {
                        let name = o.get("name").and_then(Value::as_str)?;
                        let id = o.get("id").and_then(Value::as_str).map(str::to_string);
                        Some(ExistingOption { id, name: name.to_string() })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let has = |c: &str| existing.iter().any(|o| o.name.eq_ignore_ascii_case(c));
        let added = targets.offered_components().into_iter().filter(|c| !has(c)).collect();
        let unused = existing
            .iter()
            .filter(|o| Selector::parse(&o.name).map_or(true, |s| targets.select(&s, None).is_empty()))
            .map(|o| o.name.clone())
            .collect();
        Ok(OptionsChange { existing, added, unused })
    }

    /// Whether nothing would be added.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }

    /// The `properties` body of the PATCH: every existing option (by id, or by name when
    /// the schema gave no id) and then the new ones by name.
    pub fn body(&self, property: &str) -> Value {
        let mut options: Vec<Value> = self
            .existing
            .iter()
            .map(|o| match &o.id {
                Some(id) => json!({"id": id}),
                None => json!({"name": o.name}),
            })
            .collect();
        options.extend(self.added.iter().map(|a| json!({"name": a, "color": "blue"})));
        json!({"properties": {property: {"multi_select": {"options": options}}}})
    }
}
