//! One active copy: the lease and the fence that keeps a copy without it from writing.
//!
//! Two copies of envsched can run at once: ECS overlaps tasks during a deploy, and an SRE may
//! run `envsched apply` from a laptop while the daemon runs. The memory protocol
//! (`envsched_core::memory`) already keeps every count and range safe when they do; what it cannot
//! prevent is two copies whose Notion views lag each other undoing each other's work. With
//! `[aws.lease]` configured, only the copy holding the lease acts:
//!
//! - **The lease** is one item in a DynamoDB table (`pk` = the configured key), holding the
//!   owner's identity and `expires_at` (epoch milliseconds, the owner's clock). A copy takes
//!   or renews it with one conditional write that succeeds only if the item is absent,
//!   expired, or already its own; it releases it on shutdown with a delete conditioned on
//!   being the owner. The holder renews every third of the ttl.
//! - **The fence** is the holder's own deadline, on the monotonic clock: the instant the
//!   successful write was *sent*, plus three quarters of the ttl. Every mutating AWS call
//!   checks it immediately before it is sent ([`Fence::check`]); past the deadline the call
//!   is not sent. A renewal that fails (DynamoDB unreachable) simply does not move the
//!   deadline, so the copy stops writing on its own well before any other copy may take
//!   over: another copy sees the lease expired only a quarter of the ttl after the holder
//!   stopped (15 s at the default 60 s), which is far more than the clock skew of two hosts
//!   synchronised by NTP (Amazon Time Sync: well under a second) plus one call in flight.
//! - **A copy without the lease stands by**: it serves `/live`, reports `standby` (and who
//!   holds the lease) on `/ready` and the status page, and reads neither Notion nor the
//!   fleet until it holds the lease.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use envsched_core::LeaseSettings;
use jiff::Timestamp;
use tokio::sync::watch;

/// What one attempt to take or renew the lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseView {
    /// This copy holds the lease until `expires_at` (as written in the item).
    Held {
        /// The item's expiry.
        expires_at: Timestamp,
    },
    /// Another copy holds it.
    Standby {
        /// The holder's identity, as it wrote it.
        owner: String,
        /// When the holder's lease runs out unless renewed.
        expires_at: Timestamp,
    },
}

impl LeaseView {
    /// Whether this copy holds the lease.
    pub fn is_held(&self) -> bool {
        matches!(self, LeaseView::Held { .. })
    }
}

impl std::fmt::Display for LeaseView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaseView::Held { expires_at } => write!(f, "holds the lease (until {expires_at:.0} unless renewed)"),
            LeaseView::Standby { owner, expires_at } => {
                write!(f, "standby: {owner} holds the lease (until {expires_at:.0} unless renewed)")
            }
        }
    }
}

/// Until when this copy may send mutating calls. Without a lease configured the fence is
/// always open ([`Fence::open`]).
#[derive(Debug)]
pub struct Fence {
    /// `None` in the variant without a lease; else the deadline (`None` inside: never held).
    until: Option<Mutex<Option<Instant>>>,
}

impl Fence {
    /// No lease: every call may be sent (copies are not coordinated).
    pub fn open() -> Fence {
        Fence { until: None }
    }

    /// A lease is configured and not (yet) held: no call may be sent.
    pub fn closed() -> Fence {
        Fence { until: Some(Mutex::new(None)) }
    }

    /// The share of the ttl the holder may act for after its write was sent.
    pub fn holding_time(ttl: Duration) -> Duration {
        ttl.mul_f64(0.75)
    }

    /// A successful take or renewal whose request was sent at `sent`: writes are allowed
    /// until `sent + ¾ ttl`. Never moves the deadline back.
    pub fn held(&self, sent: Instant, ttl: Duration) {
        if let Some(m) = &self.until {
            let mut u = m.lock().unwrap_or_else(|p| p.into_inner());
            let new = sent + Fence::holding_time(ttl);
            *u = Some(u.map_or(new, |old| old.max(new)));
        }
    }

    /// The lease is lost, released or held by someone else: no further writes.
    pub fn close(&self) {
        if let Some(m) = &self.until {
            *m.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    /// Whether a mutating call may be sent now; if not, why.
    pub fn check(&self) -> Result<(), String> {
        self.check_at(Instant::now())
    }

    /// [`Fence::check`] at `now`.
    pub fn check_at(&self, now: Instant) -> Result<(), String> {
        let Some(m) = &self.until else { return Ok(()) };
        match *m.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(until) if now < until => Ok(()),
            Some(_) => Err("this copy's lease was not renewed in time".into()),
            None => Err("this copy does not hold the lease".into()),
        }
    }

    /// Whether this fence belongs to a configured lease.
    pub fn is_coordinated(&self) -> bool {
        self.until.is_some()
    }
}

/// The lease could not be read or written (DynamoDB unreachable, no permission, no table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lease {key:?} in DynamoDB table {table:?}: {operation} failed: {message}")]
pub struct LeaseError {
    /// The table.
    pub table: String,
    /// The item's key.
    pub key: String,
    /// The IAM action that failed.
    pub operation: &'static str,
    /// The error as DynamoDB gave it.
    pub message: String,
}

/// The lease item in DynamoDB, as one copy sees it.
#[derive(Debug, Clone)]
pub struct DynamoLease {
    client: aws_sdk_dynamodb::Client,
    table: String,
    key: String,
    owner: String,
    ttl: Duration,
}

/// The attribute names of the lease item. `owner` is a DynamoDB reserved word, so every
/// expression names it through `#owner`.
const PK: &str = "pk";
const OWNER: &str = "owner";
const EXPIRES_AT: &str = "expires_at";
const RENEWED_AT: &str = "renewed_at";

/// This process's identity in the lease: host, process id and start time, so two copies on
/// one host (or a restarted one) never share it.
pub fn this_copy() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
        .unwrap_or_else(|| "unknown-host".into());
    format!("{host} pid {} started {:.0}", std::process::id(), Timestamp::now())
}

fn millis(t: Timestamp) -> String {
    t.as_millisecond().to_string()
}

impl DynamoLease {
    /// The lease `settings` for the copy called `owner`, on the SDK config `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig, settings: &LeaseSettings, owner: impl Into<String>) -> Self {
        DynamoLease {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: settings.table.clone(),
            key: settings.key.clone(),
            owner: owner.into(),
            ttl: settings.ttl,
        }
    }

    /// This copy's identity.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The ttl of a take or renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Where the lease lives, for messages: `key "envsched" in table "envsched-lease"`.
    pub fn describe(&self) -> String {
        format!("key {:?} in DynamoDB table {:?}", self.key, self.table)
    }

    fn error<E: std::error::Error + ProvideErrorMetadata>(&self, operation: &'static str, e: &E) -> LeaseError {
        let message = match (e.code(), e.message()) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c.to_string(),
            _ => crate::error::describe(e),
        };
        LeaseError { table: self.table.clone(), key: self.key.clone(), operation, message }
    }

    /// Takes the lease, or renews it, for `ttl` from now: one conditional write that
    /// succeeds only if the item is absent, expired, or already this copy's. If another copy
    /// holds it, one consistent read says who and until when.
    pub async fn acquire(&self) -> Result<LeaseView, LeaseError> {
        // A release between the failed write and the read: try once more.
        for _ in 0..2 {
            let now = Timestamp::now();
            let expires_at = now + self.ttl;
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item(PK, AttributeValue::S(self.key.clone()))
                .item(OWNER, AttributeValue::S(self.owner.clone()))
                .item(EXPIRES_AT, AttributeValue::N(millis(expires_at)))
                .item(RENEWED_AT, AttributeValue::N(millis(now)))
                .condition_expression("attribute_not_exists(#pk) OR #expires_at < :now OR #owner = :me")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#owner", OWNER)
                .expression_attribute_names("#expires_at", EXPIRES_AT)
                .expression_attribute_values(":now", AttributeValue::N(millis(now)))
                .expression_attribute_values(":me", AttributeValue::S(self.owner.clone()))
                .send()
                .await;
            match put {
                Ok(_) => return Ok(LeaseView::Held { expires_at }),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(self.error("dynamodb:PutItem", &e)),
            }
            if let Some((owner, expires_at)) = self.peek().await? {
                return Ok(LeaseView::Standby { owner, expires_at });
            }
        }
        Err(LeaseError {
            table: self.table.clone(),
            key: self.key.clone(),
            operation: "dynamodb:PutItem",
            message: "the lease changed hands twice while being taken; trying again".into(),
        })
    }

    /// Who holds the lease and until when, if anyone does (one consistent read; an expired
    /// item is reported as it is).
    pub async fn peek(&self) -> Result<Option<(String, Timestamp)>, LeaseError> {
        let got = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(self.key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("dynamodb:GetItem", &e))?;
        Ok(got.item().map(holder))
    }

    /// Gives the lease up, if this copy still holds it (a delete conditioned on being the
    /// owner): another copy can take it at once instead of waiting for it to expire.
    pub async fn release(&self) -> Result<(), LeaseError> {
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(self.key.clone()))
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":me", AttributeValue::S(self.owner.clone()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(self.error("dynamodb:DeleteItem", &e)),
        }
    }

    /// Keeps the lease until `done` resolves, then releases it: takes or renews it every
    /// third of the ttl (a copy on standby asks as often, at most every 10 s), moves `fence`
    /// after every success and closes it when another copy holds the lease, and publishes
    /// each attempt's result on `view`. A failed attempt leaves the fence to run out on its
    /// own.
    pub async fn keep(
        &self,
        fence: &Fence,
        view: &watch::Sender<Option<Result<LeaseView, LeaseError>>>,
        done: impl std::future::Future<Output = ()>,
    ) {
        let mut done = std::pin::pin!(done);
        let renew = self.ttl / 3;
        loop {
            let sent = Instant::now();
            let r = self.acquire().await;
            let wait = match &r {
                Ok(LeaseView::Held { .. }) => {
                    fence.held(sent, self.ttl);
                    renew
                }
                Ok(LeaseView::Standby { .. }) => {
                    fence.close();
                    renew.min(Duration::from_secs(10))
                }
                Err(_) => renew.min(Duration::from_secs(5)),
            };
            view.send_replace(Some(r));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut done => break,
            }
        }
        fence.close();
        let r = self.release().await;
        view.send_replace(r.err().map(Err));
    }
}

/// The owner and expiry of a lease item (a malformed item reads as expired, unowned).
fn holder(item: &HashMap<String, AttributeValue>) -> (String, Timestamp) {
    let owner = item.get(OWNER).and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| "an unknown copy".into());
    let expires_at = item
        .get(EXPIRES_AT)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    (owner, expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_fence_always_allows_and_a_closed_one_never_until_held() {
        let now = Instant::now();
        assert!(Fence::open().check_at(now + Duration::from_secs(3600)).is_ok());
        let f = Fence::closed();
        assert!(f.check_at(now).unwrap_err().contains("does not hold"));
        f.held(now, Duration::from_secs(60));
        assert!(f.check_at(now + Duration::from_secs(44)).is_ok());
        // Three quarters of the ttl: a quarter before any other copy may take over.
        assert!(f.check_at(now + Duration::from_secs(45)).unwrap_err().contains("not renewed"));
        f.close();
        assert!(f.check_at(now).is_err());
    }

    #[test]
    fn a_late_answer_to_an_early_renewal_never_shortens_the_deadline() {
        let now = Instant::now();
        let f = Fence::closed();
        f.held(now + Duration::from_secs(20), Duration::from_secs(60));
        f.held(now, Duration::from_secs(60));
        assert!(f.check_at(now + Duration::from_secs(60)).is_ok());
    }
}
