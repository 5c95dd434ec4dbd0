//! The OCR check of cleaned images, after the share is ready.
//!
//! Reading an image area for text costs about 0.1 s of CPU per image, five
//! times its de-identification: checked before the messages go out, a
//! 100-image ultrasound study would reach the patient's inbox seconds later.
//! So an object whose burned-in text was blanked is stored de-identified and
//! marked `pending`; the share becomes ready and its messages go out; patients
//! get none of a pending item's files (the landing page shows it as being
//! prepared) until the check has read the stored de-identified object and
//! blanked, in every frame, any word that matches the original's identifying
//! values. A loop's video is made after its check. A check that cannot run
//! holds the item back for good (fail closed). A crash leaves items pending;
//! `resume` checks them again.
//!
//! Checks run on their own threads at a lower CPU priority than
//! de-identification (the next share's email comes first) and above videos.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use studylink_model::ShareItem;
use studylink_store::{StoreError, TextCheckResult};

use crate::{ShareService, object};

/// Nice value of the checking threads: below request handling and
/// de-identification, above video encoding.
const CHECK_NICE: i32 = 5;

type Job = Box<dyn FnOnce() + Send>;

/// Long-lived threads, so each keeps its OCR engine (loading one costs
/// about as much as reading an image).
pub(crate) struct CheckPool {
    tx: Mutex<mpsc::Sender<Job>>,
}

impl CheckPool {
    pub(crate) fn new(threads: usize) -> CheckPool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("share-ocr-{i}")).spawn(move || {
                crate::videos::lower_priority(CHECK_NICE);
                loop {
                    // The sender is dropped with the service: the thread ends.
                    let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return,
                    };
                    job();
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a text check thread");
            }
        }
        CheckPool { tx: Mutex::new(tx) }
    }

    /// Runs `f` on a pool thread; `None` if it panicked or no thread runs.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)).ok());
        });
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).send(job).ok()?;
        rx.await.ok().flatten()
    }
}

impl ShareService {
    /// Checks `items` (each `pending`, with its original's blob key) in the
    /// background; items already being checked here are skipped.
    pub(crate) fn start_text_checks(self: &Arc<Self>, items: Vec<(ShareItem, String)>) {
        for (item, source_key) in items {
            let key = (item.share_id, item.position);
            if !self.jobs().text_checks.insert(key) {
                continue;
            }
            let service = self.clone();
            tokio::spawn(async move {
                // Bounds the originals and objects held in memory at once.
                let _permit = service.check_limit.acquire().await.expect("the semaphore is never closed");
                service.check_item(&item, &source_key).await;
                service.jobs().text_checks.remove(&key);
                service.release_memory_if_idle();
            });
        }
    }

    async fn check_item(self: &Arc<Self>, item: &ShareItem, source_key: &str) {
        let (share, position) = (item.share_id, item.position);
        let Some(finder) = self.config.text_finder.clone() else {
            return tracing::warn!(share = %share, position, "no OCR configured: image left waiting for its text check");
        };
        let mut read = Vec::with_capacity(2);
        for key in [source_key, item.dicom_key.as_str()] {
            match self.blobs.get(key).await {
                Ok(b) => read.push(b),
                Err(StoreError::Blob(object_store::Error::NotFound { .. })) => {
                    tracing::warn!(share = %share, position, "a file to check is missing: image held back");
                    return self.record_check(item, TextCheckResult::Failed).await;
                }
                // Left pending: the next start tries again.
                Err(e) => return tracing::warn!(share = %share, position, error = %e, "cannot read an image to check"),
            }
        }
        let (dicom, original) = (read.pop().expect("two reads"), read.pop().expect("two reads"));
        let started = std::time::Instant::now();
        let pool = self.check_pool.get_or_init(|| CheckPool::new(self.config.workers));
        let outcome = pool
            .run(move || object::check_text(&original, &dicom, &*finder))
            .await
            .unwrap_or_else(|| Err("the text check stopped unexpectedly".into()));
        let ms = started.elapsed().as_millis() as u64;
        let result = match outcome {
            Ok(None) => TextCheckResult::Passed { dicom_size: None, jpeg_size: None },
            Ok(Some(checked)) => match self.store_checked(item, checked).await {
                Ok(r) => r,
                Err(e) => return tracing::warn!(share = %share, position, error = %e, "cannot store a checked image"),
            },
            Err(reason) => {
                // The de-identifier's and OCR's messages carry no patient data.
                tracing::warn!(share = %share, position, reason = %reason, "text check failed: image held back");
                TextCheckResult::Failed
            }
        };
        tracing::debug!(share = %share, position, ms, "text check done");
        self.record_check(item, result).await;
        if item.video_pending && matches!(result, TextCheckResult::Passed { .. }) {
            self.start_videos(vec![item.clone()]);
        }
    }

    /// Writes a rewritten object's files under the item's keys: previews
    /// first, the object last, so that a crash in between leaves the old
    /// object, which the next check reads and blanks again.
    async fn store_checked(&self, item: &ShareItem, c: object::Checked) -> Result<TextCheckResult, StoreError> {
        tracing::info!(share = %item.share_id, position = item.position, words = c.words, "identifying words blanked inside an image");
        let mut jpeg_size = None;
        match (&item.jpeg_key, &item.thumb_key, c.previews) {
            (Some(jpeg_key), Some(thumb_key), Some((jpeg, thumb))) => {
                jpeg_size = Some(jpeg.len() as i64);
                self.blobs.put_bytes(jpeg_key, Bytes::from(jpeg)).await?;
                self.blobs.put_bytes(thumb_key, Bytes::from(thumb)).await?;
            }
            // Its old previews show the words: never let them out.
            (Some(_), _, None) | (_, Some(_), None) => return Ok(TextCheckResult::Failed),
            _ => {}
        }
        let dicom_size = Some(c.dicom.len() as i64);
        self.blobs.put_bytes(&item.dicom_key, Bytes::from(c.dicom)).await?;
        Ok(TextCheckResult::Passed { dicom_size, jpeg_size })
    }

    async fn record_check(&self, item: &ShareItem, result: TextCheckResult) {
        if let Err(e) = self.store.set_share_item_text_check(item.share_id, item.position, result).await {
            tracing::warn!(share = %item.share_id, position = item.position, error = %e, "cannot record a text check");
        }
    }

    /// Restarts the checks a crash (or another node's) left pending.
    pub(crate) async fn resume_text_checks(self: &Arc<Self>) -> Result<usize, StoreError> {
        let items = self.store.pending_share_text_checks().await?;
        let n = items.len();
        if n > 0 && self.config.text_finder.is_none() {
            tracing::warn!(images = n, "images wait for a text check but no OCR is configured: they stay held back");
            return Ok(0);
        }
        if n > 0 {
            tracing::info!(images = n, "resumed pending text checks");
        }
        self.start_text_checks(items);
        Ok(n)
    }
}
