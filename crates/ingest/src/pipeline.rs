use std::path::{Path, PathBuf};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dicom_core::Tag;
use studylink_model::{AccountId, Actor, IngestSource, InstanceId, InstanceMeta};
use studylink_store::{BlobStore, BlockingIndex, FoundInstance, InsertOutcome, NewInstance, Store};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::flush::flush_during;
use crate::parse::parse_file;
use crate::spool::{Reservations, TempObject};
use crate::IngestError;

#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Where incoming objects are spooled. Must be on the same filesystem as a
    /// local blob root so that storing is a rename.
    pub tmp_dir: PathBuf,
    /// Objects larger than this are refused.
    pub max_instance_bytes: u64,
    /// Tags scanned for patient phone numbers and emails.
    pub contact_tags: Vec<Tag>,
}

/// Who sent an object, for the index and the audit log.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: IngestSource,
    /// Calling AE title, user email or API key name. Never patient data.
    pub received_from: String,
    pub actor: Actor,
    /// For C-STORE: the Affected SOP Instance UID of the request, which the data
    /// set must carry.
    pub expected_sop_uid: Option<String>,
}

/// A stored (or already present) instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub instance_id: InstanceId,
    /// The SOP Instance UID was already stored; the new copy was discarded.
    pub duplicate: bool,
    pub sop_uid: String,
    pub sop_class_uid: String,
    pub study_uid: String,
    pub series_uid: String,
    pub transfer_syntax: String,
    pub size_bytes: u64,
}

#[derive(Clone)]
pub struct Ingestor {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    blobs: BlobStore,
    cfg: IngestConfig,
    /// Accounts whose blob fan-out directories exist (see `prepare_account`).
    prepared: Mutex<HashSet<AccountId>>,
    reservations: Reservations,
}

/// Spool files are spread over this many subdirectories of the spool dir. ext4
/// puts a new file's inode near its directory's and skips recently freed ones,
/// so one busy directory makes every create scan past the inodes of the last
/// minutes' deletions (measured: 41% of the server's CPU in a burst).
const FAN_OUT: usize = 256;

impl Ingestor {
    /// Creates the spool dir and empties it: anything left there is from a run
    /// that crashed before acknowledging it, so the sender still has it.
    pub fn new(store: Arc<dyn Store>, blobs: BlobStore, cfg: IngestConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(&cfg.tmp_dir)?;
        empty_spool(&cfg.tmp_dir, true)?;
        for name in fan_out_names() {
            std::fs::create_dir_all(cfg.tmp_dir.join(name))?;
        }
        let inner = Inner { store, blobs, cfg, prepared: Mutex::new(HashSet::new()), reservations: Reservations::default() };
        let ingestor = Ingestor { inner: Arc::new(inner) };
        ingestor.drop_unflushed();
        Ok(ingestor)
    }

    /// The index row of an instance commits while its file flushes (see
    /// `index_blocking`), so a crash can leave the last few rows pointing at
    /// files that are short. No success was sent for those: they go, and the
    /// device's resend stores them again. Only the newest rows can be
    /// affected (one per ingest running at the crash), so only they are checked.
    fn drop_unflushed(&self) {
        const NEWEST: usize = 1024;
        let Some(index) = self.inner.store.blocking_index() else { return };
        let latest = match index.latest_instances(NEWEST) {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not check the newest instances' files");
                return;
            }
        };
        for found in latest {
            if self.blob_intact(&found.blob_key, found.size_bytes) {
                continue;
            }
            match index.delete_instance(found.id) {
                Ok(()) => {
                    self.remove_local_blob(&found.blob_key);
                    tracing::warn!(instance = %found.id, "removed an instance whose file had not reached the disk before a crash (it was never acknowledged)");
                }
                Err(e) => tracing::error!(instance = %found.id, error = %e, "could not remove an instance whose file is incomplete"),
            }
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }
    pub fn config(&self) -> &IngestConfig {
        &self.inner.cfg
    }

    /// A spool file for an object whose account is not known yet.
    pub fn new_temp(&self) -> std::io::Result<TempObject> {
        let dir = self.inner.cfg.tmp_dir.join(format!("{:02x}", rand::random::<u8>()));
        TempObject::spool(&dir, self.inner.cfg.max_instance_bytes)
    }

    /// Where to receive an object for `account`: a reserved blob file when the
    /// fast local path applies (see `spool.rs`), else a spool file.
    pub fn new_temp_for(&self, account: AccountId) -> std::io::Result<TempObject> {
        if self.inner.store.blocking_index().is_some()
            && let Some(tmp) = self.inner.reservations.take(&self.inner.blobs, account, self.inner.cfg.max_instance_bytes)?
        {
            return Ok(tmp);
        }
        self.new_temp()
    }

    /// Spools `reader` to a temporary file (bounded by the size limit) and ingests it.
    pub async fn ingest_reader<R: AsyncRead + Unpin>(
        &self,
        account: AccountId,
        mut reader: R,
        origin: &Origin,
    ) -> Result<Ingested, IngestError> {
        let mut tmp = self.new_temp()?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            tmp.write_all(&buf[..n])?;
        }
        self.ingest_file(account, tmp, origin).await
    }

    /// Copies a file into the spool (the original is never moved or changed) and ingests it.
    pub async fn ingest_path(&self, account: AccountId, path: &Path, origin: &Origin) -> Result<Ingested, IngestError> {
        let mut tmp = self.new_temp()?;
        let path = path.to_path_buf();
        let tmp = tokio::task::spawn_blocking(move || {
            let mut src = std::fs::File::open(&path)?;
            let len = src.metadata()?.len();
            if len > tmp.limit {
                return Err(IngestError::TooLarge { limit: tmp.limit });
            }
            tmp.written = std::io::copy(&mut src, tmp.file_mut())?;
            Ok(tmp)
        })
        .await
        .map_err(|e| IngestError::Storage(format!("ingest task failed: {e}")))??;
        self.ingest_file(account, tmp, origin).await
    }

    pub async fn ingest_bytes(&self, account: AccountId, data: &[u8], origin: &Origin) -> Result<Ingested, IngestError> {
        let mut tmp = self.new_temp()?;
        tmp.write_all(data)?;
        self.ingest_file(account, tmp, origin).await
    }

    /// Ingests a complete Part 10 file. On `Ok`, the object is durable and indexed.
    pub async fn ingest_file(&self, account: AccountId, tmp: TempObject, origin: &Origin) -> Result<Ingested, IngestError> {
        let started = Instant::now();
        let source = origin.source.as_str();
        let result = self.ingest_inner(account, tmp, origin).await;
        match &result {
            Ok(done) => {
                metrics::counter!("studylink_ingest_instances_total", "source" => source, "outcome" => if done.duplicate { "duplicate" } else { "stored" }).increment(1);
                metrics::counter!("studylink_ingest_bytes_total", "source" => source).increment(done.size_bytes);
                metrics::histogram!("studylink_ingest_seconds", "source" => source).record(started.elapsed().as_secs_f64());
                tracing::debug!(instance = %done.instance_id, sop_uid = %done.sop_uid, duplicate = done.duplicate, "instance ingested");
            }
            Err(e) => {
                metrics::counter!("studylink_ingest_failures_total", "source" => source, "reason" => e.kind()).increment(1);
                tracing::warn!(source, from = %origin.received_from, reason = %e, "object refused");
            }
        }
        result
    }

    async fn ingest_inner(&self, account: AccountId, tmp: TempObject, origin: &Origin) -> Result<Ingested, IngestError> {
        if self.inner.blobs.is_local()
            && let Some(index) = self.inner.store.blocking_index()
        {
            // The whole pipeline in one blocking task: see `ingest_blocking`.
            let this = self.clone();
            let origin = origin.clone();
            return tokio::task::spawn_blocking(move || this.ingest_blocking(index.as_ref(), account, tmp, &origin))
                .await
                .map_err(|e| IngestError::Storage(format!("ingest task failed: {e}")))?;
        }
        let size = tmp.written;
        let contact_tags = self.inner.cfg.contact_tags.clone();
        // Parsing is blocking work; keep it off the async workers. Durability of
        // the bytes is `BlobStore::put_file`'s job (fsync of file and directory
        // locally, a completed upload on S3), so no fsync here.
        let (tmp, parsed) = tokio::task::spawn_blocking(move || {
            let parsed = parse_file(tmp.path(), &contact_tags);
            (tmp, parsed)
        })
        .await
        .map_err(|e| IngestError::Storage(format!("ingest task failed: {e}")))?;
        let parsed = parsed?;
        let meta = parsed.meta;
        check_expected_uid(origin, &meta);

        let store = &self.inner.store;
        let done = |id, duplicate| ingested(&meta, id, duplicate, size);
        // Fast path for a resend: nothing to write.
        if let Some(existing) = store.instance_by_sop(account, &meta.instance.sop_uid).await? {
            return Ok(done(existing.id, true));
        }

        if tmp.reserved_key().is_some() {
            return Err(IngestError::Storage("a reserved blob file reached the async path".into()));
        }
        let key = blob_key(account);
        // `put_file` consumes the file (rename or upload); an error already removed it.
        self.inner.blobs.put_file(&key, tmp.path()).await?;
        tmp.keep();

        let new = NewInstance {
            account_id: account,
            meta: &meta,
            blob_key: &key,
            size_bytes: size as i64,
            source: origin.source,
            received_from: &origin.received_from,
        };
        let outcome = match store.insert_instance(&new).await {
            Ok(o) => o,
            Err(e) => {
                let _ = self.inner.blobs.delete(&key).await;
                return Err(e.into());
            }
        };
        match outcome {
            // Audit is per association / request (see the callers): a row per
            // instance would double the commits on the hot path.
            InsertOutcome::Inserted(id) => Ok(done(id, false)),
            InsertOutcome::Duplicate { id, blob_key } => {
                if blob_key != key {
                    let _ = self.inner.blobs.delete(&key).await;
                }
                Ok(done(id, true))
            }
        }
    }
}

impl Ingestor {
    /// The local-disk + SQLite-file pipeline, on one blocking thread: parse, the
    /// duplicate check, fsync + rename + directory fsync, and the index
    /// transaction, with no hand-off between threads. With the async store each
    /// step woke another thread (about eleven per instance), and on a small
    /// machine shared with the sending device every wake waited for a core.
    /// The order of durable steps is the same: blob first, then the row.
    fn ingest_blocking(
        &self,
        index: &dyn BlockingIndex,
        account: AccountId,
        tmp: TempObject,
        origin: &Origin,
    ) -> Result<Ingested, IngestError> {
        let size = tmp.written;
        let meta = parse_file(tmp.path(), &self.inner.cfg.contact_tags)?.meta;
        check_expected_uid(origin, &meta);
        if let Some(found) = index.find(account, &meta.instance.sop_uid)? {
            if self.blob_intact(&found.blob_key, found.size_bytes) {
                // A resend: nothing to write (the spool file deletes itself).
                return Ok(ingested(&meta, found.id, true, size));
            }
            return self.repair_blocking(index, &meta, found, tmp);
        }
        match tmp.reserved_key() {
            // Already in place, its directory entry durable: only the bytes
            // remain, flushed while the index commits (see `flush_during`).
            Some(key) => {
                let key = key.to_owned();
                let file = tmp.file_clone()?;
                tmp.keep();
                self.index_blocking(index, &meta, account, key, size, origin, move || file.sync_data())
            }
            None => {
                let key = self.move_into_blob_store(account, tmp)?;
                self.index_blocking(index, &meta, account, key, size, origin, || Ok(()))
            }
        }
    }

    /// Moves a spool file into the local blob store, durably; returns its key.
    fn move_into_blob_store(&self, account: AccountId, tmp: TempObject) -> Result<String, IngestError> {
        self.prepare_account(account)?;
        let key = blob_key(account);
        self.inner
            .blobs
            .put_file_blocking(&key, tmp.path())
            .ok_or_else(|| IngestError::Storage("blob store is not local".into()))??;
        tmp.keep();
        Ok(key)
    }

    fn remove_local_blob(&self, key: &str) {
        if let Some(path) = self.inner.blobs.local_path(key) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Commits the index row while `flush` makes the blob durable, and
    /// answers only when both are. Two flushes at once cost about one: the
    /// file system commits its journal once for both. A crash in between can
    /// leave a row whose blob is short; no success was sent for it, so the
    /// device sends it again, and `blob_intact` sees that the stored copy is
    /// short and `repair_blocking` replaces it; if it never does, startup
    /// removes the row (`drop_unflushed`).
    #[allow(clippy::too_many_arguments)]
    fn index_blocking(
        &self,
        index: &dyn BlockingIndex,
        meta: &InstanceMeta,
        account: AccountId,
        key: String,
        size: u64,
        origin: &Origin,
        flush: impl FnOnce() -> std::io::Result<()> + Send + 'static,
    ) -> Result<Ingested, IngestError> {
        let remove_blob = || self.remove_local_blob(&key);
        let flushed = flush_during(flush);
        let new = NewInstance {
            account_id: account,
            meta,
            blob_key: &key,
            size_bytes: size as i64,
            source: origin.source,
            received_from: &origin.received_from,
        };
        let outcome = index.insert_instance(&new);
        let flushed = flushed.wait();
        match (outcome, flushed) {
            (Ok(InsertOutcome::Inserted(id)), Ok(())) => Ok(ingested(meta, id, false, size)),
            (Ok(InsertOutcome::Inserted(id)), Err(e)) => {
                // The row must not outlive a blob that may never reach the disk.
                if let Err(undo) = index.delete_instance(id) {
                    tracing::error!(error = %undo, "could not remove the index row of an instance whose file did not flush");
                }
                remove_blob();
                Err(e.into())
            }
            (Ok(InsertOutcome::Duplicate { id, blob_key }), _) => {
                if blob_key != key {
                    remove_blob();
                }
                Ok(ingested(meta, id, true, size))
            }
            (Err(e), _) => {
                remove_blob();
                Err(e.into())
            }
        }
    }

    /// Whether a stored blob holds all its bytes. After a crash, a file whose
    /// flush had not finished is shorter than its row says (or missing): the
    /// file systems we run on (ext4 and XFS in their default modes, btrfs)
    /// never show a size beyond the data that reached the disk.
    fn blob_intact(&self, key: &str, size: i64) -> bool {
        match self.inner.blobs.local_path(key) {
            Some(path) => std::fs::metadata(path).is_ok_and(|m| m.len() as i64 == size),
            None => true,
        }
    }

    /// A resend of an instance whose stored copy is short: the new copy takes its place.
    fn repair_blocking(
        &self,
        index: &dyn BlockingIndex,
        meta: &InstanceMeta,
        found: FoundInstance,
        tmp: TempObject,
    ) -> Result<Ingested, IngestError> {
        let size = tmp.written;
        let key = match tmp.reserved_key() {
            Some(key) => {
                let key = key.to_owned();
                tmp.sync_data()?;
                tmp.keep();
                key
            }
            None => self.move_into_blob_store(found.account, tmp)?,
        };
        index.replace_blob(found.id, &key, size as i64)?;
        self.remove_local_blob(&found.blob_key);
        tracing::warn!(instance = %found.id, "stored copy was incomplete (a crash before its success status); replaced by the resent copy");
        Ok(ingested(meta, found.id, false, size))
    }

    /// Creates an account's 256 blob directories once per process.
    fn prepare_account(&self, account: AccountId) -> Result<(), IngestError> {
        let mut prepared = self.inner.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if !prepared.contains(&account) {
            self.inner.blobs.prepare_dirs_blocking(&format!("originals/{account}"), fan_out_names())?;
            prepared.insert(account);
        }
        Ok(())
    }
}

fn ingested(meta: &InstanceMeta, id: InstanceId, duplicate: bool, size: u64) -> Ingested {
    Ingested {
        instance_id: id,
        duplicate,
        sop_uid: meta.instance.sop_uid.clone(),
        sop_class_uid: meta.instance.sop_class_uid.clone(),
        study_uid: meta.study.study_uid.clone(),
        series_uid: meta.series.series_uid.clone(),
        transfer_syntax: meta.instance.transfer_syntax.clone(),
        size_bytes: size,
    }
}

fn check_expected_uid(origin: &Origin, meta: &InstanceMeta) {
    if let Some(expected) = &origin.expected_sop_uid
        && expected != &meta.instance.sop_uid
    {
        // Devices and dcmsend take the request's UID from the file meta
        // header, which some real files get wrong. The data set is the
        // truth; refusing would lose a valid image.
        tracing::warn!(source = origin.source.as_str(), "Affected SOP Instance UID differs from the data set's; indexing the data set's");
    }
}

/// Deletes spool files left by a crash (the sender got no success for them and
/// sends again), in the spool dir and its fan-out subdirectories.
fn empty_spool(dir: &Path, descend: bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_file() {
            let _ = std::fs::remove_file(entry.path());
        } else if kind.is_dir() && descend {
            empty_spool(&entry.path(), false)?;
        }
    }
    Ok(())
}

fn fan_out_names() -> impl Iterator<Item = String> {
    (0..FAN_OUT).map(|i| format!("{i:02x}"))
}

/// Random keys fan out over 256 directories; no patient data, no UIDs.
fn blob_key(account: AccountId) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("originals/{account}/{}/{id}.dcm", &id[..2])
}
