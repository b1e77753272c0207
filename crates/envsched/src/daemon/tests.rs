//! The loop on tokio's paused clock: the bookings, the fleet and the daemon share one
//! [`SimClock`] that follows it, so a simulated hour passes at once and every wake-up
//! happens at the instant the loop computed, not a real sleep later. The real binary's
//! end-to-end tests (`tests/daemon.rs`) keep the signals, the endpoints and the logs.

use std::sync::Mutex;
use std::time::Duration;

use envsched_core::{Booking, BookingSource, Clock, Config, Observed, SourceError, Wake, WakeReason, Window};
use envsched_notion::WriteBack;
use envsched_sandbox::{RowEdit, SandboxFleet, ScriptedSource, SimClock, Timing};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::{Daemon, LoggedFleet, Rows, Shared};

/// Monday 2026-11-23 09:00 in Tokyo.
const T0: &str = "2026-11-23T00:00:00Z";

const CONFIG: &str = r#"
[notion]
feedback_property = "envsched"
[schedule]
poll_interval = "1h"
lead = "10m"
summary = "0 0 12 * * *"
[[targets]]
name = "db/stg-aurora"
aurora = { cluster_id = "stg-aurora" }
[[targets]]
name = "products/app1-web"
ecs = { cluster = "stg1", service = "app1-web" }
count = 2
depends_on = ["db/stg-aurora"]
"#;

const OBSERVED: &str = r#"{
  "ecs_services": [{"cluster": "stg1", "service": "app1-web", "desired_count": 0, "running_count": 0}],
  "aurora_clusters": [{"id": "stg-aurora", "status": "stopped"}]
}"#;

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn at(minutes: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_mins(minutes)).unwrap()
}

/// A booking of `products/app1` from `from` to `to` minutes after T0.
fn booking(from: i64, to: i64) -> Booking {
    Booking {
        id: "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a701".into(),
        title: "App1 check".into(),
        status: "利用中".into(),
        components: vec!["products/app1".into()],
        environment: None,
        window: Window::Span { start: at(from), end: Some(at(to)) },
        trashed: false,
        feedback: None,
        last_edited: None,
        url: None,
        creator: None,
    }
}

/// What one write-back told: when, and `(row id, text)` per row.
type Told = (Timestamp, Vec<(String, String)>);

/// The rows, scripted, with what the loop told them and the notices it gave (when, key).
struct Script {
    source: ScriptedSource,
    told: Mutex<Vec<Told>>,
    notices: Mutex<Vec<(Timestamp, String)>>,
    /// When options were synced.
    synced: Mutex<Vec<Timestamp>>,
    clock: SimClock,
}

impl BookingSource for Script {
    async fn fetch(&self) -> Result<Vec<Booking>, SourceError> {
        self.source.fetch().await
    }
}

impl Rows for Script {
    async fn write_back(&self, texts: &[(String, String)], _: &[Booking]) -> WriteBack {
        self.told.lock().unwrap().push((self.clock.now(), texts.to_vec()));
        WriteBack::default()
    }

    fn forget(&self) {}

    async fn sync_options(&self, targets: &envsched_core::TargetSet) -> Result<Vec<String>, SourceError> {
        self.synced.lock().unwrap().push(self.clock.now());
        Ok(targets.offered_components())
    }

    async fn notify(&self, notices: &[envsched_core::notify::Notice]) -> envsched_notion::Told {
        let mut given = self.notices.lock().unwrap();
        let mut told = envsched_notion::Told::default();
        for n in notices {
            // Once per key, as the real notifier does.
            if !given.iter().any(|(_, k)| *k == n.key()) {
                given.push((self.clock.now(), n.key()));
                told.posted.push((n.booking.id.to_string(), n.text("期間")));
            }
        }
        told
    }
}

/// One world on the paused clock: config, rows, fleet.
struct World {
    config: Config,
    clock: SimClock,
    rows: Script,
    fleet: LoggedFleet<SandboxFleet>,
}

fn world(rows: Vec<Booking>, edits: Vec<(Timestamp, RowEdit)>) -> World {
    world_with(CONFIG, rows, edits)
}

fn world_with(config: &str, rows: Vec<Booking>, edits: Vec<(Timestamp, RowEdit)>) -> World {
    let config = Config::from_toml(config, "test").unwrap();
    let clock = SimClock::following_tokio(t0());
    let observed: Observed = serde_json::from_str(OBSERVED).unwrap();
    let source = ScriptedSource::new(clock.clone(), config.notion.active_statuses.clone(), rows, edits);
    let fleet = SandboxFleet::new(&observed, clock.clone(), Timing::default());
    let rows = Script {
        source,
        told: Mutex::new(Vec::new()),
        notices: Mutex::new(Vec::new()),
        synced: Mutex::new(Vec::new()),
        clock: clock.clone(),
    };
    World { config, clock, rows, fleet: LoggedFleet { inner: fleet, shared: std::sync::Arc::new(Shared::default()) } }
}

impl World {
    /// Runs the loop beside `drive`, which gets the world and then stops the loop.
    async fn run(&self, drive: impl AsyncFnOnce(&World)) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let daemon = Daemon::new(&self.config, &self.rows, &self.fleet, &self.clock, stop_rx, None);
        let driver = async {
            drive(self).await;
            stop_tx.send(true).unwrap();
        };
        tokio::join!(daemon.run(Default::default), driver);
    }

    fn next_wake(&self) -> Option<Wake> {
        self.fleet.shared.status.read().unwrap().next_wake
    }

    fn cycles(&self) -> u64 {
        self.fleet.shared.status.read().unwrap().cycles
    }

    fn desired_count(&self) -> u32 {
        self.fleet.inner.snapshot().ecs_services[0].desired_count
    }

    fn db(&self) -> String {
        self.fleet.inner.snapshot().aurora_clusters[0].status.to_string()
    }

    /// Sleeps on the paused clock until `t` (the loop runs whatever falls due meanwhile).
    async fn until(&self, t: Timestamp) {
        let wait = t.duration_since(self.clock.now());
        tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_loop_wakes_at_the_window_edge_not_at_the_next_poll_and_brings_the_db_up_first() {
    // Polls are an hour apart; the booking opens at 09:30, so the DB must start at 09:20.
    let w = world(vec![booking(30, 90)], vec![]);
    w.run(async |w: &World| {
        w.until(at(1)).await;
        assert_eq!(w.cycles(), 1, "one cycle at startup");
        assert_eq!(w.next_wake(), Some(Wake { at: at(20), reason: WakeReason::WindowEdge }));
        w.until(at(21)).await;
        assert_eq!(w.db(), "starting", "the DB starts at the edge (start − lead), not at the 10:00 poll");
        assert_eq!(w.desired_count(), 0, "the app waits for the DB");
        // Aurora takes 7 minutes; follow-ups look again while it starts.
        w.until(at(29)).await;
        assert_eq!(w.db(), "available");
        w.until(at(31)).await;
        assert_eq!(w.desired_count(), 2, "the app follows once the DB is available, before the booking opens");
        // One cycle at startup, one at the edge, then one per 30-second follow-up at most.
        assert!(w.cycles() <= 2 + 11 * 2, "follow-ups, not a busy loop: {} cycles", w.cycles());
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_window_end_stops_the_app_then_the_db_and_the_row_is_told_each_state() {
    let w = world(vec![booking(-30, 60)], vec![]);
    w.run(async |w: &World| {
        w.until(at(15)).await;
        assert_eq!((w.db().as_str(), w.desired_count()), ("available", 2), "up while booked");
        w.until(at(61)).await;
        assert_eq!(w.desired_count(), 0, "the app stops at the end (linger 0)");
        w.until(at(75)).await;
        assert!(matches!(w.db().as_str(), "stopping" | "stopped"), "then the DB: {}", w.db());
    })
    .await;
    let told = w.rows.told.lock().unwrap();
    let texts: Vec<&str> = told.iter().flat_map(|(_, t)| t.iter().map(|(_, text)| text.as_str())).collect();
    assert!(texts.contains(&"ready"), "the row was told ready: {texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("waiting for db/stg-aurora")), "{texts:?}");
}

#[tokio::test(start_paused = true)]
async fn a_webhook_event_runs_a_cycle_at_once_and_a_summary_falls_due_without_one() {
    // The booking appears at 09:05 (a row added in Notion); the next poll is at 10:00.
    let w = world(vec![], vec![(at(5), RowEdit::Add(booking(0, 120)))]);
    w.run(async |w: &World| {
        w.until(at(6)).await;
        assert_eq!(w.cycles(), 1);
        assert_eq!(w.db(), "stopped", "nothing yet: no poll has run since the row was added");
        w.fleet.shared.trigger.notify_one();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(w.cycles(), 2, "the event ran one cycle, within the second (follow-ups come 30 s later)");
        assert_eq!(w.db(), "starting", "and it acted on the new row");
        // schedule.summary fires at 12:00 Tokyo (03:00 UTC) with no cycle of its own.
        w.until(at(179)).await;
        let before = w.cycles();
        w.until(at(181)).await;
        assert_eq!(w.cycles(), before, "a summary is a log line, not a cycle");
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_notion_outage_freezes_the_loop_retries_sooner_than_the_poll_and_recovers() {
    let outage = SourceError::Unavailable { message: "HTTP 503".into() };
    let w = world(vec![booking(-30, 600)], vec![(at(10), RowEdit::Fail(outage)), (at(40), RowEdit::Recover)]);
    w.run(async |w: &World| {
        w.until(at(9)).await;
        assert_eq!(w.desired_count(), 2);
        w.until(at(10)).await;
        w.fleet.shared.trigger.notify_one();
        w.until(at(11)).await;
        let (error, wake) = {
            let status = w.fleet.shared.status.read().unwrap();
            (status.error.clone(), status.next_wake.unwrap())
        };
        assert!(error.as_deref().is_some_and(|e| e.contains("HTTP 503")), "{error:?}");
        assert_eq!(wake.reason, WakeReason::CycleRetry);
        assert!(wake.at < at(70), "a failed cycle is retried before the next poll: {wake:?}");
        assert_eq!(w.desired_count(), 2, "frozen: nothing stopped while the bookings cannot be read");
        w.until(at(60)).await;
        assert!(w.fleet.shared.status.read().unwrap().error.is_none(), "recovered once Notion answers");
    })
    .await;
}

/// `[notify] ending_soon = "30m"`: the loop wakes 30 minutes before the booking's end
/// (polls are an hour apart) and gives one notice, not one per cycle; during a Notion outage
/// over that instant it gives none, and gives it once the bookings can be read again.
#[tokio::test(start_paused = true)]
async fn ending_soon_is_given_once_thirty_minutes_before_the_end_and_never_while_frozen() {
    let config = format!("[notify]\nending_soon = \"30m\"\n{CONFIG}");
    let w = world_with(&config, vec![booking(-30, 120)], vec![]);
    w.run(async |w: &World| {
        w.until(at(89)).await;
        assert!(w.rows.notices.lock().unwrap().is_empty(), "not before end − 30m");
        w.until(at(91)).await;
        assert_eq!(w.rows.notices.lock().unwrap().iter().map(|n| n.0).collect::<Vec<_>>(), [at(90)], "at end − 30m");
        w.until(at(130)).await;
    })
    .await;
    assert_eq!(w.rows.notices.lock().unwrap().len(), 1, "once, whatever the cycles after it");

    // Notion is down from 85 to 100: the notice waits for a cycle that read the bookings.
    let down = SourceError::Unavailable { message: "HTTP 503".into() };
    let w =
        world_with(&config, vec![booking(-30, 120)], vec![(at(85), RowEdit::Fail(down)), (at(100), RowEdit::Recover)]);
    w.run(async |w: &World| {
        w.until(at(99)).await;
        assert!(w.rows.notices.lock().unwrap().is_empty(), "nothing while frozen");
        w.until(at(118)).await;
    })
    .await;
    let given = w.rows.notices.lock().unwrap().clone();
    assert_eq!(given.len(), 1, "{given:?}");
    assert!(given[0].0 >= at(100) && given[0].0 < at(120), "given after the outage, before the end: {given:?}");
}

/// `[notion] sync_options`: the options are synced after each resync's cycle, and only then.
#[tokio::test(start_paused = true)]
async fn with_sync_options_the_options_follow_the_targets_at_each_resync() {
    let config = CONFIG.replace("[schedule]\n", "[schedule]\nresync = \"0 30 * * * *\"\n");
    for (on, want) in [(true, vec![at(30), at(90)]), (false, vec![])] {
        let config = if on { config.replace("[notion]\n", "[notion]\nsync_options = true\n") } else { config.clone() };
        let w = world_with(&config, vec![booking(200, 300)], vec![]);
        w.run(async |w: &World| w.until(at(100)).await).await;
        assert_eq!(*w.rows.synced.lock().unwrap(), want, "sync_options = {on}");
    }
}
