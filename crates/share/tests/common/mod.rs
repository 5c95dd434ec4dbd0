//! A share service over a real SQLite store and local blob store in a temp
//! dir, with corpus files ingested the way the server does.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use studylink_ingest::{DEFAULT_CONTACT_TAGS, IngestConfig, Ingested, Ingestor, Origin};
use studylink_model::{AccountId, Actor, Clock, IngestSource, NewUser, Role, ShareId, UserId};
use studylink_notify::{CountryCode, PatientContacts};
use studylink_share::{Requester, ShareConfig, ShareService};
use studylink_store::{BlobConfig, BlobStore, OutboxStore, Store};
use tokio::sync::Notify;
use url::Url;

pub const DAY_MS: i64 = 86_400_000;
pub const LINK_KEY: [u8; 32] = [0x42; 32];

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub outbox: Arc<dyn OutboxStore>,
    pub blobs: BlobStore,
    pub ingest: Ingestor,
    pub account: AccountId,
    pub shares: Arc<ShareService>,
    /// Added to the system clock by the service: move time forward in tests.
    pub offset: Arc<AtomicI64>,
    pub waker: Arc<Notify>,
    /// A staff member of the account, for `created_by`.
    pub user: UserId,
}

pub async fn env() -> Env {
    env_with(None).await
}

/// An environment whose shares read cleaned images with `finder`.
pub async fn env_with(text_finder: Option<Arc<dyn studylink_deid::TextFinder>>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("studylink.db");
    let (store, outbox) =
        studylink_store::connect_with_outbox(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
    let blobs = BlobStore::open(&BlobConfig::Local {
        root: dir.path().join("blobs"),
    })
    .await
    .unwrap();
    let ingest = Ingestor::new(
        store.clone(),
        blobs.clone(),
        IngestConfig {
            tmp_dir: dir.path().join("tmp"),
            max_instance_bytes: 64 * 1024 * 1024,
            contact_tags: DEFAULT_CONTACT_TAGS.to_vec(),
        },
    )
    .unwrap();
    let account = store.default_account().await.unwrap().id;
    let user = store
        .create_user(&NewUser {
            account_id: account,
            email: "ana@clinic.example".into(),
            password_hash: "$argon2id$x".into(),
            role: Role::Staff,
        })
        .await
        .unwrap()
        .id;
    let offset = Arc::new(AtomicI64::new(0));
    let waker = Arc::new(Notify::new());
    let shares = ShareService::new(
        store.clone(),
        outbox.clone(),
        blobs.clone(),
        ShareConfig {
            public_base_url: Url::parse("https://studies.clinic.example/").unwrap(),
            link_key: LINK_KEY,
            workers: 2,
            text_finder,
        },
        Clock::offset(offset.clone()),
        Some(waker.clone()),
    );
    Env {
        dir,
        store,
        outbox,
        blobs,
        ingest,
        account,
        shares,
        offset,
        waker,
        user,
    }
}

impl Env {
    pub async fn ingest(&self, rel: &str) -> Ingested {
        let origin = Origin {
            source: IngestSource::Import,
            received_from: "test".into(),
            actor: Actor::System,
            expected_sop_uid: None,
        };
        self.ingest
            .ingest_path(self.account, &corpus().join(rel), &origin)
            .await
            .unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn advance_days(&self, days: i64) {
        self.offset.fetch_add(days * DAY_MS, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.shares.clock().now()
    }

    /// Waits for the preparation task itself to end. `wait_ready` returns as
    /// soon as the state changes; the task writes its audit event just after.
    pub async fn settled(&self, id: ShareId) {
        for _ in 0..1000 {
            if self.shares.progress(id).is_none() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("share {id}: preparation task still running");
    }

    pub fn staff(&self) -> Requester {
        Requester {
            actor: Actor::User(self.user),
            label: "Ana López".into(),
        }
    }
}

pub fn contacts() -> PatientContacts {
    PatientContacts::parse("patient@example.org, 612 345 678", CountryCode::SPAIN).unwrap()
}

/// The shared test corpus (`../shared/corpus`, or `$STUDYLINK_CORPUS`).
pub fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("STUDYLINK_CORPUS") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        p.join("MANIFEST.tsv").exists(),
        "test corpus not found at {}: set STUDYLINK_CORPUS to the shared corpus folder",
        p.display()
    );
    p
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Width and height of a JPEG, which must decode.
pub fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.decode().expect("a JPEG that decodes");
    let info = d.info().unwrap();
    (info.width, info.height)
}
