//! The MP4s of a share's cine loops, encoded after the share is ready.
//!
//! Encoding is most of a loop's preparation cost (H.264 of every frame),
//! while the patient needs the link and the landing page first. So a loop is
//! stored with its de-identified `.dcm` and first-frame JPEG, marked
//! `video_pending`, and the share becomes ready and its messages go out; the
//! loop shows as a still until its video exists. The video is made from the
//! stored de-identified object (never the original), on a thread of lower
//! CPU priority, so that the next share's de-identification (which delays
//! an email) comes first. A crash leaves items pending; `resume` encodes
//! them again. Two nodes may both encode one loop: they write the same key
//! and the first to finish records it.

use std::sync::Arc;

use bytes::Bytes;
use studylink_model::{ShareId, ShareItem};
use studylink_store::StoreError;

use crate::{ShareService, object};

/// Nice value of the encoding threads: below request handling and
/// de-identification, above nothing else that matters.
const VIDEO_NICE: i32 = 10;

impl ShareService {
    /// Encodes the videos of `items` (all `video_pending`) in the background,
    /// at most `max(1, workers / 2)` at once on this node; items already
    /// being encoded here are skipped.
    pub(crate) fn start_videos(self: &Arc<Self>, items: Vec<ShareItem>) {
        for item in items {
            let key = (item.share_id, item.position);
            if !self.jobs().videos.insert(key) {
                continue;
            }
            let service = self.clone();
            tokio::spawn(async move {
                let _permit = service
                    .video_limit
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                service.encode_video(&item).await;
                service.jobs().videos.remove(&key);
                service.release_memory_if_idle();
            });
        }
    }

    async fn encode_video(&self, item: &ShareItem) {
        let (share, position) = (item.share_id, item.position);
        let dicom = match self.blobs.get(&item.dicom_key).await {
            Ok(d) => d,
            Err(StoreError::Blob(object_store::Error::NotFound { .. })) => {
                tracing::warn!(share = %share, position, "de-identified object missing: no video");
                return self.record_video(share, position, None).await;
            }
            // Left pending: the next start tries again.
            Err(e) => {
                return tracing::warn!(share = %share, position, error = %e, "cannot read a loop to encode");
            }
        };
        let started = std::time::Instant::now();
        let mp4 = match on_low_priority_thread(move || object::video(&dicom)).await {
            Ok(mp4) => mp4,
            Err(note) => {
                // Encoder and renderer messages carry no patient data.
                tracing::warn!(share = %share, position, note = %note, "loop shared without a video");
                return self.record_video(share, position, None).await;
            }
        };
        let key = match item.dicom_key.strip_suffix(".dcm") {
            Some(base) => format!("{base}.mp4"),
            None => format!("{}.mp4", item.dicom_key),
        };
        let size = mp4.len() as i64;
        if let Err(e) = self.blobs.put_bytes(&key, Bytes::from(mp4)).await {
            return tracing::warn!(share = %share, position, error = %e, "cannot store a loop's video");
        }
        tracing::debug!(share = %share, position, ms = started.elapsed().as_millis() as u64, "video ready");
        self.record_video(share, position, Some((&key, size))).await;
    }

    async fn record_video(&self, share: ShareId, position: i32, mp4: Option<(&str, i64)>) {
        if let Err(e) = self.store.set_share_item_video(share, position, mp4).await {
            tracing::warn!(share = %share, position, error = %e, "cannot record a loop's video");
        }
    }

    /// Restarts the videos a crash (or another node's) left pending.
    pub(crate) async fn resume_videos(self: &Arc<Self>) -> Result<usize, StoreError> {
        let items = self.store.pending_share_videos().await?;
        let n = items.len();
        if n > 0 {
            tracing::info!(videos = n, "resumed pending videos");
        }
        self.start_videos(items);
        Ok(n)
    }
}

/// Runs `f` on a new thread whose CPU priority is lowered (Linux: nice is
/// per thread), so it only takes what other work leaves.
async fn on_low_priority_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("share-video".into())
        .spawn(move || {
            lower_priority(VIDEO_NICE);
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return Err("could not start an encoding thread".into());
    }
    rx.await
        .unwrap_or_else(|_| Err("the encoding thread stopped unexpectedly".into()))
}

/// Sets the calling thread's nice value (Linux: nice is per thread).
#[cfg(target_os = "linux")]
pub(crate) fn lower_priority(nice: i32) {
    // SAFETY: setpriority with who = 0 only changes the calling thread's nice value.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, nice);
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn lower_priority(_nice: i32) {}
