//! The transactional outbox for patient messages (email, SMS).
//!
//! A share and its messages are written in one transaction (see
//! [`SqliteStore::enqueue_outbox_tx`](crate::SqliteStore::enqueue_outbox_tx)), so a
//! share never exists without its messages, nor messages without their share.
//! A worker then drains the table:
//!
//! 1. [`OutboxStore::claim_due`] moves due rows to `sending`, adds one to
//!    `attempts` and gives them a lease (`lease_until`).
//! 2. The worker hands each message to a provider.
//! 3. It records the outcome with `mark_sent`, `mark_failed_retry` or
//!    `mark_failed_final`, fenced by the attempt number it claimed.
//!
//! **Guarantee.** A row is claimable only while `queued` and due, or while
//! `sending` with an expired lease; claiming is atomic (one UPDATE on SQLite's
//! single writer, `FOR UPDATE SKIP LOCKED` on PostgreSQL). So:
//! * nothing is lost: a row leaves `queued`/`sending` only through a mark;
//!   if the worker dies after claiming, the lease expires and the row is
//!   claimed again;
//! * no message is handed over twice within one attempt window: while a lease
//!   is valid nobody else claims the row. The worker must finish (or abandon)
//!   a send before its lease ends, which it does by timing out the transport
//!   call well inside the lease;
//! * delivery is at-least-once: a crash between the provider accepting and
//!   `mark_sent` committing re-sends the message after the lease (a duplicate
//!   in a later window, never a loss). A stale worker's marks are ignored
//!   (`attempts` no longer matches), so a newer attempt's outcome wins.
//!
//! `recipient` is patient contact data: show it to staff, never log it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use studylink_model::{AccountId, Millis};

use crate::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OutboxId(pub i64);

impl std::fmt::Display for OutboxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxChannel {
    Email,
    Sms,
}

impl OutboxChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxChannel::Email => "email",
            OutboxChannel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(OutboxChannel::Email),
            "sms" => Some(OutboxChannel::Sms),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting for its first attempt or a retry (`next_attempt_at`).
    Queued,
    /// Claimed by a worker until `lease_until`.
    Sending,
    /// The provider accepted it.
    Sent,
    /// The provider reported it reached the phone or mailbox.
    Delivered,
    /// Given up: `last_error` says why.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => OutboxStatus::Queued,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "delivered" => OutboxStatus::Delivered,
            "failed" => OutboxStatus::Failed,
            _ => return None,
        })
    }
}

/// A message to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    pub account_id: AccountId,
    pub share_id: Option<i64>,
    pub channel: OutboxChannel,
    /// E.164 phone or email address. Patient data: never log it.
    pub recipient: String,
    /// The rendered message as JSON (studylink-notify's `Payload`).
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub account_id: AccountId,
    pub share_id: Option<i64>,
    pub channel: OutboxChannel,
    pub recipient: String,
    pub payload: String,
    pub status: OutboxStatus,
    /// Attempts started so far; the claim that starts one adds one.
    pub attempts: i64,
    pub next_attempt_at: Millis,
    pub lease_until: Option<Millis>,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub sent_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
}

/// What a provider's delivery report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Accepted by the carrier or SMSC.
    Sent,
    /// Reached the phone.
    Delivered,
    Failed {
        reason: String,
    },
}

/// What [`OutboxStore::apply_delivery_update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The row's status changed to this.
    Applied(OutboxStatus),
    /// A valid report that changes nothing (late, duplicate or out of order).
    Ignored,
    /// No row with this id and token: a forged or stale report.
    Rejected,
}

/// The status a delivery report moves a row to, if any. Reports arrive late,
/// twice and out of order; `delivered` is final, and a report of success
/// stops a pending retry (the provider did get the message).
pub fn delivery_transition(current: OutboxStatus, report: &DeliveryStatus) -> Option<OutboxStatus> {
    use OutboxStatus::*;
    match (report, current) {
        (_, Delivered) => None,
        (DeliveryStatus::Delivered, _) => Some(Delivered),
        (DeliveryStatus::Sent, Queued | Sending) => Some(Sent),
        (DeliveryStatus::Sent, _) => None,
        (DeliveryStatus::Failed { .. }, Queued | Sending | Sent) => Some(Failed),
        (DeliveryStatus::Failed { .. }, Failed) => None,
    }
}

#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Queues messages, due at `now`, in one transaction; ids in input order.
    async fn enqueue(&self, msgs: &[NewOutboxMessage], now: Millis) -> StoreResult<Vec<OutboxId>>;

    /// Atomically claims up to `limit` rows that are `queued` with
    /// `next_attempt_at <= now`, or `sending` with `lease_until <= now`: each
    /// becomes `sending` with `lease_until = now + lease_ms` and one more attempt.
    /// Oldest due first. Never a message of a revoked share.
    async fn claim_due(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;

    /// Stores the hash of the secret the provider's delivery reports for this
    /// attempt will carry. Call before handing the message over. False if the
    /// attempt is no longer current (`attempt` is the claimed `attempts`).
    async fn set_callback_token(
        &self,
        id: OutboxId,
        attempt: i64,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// The provider accepted attempt `attempt`. A delivery report that raced
    /// ahead of this call keeps its status. False if the attempt is stale.
    async fn mark_sent(
        &self,
        id: OutboxId,
        attempt: i64,
        provider_id: Option<&str>,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Attempt `attempt` failed; back to `queued` until `next_attempt_at`.
    async fn mark_failed_retry(
        &self,
        id: OutboxId,
        attempt: i64,
        next_attempt_at: Millis,
        error: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Attempt `attempt` failed for good.
    async fn mark_failed_final(
        &self,
        id: OutboxId,
        attempt: i64,
        error: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Applies a provider's delivery report for row `id` if `token_hash`
    /// matches the one stored for its latest attempt (see [`delivery_transition`]).
    async fn apply_delivery_update(
        &self,
        id: OutboxId,
        token_hash: &str,
        status: &DeliveryStatus,
        now: Millis,
    ) -> StoreResult<DeliveryOutcome>;

    /// A share's messages, oldest first.
    async fn list_for_share(
        &self,
        account: AccountId,
        share_id: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;

    /// The account's newest messages first, for the admin Outbox page.
    async fn list_recent(&self, account: AccountId, limit: i64) -> StoreResult<Vec<OutboxMessage>>;

    /// One message, if it belongs to `account`.
    async fn outbox_message(
        &self,
        account: AccountId,
        id: OutboxId,
    ) -> StoreResult<Option<OutboxMessage>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use OutboxStatus::*;

    #[test]
    fn delivery_transitions() {
        let failed = DeliveryStatus::Failed { reason: "x".into() };
        let cases = [
            (Sending, DeliveryStatus::Sent, Some(Sent)),
            (Queued, DeliveryStatus::Sent, Some(Sent)),
            (Sent, DeliveryStatus::Sent, None),
            (Delivered, DeliveryStatus::Sent, None),
            (Failed, DeliveryStatus::Sent, None),
            (Sent, DeliveryStatus::Delivered, Some(Delivered)),
            (Sending, DeliveryStatus::Delivered, Some(Delivered)),
            (Queued, DeliveryStatus::Delivered, Some(Delivered)),
            (Failed, DeliveryStatus::Delivered, Some(Delivered)),
            (Delivered, DeliveryStatus::Delivered, None),
            (Sent, failed.clone(), Some(Failed)),
            (Sending, failed.clone(), Some(Failed)),
            (Queued, failed.clone(), Some(Failed)),
            (Failed, failed.clone(), None),
            (Delivered, failed, None),
        ];
        for (from, report, want) in cases {
            assert_eq!(
                delivery_transition(from, &report),
                want,
                "{from:?} + {report:?}"
            );
        }
        for s in [Queued, Sending, Sent, Delivered, Failed] {
            assert_eq!(OutboxStatus::parse(s.as_str()), Some(s));
        }
    }
}
