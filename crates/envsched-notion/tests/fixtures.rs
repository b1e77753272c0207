//! The parser against the recorded Notion responses in `../shared/fixtures/notion`, read in
//! place (never copied), and against the parsed expectations in `expected.json`.

mod common;

use envsched_core::config::Notion;
use envsched_core::{Booking, Config, Window, desired};
use envsched_notion::parse::parse_date;
use envsched_notion::{ParseError, parse_page, parse_query_response};
use serde_json::Value;

fn read(name: &str) -> String {
    std::fs::read_to_string(common::fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn notion() -> Notion {
    Notion {
        environment_property: Some("環境".into()),
        feedback_property: Some("envsched".into()),
        ..Notion::default()
    }
}

fn parse_all(files: &[&str]) -> Vec<Booking> {
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let page = parse_query_response(&read(f), &notion()).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(page.has_more, i + 1 < files.len(), "{f}: has_more");
        assert_eq!(page.next_cursor.is_some(), page.has_more, "{f}: next_cursor");
        out.extend(page.bookings);
    }
    out
}

fn expected() -> Value {
    serde_json::from_str(&read("expected.json")).unwrap()
}

fn window_json(w: &Window) -> Value {
    match w {
        Window::Open => serde_json::json!({"kind": "none"}),
        Window::Days { first, last } => {
            serde_json::json!({"kind": "date_only", "start_date": first.to_string(), "end_date": last.to_string()})
        }
        Window::Span { start, end } => {
            serde_json::json!({"kind": "datetime", "start": start.to_string(), "end": end.map(|e| e.to_string())})
        }
    }
}

fn check_against_expected(bookings: &[Booking], exp: &Value) {
    let reference = reference_config();
    let exp_list = exp["bookings"].as_array().unwrap();
    assert_eq!(bookings.len(), exp_list.len());
    for (b, e) in bookings.iter().zip(exp_list) {
        let ctx = format!("row {}", e["page_id"]);
        assert_eq!(b.id, e["page_id"].as_str().unwrap(), "{ctx}");
        assert_eq!(b.title, e["title"].as_str().unwrap(), "{ctx}");
        assert_eq!(b.status, e["status"].as_str().unwrap(), "{ctx}");
        let comps: Vec<&str> = e["components"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(b.components, comps, "{ctx}");
        assert_eq!(b.environment.as_deref(), e["environment"].as_str(), "{ctx}");
        assert_eq!(b.trashed, e["trashed"].as_bool().unwrap(), "{ctx}");
        assert_eq!(b.feedback.as_deref().unwrap_or(""), e["feedback_text"].as_str().unwrap(), "{ctx}");
        assert_eq!(
            b.last_edited.map(|t| t.to_string()).as_deref(),
            Some(e["last_edited_time"].as_str().unwrap().replace(".000Z", "Z").as_str()),
            "{ctx}"
        );
        let w = window_json(&b.window);
        let ew = &e["window"];
        assert_eq!(w["kind"], ew["kind"], "{ctx}");
        match ew["kind"].as_str().unwrap() {
            "date_only" => {
                assert_eq!(w["start_date"], ew["start_date"], "{ctx}");
                let end = ew["end_date"].as_str().or(ew["start_date"].as_str());
                assert_eq!(w["end_date"].as_str(), end, "{ctx}: end null = that one day");
                // The effective instants under the default calendar (whole days, Asia/Tokyo).
                let eff = &ew["effective_utc_without_operating_hours"];
                let iv = effective(&reference, &b.window);
                assert_eq!(iv.len(), 1, "{ctx}");
                assert_eq!(iv[0].start.to_string(), eff["start"].as_str().unwrap(), "{ctx}");
                assert_eq!(iv[0].end.to_string(), eff["end_exclusive"].as_str().unwrap(), "{ctx}");
            }
            "datetime" => {
                assert_eq!(w["start"], ew["start"], "{ctx}");
                assert_eq!(w["end"], ew["end"], "{ctx}");
                if let Some(eff) = ew.get("effective_utc") {
                    let iv = effective(&reference, &b.window);
                    assert_eq!(
                        iv[0].end.to_string(),
                        eff["end_exclusive"].as_str().unwrap(),
                        "{ctx}: end of the start's day in Asia/Tokyo"
                    );
                }
            }
            _ => {}
        }
        assert_eq!(
            envsched_core::desired::is_live(b, &reference),
            e["active_with_default_config"].as_bool().unwrap(),
            "{ctx}"
        );
        // Problems under the reference config, evaluated at the window's start.
        let when = match &b.window {
            Window::Span { start, .. } => *start,
            Window::Days { first, .. } => {
                first.to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).unwrap().timestamp()
            }
            Window::Open => "2026-12-01T03:00:00Z".parse().unwrap(),
        };
        let d = desired(std::slice::from_ref(b), &reference, when);
        let got: Vec<String> = d.problems.iter().map(|p| p.message.clone()).collect();
        let want: Vec<&str> = if envsched_core::desired::is_live(b, &reference) {
            e["expected_problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect()
        } else {
            Vec::new()
        };
        assert_eq!(got.len(), want.len(), "{ctx}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(w.starts_with(g.as_str()), "{ctx}: problem {g:?} should read like {w:?}");
        }
    }
}

/// The window's instants under the reference config's default calendar (whole days in
/// Asia/Tokyo, no lead or linger).
fn effective(reference: &Config, w: &Window) -> Vec<envsched_core::Interval> {
    let zero = jiff::SignedDuration::ZERO;
    reference.calendar(None).intervals(w, zero, zero, jiff::Timestamp::MIN, jiff::Timestamp::MAX)
}

/// The fixture README's reference config: five shared targets and four environments.
fn reference_config() -> Config {
    let mut toml = String::from("[notion]\nenvironment_property = \"環境\"\nfeedback_property = \"envsched\"\n");
    for e in ["stg1", "stg2", "stg3", "stg4"] {
        toml.push_str(&format!("[[environments]]\nname = \"{e}\"\n"));
    }
    let exp = expected();
    for (i, name) in exp["rules"]["reference_config_targets"].as_array().unwrap().iter().enumerate() {
        let name = name.as_str().unwrap();
        if name.starts_with("db/") {
            toml.push_str(&format!("[[targets]]\nname = \"{name}\"\naurora = {{ cluster_id = \"c{i}\" }}\n"));
        } else {
            toml.push_str(&format!(
                "[[targets]]\nname = \"{name}\"\necs = {{ cluster = \"stg\", service = \"s{i}\" }}\n"
            ));
        }
    }
    Config::from_toml(&toml, "reference").unwrap()
}

#[test]
fn every_row_of_the_2022_06_28_query_pages_parses_as_expected() {
    let exp = expected();
    let files: Vec<&str> =
        exp["sources"]["2022-06-28"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    check_against_expected(&parse_all(&files), &exp);
}

#[test]
fn every_row_of_the_2025_09_03_data_source_pages_parses_identically() {
    let exp = expected();
    let files: Vec<&str> =
        exp["sources"]["2025-09-03"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let new = parse_all(&files);
    check_against_expected(&new, &exp);
    let old_files: Vec<&str> =
        exp["sources"]["2022-06-28"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let old = parse_all(&old_files);
    for (a, b) in new.iter().zip(&old) {
        assert_eq!((a.id.as_str(), &a.window, &a.components), (b.id.as_str(), &b.window, &b.components));
    }
}

/// The 2026-03-11 files: the same rows as the 2025-09-03 ones, with no `archived` key.
#[test]
fn every_row_of_the_2026_03_11_data_source_pages_parses_identically() {
    let exp = expected();
    let files: Vec<String> = exp["sources"]["2025-09-03"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("2026-03-11/{}", v.as_str().unwrap()))
        .collect();
    for f in &files {
        assert!(!read(f).contains("\"archived\""), "{f} should have no archived key (the fixture's own promise)");
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    check_against_expected(&parse_all(&files), &exp);
    // The trash still reads as the trash without `archived`.
    let page: Value = serde_json::from_str(&read("2026-03-11/page-in-trash.json")).unwrap();
    assert!(parse_page(&page, &notion()).unwrap().trashed);
    let err = parse_query_response(&read("2026-03-11/query-incomplete.json"), &notion()).unwrap_err();
    assert!(matches!(err, ParseError::Incomplete { .. }), "{err}");
    let err = parse_query_response(&read("2026-03-11/query-data-source-renamed-property.json"), &notion()).unwrap_err();
    assert!(err.to_string().contains("\"状態\""), "{err}");
}

#[test]
fn a_trashed_page_parses_as_trashed_and_keeps_nothing_up() {
    let page: Value = serde_json::from_str(&read("page-in-trash-2025-09-03.json")).unwrap();
    let b = parse_page(&page, &notion()).unwrap();
    assert!(b.trashed);
    assert!(!envsched_core::desired::is_live(&b, &reference_config()));
    assert_eq!(
        b.title,
        expected()["other_cases"]["page-in-trash-2025-09-03.json"]["booking"]["title"].as_str().unwrap()
    );
}

#[test]
fn the_ten_thousand_row_cap_is_an_error_not_a_short_list() {
    let err = parse_query_response(&read("query-incomplete.json"), &notion()).unwrap_err();
    assert!(matches!(err, ParseError::Incomplete { ref reason } if reason == "query_result_limit_reached"), "{err}");
    let source: envsched_core::SourceError = err.into();
    assert_eq!(source.kind(), "incomplete");
}

#[test]
fn a_renamed_property_is_an_error_naming_it_and_suggesting_the_new_name() {
    let err = parse_query_response(&read("query-data-source-renamed-property.json"), &notion()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no property \"ステータス\""), "{msg}");
    assert!(msg.contains("\"状態\""), "{msg}");
    assert!(msg.contains("notion.status_property"), "{msg}");
}

#[test]
fn a_property_of_the_wrong_type_names_row_property_and_key() {
    let mut n = notion();
    n.components_property = "envsched".into(); // a rich_text property
    let err = parse_query_response(&read("query-page1.json"), &n).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 'ServiceSite 検証（11/24〜26）' (2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701): property \"envsched\" is rich_text, expected multi_select; fix: point notion.components_property at a multi_select property or change the property's type in Notion"
    );
}

#[test]
fn an_html_error_page_or_truncated_json_is_a_clear_error() {
    let err = parse_query_response(&read("errors/502-bad_gateway-edge.html"), &notion()).unwrap_err();
    assert!(matches!(err, ParseError::NotJson { .. }));
    let body = read("query-page1.json");
    let err = parse_query_response(&body[..body.len() / 2], &notion()).unwrap_err();
    assert!(err.to_string().starts_with("response is not JSON"), "{err}");
}

#[test]
fn date_values_parse_by_offset_or_time_zone_never_by_wall_clock() {
    let cases: Value = serde_json::from_str(&read("parser-cases/date-values.json")).unwrap();
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let w = window_json(&parse_date(&case["date"]).unwrap_or_else(|e| panic!("{name}: {e}")));
        let e = &case["expected"];
        assert_eq!(w["kind"], e["kind"], "{name}");
        for k in ["start", "end", "start_date", "end_date"] {
            if let Some(v) = e.get(k) {
                assert_eq!(&w[k], v, "{name}: {k}");
            }
        }
    }
}

#[test]
fn mixed_date_and_date_time_values_are_rejected_with_the_fix() {
    let err =
        parse_date(&serde_json::json!({"start": "2026-12-01", "end": "2026-12-02T10:00:00+09:00", "time_zone": null}))
            .unwrap_err();
    assert!(err.contains("give both a time or neither"), "{err}");
    let err =
        parse_date(&serde_json::json!({"start": "2026-12-01T10:00:00", "end": null, "time_zone": null})).unwrap_err();
    assert!(err.contains("neither an offset nor a time_zone"), "{err}");
}
