//! Narrating the week: what a cycle did, as lines on the timeline and figures in the report.

use std::collections::{BTreeMap, BTreeSet};

use envsched_core::{Op, Outcome, Report, TargetStatus};
use jiff::Timestamp;

use super::run::Playback;
use super::{Event, Savings};

impl Playback<'_> {
    /// The timeline's lines for one cycle: Aurora starting itself, freezes beginning and
    /// ending, new problems, the actions, and stops the cap deferred.
    pub(super) fn narrate(&mut self, r: &Report, now: Timestamp) {
        let auto = self.world().fleet.auto_starts();
        for (at, id) in auto.iter().skip(self.seen_auto) {
            self.events.push(Event {
                at: *at,
                environment: id.split('-').next().map(str::to_string),
                text: format!("Aurora cluster {id} starts itself after 7 days stopped"),
            });
        }
        self.seen_auto = auto.len();
        match (&r.plan.frozen, self.was_frozen) {
            (Some(f), false) => {
                self.events.push(Event { at: now, environment: None, text: format!("FROZEN — {}", f.reason) })
            }
            (None, true) => self.events.push(Event {
                at: now,
                environment: None,
                text: "bookings readable again: reconciling resumes".into(),
            }),
            _ => {}
        }
        self.was_frozen = r.plan.frozen.is_some();
        if self.was_frozen {
            self.report.frozen_cycles += 1;
        }
        for p in &r.plan.problems {
            let text = p.to_string();
            if self.seen_problems.insert(text.clone()) {
                self.report.problems.push(text.clone());
                self.events.push(Event { at: now, environment: None, text: format!("problem: {text}") });
            }
        }
        summarise_actions(r, now, &mut self.events, &mut self.report);
        let deferred = r.plan.targets.iter().filter(|t| matches!(t.status, TargetStatus::Deferred(_))).count();
        if deferred > 0 {
            let cap = self.config().safety.max_stops_per_cycle;
            self.events.push(Event {
                at: now,
                environment: None,
                text: format!(
                    "stop cap: max_stops_per_cycle = {cap} reached, {deferred} stops deferred to the next cycle"
                ),
            });
        }
    }
}

/// The cycle's actions: counted, failures and drift one line each, the rest grouped per
/// environment and direction with the bookings behind them.
fn summarise_actions(r: &Report, now: Timestamp, events: &mut Vec<Event>, report: &mut Savings) {
    // (environment, up?) → (targets, bookings)
    let mut groups: BTreeMap<(String, bool), (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for a in &r.applied {
        *report.actions.entry(a.action.op.name().to_string()).or_default() += 1;
        if matches!(a.outcome, Outcome::Failed(_)) {
            report.failed_actions += 1;
            events.push(Event {
                at: now,
                environment: None,
                text: format!("FAILED {} {}: {:?}", a.action.target, a.action.op.name(), a.outcome),
            });
        }
        if a.action.is_drift() && matches!(a.action.op, Op::Scale { .. }) {
            report.drift_reparked += 1;
            events.push(Event {
                at: now,
                environment: a.action.target.environment().map(str::to_string),
                text: format!("{} parked again — {}", a.action.target, a.action.reason),
            });
            continue;
        }
        let up = match a.action.op {
            Op::Start | Op::Scale { from: 0, .. } => true,
            Op::Stop | Op::Scale { to: 0, .. } => false,
            _ => continue,
        };
        let (env, name) = (a.action.target.environment().unwrap_or(""), a.action.target.name());
        let entry = groups.entry((env.to_string(), up)).or_default();
        entry.0.insert(name.to_string());
        if let Some(t) = r.plan.target(&a.action.target) {
            entry.1.extend(t.bookings.iter().map(|b| b.title.to_string()));
        }
    }
    for ((env, up), (names, titles)) in groups {
        let list: Vec<&str> = names.iter().map(String::as_str).collect();
        let shown = if list.len() > 4 {
            format!("{}, … ({} in all)", list[..3].join(", "), list.len())
        } else {
            list.join(", ")
        };
        let why = if titles.is_empty() {
            "no active booking".to_string()
        } else {
            titles.into_iter().collect::<Vec<_>>().join(" + ")
        };
        let arrow = if up { "▲ up  " } else { "▼ down" };
        events.push(Event { at: now, environment: Some(env), text: format!("{arrow} {shown} — {why}") });
    }
}
