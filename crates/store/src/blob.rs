//! Blob storage through `object_store`.
//!
//! Keys are opaque, slash-separated, and never contain patient data
//! (e.g. `originals/1/0f/0f3c…e1.dcm`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::{StoreError, StoreResult};

/// Files larger than this go to S3 as a multipart upload in parts of this size,
/// so a large file is never held in memory whole.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once during a multipart upload.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BlobConfig {
    /// Files under `root` (default `<data_dir>/blobs`).
    Local { root: PathBuf },
    /// An S3-compatible bucket.
    S3 {
        bucket: String,
        /// e.g. `http://127.0.0.1:9000`; unset means AWS.
        endpoint: Option<String>,
        region: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        /// Key prefix inside the bucket.
        prefix: Option<String>,
        /// Needed for plain-HTTP endpoints on loopback.
        #[serde(default)]
        allow_http: bool,
    },
}

#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    /// Set for the local backend: lets `put_file` rename instead of copy, and
    /// lets readers open files directly.
    local_root: Option<PathBuf>,
}

impl BlobStore {
    pub async fn open(cfg: &BlobConfig) -> StoreResult<Self> {
        match cfg {
            BlobConfig::Local { root } => {
                let root = root.clone();
                // Canonical, so `local_path` names the same files the object store uses.
                let root = tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(&root)?;
                    root.canonicalize()
                })
                .await
                .map_err(io::Error::other)??;
                let inner = LocalFileSystem::new_with_prefix(&root)?;
                Ok(BlobStore {
                    inner: Arc::new(inner),
                    local_root: Some(root),
                })
            }
            BlobConfig::S3 {
                bucket,
                endpoint,
                region,
                access_key_id,
                secret_access_key,
                prefix,
                allow_http,
            } => {
                // Without configured keys, take AWS_* variables and instance
                // credentials; with them, ignore the environment (a stray
                // AWS_SESSION_TOKEN would spoil every signature).
                let base = match (access_key_id, secret_access_key) {
                    (Some(_), Some(_)) => AmazonS3Builder::new(),
                    _ => AmazonS3Builder::from_env(),
                };
                let mut b = base
                    .with_bucket_name(bucket)
                    .with_region(region.as_deref().unwrap_or("us-east-1"))
                    // Path-style URLs: self-hosted servers on an IP or loopback
                    // have no per-bucket DNS names.
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(*allow_http);
                if let Some(endpoint) = endpoint {
                    b = b.with_endpoint(endpoint);
                }
                if let Some(id) = access_key_id {
                    b = b.with_access_key_id(id);
                }
                if let Some(secret) = secret_access_key {
                    b = b.with_secret_access_key(secret);
                }
                let s3 = b.build()?;
                let inner: Arc<dyn ObjectStore> =
                    match prefix.as_deref().map(|p| p.trim_matches('/')) {
                        Some(p) if !p.is_empty() => Arc::new(PrefixStore::new(
                            s3,
                            ObjectPath::parse(p).map_err(object_store::Error::from)?,
                        )),
                        _ => Arc::new(s3),
                    };
                Ok(BlobStore {
                    inner,
                    local_root: None,
                })
            }
        }
    }

    /// Moves the finished temporary file `tmp` into the store under `key`. When this
    /// returns `Ok` the blob is durable (local: file and directory fsynced; S3: the
    /// PUT or multipart upload completed). `tmp` must be on the same filesystem as a
    /// local root (the ingest temp dir lives inside the data dir for that reason);
    /// it is consumed either way.
    pub async fn put_file(&self, key: &str, tmp: &Path) -> StoreResult<()> {
        let result = self.move_in(key, tmp).await;
        if result.is_err() {
            // Consumed either way: the caller retries from its source, not from here.
            let _ = tokio::fs::remove_file(tmp).await;
        }
        result
    }

    async fn move_in(&self, key: &str, tmp: &Path) -> StoreResult<()> {
        let location = parse_key(key)?;
        if let Some(dest) = self.local_dest(&location) {
            let tmp = tmp.to_path_buf();
            return blocking(move || move_durably(&tmp, &dest)).await;
        }
        self.upload(&location, tmp).await?;
        tokio::fs::remove_file(tmp).await?;
        Ok(())
    }

    /// `put_file` for callers already on a blocking thread (the ingest pipeline),
    /// local backend only: `None` for S3, where the upload is async.
    pub fn put_file_blocking(&self, key: &str, tmp: &Path) -> Option<StoreResult<()>> {
        let dest = match parse_key(key) {
            Ok(location) => self.local_dest(&location)?,
            Err(e) => return Some(Err(e)),
        };
        let result = move_durably(tmp, &dest).map_err(StoreError::from);
        if result.is_err() {
            let _ = std::fs::remove_file(tmp);
        }
        Some(result)
    }

    /// Creates `n` empty files under the directory `prefix` (local backend) and
    /// makes their directory entries durable with one fsync: blob files that
    /// need only their bytes synced later. Returns their keys and paths.
    pub fn reserve_files_blocking(&self, prefix: &str, n: usize) -> StoreResult<Vec<(String, PathBuf)>> {
        let Some(root) = &self.local_root else {
            return Err(StoreError::Config("reserved files need the local blob store".into()));
        };
        let prefix = parse_key(prefix)?;
        let dir = root.join(prefix.as_ref());
        create_dirs_durably(&dir)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let name = format!("{}.dcm", uuid::Uuid::new_v4().simple());
            let path = dir.join(&name);
            File::options().write(true).create_new(true).open(&path)?;
            out.push((format!("{}/{name}", prefix.as_ref()), path));
        }
        File::open(&dir)?.sync_all()?;
        Ok(out)
    }

    /// Creates the directories under `prefix` (local backend), durably, up front.
    /// Ingest fans blobs out over 256 directories per account; creating them
    /// while a device waits would add a mkdir and a parent fsync to about a
    /// quarter of a new clinic's first thousand instances.
    pub fn prepare_dirs_blocking(&self, prefix: &str, names: impl IntoIterator<Item = String>) -> StoreResult<()> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let base = root.join(parse_key(prefix)?.as_ref());
        create_dirs_durably(&base)?;
        let mut created = false;
        for name in names {
            match std::fs::create_dir(base.join(name)) {
                Ok(()) => created = true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
        }
        if created {
            File::open(&base)?.sync_all()?;
        }
        Ok(())
    }

    pub async fn put_bytes(&self, key: &str, data: Bytes) -> StoreResult<()> {
        let location = parse_key(key)?;
        let Some(dest) = self.local_dest(&location) else {
            self.inner.put(&location, data.into()).await?;
            return Ok(());
        };
        blocking(move || {
            let dir = dest.parent().expect("blob keys have a parent directory");
            create_dirs_durably(dir)?;
            let tmp = dir.join(format!(".put-{}.tmp", uuid::Uuid::new_v4()));
            std::fs::write(&tmp, &data)?;
            move_durably(&tmp, &dest)
        })
        .await
    }

    pub async fn get(&self, key: &str) -> StoreResult<Bytes> {
        Ok(self.inner.get(&parse_key(key)?).await?.bytes().await?)
    }

    /// Streams the blob in chunks (never the whole object in memory).
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> StoreResult<BoxStream<'static, StoreResult<Bytes>>> {
        let result = self.inner.get(&parse_key(key)?).await?;
        Ok(result.into_stream().map_err(StoreError::from).boxed())
    }

    pub async fn size(&self, key: &str) -> StoreResult<u64> {
        Ok(self.inner.head(&parse_key(key)?).await?.size)
    }

    /// Deleting a missing key is not an error.
    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        match self.inner.delete(&parse_key(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Files on the local filesystem (not S3).
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// For the local backend, the file that holds `key`.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.local_dest(&parse_key(key).ok()?)
    }

    fn local_dest(&self, location: &ObjectPath) -> Option<PathBuf> {
        Some(self.local_root.as_ref()?.join(location.as_ref()))
    }

    /// Streams `tmp` to S3: one PUT when small, else a multipart upload read
    /// part by part.
    async fn upload(&self, location: &ObjectPath, tmp: &Path) -> StoreResult<()> {
        let mut file = tokio::fs::File::open(tmp).await?;
        let len = file.metadata().await?.len();
        if len <= PART_SIZE as u64 {
            let mut data = Vec::with_capacity(len as usize);
            file.read_to_end(&mut data).await?;
            self.inner.put(location, data.into()).await?;
            return Ok(());
        }
        let mut upload = WriteMultipart::new_with_chunk_size(
            self.inner.put_multipart(location).await?,
            PART_SIZE,
        );
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = upload.abort().await;
                    return Err(e.into());
                }
            };
            if let Err(e) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = upload.abort().await;
                return Err(e.into());
            }
            upload.write(&buf[..n]);
        }
        // finish() aborts the upload itself on failure.
        upload.finish().await?;
        Ok(())
    }
}

fn parse_key(key: &str) -> StoreResult<ObjectPath> {
    let location = ObjectPath::parse(key).map_err(object_store::Error::from)?;
    if location.as_ref().is_empty() {
        return Err(StoreError::Config("empty blob key".into()));
    }
    Ok(location)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> StoreResult<T> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)??)
}

/// fsync the file, rename it into place, fsync the directory: after a crash the
/// blob is either absent or complete, and once this returns it is on disk.
fn move_durably(tmp: &Path, dest: &Path) -> io::Result<()> {
    File::open(tmp)?.sync_all()?;
    let dir = dest.parent().expect("blob keys have a parent directory");
    let result = match std::fs::rename(tmp, dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && !dir.exists() => {
            create_dirs_durably(dir)?;
            std::fs::rename(tmp, dest)
        }
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => copy_durably(tmp, dest),
        other => other,
    };
    result?;
    File::open(dir)?.sync_all()
}

/// Fallback when the temp dir is on another filesystem: slower, still durable.
fn copy_durably(tmp: &Path, dest: &Path) -> io::Result<()> {
    let staged = dest.with_file_name(format!(".copy-{}.tmp", uuid::Uuid::new_v4()));
    std::fs::copy(tmp, &staged)?;
    File::open(&staged)?.sync_all()?;
    std::fs::rename(&staged, dest)?;
    std::fs::remove_file(tmp)
}

/// `create_dir_all`, plus an fsync of each new directory's parent so the new
/// entries survive a crash too. Only runs when a directory is missing, i.e. rarely.
fn create_dirs_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir
        .parent()
        .expect("the blob root exists, so a missing dir has a parent");
    create_dirs_durably(parent)?;
    match std::fs::create_dir(dir) {
        // Created concurrently: still sync, as its creator may not have yet.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        other => other?,
    }
    File::open(parent)?.sync_all()
}
