//! The AWS fleet against moto's server (a real AWS emulator speaking the real wire protocol),
//! through the official SDK. One moto process per test: tests run in parallel and never share
//! state.

mod common;

use aws_sdk_ecs::types::ContainerDefinition;
use common::booking;
use envsched_aws::AwsFleet;
use envsched_core::{Booking, Config, CycleState, FixedClock, FixedSource, Fleet, Mode, Outcome, reconcile};
use envsched_sandbox::moto::MotoServer;

struct Moto {
    server: MotoServer,
}

impl Moto {
    fn start() -> Moto {
        Moto { server: MotoServer::start().expect("moto_server starts") }
    }

    async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("ap-northeast-1"))
            .endpoint_url(&self.server.url)
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }
}

const CONFIG: &str = r#"
time_zone = "Asia/Tokyo"
[schedule]
lead = "0s"
[safety]
protected = ["prod-*"]
[[environments]]
name = "stg1"
[[targets]]
name = "db/stg-aurora"
environment = "stg1"
aurora = { cluster_id = "stg1-aurora" }
[[targets]]
name = "products/app1-web"
environment = "stg1"
ecs = { cluster = "stg1", service = "app1-web" }
[[targets]]
name = "services/creditcard"
environment = "stg1"
ecs = { cluster = "stg1", service = "creditcard" }
count = 2
[[targets]]
name = "services/prod-mirror"
environment = "stg1"
ecs = { cluster = "stg1", service = "prod-mirror" }
"#;

/// The task definition every test service runs (moto needs one to create services).
async fn task_definition(ecs: &aws_sdk_ecs::Client) {
    ecs.register_task_definition()
        .family("app")
        .container_definitions(ContainerDefinition::builder().name("app").image("nginx").memory(128).build())
        .send()
        .await
        .unwrap();
}

/// stg1 with app1-web (3 tasks, autoscaling 1–4), creditcard (1), prod-mirror (1, protected
/// by name), monitor (1, not a target) and an available Aurora cluster.
async fn world(sdk: &aws_config::SdkConfig) {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster().cluster_name("stg1").send().await.unwrap();
    task_definition(&ecs).await;
    for (svc, count) in [("app1-web", 3), ("creditcard", 1), ("prod-mirror", 1), ("monitor", 1)] {
        ecs.create_service()
            .cluster("stg1")
            .service_name(svc)
            .task_definition("app")
            .desired_count(count)
            .send()
            .await
            .unwrap();
    }
    aws_sdk_applicationautoscaling::Client::new(sdk)
        .register_scalable_target()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .resource_id("service/stg1/app1-web")
        .scalable_dimension(aws_sdk_applicationautoscaling::types::ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(4)
        .send()
        .await
        .unwrap();
    aws_sdk_rds::Client::new(sdk)
        .create_db_cluster()
        .db_cluster_identifier("stg1-aurora")
        .engine("aurora-postgresql")
        .master_username("envsched")
        .master_user_password("correct-horse-battery")
        .send()
        .await
        .unwrap();
}

/// A moto server holding [`world`], its SDK config and a fleet on it. Keep the server
/// alive for the test (it stops when dropped).
async fn started() -> (Moto, aws_config::SdkConfig, AwsFleet) {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    world(&sdk).await;
    let fleet = AwsFleet::new(&sdk);
    (moto, sdk, fleet)
}

fn config() -> Config {
    Config::from_toml(CONFIG, "moto.toml").unwrap()
}

const AT: &str = "2026-11-24T03:00:00Z";

async fn cycle(fleet: &AwsFleet, bookings: Vec<Booking>) -> envsched_core::Report {
    let clock = FixedClock(AT.parse().unwrap());
    reconcile(&config(), &FixedSource(bookings), fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap()
}

fn mutating(fleet: &AwsFleet) -> usize {
    fleet.calls().iter().filter(|(op, _)| !op.contains("Describe") && !op.contains("List")).map(|(_, n)| n).sum()
}

async fn service(sdk: &aws_config::SdkConfig, name: &str) -> (i32, Vec<(String, String)>) {
    let out = aws_sdk_ecs::Client::new(sdk)
        .describe_services()
        .cluster("stg1")
        .services(name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
        .unwrap();
    let s = &out.services()[0];
    let tags = s.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
    (s.desired_count(), tags)
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
    let observed = fleet.observe(&config().targets, &Default::default()).await.unwrap();
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
    fleet.observe(&config().targets, &Default::default()).await.unwrap().aurora_clusters[0].status.clone()
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
    let observed = fleet.observe(&config().targets, &Default::default()).await.unwrap();
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
        targets: &envsched_core::TargetSet,
        discovery: &envsched_core::Discovery,
    ) -> Result<envsched_core::Observed, envsched_core::FleetError> {
        self.inner.observe(targets, discovery).await
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

#[tokio::test]
async fn a_no_op_cycle_over_240_services_and_4_clusters_costs_30_read_calls_and_nothing_else() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    task_definition(&ecs).await;
    let rds = aws_sdk_rds::Client::new(&sdk);
    let mut toml = String::from("[schedule]\nlead = \"0s\"\n");
    for env in ["stga", "stgb", "stgc", "stgd"] {
        ecs.create_cluster().cluster_name(env).send().await.unwrap();
        toml.push_str(&format!("[[environments]]\nname = \"{env}\"\n"));
        rds.create_db_cluster()
            .db_cluster_identifier(format!("{env}-aurora"))
            .engine("aurora-postgresql")
            .master_username("envsched")
            .master_user_password("correct-horse-battery")
            .send()
            .await
            .unwrap();
        rds.stop_db_cluster().db_cluster_identifier(format!("{env}-aurora")).send().await.unwrap();
        toml.push_str(&format!(
            "[[targets]]\nname = \"db/aurora\"\nenvironment = \"{env}\"\naurora = {{ cluster_id = \"{env}-aurora\" }}\n"
        ));
        for i in 0..60 {
            let svc = format!("svc-{i:02}");
            ecs.create_service()
                .cluster(env)
                .service_name(&svc)
                .task_definition("app")
                .desired_count(0)
                .send()
                .await
                .unwrap();
            toml.push_str(&format!("[[targets]]\nname = \"products/{svc}\"\nenvironment = \"{env}\"\necs = {{ cluster = \"{env}\", service = \"{svc}\" }}\n"));
        }
    }
    let c = Config::from_toml(&toml, "240.toml").unwrap();
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
    let toml = toml.replace(
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
    task_definition(&ecs).await;
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
    let text = CONFIG.replace("name = \"stg1\"\n", "name = \"stg1\"\ndiscover = { ecs_clusters = [\"stg1\"] }\n");
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
        "{CONFIG}\n[[environments]]\nname = \"dev9\"\naws = {{ role_arn = \"{ROLE}\", region = \"eu-west-1\" }}\n\
         [[targets]]\nname = \"products/app1-web\"\nenvironment = \"dev9\"\necs = {{ cluster = \"stg1\", service = \"app1-web\" }}\n"
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

/// The lease table as `deploy/terraform` creates it (partition key `pk`, a string).
async fn lease_table(sdk: &aws_config::SdkConfig, name: &str) {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

fn lease_settings(ttl_s: u64) -> envsched_core::LeaseSettings {
    envsched_core::LeaseSettings {
        table: "envsched-lease".into(),
        key: "stg".into(),
        ttl: std::time::Duration::from_secs(ttl_s),
    }
}

#[tokio::test]
async fn one_copy_holds_the_lease_the_other_stands_by_until_it_is_released_or_expires() {
    use envsched_aws::{DynamoLease, LeaseView};
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    lease_table(&sdk, "envsched-lease").await;
    let a = DynamoLease::new(&sdk, &lease_settings(60), "copy-a");
    let b = DynamoLease::new(&sdk, &lease_settings(60), "copy-b");

    assert!(a.acquire().await.unwrap().is_held());
    match b.acquire().await.unwrap() {
        LeaseView::Standby { owner, expires_at } => {
            assert_eq!(owner, "copy-a");
            assert!(expires_at > jiff::Timestamp::now() + jiff::SignedDuration::from_secs(50), "{expires_at}");
        }
        held => panic!("two copies hold the lease: {held:?}"),
    }
    // Renewing is taking again; the other copy still stands by.
    assert!(a.acquire().await.unwrap().is_held());
    assert!(!b.acquire().await.unwrap().is_held());
    // A release by the copy that does not hold it changes nothing.
    b.release().await.unwrap();
    assert_eq!(a.peek().await.unwrap().map(|(o, _)| o), Some("copy-a".to_string()));
    a.release().await.unwrap();
    assert_eq!(a.peek().await.unwrap(), None);
    assert!(b.acquire().await.unwrap().is_held());

    // A copy that died holding it: once its lease has expired, another takes it.
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let past = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)).as_millisecond().to_string();
    dynamo
        .put_item()
        .table_name("envsched-lease")
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("stg".into()))
        .item("owner", aws_sdk_dynamodb::types::AttributeValue::S("copy-dead".into()))
        .item("expires_at", aws_sdk_dynamodb::types::AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    assert!(a.acquire().await.unwrap().is_held(), "an expired lease is free");
    assert!(!b.acquire().await.unwrap().is_held());

    // Another key is another lease.
    let other = envsched_core::LeaseSettings { key: "dev".into(), ..lease_settings(60) };
    assert!(DynamoLease::new(&sdk, &other, "copy-b").acquire().await.unwrap().is_held());
}

#[tokio::test]
async fn a_missing_table_is_an_error_naming_the_table_and_the_call() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let lease = envsched_aws::DynamoLease::new(&sdk, &lease_settings(60), "copy-a");
    let e = lease.acquire().await.unwrap_err().to_string();
    assert!(
        e.contains("\"envsched-lease\"") && e.contains("dynamodb:PutItem") && e.contains("ResourceNotFound"),
        "{e}"
    );
}

#[tokio::test]
async fn the_keeper_holds_the_lease_while_it_runs_and_releases_it_when_done() {
    use envsched_aws::{DynamoLease, Fence};
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    lease_table(&sdk, "envsched-lease").await;
    // A 15 s ttl: a standby asks every 5 s.
    let a = DynamoLease::new(&sdk, &lease_settings(15), "copy-a");
    let b = DynamoLease::new(&sdk, &lease_settings(15), "copy-b");
    let (fa, fb) = (Fence::closed(), Fence::closed());
    let (va, mut ra) = tokio::sync::watch::channel(None);
    let (vb, mut rb) = tokio::sync::watch::channel(None);
    let (done_a, mut done_a_rx) = tokio::sync::watch::channel(false);
    let (done_b, mut done_b_rx) = tokio::sync::watch::channel(false);
    let keep_a = a.keep(&fa, &va, async move {
        let _ = done_a_rx.wait_for(|d| *d).await;
    });
    let keep_b = b.keep(&fb, &vb, async move {
        let _ = done_b_rx.wait_for(|d| *d).await;
    });
    let second = async {
        // B starts once A holds the lease.
        ra.wait_for(|v| matches!(v, Some(Ok(v)) if v.is_held())).await.unwrap();
        assert!(fa.check().is_ok(), "the holder may write");
        let check = async {
            rb.wait_for(|v| matches!(v, Some(Ok(v)) if !v.is_held())).await.unwrap();
            assert!(fb.check().unwrap_err().contains("does not hold"), "the other copy may not");
            // The holder stops: its keeper releases the lease, its fence closes at once, and
            // the standby takes over on its next attempt.
            done_a.send(true).unwrap();
            ra.wait_for(|v| v.is_none()).await.unwrap();
            assert!(fa.check().is_err());
            rb.wait_for(|v| matches!(v, Some(Ok(v)) if v.is_held())).await.unwrap();
            assert!(fb.check().is_ok());
            done_b.send(true).unwrap();
        };
        tokio::join!(keep_b, check);
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), async { tokio::join!(keep_a, second) })
        .await
        .expect("the standby takes over after a release");
    assert_eq!(a.peek().await.unwrap(), None, "released on the way out");
}

#[tokio::test]
async fn a_copy_without_the_lease_sends_no_mutating_call() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    world(&sdk).await;
    let fence = std::sync::Arc::new(envsched_aws::Fence::closed());
    let fleet = AwsFleet::new(&sdk).with_fence(fence.clone());
    // Nothing booked: without the fence this cycle parks app1-web and creditcard.
    let report = cycle(&fleet, vec![]).await;
    assert!(!report.applied.is_empty());
    assert!(
        report
            .applied
            .iter()
            .all(|a| matches!(&a.outcome, Outcome::Skipped(why) if why.contains("this copy does not hold the lease"))),
        "{:#?}",
        report.applied
    );
    assert_eq!(mutating(&fleet), 0, "{:?}", fleet.calls());
    assert_eq!(service(&sdk, "app1-web").await, (3, vec![]));
    // Holding it, the same cycle acts.
    fence.held(std::time::Instant::now(), std::time::Duration::from_secs(60));
    cycle(&fleet, vec![]).await;
    assert_eq!(service(&sdk, "app1-web").await.0, 0);
}
