//! `spawn_app()`: the real router on 127.0.0.1:0 over a fresh SQLite database
//! and local blob store in a temp dir. Shared by the web integration suites.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use studylink_ingest::{IngestConfig, Ingestor, DEFAULT_CONTACT_TAGS};
use studylink_model::AccountId;
use studylink_store::{BlobConfig, BlobStore, Store};
use studylink_web::{AppState, StateInner, WebConfig};

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub store: Arc<dyn Store>,
    pub ingest: Ingestor,
    pub account: AccountId,
    pub dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(WebConfig::default()).await
}

pub async fn spawn_app_with(mut config: WebConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("studylink.db");
    let store = studylink_store::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let blobs = BlobStore::open(&BlobConfig::Local { root: dir.path().join("blobs") }).await.unwrap();
    let ingest = Ingestor::new(
        store.clone(),
        blobs,
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
    let state = AppState(Arc::new(StateInner {
        store: store.clone(),
        ingest: ingest.clone(),
        config,
        default_account: account,
        metrics: None,
    }));
    let app = studylink_web::router(state);
    tokio::spawn(async move {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .unwrap();
    });
    TestApp { addr, base: format!("http://{addr}"), store, ingest, account, dir }
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
