//! The demo's timeline, chart and savings report.

use std::fmt::Write;
use std::time::Duration;

use envsched_core::{Config, TargetKind};
use envsched_sandbox::demo::Simulation;
use jiff::SignedDuration;
use serde_json::{Value, json};

use super::fit;

const LABEL: usize = 34;

/// How the demo used the Notion API (through the stand-in).
#[derive(Debug, Clone, Default)]
pub struct NotionUse {
    /// Query requests (one per cycle with ≤ 100 live rows; retries included).
    pub queries: usize,
    /// Rows whose state was written back.
    pub patches: usize,
    /// Requests answered with an error (the outage).
    pub failed: usize,
    /// `[notify]` comments added to rows: when, the row, the comment's text.
    pub comments: Vec<(jiff::Timestamp, String, String)>,
}

/// Events, the week chart per environment, and the report.
pub fn text(sim: &Simulation, config: &Config, width: usize, elapsed: Duration, notion: &NotionUse) -> String {
    let zone = &config.default_calendar.zone;
    let mut s = String::new();
    let services = sim.targets.iter().filter(|t| t.kind == TargetKind::EcsService).count();
    let clusters = sim.targets.len() - services;
    let _ = writeln!(
        s,
        "envsched demo — {} environments, {services} ECS services, {clusters} Aurora clusters, {} bookings\nOne reconcile cycle per simulated minute ({} cycles), the same cycle `envsched apply` runs.\n",
        sim.environments.len(),
        sim.bookings.len(),
        sim.report.cycles
    );
    s.push_str("What happened (Asia/Tokyo):\n");
    let mut day = String::new();
    for e in &sim.events {
        let d = e.at.to_zoned(zone.clone()).strftime("%a %d %b").to_string();
        if d != day {
            let _ = writeln!(s, "  ── {d} ──");
            day = d;
        }
        let env = e.environment.as_deref().unwrap_or("");
        let _ = writeln!(s, "  {}  {:<5} {}", e.at.to_zoned(zone.clone()).strftime("%H:%M"), env, e.text);
    }
    s.push('\n');
    s.push_str(&chart(sim, config, width));
    s.push_str(&report(sim, elapsed));
    let _ = writeln!(
        s,
        "  Notion (a local stand-in, through the real client): {} queries, {} rows told their state, {} \"ending soon\" comments, {} requests failed during the outage",
        notion.queries,
        notion.patches,
        notion.comments.len(),
        notion.failed
    );
    s
}

/// The week per environment, like Notion's timeline: each booking's window (━) and, under
/// it, when each of its components was running (█).
pub fn chart(sim: &Simulation, config: &Config, width: usize) -> String {
    let zone = &config.default_calendar.zone;
    let cols = width.saturating_sub(LABEL + 2).max(14);
    let per_col = sim.minutes.div_ceil(cols).max(1);
    let cols = sim.minutes.div_ceil(per_col);
    let days = sim.minutes / 1440;
    let day_col = |d: usize| d * 1440 / per_col;
    let mut s = String::new();
    let _ = writeln!(s, "The week — ━ booked   █ running   ! booked but not running   (one column ≈ {} min)", per_col);
    // Day header.
    let mut header = vec![' '; cols];
    for d in 0..days {
        let label: Vec<char> = sim
            .start
            .checked_add(SignedDuration::from_hours(24 * d as i64))
            .unwrap_or(sim.start)
            .to_zoned(zone.clone())
            .strftime("%a %d")
            .to_string()
            .chars()
            .collect();
        for (i, c) in label.iter().enumerate() {
            if let Some(slot) = header.get_mut(day_col(d) + i) {
                *slot = *c;
            }
        }
    }
    let bar = |cell: &dyn Fn(usize, usize) -> char| -> String {
        (0..cols)
            .map(|c| {
                let (a, b) = (c * per_col, ((c + 1) * per_col).min(sim.minutes));
                let ch = cell(a, b);
                if ch == ' ' && (0..days).any(|d| day_col(d) == c) { '┊' } else { ch }
            })
            .collect()
    };
    for env in &sim.environments {
        let _ = writeln!(s, "\n{} {}", fit(&env.to_string(), LABEL), header.iter().collect::<String>());
        let mut shown: Vec<bool> = vec![false; sim.targets.len()];
        let mut rows: Vec<&envsched_sandbox::demo::BookingTrack> =
            sim.bookings.iter().filter(|b| b.booking.environment.as_deref() == Some(env)).collect();
        rows.sort_by_key(|b| b.active.iter().position(|a| *a).unwrap_or(usize::MAX));
        for b in rows {
            let booked = bar(&|a, z| if b.active[a..z].iter().any(|x| *x) { '━' } else { ' ' });
            let status =
                if b.booking.status == "利用中" { String::new() } else { format!(" [{}]", b.booking.status) };
            let _ = writeln!(s, "{} {booked}", fit(&format!("{}{status}", b.booking.title), LABEL));
            for (component, targets) in &b.components {
                for &t in targets {
                    shown[t] = true;
                }
                let running = bar(&|a, z| {
                    let missed =
                        targets.iter().any(|&t| (a..z).any(|m| sim.targets[t].booked[m] && !sim.targets[t].up[m]));
                    let up = targets.iter().any(|&t| sim.targets[t].up[a..z].iter().any(|x| *x));
                    if missed {
                        '!'
                    } else if up {
                        '█'
                    } else {
                        ' '
                    }
                });
                let label = if targets.is_empty() {
                    format!("  {component} (selects nothing)")
                } else {
                    format!("  {component} ({})", targets.len())
                };
                let _ = writeln!(s, "{} {running}", fit(&label, LABEL));
            }
        }
        let others: Vec<usize> =
            (0..sim.targets.len()).filter(|&t| !shown[t] && sim.targets[t].environment == *env).collect();
        let running =
            bar(&|a, z| if others.iter().any(|&t| sim.targets[t].up[a..z].iter().any(|x| *x)) { '█' } else { ' ' });
        let _ = writeln!(s, "{} {running}", fit(&format!("  others ({} targets)", others.len()), LABEL));
    }
    s
}

fn report(sim: &Simulation, elapsed: Duration) -> String {
    let r = &sim.report;
    let (u, cost) = (&r.usage, r.cost());
    let pct = |a: f64, b: f64| if b > 0.0 { 100.0 * a / b } else { 0.0 };
    let mut s = String::from("\nSavings over the week\n");
    let _ = writeln!(
        s,
        "  ECS service-hours   {:>8.0} of {:>6.0} always-on  ({:.1}%)",
        hours(u.service_s),
        hours(u.service_s_always_on),
        pct(u.service_s, u.service_s_always_on)
    );
    let _ = writeln!(
        s,
        "  ECS task-hours      {:>8.0} of {:>6.0} always-on  ({:.1}%)",
        hours(u.task_s),
        hours(u.task_s_always_on),
        pct(u.task_s, u.task_s_always_on)
    );
    let _ = writeln!(
        s,
        "  Fargate Spot cost   ${:>7.2} vs ${:.2} always-on at ${}/task-hour (saved {:.1}%)",
        cost.tasks,
        cost.tasks_always_on,
        r.pricing.task_hour_usd,
        100.0 - pct(cost.tasks, cost.tasks_always_on)
    );
    let _ = writeln!(
        s,
        "  Aurora cluster-hours{:>8.0} of {:>6.0} always-on  ({:.1}%), ${:.2} vs ${:.2} at ${}/cluster-hour",
        hours(u.aurora_s),
        hours(u.aurora_s_always_on),
        pct(u.aurora_s, u.aurora_s_always_on),
        cost.aurora,
        cost.aurora_always_on,
        r.pricing.aurora_cluster_hour_usd
    );
    let _ = writeln!(
        s,
        "  Booked minutes missed: {}  (a booked target not up while its booking is open)",
        r.booked_minutes_missed
    );
    let actions: Vec<String> = r.actions.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        s,
        "  Actions: {} ({}); failed {}",
        r.actions.values().sum::<usize>(),
        actions.join(", "),
        r.failed_actions
    );
    let _ = writeln!(
        s,
        "  Drift re-parked: {}; Aurora auto-starts stopped again: {}; cycles frozen: {}; problems reported: {}",
        r.drift_reparked,
        r.aurora_auto_starts,
        r.frozen_cycles,
        r.problems.len()
    );
    let _ = writeln!(s, "  Simulated {} cycles in {:.1} s", r.cycles, elapsed.as_secs_f64());
    s
}

/// The report, events and bookings as JSON.
pub fn json(sim: &Simulation, notion: &NotionUse) -> Value {
    let r = &sim.report;
    let (u, cost) = (&r.usage, r.cost());
    json!({
        "notion": {
            "queries": notion.queries,
            "rows_told": notion.patches,
            "failed_requests": notion.failed,
            "comments": notion.comments.iter().map(|(at, row, text)| serde_json::json!({"at": at.to_string(), "row": row, "text": text})).collect::<Vec<_>>(),
        },
        "start": sim.start.to_string(),
        "minutes": sim.minutes,
        "report": {
            "service_hours": {"running": hours(u.service_s), "always_on": hours(u.service_s_always_on), "percent": 100.0 * u.service_s / u.service_s_always_on.max(1e-9)},
            "task_hours": {"running": hours(u.task_s), "always_on": hours(u.task_s_always_on)},
            "usd": {"fargate_spot": cost.tasks, "fargate_spot_always_on": cost.tasks_always_on, "aurora": cost.aurora, "aurora_always_on": cost.aurora_always_on, "task_hour_usd": r.pricing.task_hour_usd, "aurora_cluster_hour_usd": r.pricing.aurora_cluster_hour_usd},
            "aurora_hours": {"running": hours(u.aurora_s), "always_on": hours(u.aurora_s_always_on)},
            "booked_minutes_missed": r.booked_minutes_missed,
            "cycles": r.cycles,
            "actions": r.actions,
            "failed_actions": r.failed_actions,
            "drift_reparked": r.drift_reparked,
            "aurora_auto_starts": r.aurora_auto_starts,
            "frozen_cycles": r.frozen_cycles,
            "problems": r.problems,
        },
        "bookings": sim.bookings.iter().map(|b| json!({
            "id": b.booking.id,
            "title": b.booking.title,
            "environment": b.booking.environment,
            "status": b.booking.status,
            "booked_minutes": b.active.iter().filter(|a| **a).count(),
            "components": b.components.iter().map(|(c, t)| json!({"component": c, "targets": t.iter().map(|&i| sim.targets[i].key.clone()).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "events": sim.events.iter().map(|e| json!({"at": e.at.to_string(), "environment": e.environment, "text": e.text})).collect::<Vec<_>>(),
    })
}

/// Seconds as hours.
fn hours(seconds: f64) -> f64 {
    seconds / 3600.0
}
