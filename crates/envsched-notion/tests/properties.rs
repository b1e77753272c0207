//! The page parser on input nobody should send, but Notion (or a proxy, or a half-migrated
//! database) might: arbitrary JSON, recorded pages with one property replaced by anything,
//! deep nesting and odd Unicode. It never panics; an error names the property (and row) it
//! could not read, or the part of the response that has the wrong shape.

mod common;

use envsched_core::config::Notion;
use envsched_notion::{ParseError, parse_page, parse_query_response};
use proptest::prelude::*;
use serde_json::{Value, json};

fn notion() -> Notion {
    Notion {
        environment_property: Some("環境".into()),
        feedback_property: Some("envsched".into()),
        ..Notion::default()
    }
}

fn recorded() -> Value {
    let text = std::fs::read_to_string(common::fixtures().join("query-page1.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Strings people and tools put in Notion: CJK, emoji with joiners, right-to-left marks,
/// combining characters, NUL, lone surrogates' replacement, and plain ASCII.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 :/_-]{0,12}",
        "\\PC{0,16}",
        Just("利用中".to_string()),
        Just("\u{200F}\u{202E}مرحبا\u{0301}".to_string()),
        Just("👩\u{200D}💻\u{FE0F}".to_string()),
        Just("\0\u{FFFD}\u{10FFFF}".to_string()),
        Just("2026-02-30T25:61:00.000+09:00".to_string()),
        Just("2026-11-24".to_string()),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        odd_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    odd_string(),
                    Just("type".to_string()),
                    Just("name".to_string()),
                    Just("start".to_string()),
                    Just("end".to_string()),
                    Just("date".to_string()),
                    Just("status".to_string()),
                    Just("select".to_string()),
                    Just("multi_select".to_string()),
                    Just("title".to_string()),
                    Just("plain_text".to_string()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_the_parser(v in any_json()) {
        let _ = parse_query_response(&v.to_string(), &notion());
        let _ = parse_page(&v, &notion());
        // As a page, and as the only result of a list.
        let list = json!({"object": "list", "results": [v.clone()], "has_more": false, "next_cursor": null});
        let _ = parse_query_response(&list.to_string(), &notion());
        let page = json!({"object": "page", "id": "p1", "properties": v});
        let _ = parse_page(&page, &notion());
    }

    #[test]
    fn a_recorded_page_with_one_property_replaced_is_read_or_names_that_property(
        row in 0usize..8,
        which in 0usize..16,
        value in any_json(),
        keep_type in any::<bool>(),
    ) {
        let mut v = recorded();
        let results = v["results"].as_array_mut().unwrap();
        let n = results.len();
        let page = &mut results[row % n];
        let id = page["id"].as_str().unwrap().to_string();
        let props = page["properties"].as_object_mut().unwrap();
        let names: Vec<String> = props.keys().cloned().collect();
        let name = names[which % names.len()].clone();
        let prop = props.get_mut(&name).unwrap();
        // Either the whole property, or only its value under its own type.
        let ty = prop["type"].as_str().unwrap_or("").to_string();
        if keep_type && !ty.is_empty() {
            prop[ty.as_str()] = value;
        } else {
            *prop = value;
        }
        match parse_query_response(&v.to_string(), &notion()) {
            Ok(_) => {}
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.contains(&name), "{text:?} does not name {name:?}");
                if let ParseError::BadValue { row, .. } = &e {
                    prop_assert_eq!(row, &id);
                }
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 10_000, 100_000] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(matches!(parse_query_response(&body, &notion()), Err(ParseError::NotJson { .. })), "depth {depth}");
        let page = format!(
            r#"{{"object":"list","has_more":false,"next_cursor":null,"results":[{{"object":"page","id":"p","properties":{}1{}}}]}}"#,
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        );
        let e = parse_query_response(&page, &notion()).unwrap_err();
        assert!(matches!(e, ParseError::NotJson { .. }), "depth {depth}: {e}");
    }
}
