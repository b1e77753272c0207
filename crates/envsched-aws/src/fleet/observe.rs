//! Observing in the fewest calls: `ListServices` 100 per page (discovery only),
//! `DescribeServices` 10 at a time with tags, `DescribeScalableTargets` 50 at a time and
//! `DescribeDBClusters` filtered by id.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{ServiceField, Tag};
use aws_sdk_rds::types::Filter;
use envsched_core::{
    AuroraStatus, Capacity, Discovery, FleetError, Locator, Observed, ObservedCluster, ObservedService, Place,
};
use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream;

/// `DescribeServices` calls in flight at once per place during a read.
const READS_IN_FLIGHT: usize = 16;

use super::{AwsFleet, Clients, Family};
use crate::error::sdk_error;

/// Whether a tag (ECS or RDS) is the discovery tag `tag` with a non-empty target name.
fn is_name_tag(tag: &str, key: Option<&str>, value: Option<&str>) -> bool {
    key == Some(tag) && value.is_some_and(|v| !v.trim().is_empty())
}

/// An ECS service's tags as a map.
pub(super) fn ecs_tags(s: &aws_sdk_ecs::types::Service) -> BTreeMap<String, String> {
    s.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

pub(super) fn resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// What to observe in one place.
#[derive(Debug, Default)]
pub(super) struct Want {
    /// Declared services, by cluster.
    services: BTreeMap<String, BTreeSet<String>>,
    /// Clusters to list for discovery.
    list: BTreeSet<String>,
    /// Declared Aurora cluster ids.
    aurora_ids: BTreeSet<String>,
    /// List every DB cluster for discovery.
    aurora_all: bool,
}

impl Want {
    /// What to observe in each place: the declared targets, and what discovery lists.
    pub(super) fn by_place(resources: &[&Locator], discovery: &Discovery) -> BTreeMap<Place, Want> {
        let mut wants: BTreeMap<Place, Want> = BTreeMap::new();
        for l in resources {
            match l {
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
        wants
    }
}

impl AwsFleet {
    /// Every service name in `cluster`, 100 per page. A missing cluster has none.
    pub(super) async fn list_services(&self, c: &Clients, cluster: &str) -> Result<Vec<String>, FleetError> {
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
    pub(super) async fn describe_services(
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
    pub(super) async fn scalable_targets(
        &self,
        c: &Clients,
        ids: &[String],
    ) -> Result<BTreeMap<String, Capacity>, FleetError> {
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
    pub(super) async fn describe_clusters(
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
    pub(super) async fn observe_place(&self, place: &Place, want: &Want, tag: &str) -> Result<Observed, FleetError> {
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
        // At most READS_IN_FLIGHT describes wait at once (a full read of 10,000 services is
        // 1,000 calls; the read bucket paces them either way), results in chunk order.
        let calls: Vec<_> = chunks.iter().map(|(cluster, chunk)| self.describe_services(c, cluster, chunk)).collect();
        let described: Vec<_> = stream::iter(calls).buffered(READS_IN_FLIGHT).collect().await;
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

    pub(super) fn observed_service(
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

    pub(super) fn observed_cluster(place: &Place, c: &aws_sdk_rds::types::DbCluster) -> ObservedCluster {
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
}
