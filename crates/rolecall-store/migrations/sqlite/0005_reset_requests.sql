-- Password reset requests waiting to be handled, SQLite flavour (the
-- PostgreSQL flavour in ../postgres has the same columns; keep them in step).
--
-- Asking for a reset link (POST /v1/password-reset, the console's form)
-- only adds a row here: the same one, after the same work, whether or not
-- the email has an account, so the answer takes the same time either way.
-- A worker in `rolecall serve` (rolecall_server::accounts::reset_requests)
-- then looks the email up and, when it is an account's, makes the link and
-- queues its email; the row is deleted in that same transaction, so a
-- request is handled once even when several replicas race for it.
--
-- No secret is kept here: the link is made by the worker, and only its
-- SHA-256 is stored (reset_tokens).
CREATE TABLE reset_requests (
    id            TEXT PRIMARY KEY,
    -- The email as the request gave it (trimmed).
    email         TEXT NOT NULL,
    -- The client's address, for the audit record the worker writes.
    source        TEXT NOT NULL,
    requested_at  INTEGER NOT NULL
);
CREATE INDEX reset_requests_order ON reset_requests (requested_at);
