//! The savings estimate: what the fleet used against what it would have used always on.
//!
//! One model, used by the daemon (its metrics and summary line, a sample per cycle spanning
//! the time since the previous one) and by the demo (its report, a sample per simulated
//! minute). A sample is the fleet as observed, held for a span:
//!
//! * an ECS service runs `runningCount` tasks; always on, it would run its full count:
//!   `desiredCount` while it is up, the remembered count (the `count` tag) while it is
//!   stopped, 1 when no valid count is remembered. It *ran* when at least one task ran.
//! * an Aurora cluster is billed unless `stopped` (starting and stopping are billed).
//!
//! Prices come from `[pricing]` (USD per task-hour, per cluster-hour). It estimates what the
//! stops saved, not a bill: storage, load balancers and instance sizes are not in it.

use std::ops::AddAssign;
use std::time::Duration;

use serde::Serialize;

use crate::config::PricingSection;
use crate::memory::{Memory, MemoryKeys};
use crate::observed::{AuroraStatus, Observed, ObservedService};

/// Resource-seconds used, and what always-on would have used, over one or more samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    /// ECS service-seconds with at least one running task.
    pub service_s: f64,
    /// ECS service-seconds had every service run throughout.
    pub service_s_always_on: f64,
    /// ECS task-seconds run.
    pub task_s: f64,
    /// ECS task-seconds had every service run its full count throughout.
    pub task_s_always_on: f64,
    /// Aurora cluster-seconds billed.
    pub aurora_s: f64,
    /// Aurora cluster-seconds had every cluster stayed available.
    pub aurora_s_always_on: f64,
}

/// What [`Usage`] costs at `[pricing]`'s prices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// USD on ECS tasks.
    pub tasks: f64,
    /// USD on ECS tasks had every service run its full count.
    pub tasks_always_on: f64,
    /// USD on Aurora clusters.
    pub aurora: f64,
    /// USD on Aurora clusters had they stayed available.
    pub aurora_always_on: f64,
}

impl Cost {
    /// USD not spent: always-on minus spent, ECS and Aurora together.
    pub fn saved(&self) -> f64 {
        (self.tasks_always_on - self.tasks) + (self.aurora_always_on - self.aurora)
    }
}

/// The count a service would run if always on: its desired count while up, else its
/// remembered count, else 1.
pub fn full_count(service: &ObservedService, keys: &MemoryKeys) -> u32 {
    if service.desired_count > 0 {
        return service.desired_count;
    }
    Memory::read(&service.tags, keys).count().unwrap_or(1)
}

impl Usage {
    /// What the fleet in `observed` uses when it stays so for `span`.
    pub fn sample(observed: &Observed, keys: &MemoryKeys, span: Duration) -> Usage {
        let mut u = Usage::default();
        for s in &observed.ecs_services {
            u.add_service(s.running_count, full_count(s, keys), span);
        }
        for c in &observed.aurora_clusters {
            u.add_cluster(&c.status, span);
        }
        u
    }

    /// Adds one ECS service running `running` tasks, `full` when always on, for `span`.
    pub fn add_service(&mut self, running: u32, full: u32, span: Duration) {
        let secs = span.as_secs_f64();
        self.service_s += if running > 0 { secs } else { 0.0 };
        self.service_s_always_on += secs;
        self.task_s += f64::from(running) * secs;
        self.task_s_always_on += f64::from(full) * secs;
    }

    /// Adds one Aurora cluster in `status` for `span`.
    pub fn add_cluster(&mut self, status: &AuroraStatus, span: Duration) {
        let secs = span.as_secs_f64();
        self.aurora_s += if *status == AuroraStatus::Stopped { 0.0 } else { secs };
        self.aurora_s_always_on += secs;
    }

    /// The cost at `pricing`.
    pub fn cost(&self, pricing: &PricingSection) -> Cost {
        let hours = |s: f64| s / 3600.0;
        Cost {
            tasks: hours(self.task_s) * pricing.task_hour_usd,
            tasks_always_on: hours(self.task_s_always_on) * pricing.task_hour_usd,
            aurora: hours(self.aurora_s) * pricing.aurora_cluster_hour_usd,
            aurora_always_on: hours(self.aurora_s_always_on) * pricing.aurora_cluster_hour_usd,
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.service_s += o.service_s;
        self.service_s_always_on += o.service_s_always_on;
        self.task_s += o.task_s;
        self.task_s_always_on += o.task_s_always_on;
        self.aurora_s += o.aurora_s;
        self.aurora_s_always_on += o.aurora_s_always_on;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(json: &str) -> Observed {
        serde_json::from_str(json).unwrap()
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_stopped_service_saves_its_remembered_count_and_a_running_one_nothing() {
        let o = observed(
            r#"{"ecs_services": [
                {"cluster": "c", "service": "up", "desired_count": 2, "running_count": 2},
                {"cluster": "c", "service": "parked", "desired_count": 0, "running_count": 0,
                 "tags": {"envsched:count": "3"}},
                {"cluster": "c", "service": "unknown", "desired_count": 0, "running_count": 0}
            ]}"#,
        );
        let u = Usage::sample(&o, &MemoryKeys::default(), HOUR);
        assert_eq!((u.service_s, u.service_s_always_on), (3600.0, 3.0 * 3600.0));
        assert_eq!((u.task_s, u.task_s_always_on), (2.0 * 3600.0, (2.0 + 3.0 + 1.0) * 3600.0));
        let pricing = PricingSection { task_hour_usd: 0.5, aurora_cluster_hour_usd: 1.0 };
        let c = u.cost(&pricing);
        assert_eq!((c.tasks, c.tasks_always_on), (1.0, 3.0));
        assert_eq!(c.saved(), 2.0);
    }

    #[test]
    fn a_starting_or_stopping_cluster_is_billed_and_a_stopped_one_is_not() {
        let o = observed(
            r#"{"aurora_clusters": [
                {"id": "a", "status": "available"}, {"id": "b", "status": "starting"},
                {"id": "c", "status": "stopping"}, {"id": "d", "status": "stopped"}
            ]}"#,
        );
        let mut u = Usage::sample(&o, &MemoryKeys::default(), HOUR / 2);
        u += Usage::sample(&o, &MemoryKeys::default(), HOUR / 2);
        assert_eq!((u.aurora_s, u.aurora_s_always_on), (3.0 * 3600.0, 4.0 * 3600.0));
        let pricing = PricingSection { task_hour_usd: 0.0, aurora_cluster_hour_usd: 0.25 };
        assert_eq!(u.cost(&pricing).saved(), 0.25);
    }
}
