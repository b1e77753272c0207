//! An in-memory fleet with ECS- and Aurora-like timing.

use std::collections::BTreeMap;
use std::sync::Mutex;

use envsched_core::{
    Action, AuroraStatus, Clock, Discovery, Fleet, FleetError, Locator, Observed, ObservedCluster, ObservedService, Op,
    Outcome, ServiceNow, Step,
};
use jiff::{SignedDuration, Timestamp};

use crate::SimClock;

/// How long simulated resources take to change.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// From desiredCount > running to running == desired.
    pub service_start: SignedDuration,
    /// From `starting` to `available`.
    pub aurora_start: SignedDuration,
    /// From `stopping` to `stopped`.
    pub aurora_stop: SignedDuration,
    /// A stopped cluster starts itself after this long (AWS: 7 days).
    pub aurora_auto_start: SignedDuration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            service_start: SignedDuration::from_secs(90),
            aurora_start: SignedDuration::from_mins(7),
            aurora_stop: SignedDuration::from_mins(5),
            aurora_auto_start: SignedDuration::from_hours(7 * 24),
        }
    }
}

/// Instant fleet: every change takes effect at once (for `envsched apply` on files).
impl Timing {
    /// No delays at all.
    pub fn instant() -> Self {
        Timing {
            service_start: SignedDuration::ZERO,
            aurora_start: SignedDuration::ZERO,
            aurora_stop: SignedDuration::ZERO,
            aurora_auto_start: SignedDuration::from_hours(7 * 24),
        }
    }
}

#[derive(Debug, Clone)]
struct Service {
    observed: ObservedService,
    /// When running catches up with desired.
    ready_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
struct Cluster {
    observed: ObservedCluster,
    /// When the current transition (starting/stopping) ends.
    settles_at: Option<Timestamp>,
    /// Since when it has been stopped (for the 7-day auto-start).
    stopped_since: Option<Timestamp>,
}

#[derive(Debug, Default)]
struct State {
    services: BTreeMap<(String, String), Service>,
    clusters: BTreeMap<String, Cluster>,
    auto_starts: Vec<(Timestamp, String)>,
    calls: usize,
    /// Resources whose API calls fail (AccessDenied, throttling…), with the error text.
    failing: BTreeMap<Locator, String>,
}

/// An in-memory fleet. See the crate docs for what it models.
#[derive(Debug)]
pub struct SandboxFleet {
    clock: SimClock,
    timing: Timing,
    state: Mutex<State>,
}

impl SandboxFleet {
    /// A fleet holding `observed`'s resources, in the state they are in, as of `clock`'s now.
    /// Stopped clusters count as stopped since now.
    pub fn new(observed: &Observed, clock: SimClock, timing: Timing) -> Self {
        let now = clock.now();
        let mut state = State::default();
        for s in &observed.ecs_services {
            state
                .services
                .insert((s.cluster.clone(), s.service.clone()), Service { observed: s.clone(), ready_at: None });
        }
        for c in &observed.aurora_clusters {
            let stopped_since = (c.status == AuroraStatus::Stopped).then_some(now);
            state.clusters.insert(c.id.clone(), Cluster { observed: c.clone(), settles_at: None, stopped_since });
        }
        SandboxFleet { clock, timing, state: Mutex::new(state) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Backdates when a stopped cluster stopped, so its 7-day auto-start happens sooner.
    pub fn set_stopped_since(&self, cluster_id: &str, since: Timestamp) {
        if let Some(c) = self.lock().clusters.get_mut(cluster_id) {
            c.stopped_since = Some(since);
        }
    }

    /// Someone outside envsched sets a service's desiredCount (a deploy, or by hand).
    pub fn scale_by_hand(&self, cluster: &str, service: &str, count: u32) {
        let now = self.clock.now();
        let timing = self.timing;
        if let Some(s) = self.lock().services.get_mut(&(cluster.to_string(), service.to_string())) {
            set_desired(s, count, now, timing);
        }
    }

    /// Someone outside envsched removes tags from a service (ecspresso `deploy` and Terraform
    /// remove every key their definition lacks).
    pub fn untag_by_hand(&self, cluster: &str, service: &str, keys: &[&str]) {
        if let Some(s) = self.lock().services.get_mut(&(cluster.to_string(), service.to_string())) {
            s.observed.tags.retain(|k, _| !keys.contains(&k.as_str()));
        }
    }

    /// Makes every action on `locator` fail with `message` (`None` heals it), the way an
    /// AccessDenied or a throttled API would.
    pub fn set_failure(&self, locator: Locator, message: Option<&str>) {
        let mut st = self.lock();
        match message {
            Some(m) => st.failing.insert(locator, m.to_string()),
            None => st.failing.remove(&locator),
        };
    }

    /// Clusters that started themselves, and when.
    pub fn auto_starts(&self) -> Vec<(Timestamp, String)> {
        self.lock().auto_starts.clone()
    }

    /// How many calls `observe` and `apply` received.
    pub fn calls(&self) -> usize {
        self.lock().calls
    }

    /// Advances every resource to the clock's now and returns the snapshot.
    pub fn snapshot(&self) -> Observed {
        let now = self.clock.now();
        let mut st = self.lock();
        settle(&mut st, now, self.timing);
        Observed {
            ecs_services: st.services.values().map(|s| s.observed.clone()).collect(),
            aurora_clusters: st.clusters.values().map(|c| c.observed.clone()).collect(),
        }
    }

    fn apply_now(&self, action: &Action) -> Outcome {
        let now = self.clock.now();
        let timing = self.timing;
        let mut st = self.lock();
        st.calls += 1;
        settle(&mut st, now, timing);
        if let Some(message) = st.failing.get(&action.locator) {
            return Outcome::Failed(FleetError::Api {
                target: action.target.to_string(),
                operation: action.op.name().into(),
                message: message.clone(),
                retryable: true,
            });
        }
        let not_found = || Outcome::Failed(FleetError::NotFound { target: action.target.to_string() });
        match (&action.locator, &action.op) {
            (Locator::Aurora { cluster_id, .. }, op) => {
                let Some(c) = st.clusters.get_mut(cluster_id) else { return not_found() };
                let status = c.observed.status.clone();
                match (op, status) {
                    (Op::Start, AuroraStatus::Stopped) => {
                        c.observed.status = AuroraStatus::Starting;
                        c.settles_at = Some(now.checked_add(timing.aurora_start).unwrap_or(now));
                        c.stopped_since = None;
                        Outcome::Done("starting".into())
                    }
                    (Op::Start, AuroraStatus::Starting | AuroraStatus::Available) => {
                        Outcome::AlreadyDone("already starting or available".into())
                    }
                    (Op::Stop, AuroraStatus::Available) => match &c.observed.unstoppable {
                        Some(why) => Outcome::Failed(FleetError::Api {
                            target: action.target.to_string(),
                            operation: "StopDBCluster".into(),
                            message: format!("InvalidDBClusterStateFault: {why}"),
                            retryable: false,
                        }),
                        None => {
                            c.observed.status = AuroraStatus::Stopping;
                            c.settles_at = Some(now.checked_add(timing.aurora_stop).unwrap_or(now));
                            Outcome::Done("stopping".into())
                        }
                    },
                    (Op::Stop, AuroraStatus::Stopping | AuroraStatus::Stopped) => {
                        Outcome::AlreadyDone("already stopping or stopped".into())
                    }
                    (op, s) => Outcome::Failed(FleetError::InvalidState {
                        target: action.target.to_string(),
                        operation: op.name().into(),
                        state: s.to_string(),
                    }),
                }
            }
            (Locator::Ecs { cluster, service, .. }, op) => {
                let Some(s) = st.services.get_mut(&(cluster.clone(), service.clone())) else { return not_found() };
                // The same re-check as the AWS fleet, on the service as it is now.
                match envsched_core::memory::step(op, &action.memory, &ServiceNow::from(&s.observed)) {
                    Step::AlreadyDone(why) => Outcome::AlreadyDone(why),
                    Step::Refuse(why) => Outcome::Failed(FleetError::InvalidState {
                        target: action.target.to_string(),
                        operation: op.name().into(),
                        state: why,
                    }),
                    Step::Scale(to) => {
                        set_desired(s, to, now, timing);
                        settle_service(s, now);
                        Outcome::Done(format!("desiredCount {to}"))
                    }
                    Step::Autoscaling(to) => {
                        s.observed.autoscaling = Some(to);
                        Outcome::Done(format!("autoscaling {to}"))
                    }
                    Step::Tag(set) => {
                        s.observed.tags.extend(set);
                        Outcome::Done("tagged".into())
                    }
                }
            }
        }
    }
}

fn set_desired(s: &mut Service, count: u32, now: Timestamp, timing: Timing) {
    s.observed.desired_count = count;
    if count < s.observed.running_count {
        // Tasks drain quickly compared with a poll interval.
        s.observed.running_count = count;
        s.ready_at = None;
    } else if count > s.observed.running_count {
        s.observed.pending_count = count - s.observed.running_count;
        s.ready_at = Some(now.checked_add(timing.service_start).unwrap_or(now));
    }
}

fn settle_service(s: &mut Service, now: Timestamp) {
    if s.ready_at.is_some_and(|t| t <= now) {
        s.observed.running_count = s.observed.desired_count;
        s.observed.pending_count = 0;
        s.ready_at = None;
    }
}

fn settle(st: &mut State, now: Timestamp, timing: Timing) {
    for s in st.services.values_mut() {
        settle_service(s, now);
    }
    let mut auto = Vec::new();
    for c in st.clusters.values_mut() {
        if c.settles_at.is_some_and(|t| t <= now) {
            c.observed.status = match c.observed.status {
                AuroraStatus::Starting => AuroraStatus::Available,
                AuroraStatus::Stopping => {
                    c.stopped_since = c.settles_at;
                    AuroraStatus::Stopped
                }
                ref s => s.clone(),
            };
            c.settles_at = None;
        }
        if c.observed.status == AuroraStatus::Stopped
            && let Some(since) = c.stopped_since
        {
            let due = since.checked_add(timing.aurora_auto_start).unwrap_or(Timestamp::MAX);
            if due <= now {
                c.observed.status = AuroraStatus::Starting;
                c.settles_at = Some(due.checked_add(timing.aurora_start).unwrap_or(due));
                c.stopped_since = None;
                auto.push((due, c.observed.id.clone()));
            }
        }
    }
    // A start that was due long ago may already be over.
    for c in st.clusters.values_mut() {
        if c.settles_at.is_some_and(|t| t <= now) && c.observed.status == AuroraStatus::Starting {
            c.observed.status = AuroraStatus::Available;
            c.settles_at = None;
        }
    }
    st.auto_starts.extend(auto);
}

impl Fleet for SandboxFleet {
    async fn observe(&self, _resources: &[&Locator], _discovery: &Discovery) -> Result<Observed, FleetError> {
        self.lock().calls += 1;
        Ok(self.snapshot())
    }

    async fn apply(&self, action: &Action) -> Outcome {
        self.apply_now(action)
    }
}
