-- The transactional outbox for patient messages (PostgreSQL). Keep in step with
-- migrations/sqlite/0003_outbox.sql; src/outbox.rs documents the protocol.
--
-- recipient is patient contact data (an email address or E.164 number).
-- share_id will reference shares(id) once that table exists.
-- A claim sets next_attempt_at to the lease's end, so "due" is one condition
-- for fresh rows and abandoned claims alike, and one partial index serves it.

CREATE TABLE outbox (
    id                   BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id           BIGINT  NOT NULL REFERENCES accounts (id),
    share_id             BIGINT,
    channel              TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient            TEXT    NOT NULL,
    payload              TEXT    NOT NULL,
    status               TEXT    NOT NULL DEFAULT 'queued'
                         CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
    attempts             BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at      BIGINT  NOT NULL,
    lease_until          BIGINT,
    provider_id          TEXT,
    last_error           TEXT,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    sent_at              BIGINT,
    delivered_at         BIGINT,
    callback_token_hash  TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_share ON outbox (share_id) WHERE share_id IS NOT NULL;
CREATE INDEX outbox_account_recent ON outbox (account_id, id);
