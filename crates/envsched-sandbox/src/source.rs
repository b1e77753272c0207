//! A booking source whose rows change at scripted instants.

use std::sync::Mutex;

use envsched_core::{Booking, BookingSource, Clock, SourceError};
use jiff::Timestamp;

use crate::SimClock;

/// A change people make to the bookings database.
#[derive(Debug, Clone)]
pub enum RowEdit {
    /// A new row appears.
    Add(Booking),
    /// A row's status changes (e.g. cancelled: `利用中` → `中止`).
    SetStatus {
        /// Row id.
        id: String,
        /// New status.
        status: String,
    },
    /// The source fails from now on (a Notion outage)…
    Fail(SourceError),
    /// …until it recovers.
    Recover,
}

/// Rows as of the clock's now: the initial rows with every edit due so far applied.
#[derive(Debug)]
pub struct ScriptedSource {
    clock: SimClock,
    active_statuses: Vec<String>,
    state: Mutex<Script>,
}

#[derive(Debug)]
struct Script {
    rows: Vec<Booking>,
    /// Edits still to come, latest first (so `pop` takes the next one).
    edits: Vec<(Timestamp, RowEdit)>,
    failure: Option<SourceError>,
}

impl ScriptedSource {
    /// A source over `rows`, with `edits` applied when the clock passes their instants.
    /// Like Notion's server-side filter, `fetch` returns only rows whose status is one of
    /// `active_statuses`.
    pub fn new(
        clock: SimClock,
        active_statuses: Vec<String>,
        rows: Vec<Booking>,
        mut edits: Vec<(Timestamp, RowEdit)>,
    ) -> Self {
        edits.sort_by_key(|(t, _)| *t);
        edits.reverse(); // pop() takes the earliest
        ScriptedSource { clock, active_statuses, state: Mutex::new(Script { rows, edits, failure: None }) }
    }

    /// Every row (any status) as of now.
    pub fn rows(&self) -> Vec<Booking> {
        self.catch_up();
        self.state.lock().unwrap_or_else(|p| p.into_inner()).rows.clone()
    }

    fn catch_up(&self) {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while st.edits.last().is_some_and(|(t, _)| *t <= now) {
            let Some((_, edit)) = st.edits.pop() else { break };
            st.failure = None;
            match edit {
                RowEdit::Add(b) => st.rows.push(b),
                RowEdit::SetStatus { id, status } => {
                    if let Some(b) = st.rows.iter_mut().find(|b| b.id == id) {
                        b.status = status;
                    }
                }
                RowEdit::Fail(e) => st.failure = Some(e),
                RowEdit::Recover => {}
            }
        }
    }
}

impl BookingSource for ScriptedSource {
    async fn fetch(&self) -> Result<Vec<Booking>, SourceError> {
        self.catch_up();
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = &st.failure {
            return Err(e.clone());
        }
        Ok(st.rows.iter().filter(|b| self.active_statuses.contains(&b.status)).cloned().collect())
    }
}
