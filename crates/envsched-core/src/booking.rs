//! Bookings: rows of the Notion database, parsed and typed.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::window::Window;

/// One row of the bookings database.
///
/// A booking is *active* at `t` when its status is one of the configured active statuses
/// and `t` lies in its window (widened by lead and linger) — see
/// [`crate::desired::desired`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Notion page id (stable; used in reasons so people can find the row).
    pub id: String,
    /// The row's title.
    pub title: String,
    /// Value of the status property (e.g. `利用中`).
    pub status: String,
    /// Component names from the multi-select, exactly as written.
    pub components: Vec<String>,
    /// The environment the row is scoped to, if the row names one.
    pub environment: Option<String>,
    /// When the row applies.
    pub window: Window,
    /// The row is in Notion's trash: it never keeps anything up.
    pub trashed: bool,
    /// The current text of the write-back property, if configured and present.
    pub feedback: Option<String>,
    /// When the row was last edited in Notion.
    pub last_edited: Option<Timestamp>,
    /// Link to the row.
    pub url: Option<String>,
    /// The Notion user who created the row (`created_by.id`): whom a notice mentions.
    pub creator: Option<String>,
}

impl Booking {
    /// A reference naming this booking in reasons and problems.
    pub fn to_ref(&self) -> BookingRef {
        BookingRef { id: self.id.as_str().into(), title: self.title.as_str().into() }
    }
}

/// A booking as named in reasons: title and row id. Shared text: one booking keeps
/// hundreds of targets up, and each target's desire and plan names it, so a copy is two
/// reference counts, not two allocations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct BookingRef {
    /// Notion page id.
    #[serde(serialize_with = "as_str")]
    pub id: Arc<str>,
    /// Row title.
    #[serde(serialize_with = "as_str")]
    pub title: Arc<str>,
}

fn as_str<S: serde::Serializer>(s: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(s)
}

impl std::fmt::Display for BookingRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' ({})", self.title, self.id)
    }
}
