//! Domain types shared by every StudyLink crate. No I/O lives here.
//!
//! Identifiers are plain `i64` newtypes: both SQLite and PostgreSQL hand out
//! 64-bit keys, and a newtype stops a `StudyId` from being passed as a `UserId`.

mod contact;
mod instance;
mod settings;
mod share;

pub use contact::{Contact, ContactKind};
pub use instance::{InstanceMeta, InstanceInfo, PatientInfo, SeriesInfo, StudyInfo};
pub use share::{ItemKind, NewShare, SendKind, Share, ShareId, ShareItem, ShareSend, ShareState, TextCheck};
pub use settings::{
    AccountSettings, DEFAULT_LINK_LIFETIME_DAYS, DEFAULT_TIME_ZONE, DateRetention, DeidOptions, LINK_LIFETIMES_DAYS,
    Language, Logo,
};

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
    )*};
}
id_type!(AccountId, UserId, PatientId, StudyId, SeriesId, InstanceId, ApiKeyId);

/// Milliseconds since the Unix epoch, UTC. Stored as BIGINT in both databases so
/// that SQLite and PostgreSQL compare and sort times the same way.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

/// A clinic. Every row that belongs to a clinic carries its `AccountId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: String,
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub created_at: Millis,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub account_id: AccountId,
    /// Already normalised (trimmed, lower-case).
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

/// A staff browser session. Only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// First characters of the key, shown in lists so staff can tell keys apart.
    pub prefix: String,
    pub key_hash: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// Where an instance came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestSource {
    Dimse,
    Stow,
    Upload,
    Import,
}

impl IngestSource {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestSource::Dimse => "dimse",
            IngestSource::Stow => "stow",
            IngestSource::Upload => "upload",
            IngestSource::Import => "import",
        }
    }
}

/// Who did something, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(UserId),
    ApiKey(ApiKeyId),
    /// A DICOM peer, by calling AE title.
    Device(String),
    System,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User(_) => "user",
            Actor::ApiKey(_) => "api_key",
            Actor::Device(_) => "device",
            Actor::System => "system",
        }
    }
    /// The actor's identifier as text (user id, key id, AE title), empty for the system.
    pub fn id_text(&self) -> String {
        match self {
            Actor::User(id) => id.to_string(),
            Actor::ApiKey(id) => id.to_string(),
            Actor::Device(ae) => ae.clone(),
            Actor::System => String::new(),
        }
    }
}

/// One line of the append-only audit log. `detail` is JSON and must never hold
/// patient names, IDs or birth dates: refer to rows by their ids instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub account_id: Option<AccountId>,
    pub actor: Actor,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub at: Millis,
    pub event: AuditEvent,
}

/// The time source for rules that depend on "now" (link expiry, lockouts), so
/// tests can move time forward instead of waiting. Production uses the system clock.
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> Millis + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(std::sync::Arc::new(now_millis))
    }

    /// The system clock plus an offset the caller can change (tests).
    pub fn offset(offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>) -> Clock {
        Clock(std::sync::Arc::new(move || now_millis() + offset_ms.load(std::sync::atomic::Ordering::SeqCst)))
    }

    pub fn now(&self) -> Millis {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}
