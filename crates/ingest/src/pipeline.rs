use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use dicom_core::Tag;
use studylink_model::{AccountId, Actor, IngestSource, InstanceId};
use studylink_store::{BlobStore, InsertOutcome, NewInstance, Store};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::parse::parse_file;
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

/// A file being received. Dropped before `ingest_file`, it deletes itself.
pub struct TempObject {
    file: tempfile::NamedTempFile,
    written: u64,
    limit: u64,
}

impl TempObject {
    pub fn path(&self) -> &Path {
        self.file.path()
    }
    pub fn written(&self) -> u64 {
        self.written
    }
    /// Appends bytes, refusing to grow past the size limit.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<(), IngestError> {
        if self.written + buf.len() as u64 > self.limit {
            return Err(IngestError::TooLarge { limit: self.limit });
        }
        self.file.as_file_mut().write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(())
    }
}

#[derive(Clone)]
pub struct Ingestor {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    blobs: BlobStore,
    cfg: IngestConfig,
}

impl Ingestor {
    /// Creates the spool dir and empties it: anything left there is from a run
    /// that crashed before acknowledging it, so the sender still has it.
    pub fn new(store: Arc<dyn Store>, blobs: BlobStore, cfg: IngestConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(&cfg.tmp_dir)?;
        for entry in std::fs::read_dir(&cfg.tmp_dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Ingestor { inner: Arc::new(Inner { store, blobs, cfg }) })
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

    pub fn new_temp(&self) -> std::io::Result<TempObject> {
        let file = tempfile::Builder::new().prefix("in-").suffix(".part").tempfile_in(&self.inner.cfg.tmp_dir)?;
        Ok(TempObject { file, written: 0, limit: self.inner.cfg.max_instance_bytes })
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
            tmp.written = std::io::copy(&mut src, tmp.file.as_file_mut())?;
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
        if let Some(expected) = &origin.expected_sop_uid
            && expected != &meta.instance.sop_uid
        {
            // Devices and dcmsend take the request's UID from the file meta
            // header, which some real files get wrong. The data set is the
            // truth; refusing would lose a valid image.
            tracing::warn!(source = origin.source.as_str(), "Affected SOP Instance UID differs from the data set's; indexing the data set's");
        }

        let store = &self.inner.store;
        let done = |id, duplicate| Ingested {
            instance_id: id,
            duplicate,
            sop_uid: meta.instance.sop_uid.clone(),
            sop_class_uid: meta.instance.sop_class_uid.clone(),
            study_uid: meta.study.study_uid.clone(),
            series_uid: meta.series.series_uid.clone(),
            transfer_syntax: meta.instance.transfer_syntax.clone(),
            size_bytes: size,
        };
        // Fast path for a resend: nothing to write.
        if let Some(existing) = store.instance_by_sop(account, &meta.instance.sop_uid).await? {
            return Ok(done(existing.id, true));
        }

        let key = blob_key(account);
        let tmp_path = tmp.file.into_temp_path();
        // `put_file` consumes the file (rename or upload); keep the TempPath alive
        // until then so an error still cleans up, and disarm it after.
        self.inner.blobs.put_file(&key, &tmp_path).await?;
        let _ = tmp_path.keep();

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

/// Random keys fan out over 256 directories; no patient data, no UIDs.
fn blob_key(account: AccountId) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("originals/{account}/{}/{id}.dcm", &id[..2])
}
