//! [`ShareStore`] for both backends, stamped out by a macro like `outbox.rs`:
//! one SQL text, one method body, `begin_write` and the migrations differ.
//!
//! Transitions are conditional UPDATEs (`… WHERE state = 'preparing'`), so two
//! callers racing for the same share cannot both win: SQLite has one writer,
//! and on PostgreSQL the loser waits for the winner's row lock and then finds
//! the condition false. Only when nothing matched do we look again, to tell
//! `NotFound` from `Conflict` (shares are never deleted, so that second read
//! cannot be fooled).

use std::collections::HashMap;

use sqlx::{Postgres, Sqlite};
use studylink_model::{
    AccountId, InstanceId, ItemKind, Language, Millis, NewShare, SendKind, Share, ShareId,
    ShareItem, ShareSend, ShareState, StudyId, TextCheck, UserId,
};

use super::{PgStore, SqliteStore};
use crate::outbox::{NewOutboxMessage, OutboxMessage};
use crate::{FailureState, ShareSendWithMessages, ShareStore, StoreError, StoreResult, TextCheckResult};

/// Every column of `shares` that [`Share`] shows (not the token hash, not the
/// de-identification secret), so `concat!` can build `&'static str` queries.
macro_rules! share_columns {
    () => {
        "id, account_id, study_ref, token_seed, created_by, created_by_label, created_at, expires_at, \
         revoked_at, language, email, phone, state, state_error, password_required, password_hash, \
         link_code_version, failed_attempts, locked_until, first_opened_at, last_opened_at, views, \
         downloads, last_sent_at"
    };
}

const STUDY_IN_ACCOUNT: &str = "SELECT id FROM studies WHERE id = $1 AND account_id = $2";

const INSERT_SHARE: &str = "INSERT INTO shares (account_id, study_ref, token_hash, token_seed, created_by, \
     created_by_label, created_at, expires_at, language, email, phone, link_code_version, deid_secret) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";

const SHARE_BY_ID: &str = concat!("SELECT ", share_columns!(), " FROM shares WHERE id = $1");
const SHARE_IN_ACCOUNT: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM shares WHERE account_id = $1 AND id = $2"
);
const SHARE_BY_TOKEN: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM shares WHERE token_hash = $1"
);
const SHARES_FOR_STUDY: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM shares WHERE account_id = $1 AND study_ref = $2 ORDER BY id DESC"
);
const LIST_SHARES: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM shares WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
);
const PREPARING: &str = concat!(
    "SELECT ",
    share_columns!(),
    " FROM shares WHERE state = 'preparing' ORDER BY id"
);

/// The CHECK constraint keeps it NULL outside `preparing`.
const DEID_SECRET: &str = "SELECT deid_secret FROM shares WHERE id = $1";

const SHARE_STATE: &str = "SELECT state FROM shares WHERE id = $1";
const SHARE_ID_IN_ACCOUNT: &str = "SELECT id FROM shares WHERE id = $1 AND account_id = $2";

/// Matches only while preparing. A no-op write, but on PostgreSQL it takes the
/// row lock, so `finish_share` cannot slip between the check and the items.
const LOCK_PREPARING: &str =
    "UPDATE shares SET state = state WHERE id = $1 AND state = 'preparing'";
const DELETE_ITEMS: &str = "DELETE FROM share_items WHERE share_id = $1";
const INSERT_ITEM: &str = "INSERT INTO share_items (share_id, position, source_instance_ref, kind, \
     password_reason, sop_instance_uid, dicom_key, dicom_size, jpeg_key, jpeg_size, thumb_key, mp4_key, \
     mp4_size, doc_key, doc_size, doc_content_type, pixel_rows, pixel_columns, frames, frame_ms, video_pending, text_check) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)";
macro_rules! item_columns {
    ($p:literal) => {
        concat!(
            $p,
            "share_id, ",
            $p,
            "position, ",
            $p,
            "source_instance_ref, ",
            $p,
            "kind, ",
            $p,
            "password_reason, ",
            $p,
            "sop_instance_uid, ",
            $p,
            "dicom_key, ",
            $p,
            "dicom_size, ",
            $p,
            "jpeg_key, ",
            $p,
            "jpeg_size, ",
            $p,
            "thumb_key, ",
            $p,
            "mp4_key, ",
            $p,
            "mp4_size, ",
            $p,
            "doc_key, ",
            $p,
            "doc_size, ",
            $p,
            "doc_content_type, ",
            $p,
            "pixel_rows, ",
            $p,
            "pixel_columns, ",
            $p,
            "frames, ",
            $p,
            "frame_ms, ",
            $p,
            "video_pending, ",
            $p,
            "text_check"
        )
    };
}
const ITEMS: &str = concat!(
    "SELECT ",
    item_columns!(""),
    " FROM share_items WHERE share_id = $1 ORDER BY position"
);
/// Videos still to encode, of links a patient may open. A revoked or
/// failed share's loops are not worth the CPU.
const PENDING_VIDEOS: &str = concat!(
    "SELECT ",
    item_columns!("i."),
    " FROM share_items i JOIN shares s ON s.id = i.share_id \
     WHERE i.video_pending AND i.text_check IN ('none', 'passed') \
     AND s.state = 'ready' AND s.revoked_at IS NULL \
     ORDER BY i.share_id, i.position"
);
/// Items waiting for their text check, of links a patient may open, with
/// their original's blob (the identifying values to look for come from it).
const PENDING_TEXT_CHECKS: &str = concat!(
    "SELECT ",
    item_columns!("i."),
    ", o.blob_key AS source_blob_key FROM share_items i JOIN shares s ON s.id = i.share_id \
     JOIN instances o ON o.id = i.source_instance_ref \
     WHERE i.text_check = 'pending' AND s.state = 'ready' AND s.revoked_at IS NULL \
     ORDER BY i.share_id, i.position"
);
/// Only while pending, as for videos.
const SET_TEXT_CHECK: &str = "UPDATE share_items SET text_check = $3, \
     dicom_size = COALESCE($4, dicom_size), jpeg_size = COALESCE($5, jpeg_size) \
     WHERE share_id = $1 AND position = $2 AND text_check = 'pending'";
/// Only while pending: a second encoder (another node, a resumed run) that
/// finishes later does not overwrite the first one's result.
const SET_VIDEO: &str = "UPDATE share_items SET mp4_key = $3, mp4_size = $4, video_pending = FALSE \
     WHERE share_id = $1 AND position = $2 AND video_pending";

const FINISH: &str = "UPDATE shares SET state = 'ready', password_required = $2, deid_secret = NULL, \
     last_sent_at = $3 WHERE id = $1 AND state = 'preparing' RETURNING account_id, revoked_at";
const FAIL: &str = "UPDATE shares SET state = 'failed', state_error = $2, deid_secret = NULL \
     WHERE id = $1 AND state = 'preparing'";
/// An expired link is never renewed: a forwarded old message must stay dead.
const RESEND: &str = "UPDATE shares SET expires_at = $3, last_sent_at = $4 \
     WHERE id = $1 AND account_id = $2 AND state = 'ready' AND revoked_at IS NULL AND expires_at > $4";
const INSERT_SEND: &str =
    "INSERT INTO share_sends (share_id, kind, at, by_label) VALUES ($1, $2, $3, $4) RETURNING id";
const SET_SEND_ID: &str = "UPDATE outbox SET send_id = $1 WHERE id = $2";

const REVOKE: &str =
    "UPDATE shares SET revoked_at = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL";
/// Only `queued`: a `sending` row is in a worker's hands, and its outcome is
/// recorded by the worker's own mark.
const FAIL_QUEUED: &str = "UPDATE outbox SET status = 'failed', last_error = 'link revoked', \
     lease_until = NULL, updated_at = $3 WHERE share_id = $1 AND account_id = $2 AND status = 'queued'";

const SENDS: &str = "SELECT d.id, d.share_id, d.kind, d.at, d.by_label FROM share_sends d \
     JOIN shares s ON s.id = d.share_id WHERE s.account_id = $1 AND d.share_id = $2 ORDER BY d.id";
const SEND_MESSAGES: &str = "SELECT send_id, id, account_id, share_id, channel, recipient, payload, status, \
     attempts, next_attempt_at, lease_until, provider_id, last_error, created_at, updated_at, sent_at, \
     delivered_at FROM outbox \
     WHERE account_id = $1 AND send_id IN (SELECT id FROM share_sends WHERE share_id = $2) ORDER BY id";

const SET_PASSWORD: &str =
    "UPDATE shares SET password_hash = $2 WHERE id = $1 AND password_hash IS NULL";

/// One statement, so concurrent wrong guesses cannot lose a count or both
/// reset it. Every right-hand side sees the row as it was before the UPDATE.
/// $2 = max, $3 = the lock's end.
const RECORD_FAILURE: &str = "UPDATE shares SET \
     failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END, \
     locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
     WHERE id = $1 RETURNING failed_attempts, locked_until";
const CLEAR_FAILURES: &str = "UPDATE shares SET failed_attempts = 0 WHERE id = $1";

const SWEEP_ACCESS: &str = "DELETE FROM share_access WHERE share_id = $1 AND expires_at <= $2";
const INSERT_ACCESS: &str = "INSERT INTO share_access (token_hash, share_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
const ACCESS_VALID: &str =
    "SELECT share_id FROM share_access WHERE token_hash = $1 AND share_id = $2 AND expires_at > $3";

/// Requests may be served out of order: keep the earliest and the latest.
const RECORD_VIEW: &str = "UPDATE shares SET views = views + 1, \
     first_opened_at = CASE WHEN first_opened_at IS NULL OR first_opened_at > $2 THEN $2 ELSE first_opened_at END, \
     last_opened_at = CASE WHEN last_opened_at IS NULL OR last_opened_at < $2 THEN $2 ELSE last_opened_at END \
     WHERE id = $1";
const RECORD_DOWNLOAD: &str = "UPDATE shares SET downloads = downloads + 1 WHERE id = $1";

/// Rows per `INSERT … SELECT … FROM (VALUES …)` of the snapshot: two
/// parameters each, far below both databases' limits.
const SNAPSHOT_CHUNK: usize = 500;
/// Share ids per `IN (…)` when loading snapshots for a list.
const IN_CHUNK: usize = 500;

fn corrupt(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

fn not_found(id: ShareId) -> StoreError {
    StoreError::NotFound(format!("share {id}"))
}

/// Unique violations become `Conflict`, foreign-key violations `NotFound`.
fn write_error(e: sqlx::Error, conflict: &str, missing: &str) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(conflict.to_owned()),
        Some(db) if db.is_foreign_key_violation() => StoreError::NotFound(missing.to_owned()),
        _ => StoreError::Database(e),
    }
}

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The snapshot insert for `n` instances; it inserts only instances of the
/// account ($2) and study ($3), so a short row count names a stranger.
fn snapshot_insert(n: usize) -> String {
    let values = (0..n)
        .map(|i| format!("(${}, ${})", 4 + 2 * i, 5 + 2 * i))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO share_instances (share_id, position, instance_ref) \
         SELECT $1, v.column1, i.id FROM (VALUES {values}) AS v \
         JOIN instances i ON i.id = v.column2 AND i.account_id = $2 AND i.study_ref = $3"
    )
}

/// A send's messages belong to the share and its account, whatever the caller filled in.
fn owned_messages(
    msgs: &[NewOutboxMessage],
    account: AccountId,
    id: ShareId,
) -> Vec<NewOutboxMessage> {
    msgs.iter()
        .map(|m| NewOutboxMessage {
            account_id: account,
            share_id: Some(id.0),
            ..m.clone()
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct ShareDb {
    id: i64,
    account_id: i64,
    study_ref: i64,
    token_seed: Vec<u8>,
    created_by: Option<i64>,
    created_by_label: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    language: String,
    email: Option<String>,
    phone: Option<String>,
    state: String,
    state_error: Option<String>,
    password_required: bool,
    password_hash: Option<String>,
    link_code_version: i64,
    failed_attempts: i64,
    locked_until: Option<i64>,
    first_opened_at: Option<i64>,
    last_opened_at: Option<i64>,
    views: i64,
    downloads: i64,
    last_sent_at: Option<i64>,
}

impl ShareDb {
    fn into_share(self, instance_ids: Vec<InstanceId>) -> StoreResult<Share> {
        Ok(Share {
            id: ShareId(self.id),
            account_id: AccountId(self.account_id),
            study_id: StudyId(self.study_ref),
            token_seed: self.token_seed,
            created_by: self.created_by.map(UserId),
            created_by_label: self.created_by_label,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            language: Language::parse(&self.language)
                .ok_or_else(|| corrupt(format!("share language {:?}", self.language)))?,
            email: self.email,
            phone: self.phone,
            state: ShareState::parse(&self.state)
                .ok_or_else(|| corrupt(format!("share state {:?}", self.state)))?,
            state_error: self.state_error,
            password_required: self.password_required,
            password_hash: self.password_hash,
            link_code_version: self.link_code_version,
            failed_attempts: self.failed_attempts,
            locked_until: self.locked_until,
            first_opened_at: self.first_opened_at,
            last_opened_at: self.last_opened_at,
            views: self.views,
            downloads: self.downloads,
            last_sent_at: self.last_sent_at,
            instance_ids,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ItemDb {
    share_id: i64,
    position: i64,
    source_instance_ref: i64,
    kind: String,
    password_reason: Option<String>,
    sop_instance_uid: String,
    dicom_key: String,
    dicom_size: i64,
    jpeg_key: Option<String>,
    jpeg_size: Option<i64>,
    thumb_key: Option<String>,
    mp4_key: Option<String>,
    mp4_size: Option<i64>,
    doc_key: Option<String>,
    doc_size: Option<i64>,
    doc_content_type: Option<String>,
    pixel_rows: Option<i64>,
    pixel_columns: Option<i64>,
    frames: i64,
    frame_ms: Option<f64>,
    video_pending: bool,
    text_check: String,
}

/// An item and its original's blob key.
#[derive(sqlx::FromRow)]
struct CheckDb {
    #[sqlx(flatten)]
    item: ItemDb,
    source_blob_key: String,
}

fn small(v: i64, what: &str) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| corrupt(format!("share item {what} {v}")))
}

impl TryFrom<ItemDb> for ShareItem {
    type Error = StoreError;
    fn try_from(r: ItemDb) -> StoreResult<Self> {
        Ok(ShareItem {
            share_id: ShareId(r.share_id),
            position: small(r.position, "position")?,
            source_instance_id: InstanceId(r.source_instance_ref),
            kind: ItemKind::parse(&r.kind)
                .ok_or_else(|| corrupt(format!("share item kind {:?}", r.kind)))?,
            password_reason: r.password_reason,
            sop_instance_uid: r.sop_instance_uid,
            dicom_key: r.dicom_key,
            dicom_size: r.dicom_size,
            jpeg_key: r.jpeg_key,
            jpeg_size: r.jpeg_size,
            thumb_key: r.thumb_key,
            mp4_key: r.mp4_key,
            mp4_size: r.mp4_size,
            doc_key: r.doc_key,
            doc_size: r.doc_size,
            doc_content_type: r.doc_content_type,
            rows: r.pixel_rows.map(|v| small(v, "rows")).transpose()?,
            columns: r.pixel_columns.map(|v| small(v, "columns")).transpose()?,
            frames: small(r.frames, "frames")?,
            frame_ms: r.frame_ms,
            video_pending: r.video_pending,
            text_check: TextCheck::parse(&r.text_check)
                .ok_or_else(|| corrupt(format!("share item text check {:?}", r.text_check)))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SendDb {
    id: i64,
    share_id: i64,
    kind: String,
    at: i64,
    by_label: String,
}

impl TryFrom<SendDb> for ShareSend {
    type Error = StoreError;
    fn try_from(r: SendDb) -> StoreResult<Self> {
        Ok(ShareSend {
            id: r.id,
            share_id: ShareId(r.share_id),
            kind: SendKind::parse(&r.kind)
                .ok_or_else(|| corrupt(format!("share send kind {:?}", r.kind)))?,
            at: r.at,
            by_label: r.by_label,
        })
    }
}

/// An outbox row and the send it belongs to.
#[derive(sqlx::FromRow)]
struct SendMessageDb {
    send_id: i64,
    #[sqlx(flatten)]
    message: super::outbox::OutboxDb,
}

impl SendMessageDb {
    fn into_message(self) -> StoreResult<(i64, OutboxMessage)> {
        Ok((self.send_id, self.message.try_into()?))
    }
}

macro_rules! impl_shares {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Attaches each share's snapshot, read in `IN (…)` batches.
            /// Snapshots are written with their share and never change, so a
            /// second statement sees every snapshot the first one's rows need.
            async fn share_with_snapshots(&self, rows: Vec<ShareDb>) -> StoreResult<Vec<Share>> {
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                let mut snapshots: HashMap<i64, Vec<InstanceId>> = HashMap::new();
                for chunk in ids.chunks(IN_CHUNK) {
                    let text = format!(
                        "SELECT share_id, instance_ref FROM share_instances WHERE share_id IN ({}) \
                         ORDER BY share_id, position",
                        placeholders(1, chunk.len())
                    );
                    let mut query = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(text));
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    for (share, instance) in query.fetch_all(&self.read).await? {
                        snapshots
                            .entry(share)
                            .or_default()
                            .push(InstanceId(instance));
                    }
                }
                rows.into_iter()
                    .map(|r| {
                        let instances = snapshots.remove(&r.id).unwrap_or_default();
                        r.into_share(instances)
                    })
                    .collect()
            }

            async fn one_share(&self, row: Option<ShareDb>) -> StoreResult<Option<Share>> {
                match row {
                    Some(row) => Ok(self.share_with_snapshots(vec![row]).await?.pop()),
                    None => Ok(None),
                }
            }

            /// After a conditional write matched nothing: `Conflict` if the
            /// share exists (in `account`, when given), else `NotFound`.
            async fn share_conflict<'e, E>(
                executor: E,
                id: ShareId,
                account: Option<AccountId>,
                why: &str,
            ) -> StoreError
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                let found = match account {
                    Some(a) => {
                        sqlx::query_scalar::<_, i64>(SHARE_ID_IN_ACCOUNT)
                            .bind(id.0)
                            .bind(a.0)
                            .fetch_optional(executor)
                            .await
                    }
                    None => sqlx::query_scalar::<_, String>(SHARE_STATE)
                        .bind(id.0)
                        .fetch_optional(executor)
                        .await
                        .map(|s| s.map(|_| id.0)),
                };
                match found {
                    Ok(Some(_)) => StoreError::Conflict(format!("share {id}: {why}")),
                    Ok(None) => not_found(id),
                    Err(e) => e.into(),
                }
            }

            /// The send row and its messages, inside the caller's transaction.
            async fn insert_send_tx(
                tx: &mut sqlx::Transaction<'static, $db>,
                account: AccountId,
                id: ShareId,
                kind: SendKind,
                by_label: &str,
                msgs: &[NewOutboxMessage],
                now: Millis,
            ) -> StoreResult<i64> {
                let send_id = sqlx::query_scalar::<_, i64>(INSERT_SEND)
                    .bind(id.0)
                    .bind(kind.as_str())
                    .bind(now)
                    .bind(by_label)
                    .fetch_one(&mut **tx)
                    .await?;
                let owned = owned_messages(msgs, account, id);
                for outbox_id in Self::enqueue_outbox_tx(tx, &owned, now).await? {
                    sqlx::query(SET_SEND_ID)
                        .bind(send_id)
                        .bind(outbox_id.0)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(send_id)
            }
        }

        #[async_trait::async_trait]
        impl ShareStore for $store {
            async fn create_share(&self, new: &NewShare) -> StoreResult<Share> {
                let mut tx = self.begin_write().await?;
                sqlx::query_scalar::<_, i64>(STUDY_IN_ACCOUNT)
                    .bind(new.study_id.0)
                    .bind(new.account_id.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| {
                        StoreError::NotFound(format!(
                            "study {} in account {}",
                            new.study_id, new.account_id
                        ))
                    })?;
                let id = sqlx::query_scalar::<_, i64>(INSERT_SHARE)
                    .bind(new.account_id.0)
                    .bind(new.study_id.0)
                    .bind(&new.token_hash)
                    .bind(&new.token_seed)
                    .bind(new.created_by.map(|u| u.0))
                    .bind(&new.created_by_label)
                    .bind(new.created_at)
                    .bind(new.expires_at)
                    .bind(new.language.as_str())
                    .bind(&new.email)
                    .bind(&new.phone)
                    .bind(new.link_code_version)
                    .bind(&new.deid_secret)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "share token", "the share's creator"))?;
                for (n, chunk) in new.instance_ids.chunks(SNAPSHOT_CHUNK).enumerate() {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(snapshot_insert(chunk.len())))
                        .bind(id)
                        .bind(new.account_id.0)
                        .bind(new.study_id.0);
                    for (i, instance) in chunk.iter().enumerate() {
                        query = query.bind((n * SNAPSHOT_CHUNK + i) as i64).bind(instance.0);
                    }
                    let inserted = query
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| write_error(e, "an instance is listed twice", "instance"))?
                        .rows_affected();
                    if inserted != chunk.len() as u64 {
                        // Dropping the transaction rolls the share back.
                        return Err(StoreError::NotFound(format!(
                            "an instance of the snapshot is not in study {} of account {}",
                            new.study_id, new.account_id
                        )));
                    }
                }
                let row = sqlx::query_as::<_, ShareDb>(SHARE_BY_ID)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                row.into_share(new.instance_ids.clone())
            }

            async fn share(&self, account: AccountId, id: ShareId) -> StoreResult<Option<Share>> {
                let row = sqlx::query_as::<_, ShareDb>(SHARE_IN_ACCOUNT)
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?;
                self.one_share(row).await
            }

            async fn share_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Share>> {
                let row = sqlx::query_as::<_, ShareDb>(SHARE_BY_TOKEN)
                    .bind(token_hash)
                    .fetch_optional(&self.read)
                    .await?;
                self.one_share(row).await
            }

            async fn shares_for_study(
                &self,
                account: AccountId,
                study: StudyId,
            ) -> StoreResult<Vec<Share>> {
                let rows = sqlx::query_as::<_, ShareDb>(SHARES_FOR_STUDY)
                    .bind(account.0)
                    .bind(study.0)
                    .fetch_all(&self.read)
                    .await?;
                self.share_with_snapshots(rows).await
            }

            async fn list_shares(
                &self,
                account: AccountId,
                before: Option<ShareId>,
                limit: i64,
            ) -> StoreResult<Vec<Share>> {
                let rows = sqlx::query_as::<_, ShareDb>(LIST_SHARES)
                    .bind(account.0)
                    .bind(before.map_or(i64::MAX, |b| b.0))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?;
                self.share_with_snapshots(rows).await
            }

            async fn share_deid_secret(&self, id: ShareId) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(DEID_SECRET)
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await?
                    .flatten())
            }

            async fn preparing_shares(&self) -> StoreResult<Vec<Share>> {
                let rows = sqlx::query_as::<_, ShareDb>(PREPARING)
                    .fetch_all(&self.read)
                    .await?;
                self.share_with_snapshots(rows).await
            }

            async fn put_share_items(&self, id: ShareId, items: &[ShareItem]) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let locked = sqlx::query(LOCK_PREPARING)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if locked == 0 {
                    return Err(
                        Self::share_conflict(&mut *tx, id, None, "no longer preparing").await,
                    );
                }
                sqlx::query(DELETE_ITEMS)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                for item in items {
                    sqlx::query(INSERT_ITEM)
                        .bind(id.0)
                        .bind(i64::from(item.position))
                        .bind(item.source_instance_id.0)
                        .bind(item.kind.as_str())
                        .bind(&item.password_reason)
                        .bind(&item.sop_instance_uid)
                        .bind(&item.dicom_key)
                        .bind(item.dicom_size)
                        .bind(&item.jpeg_key)
                        .bind(item.jpeg_size)
                        .bind(&item.thumb_key)
                        .bind(&item.mp4_key)
                        .bind(item.mp4_size)
                        .bind(&item.doc_key)
                        .bind(item.doc_size)
                        .bind(&item.doc_content_type)
                        .bind(item.rows.map(i64::from))
                        .bind(item.columns.map(i64::from))
                        .bind(i64::from(item.frames))
                        .bind(item.frame_ms)
                        .bind(item.video_pending)
                        .bind(item.text_check.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| {
                            write_error(
                                e,
                                &format!("share {id}: item position {} given twice", item.position),
                                &format!(
                                    "share {id}: instance {} is not in its snapshot",
                                    item.source_instance_id
                                ),
                            )
                        })?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn share_items(&self, id: ShareId) -> StoreResult<Vec<ShareItem>> {
                sqlx::query_as::<_, ItemDb>(ITEMS)
                    .bind(id.0)
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn pending_share_videos(&self) -> StoreResult<Vec<ShareItem>> {
                sqlx::query_as::<_, ItemDb>(PENDING_VIDEOS)
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
            }

            async fn set_share_item_video(
                &self,
                id: ShareId,
                position: i32,
                mp4: Option<(&str, i64)>,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(SET_VIDEO)
                    .bind(id.0)
                    .bind(i64::from(position))
                    .bind(mp4.map(|m| m.0))
                    .bind(mp4.map(|m| m.1))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn pending_share_text_checks(&self) -> StoreResult<Vec<(ShareItem, String)>> {
                sqlx::query_as::<_, CheckDb>(PENDING_TEXT_CHECKS)
                    .fetch_all(&self.read)
                    .await?
                    .into_iter()
                    .map(|r| Ok((r.item.try_into()?, r.source_blob_key)))
                    .collect()
            }

            async fn set_share_item_text_check(
                &self,
                id: ShareId,
                position: i32,
                result: TextCheckResult,
            ) -> StoreResult<bool> {
                let (state, dicom_size, jpeg_size) = match result {
                    TextCheckResult::Passed { dicom_size, jpeg_size } => (TextCheck::Passed, dicom_size, jpeg_size),
                    TextCheckResult::Failed => (TextCheck::Failed, None, None),
                };
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(SET_TEXT_CHECK)
                    .bind(id.0)
                    .bind(i64::from(position))
                    .bind(state.as_str())
                    .bind(dicom_size)
                    .bind(jpeg_size)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(n == 1)
            }

            async fn finish_share(
                &self,
                id: ShareId,
                password_required: bool,
                by_label: &str,
                msgs: &[NewOutboxMessage],
                now: Millis,
            ) -> StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let finished = sqlx::query_as::<_, (i64, Option<i64>)>(FINISH)
                    .bind(id.0)
                    .bind(password_required)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((account, revoked_at)) = finished else {
                    return Err(Self::share_conflict(&mut *tx, id, None, "not preparing").await);
                };
                let account = AccountId(account);
                let send_id = Self::insert_send_tx(
                    &mut tx,
                    account,
                    id,
                    SendKind::Initial,
                    by_label,
                    msgs,
                    now,
                )
                .await?;
                if revoked_at.is_some() {
                    // Revoked while it was being prepared: record the send,
                    // but nothing may go out for a dead link.
                    sqlx::query(FAIL_QUEUED)
                        .bind(id.0)
                        .bind(account.0)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(send_id)
            }

            async fn fail_share(&self, id: ShareId, error: &str, _now: Millis) -> StoreResult<()> {
                let failed = sqlx::query(FAIL)
                    .bind(id.0)
                    .bind(error)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if failed == 0 {
                    return Err(Self::share_conflict(&self.write, id, None, "not preparing").await);
                }
                Ok(())
            }

            async fn resend_share(
                &self,
                account: AccountId,
                id: ShareId,
                new_expires_at: Millis,
                by_label: &str,
                msgs: &[NewOutboxMessage],
                now: Millis,
            ) -> StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let renewed = sqlx::query(RESEND)
                    .bind(id.0)
                    .bind(account.0)
                    .bind(new_expires_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if renewed == 0 {
                    return Err(Self::share_conflict(
                        &mut *tx,
                        id,
                        Some(account),
                        "not ready, revoked or expired",
                    )
                    .await);
                }
                let send_id = Self::insert_send_tx(
                    &mut tx,
                    account,
                    id,
                    SendKind::Resend,
                    by_label,
                    msgs,
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok(send_id)
            }

            async fn revoke_share(
                &self,
                account: AccountId,
                id: ShareId,
                now: Millis,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let revoked = sqlx::query(REVOKE)
                    .bind(id.0)
                    .bind(account.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if revoked == 0 {
                    return Ok(false);
                }
                sqlx::query(FAIL_QUEUED)
                    .bind(id.0)
                    .bind(account.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn share_sends(
                &self,
                account: AccountId,
                id: ShareId,
            ) -> StoreResult<Vec<ShareSendWithMessages>> {
                let sends = sqlx::query_as::<_, SendDb>(SENDS)
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_all(&self.read)
                    .await?;
                if sends.is_empty() {
                    return Ok(Vec::new());
                }
                let mut by_send: HashMap<i64, Vec<OutboxMessage>> = HashMap::new();
                for row in sqlx::query_as::<_, SendMessageDb>(SEND_MESSAGES)
                    .bind(account.0)
                    .bind(id.0)
                    .fetch_all(&self.read)
                    .await?
                {
                    let (send_id, m) = row.into_message()?;
                    by_send.entry(send_id).or_default().push(m);
                }
                // A send committed between the two reads has its messages
                // read but not itself: they are left out with it.
                sends
                    .into_iter()
                    .map(|s| {
                        let messages = by_send.remove(&s.id).unwrap_or_default();
                        Ok(ShareSendWithMessages {
                            send: s.try_into()?,
                            messages,
                        })
                    })
                    .collect()
            }

            async fn set_share_password(
                &self,
                id: ShareId,
                password_hash: &str,
                _now: Millis,
            ) -> StoreResult<bool> {
                let set = sqlx::query(SET_PASSWORD)
                    .bind(id.0)
                    .bind(password_hash)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if set == 1 {
                    return Ok(true);
                }
                match Self::share_conflict(&self.write, id, None, "").await {
                    StoreError::Conflict(_) => Ok(false),
                    e => Err(e),
                }
            }

            async fn record_share_failure(
                &self,
                id: ShareId,
                max: i64,
                lock_ms: i64,
                now: Millis,
            ) -> StoreResult<FailureState> {
                let (failed_attempts, locked_until) =
                    sqlx::query_as::<_, (i64, Option<i64>)>(RECORD_FAILURE)
                        .bind(id.0)
                        .bind(max)
                        .bind(now + lock_ms)
                        .fetch_optional(&self.write)
                        .await?
                        .ok_or_else(|| not_found(id))?;
                // The count returns to zero exactly when this failure locked the
                // share; otherwise locked_until is an older lock, not this one's.
                Ok(FailureState {
                    failed_attempts,
                    locked_until: if failed_attempts == 0 {
                        locked_until
                    } else {
                        None
                    },
                })
            }

            async fn clear_share_failures(&self, id: ShareId) -> StoreResult<()> {
                let cleared = sqlx::query(CLEAR_FAILURES)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if cleared == 0 {
                    return Err(not_found(id));
                }
                Ok(())
            }

            async fn create_share_access(
                &self,
                id: ShareId,
                token_hash: &str,
                expires_at: Millis,
                now: Millis,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(SWEEP_ACCESS)
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_ACCESS)
                    .bind(token_hash)
                    .bind(id.0)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, "share access token", &format!("share {id}")))?;
                tx.commit().await?;
                Ok(())
            }

            async fn share_access_valid(
                &self,
                id: ShareId,
                token_hash: &str,
                now: Millis,
            ) -> StoreResult<bool> {
                Ok(sqlx::query_scalar::<_, i64>(ACCESS_VALID)
                    .bind(token_hash)
                    .bind(id.0)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await?
                    .is_some())
            }

            async fn record_share_view(&self, id: ShareId, now: Millis) -> StoreResult<()> {
                let counted = sqlx::query(RECORD_VIEW)
                    .bind(id.0)
                    .bind(now)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if counted == 0 {
                    return Err(not_found(id));
                }
                Ok(())
            }

            async fn record_share_download(&self, id: ShareId, _now: Millis) -> StoreResult<()> {
                let counted = sqlx::query(RECORD_DOWNLOAD)
                    .bind(id.0)
                    .execute(&self.write)
                    .await?
                    .rows_affected();
                if counted == 0 {
                    return Err(not_found(id));
                }
                Ok(())
            }
        }
    };
}

impl_shares!(SqliteStore, Sqlite);
impl_shares!(PgStore, Postgres);
