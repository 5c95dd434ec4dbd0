//! SQLite and PostgreSQL implementations of [`crate::Store`].
//!
//! Both run the same SQL text (`queries.rs`, `filter.rs`) through the same method
//! bodies (`store_impl.rs`, `ingest.rs`); only connection setup, `begin_write`
//! and the migrations differ.

#[macro_use]
mod store_impl;
#[macro_use]
mod ingest;
#[macro_use]
mod settings;
mod blocking;
mod filter;
mod outbox;
mod queries;
mod rows;
mod search;
mod share;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};
use studylink_model::*;

use crate::query::{
    InstanceQuery, InstanceRow, SeriesQuery, SeriesRow, StudyQuery, StudyRow, StudySearch,
    StudySearchPage,
};
use crate::{InsertOutcome, NewInstance, Store, StoreError, StoreResult};
use filter::{Arg, Sql, fold_case};
use queries as q;
use rows::*;

pub use blocking::{BlockingIndex, FoundInstance};
pub use outbox::connect_with_outbox;
pub use search::search_terms;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

const DEFAULT_ACCOUNT_NAME: &str = "Default";
const SQLITE_READERS: u32 = 4;
const PG_CONNECTIONS: u32 = 16;

/// Opens the store a `database.url` names: `sqlite://path` (created if missing) or
/// `postgres://…`, and migrates it.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(PgStore::connect(url).await?)
    } else {
        // Only the scheme: the rest of a URL may hold a password.
        let scheme = url.split_once(':').map_or("(none)", |(s, _)| s);
        return Err(StoreError::Config(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite://path/to/file.db, \
             sqlite::memory: or postgres://user@host/db"
        )));
    };
    store.migrate().await?;
    tracing::info!(backend = store.backend(), "metadata store ready");
    Ok(store)
}

/// SQLite: one writer connection (writes queue in the pool instead of failing with
/// SQLITE_BUSY) and a few read-only readers, which WAL lets run alongside it.
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    /// For database files (not `:memory:`, where another connection would see
    /// another database).
    blocking: Option<Arc<dyn BlockingIndex>>,
}

impl SqliteStore {
    /// Opens (creating file and parent directories if needed) without migrating;
    /// [`connect`] also migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            // 1 KiB pages for a new database (an existing one keeps its own):
            // an ingest commit rewrites every B-tree page it touches, ~20 per
            // new study, into the WAL; smaller pages made a burst of 1,000
            // instances 10-15% faster end to end (6 of 6 paired runs), with the
            // Studies screen's queries as fast as before (search_bench).
            .page_size(1024)
            .journal_mode(SqliteJournalMode::Wal)
            // An ingest is acknowledged once its row is committed; FULL makes that
            // commit survive power loss, not just a process crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // DICOM matching of IDs and accession numbers is case-sensitive, as
            // PostgreSQL's LIKE is (PatientName is case-folded in Rust instead).
            .pragma("case_sensitive_like", "ON");

        if is_memory(url) {
            // Every connection would see its own empty database: use exactly one,
            // and keep it open forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            return Ok(SqliteStore {
                read: pool.clone(),
                write: pool,
                blocking: None,
            });
        }

        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(SQLITE_READERS)
            .connect_with(options.clone().pragma("query_only", "ON"))
            .await?;
        let path = options.get_filename().to_path_buf();
        let blocking = tokio::task::spawn_blocking(move || blocking::SqliteBlockingIndex::open(&path))
            .await
            .map_err(std::io::Error::other)??;
        Ok(SqliteStore { read, write, blocking: Some(Arc::new(blocking)) })
    }

    /// IMMEDIATE takes the write lock up front: a deferred transaction that reads
    /// and then writes can fail with SQLITE_BUSY when another process wrote in
    /// between, and busy_timeout cannot help with that.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

pub struct PgStore {
    /// Both name the same pool; the split exists for SQLite.
    read: PgPool,
    write: PgPool,
    blocking: Option<Arc<dyn BlockingIndex>>,
}

impl PgStore {
    /// Connects without migrating; [`connect`] also migrates.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(PG_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(PgStore {
            read: pool.clone(),
            write: pool,
            blocking: None,
        })
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.write.begin().await?)
    }
}

impl_store!(SqliteStore, "sqlite", SQLITE_MIGRATOR);
impl_store!(PgStore, "postgres", PG_MIGRATOR);
impl_ingest!(SqliteStore, Sqlite);
impl_ingest!(PgStore, Postgres);
impl_settings!(SqliteStore, Sqlite);
impl_settings!(PgStore, Postgres);

/// Unique-constraint violations become `Conflict`; everything else stays a database error.
fn conflict(e: sqlx::Error, what: &str) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what.to_owned()),
        _ => StoreError::Database(e),
    }
}

/// DICOM leaves empty values empty; store them as NULL so "fill in NULLs" and
/// `IS NULL` mean the same thing for every source.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}
