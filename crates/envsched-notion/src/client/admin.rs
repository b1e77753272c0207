//! The requests of `envsched init` and `envsched sync-options`: the databases a page holds,
//! creating the bookings database, and replacing the components property's options.
//!
//! These are setup commands a person runs: each request is retried like the others, but
//! none is bounded by `notion.fetch_deadline`.

use envsched_core::SourceError;
use reqwest::Method;
use serde_json::{Value, json};

use super::{ApiError, NotionClient};
use crate::setup::OptionsChange;

/// A database found on a page (a `child_database` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildDatabase {
    /// The database id (the block's id).
    pub id: String,
    /// Its title, as plain text.
    pub title: String,
}

/// A data source template and the components it fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The template's page id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The components its page selects.
    pub components: Vec<String>,
}

/// A database `init` made or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// The database id.
    pub database_id: String,
    /// Its data sources (2025-09-03 and later; empty under 2022-06-28).
    pub data_sources: Vec<String>,
}

/// `e` as a setup error: a 404 or 403 names the page and the capability to grant.
fn setup_error(e: ApiError, doing: &str, what: &str) -> SourceError {
    e.into_source_error_hinted(doing, |status| match status {
        404 => Some(format!("share {what} with the integration (⋯ → Connections → add it), or check the id")),
        403 => Some("give the integration the \"Read content\", \"Update content\" and \"Insert content\" capabilities (Notion → Integrations → Capabilities)".to_string()),
        _ => None,
    })
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|d| d.get("id").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

impl NotionClient {
    /// The databases directly on page `page_id`, every page of its children followed.
    pub async fn child_databases(&self, page_id: &str) -> Result<Vec<ChildDatabase>, SourceError> {
        let (blocks, complete) = self
            .get_all(&format!("/v1/blocks/{page_id}/children"), "", "results", 1000)
            .await
            .map_err(|e| setup_error(e, "listing the parent page's blocks", &format!("the page {page_id}")))?;
        if !complete {
            return Err(SourceError::Incomplete {
                message: format!("the page {page_id} has more than 100,000 blocks"),
            });
        }
        Ok(blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("child_database"))
            .filter_map(|b| {
                let id = b.get("id").and_then(Value::as_str)?;
                let title = b.pointer("/child_database/title").and_then(Value::as_str)?;
                Some(ChildDatabase { id: id.to_string(), title: title.to_string() })
            })
            .collect())
    }

    /// The database `id` and its data sources.
    pub async fn database(&self, id: &str) -> Result<Database, SourceError> {
        let v = self
            .call(Method::GET, &format!("/v1/databases/{id}"), None, None)
            .await
            .map_err(|e| setup_error(e, "retrieving the database", &format!("the database {id}")))?;
        Ok(Database { database_id: id.to_string(), data_sources: ids(&v, "data_sources") })
    }

    /// Creates a database titled `title` on page `page_id` with `properties` (a schema such
    /// as [`crate::setup::database_properties`] gives), in the shape the configured API
    /// version takes (`initial_data_source` from 2025-09-03 on).
    pub async fn create_database(
        &self,
        page_id: &str,
        title: &str,
        description: &str,
        properties: Value,
    ) -> Result<Database, SourceError> {
        let mut body = json!({
            "parent": {"type": "page_id", "page_id": page_id},
            "title": [{"type": "text", "text": {"content": title}}],
            "description": [{"type": "text", "text": {"content": description}}],
            "is_inline": false,
        });
        if self.legacy() {
            body["properties"] = properties;
        } else {
            body["initial_data_source"] = json!({"properties": properties});
        }
        let v = self
            .call(Method::POST, "/v1/databases", Some(&body), None)
            .await
            .map_err(|e| setup_error(e, "creating the database", &format!("the page {page_id}")))?;
        let Some(id) = v.get("id").and_then(Value::as_str) else {
            return Err(SourceError::Schema { message: "Notion created a database but returned no id".into() });
        };
        Ok(Database { database_id: id.to_string(), data_sources: ids(&v, "data_sources") })
    }

    /// The data source's templates (2025-09-03 and later; empty under 2022-06-28, which
    /// cannot list them), each with the components its page selects:
    /// `GET /v1/data_sources/{id}/templates`, then each template as a page.
    pub async fn templates(&self) -> Result<Vec<Template>, SourceError> {
        if self.legacy() {
            return Ok(Vec::new());
        }
        let base = self.query_path(None).await?.trim_end_matches("/query").to_string();
        let (templates, _) = self
            .get_all(&format!("{base}/templates"), "", "templates", 100)
            .await
            .map_err(|e| setup_error(e, "listing the data source's templates", "the database"))?;
        let listed: Vec<(String, String)> = templates
            .iter()
            .filter_map(|t| Some((t.get("id")?.as_str()?.to_string(), t.get("name")?.as_str()?.to_string())))
            .collect();
        let mut out = Vec::new();
        for (id, name) in listed {
            let page = self
                .call(Method::GET, &format!("/v1/pages/{id}"), None, None)
                .await
                .map_err(|e| setup_error(e, &format!("reading the template {name:?}"), "the database"))?;
            let components = page
                .pointer(&format!(
                    "/properties/{}/multi_select",
                    self.notion.components_property.replace('~', "~0").replace('/', "~1")
                ))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|o| o.get("name").and_then(Value::as_str)).map(str::to_string).collect())
                .unwrap_or_default();
            out.push(Template { id, name, components });
        }
        Ok(out)
    }

    /// What `sync-options` would change in the components property for `targets`.
    pub async fn options_change(&self, targets: &envsched_core::TargetSet) -> Result<OptionsChange, SourceError> {
        let name = &self.notion.components_property;
        let props = self.schema().await?;
        let Some(property) = props.get(name) else {
            return Err(SourceError::Schema {
                message: format!(
                    "the database has no property {name:?} (notion.components_property): run `envsched check` to see the candidates"
                ),
            });
        };
        OptionsChange::new(property, targets, name).map_err(|message| SourceError::Schema { message })
    }

    /// Adds the change's options (sending every existing one too); nothing when none is
    /// missing.
    pub async fn add_options(&self, change: &OptionsChange) -> Result<(), SourceError> {
        if change.is_empty() {
            return Ok(());
        }
        self.update_schema(&change.body(&self.notion.components_property)).await
    }

    /// Sends `body` (`{"properties": …}`) to the configured database's schema: `PATCH` the
    /// data source (2025-09-03 and later) or the database (2022-06-28).
    pub async fn update_schema(&self, body: &Value) -> Result<(), SourceError> {
        let path = if self.legacy() {
            format!("/v1/databases/{}", self.database_id())
        } else {
            self.query_path(None).await?.trim_end_matches("/query").to_string()
        };
        self.call(Method::PATCH, &path, Some(body), None)
            .await
            .map_err(|e| setup_error(e, "updating the database's properties", "the database"))?;
        Ok(())
    }
}
