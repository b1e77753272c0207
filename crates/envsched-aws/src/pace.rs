//! Token buckets per API family, so envsched stays inside the documented AWS throttles by
//! design instead of discovering them by being throttled.
//!
//! AWS meters each API family with a token bucket per account and Region (see
//! `../shared/notes/ops.md`). envsched keeps its own buckets, per place, a little under those
//! figures, so it leaves room for people and pipelines using the same account.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// One token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub struct Bucket {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    /// A full bucket.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Bucket { per_second: per_second.max(0.001), burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Takes one token, waiting for it if the bucket is empty. Waiters are served in order.
    pub async fn take(&self) {
        // Holding the lock while sleeping serves callers first come, first served.
        let mut st = self.state.lock().await;
        let now = Instant::now();
        let refilled = (st.0 + now.duration_since(st.1).as_secs_f64() * self.per_second).min(self.burst);
        if refilled >= 1.0 {
            *st = (refilled - 1.0, now);
            return;
        }
        let wait = Duration::from_secs_f64((1.0 - refilled) / self.per_second);
        tokio::time::sleep(wait).await;
        *st = (0.0, now + wait);
    }
}

/// Rates per API family (calls per second, burst).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// ECS reads (`DescribeServices`, `ListServices`). AWS: 20/s, burst 100.
    pub ecs_read: (f64, u32),
    /// ECS mutations (`UpdateService`). AWS: 5/s, burst 50.
    pub ecs_write: (f64, u32),
    /// ECS tag changes (`TagResource`, `UntagResource`). AWS: 10/s, burst 20.
    pub ecs_tag: (f64, u32),
    /// RDS, all APIs. AWS: 12/s, burst ~300.
    pub rds: (f64, u32),
    /// Application Auto Scaling. Not published per API; envsched keeps to 5/s, burst 20.
    pub autoscaling: (f64, u32),
}

impl Default for Pacing {
    /// About 80 % of each documented sustained rate and half its burst.
    fn default() -> Self {
        Pacing {
            ecs_read: (16.0, 50),
            ecs_write: (4.0, 25),
            ecs_tag: (8.0, 10),
            rds: (10.0, 100),
            autoscaling: (5.0, 20),
        }
    }
}

/// The API families' buckets for one place (account and Region).
#[derive(Debug)]
pub struct Buckets {
    pub(crate) ecs_read: Bucket,
    pub(crate) ecs_write: Bucket,
    pub(crate) ecs_tag: Bucket,
    pub(crate) rds: Bucket,
    pub(crate) autoscaling: Bucket,
}

impl Buckets {
    /// Full buckets at `p`'s rates.
    pub fn new(p: &Pacing) -> Self {
        let b = |(rate, burst): (f64, u32)| Bucket::new(rate, burst);
        Buckets {
            ecs_read: b(p.ecs_read),
            ecs_write: b(p.ecs_write),
            ecs_tag: b(p.ecs_tag),
            rds: b(p.rds),
            autoscaling: b(p.autoscaling),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokio's paused clock makes these exact, not timed: time advances only when every task
    // is waiting.
    #[tokio::test(start_paused = true)]
    async fn a_burst_is_free_and_the_rest_is_paced_at_the_rate() {
        let b = Bucket::new(5.0, 50);
        let start = Instant::now();
        for _ in 0..50 {
            b.take().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst needs no waiting");
        for _ in 0..10 {
            b.take().await;
        }
        let e = start.elapsed().as_secs_f64();
        assert!((1.99..=2.01).contains(&e), "10 more at 5/s take 2 s, took {e}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_up_to_its_burst_only() {
        let b = Bucket::new(10.0, 5);
        for _ in 0..5 {
            b.take().await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..6 {
            b.take().await;
        }
        let e = start.elapsed().as_secs_f64();
        assert!((0.09..=0.11).contains(&e), "5 refilled, the 6th waits 0.1 s, took {e}");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_rate() {
        let b = std::sync::Arc::new(Bucket::new(4.0, 1));
        let start = Instant::now();
        let tasks: Vec<_> = (0..9)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.take().await })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let e = start.elapsed().as_secs_f64();
        assert!((1.99..=2.01).contains(&e), "1 free + 8 at 4/s = 2 s, took {e}");
    }
}
