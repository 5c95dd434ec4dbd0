//! Patient links ("shares"): what happens between staff pressing Send and the
//! patient's messages being queued, and the later resend and revoke.
//!
//! * [`ShareService::create`] checks the request, stores the share (state
//!   `preparing`) and starts its preparation in the background (`create.rs`).
//! * The preparation (`prepare.rs`) de-identifies every chosen object, makes
//!   what the landing page shows from the *de-identified* object (`object.rs`,
//!   `document.rs`, `cine.rs`), stores the items, and in one store transaction
//!   marks the share ready and queues its messages (`messages.rs`). The MP4s
//!   of cine loops are encoded after that, at lower priority (`videos.rs`).
//! * [`ShareService::resend`] and [`ShareService::revoke`] (`actions.rs`).
//!
//! Nothing here logs patient data: logs carry share ids, counts and error
//! categories; audit details carry counts and channel names, never contacts,
//! names or UIDs.

mod actions;
mod audit;
mod cine;
mod create;
mod document;
mod messages;
mod object;
#[cfg(test)]
mod ocr_tests;
mod prepare;
pub mod token;
mod text_checks;
mod videos;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use studylink_model::{AccountId, Actor, Clock, Language, Share, ShareId, ShareState};
use studylink_notify::PatientContacts;
use studylink_store::outbox::OutboxMessage;
use studylink_store::{BlobStore, OutboxStore, Store, StoreError};
use url::Url;

/// Why a share action failed; web maps each to a status and a message.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("study not found")]
    StudyNotFound,
    #[error("share not found")]
    NotFound,
    #[error("an instance does not belong to this study")]
    UnknownInstance,
    #[error("nothing to share: no images were chosen")]
    Empty,
    #[error("this link has expired or was revoked")]
    Expired,
    #[error("the link is still being prepared")]
    NotReady,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who asked, for the audit log and the Shared tab.
#[derive(Debug, Clone)]
pub struct Requester {
    pub actor: Actor,
    /// "Ana López" / "API key 'ris'".
    pub label: String,
}

/// Where a share's preparation stands, for staff's progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

pub struct ShareConfig {
    /// `https://studies.clinic.example`: links are `{base}/p/{token}`.
    pub public_base_url: Url,
    /// The server's link key (see [`token`]).
    pub link_key: [u8; 32],
    /// Objects prepared at once (de-identification, rendering); videos are
    /// encoded `max(1, workers / 2)` at a time, at lower CPU priority.
    pub workers: usize,
    /// OCR for text typed inside the image area (see
    /// [`studylink_deid::Deidentifier::with_text_finder`]); `None` reads nothing there.
    pub text_finder: Option<Arc<dyn studylink_deid::TextFinder>>,
}

/// Longest side of the gallery thumbnails on the landing page.
pub const THUMBNAIL_MAX: u32 = 320;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How often and how long [`ShareService::wait_ready`] polls.
/// Idle time before freed memory goes back to the system.
const TRIM_AFTER: Duration = Duration::from_secs(3);

const WAIT_POLL: Duration = Duration::from_millis(50);
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// The share service: one per server, shared by the staff pages and the JSON API.
pub struct ShareService {
    store: Arc<dyn Store>,
    outbox: Arc<dyn OutboxStore>,
    blobs: BlobStore,
    config: ShareConfig,
    clock: Clock,
    outbox_waker: Option<Arc<tokio::sync::Notify>>,
    /// Shares this node is preparing, and the accounts of shares it knows.
    jobs: Mutex<Jobs>,
    /// Videos encoded at once on this node.
    video_limit: tokio::sync::Semaphore,
    check_limit: tokio::sync::Semaphore,
    check_pool: std::sync::OnceLock<text_checks::CheckPool>,
}

#[derive(Default)]
struct Jobs {
    /// Shares being prepared here, with their progress. Also stops a `resume`
    /// from starting a second preparation of a share already running.
    running: HashMap<ShareId, Progress>,
    /// The account of each share created or prepared here, so `wait_ready`
    /// (which is given only an id) can read the share through the
    /// account-scoped store methods. Cleared when it grows large.
    accounts: HashMap<ShareId, AccountId>,
    /// Loops (share, position) whose video this node is encoding.
    videos: HashSet<(ShareId, i32)>,
    text_checks: HashSet<(ShareId, i32)>,
}

/// Entries of [`Jobs::accounts`] kept before the map is cleared.
const KNOWN_ACCOUNTS_MAX: usize = 10_000;

impl ShareService {
    pub fn new(
        store: Arc<dyn Store>,
        outbox: Arc<dyn OutboxStore>,
        blobs: BlobStore,
        config: ShareConfig,
        clock: Clock,
        outbox_waker: Option<Arc<tokio::sync::Notify>>,
    ) -> Arc<ShareService> {
        let video_limit = tokio::sync::Semaphore::new((config.workers / 2).max(1));
        let check_limit = tokio::sync::Semaphore::new(config.workers.max(1) * 2);
        Arc::new(ShareService {
            store,
            outbox,
            blobs,
            config,
            clock,
            outbox_waker,
            jobs: Mutex::default(),
            video_limit,
            check_limit,
            check_pool: std::sync::OnceLock::new(),
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Creates the share (state `preparing`) and starts preparing it in the
    /// background; the messages are queued when it is ready.
    /// `instances`: SOP Instance UIDs of the study, or empty for the whole study.
    pub async fn create(
        self: &Arc<Self>,
        account: AccountId,
        study_uid: &str,
        instances: &[String],
        contacts: &PatientContacts,
        language: Language,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        self.create_share(account, study_uid, instances, contacts, language, by)
            .await
    }

    /// Resend: the same link to the same contacts, lifetime renewed.
    pub async fn resend(
        &self,
        account: AccountId,
        id: ShareId,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        self.resend_share(account, id, by).await
    }

    pub async fn revoke(
        &self,
        account: AccountId,
        id: ShareId,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        self.revoke_share(account, id, by).await
    }

    /// `{base}/p/{token}` for a share.
    pub fn link(&self, share: &Share) -> Url {
        let token = token::token_for(&self.config.link_key, &share.token_seed);
        self.public_url(&format!("p/{token}"))
    }

    /// Preparation progress of a share this node is preparing, if any.
    pub fn progress(&self, id: ShareId) -> Option<Progress> {
        self.jobs().running.get(&id).copied()
    }

    /// Restarts the preparation of shares left `preparing` by a crash, and
    /// the encoding of videos left pending. Returns how many shares were
    /// started (shares already running here are skipped).
    pub async fn resume(self: &Arc<Self>) -> Result<usize, ShareError> {
        self.resume_text_checks().await?;
        self.resume_videos().await?;
        let shares = self.store.preparing_shares().await?;
        let mut started = 0;
        for share in shares {
            if self.start_preparation(share, None) {
                started += 1;
            }
        }
        if started > 0 {
            tracing::info!(shares = started, "resumed share preparation");
        }
        Ok(started)
    }

    /// Waits until a share leaves `preparing` (tests, the JSON API's `?wait`).
    /// Gives the share as it stands after about a minute even if still
    /// preparing. Finds shares this node created or prepared, and any share
    /// still preparing; `NotFound` otherwise (the store's lookups by id are
    /// account-scoped, and this call is not given the account).
    pub async fn wait_ready(&self, id: ShareId) -> Result<Share, ShareError> {
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            let share = self.share_by_id(id).await?.ok_or(ShareError::NotFound)?;
            if share.state != ShareState::Preparing || tokio::time::Instant::now() >= deadline {
                return Ok(share);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Waits until a ready share has no video to encode and no image to check
    /// (tests, benchmarks); gives up after about a minute. True when none is pending.
    pub async fn wait_videos(&self, id: ShareId) -> Result<bool, ShareError> {
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            let pending = self
                .store
                .share_items(id)
                .await?
                .iter()
                .any(|i| i.video_pending || i.text_check == studylink_model::TextCheck::Pending);
            if !pending {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// The outbox messages of a share, oldest first (the Shared tab's
    /// delivery status).
    pub async fn messages(
        &self,
        account: AccountId,
        id: ShareId,
    ) -> Result<Vec<OutboxMessage>, ShareError> {
        self.store
            .share(account, id)
            .await?
            .ok_or(ShareError::NotFound)?;
        Ok(self.outbox.list_for_share(account, id.0).await?)
    }

    /// `{base}/{path}`, whether or not the configured base ends in `/` or has
    /// a path of its own (a server behind `https://host/studylink`).
    fn public_url(&self, path: &str) -> Url {
        let base = self.config.public_base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{path}"))
            .expect("the public base URL with a path appended is a URL")
    }

    /// A share by id alone. The store's lookups are account-scoped (staff
    /// must never reach another clinic's share), so the account comes from
    /// what this node knows, else from the list of shares still preparing.
    async fn share_by_id(&self, id: ShareId) -> Result<Option<Share>, ShareError> {
        let known = self.jobs().accounts.get(&id).copied();
        let account = match known {
            Some(a) => a,
            None => match self
                .store
                .preparing_shares()
                .await?
                .into_iter()
                .find(|s| s.id == id)
            {
                Some(s) => s.account_id,
                None => return Ok(None),
            },
        };
        Ok(self.store.share(account, id).await?)
    }

    fn remember_account(&self, id: ShareId, account: AccountId) {
        let mut jobs = self.jobs();
        if jobs.accounts.len() >= KNOWN_ACCOUNTS_MAX {
            jobs.accounts.clear();
        }
        jobs.accounts.insert(id, account);
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, Jobs> {
        // A panic while holding this lock leaves plain maps behind: still usable.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A few seconds after the last preparation, text check or video on
    /// this node, gives the memory they freed back to the system. glibc
    /// keeps freed heap pages for reuse: after a share of 166 loops the idle
    /// process stayed at ~0.9 GB resident, while streaming its ZIP needs a
    /// few MB. Not at once: the next share would fault all those pages in
    /// again (~15% more CPU for back-to-back sends).
    fn release_memory_if_idle(self: &Arc<Self>) {
        if !self.is_idle() {
            return;
        }
        let service = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(TRIM_AFTER).await;
            if service.is_idle() {
                // Walks the heap: tens of milliseconds after a big share.
                let _ = tokio::task::spawn_blocking(trim_heap).await;
            }
        });
    }

    fn is_idle(&self) -> bool {
        let jobs = self.jobs();
        jobs.running.is_empty() && jobs.videos.is_empty() && jobs.text_checks.is_empty()
    }

    fn wake_outbox(&self) {
        if let Some(w) = &self.outbox_waker {
            w.notify_one();
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}
