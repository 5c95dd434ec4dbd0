//! Persistence for StudyLink.
//!
//! * [`Store`] — the metadata repository. One trait, two implementations
//!   ([`SqliteStore`], [`PgStore`]) that must behave identically; the contract
//!   suite in `tests/contract.rs` runs the same assertions against both.
//! * [`BlobStore`] — original DICOM files and derived objects, through the
//!   `object_store` crate (local filesystem by default, S3-compatible when configured).

mod blob;
mod error;
pub mod outbox;
mod query;
pub mod share;
mod sql;

pub use blob::{BlobConfig, BlobStore};
pub use error::{StoreError, StoreResult};
pub use query::{
    DateRange, InstanceQuery, InstanceRow, Page, SeriesQuery, SeriesRow, StudyQuery, StudyRow,
    StudySearch, StudySearchPage,
};
pub use outbox::OutboxStore;
pub use share::{FailureState, ShareSendWithMessages, ShareStore, TextCheckResult};
pub use sql::connect_with_outbox;
pub use sql::search_terms;
pub use sql::{BlockingIndex, FoundInstance, PgStore, SqliteStore, connect};

use async_trait::async_trait;
use studylink_model::*;

/// What `insert_instance` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// A new instance row was committed.
    Inserted(InstanceId),
    /// The SOP Instance UID was already stored for this account; nothing changed.
    /// The caller should delete the blob it just wrote if its key differs.
    Duplicate { id: InstanceId, blob_key: String },
}

/// A new instance to index: its parsed header plus where its bytes are.
#[derive(Debug, Clone)]
pub struct NewInstance<'a> {
    pub account_id: AccountId,
    pub meta: &'a InstanceMeta,
    pub blob_key: &'a str,
    pub size_bytes: i64,
    pub source: IngestSource,
    /// Calling AE title for DIMSE, user/api key description otherwise. Not patient data.
    pub received_from: &'a str,
}

/// The metadata repository. Every method is one transaction: when it returns
/// `Ok`, its writes are committed durably.
#[async_trait]
pub trait Store: ShareStore + Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;

    /// Round-trips a trivial query; used by /healthz.
    async fn ping(&self) -> StoreResult<()>;

    /// A synchronous path for the ingest pipeline's index writes, where the
    /// backend has one that is faster than the async methods (SQLite files).
    fn blocking_index(&self) -> Option<std::sync::Arc<dyn BlockingIndex>> {
        None
    }

    // --- accounts -------------------------------------------------------
    /// The account that single-clinic installs use; created on first call.
    async fn default_account(&self) -> StoreResult<Account>;
    async fn create_account(&self, name: &str) -> StoreResult<Account>;
    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>>;

    // --- users ----------------------------------------------------------
    async fn count_users(&self) -> StoreResult<i64>;
    /// Fails with `StoreError::Conflict` if the email is taken (emails are unique
    /// across all accounts, so login needs no account picker).
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn list_users(&self, account: AccountId) -> StoreResult<Vec<User>>;
    async fn set_user_password(&self, id: UserId, password_hash: &str) -> StoreResult<()>;

    // --- one-time setup tokens (first admin) ------------------------------
    /// Stores the hash of a setup token valid until `expires_at`, replacing any other.
    async fn put_setup_token(&self, token_hash: &str, expires_at: Millis) -> StoreResult<()>;
    /// Atomically consumes the token: returns true once, if it exists and is unexpired.
    async fn take_setup_token(&self, token_hash: &str, now: Millis) -> StoreResult<bool>;

    // --- staff sessions -------------------------------------------------
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session and its user, if the session exists, is unexpired at `now` and
    /// the user is not disabled.
    async fn session(&self, token_hash: &str, now: Millis) -> StoreResult<Option<(Session, User)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn delete_expired_sessions(&self, now: Millis) -> StoreResult<u64>;

    // --- login rate limiting (kept in the database so several nodes agree) --
    async fn record_login_failure(&self, key: &str, at: Millis) -> StoreResult<()>;
    async fn count_login_failures(&self, key: &str, since: Millis) -> StoreResult<i64>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;

    // --- API keys ---------------------------------------------------------
    async fn create_api_key(
        &self,
        account: AccountId,
        name: &str,
        prefix: &str,
        key_hash: &str,
    ) -> StoreResult<ApiKey>;
    /// An unrevoked key by hash.
    async fn api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;
    async fn list_api_keys(&self, account: AccountId) -> StoreResult<Vec<ApiKey>>;
    async fn revoke_api_key(
        &self,
        account: AccountId,
        id: ApiKeyId,
        at: Millis,
    ) -> StoreResult<bool>;

    // --- the DICOM index --------------------------------------------------
    /// Upserts patient, study and series, inserts the instance and the study's
    /// contacts, in one transaction. Idempotent on (account, SOP Instance UID).
    async fn insert_instance(&self, new: &NewInstance<'_>) -> StoreResult<InsertOutcome>;
    /// The blob key of an instance, if it is stored.
    async fn instance_by_sop(
        &self,
        account: AccountId,
        sop_uid: &str,
    ) -> StoreResult<Option<InstanceRow>>;
    async fn query_studies(&self, account: AccountId, q: &StudyQuery)
    -> StoreResult<Vec<StudyRow>>;
    async fn query_series(
        &self,
        account: AccountId,
        q: &SeriesQuery,
    ) -> StoreResult<Vec<SeriesRow>>;
    async fn query_instances(
        &self,
        account: AccountId,
        q: &InstanceQuery,
    ) -> StoreResult<Vec<InstanceRow>>;
    /// Contacts read from the study's instances, deduplicated, in first-seen order.
    async fn study_contacts(
        &self,
        account: AccountId,
        study_uid: &str,
    ) -> StoreResult<Vec<Contact>>;
    async fn count_instances(&self, account: AccountId) -> StoreResult<i64>;
    /// The Studies screen: one page of matching studies and the total count.
    async fn search_studies(
        &self,
        account: AccountId,
        q: &StudySearch,
    ) -> StoreResult<StudySearchPage>;
    /// Up to `per_study` instances of each study to show as thumbnails: images
    /// before non-images, the first instance of each series before second ones.
    /// Grouped by study, in that preference order.
    async fn study_previews(
        &self,
        account: AccountId,
        study_uids: &[String],
        per_study: i64,
    ) -> StoreResult<Vec<InstanceRow>>;
    /// Every blob key the index refers to (for the orphan sweep and consistency checks).
    async fn all_blob_keys(&self) -> StoreResult<Vec<String>>;

    // --- clinic settings ----------------------------------------------------
    /// The clinic's settings: what it saved, defaults for the rest.
    /// `NotFound` for an unknown account.
    async fn account_settings(&self, account: AccountId) -> StoreResult<AccountSettings>;
    /// Saves every editable field (not `link_code_version`, not `updated_at`)
    /// and audits the names of those that changed, in one transaction.
    /// Returns those names; nothing is written when none changed.
    async fn update_account_settings(
        &self,
        account: AccountId,
        settings: &AccountSettings,
        actor: &Actor,
    ) -> StoreResult<Vec<&'static str>>;
    /// Sets, changes (`Some(argon2 hash)`) or removes (`None`) the patient link
    /// code; audited without the hash. Returns the new version: every call
    /// takes the next number, removals included.
    async fn set_link_code(
        &self,
        account: AccountId,
        code_hash: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<i64>;
    /// The code a link made under `version` requires: that version's hash,
    /// still valid after later changes, but `None` once the code was removed
    /// after it (removing the code removes the prompt from existing links).
    async fn link_code_hash(&self, account: AccountId, version: i64) -> StoreResult<Option<String>>;
    /// The version a link made now records, `None` when no code is in force.
    async fn current_link_code_version(&self, account: AccountId) -> StoreResult<Option<i64>>;

    // --- audit log (append-only: the schema refuses UPDATE and DELETE) ------
    async fn audit(&self, event: &AuditEvent) -> StoreResult<i64>;
    async fn audit_events(
        &self,
        account: Option<AccountId>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
}
