//! The config loader on arbitrary input: any text, and the example config with one key's
//! value replaced by any TOML value (odd Unicode, huge or non-finite numbers, deep nesting).
//! It never panics; a rejected file's error names the key.

use envsched_core::Config;
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../../../config/envsched.example.toml");

/// Keys of the example, as `(table header, key)`: the value on the first `key = …` line after
/// the header is replaced.
const KEYS: &[(&str, &str)] = &[
    ("", "time_zone"),
    ("[notion]", "database_id"),
    ("[notion]", "api_version"),
    ("[notion]", "token_env"),
    ("[notion]", "requests_per_second"),
    ("[notion]", "active_statuses"),
    ("[schedule]", "poll_interval"),
    ("[schedule]", "lead"),
    ("[schedule]", "drain"),
    ("[defaults]", "count"),
    ("[[environments]]", "name"),
    ("[[environments]]", "time_zone"),
    ("[[targets]]", "name"),
    ("[[targets]]", "depends_on"),
    ("[aws.lease]", "table"),
    ("[aws.lease]", "ttl"),
    ("[http]", "listen"),
    ("[safety]", "max_stops_per_cycle"),
    ("[safety]", "protected"),
    ("[tags]", "prefix"),
    ("[pricing]", "task_hour_usd"),
];

/// A TOML string literal holding `s` (basic string, every non-ASCII or control character
/// escaped, so the literal itself is always valid TOML).
fn literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 :./_*-]{0,12}",
        "\\PC{0,12}",
        Just("ntn_1234567890abcdefghijklmnopqrstuvwxyzABCD".to_string()),
        Just("\u{200F}\u{202E}環境\u{0301}".to_string()),
        Just("👩\u{200D}💻".to_string()),
        Just("\u{7F}\u{1}\t".to_string()),
        Just("30s".to_string()),
        Just("-5m".to_string()),
        Just("99999999999h".to_string()),
        Just("Asia/Tokyo".to_string()),
    ]
}

/// A TOML value, as text.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        prop_oneof![Just("nan"), Just("inf"), Just("-inf"), Just("1e308"), Just("-0.0"), Just("0.5")]
            .prop_map(str::to_string),
        odd_string().prop_map(|s| literal(&s)),
        Just("1979-05-27T07:32:00Z".to_string()),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..4).prop_map(|kv| {
                // Duplicate keys make invalid TOML, which is fine too: a syntax error.
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
        ]
    })
}

/// The example with `key`'s value (after `header`) replaced by `value`, and the value it
/// had; `None` when the example has no such line.
fn with_value(header: &str, key: &str, value: &str) -> Option<(String, String)> {
    let mut in_table = header.is_empty();
    let mut done = false;
    let mut old = String::new();
    let mut out = String::new();
    for line in EXAMPLE.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_table = t == header;
        }
        if !done && in_table && t.starts_with(&format!("{key} =")) {
            old = t[key.len() + 2..].trim().to_string();
            out.push_str(&format!("{key} = {value}\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    done.then_some((out, old))
}

#[test]
fn every_replaced_key_exists_in_the_example() {
    for (header, key) in KEYS {
        assert!(with_value(header, key, "1").is_some(), "{header} {key}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_a_config_or_an_error(text in "\\PC{0,200}") {
        let _ = Config::from_toml(&text, "fuzz.toml");
    }

    #[test]
    fn a_key_with_any_value_loads_or_the_error_names_the_key(which in 0..KEYS.len(), v in value()) {
        let (header, key) = KEYS[which];
        let (text, old) = with_value(header, key, &v).unwrap();
        if let Err(e) = Config::from_toml(&text, "fuzz.toml") {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("fuzz.toml"), "{msg}");
            // A renamed environment or target breaks the keys that refer to it: the error then
            // names those keys and the name (the old value, quoted) they can no longer find.
            prop_assert!(
                msg.contains(key) || msg.contains(&old),
                "the error names neither {key} nor the name {old} it held: {msg}"
            );
            // A token typed into any key is never echoed.
            prop_assert!(!msg.contains("ntn_1234567890abcdefghij"), "{msg}");
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [100, 10_000] {
        let text = format!("x = {}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(Config::from_toml(&text, "deep.toml").is_err(), "depth {depth}");
        let text = format!("x = {}1{}", "{ a = ".repeat(depth), " }".repeat(depth));
        assert!(Config::from_toml(&text, "deep.toml").is_err(), "depth {depth}");
    }
}
