//! The Store contract: every assertion runs against SQLite and PostgreSQL, so
//! the two implementations cannot drift apart.
//!
//! PostgreSQL: `STUDYLINK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) must name a server where this
//! user may create databases; each run uses a fresh database and drops it.

// A crate root looks for `mod x;` next to itself; keep the parts in contract/
// so Cargo does not mistake them for test crates of their own.
#[path = "contract/auth.rs"]
mod auth;
#[path = "contract/index.rs"]
mod index;
#[path = "contract/query.rs"]
mod query;
#[path = "contract/search.rs"]
mod search;
#[path = "contract/settings.rs"]
mod settings;
#[path = "contract/support.rs"]
mod support;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use sqlx::{Connection, Executor};
use studylink_store::{Store, StoreError, connect};

use support::Raw;

/// The whole contract, in the order a real install meets it.
async fn contract(store: Arc<dyn Store>, raw: Raw) {
    store.ping().await.unwrap();
    // Migrating twice is a no-op (several nodes start at once).
    store.migrate().await.unwrap();
    auth::accounts(&*store).await;
    auth::users(&*store).await;
    auth::sessions(&*store, &raw).await;
    auth::setup_tokens(store.clone()).await;
    auth::login_failures(&*store).await;
    auth::api_keys(&*store).await;
    auth::audit_log(&*store, &raw).await;
    index::insert_and_duplicates(store.clone()).await;
    index::upsert_rules(&*store).await;
    index::contacts(&*store).await;
    index::concurrent_inserts(store.clone()).await;
    let query_account = query::studies(&*store).await;
    query::series_and_instances(&*store, query_account).await;
    index::blob_keys_and_counts(&*store).await;
    search::studies(&*store).await;
    search::previews(&*store).await;
    settings::defaults_and_round_trip(&*store, &raw).await;
    settings::link_code_versions(&*store).await;
    settings::concurrent_link_code_changes(store.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    // A missing parent directory must be created.
    let url = format!("sqlite://{}/nested/dir/contract.db", dir.path().display());
    let store = connect(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    contract(store, Raw::Sqlite(url)).await;

    // Again on a fresh database, writing instances the way the ingest pipeline
    // does on SQLite files: both paths must leave the same rows.
    let url = format!("sqlite://{}/blocking.db", dir.path().display());
    let store = connect(&url).await.unwrap();
    assert!(store.blocking_index().is_some(), "SQLite files have the synchronous ingest path");
    support::VIA_BLOCKING_INDEX.store(true, std::sync::atomic::Ordering::SeqCst);
    contract(store, Raw::Sqlite(url)).await;
    support::VIA_BLOCKING_INDEX.store(false, std::sync::atomic::Ordering::SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let admin_url = std::env::var("STUDYLINK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot connect to PostgreSQL at {admin_url}: {e}\n\
             Start the local cluster with\n    \
             pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n\
             or point STUDYLINK_TEST_PG_URL at a server where you may CREATE DATABASE."
            )
        });
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let db = format!(
        "studylink_test_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000
    );
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&db);
    let url = url.to_string();

    let result = AssertUnwindSafe(async {
        let store = connect(&url).await.unwrap();
        assert_eq!(store.backend(), "postgres");
        contract(store, Raw::Pg(url.clone())).await;
    })
    .catch_unwind()
    .await;

    let dropped = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {db} WITH (FORCE)"
        )))
        .await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    dropped.unwrap();
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = connect("sqlite::memory:").await.unwrap();
    let account = store.default_account().await.unwrap();
    assert_eq!(store.count_instances(account.id).await.unwrap(), 0);
    index::insert_and_duplicates(store).await;
}

#[tokio::test]
async fn unknown_url_scheme_is_a_config_error() {
    for url in [
        "mysql://root:secret@localhost/db",
        "/var/lib/studylink.db",
        "",
    ] {
        match connect(url).await {
            Err(StoreError::Config(msg)) => {
                assert!(msg.contains("sqlite://"), "{msg}");
                assert!(
                    !msg.contains("secret"),
                    "the message must not echo credentials: {msg}"
                );
            }
            Err(e) => panic!("{url}: expected a config error, got {e}"),
            Ok(_) => panic!("{url}: expected a config error"),
        }
    }
}
