//! The ingest hot path for SQLite without async hand-offs.
//!
//! sqlx runs every SQLite statement on the connection's own worker thread, so one
//! instance cost about nine thread wake-ups (duplicate check, BEGIN, four upserts,
//! INSERT, COMMIT), each waiting for a core that the sending device also needs.
//! Here the whole transaction runs on the caller's (blocking) thread through
//! rusqlite, on its own connection to the same database file. The SQL text is the
//! one the async path uses (`queries.rs`), so both write identical rows; SQLite's
//! `$N` parameters are numbered by first appearance, which `queries.rs` keeps in
//! order, so positional binding matches.
//!
//! Two writers (this connection and the sqlx writer) are safe: both begin with
//! `BEGIN IMMEDIATE` and wait on `busy_timeout` rather than failing.

use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use studylink_model::{AccountId, InstanceId, now_millis};

use super::filter::fold_case;
use super::queries as q;
use super::text;
use crate::{InsertOutcome, NewInstance, StoreError, StoreResult};

/// An instance already in the index, as the ingest pipeline needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundInstance {
    pub id: InstanceId,
    pub account: AccountId,
    pub blob_key: String,
    pub size_bytes: i64,
}

/// Synchronous index writes for the ingest pipeline. Call from a blocking thread.
pub trait BlockingIndex: Send + Sync {
    /// The stored instance, if this SOP Instance UID is stored.
    fn find(&self, account: AccountId, sop_uid: &str) -> StoreResult<Option<FoundInstance>>;
    /// Same contract as [`Store::insert_instance`](crate::Store::insert_instance).
    fn insert_instance(&self, new: &NewInstance<'_>) -> StoreResult<InsertOutcome>;
    /// Points an instance at a new copy of its file (the old one was incomplete).
    fn replace_blob(&self, id: InstanceId, blob_key: &str, size_bytes: i64) -> StoreResult<()>;
    /// Removes an instance row that was just inserted but whose file could not
    /// be made durable (no success was sent for it), with the series, study
    /// and patient rows its insert created if nothing else uses them.
    fn delete_instance(&self, id: InstanceId) -> StoreResult<()>;
    /// The most recently inserted instances, newest first.
    fn latest_instances(&self, limit: usize) -> StoreResult<Vec<FoundInstance>>;
}

pub struct SqliteBlockingIndex {
    conn: Mutex<Connection>,
    /// Tells the checkpoint thread to stop when the index goes away.
    _checkpointer: Arc<()>,
}

/// How often the background thread copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

impl SqliteBlockingIndex {
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db)?;
        // The same settings as the sqlx connections (see `SqliteStore::connect`):
        // an acknowledged instance's row must survive power loss.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA case_sensitive_like = ON;",
        )
        .map_err(db)?;
        // Checkpoints move to a background thread: SQLite would otherwise run
        // one inside every thousandth page's commit, i.e. inside an ingest
        // that a device is waiting on.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(db)?;
        let alive = Arc::new(());
        spawn_checkpointer(path, Arc::downgrade(&alive))?;
        Ok(SqliteBlockingIndex { conn: Mutex::new(conn), _checkpointer: alive })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic mid-transaction drops the Transaction, which rolls back; the
        // connection itself is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl BlockingIndex for SqliteBlockingIndex {
    fn find(&self, account: AccountId, sop_uid: &str) -> StoreResult<Option<FoundInstance>> {
        let conn = self.lock();
        find(&conn, account.0, sop_uid)
    }

    fn replace_blob(&self, id: InstanceId, blob_key: &str, size_bytes: i64) -> StoreResult<()> {
        let conn = self.lock();
        conn.prepare_cached(q::REPLACE_INSTANCE_BLOB)
            .map_err(db)?
            .execute(params![blob_key, size_bytes, id.0])
            .map_err(db)?;
        Ok(())
    }

    fn delete_instance(&self, id: InstanceId) -> StoreResult<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let refs: Option<(i64, i64)> = tx
            .prepare_cached(q::DELETE_INSTANCE)
            .map_err(db)?
            .query_row(params![id.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        if let Some((series, study)) = refs {
            tx.execute(q::DELETE_SERIES_IF_EMPTY, params![series]).map_err(db)?;
            tx.execute(q::DELETE_CONTACTS_IF_STUDY_EMPTY, params![study]).map_err(db)?;
            let patient: Option<i64> =
                tx.query_row(q::DELETE_STUDY_IF_EMPTY, params![study], |r| r.get(0)).optional().map_err(db)?;
            if let Some(patient) = patient {
                tx.execute(q::DELETE_PATIENT_IF_EMPTY, params![patient]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn latest_instances(&self, limit: usize) -> StoreResult<Vec<FoundInstance>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(q::LATEST_INSTANCES).map_err(db)?;
        let rows = stmt
            .query_map(params![limit as i64], |r| {
                Ok(FoundInstance {
                    id: InstanceId(r.get(0)?),
                    account: AccountId(r.get(1)?),
                    blob_key: r.get(2)?,
                    size_bytes: r.get(3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn insert_instance(&self, new: &NewInstance<'_>) -> StoreResult<InsertOutcome> {
        let mut conn = self.lock();
        let account = new.account_id.0;
        let (p, st, se, inst) = (&new.meta.patient, &new.meta.study, &new.meta.series, &new.meta.instance);
        let now = now_millis();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;

        let existing: Option<(i64, String)> = tx
            .prepare_cached(q::STUDY_PATIENT)
            .map_err(db)?
            .query_row(params![account, st.study_uid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        let patient_key = p.key();
        let patient_ref: i64 = match existing {
            // As in the async path: the study keeps its first instance's patient.
            Some((patient_ref, key)) if key != patient_key => patient_ref,
            _ => tx
                .prepare_cached(q::UPSERT_PATIENT)
                .map_err(db)?
                .query_row(
                    params![
                        account,
                        patient_key,
                        text(&p.patient_id),
                        text(&p.issuer),
                        text(&p.name),
                        text(&p.name).map(fold_case),
                        text(&p.birth_date),
                        text(&p.sex),
                        now
                    ],
                    |r| r.get(0),
                )
                .map_err(db)?,
        };
        let study_ref: i64 = tx
            .prepare_cached(q::UPSERT_STUDY)
            .map_err(db)?
            .query_row(
                params![
                    account,
                    patient_ref,
                    st.study_uid,
                    text(&st.study_id),
                    text(&st.accession),
                    text(&st.date),
                    text(&st.time),
                    text(&st.description),
                    text(&st.referring_physician),
                    now
                ],
                |r| r.get(0),
            )
            .map_err(db)?;
        let (series_ref, study_ref): (i64, i64) = tx
            .prepare_cached(q::UPSERT_SERIES)
            .map_err(db)?
            .query_row(
                params![account, study_ref, se.series_uid, text(&se.modality), se.number, text(&se.description)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        let inserted: Option<i64> = tx
            .prepare_cached(q::INSERT_INSTANCE)
            .map_err(db)?
            .query_row(
                params![
                    account,
                    study_ref,
                    series_ref,
                    inst.sop_uid,
                    inst.sop_class_uid,
                    inst.transfer_syntax,
                    inst.number,
                    inst.frames,
                    inst.rows,
                    inst.columns,
                    new.size_bytes,
                    new.blob_key,
                    new.source.as_str(),
                    new.received_from,
                    now
                ],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let Some(id) = inserted else {
            // Stored meanwhile (by the other writer): undo the upserts so a
            // duplicate changes nothing.
            tx.rollback().map_err(db)?;
            return match find(&conn, account, &inst.sop_uid)? {
                Some(found) => Ok(InsertOutcome::Duplicate { id: found.id, blob_key: found.blob_key }),
                None => Err(StoreError::NotFound(format!("instance row lost for {}", inst.sop_uid))),
            };
        };
        {
            let mut add = tx.prepare_cached(q::INSERT_CONTACT).map_err(db)?;
            for c in &new.meta.contacts {
                let value = c.value.trim();
                if !value.is_empty() {
                    add.execute(params![study_ref, c.kind.as_str(), value, c.source_tag]).map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)?;
        Ok(InsertOutcome::Inserted(InstanceId(id)))
    }
}

fn spawn_checkpointer(path: &Path, alive: Weak<()>) -> StoreResult<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(db)?;
    conn.busy_timeout(Duration::from_secs(1)).map_err(db)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_EVERY);
                // PASSIVE never blocks writers or readers; what it can't copy
                // now it copies next time.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!(error = %e, "WAL checkpoint skipped");
                }
            }
        })?;
    Ok(())
}

fn find(conn: &Connection, account: i64, sop_uid: &str) -> StoreResult<Option<FoundInstance>> {
    conn.prepare_cached(q::INSTANCE_KEY_BY_SOP)
        .map_err(db)?
        .query_row(params![account, sop_uid], |r| {
            Ok(FoundInstance { id: InstanceId(r.get(0)?), account: AccountId(account), blob_key: r.get(1)?, size_bytes: r.get(2)? })
        })
        .optional()
        .map_err(db)
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}
