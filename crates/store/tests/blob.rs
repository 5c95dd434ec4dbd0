//! BlobStore on the local filesystem and on a real S3-compatible server.
//!
//! The S3 test starts `moto_server` from the venv `STUDYLINK_VENV` (default
//! /var/tmp/studylink-venv, as scripts/test installs it) on a free loopback port,
//! or uses `STUDYLINK_TEST_S3_ENDPOINT` (a server that accepts any credentials
//! and unsigned bucket creation, e.g. a running moto_server).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::{ObjectStoreExt, aws::AmazonS3Builder, path::Path as ObjectPath};
use studylink_store::{BlobConfig, BlobStore, StoreError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BUCKET: &str = "studylink-test";

fn write_tmp(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

/// Deterministic, incompressible-looking bytes.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

async fn read_stream(blobs: &BlobStore, key: &str) -> (Vec<u8>, usize) {
    let chunks: Vec<Bytes> = blobs
        .get_stream(key)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    (chunks.concat(), chunks.len())
}

#[tokio::test]
async fn local() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data/blobs");
    let tmp_dir = dir.path().join("data/tmp");
    std::fs::create_dir_all(&tmp_dir).unwrap();
    let blobs = BlobStore::open(&BlobConfig::Local { root: root.clone() })
        .await
        .unwrap();
    assert!(root.is_dir(), "open creates the root");

    let key = "originals/1/0f/0f3c.dcm";
    let tmp = write_tmp(&tmp_dir, "incoming.part", b"DICM hello");
    blobs.put_file(key, &tmp).await.unwrap();
    assert!(!tmp.exists(), "the temporary file is consumed");
    let path = blobs.local_path(key).unwrap();
    assert_eq!(path, root.canonicalize().unwrap().join(key));
    assert_eq!(std::fs::read(&path).unwrap(), b"DICM hello");
    assert_eq!(
        blobs.get(key).await.unwrap(),
        Bytes::from_static(b"DICM hello")
    );
    assert_eq!(blobs.size(key).await.unwrap(), 10);

    // Replacing an existing blob, in an existing directory.
    let big = pattern(3 * 1024 * 1024 + 17);
    blobs
        .put_file(key, &write_tmp(&tmp_dir, "big.part", &big))
        .await
        .unwrap();
    let (streamed, chunks) = read_stream(&blobs, key).await;
    assert_eq!(streamed, big);
    assert!(chunks > 1, "streamed in chunks");
    assert_eq!(blobs.size(key).await.unwrap(), big.len() as u64);

    blobs
        .put_bytes("derived/1/x.json", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get("derived/1/x.json").await.unwrap(),
        Bytes::from_static(b"{}")
    );
    let leftovers: Vec<_> = std::fs::read_dir(root.join("derived/1"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["x.json"], "no staging files left behind");

    blobs.delete(key).await.unwrap();
    assert!(!path.exists());
    blobs.delete(key).await.unwrap();
    assert!(matches!(
        blobs.get(key).await,
        Err(StoreError::Blob(object_store::Error::NotFound { .. }))
    ));
    assert!(blobs.size(key).await.is_err());

    // Keys cannot climb out of the root.
    let tmp = write_tmp(&tmp_dir, "evil.part", b"x");
    assert!(blobs.put_file("../escape.dcm", &tmp).await.is_err());
    assert!(!tmp.exists(), "consumed even on failure");
    assert!(!dir.path().join("data/escape.dcm").exists());
    assert!(blobs.local_path("../escape.dcm").is_none());
}

/// A moto_server child process, killed on drop.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Moto, String) {
    let venv = std::env::var("STUDYLINK_VENV").unwrap_or_else(|_| "/var/tmp/studylink-venv".into());
    let moto = format!("{venv}/bin/moto_server");
    if !Path::new(&moto).exists() {
        panic!(
            "{moto} not found. Install the S3 test server with\n    \
             python3 -m venv {venv} && {venv}/bin/pip install 'moto[server]==5.*'\n\
             (scripts/test does this), or set STUDYLINK_TEST_S3_ENDPOINT=http://127.0.0.1:PORT \
             of a running moto_server."
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {moto}: {e}"));
    let server = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

/// object_store cannot create buckets; moto accepts a bare, unsigned PUT.
async fn create_bucket(endpoint: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "PUT /{BUCKET} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    let status = response.lines().next().unwrap_or_default();
    assert!(
        status.contains(" 200") || response.contains("BucketAlreadyOwnedByYou"),
        "creating bucket {BUCKET}: {status}"
    );
}

fn s3_config(endpoint: &str, prefix: Option<&str>) -> BlobConfig {
    BlobConfig::S3 {
        bucket: BUCKET.into(),
        endpoint: Some(endpoint.into()),
        region: None,
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        prefix: prefix.map(Into::into),
        allow_http: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3() {
    let (_moto, endpoint) = match std::env::var("STUDYLINK_TEST_S3_ENDPOINT") {
        Ok(endpoint) => (None, endpoint),
        Err(_) => {
            let (moto, endpoint) = start_moto();
            (Some(moto), endpoint)
        }
    };
    create_bucket(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let run = format!("run-{}", std::process::id());
    let prefix = format!("{run}/clinic-a/");
    let blobs = BlobStore::open(&s3_config(&endpoint, Some(&prefix)))
        .await
        .unwrap();
    let unprefixed = BlobStore::open(&s3_config(&endpoint, None)).await.unwrap();
    let raw = AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_endpoint(&endpoint)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_allow_http(true)
        .build()
        .unwrap();

    let small_key = "originals/1/aa/small.dcm";
    let tmp = write_tmp(dir.path(), "small.part", b"small DICOM");
    blobs.put_file(small_key, &tmp).await.unwrap();
    assert!(!tmp.exists(), "the temporary file is consumed");
    assert_eq!(blobs.local_path(small_key), None);
    assert_eq!(
        blobs.get(small_key).await.unwrap(),
        Bytes::from_static(b"small DICOM")
    );
    assert_eq!(blobs.size(small_key).await.unwrap(), 11);
    // The prefix is applied inside the bucket.
    let full_key = format!("{prefix}{small_key}");
    assert_eq!(
        unprefixed.get(&full_key).await.unwrap(),
        Bytes::from_static(b"small DICOM")
    );
    let head = raw
        .head(&ObjectPath::from(full_key.as_str()))
        .await
        .unwrap();
    assert!(
        !head.e_tag.unwrap().contains('-'),
        "a small file is a single PUT"
    );

    // Larger than one part: a multipart upload (its ETag ends in -<parts>).
    let big_key = "originals/1/bb/big.dcm";
    let big = pattern(8 * 1024 * 1024 + 1_500_000);
    let tmp = write_tmp(dir.path(), "big.part", &big);
    blobs.put_file(big_key, &tmp).await.unwrap();
    assert!(!tmp.exists());
    assert_eq!(blobs.size(big_key).await.unwrap(), big.len() as u64);
    let (streamed, chunks) = read_stream(&blobs, big_key).await;
    assert!(streamed == big, "multipart content differs");
    assert!(chunks > 1, "streamed in chunks");
    let head = raw
        .head(&ObjectPath::from(format!("{prefix}{big_key}").as_str()))
        .await
        .unwrap();
    assert!(
        head.e_tag.unwrap().trim_matches('"').ends_with("-2"),
        "uploaded in two parts"
    );

    blobs
        .put_bytes("derived/1/meta.json", Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        blobs.get("derived/1/meta.json").await.unwrap(),
        Bytes::from_static(b"{}")
    );

    blobs.delete(small_key).await.unwrap();
    blobs.delete(small_key).await.unwrap();
    assert!(blobs.get(small_key).await.is_err());
    assert!(blobs.size(small_key).await.is_err());
    blobs.delete(big_key).await.unwrap();
    blobs.delete("derived/1/meta.json").await.unwrap();
}
