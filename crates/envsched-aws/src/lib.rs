//! The AWS fleet: ECS services, Aurora clusters and Application Auto Scaling through the
//! official SDK. Implements [`envsched_core::Fleet`].
//!
//! * **Credentials and endpoints** come from the standard chain (`aws_config`): the task
//!   role on ECS, env/profile locally; `AWS_ENDPOINT_URL` (and the per-service variants) point
//!   it at an emulator.
//! * **Observe** in the fewest calls: `ListServices` 100 per page (discovery only),
//!   `DescribeServices` 10 services at a time with
//!   `include = [TAGS]` (desired, running and pending counts, tags), Application Auto Scaling
//!   `DescribeScalableTargets` 50 resource ids at a time, `DescribeDBClusters` filtered by
//!   the configured cluster ids (status, tags) — nothing per target that a batch gives. Calls
//!   are counted per API ([`AwsFleet::calls`]).
//! * **Apply** one action, idempotently: the resource is described again first (another copy
//!   of envsched, or a person, may have acted); a scale to the count it already has, a tag it
//!   already carries, a cluster already starting: `AlreadyDone`, no mutating call. Aurora is
//!   started only from `stopped` and stopped only from `available`;
//!   `InvalidDBClusterStateFault` means "someone else moved it — observe again". Member
//!   instances are never touched.
//! * **Targets** beyond the declared ones: discovered by tag in the listed clusters (the
//!   fleet lists and describes; `envsched_core::discover` decides), and imported from an
//!   ecspresso monorepo ([`ecspresso`]).
//! * **Places:** one set of clients per (role, Region), the role assumed through the SDK's
//!   STS provider. Each place has its own token buckets per API family ([`Pacing`]); the
//!   SDK's standard retry mode handles throttling and 5xx.
//! * **One active copy** ([`lease`]): with `[aws.lease]`, a DynamoDB item taken and renewed
//!   with conditional writes; every mutating call checks the holder's [`Fence`] right
//!   before it is sent.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `fleet` | [`AwsFleet`]: clients per place, the write gate; `observe` and `apply` inside |
//! | `error` | SDK errors classified into [`envsched_core::FleetError`]s |
//! | `pace` | token buckets per API family ([`Pacing`]) |
//! | `lease` | the DynamoDB lease and the [`Fence`] |
//! | `ecspresso` | targets imported from an ecspresso monorepo |
//!
//! Tags, IAM and behaviour for operators: `crates/envsched-aws/README.md`.
#![deny(missing_docs)]

pub mod ecspresso;
mod error;
mod fleet;
pub mod lease;
mod pace;

pub use fleet::{AwsFleet, CallCounts, IAM_ACTIONS, Options};
pub use lease::{DynamoLease, Fence, LeaseError, LeaseView};
pub use pace::{Bucket, Pacing};
