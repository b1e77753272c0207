//! Components as selectors: a prefix per character, or a glob.

use globset::{GlobBuilder, GlobMatcher};

/// A compiled component: a per-character prefix or a glob (see the module docs).
#[derive(Debug, Clone)]
pub enum Selector {
    /// Selects names equal to or starting with the string.
    Prefix(String),
    /// Selects names the whole glob matches.
    Glob(String, GlobMatcher),
}

impl Selector {
    /// Compiles a component as written in Notion. An empty component or an invalid glob is
    /// an error message for the row.
    pub fn parse(component: &str) -> Result<Selector, String> {
        let c = component.trim();
        if c.is_empty() {
            return Err("empty component name".to_string());
        }
        if c.contains(['*', '?', '[', '{']) {
            let glob = GlobBuilder::new(c)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("component {c:?} is not a valid glob: {}", e.kind()))?;
            Ok(Selector::Glob(c.to_string(), glob.compile_matcher()))
        } else {
            Ok(Selector::Prefix(c.to_string()))
        }
    }

    /// Whether the selector selects the target called `name`.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Selector::Prefix(p) => name.starts_with(p.as_str()),
            Selector::Glob(_, m) => m.is_match(name),
        }
    }

    /// The component as written.
    pub fn as_str(&self) -> &str {
        match self {
            Selector::Prefix(p) | Selector::Glob(p, _) => p,
        }
    }
}

/// The candidate closest to `wanted` by edit distance, if reasonably close.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (levenshtein(wanted, c), c))
        .filter(|(d, c)| *d <= (wanted.chars().count().max(c.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
