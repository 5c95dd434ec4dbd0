//! [`OutboxStore`](crate::OutboxStore) for both backends, stamped out by a
//! macro like `store_impl.rs`. The SQL is shared except the claim, where
//! PostgreSQL adds `FOR UPDATE SKIP LOCKED` so concurrent workers skip each
//! other's rows instead of queueing behind them; SQLite has one writer, so
//! its single UPDATE … RETURNING is already atomic.

use std::sync::Arc;

use sqlx::{Postgres, Sqlite, Transaction};
use studylink_model::{AccountId, Millis};

use super::{PgStore, SqliteStore};
use crate::outbox::{
    DeliveryOutcome, DeliveryStatus, NewOutboxMessage, OutboxChannel, OutboxId, OutboxMessage,
    OutboxStatus, OutboxStore, delivery_transition,
};
use crate::{Store, StoreError, StoreResult};

const COLUMNS: &str = "id, account_id, share_id, channel, recipient, payload, status, attempts, \
     next_attempt_at, lease_until, provider_id, last_error, created_at, updated_at, sent_at, delivered_at";

const INSERT: &str = "INSERT INTO outbox (account_id, share_id, channel, recipient, payload, status, attempts, \
     next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6) RETURNING id";

/// $1 now, $2 lease end, $3 limit. `{lock}` is empty or `FOR UPDATE SKIP LOCKED`.
/// A revoked link's messages are never attempted again: revoking fails the
/// queued ones, and a `sending` one whose worker died (its lease ran out) is
/// left where it is rather than handed to a provider.
const CLAIM: &str = "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = $2, \
     next_attempt_at = $2, updated_at = $1 \
     WHERE id IN (SELECT id FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 \
                  AND NOT EXISTS (SELECT 1 FROM shares s WHERE s.id = outbox.share_id AND s.revoked_at IS NOT NULL) \
                  ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
     RETURNING {columns}";

const ANY_DUE: &str = "SELECT id FROM outbox WHERE status IN ('queued', 'sending') AND next_attempt_at <= $1 \
     AND NOT EXISTS (SELECT 1 FROM shares s WHERE s.id = outbox.share_id AND s.revoked_at IS NOT NULL) LIMIT 1";

const SET_TOKEN: &str = "UPDATE outbox SET callback_token_hash = $3, updated_at = $4 \
     WHERE id = $1 AND attempts = $2 AND status = 'sending'";

/// A delivery report may already have moved the row on; it keeps that status.
const MARK_SENT: &str = "UPDATE outbox SET \
     status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END, \
     provider_id = COALESCE($3, provider_id), sent_at = COALESCE(sent_at, $4), lease_until = NULL, updated_at = $4 \
     WHERE id = $1 AND attempts = $2 AND status IN ('sending', 'sent', 'delivered', 'failed')";

const MARK_RETRY: &str = "UPDATE outbox SET status = 'queued', next_attempt_at = $3, last_error = $4, \
     lease_until = NULL, updated_at = $5 WHERE id = $1 AND attempts = $2 AND status = 'sending'";

const MARK_FAILED: &str = "UPDATE outbox SET status = 'failed', last_error = $3, lease_until = NULL, updated_at = $4 \
     WHERE id = $1 AND attempts = $2 AND status = 'sending'";

const REPORT_TARGET: &str = "SELECT status, callback_token_hash FROM outbox WHERE id = $1";

/// Conditional on the status read just before, so two reports racing each
/// other cannot both apply to the same starting state.
const APPLY_REPORT: &str = "UPDATE outbox SET status = $2, delivered_at = COALESCE(delivered_at, $3), \
     sent_at = COALESCE(sent_at, $4), last_error = COALESCE($5, last_error), updated_at = $6 \
     WHERE id = $1 AND status = $7";

const BY_SHARE: &str =
    "SELECT {columns} FROM outbox WHERE account_id = $1 AND share_id = $2 ORDER BY id";
const RECENT: &str = "SELECT {columns} FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2";
const BY_ID: &str = "SELECT {columns} FROM outbox WHERE account_id = $1 AND id = $2";

fn sql(template: &str, lock: &str) -> String {
    template
        .replace("{columns}", COLUMNS)
        .replace("{lock}", lock)
}

#[derive(sqlx::FromRow)]
pub(super) struct OutboxDb {
    id: i64,
    account_id: i64,
    share_id: Option<i64>,
    channel: String,
    recipient: String,
    payload: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    lease_until: Option<i64>,
    provider_id: Option<String>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    sent_at: Option<i64>,
    delivered_at: Option<i64>,
}

impl TryFrom<OutboxDb> for OutboxMessage {
    type Error = StoreError;
    fn try_from(r: OutboxDb) -> StoreResult<Self> {
        let corrupt = |what: String| StoreError::Database(sqlx::Error::Decode(what.into()));
        Ok(OutboxMessage {
            id: OutboxId(r.id),
            account_id: AccountId(r.account_id),
            share_id: r.share_id,
            channel: OutboxChannel::parse(&r.channel)
                .ok_or_else(|| corrupt(format!("outbox channel {:?}", r.channel)))?,
            recipient: r.recipient,
            payload: r.payload,
            status: OutboxStatus::parse(&r.status)
                .ok_or_else(|| corrupt(format!("outbox status {:?}", r.status)))?,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            lease_until: r.lease_until,
            provider_id: r.provider_id,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            sent_at: r.sent_at,
            delivered_at: r.delivered_at,
        })
    }
}

/// The audit row of a delivery status change: ids and the channel only (the
/// recipient is patient data). `$3` is the new status.
const AUDIT_DELIVERY: &str = "INSERT INTO audit_events \
     (at, account_id, actor_kind, actor_id, action, target_kind, target_id, detail) \
     SELECT $2, account_id, 'system', '', 'delivery.' || $3, 'outbox', CAST(id AS TEXT), \
            '{\"channel\":\"' || channel || '\",\"share_id\":' || COALESCE(CAST(share_id AS TEXT), 'null') || '}' \
     FROM outbox WHERE id = $1";

fn rows(rows: Vec<OutboxDb>) -> StoreResult<Vec<OutboxMessage>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Opens a store like [`crate::connect`] and also returns it as an
/// [`OutboxStore`] (one pool, two views), for the outbox worker.
pub async fn connect_with_outbox(url: &str) -> StoreResult<(Arc<dyn Store>, Arc<dyn OutboxStore>)> {
    if url.starts_with("sqlite:") {
        let s = Arc::new(SqliteStore::connect(url).await?);
        s.migrate().await?;
        Ok((s.clone(), s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = Arc::new(PgStore::connect(url).await?);
        s.migrate().await?;
        Ok((s.clone(), s))
    } else {
        // The same error text as connect().
        crate::connect(url)
            .await
            .map(|_| unreachable!("connect rejects other schemes"))
    }
}

macro_rules! impl_outbox {
    ($store:ty, $db:ty, $lock:literal) => {
        impl $store {
            /// Every delivery status change is audited, in its own transaction.
            async fn audit_delivery(
                tx: &mut Transaction<'_, $db>,
                id: OutboxId,
                status: &str,
                now: Millis,
            ) -> StoreResult<()> {
                sqlx::query(AUDIT_DELIVERY).bind(id.0).bind(now).bind(status).execute(&mut **tx).await?;
                Ok(())
            }

            /// Runs a status UPDATE fenced to one row and, if it changed that
            /// row, audits the new status in the same transaction.
            async fn mark_audited(
                &self,
                update: sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments>,
                id: OutboxId,
                status: &str,
                now: Millis,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = update.execute(&mut *tx).await?.rows_affected() == 1;
                if done {
                    Self::audit_delivery(&mut tx, id, status, now).await?;
                }
                tx.commit().await?;
                Ok(done)
            }

            /// Enqueues messages inside a transaction the caller owns, e.g. the
            /// one that creates their share: both commit or neither does.
            pub async fn enqueue_outbox_tx(
                tx: &mut Transaction<'_, $db>,
                msgs: &[NewOutboxMessage],
                now: Millis,
            ) -> StoreResult<Vec<OutboxId>> {
                let mut ids = Vec::with_capacity(msgs.len());
                for m in msgs {
                    let id = sqlx::query_scalar::<_, i64>(INSERT)
                        .bind(m.account_id.0)
                        .bind(m.share_id)
                        .bind(m.channel.as_str())
                        .bind(&m.recipient)
                        .bind(&m.payload)
                        .bind(now)
                        .fetch_one(&mut **tx)
                        .await?;
                    ids.push(OutboxId(id));
                }
                Ok(ids)
            }
        }

        #[async_trait::async_trait]
        impl OutboxStore for $store {
            async fn enqueue(
                &self,
                msgs: &[NewOutboxMessage],
                now: Millis,
            ) -> StoreResult<Vec<OutboxId>> {
                let mut tx = self.begin_write().await?;
                let ids = Self::enqueue_outbox_tx(&mut tx, msgs, now).await?;
                tx.commit().await?;
                Ok(ids)
            }

            async fn claim_due(
                &self,
                now: Millis,
                lease_ms: i64,
                limit: i64,
            ) -> StoreResult<Vec<OutboxMessage>> {
                // Most polls find nothing: ask a reader before taking the
                // (on SQLite, only) write lock away from ingest.
                let due = sqlx::query_scalar::<_, i64>(ANY_DUE)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                let text = sql(CLAIM, $lock);
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query_as::<_, OutboxDb>(sqlx::AssertSqlSafe(text))
                    .bind(now)
                    .bind(now + lease_ms)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut claimed = rows(claimed)?;
                // RETURNING follows no ORDER BY.
                claimed.sort_by_key(|m| m.id);
                Ok(claimed)
            }

            async fn set_callback_token(
                &self,
                id: OutboxId,
                attempt: i64,
                token_hash: &str,
                now: Millis,
            ) -> StoreResult<bool> {
                Ok(sqlx::query(SET_TOKEN)
                    .bind(id.0)
                    .bind(attempt)
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.write)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn mark_sent(
                &self,
                id: OutboxId,
                attempt: i64,
                provider_id: Option<&str>,
                now: Millis,
            ) -> StoreResult<bool> {
                let q = sqlx::query(MARK_SENT).bind(id.0).bind(attempt).bind(provider_id).bind(now);
                self.mark_audited(q, id, "sent", now).await
            }

            async fn mark_failed_retry(
                &self,
                id: OutboxId,
                attempt: i64,
                next_attempt_at: Millis,
                error: &str,
                now: Millis,
            ) -> StoreResult<bool> {
                Ok(sqlx::query(MARK_RETRY)
                    .bind(id.0)
                    .bind(attempt)
                    .bind(next_attempt_at)
                    .bind(error)
                    .bind(now)
                    .execute(&self.write)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn mark_failed_final(
                &self,
                id: OutboxId,
                attempt: i64,
                error: &str,
                now: Millis,
            ) -> StoreResult<bool> {
                let q = sqlx::query(MARK_FAILED).bind(id.0).bind(attempt).bind(error).bind(now);
                self.mark_audited(q, id, "failed", now).await
            }

            async fn apply_delivery_update(
                &self,
                id: OutboxId,
                token_hash: &str,
                status: &DeliveryStatus,
                now: Millis,
            ) -> StoreResult<DeliveryOutcome> {
                // Two tries: a report can race the worker's own mark on the row.
                for _ in 0..2 {
                    let found = sqlx::query_as::<_, (String, Option<String>)>(REPORT_TARGET)
                        .bind(id.0)
                        .fetch_optional(&self.write)
                        .await?;
                    let Some((current, stored_hash)) = found else {
                        return Ok(DeliveryOutcome::Rejected);
                    };
                    if stored_hash.as_deref() != Some(token_hash) {
                        return Ok(DeliveryOutcome::Rejected);
                    }
                    let current_status = OutboxStatus::parse(&current).ok_or_else(|| {
                        StoreError::Database(sqlx::Error::Decode(
                            format!("outbox status {current:?}").into(),
                        ))
                    })?;
                    let Some(next) = delivery_transition(current_status, status) else {
                        return Ok(DeliveryOutcome::Ignored);
                    };
                    let delivered_at = (next == OutboxStatus::Delivered).then_some(now);
                    let sent_at =
                        matches!(next, OutboxStatus::Sent | OutboxStatus::Delivered).then_some(now);
                    let error = match status {
                        DeliveryStatus::Failed { reason } => Some(reason.as_str()),
                        _ => None,
                    };
                    let mut tx = self.begin_write().await?;
                    let applied = sqlx::query(APPLY_REPORT)
                        .bind(id.0)
                        .bind(next.as_str())
                        .bind(delivered_at)
                        .bind(sent_at)
                        .bind(error)
                        .bind(now)
                        .bind(&current)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if applied == 1 {
                        Self::audit_delivery(&mut tx, id, next.as_str(), now).await?;
                        tx.commit().await?;
                        return Ok(DeliveryOutcome::Applied(next));
                    }
                    tx.commit().await?;
                }
                Ok(DeliveryOutcome::Ignored)
            }

            async fn list_for_share(
                &self,
                account: AccountId,
                share_id: i64,
            ) -> StoreResult<Vec<OutboxMessage>> {
                let found = sqlx::query_as::<_, OutboxDb>(sqlx::AssertSqlSafe(sql(BY_SHARE, "")))
                    .bind(account.0)
                    .bind(share_id)
                    .fetch_all(&self.read)
                    .await?;
                rows(found)
            }

            async fn list_recent(
                &self,
                account: AccountId,
                limit: i64,
            ) -> StoreResult<Vec<OutboxMessage>> {
                let found = sqlx::query_as::<_, OutboxDb>(sqlx::AssertSqlSafe(sql(RECENT, "")))
                    .bind(account.0)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?;
                rows(found)
            }

            async fn outbox_message(
                &self,
                account: AccountId,
                id: OutboxId,
            ) -> StoreResult<Option<OutboxMessage>> {
                let found = sqlx::query_as::<_, OutboxDb>(sqlx::AssertSqlSafe(sql(BY_ID, "")))
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?;
                found.map(TryInto::try_into).transpose()
            }
        }
    };
}

impl_outbox!(SqliteStore, Sqlite, "");
impl_outbox!(PgStore, Postgres, "FOR UPDATE SKIP LOCKED");
