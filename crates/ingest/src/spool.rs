//! Where a received object's bytes go while it arrives.
//!
//! Two kinds of file:
//! * a **spool file** in the spool dir, renamed into the blob store once the
//!   object is accepted (any blob backend; S3 uploads it instead);
//! * a **reserved blob file**: an empty file already at its final place in the
//!   local blob store, whose directory entry was made durable in advance, for a
//!   whole batch at once. Accepting the object is then one `fdatasync` of the
//!   file and the index commit: no rename and no directory fsync while the
//!   device waits for its response. (A rename and a directory fsync per
//!   instance were the slowest part of a burst of small images on a busy disk.)
//!
//! Either kind deletes itself when dropped before it is kept, so a refused
//! object leaves nothing behind. A crash can leave unused reserved files (empty,
//! or holding an object that was never acknowledged) that no index row points to:
//! orphans, as the crate docs describe, at most two batches per account.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use studylink_model::AccountId;
use studylink_store::BlobStore;

use crate::IngestError;

/// Large objects start write-back every this many bytes while they arrive.
const WRITEBACK_CHUNK: u64 = 8 * 1024 * 1024;
/// Reserved blob files created per batch (one directory fsync each).
const RESERVE_BATCH: usize = 64;

/// A file being received. Dropped before it is ingested, it deletes itself.
pub struct TempObject {
    file: File,
    path: PathBuf,
    /// The blob key, for a reserved blob file.
    reserved: Option<String>,
    kept: bool,
    pub(crate) written: u64,
    pub(crate) limit: u64,
    /// Bytes already handed to the kernel for write-back (see `write_all`).
    flushing_from: u64,
}

impl TempObject {
    pub(crate) fn spool(dir: &Path, limit: u64) -> std::io::Result<Self> {
        let path = dir.join(format!("in-{}.part", uuid::Uuid::new_v4().simple()));
        let file = File::options().read(true).write(true).create_new(true).open(&path)?;
        Ok(Self::new(file, path, None, limit))
    }

    fn reserved(key: String, path: PathBuf, limit: u64) -> std::io::Result<Self> {
        let file = File::options().read(true).write(true).open(&path)?;
        Ok(Self::new(file, path, Some(key), limit))
    }

    fn new(file: File, path: PathBuf, reserved: Option<String>, limit: u64) -> Self {
        TempObject { file, path, reserved, kept: false, written: 0, limit, flushing_from: 0 }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends bytes, refusing to grow past the size limit.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<(), IngestError> {
        if self.written + buf.len() as u64 > self.limit {
            return Err(IngestError::TooLarge { limit: self.limit });
        }
        self.file.write_all(buf)?;
        self.written += buf.len() as u64;
        if self.written - self.flushing_from >= WRITEBACK_CHUNK {
            self.start_writeback();
        }
        Ok(())
    }

    pub(crate) fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// The blob key this file already sits at, if it is a reserved blob file.
    pub(crate) fn reserved_key(&self) -> Option<&str> {
        self.reserved.as_deref()
    }

    /// Another handle on the file, for flushing it on another thread.
    pub(crate) fn file_clone(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }

    /// Makes the bytes durable (the directory entry already is, for a reserved file).
    pub(crate) fn sync_data(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// The file now belongs to the blob store (or was moved there): don't delete it.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }

    /// Asks the kernel to start writing what has arrived so far, without
    /// waiting. The fsync before the acknowledgement then waits only for the
    /// tail, instead of for a whole 300 MB cine while the network sits idle.
    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let (from, len) = (self.flushing_from, self.written - self.flushing_from);
        // SAFETY: a plain syscall on a file descriptor we own; no memory is shared.
        // Only a hint: the fsync later is what makes the bytes durable.
        let _ = unsafe { libc::sync_file_range(self.file.as_raw_fd(), from as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE) };
        self.flushing_from = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {
        self.flushing_from = self.written;
    }
}

impl Drop for TempObject {
    fn drop(&mut self) {
        if !self.kept {
            // Also after a successful move into the blob store: the old path is gone then.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Reserved blob files waiting for objects, per account.
#[derive(Default)]
pub(crate) struct Reservations {
    free: Arc<Mutex<HashMap<AccountId, Pool>>>,
}

#[derive(Default)]
struct Pool {
    files: Vec<(String, PathBuf)>,
    refilling: bool,
}

/// Below this many free files, the next batch is created in the background.
const LOW_WATER: usize = RESERVE_BATCH / 2;

impl Reservations {
    /// A reserved blob file for `account`. The next batch is created on a
    /// thread of its own while this one still has files, so no instance waits
    /// for 64 file creations (on ext4 without a journal each create can scan
    /// past every inode freed in the last minutes: up to ~2 ms). Only when the
    /// pool runs dry (first use, or a burst faster than the refill) is a batch
    /// created here. `None` when the blob store is not local.
    pub(crate) fn take(&self, blobs: &BlobStore, account: AccountId, limit: u64) -> std::io::Result<Option<TempObject>> {
        if !blobs.is_local() {
            return Ok(None);
        }
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let pool = free.entry(account).or_default();
        if pool.files.is_empty() {
            pool.files = new_batch(blobs, account)?;
        }
        let Some((key, path)) = pool.files.pop() else { return Ok(None) };
        if pool.files.len() < LOW_WATER && !pool.refilling {
            pool.refilling = true;
            self.refill(blobs.clone(), account);
        }
        drop(free);
        TempObject::reserved(key, path, limit).map(Some)
    }

    fn refill(&self, blobs: BlobStore, account: AccountId) {
        let free = Arc::clone(&self.free);
        let spawned = std::thread::Builder::new().name("reserve-blobs".into()).spawn(move || {
            let batch = new_batch(&blobs, account);
            let mut free = free.lock().unwrap_or_else(|p| p.into_inner());
            let pool = free.entry(account).or_default();
            pool.refilling = false;
            match batch {
                Ok(batch) => pool.files.extend(batch),
                // `take` creates one itself when the pool runs dry, and reports the error then.
                Err(e) => tracing::warn!(error = %e, "could not reserve blob files in the background"),
            }
        });
        if spawned.is_err() {
            let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
            free.entry(account).or_default().refilling = false;
        }
    }
}

fn new_batch(blobs: &BlobStore, account: AccountId) -> std::io::Result<Vec<(String, PathBuf)>> {
    let prefix = format!("originals/{account}/{:02x}", rand::random::<u8>());
    blobs.reserve_files_blocking(&prefix, RESERVE_BATCH).map_err(std::io::Error::other)
}
