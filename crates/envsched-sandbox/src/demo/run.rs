//! Playing the week: one reconcile cycle per simulated minute, people's edits and deploys
//! as the clock passes them, and each minute sampled for the chart and the report.

use std::collections::{BTreeMap, BTreeSet};

use envsched_core::observed::{Found, ObservedIndex};
use envsched_core::{
    AuroraStatus, Booking, BookingSource, Config, CycleError, CycleState, DesiredState, MemoryKeys, Mode, Pin, Report,
    Selector, Usage, desired, reconcile,
};
use jiff::{SignedDuration, Timestamp};

use super::{BookingTrack, DemoEdit, Event, Savings, Simulation, TargetTrack, World};
use crate::SimClock;
use crate::standin::StandIn;

/// What one sample spans: a cycle per simulated minute.
const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);

/// A source read the way the daemon reads Notion: again when `poll_interval` has passed or
/// when a row was edited (a webhook event in production), every cycle while reads fail
/// (so the cycle stays frozen until one succeeds), and from the last answer otherwise —
/// windows are evaluated locally, so a window opening needs no read.
struct Polled<'a, S> {
    inner: &'a S,
    clock: SimClock,
    every: SignedDuration,
    state: std::sync::Mutex<PolledState>,
}

#[derive(Default)]
struct PolledState {
    last: Option<(Timestamp, Vec<Booking>)>,
    failing: bool,
    edited: bool,
}

impl<S: BookingSource + Sync> BookingSource for Polled<'_, S> {
    async fn fetch(&self) -> Result<Vec<Booking>, envsched_core::SourceError> {
        let now = envsched_core::Clock::now(&self.clock);
        let cached = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &st.last {
                Some((at, rows)) if !st.failing && !st.edited && now.duration_since(*at) < self.every => {
                    Some(rows.clone())
                }
                _ => None,
            }
        };
        if let Some(rows) = cached {
            return Ok(rows);
        }
        let got = self.inner.fetch().await;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.edited = false;
        st.failing = got.is_err();
        if let Ok(rows) = &got {
            st.last = Some((now, rows.clone()));
        }
        got
    }
}

/// Runs the week: one reconcile cycle per simulated minute, the same cycle `apply` runs,
/// reading bookings from `source` — in `envsched demo`, the real Notion client against
/// `standin`, to which the week's edits are made as the simulated clock passes them. The
/// source is re-read every `schedule.poll_interval` and right after each edit (see `Polled`).
/// `after` runs after every cycle (the demo writes each row's state back there) and returns
/// events for the timeline.
pub async fn run<S, F>(world: &World, standin: &StandIn, source: &S, mut after: F) -> Result<Simulation, CycleError>
where
    S: BookingSource + Sync,
    F: AsyncFnMut(&Report, &[Booking]) -> Vec<Event>,
{
    let source = Polled {
        inner: source,
        clock: world.clock.clone(),
        every: world.config.schedule.poll_interval,
        state: std::sync::Mutex::new(PolledState::default()),
    };
    let mut play = Playback::new(world);
    for m in 0..play.minutes {
        let now = world.start.checked_add(SignedDuration::from_mins(m as i64)).unwrap_or(world.end);
        world.clock.set(now);
        play.people_act(now, standin, &source);
        let r = reconcile(&world.config, &source, &world.fleet, &world.clock, &mut play.state, Mode::Apply).await?;
        play.report.cycles += 1;
        if r.source_error.is_none() {
            play.events.extend(after(&r, &play.state.last_bookings).await);
        }
        play.narrate(&r, now);
        play.sample(&r, m, now, standin);
    }
    Ok(play.finish())
}

/// The week in the making.
pub(super) struct Playback<'a> {
    world: &'a World,
    minutes: usize,
    /// The config without lead and linger: what "booked" means on the chart.
    booked_config: Config,
    targets: Vec<TargetTrack>,
    bookings: Vec<BookingTrack>,
    pub(super) events: Vec<Event>,
    pub(super) report: Savings,
    state: CycleState,
    pub(super) seen_problems: BTreeSet<String>,
    pub(super) seen_auto: usize,
    pub(super) was_frozen: bool,
    /// Deploys and edits still to come, latest first.
    deploys: Vec<(Timestamp, String, String, u32)>,
    edits: Vec<(Timestamp, DemoEdit)>,
    /// Every row seen live so far, with its latest status.
    seen_rows: Vec<Booking>,
}

impl<'a> Playback<'a> {
    fn new(world: &'a World) -> Self {
        let config = &world.config;
        let minutes = usize::try_from(world.end.duration_since(world.start).as_mins()).unwrap_or(0);
        let mut booked_config = config.clone();
        booked_config.schedule.lead = SignedDuration::ZERO;
        booked_config.schedule.linger = SignedDuration::ZERO;
        let targets = config
            .targets
            .all()
            .iter()
            .map(|t| TargetTrack {
                key: t.key(),
                name: t.name.clone(),
                environment: t.environment.clone().unwrap_or_default(),
                kind: t.kind(),
                running: vec![0; minutes],
                up: vec![false; minutes],
                booked: vec![false; minutes],
            })
            .collect();
        let mut deploys = world.deploys.clone();
        deploys.sort_by_key(|d| std::cmp::Reverse(d.0));
        let mut edits = world.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        Playback {
            world,
            minutes,
            booked_config,
            targets,
            bookings: Vec::new(),
            events: Vec::new(),
            report: Savings { pricing: config.pricing.clone(), ..Savings::default() },
            state: CycleState::default(),
            seen_problems: BTreeSet::new(),
            seen_auto: 0,
            was_frozen: false,
            deploys,
            edits,
            seen_rows: Vec::new(),
        }
    }

    pub(super) fn config(&self) -> &Config {
        &self.world.config
    }

    pub(super) fn world(&self) -> &World {
        self.world
    }

    /// The deploys and edits due by `now`: a service scaled outside envsched, rows added or
    /// cancelled in the stand-in, an outage begun or ended.
    fn people_act<S>(&mut self, now: Timestamp, standin: &StandIn, source: &Polled<'_, S>) {
        while self.deploys.last().is_some_and(|d| d.0 <= now) {
            if let Some((at, cluster, service, count)) = self.deploys.pop() {
                self.world.fleet.scale_by_hand(&cluster, &service, count);
                self.events.push(Event {
                    at,
                    environment: Some(cluster.clone()),
                    text: format!("someone deploys {service} with ecspresso: desiredCount {count}, outside envsched"),
                });
            }
        }
        while self.edits.last().is_some_and(|e| e.0 <= now) {
            source.state.lock().unwrap_or_else(|p| p.into_inner()).edited = true;
            match self.edits.pop().map(|e| e.1) {
                Some(DemoEdit::Add(row)) => {
                    let mut rows = standin.rows();
                    rows.push(row);
                    standin.set_rows(rows);
                }
                Some(DemoEdit::SetStatus { id, status }) => standin.edit_row(&id, |r| r.status = status),
                Some(DemoEdit::Outage(status)) => standin.set_outage(Some(status)),
                Some(DemoEdit::OutageEnds) => standin.set_outage(None),
                None => {}
            }
        }
    }

    /// Samples minute `m` as the cycle observed it: each target's tasks and state, whether
    /// a booking needs it, and each row's window.
    fn sample(&mut self, r: &Report, m: usize, now: Timestamp, standin: &StandIn) {
        let live: Vec<Booking> = self.state.last_bookings.clone();
        let statuses: BTreeMap<String, String> = standin.rows().into_iter().map(|r| (r.id, r.status)).collect();
        for b in &live {
            match self.seen_rows.iter_mut().find(|s| s.id == b.id) {
                Some(s) => *s = b.clone(),
                None => self.seen_rows.push(b.clone()),
            }
        }
        for s in &mut self.seen_rows {
            if let Some(status) = statuses.get(&s.id) {
                s.status = status.clone();
            }
        }
        let booked = desired(&live, &self.booked_config, now);
        let idx = ObservedIndex::new(&r.observed);
        self.report.usage += Usage::sample(&r.observed, &MemoryKeys::from(&self.world.config.tags), MINUTE);
        for (i, t) in self.world.config.targets.all().iter().enumerate() {
            let track = &mut self.targets[i];
            match idx.find(&t.locator) {
                Some(Found::Service(s)) => {
                    track.running[m] = u16::try_from(s.running_count).unwrap_or(u16::MAX);
                    track.up[m] = s.running_count > 0 && s.desired_count > 0;
                }
                Some(Found::Cluster(c)) => {
                    track.running[m] = u16::from(c.status != AuroraStatus::Stopped);
                    track.up[m] = c.status == AuroraStatus::Available;
                }
                None => {}
            }
            let td = &booked.targets[i];
            track.booked[m] = td.state == DesiredState::Up && td.target.pin != Some(Pin::Up);
            if track.booked[m] && !track.up[m] {
                self.report.booked_minutes_missed += 1;
            }
        }
        self.sample_rows(m, now);
    }

    /// Each row seen so far: whether its window is open at minute `m`.
    fn sample_rows(&mut self, m: usize, now: Timestamp) {
        let config = &self.world.config;
        for b in &self.seen_rows {
            let pos = match self.bookings.iter().position(|t| t.booking.id == b.id) {
                Some(p) => p,
                None => {
                    self.bookings.push(BookingTrack {
                        booking: b.clone(),
                        active: vec![false; self.minutes],
                        components: components(b, config),
                    });
                    self.bookings.len() - 1
                }
            };
            let track = &mut self.bookings[pos];
            track.booking = b.clone();
            track.active[m] = envsched_core::desired::is_live(b, config)
                && config.calendar(b.environment.as_deref()).is_active(
                    &b.window,
                    SignedDuration::ZERO,
                    SignedDuration::ZERO,
                    now,
                );
        }
    }

    /// The week's totals, and the tracks.
    fn finish(mut self) -> Simulation {
        let minutes = self.minutes;
        let report = &mut self.report;
        report.aurora_auto_starts = self.seen_auto;
        self.events.sort_by_key(|e| e.at);
        Simulation {
            start: self.world.start,
            minutes,
            environments: self.world.config.environments.iter().map(|e| e.name.clone()).collect(),
            targets: self.targets,
            bookings: self.bookings,
            events: self.events,
            report: self.report,
        }
    }
}

/// Each component of `b` and the targets it selects.
fn components(b: &Booking, config: &Config) -> Vec<(String, Vec<usize>)> {
    b.components
        .iter()
        .map(|c| {
            let sel =
                Selector::parse(c).map(|s| config.targets.select(&s, b.environment.as_deref())).unwrap_or_default();
            (c.clone(), sel)
        })
        .collect()
}
