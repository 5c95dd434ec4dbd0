//! Patient links ("shares"): a snapshot of chosen instances, de-identified into
//! derived objects, reachable at `/p/{token}` until it expires or is revoked.
//!
//! Contacts (`email`, `phone`) are patient data: show them to staff (masked in
//! lists), never log them. The token itself is never stored, only its hash.

use serde::{Deserialize, Serialize};

use crate::{AccountId, InstanceId, Language, Millis, StudyId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShareId(pub i64);

impl std::fmt::Display for ShareId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where the share's preparation (de-identification, renderings, videos) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareState {
    /// Derived objects are being made; no message has been queued yet.
    Preparing,
    /// Every item is stored and the first send was queued.
    Ready,
    /// Nothing could be shared (e.g. every object was rejected): `state_error` says why.
    Failed,
}

impl ShareState {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareState::Preparing => "preparing",
            ShareState::Ready => "ready",
            ShareState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<ShareState> {
        [ShareState::Preparing, ShareState::Ready, ShareState::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What the landing page does with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// One frame: a JPEG rendering.
    Image,
    /// Several frames: a JPEG of the first frame and an MP4 of the loop.
    Cine,
    /// A report (encapsulated PDF, structured report …): opened as a document.
    Document,
    /// De-identified DICOM with nothing to show (downloads only).
    Other,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Image => "image",
            ItemKind::Cine => "cine",
            ItemKind::Document => "document",
            ItemKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<ItemKind> {
        [
            ItemKind::Image,
            ItemKind::Cine,
            ItemKind::Document,
            ItemKind::Other,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Whether an item's image area was read for identifying text (OCR) before
/// patients may see it. The link goes out as soon as every object is
/// de-identified; images wait for this check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextCheck {
    /// Nothing to read (no cleaned pixels, or no OCR configured).
    None,
    /// Held back from patients until read.
    Pending,
    /// Read; identifying words, if any, were blanked.
    Passed,
    /// Could not be read: held back for good (fail closed).
    Failed,
}

impl TextCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            TextCheck::None => "none",
            TextCheck::Pending => "pending",
            TextCheck::Passed => "passed",
            TextCheck::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<TextCheck> {
        [TextCheck::None, TextCheck::Pending, TextCheck::Passed, TextCheck::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
    /// Patients may see the item's pixels (JPEG, video, DICOM).
    pub fn shows(self) -> bool {
        matches!(self, TextCheck::None | TextCheck::Passed)
    }
}

/// A share as staff ask for it; the store adds id and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShare {
    pub account_id: AccountId,
    pub study_id: StudyId,
    /// SHA-256 (hex) of the link's token.
    pub token_hash: String,
    /// 32 random bytes; the token is HMAC-SHA256(server link key, seed), so the
    /// server can rebuild the link for a resend while a database dump alone
    /// reveals no link (see `studylink_share::token`).
    pub token_seed: Vec<u8>,
    pub created_by: Option<UserId>,
    /// "Ana López" or "API key 'ris'": shown on the Shared tab. Not patient data.
    pub created_by_label: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub language: Language,
    /// Normalised email address, if any. Patient data.
    pub email: Option<String>,
    /// E.164 phone number, if any. Patient data.
    pub phone: Option<String>,
    /// The clinic's link code version in force (0: none was set).
    pub link_code_version: i64,
    /// The per-share de-identification secret (32 bytes): kept until the share is
    /// ready so an interrupted preparation restarts with the same UIDs, then erased.
    pub deid_secret: Vec<u8>,
    /// The snapshot, in the order staff see it.
    pub instance_ids: Vec<InstanceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    pub id: ShareId,
    pub account_id: AccountId,
    pub study_id: StudyId,
    #[serde(skip)]
    pub token_seed: Vec<u8>,
    pub created_by: Option<UserId>,
    pub created_by_label: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    pub language: Language,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub state: ShareState,
    pub state_error: Option<String>,
    /// Some shared object could not be de-identified with confidence.
    pub password_required: bool,
    /// The argon2id hash the first visitor set (only when `password_required`).
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub link_code_version: i64,
    /// Wrong passwords or codes since the last lock or success.
    pub failed_attempts: i64,
    pub locked_until: Option<Millis>,
    pub first_opened_at: Option<Millis>,
    pub last_opened_at: Option<Millis>,
    pub views: i64,
    pub downloads: i64,
    pub last_sent_at: Option<Millis>,
    pub instance_ids: Vec<InstanceId>,
}

impl Share {
    /// Usable by the patient and resendable by staff at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && self.state != ShareState::Failed
    }
}

/// One de-identified object of a share, with its derived files in the blob store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareItem {
    pub share_id: ShareId,
    /// 0-based order on the landing page.
    pub position: i32,
    pub source_instance_id: InstanceId,
    pub kind: ItemKind,
    /// Needed a password: the reason from the de-identification report.
    pub password_reason: Option<String>,
    /// The de-identified object's SOP Instance UID (not the original's).
    pub sop_instance_uid: String,
    pub dicom_key: String,
    pub dicom_size: i64,
    /// Full-size JPEG (first frame for a cine).
    pub jpeg_key: Option<String>,
    pub jpeg_size: Option<i64>,
    /// Small JPEG for the gallery.
    pub thumb_key: Option<String>,
    /// H.264 MP4 of a cine loop.
    pub mp4_key: Option<String>,
    pub mp4_size: Option<i64>,
    /// A cine loop whose MP4 is still to be encoded (after the share became
    /// ready). False once it is stored, or once encoding gave up.
    pub video_pending: bool,
    /// The OCR check of the image area; until it passes, patients get none of
    /// the item's files.
    pub text_check: TextCheck,
    /// A report's document (e.g. the encapsulated PDF) and its media type.
    pub doc_key: Option<String>,
    pub doc_size: Option<i64>,
    pub doc_content_type: Option<String>,
    pub rows: Option<i32>,
    pub columns: Option<i32>,
    pub frames: i32,
    /// Milliseconds per frame for a cine (native rate).
    pub frame_ms: Option<f64>,
}

/// Why staff sent the link this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendKind {
    /// The share's first send, queued when it became ready.
    Initial,
    /// Resend (same link, lifetime renewed).
    Resend,
}

impl SendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::Initial => "initial",
            SendKind::Resend => "resend",
        }
    }
    pub fn parse(s: &str) -> Option<SendKind> {
        [SendKind::Initial, SendKind::Resend]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// One send of a share (its messages are outbox rows with this `send_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareSend {
    pub id: i64,
    pub share_id: ShareId,
    pub kind: SendKind,
    pub at: Millis,
    pub by_label: String,
}
