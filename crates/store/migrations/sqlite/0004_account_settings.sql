-- Clinic (account) settings and the history of the patient link code (SQLite).
-- Keep in step with migrations/postgres/0004_account_settings.sql.
--
-- No row in account_settings means every setting has its default; the
-- column DEFAULTs equal AccountSettings::defaults (the contract suite checks).

CREATE TABLE account_settings (
    account_id                           BIGINT  PRIMARY KEY REFERENCES accounts (id),
    -- NULL: the account's name.
    clinic_name                          TEXT,
    phone                                TEXT,
    email                                TEXT,
    website                              TEXT,
    logo_blob_key                        TEXT,
    -- Raster only: an SVG logo could carry script.
    logo_content_type                    TEXT CHECK (logo_content_type IN ('image/png', 'image/jpeg')),
    -- NULL: staff pages follow the browser's Accept-Language.
    default_language                     TEXT CHECK (default_language IN ('en', 'es')),
    time_zone                            TEXT    NOT NULL DEFAULT 'UTC',
    country_code                         BIGINT  CHECK (country_code BETWEEN 1 AND 999),
    link_lifetime_days                   BIGINT  NOT NULL DEFAULT 90
                                         CHECK (link_lifetime_days IN (7, 30, 90, 180, 365)),
    landing_show_study_date              BOOLEAN NOT NULL DEFAULT FALSE,
    landing_show_study_description       BOOLEAN NOT NULL DEFAULT FALSE,
    deid_retain_dates                    TEXT    NOT NULL DEFAULT 'remove'
                                         CHECK (deid_retain_dates IN ('remove', 'full', 'shift')),
    deid_retain_patient_characteristics  BOOLEAN NOT NULL DEFAULT FALSE,
    deid_retain_device_identity          BOOLEAN NOT NULL DEFAULT FALSE,
    deid_clean_descriptors               BOOLEAN NOT NULL DEFAULT FALSE,
    deid_retain_safe_private             BOOLEAN NOT NULL DEFAULT FALSE,
    -- The latest row of account_link_codes (0: the code was never set). Bumped
    -- by an upsert, whose row lock serialises two admins changing the code.
    link_code_version                    BIGINT  NOT NULL DEFAULT 0,
    updated_at                           BIGINT,
    CHECK ((logo_blob_key IS NULL) = (logo_content_type IS NULL))
);

-- Every set, change and removal of the patient link code, numbered per account.
-- A share records the version in force when it was made: its code is that
-- version's hash, unless a removal (a row with a NULL hash) came later.
-- Rows are never deleted, so old links keep the code they were created with.
CREATE TABLE account_link_codes (
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    version     BIGINT NOT NULL,
    -- argon2id PHC string; NULL marks a removal.
    code_hash   TEXT,
    created_at  BIGINT NOT NULL,
    -- When a later version replaced it.
    retired_at  BIGINT,
    PRIMARY KEY (account_id, version)
);
-- "Was the code removed after version v?"
CREATE INDEX account_link_codes_removals ON account_link_codes (account_id, version) WHERE code_hash IS NULL;
