//! [`AwsFleet`]: observe and apply on ECS, RDS and Application Auto Scaling.
//!
//! | module | holds |
//! |---|---|
//! | this one | [`AwsFleet`], its clients per place, pacing and the write gate (halt, fence) |
//! | `observe` | batched reads: `ListServices`, `DescribeServices`, `DescribeScalableTargets`, `DescribeDBClusters` |
//! | `apply` | one action: the re-read, the memory protocol's step, the write |

mod apply;
mod observe;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ecs::config::SharedCredentialsProvider;
use envsched_core::{Action, Discovery, Fleet, FleetError, Locator, Observed, Outcome, Place};
use futures_util::future::join_all;

use self::observe::Want;
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

    /// A fleet on the standard credential chain, in `region` or the chain's Region, paced as
    /// `pacing` (`[aws.pacing]`).
    pub async fn from_env(region: Option<String>, pacing: Pacing) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r));
        }
        AwsFleet::with_options(&loader.load().await, Options { pacing, ..Options::default() })
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
}

impl Fleet for AwsFleet {
    async fn observe(&self, resources: &[&Locator], discovery: &Discovery) -> Result<Observed, FleetError> {
        let wants = Want::by_place(resources, discovery);
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
