//! What AWS reports: one snapshot of the managed resources.
//!
//! The serde shape is the `--observed` file format (and what `Fleet::observe` returns):
//!
//! ```json
//! {"ecs_services": [{"cluster": "stg1", "service": "app1-web", "desired_count": 2,
//!                    "running_count": 2, "tags": {}, "autoscaling": {"min": 1, "max": 4}}],
//!  "aurora_clusters": [{"id": "stg-aurora", "status": "available", "tags": {}}]}
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::target::{Locator, Place};

/// One snapshot of the fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// ECS services.
    #[serde(default)]
    pub ecs_services: Vec<ObservedService>,
    /// Aurora clusters.
    #[serde(default)]
    pub aurora_clusters: Vec<ObservedCluster>,
}

/// An ECS service as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedService {
    /// Account and Region (absent: the default place).
    #[serde(default, skip_serializing_if = "Place::is_default")]
    pub place: Place,
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// desiredCount.
    pub desired_count: u32,
    /// runningCount.
    pub running_count: u32,
    /// pendingCount, when known.
    #[serde(default)]
    pub pending_count: u32,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The Application Auto Scaling target, if the service has one.
    #[serde(default)]
    pub autoscaling: Option<Capacity>,
}

impl ObservedService {
    /// Where this service is, as a target names it.
    pub fn locator(&self) -> Locator {
        Locator::ecs(&self.cluster, &self.service).in_place(self.place.clone())
    }
}

/// Min/max capacity of a scalable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// MinCapacity.
    pub min: u32,
    /// MaxCapacity.
    pub max: u32,
}

impl Capacity {
    /// Parked: 0/0, the autoscaler cannot scale the service back up.
    pub fn is_parked(self) -> bool {
        self.min == 0 && self.max == 0
    }

    /// The tag value form, `min/max`.
    pub fn to_tag(self) -> String {
        format!("{}/{}", self.min, self.max)
    }

    /// Parses the tag value form `min/max`.
    pub fn from_tag(s: &str) -> Option<Capacity> {
        let (min, max) = s.trim().split_once('/')?;
        let c = Capacity { min: min.trim().parse().ok()?, max: max.trim().parse().ok()? };
        (c.min <= c.max).then_some(c)
    }
}

impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "min={},max={}", self.min, self.max)
    }
}

/// An Aurora cluster as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedCluster {
    /// Account and Region (absent: the default place).
    #[serde(default, skip_serializing_if = "Place::is_default")]
    pub place: Place,
    /// DBClusterIdentifier.
    pub id: String,
    /// Cluster status.
    pub status: AuroraStatus,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Why this cluster cannot be stopped (global database member, cross-Region replica,
    /// blue/green deployment, Serverless v1), when the fleet detected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstoppable: Option<String>,
}

impl ObservedCluster {
    /// Where this cluster is, as a target names it.
    pub fn locator(&self) -> Locator {
        Locator::aurora(&self.id).in_place(self.place.clone())
    }
}

/// An Aurora cluster's status. Only the four that matter to envsched are variants; every
/// other status (`backing-up`, `modifying`, `maintenance`, …) is transitional: wait.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum AuroraStatus {
    /// Serving; can be stopped.
    Available,
    /// Stopped; can be started.
    Stopped,
    /// Starting; wait.
    Starting,
    /// Stopping; wait.
    Stopping,
    /// Anything else; wait.
    Other(String),
}

impl From<String> for AuroraStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "available" => AuroraStatus::Available,
            "stopped" => AuroraStatus::Stopped,
            "starting" => AuroraStatus::Starting,
            "stopping" => AuroraStatus::Stopping,
            _ => AuroraStatus::Other(s),
        }
    }
}

impl From<AuroraStatus> for String {
    fn from(s: AuroraStatus) -> String {
        s.as_str().to_string()
    }
}

impl AuroraStatus {
    /// The status as AWS spells it.
    pub fn as_str(&self) -> &str {
        match self {
            AuroraStatus::Available => "available",
            AuroraStatus::Stopped => "stopped",
            AuroraStatus::Starting => "starting",
            AuroraStatus::Stopping => "stopping",
            AuroraStatus::Other(s) => s,
        }
    }
}

impl std::fmt::Display for AuroraStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource found for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found<'a> {
    /// An ECS service.
    Service(&'a ObservedService),
    /// An Aurora cluster.
    Cluster(&'a ObservedCluster),
}

impl Found<'_> {
    /// The resource's tags.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        match self {
            Found::Service(s) => &s.tags,
            Found::Cluster(c) => &c.tags,
        }
    }

    /// Whether the resource is fully down: a service with no desired, running or pending
    /// tasks; a cluster that is stopped.
    pub fn is_drained(&self) -> bool {
        match self {
            Found::Service(s) => s.desired_count == 0 && s.running_count == 0 && s.pending_count == 0,
            Found::Cluster(c) => c.status == AuroraStatus::Stopped,
        }
    }

    /// Whether the resource is up: a service with desiredCount > 0, a cluster that is
    /// available.
    pub fn is_up(&self) -> bool {
        match self {
            Found::Service(s) => s.desired_count > 0,
            Found::Cluster(c) => c.status == AuroraStatus::Available,
        }
    }
}

/// An index over a snapshot for lookups by locator.
#[derive(Debug)]
pub struct ObservedIndex<'a> {
    services: HashMap<(&'a Place, &'a str, &'a str), &'a ObservedService>,
    clusters: HashMap<(&'a Place, &'a str), &'a ObservedCluster>,
}

impl<'a> ObservedIndex<'a> {
    /// Indexes `observed`.
    pub fn new(observed: &'a Observed) -> Self {
        ObservedIndex {
            services: observed
                .ecs_services
                .iter()
                .map(|s| ((&s.place, s.cluster.as_str(), s.service.as_str()), s))
                .collect(),
            clusters: observed.aurora_clusters.iter().map(|c| ((&c.place, c.id.as_str()), c)).collect(),
        }
    }

    /// The resource at `locator`, if observed.
    pub fn find(&self, locator: &Locator) -> Option<Found<'a>> {
        match locator {
            Locator::Ecs { place, cluster, service } => {
                self.services.get(&(place, cluster.as_str(), service.as_str())).map(|s| Found::Service(s))
            }
            Locator::Aurora { place, cluster_id } => {
                self.clusters.get(&(place, cluster_id.as_str())).map(|c| Found::Cluster(c))
            }
        }
    }
}
