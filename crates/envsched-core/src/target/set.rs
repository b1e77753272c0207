//! The set of targets: unique names per environment, one declaration per resource, known
//! and acyclic `depends_on`, and the graph the planner orders by.

use std::collections::HashMap;
use std::sync::Arc;

use super::select::{Selector, closest};
use super::{Locator, Target, TargetKey};

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
    /// Shared with each cycle's [`crate::TargetDesire`]s (a cycle names its targets, it does
    /// not copy them).
    targets: Vec<Arc<Target>>,
    /// Each target's key, in declaration order.
    keys: Vec<TargetKey>,
    /// (environment, name) → index; shared targets have environment `None`.
    by_key: HashMap<(Option<String>, String), usize>,
    /// Each target's key → index.
    by_text: HashMap<TargetKey, usize>,
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
    /// Per environment (`None`: shared), its targets' indices in order: a booking scoped to
    /// one environment is matched against its targets and the shared ones only.
    by_env: HashMap<Option<String>, Vec<usize>>,
}

impl TargetSet {
    /// Validates `targets` into a set. All problems are returned, not just the first.
    pub fn new(targets: Vec<Target>) -> Result<Self, Vec<TargetSetError>> {
        Self::from_shared(targets.into_iter().map(Arc::new).collect())
    }

    /// [`TargetSet::new`] for targets already shared (another set's, plus more: discovery).
    pub fn from_shared(targets: Vec<Arc<Target>>) -> Result<Self, Vec<TargetSetError>> {
        let mut errors = Vec::new();
        let by_key = unique(&targets, &mut errors);
        let deps = dependencies(&targets, &by_key, &mut errors);
        if let Some((index, cycle)) = find_cycle(&deps) {
            errors.push(TargetSetError::Cycle {
                index,
                cycle: cycle.iter().map(|&i| targets[i].key().to_string()).collect(),
            });
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
        let keys: Vec<TargetKey> = targets.iter().map(|t| t.key()).collect();
        let by_text = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let mut by_env: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_env.entry(t.environment.clone()).or_default().push(i);
        }
        Ok(TargetSet { targets, keys, by_key, by_text, deps, closure, dependents, depth, height, by_env })
    }

    /// All targets, in declaration order.
    pub fn all(&self) -> &[Arc<Target>] {
        &self.targets
    }

    /// Every target's locator, in declaration order (what [`crate::Fleet::observe`] reads).
    pub fn locators(&self) -> Vec<&Locator> {
        self.targets.iter().map(|t| &t.locator).collect()
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

    /// The key of the target at `index` (the same as its [`Target::key`], made once).
    pub fn key(&self, index: usize) -> &TargetKey {
        &self.keys[index]
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
        self.by_text.get(key).copied()
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

    /// The components a booking can name, as Notion multi-select options: every target's
    /// name, and every group of two or more targets that one option selects exactly — a
    /// folder (`products/app1` for `products/app1/web` and `products/app1/api`, as an
    /// ecspresso monorepo lays them out) or a name before its first `-` (`products/app1`
    /// for `products/app1-web` and `products/app1-api`). A group is offered only when the
    /// prefix selects nothing else (`products/app1` is not offered if `products/app10-web`
    /// exists: it would select that too). Sorted, each once, across environments.
    pub fn offered_components(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<&str> = self.targets.iter().map(|t| t.name.as_str()).collect();
        let mut members: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for name in &names {
            for group in groups_of(name) {
                *members.entry(group).or_default() += 1;
            }
        }
        let mut out: std::collections::BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
        for (group, n) in members {
            let selected = names.iter().filter(|name| name.starts_with(group.as_str())).count();
            if n >= 2 && selected == n {
                out.insert(group);
            }
        }
        out.into_iter().collect()
    }

    /// Indices of targets `selector` selects within `scope` (an environment name, or all).
    pub fn select(&self, selector: &Selector, scope: Option<&str>) -> Vec<usize> {
        let Some(env) = scope else {
            return (0..self.targets.len()).filter(|&i| selector.matches(&self.targets[i].name)).collect();
        };
        let empty = Vec::new();
        let own = self.by_env.get(&Some(env.to_string())).unwrap_or(&empty);
        let shared = self.by_env.get(&None).unwrap_or(&empty);
        let mut out: Vec<usize> =
            own.iter().chain(shared).copied().filter(|&i| selector.matches(&self.targets[i].name)).collect();
        if !shared.is_empty() && !own.is_empty() {
            out.sort_unstable();
        }
        out
    }
}

/// The groups a target name belongs to: each folder below the top one, and its last part
/// before the first `-` (`a/b/c-d` → `a/b`, `a/b/c`).
fn groups_of(name: &str) -> Vec<String> {
    let parts: Vec<&str> = name.split('/').collect();
    let mut out: Vec<String> = (2..parts.len()).map(|k| parts[..k].join("/")).collect();
    if let (true, Some(last)) = (parts.len() >= 2, parts.last())
        && let Some((head, _)) = last.split_once('-')
        && !head.is_empty()
    {
        out.push(format!("{}/{head}", parts[..parts.len() - 1].join("/")));
    }
    out
}

/// (environment, name) → index, with every name used twice in one environment (or a
/// shared name reused inside one) and every resource declared twice reported.
fn unique(targets: &[Arc<Target>], errors: &mut Vec<TargetSetError>) -> HashMap<(Option<String>, String), usize> {
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
    by_key
}

/// Each target's direct dependencies, as indices: a name in its own environment first, then
/// a shared one. Unknown names are reported with the closest known one.
fn dependencies(
    targets: &[Arc<Target>],
    by_key: &HashMap<(Option<String>, String), usize>,
    errors: &mut Vec<TargetSetError>,
) -> Vec<Vec<usize>> {
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
    deps
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
