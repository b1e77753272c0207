//! Where bookings come from.

use std::future::Future;

use crate::booking::Booking;

/// A source of bookings (Notion, a file, the demo's script).
pub trait BookingSource {
    /// Every row whose status is active, parsed and validated. A schema problem or an
    /// incomplete answer is an error, never a short list: the cycle then freezes.
    fn fetch(&self) -> impl Future<Output = Result<Vec<Booking>, SourceError>> + Send;
}

/// Why bookings could not be read. Every variant makes the cycle freeze.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The source could not be reached or kept failing (network, 5xx, 429 past retries).
    #[error("bookings source unavailable: {message}")]
    Unavailable {
        /// What happened, and what to check.
        message: String,
    },
    /// The source refused the request (bad token, database not shared, bad filter).
    #[error("bookings source rejected the request: HTTP {status} {code}: {message}{}; {hint}", request_id.as_ref().map(|r| format!(" (request_id {r})")).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// API error code.
        code: String,
        /// API message.
        message: String,
        /// Request id for support.
        request_id: Option<String>,
        /// What to check.
        hint: String,
    },
    /// A row or the schema did not match the configuration (renamed property, wrong type).
    #[error("bookings do not match the configuration: {message}")]
    Schema {
        /// Names the row and property and says what to do.
        message: String,
    },
    /// The answer was cut short (the 10,000-row cap, a broken cursor).
    #[error("bookings answer is incomplete: {message}")]
    Incomplete {
        /// What was cut and why it matters.
        message: String,
    },
}

impl SourceError {
    /// Which side of a cycle failed, as the "Cycle failed" log line's `error.kind` names it:
    /// `notion`, the bookings' source.
    pub fn area(&self) -> &'static str {
        "notion"
    }

    /// A bounded label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceError::Unavailable { .. } => "unavailable",
            SourceError::Rejected { .. } => "rejected",
            SourceError::Schema { .. } => "schema",
            SourceError::Incomplete { .. } => "incomplete",
        }
    }
}

/// Bookings known up front (read from files): every fetch returns them.
#[derive(Debug, Clone, Default)]
pub struct FixedSource(pub Vec<Booking>);

impl BookingSource for FixedSource {
    async fn fetch(&self) -> Result<Vec<Booking>, SourceError> {
        Ok(self.0.clone())
    }
}
