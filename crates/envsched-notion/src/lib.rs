//! envsched's Notion side.
//!
//! Implemented: [`parse`] — turning a database/data-source query response
//! (`{"object": "list", "results": [page…]}`, API 2022-06-28 or 2025-09-03) into typed
//! [`envsched_core::Booking`]s, with errors that name the row and the property.
//!
//! **Missing** (tracked by the Notion issue): the HTTP client (reqwest/rustls, both API
//! versions, pagination, rate limit, retries with Retry-After), the `BookingSource` impl, the
//! schema check, write-back and webhooks. Until then bookings come from saved query
//! responses (`envsched plan --bookings FILE`).
#![deny(missing_docs)]

pub mod client;
pub mod parse;
pub mod webhook;

pub use client::{ApiError, NotionClient, RetryPolicy, WriteBack, token_from_env};
pub use parse::{ParseError, QueryPage, parse_page, parse_query_response};
