//! `spawn_app()`: the real router on 127.0.0.1:0 over a fresh SQLite database
//! and local blob store in a temp dir. Shared by the web integration suites.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use std::sync::atomic::AtomicI64;
use studylink_ingest::{DEFAULT_CONTACT_TAGS, IngestConfig, Ingestor};

use studylink_model::{AccountId, Clock};
use studylink_share::{ShareConfig, ShareService};
use studylink_store::{BlobConfig, BlobStore, OutboxStore, Store};
use studylink_web::{AppState, DeliveryChannels, StateInner, WebConfig};

/// The link key of every test server (tests compute tokens with it).
pub const TEST_LINK_KEY: [u8; 32] = [7; 32];

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub store: Arc<dyn Store>,
    pub ingest: Ingestor,
    pub account: AccountId,
    pub outbox: Arc<dyn OutboxStore>,
    pub shares: Arc<ShareService>,
    /// Added to the system clock by the server: move time forward in tests.
    pub clock_offset: Arc<AtomicI64>,
    pub dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(WebConfig::default()).await
}

pub async fn spawn_app_with(mut config: WebConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("studylink.db");
    let (store, outbox) = studylink_store::connect_with_outbox(&format!("sqlite://{}", db.display())).await.unwrap();
    let blobs = BlobStore::open(&BlobConfig::Local { root: dir.path().join("blobs") }).await.unwrap();
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    config.public_base_url = format!("http://{addr}");
    let clock_offset = Arc::new(AtomicI64::new(0));
    let clock = Clock::offset(clock_offset.clone());
    let shares = ShareService::new(
        store.clone(),
        outbox.clone(),
        blobs,
        ShareConfig { public_base_url: config.public_base_url.parse().unwrap(), link_key: TEST_LINK_KEY, workers: 2, text_finder: None },
        clock.clone(),
        None,
    );
    let state = AppState(Arc::new(StateInner {
        store: store.clone(),
        ingest: ingest.clone(),
        config,
        default_account: account,
        metrics: None,
        outbox: outbox.clone(),
        shares: shares.clone(),
        clock,
        delivery: DeliveryChannels::default(),
    }));
    let app = studylink_web::router(state);
    tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    TestApp { addr, base: format!("http://{addr}"), store, ingest, account, outbox, shares, clock_offset, dir }
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
