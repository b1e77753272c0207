//! What a configuration that cannot be used reports, and the redaction every message
//! passes through.

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML or does not fit the schema (unknown or missing key, wrong
    /// type). The message carries line, column and key.
    #[error("{origin}: {message}\n  fix: compare with config/envsched.example.toml, which lists every key")]
    Syntax {
        /// The file.
        origin: String,
        /// toml's message.
        message: String,
    },
    /// Keys whose values are wrong.
    #[error("{origin}: {} problem(s):\n{}", .issues.len(), render_issues(.issues))]
    Invalid {
        /// The file.
        origin: String,
        /// Every problem found.
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(issues: &[ConfigIssue]) -> String {
    issues.iter().map(|i| format!("  - {}: {}\n    fix: {}", i.key, i.message, i.fix)).collect::<Vec<_>>().join("\n")
}

/// One invalid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key, as a path (`targets[2].depends_on`).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// Prefixes of Notion integration tokens.
const TOKEN_PREFIXES: [&str; 2] = ["ntn_", "secret_"];

/// At least this many letters and digits after a prefix make a token (real ones carry 40 or
/// more; `secret_garden` stays readable).
const TOKEN_MIN_TAIL: usize = 16;

/// `text` with every run that looks like a Notion token (`ntn_` or `secret_` followed by at
/// least 16 ASCII letters and digits) replaced by its prefix and a note saying why. Every
/// config error passes through here, whatever the key: a token pasted into the wrong key
/// must not reach a terminal, a CI log or Datadog.
pub fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let token = TOKEN_PREFIXES.iter().find_map(|prefix| {
            let tail = rest.strip_prefix(prefix)?;
            let len = tail.bytes().take_while(u8::is_ascii_alphanumeric).count();
            (len >= TOKEN_MIN_TAIL).then_some((*prefix, prefix.len() + len))
        });
        match token {
            Some((prefix, len)) => {
                out.push_str(prefix);
                out.push_str(
                    "…(redacted, looks like a Notion token: tokens belong in the environment variable named by notion.token_env)",
                );
                rest = &rest[len..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}
