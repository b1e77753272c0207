//! Comments on booking rows (`[notify]`): posting a notice that mentions the row's creator,
//! and reading a row's comments so a notice already given is not given again — by this
//! process ([`Notifier`] remembers) or by a copy that ran before it (the comment is there).
//!
//! Needs the integration's "Insert comments" capability (and "Read comments" for the
//! check after a restart); without them Notion answers 403, which is reported, not retried.

use std::collections::HashSet;
use std::sync::Mutex;

use envsched_core::SourceError;
use envsched_core::notify::Notice;
use reqwest::Method;
use serde_json::{Value, json};

use super::NotionClient;

/// Every comment starts with this, so envsched's comments can be told from people's.
pub const PREFIX: &str = "envsched: ";

impl NotionClient {
    /// Adds a comment to page `page_id`: `envsched: `, a mention of `mention` (a user id)
    /// when given, then `text`.
    pub async fn comment(&self, page_id: &str, mention: Option<&str>, text: &str) -> Result<(), SourceError> {
        let mut parts = vec![json!({"type": "text", "text": {"content": PREFIX}})];
        if let Some(user) = mention {
            parts.push(json!({"type": "mention", "mention": {"type": "user", "user": {"id": user}}}));
        }
        parts.push(json!({"type": "text", "text": {"content": text}}));
        let body = json!({"parent": {"page_id": page_id}, "rich_text": parts});
        self.call(Method::POST, "/v1/comments", Some(&body), None)
            .await
            .map_err(|e| comment_error(e, "adding a comment"))?;
        Ok(())
    }

    /// The plain text of every comment on page `page_id` (all pages of the list).
    pub async fn comment_texts(&self, page_id: &str) -> Result<Vec<String>, SourceError> {
        let (comments, _) = self
            .get_all("/v1/comments", &format!("block_id={page_id}"), "results", 100)
            .await
            .map_err(|e| comment_error(e, "reading the row's comments"))?;
        let out = comments
            .iter()
            .map(|c| {
                c.get("rich_text")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("plain_text").and_then(Value::as_str))
                    .collect::<String>()
            })
            .collect();
        Ok(out)
    }
}

fn comment_error(e: super::ApiError, doing: &str) -> SourceError {
    e.into_source_error_hinted(doing, |status| {
        (status == 403).then(|| "give the integration the \"Read comments\" and \"Insert comments\" capabilities ([notify] is on), or turn [notify] off".to_string())
    })
}

/// What one round of notices did.
#[derive(Debug, Default)]
pub struct Told {
    /// Notices posted now: (row id, the comment's text after the mention).
    pub posted: Vec<(String, String)>,
    /// Notices found already given in the row's comments (by an earlier copy).
    pub already: usize,
    /// Notices that failed, with why; tried again next cycle while still due.
    pub failed: Vec<(String, String)>,
}

/// Posts each notice once: remembers what it posted, and before posting one it has not,
/// reads the row's comments for it (a copy that restarted, or the other copy before a
/// failover, may have posted it).
#[derive(Debug, Default)]
pub struct Notifier {
    said: Mutex<HashSet<String>>,
}

impl Notifier {
    /// Gives each of `notices` not given yet; `date_property` names the row's date in the
    /// text.
    pub async fn tell(&self, client: &NotionClient, notices: &[Notice], date_property: &str) -> Told {
        let mut told = Told::default();
        for n in notices {
            let key = n.key();
            if self.said.lock().unwrap_or_else(|p| p.into_inner()).contains(&key) {
                continue;
            }
            let id = &n.booking.id;
            let given = match client.comment_texts(id).await {
                Ok(texts) => texts.iter().any(|t| t.starts_with(PREFIX) && t.contains(&n.phrase())),
                Err(e) => {
                    told.failed.push((id.to_string(), e.to_string()));
                    continue;
                }
            };
            if given {
                told.already += 1;
            } else {
                let text = n.text(date_property);
                if let Err(e) = client.comment(id, n.creator.as_deref(), &text).await {
                    told.failed.push((id.to_string(), e.to_string()));
                    continue;
                }
                told.posted.push((id.to_string(), text));
            }
            self.said.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        }
        told
    }
}
