-- rolecall's schema, PostgreSQL flavour. The SQLite flavour in
-- ../sqlite is the same tables with the same columns; keep them in step.
--
-- Sets (subscriptions, roles, grants, members...) are JSON arrays in TEXT
-- columns: they are always read and written whole, with the row that owns
-- them, and JSON in TEXT is portable to every SQL store we target.
-- Times are milliseconds since the Unix epoch (BIGINT), for the same reason.

-- One row: the last revision and the head of the audit chain. Every write
-- transaction starts by bumping `revision` here, which serializes writers
-- (a row lock in PostgreSQL, the write lock in SQLite) so that revisions
-- and the audit chain never fork.
CREATE TABLE heads (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    revision    BIGINT NOT NULL,
    audit_seq   BIGINT NOT NULL,
    audit_hash  TEXT    NOT NULL
);
INSERT INTO heads (id, revision, audit_seq, audit_hash)
VALUES (1, 0, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE orgs (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    parent        TEXT REFERENCES orgs (id),
    subscriptions TEXT NOT NULL,  -- JSON array of subscription ids
    manages       TEXT NOT NULL,  -- JSON array of org ids (partner links)
    created_at    BIGINT NOT NULL
);

CREATE TABLE employees (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX employees_org ON employees (org_id);

-- The sign-in account of exactly one employee; its email is the employee's.
CREATE TABLE users (
    id           TEXT PRIMARY KEY,
    employee_id  TEXT NOT NULL UNIQUE REFERENCES employees (id),
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A user's access in one organization.
CREATE TABLE memberships (
    user_id          TEXT NOT NULL REFERENCES users (id),
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    roles            TEXT NOT NULL,  -- JSON array of role ids
    grants           TEXT NOT NULL,  -- JSON array of `id` or `id:own`
    denials          TEXT NOT NULL,  -- JSON array of permission ids
    scheduler_type   TEXT,
    scheduler_level  TEXT,
    tasking_access   TEXT,
    PRIMARY KEY (user_id, org_id)
);
CREATE INDEX memberships_org ON memberships (org_id);

CREATE TABLE member_groups (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    access      TEXT,            -- the creator's access type, set by the service
    members     TEXT NOT NULL,   -- JSON array of user ids
    roles       TEXT NOT NULL,   -- JSON array of role ids
    created_at  BIGINT NOT NULL
);

CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    grants      TEXT NOT NULL,   -- JSON array of `id` or `id:own`
    created_at  BIGINT NOT NULL
);

-- API tokens: only the SHA-256 of the secret is kept. An operator token has
-- no organization and no user; any other token acts as one user in one
-- organization.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    operator     BIGINT NOT NULL,
    org_id       TEXT REFERENCES orgs (id),
    user_id      TEXT REFERENCES users (id),
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);

-- The change log: one row per committed write, in revision order. Replicas
-- replay `payload` (the rows the write put, as JSON) to converge.
CREATE TABLE changes (
    revision  BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    payload   TEXT NOT NULL
);

-- The audit log: append-only, each record chained to the previous one by
-- `hash` = SHA-256(prev_hash, the record's fields). `rolecall audit verify`
-- recomputes the chain and compares its end with `heads`.
CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    revision   BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    org_id     TEXT,
    target     TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    source     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_org_at ON audit (org_id, at);
