//! The resources envsched manages, behind one trait.

use std::future::Future;

use crate::action::Action;
use crate::config::Discovery;
use crate::observed::Observed;
use crate::target::Locator;

/// The managed resources (AWS, or the sandbox).
pub trait Fleet {
    /// One snapshot of `resources`, in the fewest calls the limits allow, plus every
    /// resource in the clusters `discovery` names (listed, never touched here). A resource
    /// asked for and missing from the snapshot does not exist. A fleet may return more than
    /// it was asked for.
    fn observe(
        &self,
        resources: &[&Locator],
        discovery: &Discovery,
    ) -> impl Future<Output = Result<Observed, FleetError>> + Send;

    /// Performs one action. Must be idempotent and re-check the resource's state first
    /// (another copy of envsched may have acted already).
    fn apply(&self, action: &Action) -> impl Future<Output = Outcome> + Send;

    /// Shutdown began: from now on send no call that is not already on its way (one waiting
    /// for a rate-limit token is not). Later `apply`s return [`Outcome::Skipped`].
    fn halt(&self) {}
}

/// The result of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the detail says what changed.
    Done(String),
    /// The re-check found it already done (another copy, or a person).
    AlreadyDone(String),
    /// Not attempted: an earlier action it depends on failed.
    Skipped(String),
    /// Not attempted: dry run.
    DryRun,
    /// Attempted and failed.
    Failed(FleetError),
}

impl Outcome {
    /// Stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done(_) => "done",
            Outcome::AlreadyDone(_) => "already-done",
            Outcome::Skipped(_) => "skipped",
            Outcome::DryRun => "dry-run",
            Outcome::Failed(_) => "failed",
        }
    }

    /// Whether later actions that depend on this one may go ahead.
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Done(_) | Outcome::AlreadyDone(_) | Outcome::DryRun)
    }
}

/// Why the fleet could not observe or act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// The resource does not exist (deleted, renamed, wrong config).
    #[error("{target}: not found — check its cluster/service or cluster id")]
    NotFound {
        /// Target name.
        target: String,
    },
    /// The resource is in a state the operation does not accept (someone else moved it).
    #[error("{target}: cannot {operation} while {state}; observing again next cycle")]
    InvalidState {
        /// Target name.
        target: String,
        /// The operation.
        operation: String,
        /// Its state.
        state: String,
    },
    /// An API call failed.
    #[error("{target}: {operation} failed: {message}")]
    Api {
        /// Target name (or `*` for a batch call).
        target: String,
        /// The API operation.
        operation: String,
        /// The error as the API gave it.
        message: String,
        /// Worth retrying (throttling, 5xx, timeouts).
        retryable: bool,
    },
    /// Shutdown began ([`Fleet::halt`]) before the call was sent.
    #[error("not sent: envsched is shutting down")]
    Stopping,
    /// A lease is configured and this copy does not hold it (or could not renew it in time).
    #[error("not sent: {reason}")]
    NotHolder {
        /// Why the call may not be sent.
        reason: String,
    },
}

impl FleetError {
    /// A bounded label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FleetError::NotFound { .. } => "not-found",
            FleetError::InvalidState { .. } => "invalid-state",
            FleetError::Api { .. } => "api",
            FleetError::Stopping => "stopping",
            FleetError::NotHolder { .. } => "not-holder",
        }
    }
}
