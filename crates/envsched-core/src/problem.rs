//! Problems: things wrong with a booking or a target that people must fix.
//!
//! A problem never stops the cycle: the affected booking or target is left out (or left
//! alone) and the problem is reported — in the plan, the logs and (later) the Notion row.

use serde::Serialize;

use crate::booking::BookingRef;

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A booking row.
    Booking(BookingRef),
    /// A target, by name.
    Target(String),
    /// An environment, by name.
    Environment(String),
}

/// Something wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Problem {
    /// The booking, target or environment concerned (`"booking": {"id", "title"}`,
    /// `"target": key` or `"environment": name` in JSON).
    #[serde(flatten)]
    pub subject: Subject,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl Problem {
    /// A problem with a booking row.
    pub fn booking(b: BookingRef, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem { subject: Subject::Booking(b), message: message.into(), fix: fix.into() }
    }

    /// A problem with a target.
    pub fn target(name: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem { subject: Subject::Target(name.to_string()), message: message.into(), fix: fix.into() }
    }

    /// A problem with an environment's configuration or calendar.
    pub fn environment(name: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem { subject: Subject::Environment(name.to_string()), message: message.into(), fix: fix.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.subject {
            Subject::Booking(b) => write!(f, "booking {b}: ")?,
            Subject::Target(t) => write!(f, "target {t}: ")?,
            Subject::Environment(e) => write!(f, "environment {e}: ")?,
        }
        write!(f, "{} — {}", self.message, self.fix)
    }
}
