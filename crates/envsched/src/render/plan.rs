//! Plans as text and as the stable JSON interface.

use std::fmt::Write;

use envsched_core::reconcile::Applied;
use envsched_core::{Config, Direction, Outcome, Plan};
use serde_json::{Value, json};

use super::local;

/// The plan for people: phases, one line per action with its reason, then what waits,
/// problems and the counts.
pub fn text(p: &Plan, config: &Config) -> String {
    let mut s = header(p, config);
    if p.is_empty() && p.frozen.is_none() {
        s.push_str("Nothing to do: every target is as its bookings want it.\n");
    }
    for phase in &p.phases {
        let _ = writeln!(s, "\nPhase {} — {}", phase.number, phase.title());
        for a in &phase.actions {
            let (from, to) = a.op.from_to();
            let arrow = if a.direction == Direction::Up { "▲" } else { "▼" };
            let change = if from.is_empty() { to } else { format!("{from} → {to}") };
            let _ = writeln!(s, "  {arrow} {:<34} {:<19} {:<24} {}", a.target, a.op.name(), change, a.reason);
        }
    }
    s.push_str(&tail(p));
    s
}

/// The plan and what became of each action.
pub fn applied_text(p: &Plan, applied: &[Applied], config: &Config) -> String {
    let mut s = header(p, config);
    if applied.is_empty() && p.frozen.is_none() {
        s.push_str("Nothing to do: every target is as its bookings want it.\n");
    }
    let mut phase = 0;
    for x in applied {
        if x.phase != phase {
            phase = x.phase;
            if let Some(ph) = p.phases.iter().find(|ph| ph.number == phase) {
                let _ = writeln!(s, "\nPhase {} — {}", ph.number, ph.title());
            }
        }
        let (from, to) = x.action.op.from_to();
        let change = if from.is_empty() { to } else { format!("{from} → {to}") };
        let outcome = match &x.outcome {
            Outcome::Done(d) => format!("done ({d})"),
            Outcome::AlreadyDone(d) => format!("already done ({d})"),
            Outcome::Skipped(why) => format!("skipped: {why}"),
            Outcome::DryRun => "dry run: not carried out".to_string(),
            Outcome::Failed(e) => format!("FAILED: {e}"),
        };
        let _ = writeln!(
            s,
            "  {:<34} {:<19} {:<24} {outcome}\n      because {}",
            x.action.target,
            x.action.op.name(),
            change,
            x.action.reason
        );
    }
    s.push_str(&tail(p));
    s
}

fn header(p: &Plan, config: &Config) -> String {
    let zone = &config.default_calendar.zone;
    let mut s = format!("envsched plan for {} ({}) — {}\n", local(p.at, zone), config.time_zone_name, p.at);
    if let Some(f) = &p.frozen {
        let _ = writeln!(s, "\nFROZEN — nothing will be changed: {}", f.reason);
    }
    s
}

fn tail(p: &Plan) -> String {
    let mut s = String::new();
    let notable: Vec<_> = p.targets.iter().filter(|t| t.status.detail().is_some()).collect();
    if !notable.is_empty() {
        s.push_str("\nNot acted on:\n");
        for t in notable {
            let _ = writeln!(s, "  {:<36} {:<9} {}", t.key, t.status.name(), t.status.detail().unwrap_or_default());
        }
    }
    if !p.problems.is_empty() {
        s.push_str("\nProblems:\n");
        for pr in &p.problems {
            let _ = writeln!(s, "  ! {pr}");
        }
    }
    let (start, stop, unchanged) = p.counts();
    let _ = writeln!(s, "\n{start} to start, {stop} to stop, {unchanged} unchanged.");
    s
}

/// The stable JSON interface (documented in the README, "plan --output json").
pub fn json(p: &Plan, applied: Option<&[Applied]>) -> Value {
    let (start, stop, unchanged) = p.counts();
    let actions: Vec<Value> = match applied {
        Some(applied) => applied
            .iter()
            .map(|x| {
                let mut v = action(x.phase, &x.action);
                v["outcome"] = json!(x.outcome.label());
                v["outcome_detail"] = json!(match &x.outcome {
                    Outcome::Done(d) | Outcome::AlreadyDone(d) | Outcome::Skipped(d) => d.clone(),
                    Outcome::Failed(e) => e.to_string(),
                    Outcome::DryRun => String::new(),
                });
                v
            })
            .collect(),
        None => p.actions().map(|(ph, a)| action(ph.number, a)).collect(),
    };
    json!({
        "at": p.at.to_string(),
        "frozen": p.frozen,
        "targets": p.targets.iter().map(|t| json!({
            "key": t.key,
            "name": t.name,
            "environment": t.environment,
            "kind": t.kind.as_str(),
            "desired": t.desired,
            "count": t.count,
            "observed": t.observed,
            "bookings": t.bookings,
            "reason": t.reason,
            "status": t.status.name(),
            "status_detail": t.status.detail(),
            "until": t.until.map(|u| u.to_string()),
        })).collect::<Vec<_>>(),
        "actions": actions,
        "problems": p.problems,
        "summary": {"start": start, "stop": stop, "unchanged": unchanged},
    })
}

fn action(phase: usize, a: &envsched_core::Action) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
    v["phase"] = json!(phase);
    v
}
