//! Database rows as both backends return them, and their conversion to model
//! types. Every integer column is BIGINT, so `i64` decodes on both.

use studylink_model::*;

use crate::query::{InstanceRow, SeriesRow, StudyRow};
use crate::{StoreError, StoreResult};

/// A stored value the model cannot represent (e.g. an unknown role): the
/// schema's CHECKs make this unreachable short of manual edits.
fn corrupt(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

#[derive(sqlx::FromRow)]
pub(super) struct AccountDb {
    id: i64,
    name: String,
    created_at: i64,
}

impl From<AccountDb> for Account {
    fn from(r: AccountDb) -> Self {
        Account {
            id: AccountId(r.id),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserDb {
    id: i64,
    account_id: i64,
    email: String,
    password_hash: String,
    role: String,
    created_at: i64,
    disabled: bool,
}

impl TryFrom<UserDb> for User {
    type Error = StoreError;
    fn try_from(r: UserDb) -> StoreResult<User> {
        let role =
            Role::parse(&r.role).ok_or_else(|| corrupt(format!("unknown role {:?}", r.role)))?;
        Ok(User {
            id: UserId(r.id),
            account_id: AccountId(r.account_id),
            email: r.email,
            password_hash: r.password_hash,
            role,
            created_at: r.created_at,
            disabled: r.disabled,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionUserDb {
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    session_created_at: i64,
    expires_at: i64,
    #[sqlx(flatten)]
    user: UserDb,
}

impl TryFrom<SessionUserDb> for (Session, User) {
    type Error = StoreError;
    fn try_from(r: SessionUserDb) -> StoreResult<(Session, User)> {
        let session = Session {
            token_hash: r.token_hash,
            user_id: UserId(r.user_id),
            csrf_token: r.csrf_token,
            created_at: r.session_created_at,
            expires_at: r.expires_at,
        };
        Ok((session, r.user.try_into()?))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ApiKeyDb {
    id: i64,
    account_id: i64,
    name: String,
    prefix: String,
    key_hash: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<ApiKeyDb> for ApiKey {
    fn from(r: ApiKeyDb) -> Self {
        ApiKey {
            id: ApiKeyId(r.id),
            account_id: AccountId(r.account_id),
            name: r.name,
            prefix: r.prefix,
            key_hash: r.key_hash,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct StudyDb {
    id: i64,
    study_uid: String,
    patient_name: Option<String>,
    patient_id: Option<String>,
    patient_birth_date: Option<String>,
    patient_sex: Option<String>,
    study_id: Option<String>,
    accession: Option<String>,
    study_date: Option<String>,
    study_time: Option<String>,
    description: Option<String>,
    referring_physician: Option<String>,
    /// Comma-joined (modalities never contain commas: CS values are `[A-Z0-9_ ]`).
    modalities: Option<String>,
    num_series: i64,
    num_instances: i64,
    received_at: i64,
}

impl From<StudyDb> for StudyRow {
    fn from(r: StudyDb) -> Self {
        let mut modalities: Vec<String> = r
            .modalities
            .iter()
            .flat_map(|m| m.split(','))
            .map(str::to_owned)
            .collect();
        modalities.sort();
        modalities.dedup();
        StudyRow {
            id: StudyId(r.id),
            study_uid: r.study_uid,
            patient_name: r.patient_name,
            patient_id: r.patient_id,
            patient_birth_date: r.patient_birth_date,
            patient_sex: r.patient_sex,
            study_id: r.study_id,
            accession: r.accession,
            date: r.study_date,
            time: r.study_time,
            description: r.description,
            referring_physician: r.referring_physician,
            modalities,
            num_series: r.num_series,
            num_instances: r.num_instances,
            received_at: r.received_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SeriesDb {
    id: i64,
    study_uid: String,
    series_uid: String,
    modality: Option<String>,
    series_number: Option<i64>,
    description: Option<String>,
    num_instances: i64,
}

impl From<SeriesDb> for SeriesRow {
    fn from(r: SeriesDb) -> Self {
        SeriesRow {
            id: SeriesId(r.id),
            study_uid: r.study_uid,
            series_uid: r.series_uid,
            modality: r.modality,
            number: r.series_number,
            description: r.description,
            num_instances: r.num_instances,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct InstanceDb {
    id: i64,
    study_uid: String,
    series_uid: String,
    sop_uid: String,
    sop_class_uid: String,
    transfer_syntax: String,
    instance_number: Option<i64>,
    frames: i64,
    pixel_rows: Option<i64>,
    pixel_columns: Option<i64>,
    size_bytes: i64,
    blob_key: String,
    received_at: i64,
}

impl From<InstanceDb> for InstanceRow {
    fn from(r: InstanceDb) -> Self {
        InstanceRow {
            id: InstanceId(r.id),
            study_uid: r.study_uid,
            series_uid: r.series_uid,
            sop_uid: r.sop_uid,
            sop_class_uid: r.sop_class_uid,
            transfer_syntax: r.transfer_syntax,
            number: r.instance_number,
            frames: r.frames,
            rows: r.pixel_rows,
            columns: r.pixel_columns,
            size_bytes: r.size_bytes,
            blob_key: r.blob_key,
            received_at: r.received_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ContactDb {
    kind: String,
    value: String,
    source_tag: String,
}

impl TryFrom<ContactDb> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactDb) -> StoreResult<Contact> {
        let kind = ContactKind::parse(&r.kind)
            .ok_or_else(|| corrupt(format!("unknown contact kind {:?}", r.kind)))?;
        Ok(Contact {
            kind,
            value: r.value,
            source_tag: r.source_tag,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AuditDb {
    id: i64,
    at: i64,
    account_id: Option<i64>,
    actor_kind: String,
    actor_id: String,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    detail: String,
}

impl TryFrom<AuditDb> for AuditRecord {
    type Error = StoreError;
    fn try_from(r: AuditDb) -> StoreResult<AuditRecord> {
        let bad_actor = || {
            corrupt(format!(
                "bad audit actor {:?}/{:?}",
                r.actor_kind, r.actor_id
            ))
        };
        let actor = match r.actor_kind.as_str() {
            "user" => Actor::User(UserId(r.actor_id.parse().map_err(|_| bad_actor())?)),
            "api_key" => Actor::ApiKey(ApiKeyId(r.actor_id.parse().map_err(|_| bad_actor())?)),
            "device" => Actor::Device(r.actor_id.clone()),
            "system" => Actor::System,
            _ => return Err(bad_actor()),
        };
        Ok(AuditRecord {
            id: r.id,
            at: r.at,
            event: AuditEvent {
                account_id: r.account_id.map(AccountId),
                actor,
                action: r.action,
                target_kind: r.target_kind,
                target_id: r.target_id,
                detail: r.detail,
            },
        })
    }
}
