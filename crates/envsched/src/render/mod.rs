//! Output for people (text) and scripts (JSON).

pub mod demo;
pub mod plan;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The chart width: `--width`, else the terminal's, else 120.
pub fn width(requested: Option<usize>) -> usize {
    requested
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(120)
        .clamp(60, 400)
}

/// `s` cut or padded to exactly `cols` display columns (CJK characters count two).
pub fn fit(s: &str, cols: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    if s.width() <= cols {
        out.push_str(s);
        used = s.width();
    } else {
        for c in s.chars() {
            let w = c.width().unwrap_or(0);
            if used + w + 1 > cols {
                break;
            }
            out.push(c);
            used += w;
        }
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(used)));
    out
}

/// An instant in a zone, `Tue 24 07:45`.
pub fn local(t: Timestamp, zone: &TimeZone) -> String {
    t.to_zoned(zone.clone()).strftime("%a %d %H:%M").to_string()
}
