//! Desired state: which targets must be up at an instant, and why.
//!
//! [`desired`] is pure: bookings + config + instant → [`Desired`]. Rules (brief §1–4):
//!
//! * a booking counts when its status is one of `notion.active_statuses`, it is not in the
//!   trash, and the instant lies in its window widened by lead and linger, read in the
//!   calendar of the *target's* environment (so a shared target follows the booking's clock);
//! * a target is up when an active booking selects it, when it is pinned up, or when a
//!   target that is up depends on it (transitively); a pin down wins over everything;
//! * anything a row asks for that cannot be honoured — unknown environment, a component that
//!   selects nothing, no components, a range that ends before it starts (or at its start), a
//!   date-only booking that covers no operating hours — becomes a [`Problem`] naming the row
//!   and the fix.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;

use crate::booking::{Booking, BookingRef};
use crate::config::Config;
use crate::problem::Problem;
use crate::target::{Pin, Selector, Target, TargetKey, TargetSet};
use crate::window::{Calendar, Window};

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DesiredState {
    /// Running (ECS count > 0, Aurora available).
    Up,
    /// Stopped (ECS count 0, Aurora stopped).
    Down,
}

/// The desired state of one target and the reasons for it.
#[derive(Debug, Clone)]
pub struct TargetDesire {
    /// The target (shared with the config's target set).
    pub target: Arc<Target>,
    /// Its key.
    pub key: TargetKey,
    /// Its index in the config's target set.
    pub index: usize,
    /// Up or down.
    pub state: DesiredState,
    /// Active bookings selecting this target directly.
    pub booked_by: Vec<BookingRef>,
    /// Targets that are up and depend on this one (directly or transitively).
    pub needed_by: Vec<TargetKey>,
    /// Every active booking keeping it up, directly or through dependents.
    pub bookings: Vec<BookingRef>,
    /// When the bookings currently keeping it up end (with linger), if they do.
    pub until: Option<Timestamp>,
    /// Transitive dependencies, as positions in [`Desired::targets`].
    pub all_deps: Vec<usize>,
    /// Direct dependents, as positions in [`Desired::targets`].
    pub dependents: Vec<usize>,
    /// Longest dependency chain below it (orders the way up).
    pub depth: usize,
    /// Longest dependent chain above it (orders the way down).
    pub height: usize,
}

impl TargetDesire {
    /// The rule behind the state, with the bookings named.
    pub fn reason(&self) -> String {
        self.why().to_string()
    }

    /// The rule behind the state, written out only when shown (a plan holds one per
    /// target; most are never read).
    pub fn why(&self) -> Reason {
        match (self.target.pin, self.state) {
            (Some(Pin::Up), _) => Reason::PinnedUp,
            (Some(Pin::Down), _) => Reason::PinnedDown,
            (None, DesiredState::Down) => Reason::NoBooking,
            (None, DesiredState::Up) if !self.booked_by.is_empty() => Reason::BookedBy(self.booked_by.clone()),
            // Kept up only by dependents that are pinned up: no booking to name.
            (None, DesiredState::Up) if self.bookings.is_empty() => Reason::NeededByPinned(self.needed_by.clone()),
            (None, DesiredState::Up) => Reason::NeededBy(self.needed_by.clone(), self.bookings.clone()),
        }
    }
}

/// Why a target is up or down. It reads (Display, JSON) as the sentence: `booked by 'web'
/// (row id)`, `needed by stg1:products/app1-web (booked by …)`, `no active booking`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `pin = "up"`.
    PinnedUp,
    /// `pin = "down"`.
    PinnedDown,
    /// Down: nothing books it.
    NoBooking,
    /// Up: these bookings select it.
    BookedBy(Vec<BookingRef>),
    /// Up: these dependents are up, pinned up.
    NeededByPinned(Vec<TargetKey>),
    /// Up: these dependents are up, kept up by these bookings.
    NeededBy(Vec<TargetKey>, Vec<BookingRef>),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list<T: std::fmt::Display>(f: &mut std::fmt::Formatter<'_>, items: &[T]) -> std::fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        }
        match self {
            Reason::PinnedUp => f.write_str("pinned up in config"),
            Reason::PinnedDown => f.write_str("pinned down in config"),
            Reason::NoBooking => f.write_str("no active booking"),
            Reason::BookedBy(b) => {
                f.write_str("booked by ")?;
                list(f, b)
            }
            Reason::NeededByPinned(n) => {
                f.write_str("needed by ")?;
                list(f, n)?;
                f.write_str(" (pinned up in config)")
            }
            Reason::NeededBy(n, b) => {
                f.write_str("needed by ")?;
                list(f, n)?;
                f.write_str(" (booked by ")?;
                list(f, b)?;
                f.write_str(")")
            }
        }
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.to_string().as_str() == *other
    }
}

/// Desired state of every target at one instant.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The instant.
    pub at: Timestamp,
    /// One entry per target, in target-set order (position == [`TargetDesire::index`]).
    pub targets: Vec<TargetDesire>,
    /// Problems found in the bookings and calendars.
    pub problems: Vec<Problem>,
    /// Bookings active at `at` (status active and inside their window).
    pub active: Vec<BookingRef>,
}

impl Desired {
    /// The entry for the target with key `key` (see [`Target::key`]).
    pub fn target(&self, key: &str) -> Option<&TargetDesire> {
        self.targets.iter().find(|t| *t.key == *key)
    }
}

/// Whether a booking's status makes it a live booking under `config`.
pub fn is_live(booking: &Booking, config: &Config) -> bool {
    !booking.trashed && config.notion.active_statuses.contains(&booking.status)
}

/// Computes the desired state at `at`.
pub fn desired(bookings: &[Booking], config: &Config, at: Timestamp) -> Desired {
    let mut problems = Vec::new();
    let mut booked: Booked = vec![(Vec::new(), None); config.targets.len()];
    let mut active = BTreeSet::new();
    let mut selections = Selections::default();
    for b in bookings.iter().filter(|b| is_live(b, config)) {
        if book(b, config, at, &mut selections, &mut booked, &mut problems) {
            active.insert(b.to_ref());
        }
    }
    problems.extend(uncovered_holidays(config, at));
    let mut targets = target_desires(config, booked);
    pull_dependencies_up(&config.targets, &mut targets, &mut problems);
    for t in &mut targets {
        t.bookings.sort();
    }
    problems.sort();
    problems.dedup();
    Desired { at, targets, problems, active: active.into_iter().collect() }
}

/// By target index: the bookings selecting it now (unsorted, may repeat), and the latest
/// end of their windows.
type Booked = Vec<(Vec<BookingRef>, Option<Timestamp>)>;

/// A component compiled and the targets it selects, or why it cannot be used.
type Selection = Result<(Selector, Vec<usize>), String>;

/// Each (component, booking environment) read once per computation: hundreds of rows name
/// the same component, and a glob is compiled and matched against every target's name.
#[derive(Default)]
struct Selections<'a> {
    /// The compiled selector and the targets it selects, or why the component is unusable.
    by_component: HashMap<(&'a str, Option<&'a str>), Selection>,
}

impl<'a> Selections<'a> {
    fn get(&mut self, set: &TargetSet, component: &'a str, scope: Option<&'a str>) -> &Selection {
        self.by_component.entry((component, scope)).or_insert_with(|| {
            Selector::parse(component).map(|s| {
                let selected = set.select(&s, scope);
                (s, selected)
            })
        })
    }
}

/// Records which targets live booking `b` selects at `at`; whether its window is open then.
/// A booking that cannot be read is a problem and selects nothing.
fn book<'a>(
    b: &'a Booking,
    config: &Config,
    at: Timestamp,
    selections: &mut Selections<'a>,
    booked: &mut Booked,
    problems: &mut Vec<Problem>,
) -> bool {
    let set = &config.targets;
    let (lead, linger) = (config.schedule.lead, config.schedule.linger);
    let r = b.to_ref();
    if let Some(env) = &b.environment
        && config.environment(env).is_none()
    {
        let known: Vec<&str> = config.environments.iter().map(|e| e.name.as_str()).collect();
        problems.push(Problem::booking(
            r,
            format!("environment {env:?} is not configured"),
            format!("choose one of {known:?} in the row, or declare [[environments]] name = {env:?}"),
        ));
        return false;
    }
    if let Some(defect) = b.window.defect() {
        problems.push(Problem::booking(r, defect, "fix the row's date range in Notion"));
        return false;
    }
    if b.components.is_empty() {
        problems.push(Problem::booking(
            r,
            "no components selected",
            "pick the components to start in the row's component property",
        ));
        return false;
    }
    let calendar = config.calendar(b.environment.as_deref());
    problems.extend(no_operating_hours(b, calendar, at));
    let mut any_active = false;
    // A booking's window is read once per calendar, not once per selected target.
    let mut by_calendar: BTreeMap<Option<&str>, Option<crate::window::Interval>> = BTreeMap::new();
    for component in &b.components {
        let (selector, selected) = match selections.get(set, component, b.environment.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Problem::booking(r.clone(), e.clone(), "fix the component option in Notion"));
                continue;
            }
        };
        if selected.is_empty() {
            problems.push(unknown_component(b, selector, config));
            continue;
        }
        for &i in selected {
            let env = set.get(i).environment.as_deref().or(b.environment.as_deref());
            let window = *by_calendar
                .entry(env)
                .or_insert_with(|| config.calendar(env).active_interval(&b.window, lead, linger, at));
            if let Some(iv) = window {
                any_active = true;
                let entry = &mut booked[i];
                entry.0.push(r.clone());
                entry.1 = entry.1.max(Some(iv.end));
            }
        }
    }
    any_active
}

/// Environments whose built-in holiday calendar does not cover `at`'s year.
fn uncovered_holidays(config: &Config, at: Timestamp) -> Vec<Problem> {
    let mut problems = Vec::new();
    for env in &config.environments {
        if let Some(h) = env.calendar.holidays {
            let year = env.calendar.local_date(at).year();
            if !env.calendar.covers_holidays(year) {
                problems.push(Problem::environment(
                    &env.name,
                    format!("the built-in {:?} holiday calendar does not cover {year}; those holidays are treated as working days", h.name()),
                    "point holidays_csv at the Cabinet Office's syukujitsu.csv, upgrade envsched, or list the year's holidays in skip_dates",
                ));
            }
        }
    }
    problems
}

/// Each target's own desire: its pin, else whether a booking selects it.
fn target_desires(config: &Config, mut booked: Booked) -> Vec<TargetDesire> {
    let set = &config.targets;
    set.all()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (mut by, until) = std::mem::take(&mut booked[i]);
            by.sort();
            by.dedup();
            let up = match t.pin {
                Some(Pin::Up) => true,
                Some(Pin::Down) => false,
                None => !by.is_empty(),
            };
            TargetDesire {
                target: Arc::clone(t),
                key: set.key(i).clone(),
                index: i,
                state: if up { DesiredState::Up } else { DesiredState::Down },
                bookings: by.clone(),
                booked_by: by,
                needed_by: Vec::new(),
                until: if t.pin.is_some() { None } else { until },
                all_deps: set.all_deps(i).to_vec(),
                dependents: set.dependents(i).to_vec(),
                depth: set.depth(i),
                height: set.height(i),
            }
        })
        .collect()
}

/// Pulls dependencies up with their dependents (transitively), carrying their bookings.
fn pull_dependencies_up(set: &TargetSet, targets: &mut [TargetDesire], problems: &mut Vec<Problem>) {
    let ups: Vec<usize> = (0..targets.len()).filter(|&i| targets[i].state == DesiredState::Up).collect();
    for i in ups {
        let (name, bookings, until, pinned) = {
            let t = &targets[i];
            (t.key.clone(), t.bookings.clone(), t.until, t.target.pin == Some(Pin::Up))
        };
        for &d in set.all_deps(i) {
            let dep = &mut targets[d];
            if dep.target.pin == Some(Pin::Down) {
                problems.push(Problem::target(
                    &dep.key,
                    format!("pinned down but needed by {name}, which is up"),
                    "remove the pin, or remove the dependency from depends_on",
                ));
                continue;
            }
            dep.state = DesiredState::Up;
            dep.needed_by.push(name.clone());
            for b in &bookings {
                if !dep.bookings.contains(b) {
                    dep.bookings.push(b.clone());
                }
            }
            if dep.target.pin.is_none() {
                dep.until = if pinned { None } else { dep.until.max(until) };
            }
        }
    }
}

fn unknown_component(b: &Booking, selector: &Selector, config: &Config) -> Problem {
    let c = selector.as_str();
    let elsewhere: BTreeSet<&str> = config
        .targets
        .select(selector, None)
        .into_iter()
        .filter_map(|i| config.targets.get(i).environment.as_deref())
        .collect();
    let fix = match (&b.environment, elsewhere.is_empty()) {
        (Some(env), false) => format!(
            "it selects targets only in {} — check the row's environment (it says {env})",
            elsewhere.into_iter().collect::<Vec<_>>().join(", ")
        ),
        _ => "remove the option from the row, or declare a target whose name starts with it".to_string(),
    };
    Problem::booking(b.to_ref(), format!("unknown component {c}"), fix)
}

/// A date-only booking that is not over yet but contains no operating hours at all.
fn no_operating_hours(b: &Booking, cal: &Calendar, at: Timestamp) -> Option<Problem> {
    let Window::Days { first, last } = b.window else { return None };
    if cal.is_unrestricted() || last < cal.local_date(at) {
        return None;
    }
    let mut day = first;
    for _ in 0..62 {
        if day > last {
            break;
        }
        if cal.operating_interval(day).is_some() {
            return None;
        }
        day = day.tomorrow().ok()?;
    }
    if day <= last {
        return None; // a long range: assume it has operating days
    }
    Some(Problem::booking(
        b.to_ref(),
        format!("{} has no operating hours (weekend, holiday or skipped date)", b.window.describe()),
        "book a date-time range (e.g. 10:00–18:00) to use the environment outside operating hours",
    ))
}

/// The next instant after `after` at which any live booking's activity changes (window
/// start − lead, end + linger, operating-hours edges), within the calendar horizon. The
/// daemon wakes then, so a booking opening at 09:00 is acted on at 09:00 − lead.
pub fn next_change(bookings: &[Booking], config: &Config, after: Timestamp) -> Option<Timestamp> {
    let (lead, linger) = (config.schedule.lead, config.schedule.linger);
    bookings
        .iter()
        .filter(|b| is_live(b, config) && b.window.defect().is_none())
        .flat_map(|b| {
            let calendars: Vec<&Calendar> = match &b.environment {
                Some(e) => vec![config.calendar(Some(e))],
                None => std::iter::once(&config.default_calendar)
                    .chain(config.environments.iter().map(|e| &e.calendar))
                    .collect(),
            };
            calendars.into_iter().filter_map(move |c| c.next_edge(&b.window, lead, linger, after))
        })
        .min()
}
