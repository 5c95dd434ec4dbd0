//! Every fixed SQL statement, written once for both backends (`$n` placeholders,
//! `ON CONFLICT`, `RETURNING`, `NULLS LAST` and `string_agg` exist in SQLite ≥ 3.44
//! and PostgreSQL alike).

// --- accounts -----------------------------------------------------------------

pub const ACCOUNT_BY_ID: &str = "SELECT id, name, created_at FROM accounts WHERE id = $1";
pub const DEFAULT_ACCOUNT: &str = "SELECT id, name, created_at FROM accounts WHERE is_default";
/// A no-op when another node created it first (partial unique index).
pub const INSERT_DEFAULT_ACCOUNT: &str = "INSERT INTO accounts (name, is_default, created_at) \
     VALUES ($1, TRUE, $2) ON CONFLICT (is_default) WHERE is_default DO NOTHING";
pub const INSERT_ACCOUNT: &str = "INSERT INTO accounts (name, is_default, created_at) \
     VALUES ($1, FALSE, $2) RETURNING id, name, created_at";

// --- users --------------------------------------------------------------------

pub const COUNT_USERS: &str = "SELECT COUNT(*) FROM users";
pub const INSERT_USER: &str = "INSERT INTO users \
     (account_id, email, password_hash, role, created_at, disabled) \
     VALUES ($1, $2, $3, $4, $5, FALSE) \
     RETURNING id, account_id, email, password_hash, role, created_at, disabled";
pub const USER_BY_EMAIL: &str = "SELECT id, account_id, email, password_hash, role, created_at, \
     disabled FROM users WHERE email = $1";
pub const USER_BY_ID: &str = "SELECT id, account_id, email, password_hash, role, created_at, \
     disabled FROM users WHERE id = $1";
pub const LIST_USERS: &str = "SELECT id, account_id, email, password_hash, role, created_at, \
     disabled FROM users WHERE account_id = $1 ORDER BY id";
pub const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";

// --- setup tokens -------------------------------------------------------------

pub const DELETE_SETUP_TOKENS: &str = "DELETE FROM setup_tokens";
pub const INSERT_SETUP_TOKEN: &str =
    "INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)";
/// Deleting is what makes it single-use: of two concurrent callers only one
/// sees a deleted row.
pub const TAKE_SETUP_TOKEN: &str =
    "DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2";

// --- sessions -----------------------------------------------------------------

pub const INSERT_SESSION: &str = "INSERT INTO sessions \
     (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub const SESSION: &str = "SELECT s.token_hash, s.user_id, s.csrf_token, \
       s.created_at AS session_created_at, s.expires_at, \
       u.id, u.account_id, u.email, u.password_hash, u.role, u.created_at, u.disabled \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled";
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
pub const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

// --- login failures -----------------------------------------------------------

pub const INSERT_LOGIN_FAILURE: &str = "INSERT INTO login_failures (key, at) VALUES ($1, $2)";
pub const COUNT_LOGIN_FAILURES: &str =
    "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2";
pub const CLEAR_LOGIN_FAILURES: &str = "DELETE FROM login_failures WHERE key = $1";

// --- API keys -----------------------------------------------------------------

pub const INSERT_API_KEY: &str = "INSERT INTO api_keys \
     (account_id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
     RETURNING id, account_id, name, prefix, key_hash, created_at, revoked_at";
pub const API_KEY_BY_HASH: &str = "SELECT id, account_id, name, prefix, key_hash, created_at, \
     revoked_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
pub const LIST_API_KEYS: &str = "SELECT id, account_id, name, prefix, key_hash, created_at, \
     revoked_at FROM api_keys WHERE account_id = $1 ORDER BY id";
pub const REVOKE_API_KEY: &str = "UPDATE api_keys SET revoked_at = $3 \
     WHERE account_id = $1 AND id = $2 AND revoked_at IS NULL";

// --- the DICOM index ----------------------------------------------------------

pub const INSTANCE_KEY_BY_SOP: &str =
    "SELECT id, blob_key, size_bytes FROM instances WHERE account_id = $1 AND sop_uid = $2";
pub const REPLACE_INSTANCE_BLOB: &str = "UPDATE instances SET blob_key = $1, size_bytes = $2 WHERE id = $3";
pub const DELETE_INSTANCE: &str = "DELETE FROM instances WHERE id = $1 RETURNING series_ref, study_ref";
// What an instance's insert created goes with it when nothing else uses it.
pub const DELETE_SERIES_IF_EMPTY: &str =
    "DELETE FROM series WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM instances WHERE series_ref = $1)";
pub const DELETE_CONTACTS_IF_STUDY_EMPTY: &str =
    "DELETE FROM study_contacts WHERE study_ref = $1 AND NOT EXISTS (SELECT 1 FROM instances WHERE study_ref = $1)";
pub const DELETE_STUDY_IF_EMPTY: &str = "DELETE FROM studies WHERE id = $1 \
     AND NOT EXISTS (SELECT 1 FROM instances WHERE study_ref = $1) \
     AND NOT EXISTS (SELECT 1 FROM study_contacts WHERE study_ref = $1) \
     AND NOT EXISTS (SELECT 1 FROM shares WHERE study_ref = $1) RETURNING patient_ref";
pub const DELETE_PATIENT_IF_EMPTY: &str =
    "DELETE FROM patients WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM studies WHERE patient_ref = $1)";
pub const LATEST_INSTANCES: &str =
    "SELECT id, account_id, blob_key, size_bytes FROM instances ORDER BY id DESC LIMIT $1";
pub const STUDY_PATIENT: &str = "SELECT s.patient_ref, p.patient_key FROM studies s \
     JOIN patients p ON p.id = s.patient_ref WHERE s.account_id = $1 AND s.study_uid = $2";

// The upserts keep what the first instance said and only fill in NULLs, so a
// later instance with different (or garbled) values cannot rewrite the study.
pub const UPSERT_PATIENT: &str = "INSERT INTO patients \
     (account_id, patient_key, patient_id, issuer, name, name_search, birth_date, sex, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (account_id, patient_key) DO UPDATE SET \
       patient_id = COALESCE(patients.patient_id, excluded.patient_id), \
       issuer = COALESCE(patients.issuer, excluded.issuer), \
       name = COALESCE(patients.name, excluded.name), \
       name_search = COALESCE(patients.name_search, excluded.name_search), \
       birth_date = COALESCE(patients.birth_date, excluded.birth_date), \
       sex = COALESCE(patients.sex, excluded.sex) \
     RETURNING id";
pub const UPSERT_STUDY: &str = "INSERT INTO studies \
     (account_id, patient_ref, study_uid, study_id, accession, study_date, study_time, \
      description, referring_physician, received_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
     ON CONFLICT (account_id, study_uid) DO UPDATE SET \
       study_id = COALESCE(studies.study_id, excluded.study_id), \
       accession = COALESCE(studies.accession, excluded.accession), \
       study_date = COALESCE(studies.study_date, excluded.study_date), \
       study_time = COALESCE(studies.study_time, excluded.study_time), \
       description = COALESCE(studies.description, excluded.description), \
       referring_physician = COALESCE(studies.referring_physician, excluded.referring_physician), \
       updated_at = excluded.updated_at \
     RETURNING id";
pub const UPSERT_SERIES: &str = "INSERT INTO series \
     (account_id, study_ref, series_uid, modality, series_number, description) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (account_id, series_uid) DO UPDATE SET \
       modality = COALESCE(series.modality, excluded.modality), \
       series_number = COALESCE(series.series_number, excluded.series_number), \
       description = COALESCE(series.description, excluded.description) \
     RETURNING id, study_ref";
/// Returns no row when the SOP Instance UID is already stored (possibly by a
/// concurrent transaction that committed first).
pub const INSERT_INSTANCE: &str = "INSERT INTO instances \
     (account_id, study_ref, series_ref, sop_uid, sop_class_uid, transfer_syntax, \
      instance_number, frames, pixel_rows, pixel_columns, size_bytes, blob_key, source, \
      received_from, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (account_id, sop_uid) DO NOTHING RETURNING id";
/// The study row is locked by this transaction's upsert, so MAX(ordinal) cannot race.
pub const INSERT_CONTACT: &str = "INSERT INTO study_contacts \
     (study_ref, kind, value, source_tag, ordinal) \
     VALUES ($1, $2, $3, $4, \
       (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM study_contacts WHERE study_ref = $1)) \
     ON CONFLICT (study_ref, kind, value) DO NOTHING";

macro_rules! instance_select {
    () => {
        "SELECT i.id, st.study_uid, se.series_uid, i.sop_uid, i.sop_class_uid, \
           i.transfer_syntax, i.instance_number, i.frames, i.pixel_rows, i.pixel_columns, \
           i.size_bytes, i.blob_key, i.received_at \
         FROM instances i JOIN series se ON se.id = i.series_ref \
           JOIN studies st ON st.id = i.study_ref"
    };
}
pub const INSTANCE_SELECT: &str = instance_select!();
pub const INSTANCE_BY_SOP: &str = concat!(
    instance_select!(),
    " WHERE i.account_id = $1 AND i.sop_uid = $2"
);
pub const STUDY_CONTACTS: &str = "SELECT c.kind, c.value, c.source_tag FROM study_contacts c \
     JOIN studies s ON s.id = c.study_ref WHERE s.account_id = $1 AND s.study_uid = $2 \
     ORDER BY c.ordinal, c.id";
pub const COUNT_INSTANCES: &str = "SELECT COUNT(*) FROM instances WHERE account_id = $1";
pub const ALL_BLOB_KEYS: &str = "SELECT blob_key FROM instances ORDER BY id";

// --- audit log ----------------------------------------------------------------

pub const INSERT_AUDIT: &str = "INSERT INTO audit_events \
     (at, account_id, actor_kind, actor_id, action, target_kind, target_id, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
pub const AUDIT_ALL: &str = "SELECT id, at, account_id, actor_kind, actor_id, action, \
     target_kind, target_id, detail FROM audit_events ORDER BY id DESC LIMIT $1";
pub const AUDIT_FOR_ACCOUNT: &str = "SELECT id, at, account_id, actor_kind, actor_id, action, \
     target_kind, target_id, detail FROM audit_events WHERE account_id = $1 \
     ORDER BY id DESC LIMIT $2";
