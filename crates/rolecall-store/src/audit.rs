//! The audit log: who did what, to what, when, from where, before and after.
//!
//! Records are append-only and chained: each record's `hash` is the
//! HMAC-SHA256, with the audit key kept outside the database, of the
//! previous record's hash and this record's fields, so editing, inserting,
//! reordering or deleting a record breaks the chain, and nobody without the
//! key can mend it. How the chains are verified is in [`crate::chain`].
//!
//! Databases written before keys hold unkeyed SHA-256 hashes
//! ([`AuditRecord::legacy_hash`]); the first open with a key verifies them
//! and seals them (see [`crate::seal`]).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chain::{Link, Seal};
use crate::key::AuditKey;

pub use crate::chain::GENESIS;

/// Whether the audited event succeeded (ASTM E2147's "outcome").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It happened.
    #[default]
    Success,
    /// It was attempted and refused or failed (a wrong password, a
    /// lockout).
    Failure,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Result<Outcome, crate::StoreError> {
        match text {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            other => Err(crate::StoreError::Corrupt(format!(
                "audit outcome `{other}`"
            ))),
        }
    }

    fn is_success(&self) -> bool {
        *self == Outcome::Success
    }
}

/// An audit record to append; the store adds its number, time and chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    /// Who did it: `user:<id>`, `token:<id>`, `operator:<token id>` or `cli`.
    pub actor: String,
    /// What was done, e.g. `user.access.update`.
    pub action: String,
    /// The organization it happened in, if any.
    pub org: Option<String>,
    /// What it was done to, e.g. `user:u_123`.
    pub target: String,
    /// The target before, as JSON; none for a creation.
    pub before: Option<serde_json::Value>,
    /// The target after, as JSON; none for a deletion.
    pub after: Option<serde_json::Value>,
    /// Whether it succeeded.
    pub outcome: Outcome,
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The revision of the change it records.
    pub revision: i64,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The organization it happened in.
    pub org: Option<String>,
    /// What it was done to.
    pub target: String,
    /// The target before, as JSON text.
    pub before: Option<String>,
    /// The target after, as JSON text.
    pub after: Option<String>,
    /// Where the request came from: an IP address, or `cli`.
    pub source: String,
    /// Whether it succeeded.
    pub outcome: Outcome,
    /// The previous record's MAC.
    pub prev_hash: String,
    /// This record's MAC (HMAC-SHA256 with the audit key).
    pub hash: String,
}

/// The fields a record's MAC covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    at: i64,
    revision: i64,
    actor: &'a str,
    action: &'a str,
    org: Option<&'a str>,
    target: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    source: &'a str,
    // Left out when it is a success, so records written before outcomes
    // were recorded keep their hashes.
    #[serde(skip_serializing_if = "Outcome::is_success")]
    outcome: Outcome,
}

impl AuditRecord {
    fn hashed(&self, seq: i64) -> Vec<u8> {
        let fields = Hashed {
            seq,
            at: self.at,
            revision: self.revision,
            actor: &self.actor,
            action: &self.action,
            org: self.org.as_deref(),
            target: &self.target,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
            source: &self.source,
            outcome: self.outcome,
        };
        // Serializing a struct of strings and integers cannot fail.
        serde_json::to_vec(&fields).unwrap_or_default()
    }

    /// The MAC this record has with `key` at `seq` after `prev`.
    pub(crate) fn seal_with(&self, key: &AuditKey, prev: &str, seq: i64) -> String {
        key.mac(&[prev.as_bytes(), b"\n", &self.hashed(seq)])
    }

    /// The unkeyed SHA-256 hash of a record written before keys, given its
    /// fields and `prev_hash`.
    pub fn legacy_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.hashed(self.seq));
        format!("{:x}", hasher.finalize())
    }
}

impl Link for AuditRecord {
    fn position(&self) -> i64 {
        self.seq
    }

    fn prev(&self) -> &str {
        &self.prev_hash
    }

    fn mac(&self) -> &str {
        &self.hash
    }

    fn expected_mac(&self, seal: Seal<'_>, position: i64) -> String {
        match seal {
            Seal::Keyed(key) => self.seal_with(key, &self.prev_hash, position),
            Seal::Legacy => AuditRecord {
                seq: position,
                ..self.clone()
            }
            .legacy_hash(),
        }
    }
}
