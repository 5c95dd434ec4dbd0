-- Patient links ("shares") (SQLite). Keep in step with
-- migrations/postgres/0005_shares.sql; src/share.rs documents the behaviour.
--
-- email, phone and password_hash are patient secrets; the link's token is
-- never stored, only its SHA-256 (token_hash) and the seed the server's key
-- turns back into it for a resend.
-- Foreign keys to index rows are named `*_ref`, as in 0001.

CREATE TABLE shares (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         BIGINT  NOT NULL REFERENCES accounts (id),
    study_ref          BIGINT  NOT NULL REFERENCES studies (id),
    token_hash         TEXT    NOT NULL UNIQUE,
    token_seed         BLOB    NOT NULL,
    -- The label keeps saying who made the link after the user is gone.
    created_by         BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_by_label   TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL,
    revoked_at         BIGINT,
    language           TEXT    NOT NULL CHECK (language IN ('en', 'es')),
    email              TEXT,
    phone              TEXT,
    state              TEXT    NOT NULL DEFAULT 'preparing'
                       CHECK (state IN ('preparing', 'ready', 'failed')),
    state_error        TEXT,
    password_required  BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash      TEXT,
    link_code_version  BIGINT  NOT NULL DEFAULT 0,
    failed_attempts    BIGINT  NOT NULL DEFAULT 0,
    locked_until       BIGINT,
    first_opened_at    BIGINT,
    last_opened_at     BIGINT,
    views              BIGINT  NOT NULL DEFAULT 0,
    downloads          BIGINT  NOT NULL DEFAULT 0,
    last_sent_at       BIGINT,
    -- Lets an interrupted preparation restart with the same de-identified UIDs;
    -- useless afterwards, and a secret, so it exists exactly while preparing.
    deid_secret        BLOB,
    CHECK ((state = 'preparing') = (deid_secret IS NOT NULL))
);
-- Lists are newest first by id (ids only grow: AUTOINCREMENT / IDENTITY).
CREATE INDEX shares_account ON shares (account_id, id);
CREATE INDEX shares_study ON shares (account_id, study_ref, id);
-- The restart scan after a crash finds the few unfinished shares without a table scan.
CREATE INDEX shares_preparing ON shares (id) WHERE state = 'preparing';

-- The snapshot: which instances staff chose, in their order. Written with the
-- share and never changed, so later arrivals in the study stay out of the link.
CREATE TABLE share_instances (
    share_id      BIGINT NOT NULL REFERENCES shares (id),
    position      BIGINT NOT NULL,
    instance_ref  BIGINT NOT NULL REFERENCES instances (id),
    PRIMARY KEY (share_id, position),
    -- An instance is shared once per link; also the target of share_items' key.
    UNIQUE (share_id, instance_ref)
);

-- The de-identified objects and their derived files. A restarted preparation
-- replaces them all.
CREATE TABLE share_items (
    share_id             BIGINT  NOT NULL REFERENCES shares (id),
    position             BIGINT  NOT NULL,
    source_instance_ref  BIGINT  NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('image', 'cine', 'document', 'other')),
    password_reason      TEXT,
    sop_instance_uid     TEXT    NOT NULL,
    dicom_key            TEXT    NOT NULL,
    dicom_size           BIGINT  NOT NULL,
    jpeg_key             TEXT,
    jpeg_size            BIGINT,
    thumb_key            TEXT,
    mp4_key              TEXT,
    mp4_size             BIGINT,
    doc_key              TEXT,
    doc_size             BIGINT,
    doc_content_type     TEXT,
    pixel_rows           BIGINT,
    pixel_columns        BIGINT,
    frames               BIGINT  NOT NULL,
    frame_ms             REAL,
    PRIMARY KEY (share_id, position),
    -- An item can only come from the share's own snapshot.
    FOREIGN KEY (share_id, source_instance_ref) REFERENCES share_instances (share_id, instance_ref)
);

-- Each time the link was sent (the first send when the share became ready,
-- then every resend); its messages are the outbox rows with its send_id.
CREATE TABLE share_sends (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    share_id  BIGINT NOT NULL REFERENCES shares (id),
    kind      TEXT   NOT NULL CHECK (kind IN ('initial', 'resend')),
    at        BIGINT NOT NULL,
    by_label  TEXT   NOT NULL
);
CREATE INDEX share_sends_share ON share_sends (share_id, id);

-- outbox.share_id keeps no foreign key: SQLite cannot add one to an existing
-- column without rebuilding the table, and outbox rows may name a share id
-- the outbox alone never checks. send_id is the checked link to a share.
ALTER TABLE outbox ADD COLUMN send_id BIGINT REFERENCES share_sends (id);
CREATE INDEX outbox_send ON outbox (send_id) WHERE send_id IS NOT NULL;

-- Landing-page access cookies (by hash): granted after the password or link
-- code, or at once for links that need neither. Expired rows of a share are
-- swept when it is granted a new one.
CREATE TABLE share_access (
    token_hash  TEXT   PRIMARY KEY,
    share_id    BIGINT NOT NULL REFERENCES shares (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX share_access_share ON share_access (share_id, expires_at);
