//! Discovery by tag, as a user sees it: which tagged resources become targets, which
//! conflicts are reported, and that bookings select discovered targets like declared ones.

mod common;

use common::*;
use envsched_core::{Config, DesiredState, Locator, Place, Subject, desired, discover, effective};

const DISCOVER: &str = r#"
[[environments]]
name = "stg3"
discover = { ecs_clusters = ["stg3"], aurora = true }
[discovery]
ecs_clusters = ["tools"]
"#;

fn names(config: &Config) -> Vec<String> {
    config.targets.all().iter().map(|t| t.key().to_string()).collect()
}

fn problems_about(problems: &[envsched_core::Problem], key: &str) -> Vec<String> {
    problems
        .iter()
        .filter(|p| matches!(&p.subject, Subject::Target(t) if t == key))
        .map(|p| p.message.clone())
        .collect()
}

#[test]
fn tagged_services_in_listed_clusters_become_targets_of_that_environment() {
    let c = config_with(DISCOVER);
    let observed = fleet()
        .service("stg3", "app1-web", 1, 1)
        .tag("stg3", "app1-web", "envsched:name", "products/app1-web")
        .service("stg3", "batch", 1, 1)
        .service("tools", "mailcatcher", 1, 1)
        .tag("tools", "mailcatcher", "envsched:name", "tools/mailcatcher")
        // Tagged, but its cluster is not listed for discovery: never a target.
        .service("stg9", "rogue", 1, 1)
        .tag("stg9", "rogue", "envsched:name", "products/rogue")
        .build();
    let d = discover(&c, &observed);
    assert_eq!(d.added, 2, "{:?}", d.problems);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let merged = c.with_targets(d.targets);
    let keys = names(&merged);
    assert!(keys.contains(&"stg3:products/app1-web".to_string()), "{keys:?}");
    assert!(keys.contains(&"tools/mailcatcher".to_string()), "shared: {keys:?}");
    assert!(!keys.iter().any(|k| k.contains("rogue") || k.contains("batch")), "{keys:?}");

    // A stg3 booking selects the discovered service; the untagged one is not envsched's.
    let b = booking("stg3 work").env(Some("stg3")).components(["products/app1"]).build();
    let d = desired(&[b], &merged, at("2026-11-24T10:00:00+09:00"));
    let web = d.targets.iter().find(|t| t.target.key() == "stg3:products/app1-web").expect("discovered target");
    assert_eq!(web.state, DesiredState::Up);
    assert_eq!(web.target.locator, Locator::ecs("stg3", "app1-web"));
}

#[test]
fn a_declaration_wins_over_a_tag_and_the_conflict_is_reported() {
    // Declared stg1 services live in cluster stg1; list it too so their tags are seen.
    let c = config_with(&format!(
        "{DISCOVER}\n[[environments]]\nname = \"stg4\"\ndiscover = {{ ecs_clusters = [\"stg1\"] }}\n"
    ));
    let observed = fleet()
        // Declared as stg1:products/app1-web, tagged with another name.
        .tag("stg1", "app1-web", "envsched:name", "products/other")
        // A new service tagged with a name the config already uses for another resource.
        .service("tools", "creditcard-v2", 1, 1)
        .tag("tools", "creditcard-v2", "envsched:name", "services/creditcard")
        .build();
    let d = discover(&c, &observed);
    assert_eq!(d.added, 0);
    let merged = c.with_targets(d.targets.clone());
    let web = merged.targets.all().iter().find(|t| t.locator == Locator::ecs("stg1", "app1-web")).unwrap();
    assert_eq!(web.key(), "stg1:products/app1-web", "the declaration's name is kept");
    assert_eq!(problems_about(&d.problems, "stg1:products/app1-web").len(), 1, "{:?}", d.problems);
    // The shared tag clashes with the stg1 declaration of the same name.
    let clash = problems_about(&d.problems, "services/creditcard");
    assert_eq!(clash.len(), 1, "{:?}", d.problems);
    assert!(clash[0].contains("already declared"), "{clash:?}");
}

#[test]
fn two_resources_with_one_name_are_both_left_out() {
    let c = config_with(DISCOVER);
    let observed = fleet()
        .service("stg3", "a", 1, 1)
        .tag("stg3", "a", "envsched:name", "products/x")
        .service("stg3", "b", 1, 1)
        .tag("stg3", "b", "envsched:name", "products/x")
        .build();
    let d = discover(&c, &observed);
    assert_eq!(d.added, 0);
    let p = problems_about(&d.problems, "stg3:products/x");
    assert!(p.len() == 1 && p[0].contains("2 resources"), "{:?}", d.problems);
}

#[test]
fn a_shared_name_also_used_in_an_environment_is_left_out_on_both_sides() {
    let c = config_with(DISCOVER);
    let observed = fleet()
        .service("stg3", "x", 1, 1)
        .tag("stg3", "x", "envsched:name", "products/x")
        .service("tools", "x", 1, 1)
        .tag("tools", "x", "envsched:name", "products/x")
        .service("stg3", "y", 1, 1)
        .tag("stg3", "y", "envsched:name", "products/y")
        .build();
    let d = discover(&c, &observed);
    assert_eq!(d.added, 1, "products/y still comes in: {:?}", d.problems);
    assert_eq!(d.problems.len(), 2, "{:?}", d.problems);
}

#[test]
fn depends_on_tags_link_discovered_targets_and_unknown_names_are_reported() {
    let c = config_with(DISCOVER);
    let mut observed = fleet()
        .service("stg3", "api", 0, 0)
        .tag("stg3", "api", "envsched:name", "products/api")
        .tag("stg3", "api", "envsched:depends-on", "db/stg3-aurora")
        .service("stg3", "worker", 0, 0)
        .tag("stg3", "worker", "envsched:name", "products/worker")
        .tag("stg3", "worker", "envsched:depends-on", "db/nope")
        .cluster("stg3-aurora", "stopped")
        .cluster_tag("stg3-aurora", "envsched:name", "db/stg3-aurora")
        .cluster_tag("stg3-aurora", "envsched:environment", "stg3")
        // Tagged for another environment: not stg3's.
        .cluster("stg1-other", "stopped")
        .cluster_tag("stg1-other", "envsched:name", "db/other")
        .cluster_tag("stg1-other", "envsched:environment", "stg1")
        .build();
    let d = discover(&c, &observed);
    assert_eq!(d.added, 2, "api and its DB: {:?}", d.problems);
    let p = problems_about(&d.problems, "stg3:products/worker");
    assert!(p.len() == 1 && p[0].contains("db/nope"), "{:?}", d.problems);

    // The discovered dependency gates the way up like a declared one: DB first.
    let (merged, _, _) = effective(&c, &observed);
    let b = booking("api").env(Some("stg3")).components(["products/api"]).build();
    let now = at("2026-11-24T10:00:00+09:00");
    let p = envsched_core::plan(
        &desired(std::slice::from_ref(&b), &merged, now),
        &observed,
        &envsched_core::Policy::new(&merged, None),
    );
    let first: Vec<&str> = p.phases[0].actions.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(first, ["stg3:db/stg3-aurora"], "{}", serde_json::to_string(&p.phases).unwrap());
    // Once the DB is available the service follows.
    observed.aurora_clusters.iter_mut().find(|c| c.id == "stg3-aurora").unwrap().status =
        envsched_core::AuroraStatus::Available;
    let p = envsched_core::plan(&desired(&[b], &merged, now), &observed, &envsched_core::Policy::new(&merged, None));
    assert!(p.actions().any(|(_, a)| a.target == "stg3:products/api"), "{:?}", p.phases);
}

#[test]
fn without_discovery_the_declared_config_is_used_as_is() {
    let c = config();
    let observed = fleet().service("stg3", "x", 1, 1).tag("stg3", "x", "envsched:name", "products/x").build();
    let (used, problems, added) = effective(&c, &observed);
    assert!(matches!(used, std::borrow::Cow::Borrowed(_)));
    assert_eq!((problems.len(), added), (0, 0));
    assert_eq!(names(&used), names(&c));
}

#[test]
fn environments_in_other_accounts_place_their_targets_there() {
    let c = config_with(
        r#"
[[environments]]
name = "dev9"
aws = { role_arn = "arn:aws:iam::111111111111:role/envsched", region = "eu-west-1" }
[[targets]]
name = "products/app1-web"
environment = "dev9"
ecs = { cluster = "stg1", service = "app1-web" }
"#,
    );
    // Same cluster and service names as stg1's target, but another account: no clash.
    let t = c.targets.all().iter().find(|t| t.key() == "dev9:products/app1-web").unwrap();
    let place =
        Place { role_arn: Some("arn:aws:iam::111111111111:role/envsched".into()), region: Some("eu-west-1".into()) };
    assert_eq!(t.locator, Locator::ecs("stg1", "app1-web").in_place(place));
    // A snapshot of the default account does not stand in for the other one.
    let d = desired(&[], &c, at("2026-11-24T10:00:00+09:00"));
    let p = envsched_core::plan(&d, &fleet().build(), &envsched_core::Policy::new(&c, None));
    let tp = p.targets.iter().find(|t| t.key == "dev9:products/app1-web").unwrap();
    assert_eq!(tp.observed.state, "missing");
    let stg1 = p.targets.iter().find(|t| t.key == "stg1:products/app1-web").unwrap();
    assert_eq!(stg1.observed.state, "stopped");
}

#[test]
fn bad_places_and_discovery_settings_are_named_with_the_fix() {
    let err = Config::from_toml(
        &format!(
            "{}\n[[environments]]\nname = \"x\"\naws = {{ role_arn = \"envsched\" }}\ndiscover = {{ ecs_clusters = [\"stg1\", \"stg1\"] }}\n[discovery]\ntag = \"aws:name\"\n[[ecspresso]]\nroot = \"infra\"\nenv = \"stg\"\nenvironment = \"nope\"\n",
            world().toml()
        ),
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    for needle in [
        "environments[2].aws.role_arn",
        "arn:aws:iam::<12-digit account id>:role/<name>",
        "environments[2].discover.ecs_clusters",
        "listed for discovery twice",
        "discovery.tag",
        "ecspresso[0].environment",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}
