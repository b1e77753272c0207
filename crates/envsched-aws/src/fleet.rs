//! [`AwsFleet`]: observe and apply on ECS, RDS and Application Auto Scaling.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::config::SharedCredentialsProvider;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{ServiceField, Tag};
use aws_sdk_rds::types::Filter;
use envsched_core::{
    Action, AuroraStatus, Capacity, Discovery, Fleet, FleetError, Locator, Observed, ObservedCluster, ObservedService,
    Op, Outcome, Place, ServiceNow, Step, TargetSet,
};
use futures_util::future::join_all;

use crate::lease::Fence;
use crate::pace::{Buckets, Pacing};

/// API calls made, by operation name.
pub type CallCounts = BTreeMap<&'static str, usize>;

/// Every API the fleet calls, named as IAM actions (the call counts use the same names).
/// `deploy/terraform` grants exactly these; a test checks it. `sts:AssumeRole` is made by the
/// SDK's credentials provider, only for environments with an `aws.role_arn`; the `dynamodb:`
/// calls by the lease ([`crate::DynamoLease`]), only with `[aws.lease]`.
pub const IAM_ACTIONS: &[&str] = &[
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:UpdateService",
    "ecs:TagResource",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:RegisterScalableTarget",
    "rds:DescribeDBClusters",
    "rds:StartDBCluster",
    "rds:StopDBCluster",
    "sts:AssumeRole",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
];

/// How the fleet paces and retries its calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Token buckets per API family and place.
    pub pacing: Pacing,
    /// Attempts per call, first included (the SDK's standard retry mode: throttling, 5xx and
    /// transport errors are retried with exponential backoff and jitter). Default 5.
    pub max_attempts: u32,
    /// The first retry's backoff (doubling from there, capped at 20 s). Default 1 s.
    pub initial_backoff: Duration,
    /// Timeout of one attempt. Default 20 s.
    pub attempt_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pacing: Pacing::default(),
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(20),
        }
    }
}

/// One place's clients and buckets.
#[derive(Debug)]
struct Clients {
    ecs: aws_sdk_ecs::Client,
    rds: aws_sdk_rds::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
    buckets: Buckets,
}

/// The AWS fleet: one set of clients per place (account and Region), created on first use.
#[derive(Debug)]
pub struct AwsFleet {
    base: aws_config::SdkConfig,
    options: Options,
    places: tokio::sync::Mutex<HashMap<Place, Arc<Clients>>>,
    calls: Mutex<CallCounts>,
    /// Turns true at shutdown ([`Fleet::halt`]): a call still waiting for its token is never
    /// sent.
    halted: tokio::sync::watch::Sender<bool>,
    /// Until when this copy may write ([`crate::lease`]); open without a lease.
    fence: Arc<Fence>,
}

/// The API families, each with its own bucket.
#[derive(Debug, Clone, Copy)]
enum Family {
    EcsRead,
    EcsWrite,
    EcsTag,
    Rds,
    Autoscaling,
}

/// An SDK error as one line, with the whole source chain.
pub(crate) fn describe<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

/// Error codes worth retrying next cycle (the SDK has already retried them within this one).
fn transient(code: &str) -> bool {
    code.contains("Throttl")
        || matches!(
            code,
            "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "ServiceUnavailable"
                | "InternalFailure"
                | "ServerException"
        )
}

/// An SDK error as a [`FleetError`], classified by the service's error code.
fn sdk_error<E, R>(target: &str, operation: &str, e: SdkError<E, R>) -> FleetError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().map(str::to_string);
    if matches!(code.as_deref(), Some("ServiceNotFoundException" | "DBClusterNotFoundFault")) {
        return FleetError::NotFound { target: target.to_string() };
    }
    if code.as_deref() == Some("InvalidDBClusterStateFault") {
        return FleetError::InvalidState {
            target: target.to_string(),
            operation: operation.to_string(),
            state: "changed by someone else".into(),
        };
    }
    let retryable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        _ => code.as_deref().is_some_and(transient),
    };
    let mut message = match (&code, e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => describe(&e),
    };
    if matches!(code.as_deref(), Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation")) {
        message.push_str(&format!(" (grant {operation} to envsched's role; see README \"IAM\")"));
    } else if retryable {
        message.push_str(" (retried; trying again next cycle)");
    }
    FleetError::Api { target: target.to_string(), operation: operation.to_string(), message, retryable }
}

/// Whether a tag (ECS or RDS) is the discovery tag `tag` with a non-empty target name.
fn is_name_tag(tag: &str, key: Option<&str>, value: Option<&str>) -> bool {
    key == Some(tag) && value.is_some_and(|v| !v.trim().is_empty())
}

/// An ECS service's tags as a map.
fn ecs_tags(s: &aws_sdk_ecs::types::Service) -> BTreeMap<String, String> {
    s.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// What to observe in one place.
#[derive(Debug, Default)]
struct Want {
    /// Declared services, by cluster.
    services: BTreeMap<String, BTreeSet<String>>,
    /// Clusters to list for discovery.
    list: BTreeSet<String>,
    /// Declared Aurora cluster ids.
    aurora_ids: BTreeSet<String>,
    /// List every DB cluster for discovery.
    aurora_all: bool,
}

impl AwsFleet {
    /// A fleet on the SDK config `sdk` (region, credentials, endpoint) for the default place.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        AwsFleet::with_options(sdk, Options::default())
    }

    /// A fleet with explicit pacing and retries.
    pub fn with_options(sdk: &aws_config::SdkConfig, options: Options) -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(options.max_attempts.max(1))
            .with_initial_backoff(options.initial_backoff);
        let timeout = TimeoutConfig::builder().operation_attempt_timeout(options.attempt_timeout).build();
        AwsFleet {
            base: sdk.to_builder().retry_config(retry).timeout_config(timeout).build(),
            options,
            places: tokio::sync::Mutex::new(HashMap::new()),
            calls: Mutex::new(CallCounts::new()),
            halted: tokio::sync::watch::channel(false).0,
            fence: Arc::new(Fence::open()),
        }
    }

    /// The same fleet, writing only while `fence` allows it (the lease is held).
    pub fn with_fence(mut self, fence: Arc<Fence>) -> Self {
        self.fence = fence;
        self
    }

    /// The SDK config of the default place (for the lease's client).
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.base
    }

    /// A fleet on the standard credential chain, in `region` or the chain's Region.
    pub async fn from_env(region: Option<String>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r));
        }
        AwsFleet::new(&loader.load().await)
    }

    /// The Region of the default place (`[aws] region`, else the credential chain's).
    pub fn region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// API calls made so far, by operation, over every place.
    pub fn calls(&self) -> CallCounts {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The clients for `place`: the base credentials, or the role assumed through the SDK's
    /// STS provider (credentials cached and refreshed by the SDK), in the place's Region.
    async fn clients(&self, place: &Place) -> Arc<Clients> {
        let mut places = self.places.lock().await;
        if let Some(c) = places.get(place) {
            return c.clone();
        }
        let region = place.region.clone().map(aws_config::Region::new).or_else(|| self.base.region().cloned());
        let mut b = self.base.to_builder().region(region.clone());
        if let Some(role) = &place.role_arn {
            let mut p = AssumeRoleProvider::builder(role).session_name("envsched").configure(&self.base);
            if let Some(r) = region {
                p = p.region(r);
            }
            b = b.credentials_provider(SharedCredentialsProvider::new(p.build().await));
        }
        let sdk = b.build();
        let c = Arc::new(Clients {
            ecs: aws_sdk_ecs::Client::new(&sdk),
            rds: aws_sdk_rds::Client::new(&sdk),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(&sdk),
            buckets: Buckets::new(&self.options.pacing),
        });
        places.insert(place.clone(), c.clone());
        c
    }

    /// Waits for a token of `family`'s bucket, unless the fleet is halted first: a call
    /// waiting for its token is not in flight, and after a halt it is never sent.
    async fn token(&self, c: &Clients, family: Family) -> Result<(), FleetError> {
        let bucket = match family {
            Family::EcsRead => &c.buckets.ecs_read,
            Family::EcsWrite => &c.buckets.ecs_write,
            Family::EcsTag => &c.buckets.ecs_tag,
            Family::Rds => &c.buckets.rds,
            Family::Autoscaling => &c.buckets.autoscaling,
        };
        let mut halted = self.halted.subscribe();
        tokio::select! {
            biased;
            _ = halted.wait_for(|h| *h) => return Err(FleetError::Stopping),
            _ = bucket.take() => {}
        }
        if *self.halted.borrow() { Err(FleetError::Stopping) } else { Ok(()) }
    }

    /// Counts a call about to be sent.
    fn count(&self, op: &'static str) {
        debug_assert!(IAM_ACTIONS.contains(&op), "{op} is missing from IAM_ACTIONS (and the deploy IAM policy)");
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(op).or_default() += 1;
    }

    /// A mutating call about to be sent, immediately before it is: not after a halt, not
    /// without the lease. Counts it.
    fn write(&self, op: &'static str) -> Result<(), FleetError> {
        if *self.halted.borrow() {
            return Err(FleetError::Stopping);
        }
        self.fence.check().map_err(|reason| FleetError::NotHolder { reason })?;
        self.count(op);
        Ok(())
    }

    /// Waits for `op`'s token (see [`AwsFleet::token`]) and counts the call.
    async fn call(&self, c: &Clients, family: Family, op: &'static str) -> Result<(), FleetError> {
        self.token(c, family).await?;
        self.count(op);
        Ok(())
    }

    /// Every service name in `cluster`, 100 per page. A missing cluster has none.
    async fn list_services(&self, c: &Clients, cluster: &str) -> Result<Vec<String>, FleetError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.call(c, Family::EcsRead, "ecs:ListServices").await?;
            let page = match c
                .ecs
                .list_services()
                .cluster(cluster)
                .max_results(100)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(p) => p,
                Err(e) if e.code() == Some("ClusterNotFoundException") => return Ok(names),
                Err(e) => return Err(sdk_error("*", "ecs:ListServices", e)),
            };
            // ARNs: arn:aws:ecs:region:account:service/cluster/name (or service/name, the old format).
            names.extend(page.service_arns().iter().filter_map(|a| a.rsplit('/').next()).map(str::to_string));
            token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
            if token.is_none() {
                return Ok(names);
            }
        }
    }

    /// `DescribeServices` for up to 10 services of one cluster, with tags. A missing cluster
    /// has no services.
    async fn describe_services(
        &self,
        c: &Clients,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<aws_sdk_ecs::types::Service>, FleetError> {
        self.call(c, Family::EcsRead, "ecs:DescribeServices").await?;
        let out = match c
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.code() == Some("ClusterNotFoundException") => return Ok(Vec::new()),
            Err(e) => return Err(sdk_error("*", "ecs:DescribeServices", e)),
        };
        Ok(out.services().iter().filter(|s| s.status() != Some("INACTIVE")).cloned().collect())
    }

    /// Min/max of the services' scalable targets, 50 resource ids per call.
    async fn scalable_targets(&self, c: &Clients, ids: &[String]) -> Result<BTreeMap<String, Capacity>, FleetError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(50) {
            let mut token: Option<String> = None;
            loop {
                self.call(c, Family::Autoscaling, "application-autoscaling:DescribeScalableTargets").await?;
                let page = c
                    .autoscaling
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .set_resource_ids(Some(chunk.to_vec()))
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| sdk_error("*", "application-autoscaling:DescribeScalableTargets", e))?;
                for t in page.scalable_targets() {
                    if t.scalable_dimension() == &ScalableDimension::EcsServiceDesiredCount {
                        let cap = Capacity {
                            min: u32::try_from(t.min_capacity()).unwrap_or(0),
                            max: u32::try_from(t.max_capacity()).unwrap_or(0),
                        };
                        out.insert(t.resource_id().to_string(), cap);
                    }
                }
                token = page.next_token().filter(|t| !t.is_empty()).map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `DescribeDBClusters`, 100 per page: filtered by `ids` (100 per call), or every cluster
    /// in the place when `ids` is `None` (discovery).
    async fn describe_clusters(
        &self,
        c: &Clients,
        ids: Option<&[String]>,
    ) -> Result<Vec<aws_sdk_rds::types::DbCluster>, FleetError> {
        let filters: Vec<Option<Filter>> = match ids {
            None => vec![None],
            Some(ids) => ids
                .chunks(100)
                .map(|chunk| Some(Filter::builder().name("db-cluster-id").set_values(Some(chunk.to_vec())).build()))
                .collect(),
        };
        let mut out = Vec::new();
        for filter in filters {
            let mut marker: Option<String> = None;
            loop {
                self.call(c, Family::Rds, "rds:DescribeDBClusters").await?;
                let page = c
                    .rds
                    .describe_db_clusters()
                    .set_filters(filter.clone().map(|f| vec![f]))
                    .max_records(100)
                    .set_marker(marker.clone())
                    .send()
                    .await
                    .map_err(|e| sdk_error("*", "rds:DescribeDBClusters", e))?;
                out.extend(page.db_clusters().iter().cloned());
                marker = page.marker().filter(|m| !m.is_empty()).map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// One snapshot of one place.
    async fn observe_place(&self, place: &Place, want: &Want, tag: &str) -> Result<Observed, FleetError> {
        let c = self.clients(place).await;
        let c = c.as_ref();
        let mut names = want.services.clone();
        let listed = join_all(want.list.iter().map(|cluster| self.list_services(c, cluster))).await;
        for (cluster, found) in want.list.iter().zip(listed) {
            names.entry(cluster.clone()).or_default().extend(found?);
        }
        let chunks: Vec<(&String, Vec<String>)> = names
            .iter()
            .flat_map(|(cluster, ns)| {
                let ns: Vec<String> = ns.iter().cloned().collect();
                ns.chunks(10).map(|chunk| (cluster, chunk.to_vec())).collect::<Vec<_>>()
            })
            .collect();
        let described = join_all(chunks.iter().map(|(cluster, chunk)| self.describe_services(c, cluster, chunk))).await;
        let tagged = |tags: &[Tag]| tags.iter().any(|t| is_name_tag(tag, t.key(), t.value()));
        let mut services = Vec::new();
        for ((cluster, _), found) in chunks.iter().zip(described) {
            for s in found? {
                let name = s.service_name().unwrap_or_default();
                // Listed for discovery but neither declared nor tagged: not envsched's.
                if want.services.get(*cluster).is_some_and(|d| d.contains(name)) || tagged(s.tags()) {
                    services.push(((*cluster).clone(), s));
                }
            }
        }
        let ids: Vec<String> =
            services.iter().map(|(cl, s)| resource_id(cl, s.service_name().unwrap_or_default())).collect();
        let caps = if ids.is_empty() { BTreeMap::new() } else { self.scalable_targets(c, &ids).await? };
        let ecs_services = services.iter().map(|(cl, s)| Self::observed_service(place, cl, s, &caps)).collect();
        let ids: Vec<String> = want.aurora_ids.iter().cloned().collect();
        let clusters = if want.aurora_all {
            let all = self.describe_clusters(c, None).await?;
            all.into_iter()
                .filter(|d| {
                    want.aurora_ids.contains(d.db_cluster_identifier().unwrap_or_default())
                        || d.tag_list().iter().any(|t| is_name_tag(tag, t.key(), t.value()))
                })
                .collect()
        } else if ids.is_empty() {
            Vec::new()
        } else {
            self.describe_clusters(c, Some(&ids)).await?
        };
        let aurora_clusters = clusters.iter().map(|d| Self::observed_cluster(place, d)).collect();
        Ok(Observed { ecs_services, aurora_clusters })
    }

    fn observed_service(
        place: &Place,
        cluster: &str,
        s: &aws_sdk_ecs::types::Service,
        caps: &BTreeMap<String, Capacity>,
    ) -> ObservedService {
        let name = s.service_name().unwrap_or_default().to_string();
        ObservedService {
            place: place.clone(),
            autoscaling: caps.get(&resource_id(cluster, &name)).copied(),
            cluster: cluster.to_string(),
            service: name,
            desired_count: u32::try_from(s.desired_count()).unwrap_or(0),
            running_count: u32::try_from(s.running_count()).unwrap_or(0),
            pending_count: u32::try_from(s.pending_count()).unwrap_or(0),
            tags: ecs_tags(s),
        }
    }

    fn observed_cluster(place: &Place, c: &aws_sdk_rds::types::DbCluster) -> ObservedCluster {
        // Clusters Aurora cannot stop: Serverless v1, global database members, cross-Region
        // read replicas (a replication source), clusters in a blue/green deployment.
        let unstoppable = if c.engine_mode() == Some("serverless") {
            Some("Aurora Serverless v1 clusters cannot be stopped".to_string())
        } else if c.global_cluster_identifier().is_some_and(|g| !g.is_empty()) {
            Some("member of a global database".to_string())
        } else if c.replication_source_identifier().is_some_and(|r| !r.is_empty()) {
            Some("a cross-Region read replica".to_string())
        } else if c.status() == Some("blue-green-deployment") || c.status() == Some("switching-over") {
            Some("in a blue/green deployment".to_string())
        } else {
            None
        };
        ObservedCluster {
            place: place.clone(),
            id: c.db_cluster_identifier().unwrap_or_default().to_string(),
            status: AuroraStatus::from(c.status().unwrap_or("unknown").to_string()),
            tags: c
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect(),
            unstoppable,
        }
    }

    /// One ECS action: the write's token first, then the re-read, then the write at once, so
    /// no rate-limit wait sits between the check ([`envsched_core::memory::step`]) and the
    /// change it guards.
    async fn apply_service(
        &self,
        c: &Clients,
        a: &Action,
        cluster: &str,
        service: &str,
    ) -> Result<Outcome, FleetError> {
        let family = match &a.op {
            Op::Scale { .. } => Family::EcsWrite,
            Op::Remember { .. } | Op::MarkRunning => Family::EcsTag,
            Op::ParkAutoscaling { .. } | Op::RestoreAutoscaling { .. } => Family::Autoscaling,
            Op::Start | Op::Stop => {
                return Err(FleetError::InvalidState {
                    target: a.target.clone(),
                    operation: a.op.name().into(),
                    state: "an ECS service".into(),
                });
            }
        };
        self.token(c, family).await?;
        let s = self
            .describe_services(c, cluster, &[service.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| FleetError::NotFound { target: a.target.clone() })?;
        let tags = ecs_tags(&s);
        // Only the ops that depend on the scalable target read it.
        let autoscaling = if a.op.reads_autoscaling() {
            self.scalable_targets(c, &[resource_id(cluster, service)]).await?.values().next().copied()
        } else {
            None
        };
        let desired = u32::try_from(s.desired_count()).unwrap_or(0);
        let now = ServiceNow { desired_count: desired, autoscaling, tags: &tags };
        let refused = |why: String| FleetError::InvalidState {
            target: a.target.clone(),
            operation: a.op.name().into(),
            state: why,
        };
        match envsched_core::memory::step(&a.op, &a.memory, &now) {
            Step::AlreadyDone(why) => Ok(Outcome::AlreadyDone(why)),
            Step::Refuse(why) => Err(refused(why)),
            Step::Scale(to) => {
                self.write("ecs:UpdateService")?;
                c.ecs
                    .update_service()
                    .cluster(cluster)
                    .service(service)
                    .desired_count(i32::try_from(to).unwrap_or(i32::MAX))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "ecs:UpdateService", e))?;
                Ok(Outcome::Done(format!("desiredCount {desired} → {to}")))
            }
            Step::Tag(set) => {
                self.write("ecs:TagResource")?;
                let detail = set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
                let tags: Vec<Tag> = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
                c.ecs
                    .tag_resource()
                    .resource_arn(s.service_arn().unwrap_or_default())
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "ecs:TagResource", e))?;
                Ok(Outcome::Done(format!("tagged {detail}")))
            }
            Step::Autoscaling(want) => {
                self.write("application-autoscaling:RegisterScalableTarget")?;
                c.autoscaling
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(resource_id(cluster, service))
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .min_capacity(i32::try_from(want.min).unwrap_or(0))
                    .max_capacity(i32::try_from(want.max).unwrap_or(0))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "application-autoscaling:RegisterScalableTarget", e))?;
                Ok(Outcome::Done(format!("autoscaling {want}")))
            }
        }
    }

    async fn apply_cluster(&self, c: &Clients, a: &Action, id: &str) -> Result<Outcome, FleetError> {
        let found = self.describe_clusters(c, Some(&[id.to_string()])).await?;
        let cluster = found.first().ok_or_else(|| FleetError::NotFound { target: a.target.clone() })?;
        let status = AuroraStatus::from(cluster.status().unwrap_or("unknown").to_string());
        match (&a.op, &status) {
            (Op::Start, AuroraStatus::Stopped) => {
                self.token(c, Family::Rds).await?;
                self.write("rds:StartDBCluster")?;
                c.rds
                    .start_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "rds:StartDBCluster", e))?;
                Ok(Outcome::Done("starting".into()))
            }
            (Op::Start, AuroraStatus::Starting | AuroraStatus::Available) => {
                Ok(Outcome::AlreadyDone(format!("already {status}")))
            }
            (Op::Stop, AuroraStatus::Available) => {
                self.token(c, Family::Rds).await?;
                self.write("rds:StopDBCluster")?;
                c.rds
                    .stop_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&a.target, "rds:StopDBCluster", e))?;
                Ok(Outcome::Done("stopping".into()))
            }
            (Op::Stop, AuroraStatus::Stopping | AuroraStatus::Stopped) => {
                Ok(Outcome::AlreadyDone(format!("already {status}")))
            }
            (op, s) => Err(FleetError::InvalidState {
                target: a.target.clone(),
                operation: op.name().into(),
                state: s.to_string(),
            }),
        }
    }
}

impl Fleet for AwsFleet {
    async fn observe(&self, targets: &TargetSet, discovery: &Discovery) -> Result<Observed, FleetError> {
        let mut wants: BTreeMap<Place, Want> = BTreeMap::new();
        for t in targets.all() {
            match &t.locator {
                Locator::Ecs { place, cluster, service } => {
                    let w = wants.entry(place.clone()).or_default();
                    w.services.entry(cluster.clone()).or_default().insert(service.clone());
                }
                Locator::Aurora { place, cluster_id } => {
                    wants.entry(place.clone()).or_default().aurora_ids.insert(cluster_id.clone());
                }
            }
        }
        for s in &discovery.sources {
            let w = wants.entry(s.place.clone()).or_default();
            w.list.extend(s.ecs_clusters.iter().cloned());
            w.aurora_all |= s.aurora;
        }
        // Places are independent (each has its own throttles): observe them concurrently.
        let snapshots =
            join_all(wants.iter().map(|(place, want)| self.observe_place(place, want, &discovery.tag))).await;
        let mut out = Observed::default();
        for s in snapshots {
            let s = s?;
            out.ecs_services.extend(s.ecs_services);
            out.aurora_clusters.extend(s.aurora_clusters);
        }
        Ok(out)
    }

    async fn apply(&self, action: &Action) -> Outcome {
        let c = self.clients(action.locator.place()).await;
        let r = match &action.locator {
            Locator::Ecs { cluster, service, .. } => self.apply_service(&c, action, cluster, service).await,
            Locator::Aurora { cluster_id, .. } => self.apply_cluster(&c, action, cluster_id).await,
        };
        match r {
            Ok(o) => o,
            Err(FleetError::Stopping) => {
                Outcome::Skipped("envsched is shutting down: not sent; the next envsched will do it".into())
            }
            Err(FleetError::NotHolder { reason }) => {
                Outcome::Skipped(format!("not sent: {reason}; the copy that holds it will do it"))
            }
            Err(e) => Outcome::Failed(e),
        }
    }

    fn halt(&self) {
        self.halted.send_replace(true);
    }
}
