//! QIDO-RS matching and ordering. Expected results are exact lists, so both
//! backends must also agree on order (including NULL dates).

use studylink_model::*;
use studylink_store::{DateRange, InstanceQuery, Page, SeriesQuery, Store, StudyQuery};

use crate::support::*;

struct Fixture {
    uid: &'static str,
    pid: &'static str,
    name: &'static str,
    date: Option<&'static str>,
    time: Option<&'static str>,
    accession: Option<&'static str>,
    modality: Option<&'static str>,
}

/// In expected list order: date DESC, time DESC, NULL dates last, then most
/// recently received first.
const STUDIES: &[Fixture] = &[
    Fixture {
        uid: "1.1",
        pid: "P1",
        name: "GARCIA^ANA",
        date: Some("20240310"),
        time: Some("101500"),
        accession: Some("ACC-1"),
        modality: None,
    },
    Fixture {
        uid: "1.5",
        pid: "P5",
        name: "JAN^X",
        date: Some("20240310"),
        time: Some("090000"),
        accession: None,
        modality: None,
    },
    Fixture {
        uid: "1.6",
        pid: "P6",
        name: "JON^Y",
        date: Some("20240310"),
        time: None,
        accession: None,
        modality: Some("OT"),
    },
    Fixture {
        uid: "1.2",
        pid: "P2",
        name: "GARCÍA^JOSÉ",
        date: Some("20240115"),
        time: None,
        accession: Some("ACC-2"),
        modality: Some("US"),
    },
    Fixture {
        uid: "1.4",
        pid: "P4",
        name: "LOPEZ^JUAN",
        date: None,
        time: None,
        accession: Some("ACC%4"),
        modality: Some("CT"),
    },
    Fixture {
        uid: "1.3",
        pid: "p3x",
        name: "MARTINEZ^ANA",
        date: None,
        time: None,
        accession: Some("ACC_3"),
        modality: Some("CR"),
    },
];

async fn load(store: &dyn Store, acc: AccountId) {
    // Insert in an order unlike the expected one; 1.3 before 1.4 so that 1.4
    // is the more recently received of the two undated studies.
    for uid in ["1.3", "1.2", "1.6", "1.4", "1.5"] {
        let f = STUDIES.iter().find(|f| f.uid == uid).unwrap();
        let mut st = study(f.uid);
        st.date = f.date.map(Into::into);
        st.time = f.time.map(Into::into);
        st.accession = f.accession.map(Into::into);
        let m = meta(
            patient(Some(f.pid), Some(f.name)),
            st,
            series(&format!("{uid}.1"), f.modality, None),
            &format!("{uid}.1.1"),
            None,
        );
        insert_new(store, acc, &m).await;
    }
    // 1.1 has three series: CT #2 (two instances), MR #1, SR without a number.
    let mut p = patient(Some("P1"), Some("GARCIA^ANA"));
    p.birth_date = s("19700101");
    p.sex = s("F");
    let mut st = study("1.1");
    st.date = s("20240310");
    st.time = s("101500");
    st.accession = s("ACC-1");
    st.study_id = s("S1");
    st.description = s("CT Chest");
    st.referring_physician = s("DR^WHO");
    let ct = series("1.1.1", Some("CT"), Some(2));
    let mr = series("1.1.2", Some("MR"), Some(1));
    let sr = series("1.1.3", Some("SR"), None);
    let mut sr_meta = meta(p.clone(), st.clone(), sr, "1.1.3.1", None);
    sr_meta.instance.sop_class_uid = "1.2.840.10008.5.1.4.1.1.88.11".into();
    for m in [
        meta(p.clone(), st.clone(), ct.clone(), "1.1.1.2", Some(2)),
        meta(p.clone(), st.clone(), mr, "1.1.2.1", Some(1)),
        sr_meta,
        meta(p.clone(), st.clone(), ct, "1.1.1.1", Some(1)),
    ] {
        insert_new(store, acc, &m).await;
    }
}

async fn uids(store: &dyn Store, acc: AccountId, q: StudyQuery) -> Vec<String> {
    store
        .query_studies(acc, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.study_uid)
        .collect()
}

fn name(v: &str) -> StudyQuery {
    StudyQuery {
        patient_name: s(v),
        ..Default::default()
    }
}
fn pid(v: &str) -> StudyQuery {
    StudyQuery {
        patient_id: s(v),
        ..Default::default()
    }
}
fn accession(v: &str) -> StudyQuery {
    StudyQuery {
        accession: s(v),
        ..Default::default()
    }
}
fn dates(from: Option<&str>, to: Option<&str>) -> StudyQuery {
    let range = DateRange {
        from: from.map(Into::into),
        to: to.map(Into::into),
    };
    StudyQuery {
        study_date: Some(range),
        ..Default::default()
    }
}
fn page(limit: i64, offset: i64) -> StudyQuery {
    StudyQuery {
        page: Page { limit, offset },
        ..Default::default()
    }
}

/// Loads the fixture into a new account and returns it.
pub async fn studies(store: &dyn Store) -> AccountId {
    let acc = store.create_account("Query").await.unwrap().id;
    load(store, acc).await;
    // Same UID in another clinic: invisible here.
    let other = store.create_account("Query other").await.unwrap().id;
    let m = meta(
        patient(Some("P1"), Some("GARCIA^ANA")),
        study("1.1"),
        series("1.1.1", Some("CT"), None),
        "1.1.1.1",
        None,
    );
    insert_new(store, other, &m).await;
    assert_eq!(uids(store, other, StudyQuery::default()).await, ["1.1"]);

    let all: Vec<&str> = STUDIES.iter().map(|f| f.uid).collect();
    let cases: Vec<(&str, StudyQuery, Vec<&str>)> = vec![
        ("no filter: full order", StudyQuery::default(), all.clone()),
        ("prefix wildcard", name("GARCIA*"), vec!["1.1"]),
        ("non-ASCII is folded too", name("garcía*"), vec!["1.2"]),
        ("non-ASCII upper", name("GARCÍA^JOSÉ"), vec!["1.2"]),
        (
            "? is one character, also non-ASCII",
            name("GARC?A*"),
            vec!["1.1", "1.2"],
        ),
        (
            "substring, case-insensitive",
            name("*ana*"),
            vec!["1.1", "1.3"],
        ),
        ("exact, case-insensitive", name("garcia^ana"), vec!["1.1"]),
        (
            "no wildcard matches the whole value",
            name("GARCIA"),
            vec![],
        ),
        ("two ?", name("J?N^*"), vec!["1.5", "1.6"]),
        ("* alone is universal", name("*"), all.clone()),
        ("empty is universal", name(""), all.clone()),
        ("patient id exact", pid("P1"), vec!["1.1"]),
        ("patient id is case-sensitive", pid("p1"), vec![]),
        (
            "patient id ?",
            pid("P?"),
            vec!["1.1", "1.5", "1.6", "1.2", "1.4"],
        ),
        (
            "patient id wildcard is case-sensitive",
            pid("p3*"),
            vec!["1.3"],
        ),
        ("patient id ? is case-sensitive", pid("p?"), vec![]),
        (
            "accession exact with literal _",
            accession("ACC_3"),
            vec!["1.3"],
        ),
        ("literal _ before *", accession("ACC_*"), vec!["1.3"]),
        ("literal % before *", accession("ACC%*"), vec!["1.4"]),
        ("accession ?", accession("ACC-?"), vec!["1.1", "1.2"]),
        ("accession is case-sensitive", accession("acc-1"), vec![]),
        (
            "accession prefix",
            accession("ACC*"),
            vec!["1.1", "1.2", "1.4", "1.3"],
        ),
        (
            "accession wildcard is case-sensitive",
            accession("acc*"),
            vec![],
        ),
        (
            "uid",
            StudyQuery {
                study_uid: s("1.3"),
                ..Default::default()
            },
            vec!["1.3"],
        ),
        (
            "uid list",
            StudyQuery {
                study_uid: s("1.3,1.1"),
                ..Default::default()
            },
            vec!["1.1", "1.3"],
        ),
        (
            "uid list, DICOM separator",
            StudyQuery {
                study_uid: s("1.3\\1.2"),
                ..Default::default()
            },
            vec!["1.2", "1.3"],
        ),
        (
            "unknown uid",
            StudyQuery {
                study_uid: s("9.9"),
                ..Default::default()
            },
            vec![],
        ),
        (
            "from only",
            dates(Some("20240301"), None),
            vec!["1.1", "1.5", "1.6"],
        ),
        ("to only", dates(None, Some("20240200")), vec!["1.2"]),
        (
            "closed, inclusive",
            dates(Some("20240115"), Some("20240310")),
            vec!["1.1", "1.5", "1.6", "1.2"],
        ),
        (
            "single day",
            dates(Some("20240115"), Some("20240115")),
            vec!["1.2"],
        ),
        ("nothing in range", dates(Some("20250101"), None), vec![]),
        ("open both ends", dates(None, None), all.clone()),
        (
            "modality",
            StudyQuery {
                modality: s("CT"),
                ..Default::default()
            },
            vec!["1.1", "1.4"],
        ),
        (
            "modality of a second series",
            StudyQuery {
                modality: s("MR"),
                ..Default::default()
            },
            vec!["1.1"],
        ),
        (
            "absent modality",
            StudyQuery {
                modality: s("XA"),
                ..Default::default()
            },
            vec![],
        ),
        (
            "combined",
            StudyQuery {
                modality: s("MR"),
                ..name("*ana*")
            },
            vec!["1.1"],
        ),
        (
            "combined with date",
            StudyQuery {
                study_date: dates(Some("20240101"), None).study_date,
                ..name("*ANA")
            },
            vec!["1.1"],
        ),
        ("first page", page(2, 0), vec!["1.1", "1.5"]),
        ("second page", page(2, 2), vec!["1.6", "1.2"]),
        ("last page", page(2, 5), vec!["1.3"]),
        ("past the end", page(2, 6), vec![]),
        ("limit clamped to 1", page(0, 0), vec!["1.1"]),
        ("negative limit and offset", page(-5, -3), vec!["1.1"]),
        ("huge limit", page(1_000_000, 0), all.clone()),
    ];
    for (what, q, expected) in cases {
        assert_eq!(uids(store, acc, q).await, expected, "{what}");
    }

    let rows = store
        .query_studies(acc, &StudyQuery::default())
        .await
        .unwrap();
    let s1 = &rows[0];
    assert_eq!(s1.study_uid, "1.1");
    assert_eq!(s1.patient_name.as_deref(), Some("GARCIA^ANA"));
    assert_eq!(s1.patient_id.as_deref(), Some("P1"));
    assert_eq!(s1.patient_birth_date.as_deref(), Some("19700101"));
    assert_eq!(s1.patient_sex.as_deref(), Some("F"));
    assert_eq!(s1.study_id.as_deref(), Some("S1"));
    assert_eq!(s1.accession.as_deref(), Some("ACC-1"));
    assert_eq!(
        (s1.date.as_deref(), s1.time.as_deref()),
        (Some("20240310"), Some("101500"))
    );
    assert_eq!(s1.description.as_deref(), Some("CT Chest"));
    assert_eq!(s1.referring_physician.as_deref(), Some("DR^WHO"));
    assert_eq!(s1.modalities, ["CT", "MR", "SR"]);
    assert_eq!((s1.num_series, s1.num_instances), (3, 4));
    assert!(s1.received_at > 0);
    let s5 = &rows[1];
    assert_eq!(
        s5.modalities,
        Vec::<String>::new(),
        "series without a modality"
    );
    assert_eq!((s5.num_series, s5.num_instances), (1, 1));
    acc
}

/// `acc` holds the data `studies` loaded.
pub async fn series_and_instances(store: &dyn Store, acc: AccountId) {
    let series = |q: SeriesQuery| async move {
        let rows = store.query_series(acc, &q).await.unwrap();
        rows.into_iter().map(|r| r.series_uid).collect::<Vec<_>>()
    };
    let in_study = |uid: &str| SeriesQuery {
        study_uid: s(uid),
        ..Default::default()
    };
    assert_eq!(
        series(in_study("1.1")).await,
        ["1.1.2", "1.1.1", "1.1.3"],
        "by number, NULL last"
    );
    assert_eq!(
        series(SeriesQuery {
            modality: s("CT"),
            ..in_study("1.1")
        })
        .await,
        ["1.1.1"]
    );
    assert_eq!(
        series(SeriesQuery {
            series_uid: s("1.1.3"),
            ..Default::default()
        })
        .await,
        ["1.1.3"]
    );
    assert_eq!(
        series(SeriesQuery {
            series_uid: s("1.1.3,1.1.2"),
            ..Default::default()
        })
        .await,
        ["1.1.2", "1.1.3"]
    );
    assert_eq!(
        series(SeriesQuery {
            page: Page {
                limit: 1,
                offset: 1
            },
            ..in_study("1.1")
        })
        .await,
        ["1.1.1"]
    );
    assert_eq!(series(in_study("9.9")).await, Vec::<String>::new());
    assert_eq!(series(SeriesQuery::default()).await.len(), 8);

    let rows = store.query_series(acc, &in_study("1.1")).await.unwrap();
    let ct = &rows[1];
    assert_eq!(
        (ct.study_uid.as_str(), ct.modality.as_deref(), ct.number),
        ("1.1", Some("CT"), Some(2))
    );
    assert_eq!(
        rows.iter().map(|r| r.num_instances).collect::<Vec<_>>(),
        [1, 2, 1]
    );

    let instances = |q: InstanceQuery| async move {
        let rows = store.query_instances(acc, &q).await.unwrap();
        rows.into_iter().map(|r| r.sop_uid).collect::<Vec<_>>()
    };
    let study_q = InstanceQuery {
        study_uid: s("1.1"),
        ..Default::default()
    };
    assert_eq!(
        instances(study_q.clone()).await,
        ["1.1.1.1", "1.1.2.1", "1.1.1.2", "1.1.3.1"],
        "by number, then SOP UID, NULL last"
    );
    assert_eq!(
        instances(InstanceQuery {
            series_uid: s("1.1.1"),
            ..Default::default()
        })
        .await,
        ["1.1.1.1", "1.1.1.2"]
    );
    assert_eq!(
        instances(InstanceQuery {
            sop_uid: s("1.1.3.1"),
            ..Default::default()
        })
        .await,
        ["1.1.3.1"]
    );
    assert_eq!(
        instances(InstanceQuery {
            sop_uid: s("1.1.3.1,1.2.1.1"),
            ..Default::default()
        })
        .await,
        ["1.1.3.1", "1.2.1.1"]
    );
    let sr_class = s("1.2.840.10008.5.1.4.1.1.88.11");
    assert_eq!(
        instances(InstanceQuery {
            sop_class_uid: sr_class,
            ..study_q.clone()
        })
        .await,
        ["1.1.3.1"]
    );
    let mismatch = InstanceQuery {
        study_uid: s("1.2"),
        series_uid: s("1.1.1"),
        ..Default::default()
    };
    assert_eq!(instances(mismatch).await, Vec::<String>::new());
    let paged = InstanceQuery {
        page: Page {
            limit: 2,
            offset: 1,
        },
        ..study_q
    };
    assert_eq!(instances(paged).await, ["1.1.2.1", "1.1.1.2"]);

    let row = store
        .query_instances(
            acc,
            &InstanceQuery {
                sop_uid: s("1.1.1.2"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row[0].study_uid.as_str(),
            row[0].series_uid.as_str(),
            row[0].number
        ),
        ("1.1", "1.1.1", Some(2))
    );
}
