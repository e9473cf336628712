-- Accounts and sign-in, SQLite flavour (the PostgreSQL flavour in
-- ../postgres has the same columns; keep them in step).
--
-- Credentials, sessions and reset links are not part of the replicated
-- model: they change at every sign-in, and no access decision reads them.
-- They are written in the same transaction as the audit records that
-- describe the event (see Store::record), so an event is never stored
-- without its record, nor the record without the event.

-- ASTM E2147's "outcome" of each audited event: success or failure.
ALTER TABLE audit ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success';
CREATE INDEX audit_at ON audit (at);

-- Roles and grants that end at a time: JSON object of role id or grant
-- (`id` / `id:own`) to the end (ms since the epoch).
ALTER TABLE memberships ADD COLUMN expires TEXT NOT NULL DEFAULT '{}';

-- One organization's security policy (passwords, sign-in, sessions, MFA,
-- emergency access), as JSON validated by the service.
CREATE TABLE security_policies (
    org_id      TEXT PRIMARY KEY REFERENCES orgs (id),
    policy      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A user's password and second factor. Hashes only: Argon2id PHC strings
-- for passwords, SHA-256 for recovery codes.
CREATE TABLE credentials (
    user_id               TEXT PRIMARY KEY REFERENCES users (id),
    -- The current password's hash; NULL when there is none (a temporary
    -- password already used, or never set).
    password_hash         TEXT,
    -- 1 when password_hash is a temporary password: it works once, and
    -- only to set a new one.
    temporary             INTEGER NOT NULL,
    temporary_expires_at  INTEGER,
    password_set_at       INTEGER,
    -- Previous password hashes, newest first (JSON array), for reuse rules.
    history               TEXT NOT NULL,
    -- Consecutive failed sign-ins, and the end of the lockout they caused.
    failed_count          INTEGER NOT NULL,
    locked_until          INTEGER,
    -- TOTP: the confirmed secret (base32), a secret being enrolled, and the
    -- last time step used (a code works once).
    totp_secret           TEXT,
    totp_pending          TEXT,
    totp_last_step        INTEGER,
    -- SHA-256 hashes of unused recovery codes (JSON array).
    recovery_codes        TEXT NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- Console sessions. The cookie holds a random secret; only its SHA-256 is
-- kept. `id` is public: it names the session in the audit log.
CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    secret_hash       TEXT NOT NULL UNIQUE,
    user_id           TEXT NOT NULL REFERENCES users (id),
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    -- `active`, or a step still to do: `change_password`, `mfa`, `mfa_enroll`.
    stage             TEXT NOT NULL,
    -- The anti-CSRF token forms and API calls must echo.
    csrf              TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    -- When the password was last given: sensitive actions want it recent.
    authenticated_at  INTEGER NOT NULL,
    last_seen_at      INTEGER NOT NULL,
    ended_at          INTEGER,
    end_reason        TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Password reset links: the token is random and only its SHA-256 is kept;
-- it expires and works once.
CREATE TABLE reset_tokens (
    secret_hash  TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
