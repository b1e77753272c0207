//! Window openings: what each upcoming window edge starts, so `plan` and `check` can say
//! whether `schedule.lead` leaves time to start it all before the window opens.
//!
//! envsched acts at a window's start − lead. What it starts there is paced by AWS: ECS takes
//! `UpdateService` at 5/s after a burst of 50 per account and Region, so 2,500 services need
//! more than 8 minutes of calls; an Aurora cluster needs minutes to become `available`, and
//! the services that depend on it start only after that (the planner's gate up). This module
//! counts, per edge and per place (account and Region), the services and clusters that edge
//! brings up, and the services among them that wait on a cluster starting at the same edge.
//! The binary turns the counts into a duration with its pacing ([`Starts::needs`]).
//!
//! Between two consecutive edges nothing becomes active or inactive, so the targets up just
//! before an edge are the targets up at the previous edge: one [`desired()`] per edge.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::booking::Booking;
use crate::config::Config;
use crate::desired::{DesiredState, desired, next_change};
use crate::target::{Place, TargetKind};

/// At most this many edges are looked at (a horizon crowded with distinct edges is cut here).
pub const MAX_EDGES: usize = 500;

/// What one edge starts in one place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Starts {
    /// ECS services scaled up at the edge itself.
    pub services: usize,
    /// Aurora clusters started.
    pub clusters: usize,
    /// ECS services that wait for one of those clusters to be available first.
    pub services_after_clusters: usize,
}

impl Starts {
    /// How long this edge needs before the window opens: the services' `UpdateService`
    /// calls at `schedule(n)` (the pacing's shortest time for n calls), and, when clusters
    /// start, `aurora_start` (cluster to `available`) plus one `poll` (the cycle that sees it)
    /// before the services that wait on them. Task start-up inside ECS is not included.
    pub fn needs(
        &self,
        schedule: impl Fn(usize) -> Duration,
        aurora_start: SignedDuration,
        poll: SignedDuration,
    ) -> Duration {
        let now = schedule(self.services);
        if self.clusters == 0 {
            return now;
        }
        let wait = aurora_start.unsigned_abs() + poll.unsigned_abs();
        // The bucket refills while the clusters start, so the waiting services start from a
        // full burst again.
        now.max(wait + schedule(self.services_after_clusters))
    }
}

/// One upcoming edge that starts something.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Opening {
    /// When envsched acts (a window's start − lead, or an operating-hours edge − lead).
    pub acts_at: Timestamp,
    /// When the earliest window opening there expects things up (`acts_at + lead`).
    pub opens_at: Timestamp,
    /// What starts, per place.
    pub places: BTreeMap<Place, Starts>,
}

/// Every edge in `(from, until]` that starts at least one target, in time order, with what it
/// starts. Pinned targets never count; a target up before the edge does not start.
pub fn openings(bookings: &[Booking], config: &Config, from: Timestamp, until: Timestamp) -> Vec<Opening> {
    let up = |at: Timestamp| -> Vec<bool> {
        desired(bookings, config, at).targets.iter().map(|t| t.state == DesiredState::Up).collect()
    };
    let mut before = up(from);
    let mut t = from;
    let mut out = Vec::new();
    for _ in 0..MAX_EDGES {
        let Some(edge) = next_change(bookings, config, t) else { break };
        if edge <= t || edge > until {
            break;
        }
        let d = desired(bookings, config, edge);
        let now: Vec<bool> = d.targets.iter().map(|x| x.state == DesiredState::Up).collect();
        let starting: Vec<usize> =
            (0..now.len()).filter(|&i| now[i] && !before.get(i).copied().unwrap_or(false)).collect();
        if !starting.is_empty() {
            let mut places: BTreeMap<Place, Starts> = BTreeMap::new();
            let is_starting_cluster = |i: usize| {
                d.targets[i].target.kind() == TargetKind::AuroraCluster
                    && now[i]
                    && !before.get(i).copied().unwrap_or(false)
            };
            for &i in &starting {
                let td = &d.targets[i];
                let s = places.entry(td.target.locator.place().clone()).or_default();
                match td.target.kind() {
                    TargetKind::AuroraCluster => s.clusters += 1,
                    _ if td.all_deps.iter().any(|&p| is_starting_cluster(p)) => s.services_after_clusters += 1,
                    _ => s.services += 1,
                }
            }
            let opens_at = edge.checked_add(config.schedule.lead).unwrap_or(edge);
            out.push(Opening { acts_at: edge, opens_at, places });
        }
        before = now;
        t = edge;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Window;

    fn config(services: usize) -> Config {
        let mut toml = String::from(
            "time_zone = \"UTC\"\n[schedule]\nlead = \"10m\"\n[[targets]]\nname = \"db/aurora\"\naurora = { cluster_id = \"stg-db\" }\n",
        );
        for i in 0..services {
            let dep = if i % 2 == 0 { "\ndepends_on = [\"db/aurora\"]" } else { "" };
            toml.push_str(&format!(
                "[[targets]]\nname = \"products/s{i:04}\"\necs = {{ cluster = \"stg1\", service = \"s{i:04}\" }}{dep}\n"
            ));
        }
        Config::from_toml(&toml, "test").unwrap()
    }

    fn booking(id: &str, components: &[&str], from: &str, to: &str) -> Booking {
        Booking {
            id: id.into(),
            title: id.into(),
            status: "利用中".into(),
            components: components.iter().map(|c| c.to_string()).collect(),
            environment: None,
            window: Window::Span { start: from.parse().unwrap(), end: Some(to.parse().unwrap()) },
            trashed: false,
            feedback: None,
            last_edited: None,
            url: None,
            creator: None,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_edge_counts_what_it_brings_up_and_what_waits_on_a_starting_cluster() {
        let c = config(10);
        let b = [booking("p1", &["products/"], "2026-12-04T09:00:00Z", "2026-12-04T18:00:00Z")];
        let o = openings(&b, &c, ts("2026-12-04T00:00:00Z"), ts("2026-12-05T00:00:00Z"));
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(o[0].acts_at, ts("2026-12-04T08:50:00Z"));
        assert_eq!(o[0].opens_at, ts("2026-12-04T09:00:00Z"));
        let s = o[0].places[&Place::default()];
        assert_eq!(s, Starts { services: 5, clusters: 1, services_after_clusters: 5 });
    }

    #[test]
    fn what_is_already_up_does_not_start_again_and_closing_edges_start_nothing() {
        let c = config(4);
        let b = [
            booking("p1", &["products/s0001"], "2026-12-04T08:00:00Z", "2026-12-04T18:00:00Z"),
            booking("p2", &["products/"], "2026-12-04T09:00:00Z", "2026-12-04T17:00:00Z"),
        ];
        let o = openings(&b, &c, ts("2026-12-04T00:00:00Z"), ts("2026-12-05T00:00:00Z"));
        let counts: Vec<(Timestamp, Starts)> = o.iter().map(|x| (x.acts_at, x.places[&Place::default()])).collect();
        assert_eq!(
            counts,
            vec![
                (ts("2026-12-04T07:50:00Z"), Starts { services: 1, clusters: 0, services_after_clusters: 0 }),
                // s0001 is up already; s0000 and s0002 wait on the cluster.
                (ts("2026-12-04T08:50:00Z"), Starts { services: 1, clusters: 1, services_after_clusters: 2 }),
            ]
        );
    }

    #[test]
    fn the_window_before_from_and_after_until_is_not_looked_at() {
        let c = config(2);
        let b = [booking("p1", &["products/"], "2026-12-04T09:00:00Z", "2026-12-04T18:00:00Z")];
        assert!(openings(&b, &c, ts("2026-12-04T10:00:00Z"), ts("2026-12-05T00:00:00Z")).is_empty(), "already open");
        assert!(openings(&b, &c, ts("2026-12-03T00:00:00Z"), ts("2026-12-04T08:00:00Z")).is_empty(), "beyond until");
    }

    #[test]
    fn needs_is_the_call_schedule_or_the_cluster_then_a_poll_then_its_services() {
        // UpdateService at 5/s after 50.
        let schedule = |n: usize| Duration::from_secs_f64(n.saturating_sub(50) as f64 / 5.0);
        let aurora = SignedDuration::from_mins(10);
        let poll = SignedDuration::from_secs(30);
        let plain = Starts { services: 2_550, clusters: 0, services_after_clusters: 0 };
        assert_eq!(plain.needs(schedule, aurora, poll), Duration::from_secs(500));
        let waits = Starts { services: 100, clusters: 1, services_after_clusters: 300 };
        assert_eq!(waits.needs(schedule, aurora, poll), Duration::from_secs(600 + 30 + 50));
        let cheap = Starts { services: 3_050, clusters: 1, services_after_clusters: 0 };
        assert_eq!(cheap.needs(schedule, aurora, poll), Duration::from_secs(630).max(Duration::from_secs(600)));
    }
}
