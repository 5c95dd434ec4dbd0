//! Clinic settings and the patient link code's versions, expanded for each
//! backend like `ingest.rs`; the `Store` methods in `store_impl.rs` call these.

use studylink_model::*;

use crate::{StoreError, StoreResult};

/// One row whatever is saved: a clinic that never saved anything gets NULLs,
/// which [`SettingsDb::into_settings`] turns into the defaults.
pub(super) const SETTINGS: &str = "SELECT a.name AS account_name, s.clinic_name, s.phone, s.email, s.website, \
     s.logo_blob_key, s.logo_content_type, s.default_language, s.time_zone, s.country_code, s.link_lifetime_days, \
     s.landing_show_study_date, s.landing_show_study_description, s.deid_retain_dates, \
     s.deid_retain_patient_characteristics, s.deid_retain_device_identity, s.deid_clean_descriptors, \
     s.deid_retain_safe_private, s.updated_at, \
     (SELECT c.version FROM account_link_codes c WHERE c.account_id = s.account_id \
        AND c.version = s.link_code_version AND c.code_hash IS NOT NULL) AS code_version \
     FROM accounts a LEFT JOIN account_settings s ON s.account_id = a.id WHERE a.id = $1";

pub(super) const UPSERT_SETTINGS: &str = "INSERT INTO account_settings (account_id, clinic_name, phone, email, \
     website, logo_blob_key, logo_content_type, default_language, time_zone, country_code, link_lifetime_days, \
     landing_show_study_date, landing_show_study_description, deid_retain_dates, \
     deid_retain_patient_characteristics, deid_retain_device_identity, deid_clean_descriptors, \
     deid_retain_safe_private, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
     ON CONFLICT (account_id) DO UPDATE SET clinic_name = excluded.clinic_name, phone = excluded.phone, \
     email = excluded.email, website = excluded.website, logo_blob_key = excluded.logo_blob_key, \
     logo_content_type = excluded.logo_content_type, default_language = excluded.default_language, \
     time_zone = excluded.time_zone, country_code = excluded.country_code, \
     link_lifetime_days = excluded.link_lifetime_days, landing_show_study_date = excluded.landing_show_study_date, \
     landing_show_study_description = excluded.landing_show_study_description, \
     deid_retain_dates = excluded.deid_retain_dates, \
     deid_retain_patient_characteristics = excluded.deid_retain_patient_characteristics, \
     deid_retain_device_identity = excluded.deid_retain_device_identity, \
     deid_clean_descriptors = excluded.deid_clean_descriptors, \
     deid_retain_safe_private = excluded.deid_retain_safe_private, updated_at = excluded.updated_at";

/// The next version number; the upsert's row lock makes concurrent changes queue.
pub(super) const BUMP_LINK_CODE_VERSION: &str = "INSERT INTO account_settings (account_id, link_code_version) \
     VALUES ($1, 1) ON CONFLICT (account_id) \
     DO UPDATE SET link_code_version = account_settings.link_code_version + 1 RETURNING link_code_version";
pub(super) const RETIRE_LINK_CODES: &str =
    "UPDATE account_link_codes SET retired_at = $2 WHERE account_id = $1 AND retired_at IS NULL";
pub(super) const INSERT_LINK_CODE: &str =
    "INSERT INTO account_link_codes (account_id, version, code_hash, created_at) VALUES ($1, $2, $3, $4)";
/// A version's hash, unless the code was removed after it.
pub(super) const LINK_CODE_HASH: &str = "SELECT c.code_hash FROM account_link_codes c \
     WHERE c.account_id = $1 AND c.version = $2 AND c.code_hash IS NOT NULL \
     AND NOT EXISTS (SELECT 1 FROM account_link_codes r WHERE r.account_id = c.account_id \
                     AND r.version > c.version AND r.code_hash IS NULL)";
pub(super) const CURRENT_LINK_CODE_VERSION: &str = "SELECT c.version FROM account_settings s \
     JOIN account_link_codes c ON c.account_id = s.account_id AND c.version = s.link_code_version \
     WHERE s.account_id = $1 AND c.code_hash IS NOT NULL";
pub(super) const ACCOUNT_EXISTS: &str = "SELECT id FROM accounts WHERE id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct SettingsDb {
    account_name: String,
    clinic_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    logo_blob_key: Option<String>,
    logo_content_type: Option<String>,
    default_language: Option<String>,
    time_zone: Option<String>,
    country_code: Option<i64>,
    link_lifetime_days: Option<i64>,
    landing_show_study_date: Option<bool>,
    landing_show_study_description: Option<bool>,
    deid_retain_dates: Option<String>,
    deid_retain_patient_characteristics: Option<bool>,
    deid_retain_device_identity: Option<bool>,
    deid_clean_descriptors: Option<bool>,
    deid_retain_safe_private: Option<bool>,
    updated_at: Option<i64>,
    code_version: Option<i64>,
}

fn corrupt(what: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(what.into()))
}

impl SettingsDb {
    pub(super) fn into_settings(self) -> StoreResult<AccountSettings> {
        let d = AccountSettings::defaults(&self.account_name);
        let default_language = match self.default_language {
            Some(l) => Some(Language::parse(&l).ok_or_else(|| corrupt(format!("unknown language {l:?}")))?),
            None => None,
        };
        let retain_dates = match self.deid_retain_dates {
            Some(r) => DateRetention::parse(&r).ok_or_else(|| corrupt(format!("unknown date option {r:?}")))?,
            None => d.deid.retain_dates,
        };
        let country_code = match self.country_code {
            Some(c) => Some(u16::try_from(c).map_err(|_| corrupt(format!("bad country code {c}")))?),
            None => None,
        };
        let logo = match (self.logo_blob_key, self.logo_content_type) {
            (Some(blob_key), Some(content_type)) => Some(Logo { blob_key, content_type }),
            _ => None,
        };
        Ok(AccountSettings {
            clinic_name: self.clinic_name.unwrap_or(d.clinic_name),
            phone: self.phone,
            email: self.email,
            website: self.website,
            logo,
            default_language,
            time_zone: self.time_zone.unwrap_or(d.time_zone),
            country_code,
            link_lifetime_days: self.link_lifetime_days.unwrap_or(d.link_lifetime_days),
            landing_show_study_date: self.landing_show_study_date.unwrap_or(d.landing_show_study_date),
            landing_show_study_description: self
                .landing_show_study_description
                .unwrap_or(d.landing_show_study_description),
            deid: DeidOptions {
                retain_dates,
                retain_patient_characteristics: self
                    .deid_retain_patient_characteristics
                    .unwrap_or(d.deid.retain_patient_characteristics),
                retain_device_identity: self.deid_retain_device_identity.unwrap_or(d.deid.retain_device_identity),
                clean_descriptors: self.deid_clean_descriptors.unwrap_or(d.deid.clean_descriptors),
                retain_safe_private: self.deid_retain_safe_private.unwrap_or(d.deid.retain_safe_private),
            },
            link_code_version: self.code_version,
            updated_at: self.updated_at,
        })
    }
}

pub(super) fn account_not_found(account: AccountId) -> StoreError {
    StoreError::NotFound(format!("account {account}"))
}

/// The audit row written in the same transaction as the change it records.
pub(super) fn event(account: AccountId, actor: &Actor, action: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        account_id: Some(account),
        actor: actor.clone(),
        action: action.to_owned(),
        target_kind: Some("account".into()),
        target_id: Some(account.to_string()),
        detail: detail.to_string(),
    }
}

macro_rules! impl_settings {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn read_settings<'e, E>(executor: E, account: AccountId) -> StoreResult<AccountSettings>
            where
                E: sqlx::Executor<'e, Database = $db>,
            {
                sqlx::query_as::<_, settings::SettingsDb>(settings::SETTINGS)
                    .bind(account.0)
                    .fetch_optional(executor)
                    .await?
                    .ok_or_else(|| settings::account_not_found(account))?
                    .into_settings()
            }

            async fn insert_audit_tx(tx: &mut sqlx::Transaction<'static, $db>, e: &AuditEvent) -> StoreResult<()> {
                sqlx::query_scalar::<_, i64>(q::INSERT_AUDIT)
                    .bind(now_millis())
                    .bind(e.account_id.map(|a| a.0))
                    .bind(e.actor.kind())
                    .bind(e.actor.id_text())
                    .bind(&e.action)
                    .bind(&e.target_kind)
                    .bind(&e.target_id)
                    .bind(&e.detail)
                    .fetch_one(&mut **tx)
                    .await?;
                Ok(())
            }

            /// See [`Store::update_account_settings`](crate::Store::update_account_settings).
            async fn update_settings_tx(
                &self,
                account: AccountId,
                s: &AccountSettings,
                actor: &Actor,
            ) -> StoreResult<Vec<&'static str>> {
                let mut tx = self.begin_write().await?;
                let before = Self::read_settings(&mut *tx, account).await?;
                let changed = before.changed_fields(s);
                if changed.is_empty() {
                    return Ok(changed);
                }
                sqlx::query(settings::UPSERT_SETTINGS)
                    .bind(account.0)
                    .bind(&s.clinic_name)
                    .bind(&s.phone)
                    .bind(&s.email)
                    .bind(&s.website)
                    .bind(s.logo.as_ref().map(|l| l.blob_key.as_str()))
                    .bind(s.logo.as_ref().map(|l| l.content_type.as_str()))
                    .bind(s.default_language.map(Language::as_str))
                    .bind(&s.time_zone)
                    .bind(s.country_code.map(i64::from))
                    .bind(s.link_lifetime_days)
                    .bind(s.landing_show_study_date)
                    .bind(s.landing_show_study_description)
                    .bind(s.deid.retain_dates.as_str())
                    .bind(s.deid.retain_patient_characteristics)
                    .bind(s.deid.retain_device_identity)
                    .bind(s.deid.clean_descriptors)
                    .bind(s.deid.retain_safe_private)
                    .bind(now_millis())
                    .execute(&mut *tx)
                    .await?;
                let e = settings::event(
                    account,
                    actor,
                    "settings.updated",
                    serde_json::json!({ "changed": changed }),
                );
                Self::insert_audit_tx(&mut tx, &e).await?;
                tx.commit().await?;
                Ok(changed)
            }

            /// See [`Store::set_link_code`](crate::Store::set_link_code).
            async fn set_link_code_tx(
                &self,
                account: AccountId,
                code_hash: Option<&str>,
                actor: &Actor,
            ) -> StoreResult<i64> {
                let now = now_millis();
                let mut tx = self.begin_write().await?;
                sqlx::query_scalar::<_, i64>(settings::ACCOUNT_EXISTS)
                    .bind(account.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| settings::account_not_found(account))?;
                let version = sqlx::query_scalar::<_, i64>(settings::BUMP_LINK_CODE_VERSION)
                    .bind(account.0)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(settings::RETIRE_LINK_CODES).bind(account.0).bind(now).execute(&mut *tx).await?;
                sqlx::query(settings::INSERT_LINK_CODE)
                    .bind(account.0)
                    .bind(version)
                    .bind(code_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let action = if code_hash.is_some() { "settings.link_code_set" } else { "settings.link_code_removed" };
                let e = settings::event(account, actor, action, serde_json::json!({ "version": version }));
                Self::insert_audit_tx(&mut tx, &e).await?;
                tx.commit().await?;
                Ok(version)
            }
        }
    };
}
