//! Targets — the managed resources — and how components select them.
//!
//! # Selection (brief §3)
//!
//! A Notion component selects targets by name:
//!
//! * **Prefix, per character.** `products/app1` selects `products/app1`, `products/app1-web`
//!   and `products/app1-api` — exactly what the seed's `find products/app1* -name
//!   ecspresso.json` did. It also selects `products/app10`; write `products/app1-` to avoid
//!   that. (Per-segment matching would *not* select `products/app1-web`, so it would break
//!   the seed's own examples.)
//! * **Globs** when the component contains `*`, `?`, `[` or `{`: `services/*`,
//!   `products/*-web`, `products/app[12]-web`. `*` and `?` stay within one `/`-separated
//!   segment; `**` crosses segments. A glob must match the whole name (no implicit prefix).
//!   Brace alternatives (`{a*,b*}`) work in selectors, but Notion option names cannot contain
//!   commas: express the seed's template line (`{products/servicesite-hoge*,…}`) as several
//!   options on a Notion template instead.
//! * **Environment scoping.** A booking that names an environment selects only targets of
//!   that environment (and targets with no environment, which are shared by all). A booking
//!   with no environment selects across all environments.

use std::collections::HashMap;

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

/// What kind of resource a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// An ECS service (scaled by desiredCount).
    EcsService,
    /// An Aurora DB cluster (started and stopped at cluster level).
    AuroraCluster,
}

impl TargetKind {
    /// The stable name used in JSON output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::EcsService => "ecs-service",
            TargetKind::AuroraCluster => "aurora-cluster",
        }
    }
}

/// Which AWS account and Region a resource lives in.
///
/// The default place (both fields `None`) is the standard credential chain's account in
/// `[aws] region`. An environment with `aws = { role_arn = "…", region = "…" }` puts its
/// targets in another account (reached by assuming the role) and/or Region. Two resources
/// with the same names in different places are different resources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// The IAM role to assume; `None`: the chain's own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The Region; `None`: `[aws] region`, else the chain's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Place {
    /// Whether this is the default place.
    pub fn is_default(&self) -> bool {
        self.role_arn.is_none() && self.region.is_none()
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.role_arn, &self.region) {
            (None, None) => f.write_str("the default account"),
            (Some(r), None) => write!(f, "{r}"),
            (None, Some(g)) => write!(f, "{g}"),
            (Some(r), Some(g)) => write!(f, "{r} in {g}"),
        }
    }
}

/// Where a target lives in AWS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Locator {
    /// An ECS service in a cluster.
    Ecs {
        /// Account and Region.
        place: Place,
        /// Cluster name.
        cluster: String,
        /// Service name.
        service: String,
    },
    /// An Aurora DB cluster.
    Aurora {
        /// Account and Region.
        place: Place,
        /// DB cluster identifier.
        cluster_id: String,
    },
}

impl Locator {
    /// An ECS service in the default place.
    pub fn ecs(cluster: impl Into<String>, service: impl Into<String>) -> Self {
        Locator::Ecs { place: Place::default(), cluster: cluster.into(), service: service.into() }
    }

    /// An Aurora cluster in the default place.
    pub fn aurora(cluster_id: impl Into<String>) -> Self {
        Locator::Aurora { place: Place::default(), cluster_id: cluster_id.into() }
    }

    /// The same resource name in `place`.
    pub fn in_place(mut self, to: Place) -> Self {
        match &mut self {
            Locator::Ecs { place, .. } | Locator::Aurora { place, .. } => *place = to,
        }
        self
    }

    /// The account and Region.
    pub fn place(&self) -> &Place {
        match self {
            Locator::Ecs { place, .. } | Locator::Aurora { place, .. } => place,
        }
    }

    /// The kind of resource this locator points at.
    pub fn kind(&self) -> TargetKind {
        match self {
            Locator::Ecs { .. } => TargetKind::EcsService,
            Locator::Aurora { .. } => TargetKind::AuroraCluster,
        }
    }

    /// The AWS-side names, for matching `safety.protected` patterns.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Locator::Ecs { cluster, service, .. } => vec![cluster, service],
            Locator::Aurora { cluster_id, .. } => vec![cluster_id],
        }
    }
}

impl std::fmt::Display for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Locator::Ecs { cluster, service, .. } => write!(f, "ECS service {cluster}/{service}")?,
            Locator::Aurora { cluster_id, .. } => write!(f, "Aurora cluster {cluster_id}")?,
        }
        if !self.place().is_default() {
            write!(f, " ({})", self.place())?;
        }
        Ok(())
    }
}

/// A configured override that holds a target up or down whatever the bookings say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pin {
    /// Always on.
    Up,
    /// Always off.
    Down,
}

/// A managed resource with a path-like name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Path-like name components select (`products/app1-web`, `db/stg-aurora`).
    pub name: String,
    /// The environment ("slice") the target belongs to; `None` = shared by all.
    pub environment: Option<String>,
    /// Where it lives in AWS.
    pub locator: Locator,
    /// Count declared in config for ECS services (wins over remembered and default counts).
    pub count: Option<u32>,
    /// Targets that must be up (and, for Aurora, available) before this one starts.
    pub depends_on: Vec<String>,
    /// Always up / always down, whatever the bookings say.
    pub pin: Option<Pin>,
}

impl Target {
    /// The target's kind.
    pub fn kind(&self) -> TargetKind {
        self.locator.kind()
    }

    /// The target's unique key: `env:name` (`stg2:products/app1-web`), or the bare name for a
    /// shared target. Names repeat across environments (every slice has `products/app1-web`);
    /// keys do not.
    pub fn key(&self) -> String {
        match &self.environment {
            Some(e) => format!("{e}:{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Whether `name` can name a target: not empty, no whitespace, no glob characters (a
/// component containing them is a glob, so such a name could never be selected literally).
pub fn is_usable_name(name: &str) -> bool {
    !name.trim().is_empty() && !name.contains(char::is_whitespace) && !name.contains(['*', '?', '[', '{'])
}

/// What is wrong with a set of targets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetSetError {
    /// Two targets share a name within one environment (or a shared target's name is
    /// also used inside an environment).
    #[error("target name {name:?} is used twice in the same environment (targets #{first} and #{second})")]
    DuplicateName {
        /// The name.
        name: String,
        /// Index of the first.
        first: usize,
        /// Index of the second.
        second: usize,
    },
    /// Two targets point at the same resource.
    #[error("targets {first:?} and {second:?} both point at {locator}")]
    DuplicateLocator {
        /// The resource.
        locator: Locator,
        /// First target name.
        first: String,
        /// Second target name.
        second: String,
    },
    /// `depends_on` names a target that does not exist.
    #[error("target {target:?} depends on {missing:?}, which is not a target{}", suggestion(.near))]
    UnknownDependency {
        /// Index of the target.
        index: usize,
        /// The target's name.
        target: String,
        /// The unknown name.
        missing: String,
        /// The closest existing name, if any.
        near: Option<String>,
    },
    /// `depends_on` forms a cycle.
    #[error("depends_on forms a cycle: {}", .cycle.join(" → "))]
    Cycle {
        /// Index of the first target in the cycle.
        index: usize,
        /// The names along the cycle, first repeated at the end.
        cycle: Vec<String>,
    },
}

fn suggestion(near: &Option<String>) -> String {
    near.as_ref().map(|n| format!(" (did you mean {n:?}?)")).unwrap_or_default()
}

/// A validated set of targets: unique names and locators, known dependencies, no cycles.
#[derive(Debug, Clone, Default)]
pub struct TargetSet {
    targets: Vec<Target>,
    /// (environment, name) → index; shared targets have environment `None`.
    by_key: HashMap<(Option<String>, String), usize>,
    /// Direct dependencies, as indices.
    deps: Vec<Vec<usize>>,
    /// Transitive dependencies, as indices (sorted, deduplicated).
    closure: Vec<Vec<usize>>,
    /// Direct dependents, as indices.
    dependents: Vec<Vec<usize>>,
    /// Longest dependency chain below each target (0 = depends on nothing).
    depth: Vec<usize>,
    /// Longest dependent chain above each target (0 = nothing depends on it).
    height: Vec<usize>,
}

impl TargetSet {
    /// Validates `targets` into a set. All problems are returned, not just the first.
    pub fn new(targets: Vec<Target>) -> Result<Self, Vec<TargetSetError>> {
        let mut errors = Vec::new();
        let mut by_key: HashMap<(Option<String>, String), usize> = HashMap::new();
        let mut by_locator: HashMap<&Locator, usize> = HashMap::new();
        let shared: HashMap<&str, usize> = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.environment.is_none())
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        for (i, t) in targets.iter().enumerate() {
            let key = (t.environment.clone(), t.name.clone());
            let clash = by_key.get(&key).copied().or_else(|| {
                // A shared name would be ambiguous inside an environment.
                t.environment.as_ref().and_then(|_| shared.get(t.name.as_str()).copied())
            });
            if let Some(first) = clash {
                errors.push(TargetSetError::DuplicateName { name: t.name.clone(), first, second: i });
            } else {
                by_key.insert(key, i);
            }
            if let Some(&first) = by_locator.get(&t.locator) {
                errors.push(TargetSetError::DuplicateLocator {
                    locator: t.locator.clone(),
                    first: targets[first].name.clone(),
                    second: t.name.clone(),
                });
            } else {
                by_locator.insert(&t.locator, i);
            }
        }
        let mut deps = vec![Vec::new(); targets.len()];
        for (i, t) in targets.iter().enumerate() {
            for d in &t.depends_on {
                let found = by_key.get(&(t.environment.clone(), d.clone())).or_else(|| by_key.get(&(None, d.clone())));
                match found {
                    Some(&j) => deps[i].push(j),
                    None => errors.push(TargetSetError::UnknownDependency {
                        index: i,
                        target: t.name.clone(),
                        missing: d.clone(),
                        near: closest(d, targets.iter().map(|t| t.name.as_str())),
                    }),
                }
            }
        }
        if let Some((index, cycle)) = find_cycle(&deps) {
            errors.push(TargetSetError::Cycle { index, cycle: cycle.iter().map(|&i| targets[i].key()).collect() });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let n = targets.len();
        let mut dependents = vec![Vec::new(); n];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let order = topo_order(&deps);
        let mut depth = vec![0; n];
        let mut closure: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &i in &order {
            // `order` lists dependencies before dependents.
            let mut c = Vec::new();
            for &d in &deps[i] {
                depth[i] = depth[i].max(depth[d] + 1);
                c.push(d);
                c.extend_from_slice(&closure[d]);
            }
            c.sort_unstable();
            c.dedup();
            closure[i] = c;
        }
        let mut height = vec![0; n];
        for &i in order.iter().rev() {
            for &d in &deps[i] {
                height[d] = height[d].max(height[i] + 1);
            }
        }
        Ok(TargetSet { targets, by_key, deps, closure, dependents, depth, height })
    }

    /// All targets, in declaration order.
    pub fn all(&self) -> &[Target] {
        &self.targets
    }

    /// Number of targets.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no targets.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The target at `index`.
    pub fn get(&self, index: usize) -> &Target {
        &self.targets[index]
    }

    /// The index of the target called `name` in `environment` (or shared).
    pub fn find(&self, environment: Option<&str>, name: &str) -> Option<usize> {
        self.by_key
            .get(&(environment.map(str::to_string), name.to_string()))
            .or_else(|| self.by_key.get(&(None, name.to_string())))
            .copied()
    }

    /// The index of the target with key `key` (see [`Target::key`]).
    pub fn index_of_key(&self, key: &str) -> Option<usize> {
        match key.split_once(':') {
            Some((env, name)) => self.by_key.get(&(Some(env.to_string()), name.to_string())),
            None => self.by_key.get(&(None, key.to_string())),
        }
        .copied()
    }

    /// Direct dependencies of target `i`.
    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    /// Transitive dependencies of target `i`.
    pub fn all_deps(&self, i: usize) -> &[usize] {
        &self.closure[i]
    }

    /// Direct dependents of target `i`.
    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// Longest chain of dependencies below `i` (0 = none): orders the way up.
    pub fn depth(&self, i: usize) -> usize {
        self.depth[i]
    }

    /// Longest chain of dependents above `i` (0 = none): orders the way down.
    pub fn height(&self, i: usize) -> usize {
        self.height[i]
    }

    /// Indices of targets `selector` selects within `scope` (an environment name, or all).
    pub fn select(&self, selector: &Selector, scope: Option<&str>) -> Vec<usize> {
        self.targets
            .iter()
            .enumerate()
            .filter(|(_, t)| in_scope(t, scope) && selector.matches(&t.name))
            .map(|(i, _)| i)
            .collect()
    }
}

fn in_scope(t: &Target, scope: Option<&str>) -> bool {
    match (scope, t.environment.as_deref()) {
        (None, _) | (_, None) => true,
        (Some(s), Some(e)) => s == e,
    }
}

/// Dependencies before dependents. Only called on acyclic graphs.
fn topo_order(deps: &[Vec<usize>]) -> Vec<usize> {
    fn visit(i: usize, deps: &[Vec<usize>], seen: &mut [bool], out: &mut Vec<usize>) {
        if seen[i] {
            return;
        }
        seen[i] = true;
        for &d in &deps[i] {
            visit(d, deps, seen, out);
        }
        out.push(i);
    }
    let mut seen = vec![false; deps.len()];
    let mut out = Vec::with_capacity(deps.len());
    for i in 0..deps.len() {
        visit(i, deps, &mut seen, &mut out);
    }
    out
}

/// The first cycle found, as (start index, path with the start repeated at the end).
fn find_cycle(deps: &[Vec<usize>]) -> Option<(usize, Vec<usize>)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(i: usize, deps: &[Vec<usize>], mark: &mut [Mark], stack: &mut Vec<usize>) -> Option<Vec<usize>> {
        mark[i] = Mark::Open;
        stack.push(i);
        for &d in &deps[i] {
            match mark[d] {
                Mark::Open => {
                    let pos = stack.iter().position(|&s| s == d).unwrap_or(0);
                    let mut cycle = stack[pos..].to_vec();
                    cycle.push(d);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(d, deps, mark, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        mark[i] = Mark::Done;
        None
    }
    let mut mark = vec![Mark::New; deps.len()];
    for i in 0..deps.len() {
        if mark[i] == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(i, deps, &mut mark, &mut stack) {
                return Some((c[0], c));
            }
        }
    }
    None
}

/// The candidate closest to `wanted` by edit distance, if reasonably close.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    candidates
        .map(|c| (levenshtein(wanted, c), c))
        .filter(|(d, c)| *d <= (wanted.chars().count().max(c.chars().count()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A compiled component: a per-character prefix or a glob (see the module docs).
#[derive(Debug, Clone)]
pub enum Selector {
    /// Selects names equal to or starting with the string.
    Prefix(String),
    /// Selects names the whole glob matches.
    Glob(String, GlobMatcher),
}

impl Selector {
    /// Compiles a component as written in Notion. An empty component or an invalid glob is
    /// an error message for the row.
    pub fn parse(component: &str) -> Result<Selector, String> {
        let c = component.trim();
        if c.is_empty() {
            return Err("empty component name".to_string());
        }
        if c.contains(['*', '?', '[', '{']) {
            let glob = GlobBuilder::new(c)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("component {c:?} is not a valid glob: {}", e.kind()))?;
            Ok(Selector::Glob(c.to_string(), glob.compile_matcher()))
        } else {
            Ok(Selector::Prefix(c.to_string()))
        }
    }

    /// Whether the selector selects the target called `name`.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Selector::Prefix(p) => name.starts_with(p.as_str()),
            Selector::Glob(_, m) => m.is_match(name),
        }
    }

    /// The component as written.
    pub fn as_str(&self) -> &str {
        match self {
            Selector::Prefix(p) | Selector::Glob(p, _) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecs(name: &str, env: Option<&str>, deps: &[&str]) -> Target {
        Target {
            name: name.to_string(),
            environment: env.map(str::to_string),
            locator: Locator::ecs(env.unwrap_or("shared"), name.replace('/', "-")),
            count: None,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            pin: None,
        }
    }

    fn names(set: &TargetSet, idx: &[usize]) -> Vec<String> {
        idx.iter().map(|&i| set.get(i).name.clone()).collect()
    }

    fn seed_set() -> TargetSet {
        TargetSet::new(vec![
            ecs("products/app1-web", Some("stg1"), &[]),
            ecs("products/app1-api", Some("stg1"), &[]),
            ecs("products/app10-web", Some("stg1"), &[]),
            ecs("products/app2-web", Some("stg1"), &[]),
            ecs("services/creditcard-api", Some("stg1"), &[]),
            ecs("services/payment/api", Some("stg1"), &[]),
            ecs("products/app1-web-stg2", Some("stg2"), &[]),
            ecs("tools/shared-proxy", None, &[]),
        ])
        .expect("valid set")
    }

    #[test]
    fn prefix_is_per_character_like_the_seeds_find_products_app1_star() {
        let set = seed_set();
        let sel = Selector::parse("products/app1").unwrap();
        assert_eq!(
            names(&set, &set.select(&sel, Some("stg1"))),
            ["products/app1-web", "products/app1-api", "products/app10-web"]
        );
        let sel = Selector::parse("products/app1-").unwrap();
        assert_eq!(names(&set, &set.select(&sel, Some("stg1"))), ["products/app1-web", "products/app1-api"]);
    }

    #[test]
    fn exact_name_selects_itself() {
        let set = seed_set();
        let sel = Selector::parse("products/app2-web").unwrap();
        assert_eq!(names(&set, &set.select(&sel, Some("stg1"))), ["products/app2-web"]);
    }

    #[test]
    fn star_stays_in_one_segment_and_double_star_crosses() {
        let set = seed_set();
        let one = Selector::parse("services/*").unwrap();
        assert_eq!(names(&set, &set.select(&one, Some("stg1"))), ["services/creditcard-api"]);
        let any = Selector::parse("services/**").unwrap();
        assert_eq!(names(&set, &set.select(&any, Some("stg1"))), ["services/creditcard-api", "services/payment/api"]);
        let q = Selector::parse("products/app?-web").unwrap();
        assert_eq!(names(&set, &set.select(&q, Some("stg1"))), ["products/app1-web", "products/app2-web"]);
    }

    #[test]
    fn brace_globs_express_the_seeds_template_combinations() {
        let set = seed_set();
        let sel = Selector::parse("{products/app2*,services/credit*}").unwrap();
        assert_eq!(names(&set, &set.select(&sel, Some("stg1"))), ["products/app2-web", "services/creditcard-api"]);
    }

    #[test]
    fn environment_scope_keeps_other_slices_out_but_shared_targets_in() {
        let set = seed_set();
        let web = Selector::parse("products/app1-web").unwrap();
        assert_eq!(names(&set, &set.select(&web, Some("stg2"))), ["products/app1-web-stg2"]);
        assert_eq!(names(&set, &set.select(&web, None)), ["products/app1-web", "products/app1-web-stg2"]);
        let tools = Selector::parse("tools/").unwrap();
        assert_eq!(names(&set, &set.select(&tools, Some("stg2"))), ["tools/shared-proxy"]);
    }

    #[test]
    fn invalid_and_empty_components_are_errors_that_name_them() {
        assert!(Selector::parse("  ").unwrap_err().contains("empty"));
        assert!(Selector::parse("products/[app").unwrap_err().contains("products/[app"));
    }

    #[test]
    fn depends_on_cycles_are_rejected_with_the_cycle_named() {
        let err =
            TargetSet::new(vec![ecs("a", None, &["b"]), ecs("b", None, &["c"]), ecs("c", None, &["a"])]).unwrap_err();
        let msg = err.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(msg.contains("a → b → c → a"), "{msg}");
    }

    #[test]
    fn unknown_dependency_suggests_the_closest_name() {
        let err =
            TargetSet::new(vec![ecs("db/stg-aurora", None, &[]), ecs("web", None, &["db/stg-arora"])]).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "target \"web\" depends on \"db/stg-arora\", which is not a target (did you mean \"db/stg-aurora\"?)"
        );
    }

    #[test]
    fn the_same_name_lives_in_every_environment_and_depends_on_resolves_locally() {
        let mut db1 = ecs("db/aurora", Some("stg1"), &[]);
        db1.locator = Locator::aurora("stg1-aurora");
        let mut db2 = ecs("db/aurora", Some("stg2"), &[]);
        db2.locator = Locator::aurora("stg2-aurora");
        let mut web2 = ecs("products/app1-web", Some("stg2"), &["db/aurora"]);
        web2.locator = Locator::ecs("stg2", "app1-web");
        let set = TargetSet::new(vec![db1, ecs("products/app1-web", Some("stg1"), &["db/aurora"]), db2, web2]).unwrap();
        assert_eq!(set.all_deps(1), [0]);
        assert_eq!(set.all_deps(3), [2]);
        assert_eq!(set.get(3).key(), "stg2:products/app1-web");
        assert_eq!(set.index_of_key("stg2:db/aurora"), Some(2));
    }

    #[test]
    fn transitive_dependencies_depth_and_height() {
        let set =
            TargetSet::new(vec![ecs("web", None, &["api"]), ecs("api", None, &["db"]), ecs("db", None, &[])]).unwrap();
        assert_eq!(names(&set, set.all_deps(0)), ["api", "db"]);
        assert_eq!((set.depth(0), set.depth(1), set.depth(2)), (2, 1, 0));
        assert_eq!((set.height(0), set.height(1), set.height(2)), (0, 1, 2));
    }

    #[test]
    fn duplicate_names_and_locators_are_rejected() {
        let mut b = ecs("b", None, &[]);
        b.locator = ecs("a", None, &[]).locator;
        let err = TargetSet::new(vec![ecs("a", None, &[]), ecs("a", Some("x"), &[]), b]).unwrap_err();
        assert!(
            matches!(err[0], TargetSetError::DuplicateName { .. }),
            "a shared name is ambiguous inside an environment"
        );
        assert!(err.iter().any(|e| matches!(e, TargetSetError::DuplicateLocator { .. })));
    }
}
