//! The AWS half of `check` (the Notion half is envsched-notion's schema check): can envsched
//! observe every target, with the calls and permissions a cycle uses? `check` prints it;
//! `run` logs it at startup, before the first cycle.

use std::collections::BTreeSet;

use envsched_core::observed::ObservedIndex;
use envsched_core::{Config, Fleet, Locator};
use envsched_notion::schema::{Finding, Level, SchemaReport};

/// How `aws` names the default place: the fleet's Region, or what to set when it has none.
pub fn default_place(fleet: &envsched_aws::AwsFleet) -> String {
    fleet.region().unwrap_or_else(|| "no Region (set [aws] region or AWS_REGION)".into())
}

/// Observes every target once (declared and, with discovery on, tagged) and reports whether
/// AWS answered, which targets were not found, and the discovery problems. `default_place`
/// names where targets without an `aws` place live (e.g. `ap-northeast-1`).
pub async fn aws(fleet: &impl Fleet, config: &Config, default_place: &str) -> SchemaReport {
    let mut report = SchemaReport::default();
    let mut add = |level, text: String| report.findings.push(Finding { level, text });
    let observed = match fleet.observe(&config.targets.locators(), &config.discovery).await {
        Ok(o) => o,
        Err(e) => {
            add(Level::Error, format!("AWS cannot be observed: {e}"));
            return report;
        }
    };
    let (config, problems, discovered) = envsched_core::effective(config, &observed);
    let index = ObservedIndex::new(&observed);
    let targets = config.targets.all();
    if targets.is_empty() {
        add(
            Level::Warning,
            "AWS answered, but there are no targets: declare [[targets]] or tag resources for [discovery]".into(),
        );
        return report;
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
    report
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
