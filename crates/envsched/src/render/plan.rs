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
        s.push_str("\nNothing to do: every target is as its bookings want it.\n");
    }
    let w = Widths::of(p);
    for phase in &p.phases {
        let _ = writeln!(s, "\nPhase {} — {}", phase.number, phase.title());
        for a in &phase.actions {
            let arrow = if a.direction == Direction::Up { "▲" } else { "▼" };
            let _ = writeln!(
                s,
                "  {arrow} {:<tw$}  {:<ow$}  {:<cw$}  {}",
                a.target,
                a.op.name(),
                change(&a.op),
                a.reason,
                tw = w.target,
                ow = w.op,
                cw = w.change
            );
        }
    }
    s.push_str(&tail(p));
    s
}

/// The plan and what became of each action.
pub fn applied_text(p: &Plan, applied: &[Applied], config: &Config) -> String {
    let mut s = header(p, config);
    if applied.is_empty() && p.frozen.is_none() {
        s.push_str("\nNothing to do: every target is as its bookings want it.\n");
    }
    let w = Widths::of(p);
    let mut phase = 0;
    for x in applied {
        if x.phase != phase {
            phase = x.phase;
            if let Some(ph) = p.phases.iter().find(|ph| ph.number == phase) {
                let _ = writeln!(s, "\nPhase {} — {}", ph.number, ph.title());
            }
        }
        let outcome = match &x.outcome {
            Outcome::Done(d) => format!("done ({d})"),
            Outcome::AlreadyDone(d) => format!("already done ({d})"),
            Outcome::Skipped(why) => format!("skipped: {why}"),
            Outcome::DryRun => "dry run: not carried out".to_string(),
            Outcome::Failed(e) => format!("FAILED: {e}"),
        };
        let _ = writeln!(
            s,
            "  {:<tw$}  {:<ow$}  {:<cw$}  {outcome}\n      because {}",
            x.action.target,
            x.action.op.name(),
            change(&x.action.op),
            x.action.reason,
            tw = w.target,
            ow = w.op,
            cw = w.change
        );
    }
    s.push_str(&tail(p));
    s
}

/// Column widths that fit this plan's actions.
struct Widths {
    target: usize,
    op: usize,
    change: usize,
}

impl Widths {
    fn of(p: &Plan) -> Self {
        let max = |f: &dyn Fn(&envsched_core::Action) -> usize| p.actions().map(|(_, a)| f(a)).max().unwrap_or(0);
        Widths {
            target: max(&|a| a.target.chars().count()),
            op: max(&|a| a.op.name().len()),
            change: max(&|a| change(&a.op).chars().count()).min(40),
        }
    }
}

fn change(op: &envsched_core::Op) -> String {
    let (from, to) = op.from_to();
    if from.is_empty() { to } else { format!("{from} → {to}") }
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
        let kw = notable.iter().map(|t| t.key.chars().count()).max().unwrap_or(0);
        for t in notable {
            let _ = writeln!(s, "  {:<kw$}  {:<9} {}", t.key, t.status.name(), t.status.detail().unwrap_or_default());
        }
    }
    if !p.problems.is_empty() {
        s.push_str("\nProblems:\n");
        for pr in &p.problems {
            let _ = writeln!(s, "  ! {pr}");
        }
    }
    let (start, stop, unchanged) = p.counts();
    let mut line = format!("{start} to start, {stop} to stop, {unchanged} unchanged");
    for status in ["waiting", "deferred", "held", "protected", "missing"] {
        let n = p.targets.iter().filter(|t| t.status.name() == status).count();
        if n > 0 {
            let _ = write!(line, " ({n} {status})");
        }
    }
    let _ = writeln!(s, "\n{line}.");
    s
}

/// The stable JSON interface (documented in crates/envsched/README.md, "`plan --output json`: the stable interface").
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
            "resource": t.locator.to_string(),
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
