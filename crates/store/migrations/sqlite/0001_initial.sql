-- Initial schema (SQLite). Keep in step with migrations/postgres/0001_initial.sql:
-- the same tables, columns, constraints and indexes, so that both backends behave
-- identically. Times are BIGINT milliseconds since the epoch (UTC).
--
-- AUTOINCREMENT: ids must never be reused after deletes (share links and the audit
-- log refer to rows by id).
--
-- Foreign keys to index rows are named `*_ref` because `patient_id` and `study_id`
-- are DICOM attributes (Patient ID, Study ID).

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL
);
-- At most one default account, even if two nodes create it at the same time.
CREATE UNIQUE INDEX accounts_single_default ON accounts (is_default) WHERE is_default;

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     BIGINT  NOT NULL REFERENCES accounts (id),
    email          TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'staff')),
    created_at     BIGINT  NOT NULL,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX users_account ON users (account_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT   PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT   PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    key  TEXT   NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    name        TEXT   NOT NULL,
    prefix      TEXT   NOT NULL,
    key_hash    TEXT   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- The DICOM index -----------------------------------------------------------

CREATE TABLE patients (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    -- PatientInfo::key(): decides which instances share a patient row.
    patient_key  TEXT   NOT NULL,
    patient_id   TEXT,
    issuer       TEXT,
    name         TEXT,
    -- Lower-cased in Rust, not SQL: SQLite's lower() only folds ASCII, and
    -- both backends must match "garcía" against "GARCÍA" the same way.
    name_search  TEXT,
    birth_date   TEXT,
    sex          TEXT,
    created_at   BIGINT NOT NULL,
    UNIQUE (account_id, patient_key)
);
CREATE INDEX patients_patient_id ON patients (account_id, patient_id);
CREATE INDEX patients_name_search ON patients (account_id, name_search);

CREATE TABLE studies (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           BIGINT NOT NULL REFERENCES accounts (id),
    -- The patient of the study's first instance; never changed afterwards.
    patient_ref          BIGINT NOT NULL REFERENCES patients (id),
    study_uid            TEXT   NOT NULL,
    study_id             TEXT,
    accession            TEXT,
    study_date           TEXT,
    study_time           TEXT,
    description          TEXT,
    referring_physician  TEXT,
    received_at          BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (account_id, study_uid)
);
-- The Studies screen / QIDO default order.
CREATE INDEX studies_account_date ON studies (account_id, study_date DESC, study_time DESC, received_at DESC, id DESC);
CREATE INDEX studies_accession ON studies (account_id, accession);
CREATE INDEX studies_patient ON studies (patient_ref);

CREATE TABLE series (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     BIGINT NOT NULL REFERENCES accounts (id),
    study_ref      BIGINT NOT NULL REFERENCES studies (id),
    series_uid     TEXT   NOT NULL,
    modality       TEXT,
    series_number  BIGINT,
    description    TEXT,
    UNIQUE (account_id, series_uid)
);
CREATE INDEX series_study_modality ON series (study_ref, modality);

CREATE TABLE instances (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       BIGINT NOT NULL REFERENCES accounts (id),
    -- study_ref duplicates series.study_ref so per-study counts need no join.
    study_ref        BIGINT NOT NULL REFERENCES studies (id),
    series_ref       BIGINT NOT NULL REFERENCES series (id),
    sop_uid          TEXT   NOT NULL,
    sop_class_uid    TEXT   NOT NULL,
    transfer_syntax  TEXT   NOT NULL,
    instance_number  BIGINT,
    frames           BIGINT NOT NULL,
    pixel_rows       BIGINT,
    pixel_columns    BIGINT,
    size_bytes       BIGINT NOT NULL,
    blob_key         TEXT   NOT NULL,
    source           TEXT   NOT NULL,
    received_from    TEXT   NOT NULL,
    received_at      BIGINT NOT NULL,
    UNIQUE (account_id, sop_uid)
);
CREATE INDEX instances_series ON instances (series_ref, instance_number);
CREATE INDEX instances_study ON instances (study_ref);

CREATE TABLE study_contacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    study_ref   BIGINT NOT NULL REFERENCES studies (id),
    kind        TEXT   NOT NULL CHECK (kind IN ('phone', 'email')),
    value       TEXT   NOT NULL,
    source_tag  TEXT   NOT NULL,
    -- 1, 2, 3… per study in first-seen order.
    ordinal     BIGINT NOT NULL,
    UNIQUE (study_ref, kind, value)
);

-- Audit log (append-only) -----------------------------------------------------

-- No foreign key to accounts: the log must outlive whatever it talks about.
CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    account_id   BIGINT,
    actor_kind   TEXT   NOT NULL,
    actor_id     TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    target_kind  TEXT,
    target_id    TEXT,
    detail       TEXT   NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
