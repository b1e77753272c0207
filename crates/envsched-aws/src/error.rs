//! SDK errors as [`FleetError`]s: classified by the service's error code, with the whole
//! source chain in one line.

use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use envsched_core::FleetError;

/// An SDK error as one line, with the whole source chain.
pub(crate) fn describe<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s = format!("{s}: {inner}");
        src = inner.source();
    }
    s
}

/// Error codes worth retrying next cycle (the SDK has already retried them within this one).
fn transient(code: &str) -> bool {
    code.contains("Throttl")
        || matches!(
            code,
            "RequestLimitExceeded"
                | "TooManyRequestsException"
                | "ServiceUnavailable"
                | "InternalFailure"
                | "ServerException"
        )
}

/// An SDK error as a [`FleetError`], classified by the service's error code.
pub(crate) fn sdk_error<E, R>(target: &str, operation: &str, e: SdkError<E, R>) -> FleetError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = e.code().map(str::to_string);
    if matches!(code.as_deref(), Some("ServiceNotFoundException" | "DBClusterNotFoundFault")) {
        return FleetError::NotFound { target: target.to_string() };
    }
    if code.as_deref() == Some("InvalidDBClusterStateFault") {
        return FleetError::InvalidState {
            target: target.to_string(),
            operation: operation.to_string(),
            state: "changed by someone else".into(),
        };
    }
    let retryable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        _ => code.as_deref().is_some_and(transient),
    };
    let mut message = match (&code, e.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.clone(),
        _ => describe(&e),
    };
    if matches!(code.as_deref(), Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation")) {
        message
            .push_str(&format!(" (grant {operation} to envsched's role; see crates/envsched-aws/README.md, \"IAM\")"));
    } else if retryable {
        message.push_str(" (retried; trying again next cycle)");
    }
    FleetError::Api { target: target.to_string(), operation: operation.to_string(), message, retryable }
}
