//! Configuration: the documented example loads, documents every key, and bad input names
//! the key and the fix.

use envsched_core::{Config, ConfigError, ConfigFile};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../config/envsched.example.toml");
const DEMO: &str = include_str!("../../../config/demo.toml");

#[test]
fn the_example_config_loads() {
    let c = Config::from_toml(EXAMPLE, "config/envsched.example.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.targets.is_empty());
    assert!(c.environments.iter().any(|e| e.calendar.hours.is_some()));
    Config::from_toml(DEMO, "config/demo.toml").unwrap_or_else(|e| panic!("{e}"));
}

/// Collects every property name in the JSON schema of the config file.
fn keys(schema: &Value, defs: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap();
                if !out.contains(&format!("#def:{name}")) {
                    out.push(format!("#def:{name}"));
                    keys(&defs[name], defs, out);
                }
            }
            if let Some(Value::Object(props)) = m.get("properties") {
                for (k, v) in props {
                    out.push(k.clone());
                    keys(v, defs, out);
                }
            }
            for k in ["items", "anyOf", "oneOf", "allOf"] {
                if let Some(v) = m.get(k) {
                    keys(v, defs, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, defs, out)),
        _ => {}
    }
}

#[test]
fn every_config_key_is_documented_in_the_example() {
    let schema = serde_json::to_value(schemars::schema_for!(ConfigFile)).unwrap();
    let mut all = Vec::new();
    keys(&schema, &schema["$defs"], &mut all);
    let mut missing = Vec::new();
    for k in all.iter().filter(|k| !k.starts_with("#def:")) {
        let documented = EXAMPLE.lines().any(|l| {
            let l = l.trim_start().trim_start_matches('#').trim_start();
            l.starts_with(&format!("{k} ="))
                || l.starts_with(&format!("[{k}]"))
                || l.starts_with(&format!("[[{k}]]"))
                || l.contains(&format!(".{k}]"))
                || l.contains(&format!("{k} = "))
        });
        if !documented {
            missing.push(k.clone());
        }
    }
    assert!(missing.is_empty(), "keys missing from config/envsched.example.toml: {missing:?}");
    assert!(all.len() > 40, "the schema walk found too few keys: {all:?}");
}

fn invalid(toml: &str) -> String {
    match Config::from_toml(toml, "bad.toml") {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_required_key_names_the_file_line_and_key() {
    let msg = invalid("[[targets]]\necs = { cluster = \"a\", service = \"b\" }\n");
    assert!(msg.starts_with("bad.toml: "), "{msg}");
    assert!(msg.contains("missing field `name`"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn an_unknown_key_is_rejected_not_ignored() {
    let msg = invalid("[schedule]\npoll = \"30s\"\n");
    assert!(msg.contains("unknown field `poll`"), "{msg}");
    assert!(msg.contains("poll_interval"), "lists the expected keys: {msg}");
}

#[test]
fn a_cycle_in_depends_on_is_rejected_with_the_cycle_named() {
    let msg = invalid(
        "[[targets]]\nname = \"a\"\necs = { cluster = \"c\", service = \"a\" }\ndepends_on = [\"b\"]\n\
         [[targets]]\nname = \"b\"\necs = { cluster = \"c\", service = \"b\" }\ndepends_on = [\"a\"]\n",
    );
    assert!(msg.contains("targets[0].depends_on: depends_on forms a cycle: a → b → a"), "{msg}");
    assert!(msg.contains("fix: remove one of the depends_on links"), "{msg}");
}

#[test]
fn an_unknown_environment_is_rejected_with_the_known_ones() {
    let msg = invalid(
        "[[environments]]\nname = \"stg1\"\n[[targets]]\nname = \"a\"\nenvironment = \"stg9\"\necs = { cluster = \"c\", service = \"a\" }\n",
    );
    assert!(msg.contains("targets[0].environment"), "{msg}");
    assert!(msg.contains("declare it with [[environments]] name = \"stg9\", or use one of [\"stg1\"]"), "{msg}");
}

#[test]
fn bad_values_each_name_their_key_and_all_are_reported_at_once() {
    let msg = invalid(
        "time_zone = \"Tokyo\"\n[notion]\ntoken_env = \"secret_abc123\"\napi_version = \"2023-01-01\"\n\
         [schedule]\nlead = \"ten minutes\"\nresync = \"0 0 25 * * *\"\n\
         [[environments]]\nname = \"stg1\"\nhours = { days = [\"mon\", \"funday\"], from = \"20:00\", to = \"08:00\" }\nholidays = \"us\"\nskip_dates = [\"29/12\"]\n\
         [safety]\nmax_stops_per_cycle = 0\n",
    );
    for key in [
        "time_zone:",
        "notion.token_env: this looks like a Notion token",
        "notion.api_version:",
        "schedule.lead:",
        "schedule.resync: \"0 0 25 * * *\": hour field \"25\": 25 is outside 0–23",
        "environments[0].hours.days[1]:",
        "environments[0].hours.to:",
        "environments[0].holidays:",
        "environments[0].skip_dates[0]:",
        "safety.max_stops_per_cycle:",
    ] {
        assert!(msg.contains(key), "missing {key:?} in:\n{msg}");
    }
    assert!(!msg.contains("secret_abc123"), "never echo a token: {msg}");
}

#[test]
fn targets_need_exactly_one_locator_and_counts_only_on_services() {
    let msg = invalid("[[targets]]\nname = \"a\"\n");
    assert!(msg.contains("needs exactly one of ecs and aurora"), "{msg}");
    let msg = invalid("[[targets]]\nname = \"db\"\naurora = { cluster_id = \"x\" }\ncount = 2\n");
    assert!(msg.contains("targets[0].count"), "{msg}");
}

#[test]
fn durations_read_like_people_write_them() {
    let c =
        Config::from_toml("[schedule]\npoll_interval = \"1m 30s\"\nlead = \"1h\"\nlinger = \"PT5M\"\n", "t").unwrap();
    assert_eq!(c.schedule.poll_interval.as_secs(), 90);
    assert_eq!(c.schedule.lead.as_secs(), 3600);
    assert_eq!(c.schedule.linger.as_secs(), 300);
}

#[test]
fn errors_are_typed_for_callers() {
    assert!(matches!(Config::from_toml("x = ", "t"), Err(ConfigError::Syntax { .. })));
    assert!(matches!(Config::from_toml("time_zone = \"Nowhere/Land\"", "t"), Err(ConfigError::Invalid { .. })));
}

#[test]
fn a_notion_token_pasted_into_any_key_is_never_echoed_in_config_errors() {
    let ntn = "ntn_4193082154a8Zx9QmL2vKp7TsW1yBn5cRd3fGh6jUe0oIq";
    let secret = "secret_veAgCQ8ruUoUryHSuVk88FJ6EBX8g4YQopdB2Gj9axy";
    let cases = [
        // Values the validator quotes.
        format!("time_zone = \"{secret}\"\n[notion]\ndatabase_id = \"{ntn}\"\ndata_source_id = \"{secret}\"\n"),
        // A TOML syntax error quotes the source line.
        format!("[notion]\ndatabase_id = {ntn}\n"),
        // A type error quotes the line too.
        format!("[notion]\nrequests_per_second = \"{secret}\"\n"),
    ];
    for toml in &cases {
        let msg = invalid(toml);
        for token in [ntn, secret] {
            let body = token.split_once('_').unwrap().1;
            assert!(!msg.contains(&body[..12]), "echoed a token:\n{msg}");
        }
        assert!(msg.contains("redacted, looks like a Notion token"), "says why a value is hidden:\n{msg}");
        assert!(msg.contains("notion.token_env"), "says where tokens belong:\n{msg}");
    }
    // Still names the keys.
    let msg = invalid(&cases[0]);
    for key in ["time_zone:", "notion.database_id:", "notion.data_source_id:"] {
        assert!(msg.contains(key), "missing {key:?} in:\n{msg}");
    }
    // A value that merely starts like one is shown as written.
    assert!(invalid("time_zone = \"secret_garden\"\n").contains("\"secret_garden\""));
}

#[test]
fn the_lease_is_optional_and_validated_with_the_key_named() {
    assert_eq!(Config::from_toml("", "none.toml").unwrap().lease, None);
    let c = Config::from_toml("[aws.lease]\ntable = \"envsched-lease\"\n", "lease.toml").unwrap();
    let lease = c.lease.unwrap();
    assert_eq!((lease.table.as_str(), lease.key.as_str()), ("envsched-lease", "envsched"));
    assert_eq!(lease.ttl, std::time::Duration::from_secs(60));
    let msg = invalid("[aws.lease]\ntable = \"my lease!\"\nttl = \"2s\"\nkey = \"\"\n");
    assert!(msg.contains("aws.lease.table: \"my lease!\" is not a DynamoDB table name"), "{msg}");
    assert!(msg.contains("aws.lease.ttl: \"2s\" is out of range"), "{msg}");
    assert!(msg.contains("aws.lease.key"), "{msg}");
    assert!(invalid("[aws.lease]\nkey = \"stg\"\n").contains("missing field `table`"));
}

/// The config the top-level README shows, cut out of the README itself.
fn readme_config() -> String {
    let readme = include_str!("../../../README.md");
    let section = readme.split("## A config").nth(1).expect("README has a section \"A config\"");
    let block = section.split("```toml\n").nth(1).expect("a toml block under \"A config\"");
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_readme_config_loads_and_behaves_as_the_readme_says() {
    use envsched_core::{Booking, Observed, Policy, TargetStatus, Window, desired, plan};
    let config = Config::from_toml(&readme_config(), "README.md").unwrap_or_else(|e| panic!("{e}"));
    // "A date-only booking of products/app1 for a working day brings up db/stg-aurora at
    // 07:50 (08:00 minus the lead time), then app1-web with 2 tasks once the cluster reports
    // available. At 20:00 the app stops."
    let day = jiff::civil::date(2026, 12, 1); // a Tuesday, not a holiday
    let booking = Booking {
        id: "p1".into(),
        title: "App1 check".into(),
        status: "利用中".into(),
        components: vec!["products/app1".into()],
        environment: Some("stg1".into()),
        window: Window::Days { first: day, last: day },
        trashed: false,
        feedback: None,
        last_edited: None,
        url: None,
        creator: None,
    };
    let at = |hm: &str| -> jiff::Timestamp {
        format!("2026-12-01T{hm}:00[Asia/Tokyo]").parse::<jiff::Zoned>().unwrap().timestamp()
    };
    let observed = |db: &str, count: u32| -> Observed {
        serde_json::from_str(&format!(
            r#"{{"ecs_services": [{{"cluster": "stg1", "service": "app1-web", "desired_count": {count}, "running_count": {count}}}],
                "aurora_clusters": [{{"id": "stg1-aurora", "status": "{db}"}}]}}"#
        ))
        .unwrap()
    };
    let plan_at = |hm: &str, o: &Observed| {
        plan(&desired(std::slice::from_ref(&booking), &config, at(hm)), o, &Policy::new(&config, None))
    };
    let stopped = observed("stopped", 0);
    assert!(plan_at("07:49", &stopped).is_empty(), "nothing before 07:50");
    let early = plan_at("07:50", &stopped);
    let ops: Vec<(&str, &str)> = early.actions().map(|(_, a)| (a.target.as_str(), a.op.name())).collect();
    assert_eq!(ops, [("stg1:db/stg-aurora", "start")], "the cluster first, at 07:50");
    let app = early.target("stg1:products/app1-web").unwrap();
    assert!(matches!(&app.status, TargetStatus::Waiting(w) if w.contains("db/stg-aurora")), "{:?}", app.status);
    let ready = plan_at("07:55", &observed("available", 0));
    let (_, scale) = ready.actions().next().expect("the app once the cluster is available");
    assert_eq!((scale.target.as_str(), scale.op.from_to()), ("stg1:products/app1-web", ("0".into(), "2".into())));
    let evening = plan_at("20:00", &observed("available", 2));
    let down: Vec<&str> = evening.actions().map(|(_, a)| a.target.as_str()).collect();
    assert!(down.iter().all(|t| *t == "stg1:products/app1-web") && !down.is_empty(), "the app stops first: {down:?}");
}

/// The components `init` and `sync-options` offer: every target, and the folder and dash
/// groups one option selects exactly — across environments, each once.
#[test]
fn offered_components_are_the_targets_and_the_groups_one_prefix_selects_exactly() {
    let config = envsched_fixtures::World::tokyo()
        .env("stg1")
        .ecs("products/app1-web", "a1w")
        .ecs("products/app1-api", "a1a")
        .ecs("products/app10-web", "a10")
        .ecs("products/shop/web", "sw")
        .ecs("products/shop/worker", "sk")
        .ecs("services/batch", "b")
        .aurora("db/stg-aurora", "c1")
        .env("stg2")
        .ecs("products/app1-web", "a1w")
        .config();
    assert_eq!(
        config.targets.offered_components(),
        [
            "db/stg-aurora",
            // no "products/app1": it would select products/app10-web too
            "products/app1-api",
            "products/app1-web",
            "products/app10-web",
            "products/shop",
            "products/shop/web",
            "products/shop/worker",
            "services/batch",
        ]
    );
    // Without the look-alike, the dash group is offered.
    let config = envsched_fixtures::World::tokyo()
        .env("stg1")
        .ecs("products/app1-web", "a1w")
        .ecs("products/app1-api", "a1a")
        .ecs("services/batch-nightly", "b")
        .config();
    assert_eq!(
        config.targets.offered_components(),
        ["products/app1", "products/app1-api", "products/app1-web", "services/batch-nightly"]
    );
}

/// A Cabinet Office CSV (Shift_JIS bytes, CRLF, header) loaded for an environment: for the
/// years it lists its dates are the holidays — even a date the rule does not have, and not
/// a rule date it leaves out — and other years follow the rule, with no problem reported.
#[test]
fn an_official_holiday_csv_replaces_the_rule_for_the_years_it_lists() {
    let toml = "[[environments]]\nname = \"stg1\"\nholidays = \"jp\"\nholidays_csv = \"syukujitsu.csv\"\n";
    let mut config = Config::from_toml(toml, "t.toml").unwrap();
    // 国民の祝日・休日月日,国民の祝日・休日名称 in Shift_JIS, then 2027 with one invented change:
    // 3/22 (the rule's 振替休日) left out, 3/23 listed instead.
    let mut csv: Vec<u8> = vec![0x8d, 0x91, 0x96, 0xaf, b',', 0x96, 0xbc, 0x8f, 0xcc, b'\r', b'\n'];
    for line in ["2027/1/1", "2027/3/21", "2027/3/23"] {
        csv.extend_from_slice(line.as_bytes());
        csv.extend_from_slice(&[b',', 0x8b, 0x78, 0x93, 0xfa, b'\r', b'\n']);
    }
    config
        .load_holiday_lists("t.toml", |p| {
            if p == "syukujitsu.csv" { Ok(csv.clone()) } else { Err(std::io::ErrorKind::NotFound.into()) }
        })
        .unwrap();
    let cal = config.calendar(Some("stg1"));
    let day = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    assert!(cal.is_holiday(day("2027-03-23")), "the official list wins");
    assert!(!cal.is_holiday(day("2027-03-22")), "a rule date the list leaves out is a working day");
    assert!(cal.is_holiday(day("2028-03-20")), "other years follow the rule");
    // A file that is not the CSV names the key and the line, and loads nothing.
    let mut config = Config::from_toml(toml, "t.toml").unwrap();
    let err = config
        .load_holiday_lists("t.toml", |_| Ok(b"date,name\r\n2027/1/1,x\r\nnot a date,y\r\n".to_vec()))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("environments[0].holidays_csv") && text.contains("line 3: \"not a date\""), "{text}");
    assert!(config.calendar(Some("stg1")).official.is_none());
    let err = config.load_holiday_lists("t.toml", |_| Err(std::io::ErrorKind::NotFound.into())).unwrap_err();
    assert!(err.to_string().contains("cannot read \"syukujitsu.csv\""), "{err}");
    // holidays_csv needs holidays = "jp".
    let err = Config::from_toml("[[environments]]\nname = \"e\"\nholidays_csv = \"x.csv\"\n", "t.toml").unwrap_err();
    assert!(err.to_string().contains("environments[0].holidays_csv"), "{err}");
}

/// `[aws.pacing]`: presets by name, rates over them, and what is refused (named by key).
#[test]
fn aws_pacing_takes_a_preset_and_rates_and_refuses_what_makes_no_sense() {
    let c = Config::from_toml("[aws.pacing]\npreset = \"aws-limits\"\necs_write = { rate = 2.5, burst = 10 }\n", "t")
        .unwrap();
    assert_eq!(c.aws.pacing.preset.as_deref(), Some("aws-limits"));
    assert_eq!(c.aws.pacing.ecs_write.map(|r| (r.rate, r.burst)), Some((2.5, 10)));
    for (toml, key, what) in [
        ("[aws.pacing]\npreset = \"fast\"\n", "aws.pacing.preset", "not a pacing preset"),
        ("[aws.pacing]\nrds = { rate = 0, burst = 5 }\n", "aws.pacing.rds", "rate 0 is out of range"),
        ("[aws.pacing]\necs_read = { rate = 5, burst = 0 }\n", "aws.pacing.ecs_read", "burst 0 is out of range"),
        (
            "[aws.pacing]\npreset = \"off\"\necs_tag = { rate = 5, burst = 5 }\n",
            "aws.pacing.ecs_tag",
            "a rate with pacing off",
        ),
    ] {
        let err = Config::from_toml(toml, "t").unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(what), "{toml}: {err}");
    }
}
