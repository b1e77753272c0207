//! Logs and metrics, from one place: each thing that happens is a named event whose `emit`
//! writes one log line and updates its metrics (telemetry as events, as Vector does it).
//!
//! Logs are JSON, one flat object per line, with the keys Datadog maps without a pipeline:
//! `timestamp` (RFC 3339), `status`, `message`, `logger.name`, errors as `error.kind` /
//! `error.message`, and `dd.service` / `dd.env` / `dd.version` from `DD_SERVICE` /
//! `DD_ENV` / `DD_VERSION`. `--log-format text` (the default on a terminal) is for people.
//! Metric labels are bounded: no booking ids, titles or error texts.
//!
//! | module | holds |
//! |---|---|
//! | `logging` | the logger (JSON lines for Datadog, or text) and the metrics recorder |
//! | `events` | the named events: started, action applied, cycle completed or failed, lease, fetch |
//! | `summary` | the savings metrics (model in `envsched_core::savings`), the tally between summaries, the summary line |

mod events;
mod logging;
mod summary;

pub use events::*;
pub use logging::{LogFormat, init};
pub use summary::{Summary, Tally, savings};
