//! Observation that scales with change, not with the fleet.
//!
//! Reading every target every cycle costs one `DescribeServices` per 10 services of a
//! cluster: 24 calls per cycle for the seed's 240 services, 1,000 for 10,000 services — at a
//! 30 s poll, 33 calls/s, more than ECS's documented read rate (20/s) for the whole account.
//! So a cycle reads **in full** only when that is cheap or needed:
//!
//! * the first cycle (nothing read yet), and every cycle of a fleet whose full read costs at
//!   most [`READS_PER_SECOND`] × poll interval `DescribeServices` calls (60 at a 30 s poll:
//!   up to 600 services are read whole every cycle);
//! * with `[discovery]`, once per `schedule.sweep`: listing a cluster is the only way to
//!   find a newly tagged service, and the listing describes what it finds.
//!
//! Any other cycle reads a **slice**:
//!
//! * every target not read yet (new, or missing at the last read),
//! * the *hot* ones: acted on by the last cycle, or in transition when last read (a service
//!   whose running or pending count differs from its desired count, an Aurora cluster neither
//!   `available` nor `stopped`),
//! * the ⌈targets × elapsed ÷ sweep⌉ read longest ago (elapsed: the time since the last
//!   cycle, a poll interval unless something woke the daemon sooner), so each target is read
//!   at least every `schedule.sweep`, whatever wakes the daemon, and drift (someone else's
//!   scale, a deploy) is found within one sweep,
//! * and, free of charge, more of the longest-unread from the same ECS cluster (or place, for
//!   Aurora) until each call is full: 10 services per `DescribeServices`, 100 clusters per
//!   `DescribeDBClusters`.
//!
//! The rest is the last read of it. Then, after planning, the targets whose desired state
//! changed since the last cycle and that the cycle did not read are read and the cycle plans
//! again ([`Sweep::changed`]): a booking that starts or ends is planned on a fresh read, at the
//! next poll. A stale read never acts by itself either: the fleet re-reads a resource before
//! it changes it ([`Fleet::apply`]).
//!
//! With the defaults (30 s poll, 10 min sweep) 10,000 services cost ⌈10,000 × 30 ÷ 600⌉ = 500
//! services = 50 `DescribeServices` per cycle, 1.7 calls/s, under 10 % of ECS's read rate.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

use crate::config::{Config, Discovery};
use crate::desired::{Desired, DesiredState};
use crate::fleet::{Fleet, FleetError};
use crate::observed::{AuroraStatus, Observed, ObservedCluster, ObservedService};
use crate::target::{Locator, Place};

/// The ECS read rate a cycle may spend on average, in `DescribeServices` calls per second:
/// 10 % of the documented 20/s.
pub const READS_PER_SECOND: u32 = 2;

/// Services per `DescribeServices` call.
pub const SERVICES_PER_CALL: usize = 10;

/// DB cluster ids per `DescribeDBClusters` call (its filter takes 100).
pub const CLUSTERS_PER_CALL: usize = 100;

/// The fleet as last read, and when each resource was read.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    seen: BTreeMap<Locator, Seen>,
    /// Acted on by the last cycle: read again next cycle.
    hot: BTreeSet<Locator>,
    /// Each target's desired state in the last cycle.
    desired: HashMap<Locator, DesiredState>,
    /// The last read with discovery's listing.
    listed: Option<Timestamp>,
    /// The last cycle's read.
    last: Option<Timestamp>,
}

#[derive(Debug, Clone)]
struct Seen {
    at: Timestamp,
    what: Resource,
}

#[derive(Debug, Clone)]
enum Resource {
    Service(ObservedService),
    Cluster(ObservedCluster),
}

/// What one cycle read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Swept {
    /// Whether everything was read (first cycle, a small fleet, or discovery's listing).
    pub full: bool,
    /// Resources asked for (all of them on a full read).
    pub read: usize,
    /// Resources known in all.
    pub known: usize,
    /// Age of the oldest read the cycle planned with, in seconds.
    pub oldest_s: u64,
}

impl Sweep {
    /// The fleet for this cycle: read in full or a slice of it (see the module docs), merged
    /// with the last read of the rest.
    pub async fn observe<F: Fleet>(
        &mut self,
        fleet: &F,
        config: &Config,
        at: Timestamp,
    ) -> Result<(Observed, Swept), FleetError> {
        let schedule = &config.schedule;
        let declared: Vec<&Locator> = config.targets.all().iter().map(|t| &t.locator).collect();
        // Due at the cycle nearest one sweep after the last listing.
        let list_due = !config.discovery.is_empty()
            && self.listed.is_none_or(|l| at.duration_since(l) >= schedule.sweep - schedule.poll_interval / 2);
        let budget = READS_PER_SECOND as i64 * schedule.poll_interval.as_secs().max(1);
        // Declared targets, and what an earlier read discovered.
        let mut all: BTreeSet<&Locator> = declared.iter().copied().collect();
        all.extend(self.seen.keys());
        let full = self.seen.is_empty() || list_due || describe_calls(all.iter().copied()) as i64 <= budget;
        if full {
            let got = fleet.observe(&declared, &config.discovery).await?;
            self.seen.clear();
            self.remember(&got, at);
            if !config.discovery.is_empty() {
                self.listed = Some(at);
            }
            self.hot.clear();
            self.last = Some(at);
            let swept = Swept { full: true, read: self.seen.len(), known: self.seen.len(), oldest_s: 0 };
            return Ok((got, swept));
        }
        let since =
            self.last.map_or(schedule.sweep, |l| at.duration_since(l).clamp(SignedDuration::ZERO, schedule.sweep));
        self.last = Some(at);
        let pick = self.slice(&all, quota(all.len(), since, schedule.sweep));
        let read = self.read(fleet, &pick, &config.discovery.tag, at).await?;
        self.hot.clear();
        let (observed, oldest) = self.snapshot(at);
        Ok((observed, Swept { full: false, read, known: self.seen.len(), oldest_s: oldest }))
    }

    /// What to read this cycle out of `all`: the unread and hot ones, the `quota` read
    /// longest ago, and what fills their calls.
    fn slice(&self, all: &BTreeSet<&Locator>, quota: usize) -> Vec<Locator> {
        let mut pick: BTreeSet<&Locator> = BTreeSet::new();
        let mut cold: Vec<(Timestamp, &Locator)> = Vec::new();
        for &l in all {
            match self.seen.get(l) {
                Some(s) if !self.hot.contains(l) && !s.what.in_transition() => cold.push((s.at, l)),
                _ => {
                    pick.insert(l);
                }
            }
        }
        cold.sort();
        let (taken, rest) = cold.split_at(quota.min(cold.len()));
        pick.extend(taken.iter().map(|(_, l)| *l));
        // Fill each call: a DescribeServices of 3 costs what one of 10 does.
        let mut batches: HashMap<(&Place, Option<&str>), usize> = HashMap::new();
        for l in &pick {
            *batches.entry(batch(l)).or_default() += 1;
        }
        for (_, l) in rest {
            if let Some(n) = batches.get_mut(&batch(l))
                && *n % batch_size(l) != 0
            {
                *n += 1;
                pick.insert(l);
            }
        }
        pick.into_iter().cloned().collect()
    }

    /// Reads `pick` and records what came back; a resource asked for and not returned is
    /// gone. Returns how many were asked for.
    async fn read<F: Fleet>(
        &mut self,
        fleet: &F,
        pick: &[Locator],
        tag: &str,
        at: Timestamp,
    ) -> Result<usize, FleetError> {
        if pick.is_empty() {
            return Ok(0);
        }
        let asked: Vec<&Locator> = pick.iter().collect();
        let no_listing = Discovery { tag: tag.to_string(), sources: Vec::new() };
        let got = fleet.observe(&asked, &no_listing).await?;
        for l in pick {
            self.seen.remove(l);
        }
        self.remember(&got, at);
        Ok(pick.len())
    }

    fn remember(&mut self, got: &Observed, at: Timestamp) {
        for s in &got.ecs_services {
            self.seen.insert(s.locator(), Seen { at, what: Resource::Service(s.clone()) });
        }
        for c in &got.aurora_clusters {
            self.seen.insert(c.locator(), Seen { at, what: Resource::Cluster(c.clone()) });
        }
    }

    /// Everything as last read, and the age of the oldest read in seconds.
    fn snapshot(&self, at: Timestamp) -> (Observed, u64) {
        let mut out = Observed::default();
        let mut oldest = at;
        for s in self.seen.values() {
            oldest = oldest.min(s.at);
            match &s.what {
                Resource::Service(x) => out.ecs_services.push(x.clone()),
                Resource::Cluster(x) => out.aurora_clusters.push(x.clone()),
            }
        }
        (out, at.duration_since(oldest).as_secs().max(0).unsigned_abs())
    }

    /// After planning with `desired`: the targets whose desired state differs from the last
    /// cycle's and that were not read at `at`, read now. Returns the fresh snapshot and how
    /// many it read when it read any (the cycle then plans again), and remembers `desired`
    /// for the next cycle.
    pub async fn changed<F: Fleet>(
        &mut self,
        fleet: &F,
        desired: &Desired,
        tag: &str,
        at: Timestamp,
    ) -> Result<Option<(Observed, usize)>, FleetError> {
        let before = std::mem::take(&mut self.desired);
        let mut stale = Vec::new();
        for td in &desired.targets {
            let l = &td.target.locator;
            let changed = before.get(l).is_some_and(|b| *b != td.state);
            if changed && self.seen.get(l).is_some_and(|s| s.at < at) {
                stale.push(l.clone());
            }
            self.desired.insert(l.clone(), td.state);
        }
        if stale.is_empty() {
            return Ok(None);
        }
        let n = self.read(fleet, &stale, tag, at).await?;
        Ok(Some((self.snapshot(at).0, n)))
    }

    /// The cycle acted on these: read them again next cycle.
    pub fn acted<'a>(&mut self, locators: impl IntoIterator<Item = &'a Locator>) {
        self.hot.extend(locators.into_iter().cloned());
    }
}

impl Resource {
    fn in_transition(&self) -> bool {
        match self {
            Resource::Service(s) => s.running_count != s.desired_count || s.pending_count > 0,
            Resource::Cluster(c) => !matches!(c.status, AuroraStatus::Available | AuroraStatus::Stopped),
        }
    }
}

/// The call a resource is read in: ECS services by place and cluster, Aurora by place.
fn batch(l: &Locator) -> (&Place, Option<&str>) {
    match l {
        Locator::Ecs { place, cluster, .. } => (place, Some(cluster.as_str())),
        Locator::Aurora { place, .. } => (place, None),
    }
}

fn batch_size(l: &Locator) -> usize {
    match l {
        Locator::Ecs { .. } => SERVICES_PER_CALL,
        Locator::Aurora { .. } => CLUSTERS_PER_CALL,
    }
}

/// `DescribeServices` calls a full read of `locators` costs: ⌈services ÷ 10⌉ per cluster.
pub fn describe_calls<'a>(locators: impl IntoIterator<Item = &'a Locator>) -> usize {
    let mut per: HashMap<(&Place, &str), usize> = HashMap::new();
    for l in locators {
        if let Locator::Ecs { place, cluster, .. } = l {
            *per.entry((place, cluster.as_str())).or_default() += 1;
        }
    }
    per.values().map(|n| n.div_ceil(SERVICES_PER_CALL)).sum()
}

/// Targets to read after `elapsed` so each of `n` is read at least every `sweep`:
/// ⌈n × elapsed ÷ sweep⌉.
pub fn quota(n: usize, elapsed: SignedDuration, sweep: SignedDuration) -> usize {
    let (elapsed, sweep) = (elapsed.as_millis().max(0), sweep.as_millis().max(1));
    let n = n as i128;
    usize::try_from((n * elapsed + sweep - 1) / sweep).unwrap_or(usize::MAX)
}
