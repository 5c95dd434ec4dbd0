//! Shared set-up for store test crates: a fresh PostgreSQL database per run,
//! and synthetic instances to share. (`tests/common/mod.rs` is not a test
//! crate of its own; a crate uses it with `mod common;`.)

#![allow(dead_code)] // Each test crate uses a different part.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sqlx::{Connection, Executor};
use studylink_model::*;
use studylink_store::{InsertOutcome, NewInstance, Store, StudyQuery};

/// Runs `test` against a new, empty database on the server that
/// `STUDYLINK_TEST_PG_URL` names (default
/// `postgres://postgres@127.0.0.1:5432/postgres`, whose user may CREATE
/// DATABASE), then drops it, whether `test` passed or panicked.
pub async fn with_fresh_pg<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
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

    let result = AssertUnwindSafe(test(url.to_string())).catch_unwind().await;

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

/// A minimal single-frame CT instance of `study_uid`, in a series of its own per study.
pub fn meta(study_uid: &str, sop_uid: &str) -> InstanceMeta {
    InstanceMeta {
        patient: PatientInfo {
            patient_id: Some("PAT-1".into()),
            name: Some("DOE^JANE".into()),
            ..Default::default()
        },
        study: StudyInfo {
            study_uid: study_uid.into(),
            ..Default::default()
        },
        series: SeriesInfo {
            series_uid: format!("{study_uid}.1"),
            modality: Some("CT".into()),
            number: Some(1),
            description: None,
        },
        instance: InstanceInfo {
            sop_uid: sop_uid.into(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            number: None,
            frames: 1,
            rows: Some(512),
            columns: Some(512),
        },
        contacts: Vec::new(),
    }
}

/// Stores `n` instances of a new study and returns the study's id and the
/// instances' ids in insertion order.
pub async fn study_with_instances(
    store: &dyn Store,
    account: AccountId,
    study_uid: &str,
    n: usize,
) -> (StudyId, Vec<InstanceId>) {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let m = meta(study_uid, &format!("{study_uid}.1.{i}"));
        let key = format!("originals/test/{study_uid}.{i}.dcm");
        let outcome = store
            .insert_instance(&NewInstance {
                account_id: account,
                meta: &m,
                blob_key: &key,
                size_bytes: 1000,
                source: IngestSource::Upload,
                received_from: "test",
            })
            .await
            .unwrap();
        match outcome {
            InsertOutcome::Inserted(id) => ids.push(id),
            other => panic!("{study_uid}: expected Inserted, got {other:?}"),
        }
    }
    let q = StudyQuery {
        study_uid: Some(study_uid.into()),
        ..Default::default()
    };
    let study = store.query_studies(account, &q).await.unwrap();
    assert_eq!(study.len(), 1, "{study_uid}");
    (study[0].id, ids)
}
