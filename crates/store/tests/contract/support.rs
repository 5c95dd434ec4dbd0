//! Test data builders and raw database access for the contract suite.

use sqlx::{Connection, Executor};
use studylink_model::*;
use std::sync::atomic::{AtomicBool, Ordering};

use studylink_store::{InsertOutcome, NewInstance, Store, StoreResult};

/// Inserts go through `Store::blocking_index` (the ingest pipeline's SQLite
/// path) instead of the async method, so the suite checks both write the same.
pub static VIA_BLOCKING_INDEX: AtomicBool = AtomicBool::new(false);

pub async fn insert_instance(store: &dyn Store, new: &NewInstance<'_>) -> StoreResult<InsertOutcome> {
    // Only SQLite files have the path; the flag is process-wide, so another
    // backend's suite running at the same time (plain `cargo test`) ignores it.
    if VIA_BLOCKING_INDEX.load(Ordering::SeqCst)
        && let Some(index) = store.blocking_index()
    {
        return tokio::task::block_in_place(|| index.insert_instance(new));
    }
    store.insert_instance(new).await
}

/// Direct SQL access to the database under test, for what the Store API
/// deliberately cannot do (tamper with the audit log, disable a user).
pub enum Raw {
    Sqlite(String),
    Pg(String),
}

impl Raw {
    pub async fn exec(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Raw::Sqlite(url) => {
                let mut c = sqlx::SqliteConnection::connect(url).await?;
                Ok(c.execute(sql).await?.rows_affected())
            }
            Raw::Pg(url) => {
                let mut c = sqlx::PgConnection::connect(url).await?;
                Ok(c.execute(sql).await?.rows_affected())
            }
        }
    }
}

pub fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

pub fn patient(id: Option<&str>, name: Option<&str>) -> PatientInfo {
    PatientInfo {
        patient_id: id.map(Into::into),
        name: name.map(Into::into),
        ..Default::default()
    }
}

pub fn study(uid: &str) -> StudyInfo {
    StudyInfo {
        study_uid: uid.into(),
        ..Default::default()
    }
}

pub fn series(uid: &str, modality: Option<&str>, number: Option<i64>) -> SeriesInfo {
    SeriesInfo {
        series_uid: uid.into(),
        modality: modality.map(Into::into),
        number,
        description: None,
    }
}

pub fn meta(
    p: PatientInfo,
    st: StudyInfo,
    se: SeriesInfo,
    sop: &str,
    number: Option<i64>,
) -> InstanceMeta {
    InstanceMeta {
        patient: p,
        study: st,
        series: se,
        instance: InstanceInfo {
            sop_uid: sop.into(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            number,
            frames: 1,
            rows: Some(512),
            columns: Some(256),
        },
        contacts: Vec::new(),
    }
}

pub fn blob_key(sop: &str) -> String {
    format!("originals/test/{sop}.dcm")
}

pub async fn insert(store: &dyn Store, account: AccountId, m: &InstanceMeta) -> InsertOutcome {
    let key = blob_key(&m.instance.sop_uid);
    insert_instance(
        store,
        &NewInstance {
            account_id: account,
            meta: m,
            blob_key: &key,
            size_bytes: 1234,
            source: IngestSource::Dimse,
            received_from: "CT_SCANNER",
        },
    )
    .await
    .unwrap()
}

pub async fn insert_new(store: &dyn Store, account: AccountId, m: &InstanceMeta) -> InstanceId {
    match insert(store, account, m).await {
        InsertOutcome::Inserted(id) => id,
        other => panic!("{}: expected Inserted, got {other:?}", m.instance.sop_uid),
    }
}
