//! What moto does not model, tested through the real SDK against a small axum fake of the
//! AWS endpoints involved: ECS and Application Auto Scaling (JSON 1.1) and RDS (Query/XML).
//!
//! The fake keeps AWS's limits and behaviour where moto does not: `ListServices` pages,
//! `DescribeServices` rejects more than 10 services, `DescribeDBClusters` pages with
//! `Marker`, throttling errors on demand, transitional Aurora states, and a `runningCount`
//! that lags `desiredCount`. Every request is recorded, so the tests assert on what the
//! fleet actually sent.

mod common;

use common::booking;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use envsched_aws::{AwsFleet, Options};
use envsched_core::{Booking, Config, CycleState, FixedClock, FixedSource, Fleet, Mode, Outcome, reconcile};
use envsched_fixtures::World;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Svc {
    cluster: String,
    name: String,
    desired: i64,
    running: i64,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct Db {
    id: String,
    status: String,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    services: Vec<Svc>,
    clusters: Vec<Db>,
    /// Operation → how many more calls fail with a throttling error.
    throttle: BTreeMap<String, usize>,
    /// runningCount never exceeds this (tasks still starting).
    running_cap: Option<i64>,
    /// Every request: (operation, the request as JSON or form pairs).
    requests: Vec<(String, Value)>,
    /// Page size of ListServices and DescribeDBClusters.
    page: usize,
    /// The next Start/StopDBCluster finds the cluster moved by someone else.
    race: Option<()>,
}

#[derive(Clone)]
struct Fake {
    state: Arc<Mutex<State>>,
    url: String,
}

impl Fake {
    async fn start() -> Fake {
        let state = Arc::new(Mutex::new(State { page: 100, ..State::default() }));
        let s = state.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let s = s.clone();
                async move { handle(&s, &headers, &body) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { state, url }
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
    }

    fn requests(&self, op: &str) -> Vec<Value> {
        self.state.lock().unwrap().requests.iter().filter(|(o, _)| o == op).map(|(_, v)| v.clone()).collect()
    }

    fn service(&self, name: &str) -> Svc {
        self.state.lock().unwrap().services.iter().find(|s| s.name == name).unwrap().clone()
    }

    async fn fleet(&self, options: Options) -> AwsFleet {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("ap-northeast-1"))
            .endpoint_url(&self.url)
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("fake", "fake", None, None, "fake"))
            .load()
            .await;
        AwsFleet::with_options(&sdk, options)
    }
}

/// Fast retries, so throttling tests take milliseconds.
fn quick() -> Options {
    Options { max_attempts: 3, initial_backoff: Duration::from_millis(5), ..Options::default() }
}

fn ecs_error(code: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        json!({"__type": code, "message": message}).to_string(),
    )
        .into_response()
}

fn rds_error(code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], body).into_response()
}

fn json_ok(v: Value) -> Response {
    ([("content-type", "application/x-amz-json-1.1")], v.to_string()).into_response()
}

fn service_json(s: &Svc) -> Value {
    json!({
        "serviceArn": format!("arn:aws:ecs:ap-northeast-1:123456789012:service/{}/{}", s.cluster, s.name),
        "serviceName": s.name,
        "clusterArn": format!("arn:aws:ecs:ap-northeast-1:123456789012:cluster/{}", s.cluster),
        "status": "ACTIVE",
        "desiredCount": s.desired,
        "runningCount": s.running,
        "pendingCount": s.desired - s.running,
        "tags": s.tags.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
    })
}

fn db_xml(d: &Db) -> String {
    let tags: String = d.tags.iter().map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>")).collect();
    format!(
        "<DBCluster><DBClusterIdentifier>{}</DBClusterIdentifier><Status>{}</Status><Engine>aurora-postgresql</Engine><EngineMode>provisioned</EngineMode><TagList>{tags}</TagList></DBCluster>",
        d.id, d.status
    )
}

fn rds_ok(action: &str, result: &str) -> Response {
    let body = format!(
        "<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
    );
    ([("content-type", "text/xml")], body).into_response()
}

/// `a=b&c=d` with percent-decoding, as the Query protocol sends it.
fn form(body: &str) -> BTreeMap<String, String> {
    fn decode(s: &str) -> String {
        let b = s.replace('+', " ");
        let bytes = b.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Ok(v) = u8::from_str_radix(&b[i + 1..i + 3], 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn handle(state: &Mutex<State>, headers: &HeaderMap, body: &[u8]) -> Response {
    let body = String::from_utf8_lossy(body).into_owned();
    let mut st = state.lock().unwrap();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (op, req) = match &target {
        Some(t) => {
            (t.rsplit('.').next().unwrap_or_default().to_string(), serde_json::from_str(&body).unwrap_or(Value::Null))
        }
        None => {
            let f = form(&body);
            (f.get("Action").cloned().unwrap_or_default(), json!(f))
        }
    };
    st.requests.push((op.clone(), req.clone()));
    if let Some(n) = st.throttle.get_mut(&op)
        && *n > 0
    {
        *n -= 1;
        return if target.is_some() {
            ecs_error("ThrottlingException", "Rate exceeded")
        } else {
            rds_error("Throttling", "Rate exceeded")
        };
    }
    let cap = st.running_cap;
    let page = st.page;
    match op.as_str() {
        "ListServices" => {
            let cluster = req["cluster"].as_str().unwrap_or("default");
            let max = req["maxResults"].as_u64().unwrap_or(10).min(100) as usize;
            let start: usize = req["nextToken"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0);
            let all: Vec<&Svc> = st.services.iter().filter(|s| s.cluster == cluster).collect();
            let end = (start + max.min(page)).min(all.len());
            let arns: Vec<String> = all[start..end]
                .iter()
                .map(|s| format!("arn:aws:ecs:ap-northeast-1:123456789012:service/{}/{}", s.cluster, s.name))
                .collect();
            let mut v = json!({"serviceArns": arns});
            if end < all.len() {
                v["nextToken"] = json!(end.to_string());
            }
            json_ok(v)
        }
        "DescribeServices" => {
            let names: Vec<&str> =
                req["services"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            if names.len() > 10 {
                return ecs_error("InvalidParameterException", "services can have at most 10 items");
            }
            let cluster = req["cluster"].as_str().unwrap_or("default");
            let found: Vec<Value> = st
                .services
                .iter()
                .filter(|s| s.cluster == cluster && names.contains(&s.name.as_str()))
                .map(service_json)
                .collect();
            json_ok(json!({"services": found, "failures": []}))
        }
        "UpdateService" => {
            let (cluster, name) =
                (req["cluster"].as_str().unwrap_or_default(), req["service"].as_str().unwrap_or_default());
            let Some(s) = st.services.iter_mut().find(|s| s.cluster == cluster && s.name == name) else {
                return ecs_error("ServiceNotFoundException", "Service not found.");
            };
            s.desired = req["desiredCount"].as_i64().unwrap_or(s.desired);
            // Tasks stop at once; they start only up to the cap.
            s.running = cap.map_or(s.desired, |c| s.desired.min(c));
            json_ok(json!({"service": service_json(s)}))
        }
        "TagResource" | "UntagResource" => {
            let arn = req["resourceArn"].as_str().unwrap_or_default().to_string();
            let Some(s) = st.services.iter_mut().find(|s| arn.ends_with(&format!("/{}/{}", s.cluster, s.name))) else {
                return ecs_error("InvalidParameterException", "no such resource");
            };
            for t in req["tags"].as_array().into_iter().flatten() {
                s.tags.insert(
                    t["key"].as_str().unwrap_or_default().into(),
                    t["value"].as_str().unwrap_or_default().into(),
                );
            }
            for k in req["tagKeys"].as_array().into_iter().flatten() {
                s.tags.remove(k.as_str().unwrap_or_default());
            }
            json_ok(json!({}))
        }
        "DescribeScalableTargets" => json_ok(json!({"ScalableTargets": []})),
        "DescribeDBClusters" => {
            let f = form(&body);
            let ids: Vec<String> =
                f.iter().filter(|(k, _)| k.starts_with("Filters.Filter.1.Values.")).map(|(_, v)| v.clone()).collect();
            let start: usize = f.get("Marker").and_then(|m| m.parse().ok()).unwrap_or(0);
            let all: Vec<&Db> = st.clusters.iter().filter(|d| ids.is_empty() || ids.contains(&d.id)).collect();
            let end = (start + page).min(all.len());
            let xml: String = all[start..end].iter().map(|d| db_xml(d)).collect();
            let marker = if end < all.len() { format!("<Marker>{end}</Marker>") } else { String::new() };
            rds_ok("DescribeDBClusters", &format!("{marker}<DBClusters>{xml}</DBClusters>"))
        }
        "StartDBCluster" | "StopDBCluster" => {
            let f = form(&body);
            let id = f.get("DBClusterIdentifier").cloned().unwrap_or_default();
            let Some(d) = st.clusters.iter_mut().find(|d| d.id == id) else {
                return rds_error("DBClusterNotFoundFault", "not found");
            };
            let (from, to) = if op == "StartDBCluster" { ("stopped", "starting") } else { ("available", "stopping") };
            if d.status != from {
                return rds_error("InvalidDBClusterStateFault", &format!("DbCluster {id} is in {} state", d.status));
            }
            if st.race.take().is_some() {
                // Someone else got there between our describe and our call.
                let d = st.clusters.iter_mut().find(|d| d.id == id).unwrap();
                d.status = to.into();
                return rds_error("InvalidDBClusterStateFault", &format!("DbCluster {id} is in {to} state"));
            }
            let d = st.clusters.iter_mut().find(|d| d.id == id).unwrap();
            d.status = to.into();
            rds_ok(&op, &db_xml(d))
        }
        other => ecs_error("UnknownOperationException", other),
    }
}

fn svc(cluster: &str, name: &str, desired: i64) -> Svc {
    Svc { cluster: cluster.into(), name: name.into(), desired, running: desired, tags: BTreeMap::new() }
}

async fn cycle(config: &Config, fleet: &AwsFleet, bookings: Vec<Booking>) -> envsched_core::Report {
    let clock = FixedClock("2026-11-24T03:00:00Z".parse().unwrap());
    reconcile(config, &FixedSource(bookings), fleet, &clock, &mut CycleState::default(), Mode::Apply).await.unwrap()
}

#[tokio::test]
async fn listing_pages_through_every_service_and_describes_at_most_10_per_call() {
    let fake = Fake::start().await;
    fake.with(|st| {
        st.page = 40; // smaller pages than AWS's 100, to see the paging
        for i in 0..95 {
            let mut s = svc("stg1", &format!("svc-{i:02}"), 1);
            if i % 2 == 0 {
                s.tags.insert("envsched:name".into(), format!("products/svc-{i:02}"));
            }
            st.services.push(s);
        }
        for i in 0..7 {
            let mut d = Db { id: format!("db-{i}"), status: "available".into(), tags: BTreeMap::new() };
            if i < 3 {
                d.tags.insert("envsched:name".into(), format!("db/{i}"));
            }
            st.clusters.push(d);
        }
    });
    let fleet = fake.fleet(quick()).await;
    let c = Config::from_toml("[discovery]\necs_clusters = [\"stg1\"]\naurora = true\n", "t.toml").unwrap();
    let observed = fleet.observe(&c.targets.locators(), &c.discovery).await.unwrap();
    assert_eq!(observed.ecs_services.len(), 48, "the tagged half of 95 services");
    assert_eq!(observed.aurora_clusters.len(), 3, "the tagged 3 of 7 clusters, over 2 pages");
    let pages = fake.requests("ListServices");
    assert_eq!(pages.len(), 3, "95 services at 40 per page");
    assert!(pages.iter().all(|p| p["maxResults"] == 100), "{pages:?}");
    let described = fake.requests("DescribeServices");
    assert_eq!(described.len(), 10, "ceil(95 / 10)");
    assert!(described.iter().all(|d| d["services"].as_array().unwrap().len() <= 10));
    assert!(described.iter().all(|d| d["include"] == json!(["TAGS"])));
    assert_eq!(fake.requests("DescribeDBClusters").len(), 1, "7 clusters fit one page of 40");
    let calls = fleet.calls();
    assert_eq!(calls.get("ecs:ListServices"), Some(&3));
    assert_eq!(calls.get("ecs:DescribeServices"), Some(&10));
}

/// stg1 as the fake serves it: app1-web (5 tasks, needs the DB), app1-api, creditcard.
fn stg1_world() -> World {
    World::new()
        .lead("0s")
        .env("stg1")
        .aurora("db/stg-aurora", "stg1-aurora")
        .ecs("products/app1-web", "app1-web")
        .count(5)
        .needs(&["db/stg-aurora"])
        .ecs("products/app1-api", "app1-api")
        .ecs("services/creditcard", "creditcard")
}

fn stg1(fake: &Fake, db: &str) -> Config {
    fake.with(|st| {
        st.services = vec![svc("stg1", "app1-web", 0), svc("stg1", "app1-api", 2), svc("stg1", "creditcard", 2)];
        st.clusters = vec![Db { id: "stg1-aurora".into(), status: db.into(), tags: BTreeMap::new() }];
    });
    stg1_world().config()
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_a_target_throttled_past_its_retries_fails_alone() {
    let fake = Fake::start().await;
    let c = stg1(&fake, "stopped");
    // Two throttles, three attempts: the first stop gets through on its third try. Then
    // three more: the next target's stop is throttled past its retries.
    fake.with(|st| {
        st.throttle.insert("UpdateService".into(), 5);
    });
    let fleet = fake.fleet(quick()).await;
    let r = cycle(&c, &fleet, vec![]).await;
    let outcomes: Vec<(String, &'static str)> = r
        .applied
        .iter()
        .filter(|a| matches!(a.action.op, envsched_core::Op::Scale { .. }))
        .map(|a| (a.action.target.to_string(), a.outcome.label()))
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|(_, o)| *o == "done").count(), 1, "{outcomes:?}");
    let failed = r.failures().next().expect("one target throttled past retries");
    match &failed.outcome {
        Outcome::Failed(envsched_core::FleetError::Api { message, retryable, .. }) => {
            assert!(message.contains("ThrottlingException") && *retryable, "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.requests("UpdateService").len(), 6, "3 attempts each");
    // The next cycle stops what was left, and the remembered count survived the failure.
    let r = cycle(&c, &fleet, vec![]).await;
    assert!(r.failures().next().is_none(), "{:?}", r.applied);
    for name in ["app1-api", "creditcard"] {
        let s = fake.service(name);
        assert_eq!((s.desired, s.tags.get("envsched:count").map(String::as_str)), (0, Some("2")), "{name}");
    }
}

#[tokio::test]
async fn a_starting_database_holds_its_dependents_until_it_is_available() {
    let fake = Fake::start().await;
    let c = stg1(&fake, "stopped");
    let fleet = fake.fleet(quick()).await;
    let book = || vec![booking(&["products/app1-web"])];
    let r = cycle(&c, &fleet, book()).await;
    assert!(
        r.applied
            .iter()
            .any(|a| a.action.target == "stg1:db/stg-aurora" && a.outcome == Outcome::Done("starting".into()))
    );
    assert_eq!(fake.service("app1-web").desired, 0, "not before its DB is available");
    // Still starting (moto would have made it available at once): the app waits, and a
    // second start is not sent.
    let r = cycle(&c, &fleet, book()).await;
    assert_eq!(fake.requests("StartDBCluster").len(), 1);
    assert_eq!(fake.service("app1-web").desired, 0);
    let web = r.plan.targets.iter().find(|t| t.key == "stg1:products/app1-web").unwrap();
    assert!(web.status.detail().unwrap_or_default().contains("db/stg-aurora"), "{:?}", web.status);
    fake.with(|st| st.clusters[0].status = "available".into());
    cycle(&c, &fleet, book()).await;
    assert_eq!(fake.service("app1-web").desired, 5);
}

#[tokio::test]
async fn a_cluster_in_a_transitional_state_or_moved_by_someone_else_is_observed_again_not_forced() {
    let fake = Fake::start().await;
    let c = stg1(&fake, "stopping");
    let fleet = fake.fleet(quick()).await;
    let book = || vec![booking(&["db/stg-aurora"])];
    cycle(&c, &fleet, book()).await;
    // moto makes stopping instant; AWS takes minutes. No StartDBCluster into a certain fault.
    assert_eq!(fake.requests("StartDBCluster").len(), 0);
    // Stopped now, but someone else starts it between the fleet's re-check and its call.
    fake.with(|st| {
        st.clusters[0].status = "stopped".into();
        st.race = Some(());
    });
    let r = cycle(&c, &fleet, book()).await;
    let failed = r.failures().next().expect("the raced start is reported");
    assert!(
        matches!(&failed.outcome, Outcome::Failed(envsched_core::FleetError::InvalidState { state, .. }) if state.contains("someone else")),
        "{:?}",
        failed.outcome
    );
    assert_eq!(fake.requests("StartDBCluster").len(), 1, "one call, no retry storm");
    // The next cycle sees it starting and leaves it alone.
    let r = cycle(&c, &fleet, book()).await;
    assert!(r.failures().next().is_none(), "{:?}", r.applied);
    assert_eq!(fake.requests("StartDBCluster").len(), 1);
}

#[tokio::test]
async fn running_counts_that_lag_show_as_starting_progress_for_the_booking() {
    let fake = Fake::start().await;
    let c = stg1(&fake, "available");
    fake.with(|st| st.running_cap = Some(3));
    let fleet = fake.fleet(quick()).await;
    let b = booking(&["products/app1-web"]);
    let text = |r: &envsched_core::Report| {
        let texts = envsched_core::feedback(std::slice::from_ref(&b), &r.desired, &r.plan, &r.observed, &c);
        texts.into_iter().find(|(id, _)| id == &b.id).map(|(_, t)| t).unwrap_or_default()
    };
    cycle(&c, &fleet, vec![b.clone()]).await;
    assert_eq!((fake.service("app1-web").desired, fake.service("app1-web").running), (5, 3));
    // The next cycle observes 3 of 5 tasks running (plus the available DB): still starting.
    let r = cycle(&c, &fleet, vec![b.clone()]).await;
    assert!(text(&r).contains("starting 4/6"), "{}", text(&r));
    fake.with(|st| st.services.iter_mut().for_each(|s| s.running = s.desired));
    let r = cycle(&c, &fleet, vec![b.clone()]).await;
    assert!(text(&r).contains("ready"), "{}", text(&r));
}
