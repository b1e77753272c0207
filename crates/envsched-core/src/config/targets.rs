//! Validation of declared targets: names, environments, locators, counts, and the set's
//! own rules (unique names and resources, known and acyclic `depends_on`).

use super::calendar::place;
use super::file::{ConfigFile, TargetSection};
use super::validate::Validator;
use crate::target::{Locator, Target, TargetSet, TargetSetError};

impl Validator {
    /// Every declared target, then the rules of the set as a whole.
    pub(super) fn targets(&mut self, f: &ConfigFile) -> Option<TargetSet> {
        let mut targets = Vec::with_capacity(f.targets.len());
        let mut ok = true;
        for (i, t) in f.targets.iter().enumerate() {
            match self.target(f, i, t) {
                Some(t) => targets.push(t),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        match TargetSet::new(targets) {
            Ok(set) => Some(set),
            Err(errors) => {
                for e in errors {
                    self.target_set_issue(e);
                }
                None
            }
        }
    }

    /// `targets[i]`; `None` when its name, environment or resource is unusable.
    fn target(&mut self, f: &ConfigFile, i: usize, t: &TargetSection) -> Option<Target> {
        let key = format!("targets[{i}]");
        let mut ok = true;
        if !crate::target::is_usable_name(&t.name) {
            self.issue(
                format!("{key}.name"),
                format!("{:?} is not a usable target name", t.name),
                "use a path-like name without spaces or glob characters, e.g. \"products/app1-web\"",
            );
            ok = false;
        }
        let environment = t.environment.as_ref().map(|n| (n, f.environments.iter().find(|e| &e.name == n)));
        if let Some((env, None)) = environment {
            let known: Vec<&str> = f.environments.iter().map(|e| e.name.as_str()).collect();
            self.issue(
                format!("{key}.environment"),
                format!("{:?} ({}) names environment {env:?}, which is not declared", t.name, key),
                format!("declare it with [[environments]] name = {env:?}, or use one of {known:?}"),
            );
            ok = false;
        }
        let place = environment.and_then(|(_, e)| e).map(place).unwrap_or_default();
        let locator = match (&t.ecs, &t.aurora) {
            (Some(e), None) => Locator::ecs(&e.cluster, &e.service).in_place(place),
            (None, Some(a)) => Locator::aurora(&a.cluster_id).in_place(place),
            _ => {
                self.issue(
                    key,
                    format!("target {:?} needs exactly one of ecs and aurora", t.name),
                    "add ecs = { cluster = \"…\", service = \"…\" } or aurora = { cluster_id = \"…\" }",
                );
                return None;
            }
        };
        match (t.count, &locator) {
            (Some(_), Locator::Aurora { .. }) => self.issue(
                format!("{key}.count"),
                format!("{:?} is an Aurora cluster; count applies to ECS services", t.name),
                "remove count (clusters are started and stopped whole)",
            ),
            (Some(0), _) => self.issue(
                format!("{key}.count"),
                "0 would bring the service \"up\" with no tasks",
                "use 1 or more, or pin = \"down\" to keep it off",
            ),
            _ => {}
        }
        ok.then(|| Target {
            name: t.name.clone(),
            environment: t.environment.clone(),
            locator,
            count: t.count,
            depends_on: t.depends_on.clone(),
            pin: t.pin,
        })
    }

    /// A rule of the set, reported at the key that breaks it.
    fn target_set_issue(&mut self, e: TargetSetError) {
        let (key, fix) = match &e {
            TargetSetError::DuplicateName { second, .. } => (
                format!("targets[{second}].name"),
                "give every target a unique name within its environment".to_string(),
            ),
            TargetSetError::DuplicateLocator { .. } => {
                ("targets".to_string(), "declare each AWS resource once".to_string())
            }
            TargetSetError::UnknownDependency { index, near, .. } => (
                format!("targets[{index}].depends_on"),
                match near {
                    Some(n) => format!("use {n:?}, or declare the missing target"),
                    None => "declare the missing target or remove it from depends_on".to_string(),
                },
            ),
            TargetSetError::Cycle { index, .. } => (
                format!("targets[{index}].depends_on"),
                "remove one of the depends_on links so the chain ends".to_string(),
            ),
        };
        self.issue(key, e.to_string(), fix);
    }
}
