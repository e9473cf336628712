-- The email outbox, postgres flavour (the SQLite flavour in ../sqlite has
-- the same columns; keep them in step).
--
-- A write that sends email inserts its messages here in the same transaction
-- as its rows, so a change never commits without its email and a rolled-back
-- change sends none. The sender (rolecall_server::mail) delivers what is due
-- and retries failures with backoff, forever: a message leaves this table's
-- "unsent" state only by being delivered.
--
-- body_text may hold a temporary password or a reset link: it is read only
-- to build the message, never logged, never copied into last_error.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    created_at       BIGINT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    -- Failed delivery attempts so far.
    attempts         BIGINT NOT NULL,
    -- Not to be tried before this time (ms). A sender claims a message by
    -- moving it forward (a lease), so that two replicas never both send it.
    next_attempt_at  BIGINT NOT NULL,
    -- Why the last attempt failed (the SMTP or I/O error, never the body).
    last_error       TEXT,
    -- When it was delivered; NULL until then.
    sent_at          BIGINT
);
-- What the sender polls: the unsent messages by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
