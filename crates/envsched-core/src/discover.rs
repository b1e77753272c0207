//! Discovery by tag: resources tagged `envsched:name = <target name>` in the configured
//! clusters become targets, next to the declared ones.
//!
//! The fleet lists and describes what [`Discovery`](crate::config::Discovery) names (and
//! nothing else); this module turns that snapshot into targets. It is pure, so every rule is
//! tested without AWS:
//!
//! * A service in a listed ECS cluster with a non-empty name tag is a target of the
//!   environment whose `discover.ecs_clusters` lists the cluster (`[discovery]`: shared).
//! * An Aurora cluster with a name tag is a target of the environment its
//!   `envsched:environment` tag names, if that environment has `discover.aurora = true` in
//!   the same place; without the tag, it is shared if `[discovery] aurora = true`.
//! * `envsched:depends-on` holds the names it depends on, space-separated.
//! * **Declared wins.** A tag that names a declared resource differently, or a name already
//!   declared for another resource, is reported and the declaration is used.
//! * Two resources tagged with the same name in one environment are both left out and
//!   reported. So is a discovered target whose dependencies cannot be resolved.
//!
//! Problems never stop the cycle: the declared targets always stand.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::config::{Config, DiscoverySource, TagKeys};
use crate::observed::Observed;
use crate::problem::Problem;
use crate::target::{Locator, Target, TargetSet};

/// The targets for one cycle: declared plus discovered.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Declared and discovered targets together.
    pub targets: TargetSet,
    /// How many targets discovery added.
    pub added: usize,
    /// Conflicts and unusable tags.
    pub problems: Vec<Problem>,
}

/// The configuration a cycle plans with: `config` itself when nothing is discovered, else a
/// copy whose targets include the discovered ones. Also the discovery problems and how many
/// targets were added.
pub fn effective<'a>(config: &'a Config, observed: &Observed) -> (Cow<'a, Config>, Vec<Problem>, usize) {
    if config.discovery.is_empty() {
        return (Cow::Borrowed(config), Vec::new(), 0);
    }
    let d = discover(config, observed);
    (Cow::Owned(config.with_targets(d.targets)), d.problems, d.added)
}

/// Merges the targets discovered in `observed` into the declared ones.
pub fn discover(config: &Config, observed: &Observed) -> Discovered {
    let mut finder = Finder::new(config);
    let found = finder.candidates(config, observed);
    let mut added = finder.unique(found);
    finder.drop_ambiguous(&mut added);
    finder.drop_unresolved(&mut added);
    finder.finish(config, added)
}

/// One discovery in the making: the declared targets' names, and the problems so far.
struct Finder<'a> {
    declared: &'a [Arc<Target>],
    tags: &'a TagKeys,
    /// (environment, name) of every declared target.
    declared_keys: HashSet<(Option<&'a str>, &'a str)>,
    /// Names of the declared shared targets.
    shared_declared: HashSet<&'a str>,
    problems: Vec<Problem>,
}

/// Discovered targets by (environment, name): one each, unless a name is tagged twice.
type Candidates = BTreeMap<(Option<String>, String), Vec<Target>>;

impl<'a> Finder<'a> {
    fn new(config: &'a Config) -> Self {
        let declared = config.targets.all();
        Finder {
            declared,
            tags: &config.tags,
            declared_keys: declared.iter().map(|t| (t.environment.as_deref(), t.name.as_str())).collect(),
            shared_declared: declared.iter().filter(|t| t.environment.is_none()).map(|t| t.name.as_str()).collect(),
            problems: Vec::new(),
        }
    }

    /// Every tagged resource in the places and clusters discovery lists.
    fn candidates(&mut self, config: &Config, observed: &Observed) -> Candidates {
        let by_locator: HashMap<&Locator, &Target> = self.declared.iter().map(|t| (&t.locator, &**t)).collect();
        let mut found = Candidates::new();
        for source in &config.discovery.sources {
            for s in &observed.ecs_services {
                if s.place == source.place && source.ecs_clusters.contains(&s.cluster) {
                    self.consider(&by_locator, &mut found, source, s.locator(), &s.tags);
                }
            }
            if source.aurora {
                for c in &observed.aurora_clusters {
                    let env_tag = c.tags.get(&self.tags.environment).map(|e| e.trim()).filter(|e| !e.is_empty());
                    if c.place == source.place && env_tag == source.environment.as_deref() {
                        self.consider(&by_locator, &mut found, source, c.locator(), &c.tags);
                    }
                }
            }
        }
        found
    }

    /// One listed resource: a candidate if its name tag is usable and no declaration has it.
    fn consider(
        &mut self,
        by_locator: &HashMap<&Locator, &Target>,
        found: &mut Candidates,
        source: &DiscoverySource,
        locator: Locator,
        resource_tags: &BTreeMap<String, String>,
    ) {
        let tags = self.tags;
        let Some(name) = resource_tags.get(&tags.name).map(|n| n.trim().to_string()) else { return };
        if let Some(d) = by_locator.get(&locator) {
            if d.name != name || d.environment != source.environment {
                self.problems.push(Problem::target(
                    &d.key(),
                    format!(
                        "{locator} is declared as {:?} but tagged {}={name:?}; the declaration wins",
                        d.key(),
                        tags.name
                    ),
                    format!("remove the {} tag or make it match the declaration", tags.name),
                ));
            }
            return;
        }
        if !crate::target::is_usable_name(&name) {
            self.problems.push(Problem::target(
                &name,
                format!("{locator} is tagged {}={name:?}, which is not a usable target name", tags.name),
                "tag it with a path-like name without spaces or glob characters, e.g. \"products/app1-web\"",
            ));
            return;
        }
        let depends_on = resource_tags
            .get(&tags.depends_on)
            .map(|d| d.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let target = Target {
            name: name.clone(),
            environment: source.environment.clone(),
            locator,
            count: None,
            depends_on,
            pin: None,
        };
        found.entry((source.environment.clone(), name)).or_default().push(target);
    }

    /// The candidates whose name is theirs alone: not tagged twice, not declared elsewhere.
    fn unique(&mut self, found: Candidates) -> Vec<Target> {
        let tags = self.tags;
        let mut added = Vec::new();
        for ((env, name), mut candidates) in found {
            let key = Target { environment: env.clone(), ..candidates[0].clone() }.key();
            if candidates.len() > 1 {
                let list: Vec<String> = candidates.iter().map(|t| t.locator.to_string()).collect();
                self.problems.push(Problem::target(
                    &key,
                    format!(
                        "{} resources are tagged {}={name:?}: {}; none is managed",
                        list.len(),
                        tags.name,
                        list.join(", ")
                    ),
                    "tag each resource with its own name",
                ));
                continue;
            }
            // A shared name must be unique across every environment, and an environment's
            // name must not shadow a shared one.
            let clash = self.declared_keys.contains(&(env.as_deref(), name.as_str()))
                || (env.is_some() && self.shared_declared.contains(name.as_str()))
                || (env.is_none() && self.declared.iter().any(|t| t.name == name));
            if clash {
                self.problems.push(Problem::target(
                    &key,
                    format!(
                        "{} is tagged {}={name:?}, a name already declared for another resource; the declaration wins",
                        candidates[0].locator, tags.name
                    ),
                    "rename the tag, or remove the declaration if the tagged resource is the right one",
                ));
                continue;
            }
            added.push(candidates.remove(0));
        }
        added
    }

    /// A discovered shared name used by a discovered environment target too: ambiguous.
    fn drop_ambiguous(&mut self, added: &mut Vec<Target>) {
        let shared: HashSet<String> =
            added.iter().filter(|t| t.environment.is_none()).map(|t| t.name.clone()).collect();
        let ambiguous: HashSet<String> = added
            .iter()
            .filter(|t| t.environment.is_some() && shared.contains(&t.name))
            .map(|t| t.name.clone())
            .collect();
        added.retain(|t| {
            if !ambiguous.contains(&t.name) {
                return true;
            }
            self.problems.push(Problem::target(
                &t.key(),
                format!(
                    "{} is tagged {}={:?}, a name also discovered as a shared target; neither is managed",
                    t.locator, self.tags.name, t.name
                ),
                "give the shared resource a name of its own",
            ));
            false
        });
    }

    /// Leaves out discovered targets whose dependencies do not resolve (repeatedly: leaving
    /// one out can strand another).
    fn drop_unresolved(&mut self, added: &mut Vec<Target>) {
        let known = |added: &[Target], env: &Option<String>, name: &str| {
            self.declared_keys.contains(&(env.as_deref(), name))
                || self.shared_declared.contains(name)
                || added.iter().any(|t| t.name == name && (t.environment == *env || t.environment.is_none()))
        };
        let mut problems = Vec::new();
        while let Some(bad) = added.iter().position(|t| t.depends_on.iter().any(|d| !known(added, &t.environment, d))) {
            let t = added.remove(bad);
            let missing: Vec<&String> = t.depends_on.iter().filter(|d| !known(added, &t.environment, d)).collect();
            problems.push(Problem::target(
                &t.key(),
                format!(
                    "{} is tagged {}={:?}, but {missing:?} is not a target; it is not managed",
                    t.locator,
                    self.tags.depends_on,
                    t.depends_on.join(" ")
                ),
                "fix the tag to name existing targets (space-separated)",
            ));
        }
        self.problems.extend(problems);
    }

    /// Declared plus discovered, or the declared alone when together they break a rule.
    fn finish(mut self, config: &Config, added: Vec<Target>) -> Discovered {
        let count = added.len();
        let mut all = self.declared.to_vec();
        all.extend(added.into_iter().map(Arc::new));
        match TargetSet::from_shared(all) {
            Ok(targets) => Discovered { targets, added: count, problems: self.problems },
            Err(errors) => {
                // Only a depends_on cycle through discovered targets can get here: keep the
                // declared set, which was valid on its own.
                for e in errors {
                    self.problems.push(Problem::target(
                        "discovery",
                        format!("{e}; discovered targets are not managed this cycle"),
                        "fix the tags named above (names must be unique per environment, and envsched:depends-on chains must end)",
                    ));
                }
                Discovered { targets: config.targets.clone(), added: 0, problems: self.problems }
            }
        }
    }
}
