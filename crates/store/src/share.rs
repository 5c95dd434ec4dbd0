//! Patient links: the share rows, their de-identified items, each send and its
//! messages, and what the landing page needs (password, lockout, access grants,
//! view and download counters).
//!
//! Every method is scoped: staff calls take the account; the landing page finds
//! a share only by the hash of its token. Contacts and password hashes are
//! patient secrets: never log them.
//!
//! Shares are never deleted. Unless a method says otherwise, a write on a
//! share id that does not exist (in the account, where one is given) fails
//! with `StoreError::NotFound`, and a state transition that is not allowed
//! from the share's current state with `StoreError::Conflict`. Lists are
//! ordered by id, which only grows, so "newest" means most recently created.

use async_trait::async_trait;
use studylink_model::{AccountId, Millis, NewShare, Share, ShareId, ShareItem, ShareSend, StudyId};

use crate::StoreResult;
use crate::outbox::{NewOutboxMessage, OutboxMessage};

/// A send and the messages it queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSendWithMessages {
    pub send: ShareSend,
    pub messages: Vec<OutboxMessage>,
}

/// How an item's text check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextCheckResult {
    /// Read. The sizes are set when identifying words were blanked and the
    /// files rewritten under the same keys (`None`: unchanged).
    Passed { dicom_size: Option<i64>, jpeg_size: Option<i64> },
    /// Could not be read: the item is held back for good.
    Failed,
}

/// What [`ShareStore::record_share_failure`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureState {
    /// Wrong attempts counted since the last lock or success.
    pub failed_attempts: i64,
    /// Set when this failure reached the limit.
    pub locked_until: Option<Millis>,
}

#[async_trait]
pub trait ShareStore: Send + Sync + 'static {
    /// Inserts the share (state `preparing`) and its instance snapshot, in one
    /// transaction. The study and every instance must belong to the account
    /// (and the instances to the study), else `NotFound` and nothing is
    /// written; `created_by`, when set, must name an existing user (`NotFound`).
    /// `Conflict` if the token hash is taken or an instance is listed twice.
    /// An empty snapshot is stored as given.
    async fn create_share(&self, new: &NewShare) -> StoreResult<Share>;

    /// `None` if it does not exist or belongs to another account.
    async fn share(&self, account: AccountId, id: ShareId) -> StoreResult<Option<Share>>;

    /// The landing page's lookup: by SHA-256 (hex) of the token, any account.
    async fn share_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Share>>;

    /// A study's shares, newest first.
    async fn shares_for_study(&self, account: AccountId, study: StudyId)
    -> StoreResult<Vec<Share>>;

    /// The account's shares, newest first, at most `limit`. `before`: only
    /// shares with a smaller id (pass the last id of the previous page).
    async fn list_shares(
        &self,
        account: AccountId,
        before: Option<ShareId>,
        limit: i64,
    ) -> StoreResult<Vec<Share>>;

    /// The de-identification secret while the share is `preparing`; `None`
    /// after, and for an unknown id. (The schema keeps it NULL outside `preparing`.)
    async fn share_deid_secret(&self, id: ShareId) -> StoreResult<Option<Vec<u8>>>;

    /// Shares still `preparing` (e.g. after a crash), oldest first, any account.
    async fn preparing_shares(&self) -> StoreResult<Vec<Share>>;

    /// Replaces the share's items with these (a restarted preparation writes
    /// them all again), in one transaction; items are stored under `id`,
    /// whatever their own `share_id` says. Only while `preparing`, else
    /// `Conflict`. Each `source_instance_id` must be in the share's snapshot
    /// (`NotFound`), each `position` used once (`Conflict`); on any error the
    /// previous items stay.
    async fn put_share_items(&self, id: ShareId, items: &[ShareItem]) -> StoreResult<()>;

    /// Items in `position` order.
    async fn share_items(&self, id: ShareId) -> StoreResult<Vec<ShareItem>>;

    /// Cine items whose MP4 is still to be encoded, of ready, unrevoked
    /// shares (for a restarted node to finish them).
    async fn pending_share_videos(&self) -> StoreResult<Vec<ShareItem>>;

    /// Records a pending item's video (`None`: encoding gave up; the loop
    /// stays a still). False when the item was not pending (already done).
    async fn set_share_item_video(
        &self,
        id: ShareId,
        position: i32,
        mp4: Option<(&str, i64)>,
    ) -> StoreResult<bool>;

    /// Items whose text check is `pending`, of ready, unrevoked shares, each
    /// with its original's blob key (for a restarted node to check them).
    async fn pending_share_text_checks(&self) -> StoreResult<Vec<(ShareItem, String)>>;

    /// Records a pending item's text check: `Passed` (with the new sizes when
    /// the check rewrote its files) or `Failed`. False when the item was not
    /// pending (another node recorded it first).
    async fn set_share_item_text_check(
        &self,
        id: ShareId,
        position: i32,
        result: TextCheckResult,
    ) -> StoreResult<bool>;

    /// One transaction: state `ready`, `password_required` set, the secret
    /// erased, a send of kind `initial` by `by_label` at `now`, `last_sent_at = now`,
    /// and `msgs` enqueued in the outbox (due at `now`) with that send: their
    /// `share_id` is set to `id` and their `account_id` to the share's account,
    /// whatever the caller filled in. Only from `preparing`, else `Conflict`
    /// (so a second call, e.g. after a restart, queues nothing twice).
    /// `msgs` may be empty (the send is still recorded). If the share was
    /// revoked while it was being prepared, the messages are recorded already
    /// `failed` ("link revoked"). Returns the send id.
    async fn finish_share(
        &self,
        id: ShareId,
        password_required: bool,
        by_label: &str,
        msgs: &[NewOutboxMessage],
        now: Millis,
    ) -> StoreResult<i64>;

    /// State `failed` with the reason; the secret erased. Only from
    /// `preparing`, else `Conflict`. (`now` is not stored.)
    async fn fail_share(&self, id: ShareId, error: &str, now: Millis) -> StoreResult<()>;

    /// One transaction: `expires_at = new_expires_at`, a send of kind `resend`,
    /// `last_sent_at = now`, `msgs` enqueued with that send. Only while the share
    /// is `ready`, unrevoked and `expires_at > now`, else `Conflict` (an expired
    /// link is never renewed); `NotFound` if it is not the account's. Messages
    /// get `share_id = id` and the account, as in [`Self::finish_share`].
    /// Returns the send id.
    async fn resend_share(
        &self,
        account: AccountId,
        id: ShareId,
        new_expires_at: Millis,
        by_label: &str,
        msgs: &[NewOutboxMessage],
        now: Millis,
    ) -> StoreResult<i64>;

    /// Sets `revoked_at` (irreversible); false if it was already revoked or not
    /// found in the account (then nothing changes). In the same transaction the
    /// share's `queued` outbox messages become `failed` ("link revoked").
    /// Messages a worker already claimed (`sending`) are left to the worker's
    /// own mark; none is claimed again once the share is revoked
    /// ([`crate::OutboxStore::claim_due`]).
    async fn revoke_share(&self, account: AccountId, id: ShareId, now: Millis)
    -> StoreResult<bool>;

    /// Sends oldest first, each with its outbox messages (oldest first).
    /// Empty for an unknown share or another account's.
    async fn share_sends(
        &self,
        account: AccountId,
        id: ShareId,
    ) -> StoreResult<Vec<ShareSendWithMessages>>;

    /// Stores the first visitor's password hash; false if one was already set
    /// (two first visitors racing: the second must enter the first's).
    /// `NotFound` for an unknown share. (`now` is not stored.)
    async fn set_share_password(
        &self,
        id: ShareId,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// Counts a wrong password or link code atomically (one UPDATE, so
    /// concurrent guesses are all counted); the `max`-th failure sets
    /// `locked_until = now + lock_ms` and resets the count. Does not check an
    /// existing lock: the caller refuses attempts while `locked_until > now`.
    async fn record_share_failure(
        &self,
        id: ShareId,
        max: i64,
        lock_ms: i64,
        now: Millis,
    ) -> StoreResult<FailureState>;

    /// A correct password/code: the failure count goes back to zero
    /// (`locked_until` is left as it is, normally in the past).
    async fn clear_share_failures(&self, id: ShareId) -> StoreResult<()>;

    /// Stores the hash of a landing-page access cookie valid until `expires_at`,
    /// and deletes the share's expired ones. `NotFound` for an unknown share,
    /// `Conflict` if the hash is already granted.
    async fn create_share_access(
        &self,
        id: ShareId,
        token_hash: &str,
        expires_at: Millis,
        now: Millis,
    ) -> StoreResult<()>;

    /// True if that cookie hash was granted for this share and `expires_at > now`.
    /// Says nothing about the share itself: check revocation and expiry too.
    async fn share_access_valid(
        &self,
        id: ShareId,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<bool>;

    /// A landing-page view: views + 1; `first_opened_at`/`last_opened_at`
    /// become the earliest/latest `now` seen (requests may finish out of order).
    async fn record_share_view(&self, id: ShareId, now: Millis) -> StoreResult<()>;

    /// A download (one file or the ZIP): downloads + 1. (`now` is not stored.)
    async fn record_share_download(&self, id: ShareId, now: Millis) -> StoreResult<()>;
}
