//! Shared by the Notion crate's tests.

use std::path::PathBuf;

/// `../shared/fixtures/notion`, read in place (never copied), or `ENVSCHED_NOTION_FIXTURES`.
pub fn fixtures() -> PathBuf {
    let dir = std::env::var_os("ENVSCHED_NOTION_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/notion"));
    assert!(
        dir.join("expected.json").exists(),
        "Notion fixtures not found at {} (set ENVSCHED_NOTION_FIXTURES)",
        dir.display()
    );
    dir
}
