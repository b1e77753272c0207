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

use crate::config::{Config, DiscoverySource};
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
    let declared = config.targets.all();
    let tags = &config.tags;
    let by_locator: HashMap<&Locator, &Target> = declared.iter().map(|t| (&t.locator, t)).collect();
    let mut problems = Vec::new();
    // (environment, name) → candidates.
    let mut found: BTreeMap<(Option<String>, String), Vec<Target>> = BTreeMap::new();
    let mut consider = |source: &DiscoverySource, locator: Locator, resource_tags: &BTreeMap<String, String>| {
        let Some(name) = resource_tags.get(&tags.name).map(|n| n.trim().to_string()) else { return };
        if let Some(d) = by_locator.get(&locator) {
            if d.name != name || d.environment != source.environment {
                problems.push(Problem::target(
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
            problems.push(Problem::target(
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
    };
    for source in &config.discovery.sources {
        for s in &observed.ecs_services {
            if s.place == source.place && source.ecs_clusters.contains(&s.cluster) {
                consider(source, Locator::ecs(&s.cluster, &s.service).in_place(s.place.clone()), &s.tags);
            }
        }
        if source.aurora {
            for c in &observed.aurora_clusters {
                let env_tag = c.tags.get(&tags.environment).map(|e| e.trim()).filter(|e| !e.is_empty());
                if c.place == source.place && env_tag == source.environment.as_deref() {
                    consider(source, Locator::aurora(&c.id).in_place(c.place.clone()), &c.tags);
                }
            }
        }
    }
    let declared_keys: HashSet<(Option<&str>, &str)> =
        declared.iter().map(|t| (t.environment.as_deref(), t.name.as_str())).collect();
    let shared_declared: HashSet<&str> =
        declared.iter().filter(|t| t.environment.is_none()).map(|t| t.name.as_str()).collect();
    let mut added: Vec<Target> = Vec::new();
    for ((env, name), mut candidates) in found {
        let key = Target { environment: env.clone(), ..candidates[0].clone() }.key();
        if candidates.len() > 1 {
            let list: Vec<String> = candidates.iter().map(|t| t.locator.to_string()).collect();
            problems.push(Problem::target(
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
        // A shared name must be unique across every environment, and an environment's name
        // must not shadow a shared one.
        let clash = declared_keys.contains(&(env.as_deref(), name.as_str()))
            || (env.is_some() && shared_declared.contains(name.as_str()))
            || (env.is_none() && declared.iter().any(|t| t.name == name));
        if clash {
            let t = &candidates[0];
            problems.push(Problem::target(
                &key,
                format!(
                    "{} is tagged {}={name:?}, a name already declared for another resource; the declaration wins",
                    t.locator, tags.name
                ),
                "rename the tag, or remove the declaration if the tagged resource is the right one",
            ));
            continue;
        }
        added.push(candidates.remove(0));
    }
    // A discovered shared name used by a discovered environment target too: ambiguous.
    let shared_added: HashSet<String> =
        added.iter().filter(|t| t.environment.is_none()).map(|t| t.name.clone()).collect();
    let ambiguous: HashSet<String> = added
        .iter()
        .filter(|t| t.environment.is_some() && shared_added.contains(&t.name))
        .map(|t| t.name.clone())
        .collect();
    added.retain(|t| {
        if !ambiguous.contains(&t.name) {
            return true;
        }
        problems.push(Problem::target(
            &t.key(),
            format!(
                "{} is tagged {}={:?}, a name also discovered as a shared target; neither is managed",
                t.locator, tags.name, t.name
            ),
            "give the shared resource a name of its own",
        ));
        false
    });
    // Leave out discovered targets whose dependencies do not resolve (repeat: leaving one out
    // can strand another).
    loop {
        let known = |added: &[Target], env: &Option<String>, name: &str| {
            declared_keys.contains(&(env.as_deref(), name))
                || shared_declared.contains(name)
                || added.iter().any(|t| t.name == name && (t.environment == *env || t.environment.is_none()))
        };
        let Some(bad) = added.iter().position(|t| t.depends_on.iter().any(|d| !known(&added, &t.environment, d)))
        else {
            break;
        };
        let t = added.remove(bad);
        let missing: Vec<&String> = t.depends_on.iter().filter(|d| !known(&added, &t.environment, d)).collect();
        problems.push(Problem::target(
            &t.key(),
            format!(
                "{} is tagged {}={:?}, but {missing:?} is not a target; it is not managed",
                t.locator,
                tags.depends_on,
                t.depends_on.join(" ")
            ),
            "fix the tag to name existing targets (space-separated)",
        ));
    }
    let count = added.len();
    let mut all = declared.to_vec();
    all.extend(added);
    match TargetSet::new(all) {
        Ok(targets) => Discovered { targets, added: count, problems },
        Err(errors) => {
            // Only a depends_on cycle through discovered targets can get here: keep the
            // declared set, which was valid on its own.
            for e in errors {
                problems.push(Problem::target(
                    "discovery",
                    format!("{e}; discovered targets are not managed this cycle"),
                    "fix the tags named above (names must be unique per environment, and envsched:depends-on chains must end)",
                ));
            }
            Discovered { targets: config.targets.clone(), added: 0, problems }
        }
    }
}
