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
    /// Pacing off: every take is granted at once.
    unlimited: bool,
}

impl Bucket {
    /// A full bucket.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Bucket {
            per_second: per_second.max(0.001),
            burst,
            state: Mutex::new((burst, Instant::now())),
            unlimited: false,
        }
    }

    /// A bucket that never makes anyone wait (`[aws.pacing] preset = "off"`).
    pub fn unlimited() -> Self {
        Bucket { unlimited: true, ..Bucket::new(1.0, 1) }
    }

    /// Takes one token, waiting for it if the bucket is empty. Waiters are served in order.
    pub async fn take(&self) {
        if self.unlimited {
            return;
        }
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
    /// No pacing at all (emulators).
    pub off: bool,
}

impl Pacing {
    /// AWS's documented figures themselves (`preset = "aws-limits"`).
    pub const AWS_LIMITS: Pacing = Pacing {
        ecs_read: (20.0, 100),
        ecs_write: (5.0, 50),
        ecs_tag: (10.0, 20),
        rds: (12.0, 300),
        autoscaling: (5.0, 20),
        off: false,
    };

    /// The pacing `[aws.pacing]` asks for: its preset (validated at load; `headroom` when
    /// unset), each family it names overriding the preset's.
    pub fn from_section(s: &envsched_core::config::PacingSection) -> Pacing {
        let mut p = match s.preset.as_deref() {
            Some("aws-limits") => Pacing::AWS_LIMITS,
            Some("off") => Pacing { off: true, ..Pacing::default() },
            _ => Pacing::default(),
        };
        let set = |slot: &mut (f64, u32), r: Option<envsched_core::config::RateSection>| {
            if let Some(r) = r {
                *slot = (r.rate, r.burst);
            }
        };
        set(&mut p.ecs_read, s.ecs_read);
        set(&mut p.ecs_write, s.ecs_write);
        set(&mut p.ecs_tag, s.ecs_tag);
        set(&mut p.rds, s.rds);
        set(&mut p.autoscaling, s.autoscaling);
        p
    }

    /// The shortest time `n` calls of one family take from a full bucket `(rate, burst)`.
    pub fn schedule(n: u32, (rate, burst): (f64, u32)) -> Duration {
        Duration::from_secs_f64(f64::from(n.saturating_sub(burst)) / rate.max(0.001))
    }
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
            off: false,
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
        let b = |(rate, burst): (f64, u32)| if p.off { Bucket::unlimited() } else { Bucket::new(rate, burst) };
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

    /// With the documented UpdateService bucket, 240 scale-downs take (240 − 50) / 5 = 38 s:
    /// the floor, and what the bucket's schedule gives; with pacing off, no wait at all.
    #[tokio::test(start_paused = true)]
    async fn the_aws_limits_preset_meets_the_floor_and_off_never_waits() {
        let limits = Pacing::from_section(&envsched_core::config::PacingSection {
            preset: Some("aws-limits".into()),
            ..Default::default()
        });
        let buckets = Buckets::new(&limits);
        let start = Instant::now();
        for _ in 0..240 {
            buckets.ecs_write.take().await;
        }
        let e = start.elapsed().as_secs_f64();
        assert!((37.99..=38.01).contains(&e), "{e}");
        assert_eq!(Pacing::schedule(240, limits.ecs_write), Duration::from_secs(38));
        assert_eq!(Pacing::schedule(240, Pacing::default().ecs_write), Duration::from_secs_f64(215.0 / 4.0));
        let off = Buckets::new(&Pacing::from_section(&envsched_core::config::PacingSection {
            preset: Some("off".into()),
            ..Default::default()
        }));
        let start = Instant::now();
        for _ in 0..10_000 {
            off.ecs_read.take().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        // A family named in the section overrides the preset.
        let tuned = Pacing::from_section(&envsched_core::config::PacingSection {
            ecs_write: Some(envsched_core::config::RateSection { rate: 2.0, burst: 5 }),
            ..Default::default()
        });
        assert_eq!((tuned.ecs_write, tuned.ecs_read), ((2.0, 5), Pacing::default().ecs_read));
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
