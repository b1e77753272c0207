//! The AWS fleet against moto's server (a real AWS emulator speaking the real wire protocol),
//! through the official SDK. One moto process per test: tests run in parallel and never share
//! state.

mod common;
mod moto_world;

use common::booking;
use envsched_aws::AwsFleet;
use envsched_core::{Booking, Config, CycleState, FixedClock, FixedSource, Fleet, Mode, Outcome, reconcile};
use envsched_fixtures::{World, moto};
use moto_world::{AT, Moto, config, cycle, mutating, service, world, world_config};

/// A moto server holding [`world`], its SDK config and a fleet on it. Keep the server
/// alive for the test (it stops when dropped).
async fn started() -> (Moto, aws_config::SdkConfig, AwsFleet) {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    world(&sdk).await;
    let fleet = AwsFleet::new(&sdk);
    (moto, sdk, fleet)
}

async fn capacity(sdk: &aws_config::SdkConfig) -> (i32, i32) {
    let out = aws_sdk_applicationautoscaling::Client::new(sdk)
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_ids("service/stg1/app1-web")
        .send()
        .await
        .unwrap();
    let t = &out.scalable_targets()[0];
    (t.min_capacity(), t.max_capacity())
}

#[tokio::test]
async fn observe_reads_counts_tags_autoscaling_and_cluster_status_in_batches() {
    let (_moto, _sdk, fleet) = started().await;
    let observed = fleet.observe(&config().targets.locators(), &Default::default()).await.unwrap();
    let web = observed.ecs_services.iter().find(|s| s.service == "app1-web").unwrap();
    assert_eq!(web.desired_count, 3);
    assert_eq!(web.autoscaling, Some(envsched_core::Capacity { min: 1, max: 4 }));
    assert_eq!(observed.ecs_services.len(), 3, "only targets are described (monitor is not one)");
    assert_eq!(observed.aurora_clusters[0].status, envsched_core::AuroraStatus::Available);
    let calls = fleet.calls();
    assert_eq!(calls.get("ecs:DescribeServices"), Some(&1), "3 services in one cluster: one call");
    assert_eq!(calls.get("application-autoscaling:DescribeScalableTargets"), Some(&1));
    assert_eq!(calls.get("rds:DescribeDBClusters"), Some(&1));
}

#[tokio::test]
async fn scale_down_remembers_the_count_first_and_scale_up_restores_it_exactly() {
    let (_moto, sdk, fleet) = started().await;
    // No booking: everything but the protected service goes down.
    let down = cycle(&fleet, vec![]).await;
    assert!(down.applied.iter().all(|a| a.outcome.succeeded()), "{:#?}", down.applied);
    let (count, tags) = service(&sdk, "app1-web").await;
    assert_eq!(count, 0);
    assert!(tags.contains(&("envsched:count".into(), "3".into())), "{tags:?}");
    assert!(tags.contains(&("envsched:autoscaling".into(), "1/4".into())), "{tags:?}");
    assert_eq!(capacity(&sdk).await, (0, 0), "autoscaling parked");
    // Booked again: 3 tasks, autoscaling 1–4; the values stay, marked running.
    let up = cycle(&fleet, vec![booking(&["products/app1-web"])]).await;
    assert!(up.applied.iter().all(|a| a.outcome.succeeded()), "{:#?}", up.applied);
    let (count, tags) = service(&sdk, "app1-web").await;
    assert_eq!(count, 3, "the count before envsched, exactly");
    assert!(tags.contains(&("envsched:state".into(), "running".into())), "{tags:?}");
    assert!(tags.contains(&("envsched:count".into(), "3".into())), "never deleted: {tags:?}");
    assert_eq!(capacity(&sdk).await, (1, 4));
}

#[tokio::test]
async fn a_declared_count_wins_over_the_remembered_one() {
    let (_moto, sdk, fleet) = started().await;
    cycle(&fleet, vec![]).await;
    assert_eq!(service(&sdk, "creditcard").await.0, 0);
    cycle(&fleet, vec![booking(&["services/creditcard"])]).await;
    assert_eq!(service(&sdk, "creditcard").await.0, 2, "count = 2 in config, although 1 was remembered");
}

#[tokio::test]
async fn a_second_apply_right_after_the_first_makes_no_mutating_call() {
    let (_moto, _sdk, fleet) = started().await;
    cycle(&fleet, vec![booking(&["services/creditcard"])]).await;
    let after_first = mutating(&fleet);
    assert!(after_first > 0);
    let second = cycle(&fleet, vec![booking(&["services/creditcard"])]).await;
    assert!(second.applied.is_empty(), "{:#?}", second.applied);
    assert_eq!(mutating(&fleet), after_first);
}

#[tokio::test]
async fn protected_and_unmanaged_services_in_the_same_cluster_are_never_modified() {
    let (_moto, sdk, fleet) = started().await;
    cycle(&fleet, vec![]).await;
    assert_eq!(service(&sdk, "prod-mirror").await, (1, vec![]), "protected by safety.protected");
    assert_eq!(service(&sdk, "monitor").await, (1, vec![]), "not a target");
}

async fn cluster_status(fleet: &AwsFleet) -> envsched_core::AuroraStatus {
    fleet.observe(&config().targets.locators(), &Default::default()).await.unwrap().aurora_clusters[0].status.clone()
}

#[tokio::test]
async fn aurora_stops_and_starts_at_cluster_level_and_a_repeat_is_already_done() {
    let (_moto, _sdk, fleet) = started().await;
    let down = cycle(&fleet, vec![]).await;
    // The DB waits for its dependents? It has none here: it stops in the same cycle.
    let stop = down.applied.iter().find(|a| a.action.op == envsched_core::Op::Stop).expect("stop planned");
    assert_eq!(stop.outcome, Outcome::Done("stopping".into()));
    assert_eq!(cluster_status(&fleet).await, envsched_core::AuroraStatus::Stopped, "moto stops at once");
    // Another copy applying the same stop finds it done and calls nothing.
    let before = mutating(&fleet);
    let again = fleet.apply(&stop.action).await;
    assert!(matches!(again, Outcome::AlreadyDone(_)), "{again:?}");
    assert_eq!(mutating(&fleet), before);
    let up = cycle(&fleet, vec![booking(&["db/stg-aurora"])]).await;
    assert!(up.applied.iter().any(|a| a.action.op == envsched_core::Op::Start && a.outcome.succeeded()));
    assert_eq!(cluster_status(&fleet).await, envsched_core::AuroraStatus::Available);
}

#[tokio::test]
async fn a_service_deleted_mid_cycle_fails_alone() {
    let (_moto, sdk, fleet) = started().await;
    let observed = fleet.observe(&config().targets.locators(), &Default::default()).await.unwrap();
    let c = config();
    let d = envsched_core::desired(&[], &c, AT.parse().unwrap());
    let p = envsched_core::plan(&d, &observed, &envsched_core::Policy::new(&c, None));
    // Someone deletes creditcard between observe and apply.
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    ecs.update_service().cluster("stg1").service("creditcard").desired_count(0).send().await.unwrap();
    ecs.delete_service().cluster("stg1").service("creditcard").force(true).send().await.unwrap();
    let applied = envsched_core::reconcile::apply(&p, &fleet, Mode::Apply).await;
    let outcome = |t: &str| {
        applied.iter().filter(|a| a.action.target.ends_with(t)).map(|a| a.outcome.label()).collect::<Vec<_>>()
    };
    assert_eq!(outcome("creditcard")[0], "failed");
    assert!(outcome("app1-web").iter().all(|o| *o == "done"), "{:?}", outcome("app1-web"));
}

/// A Fleet that fails the first scale-to-zero it is asked for, as a crash between the
/// remember-tag write and the scale would leave things; everything else goes to AWS.
struct CrashBeforeScale<'a> {
    inner: &'a AwsFleet,
    crashed: std::sync::atomic::AtomicBool,
}

impl Fleet for CrashBeforeScale<'_> {
    async fn observe(
        &self,
        resources: &[&envsched_core::Locator],
        discovery: &envsched_core::Discovery,
    ) -> Result<envsched_core::Observed, envsched_core::FleetError> {
        self.inner.observe(resources, discovery).await
    }

    async fn apply(&self, action: &envsched_core::Action) -> Outcome {
        // Targets act concurrently within a phase: crash on app1-web's own scale.
        if matches!(action.op, envsched_core::Op::Scale { to: 0, .. })
            && action.target.ends_with("app1-web")
            && !self.crashed.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Outcome::Failed(envsched_core::FleetError::Api {
                target: action.target.to_string(),
                operation: "ecs:UpdateService".into(),
                message: "process killed".into(),
                retryable: true,
            });
        }
        self.inner.apply(action).await
    }
}

#[tokio::test]
async fn a_crash_between_the_remember_tag_and_the_scale_loses_no_count() {
    let (_moto, sdk, aws) = started().await;
    let crashing = CrashBeforeScale { inner: &aws, crashed: false.into() };
    let clock = FixedClock(AT.parse().unwrap());
    let c = config();
    let first =
        reconcile(&c, &FixedSource(vec![]), &crashing, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap();
    assert!(first.applied.iter().any(|a| matches!(a.outcome, Outcome::Failed(_))));
    // The tag made it, the scale did not: the service still runs 3 and remembers 3.
    let (count, tags) = service(&sdk, "app1-web").await;
    assert_eq!(count, 3);
    assert!(tags.contains(&("envsched:count".into(), "3".into())), "{tags:?}");
    // The next run (a restart) finishes the stop without overwriting the memory…
    cycle(&aws, vec![]).await;
    assert_eq!(service(&sdk, "app1-web").await.0, 0);
    // …and a booking brings back exactly 3.
    cycle(&aws, vec![booking(&["products/app1-web"])]).await;
    assert_eq!(service(&sdk, "app1-web").await.0, 3);
}

/// 4 clusters of 60 stopped services and a stopped Aurora cluster each, declared in `world`.
async fn four_by_sixty(sdk: &aws_config::SdkConfig, mut world: World) -> World {
    for env in ["stga", "stgb", "stgc", "stgd"] {
        let services: Vec<String> = (0..60).map(|i| format!("svc-{i:02}")).collect();
        let stopped: Vec<(&str, i32)> = services.iter().map(|s| (s.as_str(), 0)).collect();
        moto::ecs_services(sdk, env, &stopped).await;
        moto::stopped_aurora(sdk, &format!("{env}-aurora")).await;
        world = world.env(env).aurora("db/aurora", &format!("{env}-aurora"));
        for svc in &services {
            world = world.ecs(&format!("products/{svc}"), svc);
        }
    }
    world
}

#[tokio::test]
async fn a_no_op_cycle_over_240_services_and_4_clusters_costs_30_read_calls_and_nothing_else() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let world = four_by_sixty(&sdk, World::new().lead("0s")).await;
    let c = world.config();
    let fleet = AwsFleet::new(&sdk);
    let clock = FixedClock(AT.parse().unwrap());
    let r = reconcile(&c, &FixedSource(vec![]), &fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap();
    assert_eq!(r.observed.ecs_services.len(), 240);
    assert!(r.applied.is_empty(), "everything is already down: {:?}", r.applied.len());
    let calls = fleet.calls();
    assert_eq!(calls.get("ecs:DescribeServices"), Some(&24), "60 per cluster, 10 per call");
    assert_eq!(calls.get("application-autoscaling:DescribeScalableTargets"), Some(&5), "50 resource ids per call");
    assert_eq!(calls.get("rds:DescribeDBClusters"), Some(&1));
    assert_eq!(calls.values().sum::<usize>(), 30, "{calls:?}");

    // The same fleet with discovery switched on for the 4 clusters and Aurora: one
    // ListServices page per cluster more, and the same describes (names are merged).
    let toml = world.toml().replace(
        "name = \"stga\"\n",
        "name = \"stga\"\ndiscover = { ecs_clusters = [\"stga\", \"stgb\", \"stgc\", \"stgd\"], aurora = true }\n",
    );
    let c = Config::from_toml(&toml, "240-discovery.toml").unwrap();
    let fleet = AwsFleet::new(&sdk);
    let r = reconcile(&c, &FixedSource(vec![]), &fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap();
    assert!(r.applied.is_empty());
    let calls = fleet.calls();
    assert_eq!(calls.get("ecs:ListServices"), Some(&4), "{calls:?}");
    assert_eq!(calls.values().sum::<usize>(), 34, "{calls:?}");
}

/// Creates `service` with `count` tasks in `cluster` (creating the cluster), tagged `tags`.
async fn create_service(sdk: &aws_config::SdkConfig, cluster: &str, service: &str, count: i32, tags: &[(&str, &str)]) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster().cluster_name(cluster).send().await.unwrap();
    moto::task_definition(&ecs).await;
    let tags: Vec<aws_sdk_ecs::types::Tag> =
        tags.iter().map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(*k).value(*v).build()).collect();
    ecs.create_service()
        .cluster(cluster)
        .service_name(service)
        .task_definition("app")
        .desired_count(count)
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .unwrap();
}

async fn count_in(sdk: &aws_config::SdkConfig, cluster: &str, service: &str) -> i32 {
    let out =
        aws_sdk_ecs::Client::new(sdk).describe_services().cluster(cluster).services(service).send().await.unwrap();
    out.services()[0].desired_count()
}

#[tokio::test]
async fn discovery_by_tag_manages_tagged_services_in_listed_clusters_and_nothing_else() {
    let (_moto, sdk, fleet) = started().await;
    let name = [("envsched:name", "tools/monitor")];
    aws_sdk_ecs::Client::new(&sdk)
        .tag_resource()
        .resource_arn(
            aws_sdk_ecs::Client::new(&sdk)
                .describe_services()
                .cluster("stg1")
                .services("monitor")
                .send()
                .await
                .unwrap()
                .services()[0]
                .service_arn()
                .unwrap(),
        )
        .tags(aws_sdk_ecs::types::Tag::builder().key(name[0].0).value(name[0].1).build())
        .send()
        .await
        .unwrap();
    // Untagged and undeclared in a listed cluster; tagged in a cluster nobody listed.
    create_service(&sdk, "stg1", "sidecar", 1, &[]).await;
    create_service(&sdk, "unlisted-dev", "lonely", 1, &[("envsched:name", "tools/lonely")]).await;
    let text = world_config()
        .toml()
        .replace("name = \"stg1\"\n", "name = \"stg1\"\ndiscover = { ecs_clusters = [\"stg1\"] }\n");
    let c = Config::from_toml(&text, "discover.toml").unwrap();
    let clock = FixedClock(AT.parse().unwrap());
    let run = |bookings: Vec<Booking>| {
        let (c, fleet, clock) = (&c, &fleet, &clock);
        async move {
            reconcile(c, &FixedSource(bookings), fleet, clock, &mut CycleState::default(), Mode::Apply).await.unwrap()
        }
    };
    let r = run(vec![]).await;
    assert_eq!(r.discovered, 1, "{:?}", r.desired.problems);
    assert!(r.failures().next().is_none());
    assert_eq!(count_in(&sdk, "stg1", "monitor").await, 0, "the tagged service is managed: nobody booked it");
    assert_eq!(count_in(&sdk, "stg1", "sidecar").await, 1, "untagged: never touched");
    assert_eq!(count_in(&sdk, "unlisted-dev", "lonely").await, 1, "its cluster is not listed: never touched");
    assert_eq!(fleet.calls().get("ecs:ListServices"), Some(&1), "one page for the one listed cluster");
    // A booking selects the discovered target by its tag name and brings back its count.
    let r = run(vec![booking(&["tools/"])]).await;
    assert!(r.applied.iter().any(|a| a.action.target == "stg1:tools/monitor"), "{:?}", r.applied);
    assert_eq!(count_in(&sdk, "stg1", "monitor").await, 1);
}

#[tokio::test]
async fn an_environment_in_another_account_and_region_is_reached_by_assuming_its_role() {
    let (_moto, sdk, fleet) = started().await;
    const ROLE: &str = "arn:aws:iam::111111111111:role/envsched";
    // The other account's world, created through the same SDK provider the fleet uses.
    let provider = aws_config::sts::AssumeRoleProvider::builder(ROLE)
        .session_name("test")
        .region(aws_config::Region::new("eu-west-1"))
        .configure(&sdk)
        .build()
        .await;
    let other = sdk
        .to_builder()
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(provider))
        .build();
    create_service(&other, "stg1", "app1-web", 2, &[]).await;
    let arn = aws_sdk_ecs::Client::new(&other).describe_services().cluster("stg1").services("app1-web").send().await;
    assert!(
        arn.unwrap().services()[0].service_arn().unwrap().contains(":111111111111:"),
        "moto keeps it in that account"
    );
    let text = format!(
        "{}\n[[environments]]\nname = \"dev9\"\naws = {{ role_arn = \"{ROLE}\", region = \"eu-west-1\" }}\n\
         [[targets]]\nname = \"products/app1-web\"\nenvironment = \"dev9\"\necs = {{ cluster = \"stg1\", service = \"app1-web\" }}\n",
        world_config().toml()
    );
    let c = Config::from_toml(&text, "accounts.toml").unwrap();
    let clock = FixedClock(AT.parse().unwrap());
    // Book stg1 only: dev9's service (same cluster and service names, other account) stops.
    let mut b = booking(&["products/app1-web"]);
    b.environment = Some("stg1".into());
    let r =
        reconcile(&c, &FixedSource(vec![b]), &fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap();
    assert!(r.failures().next().is_none(), "{:?}", r.applied);
    assert_eq!(count_in(&other, "stg1", "app1-web").await, 0, "stopped in account 111111111111, eu-west-1");
    assert_eq!(count_in(&sdk, "stg1", "app1-web").await, 3, "the default account's service of that name is booked");
    let observed_places: std::collections::BTreeSet<String> =
        r.observed.ecs_services.iter().map(|s| s.place.to_string()).collect();
    assert_eq!(observed_places.len(), 2, "{observed_places:?}");
}

#[tokio::test]
async fn after_a_halt_no_call_waiting_for_a_rate_limit_token_is_sent() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    world(&sdk).await;
    // One tagging and one scaling token, then one every 5 s: the second service's chain
    // waits for its token when shutdown begins.
    let pacing = envsched_aws::Pacing { ecs_tag: (0.2, 1), ecs_write: (0.2, 1), ..Default::default() };
    let fleet = AwsFleet::with_options(&sdk, envsched_aws::Options { pacing, ..Default::default() });
    let clock = FixedClock(AT.parse().unwrap());
    let c = config();
    let mut state = CycleState::default();
    let source = FixedSource(vec![]);
    let (report, ()) = tokio::join!(reconcile(&c, &source, &fleet, &clock, &mut state, Mode::Apply), async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        fleet.halt();
    });
    let report = report.unwrap();
    let calls = fleet.calls();
    assert_eq!(calls.get("ecs:TagResource"), Some(&1), "only the call that had its token: {calls:?}");
    let (web, cc) = (service(&sdk, "app1-web").await, service(&sdk, "creditcard").await);
    let (sent, waiting, waiting_name) = if web.1.is_empty() { (cc, web, "app1-web") } else { (web, cc, "creditcard") };
    assert!(sent.1.iter().any(|(k, _)| k == "envsched:count"), "the first chain remembered its count: {sent:?}");
    assert!(waiting.1.is_empty() && waiting.0 > 0, "the waiting one is untouched: {waiting:?}");
    let skipped: Vec<_> = report.applied.iter().filter(|a| a.action.target.ends_with(waiting_name)).collect();
    assert!(!skipped.is_empty());
    assert!(matches!(&skipped[0].outcome, Outcome::Skipped(why) if why.contains("shutting down")), "{skipped:#?}");
    assert!(skipped.iter().all(|a| matches!(a.outcome, Outcome::Skipped(_))), "{skipped:#?}");
}

#[tokio::test]
async fn a_sliced_read_sweeps_every_service_within_the_sweep_and_finds_drift() {
    // A 1 s poll makes 24 DescribeServices per cycle more than 2 per second of poll: the
    // 240 services are read in slices, each within the 12 s sweep.
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let world = four_by_sixty(&sdk, World::new().lead("0s").schedule("poll_interval", "1s").schedule("sweep", "12s"));
    let c = world.await.config();
    let fleet = AwsFleet::new(&sdk);
    let mut state = CycleState::default();
    let t0: jiff::Timestamp = AT.parse().unwrap();
    let first = reconcile(&c, &FixedSource(vec![]), &fleet, &FixedClock(t0), &mut state, Mode::Apply).await.unwrap();
    assert!(first.swept.full);
    assert_eq!(fleet.calls().get("ecs:DescribeServices"), Some(&24));
    // Someone starts a service by hand after the first read.
    aws_sdk_ecs::Client::new(&sdk)
        .update_service()
        .cluster("stgc")
        .service("svc-37")
        .desired_count(2)
        .send()
        .await
        .unwrap();
    let mut stopped_at = None;
    for k in 1..=12 {
        let clock = FixedClock(t0 + jiff::SignedDuration::from_secs(k));
        let r = reconcile(&c, &FixedSource(vec![]), &fleet, &clock, &mut state, Mode::Apply).await.unwrap();
        assert!(!r.swept.full, "cycle {k}");
        assert_eq!(r.observed.ecs_services.len(), 240, "cycle {k}: the rest is the last read");
        if r.applied.iter().any(|a| {
            a.action.target.as_str() == "stgc:products/svc-37" && a.action.op.from_to() == ("2".into(), "0".into())
        }) {
            stopped_at = Some(k);
        }
    }
    assert!(stopped_at.is_some(), "the drift was not found within one sweep");
    let sliced = fleet.calls().get("ecs:DescribeServices").copied().unwrap_or(0) - 24;
    // One sweep of 240 is 24 calls; a slice's calls are full but may straddle two clusters,
    // and the drift's fix is read again on the next cycle.
    assert!((24..=40).contains(&sliced), "{sliced} DescribeServices in 12 sliced cycles");
    assert_eq!(service_count(&sdk, "stgc", "svc-37").await, 0);
}

async fn service_count(sdk: &aws_config::SdkConfig, cluster: &str, name: &str) -> i32 {
    let out = aws_sdk_ecs::Client::new(sdk).describe_services().cluster(cluster).services(name).send().await.unwrap();
    out.services()[0].desired_count()
}
