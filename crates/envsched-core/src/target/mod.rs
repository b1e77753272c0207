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

//!
//! | module | holds |
//! |---|---|
//! | this one | [`Target`], where it lives ([`Locator`], [`Place`]), its [`TargetKey`] |
//! | `set` | [`TargetSet`]: the validated set, its dependency graph and selection |
//! | `select` | [`Selector`]: a component as prefix or glob, and the closest-name hint |

mod select;
mod set;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use select::{Selector, closest};
pub use set::{TargetSet, TargetSetError};

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
    pub fn key(&self) -> TargetKey {
        TargetKey::new(self.environment.as_deref(), &self.name)
    }
}

/// A target's key: `env:name` (`stg2:products/app1-web`), or the bare name of a shared
/// target. It reads as that text everywhere (JSON, logs, maps keyed by it) and knows its
/// parts without parsing the text again. Two keys are the same when they read the same.
#[derive(Debug, Clone)]
pub struct TargetKey {
    /// Shared: every desire, plan entry and action of the target names it.
    text: Arc<str>,
    /// Where the environment ends in `text` (before the `:`), for an environment's target.
    environment: Option<usize>,
}

impl TargetKey {
    /// The key of target `name` in `environment` (`None`: shared).
    pub fn new(environment: Option<&str>, name: &str) -> Self {
        match environment {
            Some(e) => TargetKey { text: format!("{e}:{name}").into(), environment: Some(e.len()) },
            None => TargetKey { text: name.into(), environment: None },
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The environment, for an environment's target.
    pub fn environment(&self) -> Option<&str> {
        self.environment.map(|end| &self.text[..end])
    }

    /// The target's name.
    pub fn name(&self) -> &str {
        match self.environment {
            Some(end) => &self.text[end + 1..],
            None => &self.text,
        }
    }
}

impl PartialEq for TargetKey {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for TargetKey {}

impl PartialOrd for TargetKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TargetKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl std::hash::Hash for TargetKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl std::ops::Deref for TargetKey {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::borrow::Borrow<str> for TargetKey {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for TargetKey {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for TargetKey {
    /// The text, padded like a `str` (`{:<30}` aligns columns).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.text)
    }
}

impl Serialize for TargetKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl PartialEq<str> for TargetKey {
    fn eq(&self, other: &str) -> bool {
        *self.text == *other
    }
}

impl PartialEq<&str> for TargetKey {
    fn eq(&self, other: &&str) -> bool {
        *self.text == **other
    }
}

/// Whether `name` can name a target: not empty, no whitespace, no glob characters (a
/// component containing them is a glob, so such a name could never be selected literally).
pub fn is_usable_name(name: &str) -> bool {
    !name.trim().is_empty() && !name.contains(char::is_whitespace) && !name.contains(['*', '?', '[', '{'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_as_its_text_and_knows_its_parts() {
        let k = TargetKey::new(Some("stg1"), "db/stg-aurora");
        assert_eq!((k.as_str(), k.environment(), k.name()), ("stg1:db/stg-aurora", Some("stg1"), "db/stg-aurora"));
        let shared = TargetKey::new(None, "tools/proxy");
        assert_eq!((shared.environment(), shared.name()), (None, "tools/proxy"));
        // Columns in the text view align on keys as on strings.
        assert_eq!(format!("{k:<20}|"), "stg1:db/stg-aurora  |");
        assert!(TargetKey::new(None, "a") < TargetKey::new(Some("b"), "a"), "ordered by text, as the JSON is");
    }

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
