//! The Studies screen's search (`search_studies`) and thumbnails
//! (`study_previews`): the same words find the same studies, in the same
//! order, on both backends.

use studylink_model::*;
use studylink_store::{DateRange, InstanceRow, Page, Store, StudySearch};

use crate::support::*;

struct Row {
    uid: &'static str,
    pid: Option<&'static str>,
    name: Option<&'static str>,
    date: Option<&'static str>,
    accession: Option<&'static str>,
    modality: &'static str,
}

/// In list order (newest first, undated last).
const ROWS: &[Row] = &[
    Row {
        uid: "9.1",
        pid: Some("PAT-001"),
        name: Some("GARCÍA^ANA MARÍA"),
        date: Some("20240310"),
        accession: Some("ACC-100"),
        modality: "US",
    },
    Row {
        uid: "9.2",
        pid: Some("P2"),
        name: Some("GARCIA^JOSE"),
        date: Some("20240115"),
        accession: Some("X9"),
        modality: "CT",
    },
    Row {
        uid: "9.3",
        pid: Some("12345"),
        name: Some("MARTINEZ^ANA"),
        date: Some("20231201"),
        accession: None,
        modality: "MR",
    },
    Row {
        uid: "9.4",
        pid: Some("P4"),
        name: None,
        date: None,
        accession: Some("acc-200"),
        modality: "US",
    },
];

async fn load(store: &dyn Store, acc: AccountId) {
    for r in ROWS {
        let mut st = study(r.uid);
        st.date = r.date.map(Into::into);
        st.accession = r.accession.map(Into::into);
        let m = meta(
            patient(r.pid, r.name),
            st,
            series(&format!("{}.1", r.uid), Some(r.modality), Some(1)),
            &format!("{}.1.1", r.uid),
            Some(1),
        );
        insert_new(store, acc, &m).await;
    }
}

fn text(t: &str) -> StudySearch {
    StudySearch { text: Some(t.into()), ..Default::default() }
}

async fn uids(store: &dyn Store, acc: AccountId, q: &StudySearch) -> Vec<String> {
    let page = store.search_studies(acc, q).await.unwrap();
    let uids: Vec<String> = page.rows.into_iter().map(|r| r.study_uid).collect();
    // With the default page size, the count is the number of rows.
    assert_eq!(page.total, uids.len() as i64, "{q:?}");
    uids
}

pub async fn studies(store: &dyn Store) {
    let acc = store.create_account("Search").await.unwrap().id;
    load(store, acc).await;
    // Another clinic's GARCIA never shows up here, nor ours there.
    let other = store.create_account("Search other").await.unwrap().id;
    let m = meta(
        patient(Some("PAT-001"), Some("GARCIA^ANA")),
        study("9.9"),
        series("9.9.1", Some("US"), None),
        "9.9.1.1",
        None,
    );
    insert_new(store, other, &m).await;
    assert_eq!(uids(store, other, &text("garcia")).await, ["9.9"]);
    assert_eq!(uids(store, other, &text("martinez")).await, Vec::<String>::new());

    let all = vec!["9.1", "9.2", "9.3", "9.4"];
    let cases: Vec<(&str, StudySearch, Vec<&str>)> = vec![
        ("no words: everything", StudySearch::default(), all.clone()),
        ("blank and separators only", text("  ^ - "), all.clone()),
        ("family then given", text("garcia ana"), vec!["9.1"]),
        ("given then family", text("ana garcia"), vec!["9.1"]),
        ("prefixes of both", text("gar an"), vec!["9.1"]),
        ("prefix of the family", text("GARC"), vec!["9.1", "9.2"]),
        ("second given name", text("maria"), vec!["9.1"]),
        ("accented query, plain index", text("JOSÉ"), vec!["9.2"]),
        ("plain query, accented index", text("garcia maria"), vec!["9.1"]),
        ("DICOM form pasted", text("GARCIA^ANA"), vec!["9.1"]),
        ("given name shared by two", text("ana"), vec!["9.1", "9.3"]),
        ("not a word start", text("arcia"), vec![]),
        ("one word does not match", text("garcia pedro"), vec![]),
        ("patient ID", text("12345"), vec!["9.3"]),
        ("patient ID prefix", text("123"), vec!["9.3"]),
        ("patient ID with separator", text("pat-001"), vec!["9.1"]),
        ("patient ID part", text("001"), vec!["9.1"]),
        ("accession, any case", text("ACC-200"), vec!["9.4"]),
        ("accession prefix", text("acc"), vec!["9.1", "9.4"]),
        ("name and accession", text("ana acc"), vec!["9.1"]),
    ];
    for (what, q, want) in cases {
        assert_eq!(uids(store, acc, &q).await, want, "{what}");
    }

    let range = |from: Option<&str>, to: Option<&str>| DateRange {
        from: from.map(Into::into),
        to: to.map(Into::into),
    };
    let filtered: Vec<(&str, StudySearch, Vec<&str>)> = vec![
        (
            "from a date (undated studies excluded)",
            StudySearch { date: Some(range(Some("20240115"), None)), ..Default::default() },
            vec!["9.1", "9.2"],
        ),
        (
            "up to a date, inclusive",
            StudySearch { date: Some(range(None, Some("20240115"))), ..Default::default() },
            vec!["9.2", "9.3"],
        ),
        (
            "a closed range",
            StudySearch { date: Some(range(Some("20231201"), Some("20231231"))), ..Default::default() },
            vec!["9.3"],
        ),
        ("modality", StudySearch { modality: Some("US".into()), ..Default::default() }, vec!["9.1", "9.4"]),
        (
            "words and modality",
            StudySearch { text: Some("ana".into()), modality: Some("MR".into()), ..Default::default() },
            vec!["9.3"],
        ),
        ("unknown modality", StudySearch { modality: Some("XA".into()), ..Default::default() }, vec![]),
    ];
    for (what, q, want) in filtered {
        assert_eq!(uids(store, acc, &q).await, want, "{what}");
    }

    // Paging: the count covers every match, the rows only the page.
    let q = StudySearch { page: Page { limit: 1, offset: 1 }, ..text("garc") };
    let page = store.search_studies(acc, &q).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.rows.iter().map(|r| r.study_uid.as_str()).collect::<Vec<_>>(), ["9.2"]);
    let row = &page.rows[0];
    assert_eq!(row.patient_name.as_deref(), Some("GARCIA^JOSE"));
    assert_eq!(row.modalities, ["CT"]);
    assert_eq!(row.num_instances, 1);

    // Values that arrive with a later instance (the first had none) are
    // searchable too: the study's accession, the patient's name.
    let mut st = study("9.3");
    st.accession = Some("LATE-7".into());
    let m = meta(patient(Some("12345"), Some("MARTINEZ^ANA")), st, series("9.3.1", Some("MR"), Some(1)), "9.3.1.2", Some(2));
    insert_new(store, acc, &m).await;
    assert_eq!(uids(store, acc, &text("late 7")).await, ["9.3"]);
    assert_eq!(uids(store, acc, &text("martinez")).await, ["9.3"], "old terms kept");
    let m = meta(patient(Some("P4"), Some("NÚÑEZ^PEDRO")), study("9.4"), series("9.4.1", Some("US"), Some(1)), "9.4.1.2", Some(2));
    insert_new(store, acc, &m).await;
    assert_eq!(uids(store, acc, &text("pedro nunez")).await, ["9.4"]);
    assert_eq!(uids(store, acc, &text("acc-200")).await, ["9.4"], "accession kept");
}

pub async fn previews(store: &dyn Store) {
    let acc = store.create_account("Previews").await.unwrap().id;
    let p = patient(Some("PV"), Some("PREVIEW^PAT"));
    // Series 1: three images; series 2: one image; series 3: a report (no pixels).
    let s1 = series("8.1.1", Some("US"), Some(1));
    let s2 = series("8.1.2", Some("US"), Some(2));
    let s3 = series("8.1.3", Some("SR"), Some(3));
    let mut report = meta(p.clone(), study("8.1"), s3, "8.1.3.1", Some(1));
    report.instance.rows = None;
    report.instance.columns = None;
    for m in [
        report,
        meta(p.clone(), study("8.1"), s1.clone(), "8.1.1.3", Some(3)),
        meta(p.clone(), study("8.1"), s1.clone(), "8.1.1.1", Some(1)),
        meta(p.clone(), study("8.1"), s2, "8.1.2.1", Some(1)),
        meta(p.clone(), study("8.1"), s1, "8.1.1.2", Some(2)),
        meta(p.clone(), study("8.2"), series("8.2.1", Some("CT"), None), "8.2.1.1", None),
    ] {
        insert_new(store, acc, &m).await;
    }
    let sops = |rows: Vec<InstanceRow>| rows.into_iter().map(|r| r.sop_uid).collect::<Vec<_>>();
    let both = vec!["8.1".to_string(), "8.2".to_string()];
    // First of each series, images first; then second instances; reports last.
    let got = sops(store.study_previews(acc, &both, 3).await.unwrap());
    assert_eq!(got, ["8.1.1.1", "8.1.2.1", "8.1.1.2", "8.2.1.1"]);
    let got = sops(store.study_previews(acc, &both[..1], 10).await.unwrap());
    assert_eq!(got, ["8.1.1.1", "8.1.2.1", "8.1.1.2", "8.1.1.3", "8.1.3.1"]);
    // Scoped to the account; empty input, empty output.
    let other = store.create_account("Previews other").await.unwrap().id;
    assert!(store.study_previews(other, &both, 3).await.unwrap().is_empty());
    assert!(store.study_previews(acc, &[], 3).await.unwrap().is_empty());
}
