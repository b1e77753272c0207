//! The AWS half of `check` (the Notion half is envsched-notion's schema check): can envsched
//! observe every target, with the calls and permissions a cycle uses? `check` prints it;
//! `run` logs it at startup, before the first cycle.

use std::collections::BTreeSet;

use envsched_core::observed::ObservedIndex;
use envsched_core::{Booking, Config, Fleet, Locator, Observed, Opening, Place};
use envsched_notion::schema::{Finding, Level, SchemaReport};
use jiff::{SignedDuration, Timestamp};

/// How `aws` names the default place: the fleet's Region, or what to set when it has none.
pub fn default_place(fleet: &envsched_aws::AwsFleet) -> String {
    fleet.region().unwrap_or_else(|| "no Region (set [aws] region or AWS_REGION)".into())
}

/// Observes every target once (declared and, with discovery on, tagged) and reports whether
/// AWS answered, which targets were not found, and the discovery problems. `default_place`
/// names where targets without an `aws` place live (e.g. `ap-northeast-1`).
pub async fn aws(fleet: &impl Fleet, config: &Config, default_place: &str) -> SchemaReport {
    aws_observed(fleet, config, default_place).await.0
}

/// [`aws`], and what AWS answered (`None` when it could not be observed).
pub async fn aws_observed(
    fleet: &impl Fleet,
    config: &Config,
    default_place: &str,
) -> (SchemaReport, Option<Observed>) {
    let mut report = SchemaReport::default();
    let observed = match fleet.observe(&config.targets.locators(), &config.discovery).await {
        Ok(o) => o,
        Err(e) => {
            report.findings.push(Finding { level: Level::Error, text: format!("AWS cannot be observed: {e}") });
            return (report, None);
        }
    };
    aws_report(&mut report, &observed, config, default_place);
    (report, Some(observed))
}

fn aws_report(report: &mut SchemaReport, observed: &Observed, config: &Config, default_place: &str) {
    let mut add = |level, text: String| report.findings.push(Finding { level, text });
    let (config, problems, discovered) = envsched_core::effective(config, observed);
    let index = ObservedIndex::new(observed);
    let targets = config.targets.all();
    if targets.is_empty() {
        add(
            Level::Warning,
            "AWS answered, but there are no targets: declare [[targets]] or tag resources for [discovery]".into(),
        );
        return;
    }
    // One lookup per target: (is Aurora, found).
    let looked: Vec<(bool, bool)> = targets
        .iter()
        .map(|t| (matches!(t.locator, Locator::Aurora { .. }), index.find(&t.locator).is_some()))
        .collect();
    let missing: Vec<String> =
        targets.iter().zip(&looked).filter(|(_, (_, found))| !found).map(|(t, _)| t.key().to_string()).collect();
    let places: BTreeSet<String> = targets
        .iter()
        .map(|t| t.locator.place())
        .map(|p| if p.is_default() { default_place.to_string() } else { p.to_string() })
        .collect();
    // Found / looked for, by kind.
    let count = |aurora: bool| {
        let of_kind = looked.iter().filter(|(a, _)| *a == aurora);
        (of_kind.clone().filter(|(_, found)| *found).count(), of_kind.count())
    };
    let ((ecs_found, ecs_all), (db_found, db_all)) = (count(false), count(true));
    let tagged = if discovered > 0 { format!("; {discovered} discovered by tag") } else { String::new() };
    add(
        Level::Ok,
        format!(
            "AWS answered in {}: {} of {} targets found (ECS services {ecs_found} of {ecs_all}, Aurora clusters {db_found} of {db_all}{tagged})",
            places.into_iter().collect::<Vec<_>>().join(", "),
            targets.len() - missing.len(),
            targets.len(),
        ),
    );
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        let more = if missing.len() > shown.len() {
            format!(" and {} more", missing.len() - shown.len())
        } else {
            String::new()
        };
        add(
            Level::Error,
            format!(
                "{} target(s) not found: {}{more} — check the cluster/service (or cluster id) in [[targets]], and the account and Region they are looked for in",
                missing.len(),
                shown.join(", ")
            ),
        );
    }
    for p in problems {
        add(Level::Warning, p.to_string());
    }
}

/// Logs a check's findings at startup: errors as errors (`error.kind` = `kind`), warnings as
/// warnings, the rest as info.
pub fn log(kind: &str, report: &SchemaReport) {
    for f in &report.findings {
        match f.level {
            Level::Ok => tracing::info!(check = kind, "Check: {}", f.text),
            Level::Warning => tracing::warn!(check = kind, "Check: {}", f.text),
            Level::Error => tracing::error!(
                check = kind,
                error.kind = kind,
                error.message = f.text.as_str(),
                "Check failed: {}",
                f.text
            ),
        }
    }
}

/// Imported ecspresso configs whose `deploy` would delete envsched's memory tags, with the
/// YAML that keeps them. `base` is the config file's directory (roots are relative to it).
pub fn ecspresso(config: &Config, base: &std::path::Path) -> SchemaReport {
    let mut report = SchemaReport::default();
    if config.ecspresso.is_empty() {
        return report;
    }
    let keys = [config.tags.count.as_str(), config.tags.autoscaling.as_str(), config.tags.state.as_str()];
    let env = |name: &str| std::env::var(name).ok();
    let found = envsched_aws::ecspresso::unignored_tags(&config.ecspresso, base, &env, &keys);
    if found.is_empty() {
        report.findings.push(Finding {
            level: Level::Ok,
            text: "every ecspresso config keeps envsched's tags (ignore.tags)".into(),
        });
        return report;
    }
    let yaml: String = keys.iter().map(|k| format!("\n        - {k}")).collect();
    for f in &found {
        report.findings.push(Finding {
            level: Level::Warning,
            text: format!(
                "{}: ignore.tags lacks {}; `ecspresso deploy` removes them from a parked service, which then comes back at the default count",
                f.file.display(),
                f.missing.join(", ")
            ),
        });
    }
    report.findings.push(Finding {
        level: Level::Warning,
        text: format!(
            "fix: add to each of those {} file(s) (ecspresso v2.4.0 or later):\n    ignore:\n      tags:{yaml}\n  (crates/envsched-aws/README.md, \"Living with ecspresso and Terraform\")",
            found.len()
        ),
    });
    report
}

/// Whether copies of envsched are coordinated: without `[aws.lease]` a warning that says
/// what that means; with it, whether the lease can be read and who holds it (`lease` is
/// `None` when there is no AWS to ask, e.g. a snapshot).
pub async fn lease(config: &Config, lease: Option<&envsched_aws::DynamoLease>) -> SchemaReport {
    let mut report = SchemaReport::default();
    let mut add = |level, text: String| report.findings.push(Finding { level, text });
    let Some(settings) = &config.lease else {
        add(
            Level::Warning,
            "copies are not coordinated (no [aws.lease]): two copies at once (a deploy's overlap, an `apply` \
             by hand while the daemon runs) keep every count and range (crates/envsched-aws/README.md, \"Remembered counts\"), but \
             copies whose Notion views differ can undo each other's work; add [aws.lease] with the table \
             deploy/terraform creates"
                .into(),
        );
        return report;
    };
    let Some(lease) = lease else {
        add(
            Level::Ok,
            format!("lease {:?} in table {:?}: not checked against a snapshot", settings.key, settings.table),
        );
        return report;
    };
    let now = jiff::Timestamp::now();
    match lease.peek().await {
        Ok(None) => add(Level::Ok, format!("lease {}: free", lease.describe())),
        Ok(Some((owner, until))) if until > now => {
            add(Level::Ok, format!("lease {}: held by {owner} until {until:.0} unless renewed", lease.describe()))
        }
        Ok(Some((owner, until))) => {
            add(Level::Ok, format!("lease {}: free (last held by {owner}, expired {until:.0})", lease.describe()))
        }
        Err(e) => add(
            Level::Error,
            format!(
                "{e}: without the lease no copy acts; create the table (deploy/terraform) and grant the task role \
                 dynamodb:GetItem, dynamodb:PutItem and dynamodb:DeleteItem on it"
            ),
        ),
    }
    report
}

/// One upcoming window opening and how long its starts take at the configured pacing.
#[derive(Debug, Clone)]
pub struct OpeningNeed {
    /// The edge and what it starts.
    pub opening: Opening,
    /// The longest time any place needs ([`envsched_core::Starts::needs`]), rounded up to
    /// the second.
    pub needs: SignedDuration,
    /// The place that needs it.
    pub place: Place,
}

impl OpeningNeed {
    /// Whether the starts end after the window opens.
    pub fn is_late(&self, config: &Config) -> bool {
        self.needs > config.schedule.lead
    }

    /// `{acts_at, opens_at, needs_s, lead_s, late, places: [{place, services, clusters, services_after_clusters}]}`.
    pub fn json(&self, config: &Config) -> serde_json::Value {
        let places: Vec<serde_json::Value> = self
            .opening
            .places
            .iter()
            .map(|(p, s)| {
                serde_json::json!({
                    "place": p, "services": s.services, "clusters": s.clusters,
                    "services_after_clusters": s.services_after_clusters,
                })
            })
            .collect();
        serde_json::json!({
            "acts_at": self.opening.acts_at, "opens_at": self.opening.opens_at,
            "needs_s": self.needs.as_secs(), "lead_s": config.schedule.lead.as_secs(),
            "late": self.is_late(config), "places": places,
        })
    }
}

/// Every window opening in `(now, now + horizon]` with what it starts and how long that takes
/// at `[aws.pacing]`: per place, the services' `UpdateService` and `TagResource` calls from
/// full buckets (autoscaling restores run beside them at 5/s), and for clusters
/// `schedule.aurora_start` plus one poll before the services that wait on them. With pacing
/// off (an emulator) the calls take no time and only clusters count.
pub fn openings(config: &Config, bookings: &[Booking], now: Timestamp, horizon: SignedDuration) -> Vec<OpeningNeed> {
    let pacing = envsched_aws::Pacing::from_section(&config.aws.pacing);
    let schedule = |n: usize| {
        if pacing.off {
            return std::time::Duration::ZERO;
        }
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        envsched_aws::Pacing::schedule(n, pacing.ecs_write).max(envsched_aws::Pacing::schedule(n, pacing.ecs_tag))
    };
    let until = now.checked_add(horizon).unwrap_or(Timestamp::MAX);
    envsched_core::openings(bookings, config, now, until)
        .into_iter()
        .filter_map(|opening| {
            let (place, needs) = opening
                .places
                .iter()
                .map(|(p, s)| (p, s.needs(schedule, config.schedule.aurora_start, config.schedule.poll_interval)))
                .max_by_key(|(_, d)| *d)?;
            let secs = needs.as_secs() + u64::from(needs.subsec_nanos() > 0);
            let needs = SignedDuration::from_secs(i64::try_from(secs).unwrap_or(i64::MAX));
            let place = place.clone();
            Some(OpeningNeed { opening, needs, place })
        })
        .collect()
}

/// The lead check for people: the window openings that start too late, each with what it
/// starts, how long that takes and what to change; or, when all are in time, the largest.
/// `default_place` names the default account and Region.
pub fn lead(needs: &[OpeningNeed], config: &Config, within: &str, default_place: &str) -> SchemaReport {
    let mut report = SchemaReport::default();
    let mut add = |level, text: String| report.findings.push(Finding { level, text });
    let zone = &config.default_calendar.zone;
    let lead = config.schedule.lead;
    let describe = |n: &OpeningNeed| {
        let s = n.opening.places[&n.place];
        let mut what = vec![];
        if s.services + s.services_after_clusters > 0 {
            what.push(count(s.services + s.services_after_clusters, "ECS service"));
        }
        if s.clusters > 0 {
            let them = if s.clusters == 1 { "it" } else { "them" };
            what.push(format!(
                "{} ({} waiting on {them})",
                count(s.clusters, "Aurora cluster"),
                s.services_after_clusters
            ));
        }
        let place = if n.place.is_default() { default_place.to_string() } else { n.place.to_string() };
        format!(
            "{} (window {}) starts {} in {place}",
            crate::render::local(n.opening.acts_at, zone),
            n.opening.opens_at.to_zoned(zone.clone()).strftime("%H:%M"),
            what.join(" and "),
        )
    };
    let late: Vec<&OpeningNeed> = needs.iter().filter(|n| n.is_late(config)).collect();
    let pacing = envsched_aws::Pacing::from_section(&config.aws.pacing);
    let rate = if pacing.off {
        "pacing off".to_string()
    } else {
        format!("UpdateService {}/s after a burst of {}", pacing.ecs_write.0, pacing.ecs_write.1)
    };
    for n in late.iter().take(5) {
        add(
            Level::Warning,
            format!(
                "{}: that takes {:#} at {rate} (Aurora: schedule.aurora_start = {:#} and one poll), more than schedule.lead = {lead:#}, \
                 so the window opens {:#} before the last start; set schedule.lead to at least {:#}, or pace closer to AWS's limits \
                 ([aws.pacing] preset = \"aws-limits\")",
                describe(n),
                n.needs,
                config.schedule.aurora_start,
                n.needs - lead,
                n.needs,
            ),
        );
    }
    if late.len() > 5 {
        add(
            Level::Warning,
            format!("and {} more window openings {within} start too late for schedule.lead", late.len() - 5),
        );
    }
    if late.is_empty() {
        match needs.iter().max_by_key(|n| n.needs) {
            None => add(Level::Ok, format!("no window opens {within}")),
            Some(n) => add(
                Level::Ok,
                format!(
                    "{} {within} {} in time; the longest, {}, takes {:#} of schedule.lead = {lead:#} ({rate})",
                    count(needs.len(), "window opening"),
                    if needs.len() == 1 { "starts" } else { "start" },
                    describe(n),
                    n.needs
                ),
            ),
        }
    }
    report
}

/// `1 ECS service`, `2 ECS services`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}
