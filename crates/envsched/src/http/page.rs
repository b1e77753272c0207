//! `GET /`: the [`StatusView`] as HTML — per environment a timeline (server-rendered SVG,
//! no script, no external asset), what comes up, the targets with links to Notion and the
//! AWS console, then the recent actions and the problems. Every string is escaped.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::view::{EnvironmentView, Span, StatusView};

/// The timeline's geometry (SVG user units).
const WIDTH: f64 = 1000.0;
const LABEL: f64 = 260.0;
const ROW: f64 = 18.0;
const AXIS: f64 = 20.0;

/// Escapes text for HTML and SVG (every string from Notion and AWS passes through here).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link to `url` when it is an http(s) URL, else the text alone.
fn link(text: &str, url: Option<&str>) -> String {
    match url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
        Some(u) => format!("<a href=\"{}\">{}</a>", esc(u), esc(text)),
        None => esc(text),
    }
}

fn local(t: Timestamp, zone: &TimeZone) -> String {
    t.to_zoned(zone.clone()).strftime("%a %d %b %H:%M").to_string()
}

/// The page.
pub fn render(v: &StatusView) -> String {
    let mut h = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>envsched</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>\
         body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}\
         th,td{border-bottom:1px solid #ddd;padding:.3em .7em;text-align:left;vertical-align:top}\
         .up{color:#06702b}.down{color:#777}.warn{color:#9a5b00}.fail{color:#b00020}\
         svg{max-width:100%;height:auto;font-size:11px}svg text{fill:#333}\
         .legend span{display:inline-block;width:1em;height:.8em;margin:0 .3em 0 1em;vertical-align:middle}\
         </style></head><body><h1>envsched</h1>",
    );
    let _ = write!(h, "<p>{} · {} cycles", esc(&v.ready), v.cycles);
    let utc = TimeZone::UTC;
    let zone = v.environments.first().and_then(|e| TimeZone::get(&e.zone).ok()).unwrap_or(utc);
    if let Some((at, reason)) = v.next_wake {
        let _ = write!(h, " · next look at {} ({reason})", esc(&local(at, &zone)));
    }
    let _ = write!(h, " · estimated savings today ${:.2}</p>", v.saved_today_usd);
    if v.last_cycle.is_none() {
        h.push_str("<p>No cycle has completed yet.</p></body></html>");
        return h;
    }
    if let Some(f) = &v.frozen {
        let _ = write!(h, "<p class=\"warn\">Frozen: {}</p>", esc(f));
    }
    h.push_str(
        "<p class=\"legend\"><span style=\"background:#4a78c2\"></span>booked (as the planner sees it)\
         <span style=\"background:#2e9d55\"></span>up<span style=\"background:#d0d0d0\"></span>down\
         <span style=\"background:#d62828\"></span>booked but not up</p>",
    );
    for env in &v.environments {
        environment(&mut h, env, v);
    }
    actions(&mut h, v, &zone);
    if !v.problems.is_empty() {
        h.push_str("<h2>Problems</h2><ul>");
        for p in &v.problems {
            let _ = write!(h, "<li class=\"warn\">{}</li>", esc(p));
        }
        h.push_str("</ul>");
    }
    if let Some(at) = v.last_cycle {
        let _ = write!(h, "<p>Last cycle planned for {}.</p>", esc(&local(at, &zone)));
    }
    h.push_str("</body></html>");
    h
}

fn environment(h: &mut String, env: &EnvironmentView, v: &StatusView) {
    let zone = TimeZone::get(&env.zone).unwrap_or(TimeZone::UTC);
    let _ = write!(h, "<h2>{}</h2>", esc(&env.name));
    timeline(h, env, v, &zone);
    if env.coming_up.is_empty() {
        h.push_str("<p>Coming up: nothing starts or stops in the next 24 hours.</p>");
    } else {
        h.push_str("<h3>Coming up</h3><table class=\"coming-up\"><tr><th>when</th><th>starts</th><th>stops</th><th>why</th></tr>");
        for e in &env.coming_up {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"up\">{}</td><td class=\"down\">{}</td><td>{}</td></tr>",
                esc(&local(e.at, &zone)),
                esc(&e.starts.join(", ")),
                esc(&e.stops.join(", ")),
                esc(&e.why.join(", "))
            );
        }
        h.push_str("</table>");
    }
    h.push_str(
        "<table><tr><th>target</th><th>AWS</th><th>wanted</th><th>now</th><th>kept up by</th><th>status</th></tr>",
    );
    for t in &env.targets {
        let by: Vec<String> = t.kept_up_by.iter().map(|b| link(&b.title, b.url.as_deref())).collect();
        let until = t.until.map(|u| format!(" until {}", local(u, &zone))).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"{w}\">{w}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(&t.name),
            link(&t.aws, t.console_url.as_deref()),
            esc(&t.now),
            by.join(", "),
            esc(&until),
            esc(&t.status),
            w = t.wanted,
        );
    }
    h.push_str("</table>");
}

/// The SVG: one row per booking (its windows) and per target (observed up/down, gaps),
/// hour ticks every 6 hours in the environment's zone, `now` marked.
fn timeline(h: &mut String, env: &EnvironmentView, v: &StatusView, zone: &TimeZone) {
    let Span { from, to } = v.timeline;
    let total = to.duration_since(from).as_secs_f64().max(1.0);
    let x = |t: Timestamp| LABEL + (WIDTH - LABEL) * (t.duration_since(from).as_secs_f64() / total).clamp(0.0, 1.0);
    let rows = env.bookings.len() + env.targets.len();
    let height = AXIS + ROW * rows as f64 + 4.0;
    let _ = write!(
        h,
        "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{} from {} to {}</title>",
        esc(&env.name),
        esc(&local(from, zone)),
        esc(&local(to, zone))
    );
    // Ticks: every 6 hours on the local clock.
    let mut tick = from.to_zoned(zone.clone());
    tick = tick.with().minute(0).second(0).subsec_nanosecond(0).build().unwrap_or(tick);
    while tick.timestamp() <= to {
        if tick.timestamp() >= from && tick.hour() % 6 == 0 {
            let tx = x(tick.timestamp());
            let label =
                if tick.hour() == 0 { tick.strftime("%a %d").to_string() } else { tick.strftime("%H:%M").to_string() };
            let _ = write!(
                h,
                "<line x1=\"{tx:.1}\" y1=\"{AXIS}\" x2=\"{tx:.1}\" y2=\"{height}\" stroke=\"#eee\"/><text x=\"{tx:.1}\" y=\"12\" text-anchor=\"middle\">{}</text>",
                esc(&label)
            );
        }
        match tick.checked_add(jiff::SignedDuration::from_hours(1)) {
            Ok(t) => tick = t,
            Err(_) => break,
        }
    }
    let mut y = AXIS;
    for b in &env.bookings {
        let title = esc(&b.title);
        let label = match b.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            Some(u) => format!("<a href=\"{}\"><text x=\"4\" y=\"{:.1}\">{title}</text></a>", esc(u), y + 13.0),
            None => format!("<text x=\"4\" y=\"{:.1}\">{title}</text>", y + 13.0),
        };
        h.push_str(&label);
        for w in &b.windows {
            let tip = format!("{title}: {} – {}", esc(&local(w.from, zone)), esc(&local(w.to, zone)));
            rect(h, "booked", (x(w.from), x(w.to)), y + 3.0, ROW - 6.0, "#4a78c2", Some(&tip));
        }
        y += ROW;
    }
    for t in &env.targets {
        let _ = write!(h, "<text x=\"14\" y=\"{:.1}\">{}</text>", y + 13.0, esc(&t.name));
        for (s, up) in &t.history {
            let (class, fill) = if *up { ("ran", "#2e9d55") } else { ("idle", "#d0d0d0") };
            rect(h, class, (x(s.from), x(s.to)), y + 5.0, ROW - 10.0, fill, None);
        }
        for g in &t.gaps {
            let tip = format!("booked but not up: {} – {}", esc(&local(g.from, zone)), esc(&local(g.to, zone)));
            rect(h, "gap", (x(g.from), x(g.to)), y + 3.0, ROW - 6.0, "#d62828", Some(&tip));
        }
        y += ROW;
    }
    let nx = x(v.now);
    let _ = write!(
        h,
        "<line class=\"now\" x1=\"{nx:.1}\" y1=\"{:.1}\" x2=\"{nx:.1}\" y2=\"{height}\" stroke=\"#111\" stroke-width=\"1.5\"/><text x=\"{nx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">now</text></svg>",
        AXIS - 6.0,
        AXIS - 6.0
    );
}

/// One bar from `x0` to `x1` (at least 1 unit wide), with an escaped tooltip.
fn rect(h: &mut String, class: &str, (x0, x1): (f64, f64), y: f64, height: f64, fill: &str, tip: Option<&str>) {
    let _ = write!(
        h,
        "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"{fill}\">",
        (x1 - x0).max(1.0)
    );
    if let Some(t) = tip {
        let _ = write!(h, "<title>{t}</title>");
    }
    h.push_str("</rect>");
}

fn actions(h: &mut String, v: &StatusView, zone: &TimeZone) {
    if v.actions.is_empty() {
        h.push_str("<h2>Recent actions</h2><p>None since the start.</p>");
        return;
    }
    h.push_str("<h2>Recent actions</h2><table><tr><th>when</th><th>target</th><th>action</th><th>outcome</th><th>why</th></tr>");
    for a in &v.actions {
        let class = if a.outcome == "failed" { "fail" } else { "" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}{}</td><td>{}</td></tr>",
            esc(&local(a.at, zone)),
            esc(&a.target),
            a.op,
            a.outcome,
            if a.detail.is_empty() { String::new() } else { format!(": {}", esc(&a.detail)) },
            esc(&a.reason)
        );
    }
    h.push_str("</table>");
}
