-- Keyed chains, SQLite flavour (the PostgreSQL flavour in
-- ../postgres has the same columns; keep them in step).
--
-- The audit log's hashes become HMAC-SHA256 with a key kept outside the
-- database, and the change log gets a keyed chain of its own, so that
-- someone who can write the database cannot edit, insert or reorder
-- records, or change the state tables, unnoticed (see
-- crates/rolecall-store/src/chain.rs).
--
-- This migration only adds the columns. A database written before it holds
-- unkeyed SHA-256 hashes and no change MACs; the first open with a key
-- verifies that chain and, only if it is intact, seals both logs with the
-- key in one transaction (crates/rolecall-store/src/seal.rs).

-- The MAC of the last change, as audit_hash is the audit log's.
ALTER TABLE heads ADD COLUMN change_mac TEXT NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
-- The MAC of a fixed text with the key the logs are sealed with: tells a
-- wrong key from the right one. NULL until the logs are sealed.
ALTER TABLE heads ADD COLUMN key_check TEXT;

-- Each change's MAC and its predecessor's; NULL until sealed.
ALTER TABLE changes ADD COLUMN prev_mac TEXT;
ALTER TABLE changes ADD COLUMN mac TEXT;
