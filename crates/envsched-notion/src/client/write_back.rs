//! Telling each row its state: only when it changes, `ended` to rows that left the live set,
//! and never again to a row Notion says is gone until a fetch returns it.

use std::collections::{HashMap, HashSet};

use envsched_core::{Booking, SourceError};
use reqwest::Method;
use serde_json::json;

use super::NotionClient;

/// What the write-back knows about the rows.
#[derive(Debug, Default)]
pub(super) struct Shown {
    /// The text each row is known to show.
    pub(super) text: HashMap<String, String>,
    /// Each row's `last_edited_time` when its text was last taken from a fetch: the same
    /// snapshot seen again (a cached fetch) must not undo a write made since.
    pub(super) stamp: HashMap<String, Option<jiff::Timestamp>>,
    /// The rows that were live last time.
    pub(super) live: HashSet<String>,
    /// Rows a write-back PATCH was answered 404 `object_not_found` for (deleted, or no
    /// longer shared): not written to again until a fetch returns them. Without this, a row
    /// still in the plan's texts was PATCHed, and failed, every cycle.
    pub(super) gone: HashSet<String>,
}

/// What one write-back pass did.
#[derive(Debug, Default)]
pub struct WriteBack {
    /// Rows patched.
    pub written: usize,
    /// What was written where: `(row id, text)`.
    pub rows: Vec<(String, String)>,
    /// Rows already showing the right text.
    pub unchanged: usize,
    /// Rows that could not be patched, with why. A row Notion answers 404
    /// `object_not_found` for is here once, then counted in `gone`.
    pub failed: Vec<(String, SourceError)>,
    /// Rows not patched because an earlier PATCH found them gone from Notion; they are
    /// written to again once a fetch returns them.
    pub gone: usize,
}

impl NotionClient {
    /// Writes each `(row id, text)` whose row does not already show that text, and `ended` to
    /// rows that were live last time and are gone now (status changed, trashed). `fetched` is
    /// this cycle's fetch: a row's current text there wins over memory, so a person's edit of
    /// the cell is corrected, and a restart reads the state from the rows. No-op without
    /// `notion.feedback_property`. Uses the same rate limiter as queries. Call it only after a
    /// successful fetch and an unfrozen plan: given an empty `fetched` (a failed fetch, or an
    /// empty one the suspicious-drop guard froze), every row would look gone and be told
    /// `ended`. A row Notion answered 404 `object_not_found` for is reported in
    /// [`WriteBack::failed`] once, then skipped (counted in [`WriteBack::gone`]) until a
    /// fetch returns it again.
    pub async fn write_back(&self, texts: &[(String, String)], fetched: &[Booking]) -> WriteBack {
        let mut out = WriteBack::default();
        if self.notion.feedback_property.is_none() {
            return out;
        }
        let (mut todo, live): (Vec<(String, String)>, HashSet<String>) = {
            let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
            for b in fetched {
                // A row edited since we last looked (by a person, or our own write coming
                // back) shows what the fetch says; an unchanged snapshot tells us nothing new.
                if shown.stamp.get(&b.id) != Some(&b.last_edited) {
                    shown.text.insert(b.id.clone(), b.feedback.clone().unwrap_or_default());
                    shown.stamp.insert(b.id.clone(), b.last_edited);
                }
            }
            let live: HashSet<String> = fetched.iter().map(|b| b.id.clone()).collect();
            let mut todo = Vec::new();
            let mut skipped: HashSet<&str> = HashSet::new();
            for (id, text) in texts {
                if shown.gone.contains(id) {
                    skipped.insert(id);
                } else if shown.text.get(id) == Some(text) {
                    out.unchanged += 1;
                } else {
                    todo.push((id.clone(), text.clone()));
                }
            }
            for left in shown.live.difference(&live) {
                if shown.gone.contains(left) {
                    skipped.insert(left);
                } else if shown.text.get(left).map(String::as_str) != Some("ended") {
                    todo.push((left.clone(), "ended".to_string()));
                }
            }
            out.gone = skipped.len();
            (todo, live)
        };
        todo.sort();
        for (id, text) in todo {
            match self.write_feedback(&id, &text).await {
                Ok(()) => {
                    out.written += 1;
                    out.rows.push((id.clone(), text.clone()));
                    self.shown.lock().unwrap_or_else(|p| p.into_inner()).text.insert(id, text);
                }
                Err(SourceError::Rejected { status: 404, code, message, request_id, .. })
                    if code == "object_not_found" =>
                {
                    self.shown.lock().unwrap_or_else(|p| p.into_inner()).gone.insert(id.clone());
                    let hint = format!(
                        "row {id} is gone from Notion (deleted, or no longer shared with the integration); envsched stops writing to it until a fetch returns it again"
                    );
                    out.failed.push((id, SourceError::Rejected { status: 404, code, message, request_id, hint }));
                }
                Err(e) => out.failed.push((id, e)),
            }
        }
        self.shown.lock().unwrap_or_else(|p| p.into_inner()).live = live;
        out
    }

    /// Writes `text` into the row's feedback property (cut to Notion's 2,000 characters).
    pub async fn write_feedback(&self, page_id: &str, text: &str) -> Result<(), SourceError> {
        let Some(prop) = &self.notion.feedback_property else { return Ok(()) };
        let text: String = text.chars().take(2000).collect();
        let body = json!({"properties": {prop: {"rich_text": [{"type": "text", "text": {"content": text}}]}}});
        self.call(Method::PATCH, &format!("/v1/pages/{page_id}"), Some(&body), None)
            .await
            .map(|_| ())
            .map_err(|e| e.into_source_error(&format!("writing back to row {page_id}")))
    }
}
