//! The AWS fleet: ECS services, Aurora clusters and Application Auto Scaling through the
//! official SDK. **Not implemented yet** — this crate only reserves its place in the layout.
//!
//! Missing (tracked by the AWS fleet issue): credentials and endpoints from the standard
//! chain, target discovery by tag and from ecspresso configs, batched `observe`
//! (`ListServices`, `DescribeServices` ×10 with tags, `DescribeDBClusters`,
//! `DescribeScalableTargets`), idempotent `apply` with remembered counts in tags, pacing per
//! API family, several accounts and Regions. Until then `envsched plan`/`apply` need
//! `--observed FILE` and act on the in-memory sandbox fleet.
#![deny(missing_docs)]

/// Explains, for the CLI, why this fleet cannot be used yet.
pub const NOT_IMPLEMENTED: &str = "the AWS fleet is not implemented yet: pass --observed FILE (a fleet snapshot) to plan and apply against the sandbox fleet";
