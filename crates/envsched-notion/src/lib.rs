//! envsched's Notion side: where bookings come from and where their state is told.
//!
//! # Brief overview
//!
//! * [`client::NotionClient`] — the API client (all three API versions, pagination, client-side
//!   rate limit, retries honouring `Retry-After`, a deadline per fetch, a secret token);
//!   implements [`envsched_core::BookingSource`] and writes each booking's state back.
//! * [`parse`] — query responses into typed [`envsched_core::Booking`]s, with errors that name
//!   the row and the property.
//! * [`schema`] — `envsched check`: the database's properties against the config.
//! * [`setup`] — `envsched init` and `sync-options`: the schema of a new bookings database,
//!   and the components' options that follow the fleet.
//! * [`webhook`] — signature checking and the `POST /webhooks/notion` route: events mean
//!   "re-query now".
//!
//! It holds no scheduling rules: what a booking means is decided in `envsched-core`.
//!
//! # Layout
//!
//! | module | owns |
//! |---|---|
//! | `client` | HTTP: queries, data-source discovery, rate limit, retries, deadline (a folder: `errors`, `write_back`, `admin` for init and sync-options, `comments` for `[notify]`) |
//! | `parse` | query responses and pages into bookings |
//! | `schema` | `check`: the database's properties, status and component options |
//! | `setup` | `init`'s schema and `sync-options`' change, as JSON |
//! | `webhook` | the verification handshake, signatures, the route |
//!
//! Setup and behaviour for operators: `crates/envsched-notion/README.md`.
#![deny(missing_docs)]

pub mod client;
pub mod parse;
pub mod schema;
pub mod setup;
pub mod webhook;

pub use client::{ApiError, Notifier, NotionClient, RetryPolicy, Told, WriteBack, token_from_env};
pub use parse::{ParseError, QueryPage, parse_page, parse_query_response};
