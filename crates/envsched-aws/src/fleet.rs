//! [`AwsFleet`]: observe and apply on ECS, RDS and Application Auto Scaling.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::types::{ServiceField, Tag};
use aws_sdk_rds::types::Filter;
use envsched_core::{
    Action, AuroraStatus, Capacity, Fleet, FleetError, Locator, Observed, ObservedCluster, ObservedService, Op,
    Outcome, TargetSet,
};

/// API calls made, by operation name.
pub type CallCounts = BTreeMap<&'static str, usize>;

/// The AWS fleet. Cheap to share; one per (account, Region).
#[derive(Debug)]
pub struct AwsFleet {
    ecs: aws_sdk_ecs::Client,
    rds: aws_sdk_rds::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
    calls: Mutex<CallCounts>,
}

/// An SDK error as one line, with the service's error code when there is one.
fn describe<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

fn retryable(message: &str) -> bool {
    [
        "Throttl",
        "RequestLimitExceeded",
        "TooManyRequests",
        "ServiceUnavailable",
        "InternalFailure",
        "timeout",
        "dispatch",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn api_error(target: &str, operation: &str, message: String) -> FleetError {
    FleetError::Api {
        target: target.to_string(),
        operation: operation.to_string(),
        retryable: retryable(&message),
        message,
    }
}

fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

impl AwsFleet {
    /// A fleet on the SDK config `sdk` (region, credentials, endpoint).
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        AwsFleet {
            ecs: aws_sdk_ecs::Client::new(sdk),
            rds: aws_sdk_rds::Client::new(sdk),
            autoscaling: aws_sdk_applicationautoscaling::Client::new(sdk),
            calls: Mutex::new(CallCounts::new()),
        }
    }

    /// A fleet on the standard credential chain, in `region` or the chain's Region.
    pub async fn from_env(region: Option<String>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r));
        }
        AwsFleet::new(&loader.load().await)
    }

    /// API calls made so far, by operation.
    pub fn calls(&self) -> CallCounts {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn count(&self, op: &'static str) {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(op).or_default() += 1;
    }

    /// `DescribeServices` for up to 10 services of one cluster, with tags.
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<aws_sdk_ecs::types::Service>, FleetError> {
        self.count("ecs:DescribeServices");
        let out = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| api_error("*", "ecs:DescribeServices", describe(&e)))?;
        Ok(out.services().iter().filter(|s| s.status() != Some("INACTIVE")).cloned().collect())
    }

    /// Min/max of the services' scalable targets, 50 resource ids per call.
    async fn scalable_targets(&self, ids: &[String]) -> Result<BTreeMap<String, Capacity>, FleetError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(50) {
            let mut token: Option<String> = None;
            loop {
                self.count("application-autoscaling:DescribeScalableTargets");
                let page = self
                    .autoscaling
                    .describe_scalable_targets()
                    .service_namespace(ServiceNamespace::Ecs)
                    .set_resource_ids(Some(chunk.to_vec()))
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| api_error("*", "application-autoscaling:DescribeScalableTargets", describe(&e)))?;
                for t in page.scalable_targets() {
                    if t.scalable_dimension() == &ScalableDimension::EcsServiceDesiredCount {
                        let cap = Capacity {
                            min: u32::try_from(t.min_capacity()).unwrap_or(0),
                            max: u32::try_from(t.max_capacity()).unwrap_or(0),
                        };
                        out.insert(t.resource_id().to_string(), cap);
                    }
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// `DescribeDBClusters` filtered by the given ids (100 per call), paginated.
    async fn describe_clusters(&self, ids: &[String]) -> Result<Vec<aws_sdk_rds::types::DbCluster>, FleetError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(100) {
            let filter = Filter::builder().name("db-cluster-id").set_values(Some(chunk.to_vec())).build();
            let mut marker: Option<String> = None;
            loop {
                self.count("rds:DescribeDBClusters");
                let page = self
                    .rds
                    .describe_db_clusters()
                    .filters(filter.clone())
                    .set_marker(marker.clone())
                    .send()
                    .await
                    .map_err(|e| api_error("*", "rds:DescribeDBClusters", describe(&e)))?;
                out.extend(page.db_clusters().iter().cloned());
                marker = page.marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn observed_service(
        cluster: &str,
        s: &aws_sdk_ecs::types::Service,
        caps: &BTreeMap<String, Capacity>,
    ) -> ObservedService {
        let name = s.service_name().unwrap_or_default().to_string();
        ObservedService {
            autoscaling: caps.get(&resource_id(cluster, &name)).copied(),
            cluster: cluster.to_string(),
            service: name,
            desired_count: u32::try_from(s.desired_count()).unwrap_or(0),
            running_count: u32::try_from(s.running_count()).unwrap_or(0),
            pending_count: u32::try_from(s.pending_count()).unwrap_or(0),
            tags: s
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect(),
        }
    }

    fn observed_cluster(c: &aws_sdk_rds::types::DbCluster) -> ObservedCluster {
        // Clusters Aurora cannot stop: Serverless v1, global database members, cross-Region
        // read replicas (a replication source), clusters in a blue/green deployment.
        let unstoppable = if c.engine_mode() == Some("serverless") {
            Some("Aurora Serverless v1 clusters cannot be stopped".to_string())
        } else if c.global_cluster_identifier().is_some() {
            Some("member of a global database".to_string())
        } else if c.replication_source_identifier().is_some() {
            Some("a cross-Region read replica".to_string())
        } else {
            None
        };
        ObservedCluster {
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

    async fn one_service(
        &self,
        target: &str,
        cluster: &str,
        service: &str,
    ) -> Result<aws_sdk_ecs::types::Service, FleetError> {
        let found = self.describe_services(cluster, &[service.to_string()]).await?;
        found.into_iter().next().ok_or_else(|| FleetError::NotFound { target: target.to_string() })
    }

    async fn apply_service(&self, a: &Action, cluster: &str, service: &str) -> Result<Outcome, FleetError> {
        let s = self.one_service(&a.target, cluster, service).await?;
        let arn = s.service_arn().unwrap_or_default().to_string();
        let tags: BTreeMap<String, String> =
            s.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
        match &a.op {
            Op::Scale { to, .. } => {
                if u32::try_from(s.desired_count()).ok() == Some(*to) {
                    return Ok(Outcome::AlreadyDone(format!("desiredCount already {to}")));
                }
                self.count("ecs:UpdateService");
                self.ecs
                    .update_service()
                    .cluster(cluster)
                    .service(service)
                    .desired_count(i32::try_from(*to).unwrap_or(i32::MAX))
                    .send()
                    .await
                    .map_err(|e| api_error(&a.target, "ecs:UpdateService", describe(&e)))?;
                Ok(Outcome::Done(format!("desiredCount {} → {to}", s.desired_count())))
            }
            Op::Tag { set, remove } => {
                let to_set: Vec<&(String, String)> = set.iter().filter(|(k, v)| tags.get(k) != Some(v)).collect();
                let to_remove: Vec<&String> = remove.iter().filter(|k| tags.contains_key(*k)).collect();
                if to_set.is_empty() && to_remove.is_empty() {
                    return Ok(Outcome::AlreadyDone("tags already as wanted".into()));
                }
                if !to_set.is_empty() {
                    self.count("ecs:TagResource");
                    let tags: Vec<Tag> = to_set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
                    self.ecs
                        .tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(tags))
                        .send()
                        .await
                        .map_err(|e| api_error(&a.target, "ecs:TagResource", describe(&e)))?;
                }
                if !to_remove.is_empty() {
                    self.count("ecs:UntagResource");
                    self.ecs
                        .untag_resource()
                        .resource_arn(&arn)
                        .set_tag_keys(Some(to_remove.iter().map(|k| k.to_string()).collect()))
                        .send()
                        .await
                        .map_err(|e| api_error(&a.target, "ecs:UntagResource", describe(&e)))?;
                }
                Ok(Outcome::Done("tagged".into()))
            }
            Op::ParkAutoscaling { .. } | Op::RestoreAutoscaling { .. } => {
                let want = match &a.op {
                    Op::RestoreAutoscaling { to } => *to,
                    _ => Capacity { min: 0, max: 0 },
                };
                // Only these two ops need the scalable target: describe it here, not per action.
                let cap = self.scalable_targets(&[resource_id(cluster, service)]).await?.values().next().copied();
                match cap {
                    None => {
                        return Err(FleetError::InvalidState {
                            target: a.target.clone(),
                            operation: a.op.name().into(),
                            state: "no scalable target".into(),
                        });
                    }
                    Some(c) if c == want => return Ok(Outcome::AlreadyDone(format!("autoscaling already {want}"))),
                    Some(_) => {}
                }
                self.count("application-autoscaling:RegisterScalableTarget");
                self.autoscaling
                    .register_scalable_target()
                    .service_namespace(ServiceNamespace::Ecs)
                    .resource_id(resource_id(cluster, service))
                    .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                    .min_capacity(i32::try_from(want.min).unwrap_or(0))
                    .max_capacity(i32::try_from(want.max).unwrap_or(0))
                    .send()
                    .await
                    .map_err(|e| {
                        api_error(&a.target, "application-autoscaling:RegisterScalableTarget", describe(&e))
                    })?;
                Ok(Outcome::Done(format!("autoscaling {want}")))
            }
            Op::Start | Op::Stop => Err(FleetError::InvalidState {
                target: a.target.clone(),
                operation: a.op.name().into(),
                state: "an ECS service".into(),
            }),
        }
    }

    async fn apply_cluster(&self, a: &Action, id: &str) -> Result<Outcome, FleetError> {
        let found = self.describe_clusters(&[id.to_string()]).await?;
        let c = found.first().ok_or_else(|| FleetError::NotFound { target: a.target.clone() })?;
        let status = AuroraStatus::from(c.status().unwrap_or("unknown").to_string());
        let invalid = |op: &str, e: String| {
            if e.contains("InvalidDBClusterStateFault") {
                FleetError::InvalidState {
                    target: a.target.clone(),
                    operation: op.to_string(),
                    state: "changed by someone else".into(),
                }
            } else {
                api_error(&a.target, op, e)
            }
        };
        match (&a.op, &status) {
            (Op::Start, AuroraStatus::Stopped) => {
                self.count("rds:StartDBCluster");
                self.rds
                    .start_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| invalid("rds:StartDBCluster", describe(&e)))?;
                Ok(Outcome::Done("starting".into()))
            }
            (Op::Start, AuroraStatus::Starting | AuroraStatus::Available) => {
                Ok(Outcome::AlreadyDone(format!("already {status}")))
            }
            (Op::Stop, AuroraStatus::Available) => {
                self.count("rds:StopDBCluster");
                self.rds
                    .stop_db_cluster()
                    .db_cluster_identifier(id)
                    .send()
                    .await
                    .map_err(|e| invalid("rds:StopDBCluster", describe(&e)))?;
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
    async fn observe(&self, targets: &TargetSet) -> Result<Observed, FleetError> {
        let mut by_cluster: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut clusters: Vec<String> = Vec::new();
        for t in targets.all() {
            match &t.locator {
                Locator::Ecs { cluster, service } => {
                    by_cluster.entry(cluster.as_str()).or_default().insert(service.clone());
                }
                Locator::Aurora { cluster_id } => clusters.push(cluster_id.clone()),
            }
        }
        let mut described = Vec::new();
        for (cluster, names) in &by_cluster {
            let names: Vec<String> = names.iter().cloned().collect();
            for chunk in names.chunks(10) {
                for s in self.describe_services(cluster, chunk).await? {
                    described.push((cluster.to_string(), s));
                }
            }
        }
        let ids: Vec<String> =
            described.iter().map(|(c, s)| resource_id(c, s.service_name().unwrap_or_default())).collect();
        let caps = if ids.is_empty() { BTreeMap::new() } else { self.scalable_targets(&ids).await? };
        let ecs_services = described.iter().map(|(c, s)| Self::observed_service(c, s, &caps)).collect();
        let aurora_clusters = if clusters.is_empty() {
            Vec::new()
        } else {
            self.describe_clusters(&clusters).await?.iter().map(Self::observed_cluster).collect()
        };
        Ok(Observed { ecs_services, aurora_clusters })
    }

    async fn apply(&self, action: &Action) -> Outcome {
        let r = match &action.locator {
            Locator::Ecs { cluster, service } => self.apply_service(action, cluster, service).await,
            Locator::Aurora { cluster_id } => self.apply_cluster(action, cluster_id).await,
        };
        r.unwrap_or_else(Outcome::Failed)
    }
}
