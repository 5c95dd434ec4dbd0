//! Preparing a share in the background: every chosen object is
//! de-identified and rendered (at most `workers` at once, each on a blocking
//! thread), the derived files go to the blob store, then one store
//! transaction marks the share ready and queues its messages. The MP4s of
//! cine loops come after (`videos.rs`), as does the OCR check of cleaned
//! images (`text_checks.rs`).
//!
//! A preparation restarted after a crash (`resume`) does the same work again
//! with the same secret, so it writes the same UIDs to the same blob keys.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use studylink_deid::{Deidentifier, Profile, ShareKeys};
use studylink_model::{
    AccountId, Actor, DeidOptions, InstanceId, ItemKind, Share, ShareId, ShareItem, ShareState, TextCheck,
};
use studylink_store::{InstanceRow, StoreError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::create::{study_instances, study_uid_by_id};
use crate::object::{self, ObjectOutcome, View};
use crate::{Progress, ShareService, audit};

/// Why a preparation stopped: `reason` is for staff (stored as the share's
/// `state_error`), `category` for logs and the audit detail.
#[derive(Debug)]
struct Failure {
    reason: String,
    category: &'static str,
}

impl Failure {
    fn new(category: &'static str, reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            category,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        tracing::warn!(error = %e, "store error while preparing a share");
        Failure::new(
            "store",
            "The database or file storage failed while preparing the link. Please send it again.",
        )
    }
}

impl From<crate::ShareError> for Failure {
    fn from(e: crate::ShareError) -> Failure {
        match e {
            crate::ShareError::Store(e) => e.into(),
            other => Failure::new("internal", other.to_string()),
        }
    }
}

/// How a preparation ended when it did not fail.
enum Done {
    Ready {
        items: usize,
        rejected: usize,
        password_required: bool,
        messages: usize,
    },
    /// The share left `preparing` meanwhile (another node finished it).
    Gone,
}

/// One object's result.
enum One {
    Item(Box<ShareItem>),
    Rejected(String),
}

/// Removes a share from the running list however its task ends (a panic included).
struct RunningGuard {
    service: Arc<ShareService>,
    id: ShareId,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.service.jobs().running.remove(&self.id);
    }
}

impl ShareService {
    /// Starts preparing `share` in the background unless this node already
    /// is. `rows`: the chosen instances when the caller has them (create),
    /// else they are looked up from the share's snapshot (resume).
    pub(crate) fn start_preparation(
        self: &Arc<Self>,
        share: Share,
        rows: Option<Vec<InstanceRow>>,
    ) -> bool {
        {
            let mut jobs = self.jobs();
            if jobs.running.contains_key(&share.id) {
                return false;
            }
            jobs.running.insert(
                share.id,
                Progress {
                    done: 0,
                    total: share.instance_ids.len(),
                },
            );
        }
        self.remember_account(share.id, share.account_id);
        let guard = RunningGuard {
            service: self.clone(),
            id: share.id,
        };
        tokio::spawn(async move {
            guard.service.prepare(share, rows).await;
            let service = guard.service.clone();
            drop(guard);
            service.release_memory_if_idle();
        });
        true
    }

    async fn prepare(self: &Arc<Self>, share: Share, rows: Option<Vec<InstanceRow>>) {
        let started = Instant::now();
        let id = share.id;
        match self.prepare_inner(&share, rows).await {
            Ok(Done::Ready {
                items,
                rejected,
                password_required,
                messages,
            }) => {
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(share = %id, items, rejected, password_required, messages, ms, "share ready");
                audit::share_event(
                    &*self.store,
                    share.account_id,
                    Actor::System,
                    "share.ready",
                    id,
                    serde_json::json!({
                        "items": items,
                        "rejected": rejected,
                        "password_required": password_required,
                        "messages": messages,
                        "ms": ms,
                    }),
                )
                .await;
            }
            Ok(Done::Gone) => {
                tracing::info!(share = %id, "share no longer preparing; preparation dropped")
            }
            Err(f) => self.fail(&share, f).await,
        }
    }

    async fn fail(&self, share: &Share, f: Failure) {
        tracing::warn!(share = %share.id, category = f.category, "share preparation failed");
        match self.store.fail_share(share.id, &f.reason, self.clock.now()).await {
            Ok(()) => {
                audit::share_event(
                    &*self.store,
                    share.account_id,
                    Actor::System,
                    "share.failed",
                    share.id,
                    serde_json::json!({ "category": f.category, "instances": share.instance_ids.len() }),
                )
                .await
            }
            // Left `preparing`: the next start's `resume` tries again.
            Err(e) => tracing::error!(share = %share.id, error = %e, "could not record a failed share"),
        }
    }

    async fn prepare_inner(
        self: &Arc<Self>,
        share: &Share,
        rows: Option<Vec<InstanceRow>>,
    ) -> Result<Done, Failure> {
        let store = &*self.store;
        let Some(secret) = store.share_deid_secret(share.id).await? else {
            return Ok(Done::Gone);
        };
        let secret: [u8; 32] = secret.try_into().map_err(|_| {
            Failure::new(
                "internal",
                "The link's de-identification key is damaged. Please send it again.",
            )
        })?;
        let settings = store.account_settings(share.account_id).await?;
        let rows = match rows {
            Some(rows) => rows,
            None => self.snapshot_rows(share).await?,
        };
        let total = rows.len();
        // No text finder here: the OCR check runs after the messages are out
        // (text_checks.rs), on what this pass stores.
        let deid = Arc::new(Deidentifier::new(profile(&settings.deid), ShareKeys::from_secret(secret)));
        let sources: HashMap<InstanceId, String> = rows.iter().map(|r| (r.id, r.blob_key.clone())).collect();

        let limit = Arc::new(Semaphore::new(self.config.workers.max(1)));
        let mut tasks = JoinSet::new();
        for (position, row) in rows.into_iter().enumerate() {
            let (service, deid, limit) = (self.clone(), deid.clone(), limit.clone());
            let (id, account) = (share.id, share.account_id);
            tasks.spawn(async move {
                let _permit = limit
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                let result = service.prepare_one(id, account, position, &row, deid).await;
                if let Some(p) = service.jobs().running.get_mut(&id) {
                    p.done += 1;
                }
                (position, result)
            });
        }
        let mut items = Vec::with_capacity(total);
        let mut rejected = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (position, result) = match joined {
                Ok(r) => r,
                Err(_) => {
                    tasks.abort_all();
                    return Err(Failure::new(
                        "internal",
                        "An internal error stopped the preparation. Please send the link again.",
                    ));
                }
            };
            match result {
                Ok(One::Item(item)) => items.push(*item),
                Ok(One::Rejected(reason)) => rejected.push((position, reason)),
                Err(f) => {
                    tasks.abort_all();
                    return Err(f);
                }
            }
        }
        items.sort_by_key(|i| i.position);
        rejected.sort_by_key(|(p, _)| *p);
        if !rejected.is_empty() {
            tracing::info!(share = %share.id, rejected = rejected.len(), of = total, "objects left out of a share");
        }
        if items.is_empty() {
            let why = rejected
                .first()
                .map(|(_, r)| r.as_str())
                .unwrap_or("no object was chosen");
            let reason = if total == 1 {
                format!(
                    "The chosen object could not be de-identified ({why}), so there is nothing to share."
                )
            } else {
                format!(
                    "None of the {total} chosen objects could be de-identified (first reason: {why}), so there is nothing to share."
                )
            };
            return Err(Failure::new("all_rejected", reason));
        }

        match store.put_share_items(share.id, &items).await {
            Err(StoreError::Conflict(_)) => return Ok(Done::Gone),
            other => other?,
        }
        let password_required = items.iter().any(|i| i.password_reason.is_some());
        // Read again: staff may have revoked the link while it was prepared,
        // and a revoked link's messages must not go out.
        let Some(current) = store.share(share.account_id, share.id).await? else {
            return Ok(Done::Gone);
        };
        if current.state != ShareState::Preparing {
            return Ok(Done::Gone);
        }
        let msgs = if current.revoked_at.is_some() {
            Vec::new()
        } else {
            self.build_messages(&current, &settings, current.expires_at)
        };
        let now = self.clock.now();
        match store
            .finish_share(
                share.id,
                password_required,
                &current.created_by_label,
                &msgs,
                now,
            )
            .await
        {
            Err(StoreError::Conflict(_)) => return Ok(Done::Gone),
            other => other?,
        };
        if !msgs.is_empty() {
            self.wake_outbox();
        }
        if current.revoked_at.is_none() {
            self.start_text_checks(
                items
                    .iter()
                    .filter(|i| i.text_check == TextCheck::Pending)
                    .filter_map(|i| Some((i.clone(), sources.get(&i.source_instance_id)?.clone())))
                    .collect(),
            );
            self.start_videos(items.iter().filter(|i| i.video_pending && i.text_check.shows()).cloned().collect());
        }
        Ok(Done::Ready {
            items: items.len(),
            rejected: rejected.len(),
            password_required,
            messages: msgs.len(),
        })
    }

    /// The share's instances, in snapshot order, for a restarted preparation.
    async fn snapshot_rows(&self, share: &Share) -> Result<Vec<InstanceRow>, Failure> {
        let gone = || {
            Failure::new(
                "source_missing",
                "An image chosen for this link is no longer in the archive.",
            )
        };
        let study_uid = study_uid_by_id(&*self.store, share.account_id, share.study_id)
            .await?
            .ok_or_else(gone)?;
        let mut rows = study_instances(&*self.store, share.account_id, &study_uid).await?;
        share
            .instance_ids
            .iter()
            .map(|id| {
                let i = rows.iter().position(|r| r.id == *id).ok_or_else(gone)?;
                Ok(rows.swap_remove(i))
            })
            .collect()
    }

    /// Reads, de-identifies and renders one object and stores its files.
    async fn prepare_one(
        &self,
        share: ShareId,
        account: AccountId,
        position: usize,
        row: &InstanceRow,
        deid: Arc<Deidentifier>,
    ) -> Result<One, Failure> {
        let original = self.blobs.get(&row.blob_key).await.map_err(|e| match e {
            StoreError::Blob(object_store::Error::NotFound { .. }) => Failure::new(
                "blob_missing",
                "An original image file is missing from storage.",
            ),
            e => e.into(),
        })?;
        let outcome = tokio::task::spawn_blocking(move || object::prepare(&deid, &original))
            .await
            .map_err(|_| {
                Failure::new(
                    "internal",
                    "An internal error stopped the preparation. Please send the link again.",
                )
            })?;
        let p = match outcome {
            ObjectOutcome::Rejected(reason) => return Ok(One::Rejected(reason)),
            ObjectOutcome::Prepared(p) => p,
        };
        if let Some(note) = &p.note {
            // Renderer and encoder messages carry no patient data.
            tracing::warn!(share = %share, position, note = %note, "object shared without a preview or video");
        }
        let base = format!("shares/{account}/{share}/{position}");
        let mut item = ShareItem {
            share_id: share,
            position: position as i32,
            source_instance_id: row.id,
            kind: ItemKind::Other,
            password_reason: p.password_reason,
            sop_instance_uid: p.sop_instance_uid,
            dicom_key: format!("{base}.dcm"),
            dicom_size: p.dicom.len() as i64,
            jpeg_key: None,
            jpeg_size: None,
            thumb_key: None,
            mp4_key: None,
            mp4_size: None,
            video_pending: false,
            // Patients get nothing of it before OCR has read its image area.
            text_check: if p.pixels_cleaned && self.config.text_finder.is_some() {
                TextCheck::Pending
            } else {
                TextCheck::None
            },
            doc_key: None,
            doc_size: None,
            doc_content_type: None,
            rows: p.rows,
            columns: p.columns,
            frames: p.frames,
            frame_ms: None,
        };
        self.put(&item.dicom_key, p.dicom).await?;
        match p.view {
            View::Image { jpeg, thumb } => {
                item.kind = ItemKind::Image;
                self.put_previews(&mut item, &base, jpeg, thumb).await?;
            }
            View::Cine {
                jpeg,
                thumb,
                frame_ms,
            } => {
                item.kind = ItemKind::Cine;
                self.put_previews(&mut item, &base, jpeg, thumb).await?;
                item.video_pending = true;
                item.frame_ms = Some(frame_ms);
            }
            View::Document(doc) => {
                item.kind = ItemKind::Document;
                let key = format!("{base}.{}", doc.ext);
                item.doc_size = Some(doc.bytes.len() as i64);
                item.doc_content_type = Some(doc.content_type);
                self.put(&key, doc.bytes).await?;
                item.doc_key = Some(key);
            }
            View::Other => {}
        }
        Ok(One::Item(Box::new(item)))
    }

    async fn put_previews(
        &self,
        item: &mut ShareItem,
        base: &str,
        jpeg: Vec<u8>,
        thumb: Vec<u8>,
    ) -> Result<(), Failure> {
        let (jpeg_key, thumb_key) = (format!("{base}.jpg"), format!("{base}.thumb.jpg"));
        item.jpeg_size = Some(jpeg.len() as i64);
        self.put(&jpeg_key, jpeg).await?;
        self.put(&thumb_key, thumb).await?;
        item.jpeg_key = Some(jpeg_key);
        item.thumb_key = Some(thumb_key);
        Ok(())
    }

    async fn put(&self, key: &str, data: Vec<u8>) -> Result<(), Failure> {
        Ok(self.blobs.put_bytes(key, Bytes::from(data)).await?)
    }
}

/// The clinic's options as the de-identifier's profile. The two types share
/// field and serde names (see `studylink_model::DeidOptions`); should they
/// ever drift apart, the Basic profile with no options, the most removing
/// choice, is used rather than failing the share.
pub(crate) fn profile(options: &DeidOptions) -> Profile {
    serde_json::to_value(options).and_then(serde_json::from_value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "clinic de-identification options do not convert; using the basic profile");
        Profile::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_deid::DateOption;
    use studylink_model::DateRetention;

    #[test]
    fn every_clinic_option_reaches_the_profile() {
        assert_eq!(profile(&DeidOptions::default()), Profile::default());
        for (retain, want) in [
            (DateRetention::Remove, DateOption::Remove),
            (DateRetention::Full, DateOption::Full),
            (DateRetention::Shift, DateOption::Shift),
        ] {
            let o = DeidOptions {
                retain_dates: retain,
                retain_patient_characteristics: true,
                retain_device_identity: true,
                clean_descriptors: true,
                retain_safe_private: true,
            };
            let p = profile(&o);
            assert_eq!(p.retain_dates, want);
            assert!(p.retain_patient_characteristics && p.retain_device_identity);
            assert!(p.clean_descriptors && p.retain_safe_private);
        }
    }

    #[test]
    fn date_shift_derives_from_the_share_secret() {
        // A restarted preparation must shift dates exactly as the first try did.
        let a = ShareKeys::from_secret([3; 32]).date_shift_days();
        assert_eq!(a, ShareKeys::from_secret([3; 32]).date_shift_days());
        assert!(a <= -30);
    }
}
