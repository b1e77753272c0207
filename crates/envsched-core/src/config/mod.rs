//! Configuration: the TOML file's model, its defaults and its validation.
//!
//! [`ConfigFile`] mirrors the file one to one (every field documented; the docs are the
//! reference, `config/envsched.example.toml` shows every key). [`Config::from_toml`] parses
//! and validates it into [`Config`], the typed value the rest of envsched uses. Validation
//! happens once, here, and reports *every* problem with the key it concerns and the fix.
//! No error prints a value that looks like a Notion token, whatever the key
//! ([`redact_tokens`]).
//!
//! | module | holds |
//! |---|---|
//! | `file` | [`ConfigFile`] and its sections: the file key for key, with defaults |
//! | `model` | [`Config`] and the validated types it is made of ([`Notion`], [`Schedule`], …) |
//! | `validate` | the validator: top-level keys, `[notion]`, `[schedule]`, `[safety]`, `[tags]`, `[aws.lease]` |
//! | `calendar` | validation of `[[environments]]`: zones, hours, holidays, places, discovery |
//! | `targets` | validation of `[[targets]]` and of the set's rules |
//! | `error` | [`ConfigError`], [`ConfigIssue`] and [`redact_tokens`] |

mod calendar;
mod error;
mod file;
mod model;
mod targets;
mod validate;

pub use error::{ConfigError, ConfigIssue, redact_tokens};
pub use file::*;
pub use model::*;
pub use validate::parse_duration;
