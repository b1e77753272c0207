//! What envsched tells each booking's row (brief §10): a short state that changes only when
//! something a person cares about changes.
//!
//! | text | when |
//! |---|---|
//! | `scheduled` | the window has not opened yet (lead time included) |
//! | `waiting for db/stg-aurora` | a target is held back until its database is available |
//! | `starting 3/5` | running tasks / wanted tasks over the booking's services, clusters counted 0/1 |
//! | `ready` | every target the booking keeps up is running at its count (clusters available) |
//! | `ended` | the window is over but the row is still marked active |
//! | `protected: x is not managed by envsched` | a booked target is protected: it is neither counted nor started |
//! | problems | `unknown component x`, `no components selected`, … appended after ` — ` |
//!
//! Nothing is written while the plan is frozen: envsched does not know the state then.

use crate::booking::Booking;
use crate::config::Config;
use crate::desired::{Desired, is_live};
use crate::observed::{Found, Observed, ObservedIndex};
use crate::plan::{Plan, TargetStatus};
use crate::problem::Subject;
use crate::window::{EDGE_HORIZON, Window};
use jiff::{SignedDuration, Timestamp};

/// Notion's limit for one rich-text item.
const MAX_CHARS: usize = 2000;

/// `(row id, text)` for every live booking, or nothing when the plan is frozen.
pub fn feedback(
    bookings: &[Booking],
    desired: &Desired,
    plan: &Plan,
    observed: &Observed,
    config: &Config,
) -> Vec<(String, String)> {
    if plan.frozen.is_some() {
        return Vec::new();
    }
    let idx = ObservedIndex::new(observed);
    let (lead, linger) = (config.schedule.lead, config.schedule.linger);
    bookings
        .iter()
        .filter(|b| is_live(b, config))
        .map(|b| {
            let r = b.to_ref();
            let problems: Vec<&str> = plan
                .problems
                .iter()
                .filter(|p| p.subject == Subject::Booking(r.clone()))
                .map(|p| p.message.as_str())
                .collect();
            let cal = config.calendar(b.environment.as_deref());
            let state = if !selects_anything(b, config) {
                None // nothing to schedule: only the problem is worth telling
            } else if !desired.active.contains(&r) {
                let later = cal.next_edge(&b.window, lead, linger, plan.at).is_some()
                    || opens_beyond_horizon(&b.window, &cal.zone, lead, plan.at);
                match (later, b.window.defect()) {
                    (_, Some(_)) => None,
                    (true, None) => Some("scheduled".to_string()),
                    (false, None) if problems.is_empty() => Some("ended".to_string()),
                    (false, None) => None,
                }
            } else {
                progress(b, plan, &idx)
            };
            let text = match (state, problems.is_empty()) {
                (Some(s), true) => s,
                (Some(s), false) => format!("{s} — {}", problems.join("; ")),
                (None, _) => problems.join("; "),
            };
            (b.id.clone(), text.chars().take(MAX_CHARS).collect())
        })
        .collect()
}

/// Whether the window opens later than [`Calendar::next_edge`] looks (`EDGE_HORIZON`): a
/// booking made weeks ahead has no edge in sight yet, but it has not ended.
///
/// [`Calendar::next_edge`]: crate::window::Calendar::next_edge
fn opens_beyond_horizon(window: &Window, zone: &jiff::tz::TimeZone, lead: SignedDuration, at: Timestamp) -> bool {
    let start = match window {
        Window::Open => return false,
        Window::Span { start, .. } => *start,
        Window::Days { first, .. } => match first.to_zoned(zone.clone()) {
            Ok(z) => z.timestamp(),
            Err(_) => return false,
        },
    };
    let horizon = at.checked_add(EDGE_HORIZON).unwrap_or(Timestamp::MAX);
    start.checked_sub(lead).is_ok_and(|acts| acts > horizon)
}

/// Whether any of the row's components selects a target (in a known environment).
fn selects_anything(b: &Booking, config: &Config) -> bool {
    let env_known = b.environment.as_deref().is_none_or(|e| config.environment(e).is_some());
    env_known
        && b.components.iter().any(|c| {
            crate::target::Selector::parse(c)
                .is_ok_and(|s| !config.targets.select(&s, b.environment.as_deref()).is_empty())
        })
}

/// `ready`, `starting r/w` or `waiting for …` over the targets a booking keeps up.
fn progress(b: &Booking, plan: &Plan, idx: &ObservedIndex<'_>) -> Option<String> {
    let r = b.to_ref();
    let (protected, mine): (Vec<_>, Vec<_>) = plan
        .targets
        .iter()
        .filter(|t| t.bookings.contains(&r))
        .partition(|t| matches!(t.status, TargetStatus::Protected(_)));
    // A protected target is never started: counting it would say `starting` forever.
    let note = (!protected.is_empty()).then(|| {
        let names: Vec<&str> = protected.iter().map(|t| t.name.as_str()).collect();
        let verb = if names.len() == 1 { "is" } else { "are" };
        format!("protected: {} {verb} not managed by envsched", names.join(", "))
    });
    let state = managed_progress(&mine, idx);
    match (state, note) {
        (Some(s), Some(n)) => Some(format!("{s} — {n}")),
        (s, n) => s.or(n),
    }
}

/// [`progress`] over the targets envsched manages.
fn managed_progress(mine: &[&crate::plan::TargetPlan], idx: &ObservedIndex<'_>) -> Option<String> {
    if mine.is_empty() {
        return None;
    }
    // "waiting for stg1:db/stg-aurora (starting)" → "waiting for db/stg-aurora"
    if let Some(w) = mine.iter().find_map(|t| match &t.status {
        TargetStatus::Waiting(w) => w.on().first().map(|k| k.name()),
        _ => None,
    }) {
        return Some(format!("waiting for {w}"));
    }
    let (mut running, mut wanted) = (0u32, 0u32);
    for t in mine {
        let Some(found) = idx.find(&t.locator) else { continue };
        match found {
            Found::Service(s) => {
                let want = t.count.unwrap_or(1).max(1);
                wanted += want;
                running += s.running_count.min(want);
            }
            Found::Cluster(c) => {
                wanted += 1;
                running += u32::from(c.status == crate::observed::AuroraStatus::Available);
            }
        }
    }
    Some(if running >= wanted { "ready".to_string() } else { format!("starting {running}/{wanted}") })
}
