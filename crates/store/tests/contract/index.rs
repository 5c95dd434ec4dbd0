//! insert_instance: idempotency, concurrency, upsert rules, contacts.

use std::sync::Arc;

use studylink_model::*;
use studylink_store::{InsertOutcome, NewInstance, SeriesQuery, Store, StudyQuery};

use crate::support::*;

async fn study_row(store: &dyn Store, account: AccountId, uid: &str) -> studylink_store::StudyRow {
    let q = StudyQuery {
        study_uid: s(uid),
        ..Default::default()
    };
    let mut rows = store.query_studies(account, &q).await.unwrap();
    assert_eq!(rows.len(), 1, "study {uid}");
    let row = rows.remove(0);
    // The same row by id, and only within its account.
    let by_id = StudyQuery { id: Some(row.id), ..Default::default() };
    assert_eq!(store.query_studies(account, &by_id).await.unwrap(), vec![row.clone()], "study {uid} by id");
    assert!(store.query_studies(AccountId(account.0 + 1_000_000), &by_id).await.unwrap().is_empty());
    row
}

pub async fn insert_and_duplicates(store: Arc<dyn Store>) {
    let acc = store.create_account("Insert").await.unwrap().id;
    let m = meta(
        patient(Some("P-DUP"), None),
        study("9.1"),
        series("9.1.1", Some("CT"), Some(1)),
        "9.1.1.1",
        Some(1),
    );
    let id = insert_new(&*store, acc, &m).await;

    let row = store
        .instance_by_sop(acc, "9.1.1.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.id, id);
    assert_eq!(
        (row.study_uid.as_str(), row.series_uid.as_str()),
        ("9.1", "9.1.1")
    );
    assert_eq!(row.sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
    assert_eq!(row.transfer_syntax, "1.2.840.10008.1.2.1");
    assert_eq!(
        (row.number, row.frames, row.rows, row.columns),
        (Some(1), 1, Some(512), Some(256))
    );
    assert_eq!(
        (row.size_bytes, row.blob_key.as_str()),
        (1234, "originals/test/9.1.1.1.dcm")
    );
    assert!(row.received_at > 0);
    assert_eq!(store.instance_by_sop(acc, "9.9.9").await.unwrap(), None);
    let other = store.create_account("Insert other").await.unwrap().id;
    assert_eq!(store.instance_by_sop(other, "9.1.1.1").await.unwrap(), None);

    // Resent with new header values and another blob: nothing changes.
    let mut again = m.clone();
    again.patient.name = s("NEW^NAME");
    again.study.accession = s("ACC-NEW");
    again.contacts.push(Contact {
        kind: ContactKind::Email,
        value: "x@y.test".into(),
        source_tag: "00102155".into(),
    });
    let out = insert_instance(
        &*store,
        &NewInstance {
            account_id: acc,
            meta: &again,
            blob_key: "originals/test/other.dcm",
            size_bytes: 99,
            source: IngestSource::Stow,
            received_from: "api",
        },
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        InsertOutcome::Duplicate {
            id,
            blob_key: "originals/test/9.1.1.1.dcm".into()
        }
    );
    assert_eq!(store.count_instances(acc).await.unwrap(), 1);
    let row = study_row(&*store, acc, "9.1").await;
    assert_eq!(
        (row.patient_name, row.accession),
        (None, None),
        "a duplicate changes nothing"
    );
    assert_eq!(store.study_contacts(acc, "9.1").await.unwrap(), vec![]);

    // The same SOP UID in another account is a different instance.
    assert_ne!(insert_new(&*store, other, &m).await, id);

    // Two connections insert the same new SOP UID at once: one wins, the other
    // sees a duplicate of the winner. Repeated to give the race a chance.
    for round in 0..10 {
        let m = meta(
            patient(Some("P-RACE"), None),
            study(&format!("9.2.{round}")),
            series(&format!("9.2.{round}.1"), Some("MR"), None),
            &format!("9.2.{round}.1.1"),
            None,
        );
        let (a, b) = (store.clone(), store.clone());
        let (ma, mb) = (m.clone(), m.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { insert(&*a, acc, &ma).await }),
            tokio::spawn(async move { insert(&*b, acc, &mb).await }),
        );
        match (ra.unwrap(), rb.unwrap()) {
            (InsertOutcome::Inserted(id), InsertOutcome::Duplicate { id: dup, blob_key })
            | (InsertOutcome::Duplicate { id: dup, blob_key }, InsertOutcome::Inserted(id)) => {
                assert_eq!(id, dup);
                assert_eq!(blob_key, blob_key_of(&m));
            }
            other => {
                panic!("round {round}: expected one Inserted and one Duplicate, got {other:?}")
            }
        }
        let row = study_row(&*store, acc, &format!("9.2.{round}")).await;
        assert_eq!((row.num_series, row.num_instances), (1, 1));
    }
}

fn blob_key_of(m: &InstanceMeta) -> String {
    blob_key(&m.instance.sop_uid)
}

pub async fn upsert_rules(store: &dyn Store) {
    let acc = store.create_account("Upsert").await.unwrap().id;
    let mut p = patient(Some("PX"), None);
    p.birth_date = s("19800101");
    let mut st = study("8.1");
    st.accession = s("");
    st.description = s("First");
    let mut m1 = meta(
        p,
        st,
        series("8.1.1", Some("CT"), Some(1)),
        "8.1.1.1",
        Some(1),
    );
    m1.series.description = s("Axial");
    insert_new(store, acc, &m1).await;

    // A later instance brings new values: NULLs are filled, the rest is kept.
    let mut m2 = m1.clone();
    m2.instance.sop_uid = "8.1.1.2".into();
    m2.patient.name = s("DOE^JANE");
    m2.patient.birth_date = s("19990101");
    m2.patient.sex = s("F");
    m2.study.accession = s("A9");
    m2.study.description = s("Second");
    m2.study.date = s("20240102");
    m2.series.modality = s("MR");
    m2.series.number = Some(5);
    m2.series.description = None;
    insert_new(store, acc, &m2).await;

    // Another instance of the study with a different patient: the study keeps
    // its first patient.
    let mut m3 = m2.clone();
    m3.instance.sop_uid = "8.1.1.3".into();
    m3.patient = patient(Some("OTHER"), Some("SMITH^JOHN"));
    insert_new(store, acc, &m3).await;

    let row = study_row(store, acc, "8.1").await;
    assert_eq!(row.patient_id.as_deref(), Some("PX"));
    assert_eq!(row.patient_name.as_deref(), Some("DOE^JANE"));
    assert_eq!(row.patient_birth_date.as_deref(), Some("19800101"));
    assert_eq!(row.patient_sex.as_deref(), Some("F"));
    assert_eq!(
        row.accession.as_deref(),
        Some("A9"),
        "empty strings count as NULL"
    );
    assert_eq!(row.description.as_deref(), Some("First"));
    assert_eq!(row.date.as_deref(), Some("20240102"));
    assert_eq!((row.num_series, row.num_instances), (1, 3));
    assert_eq!(row.modalities, vec!["CT"]);
    let q = SeriesQuery {
        study_uid: s("8.1"),
        ..Default::default()
    };
    let rows = store.query_series(acc, &q).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].modality.as_deref(), rows[0].number),
        (Some("CT"), Some(1))
    );
    assert_eq!(rows[0].description.as_deref(), Some("Axial"));
    let q = StudyQuery {
        patient_name: s("SMITH*"),
        ..Default::default()
    };
    assert!(store.query_studies(acc, &q).await.unwrap().is_empty());

    // A second study of the same patient (same key) shares the patient row and
    // sees its filled-in values.
    let m4 = meta(
        patient(Some("PX"), None),
        study("8.2"),
        series("8.2.1", Some("US"), None),
        "8.2.1.1",
        None,
    );
    insert_new(store, acc, &m4).await;
    let row = study_row(store, acc, "8.2").await;
    assert_eq!(row.patient_name.as_deref(), Some("DOE^JANE"));

    // Without a Patient ID, name + birth date identify the patient.
    let mut anon = patient(None, Some("NOID^PAT"));
    anon.birth_date = s("20000101");
    let m5 = meta(
        anon.clone(),
        study("8.3"),
        series("8.3.1", None, None),
        "8.3.1.1",
        None,
    );
    insert_new(store, acc, &m5).await;
    anon.sex = s("M");
    let m6 = meta(
        anon,
        study("8.4"),
        series("8.4.1", None, None),
        "8.4.1.1",
        None,
    );
    insert_new(store, acc, &m6).await;
    assert_eq!(
        study_row(store, acc, "8.3").await.patient_sex.as_deref(),
        Some("M")
    );
}

pub async fn contacts(store: &dyn Store) {
    let acc = store.create_account("Contacts").await.unwrap().id;
    let c = |kind, value: &str, tag: &str| Contact {
        kind,
        value: value.into(),
        source_tag: tag.into(),
    };
    let mut m1 = meta(
        patient(Some("PC"), None),
        study("7.1"),
        series("7.1.1", None, None),
        "7.1.1.1",
        None,
    );
    m1.contacts = vec![
        c(ContactKind::Phone, "+34 600 000 000", "00102154"),
        c(ContactKind::Email, "ana@example.test", "00102155"),
    ];
    insert_new(store, acc, &m1).await;
    let mut m2 = m1.clone();
    m2.instance.sop_uid = "7.1.1.2".into();
    m2.contacts = vec![
        c(ContactKind::Email, "other@example.test", "00102155"),
        c(ContactKind::Email, "ana@example.test", "00102155"),
        c(ContactKind::Phone, " +34 600 000 000 ", "00102154"),
        c(ContactKind::Phone, "   ", "00102154"),
        // Same text, other kind: a separate contact.
        c(ContactKind::Phone, "ana@example.test", "00102154"),
    ];
    insert_new(store, acc, &m2).await;
    let mut m3 = meta(
        patient(Some("PD"), None),
        study("7.2"),
        series("7.2.1", None, None),
        "7.2.1.1",
        None,
    );
    m3.contacts = vec![c(ContactKind::Email, "ana@example.test", "00102155")];
    insert_new(store, acc, &m3).await;

    assert_eq!(
        store.study_contacts(acc, "7.1").await.unwrap(),
        vec![
            c(ContactKind::Phone, "+34 600 000 000", "00102154"),
            c(ContactKind::Email, "ana@example.test", "00102155"),
            c(ContactKind::Email, "other@example.test", "00102155"),
            c(ContactKind::Phone, "ana@example.test", "00102154"),
        ]
    );
    assert_eq!(store.study_contacts(acc, "7.2").await.unwrap().len(), 1);
    assert_eq!(store.study_contacts(acc, "7.9").await.unwrap(), vec![]);
    let other = store.create_account("Contacts other").await.unwrap().id;
    assert_eq!(store.study_contacts(other, "7.1").await.unwrap(), vec![]);
}

/// Many associations storing one study at once: every insert lands, none fails
/// with a lock error.
pub async fn concurrent_inserts(store: Arc<dyn Store>) {
    let acc = store.create_account("Concurrent").await.unwrap().id;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let m = meta(
                    patient(Some("PCON"), Some("CON^CURRENT")),
                    study("6.1"),
                    series(&format!("6.1.{}", i % 4), Some("CT"), Some(i % 4)),
                    &format!("6.1.{}.{i}", i % 4),
                    Some(i),
                );
                insert_new(&*store, acc, &m).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.count_instances(acc).await.unwrap(), 40);
    let row = study_row(&*store, acc, "6.1").await;
    assert_eq!((row.num_series, row.num_instances), (4, 40));
}

pub async fn blob_keys_and_counts(store: &dyn Store) {
    let acc = store.create_account("Blob keys").await.unwrap().id;
    assert_eq!(store.count_instances(acc).await.unwrap(), 0);
    let m = meta(
        patient(Some("PB"), None),
        study("5.1"),
        series("5.1.1", None, None),
        "5.1.1.1",
        None,
    );
    insert_new(store, acc, &m).await;
    assert_eq!(store.count_instances(acc).await.unwrap(), 1);
    let keys = store.all_blob_keys().await.unwrap();
    assert!(keys.contains(&"originals/test/5.1.1.1.dcm".to_owned()));
    // Every account's instances are included.
    assert!(keys.contains(&"originals/test/9.1.1.1.dcm".to_owned()));
    assert!(keys.contains(&"originals/test/6.1.3.39.dcm".to_owned()));
}
