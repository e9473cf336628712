//! The audit log: who did what, to what, when, from where, before and after.
//!
//! Records are append-only and chained: each record's `hash` is the SHA-256
//! of the previous record's hash and this record's fields, so editing or
//! deleting a record breaks every hash after it. The chain's end is also
//! kept in the `heads` row, written in the same transaction, so deleting the
//! newest records is caught too.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// The fields a record's hash covers, in a fixed order.
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
    /// The hash this record should have, given its fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            &Hashed {
                seq: self.seq,
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
            },
        )
    }
}

fn chain_hash(prev: &str, fields: &Hashed<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(b"\n");
    // Serializing a struct of strings and integers cannot fail.
    hasher.update(serde_json::to_vec(fields).unwrap_or_default());
    format!("{:x}", hasher.finalize())
}

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// A record's number is not the one after its predecessor's: records
    /// were deleted or inserted.
    Gap {
        /// The number expected.
        expected: i64,
        /// The number found.
        found: i64,
    },
    /// A record does not point at its predecessor's hash.
    BrokenLink {
        /// The record.
        seq: i64,
    },
    /// A record's fields do not match its hash: it was edited.
    Edited {
        /// The record.
        seq: i64,
    },
    /// The chain ends before the head the database recorded: the newest
    /// records were deleted.
    Truncated {
        /// The last record the head names.
        head_seq: i64,
        /// The last record found.
        last_seq: i64,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Gap { expected, found } => write!(
                f,
                "record {expected} is missing (the next record is {found}): records were deleted"
            ),
            ChainProblem::BrokenLink { seq } => write!(
                f,
                "record {seq} does not follow the record before it: the chain was altered"
            ),
            ChainProblem::Edited { seq } => {
                write!(f, "record {seq} does not match its hash: it was edited")
            }
            ChainProblem::Truncated { head_seq, last_seq } => write!(
                f,
                "the log ends at record {last_seq} but record {head_seq} was written: the newest records were deleted"
            ),
        }
    }
}

/// Verifies records in order against the head the database recorded.
/// Returns every problem found; empty means the chain is intact.
pub fn verify(
    records: impl IntoIterator<Item = AuditRecord>,
    head_seq: i64,
    head_hash: &str,
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_owned();
    for record in records {
        if record.seq != expected_seq {
            problems.push(ChainProblem::Gap {
                expected: expected_seq,
                found: record.seq,
            });
        }
        if record.prev_hash != prev {
            problems.push(ChainProblem::BrokenLink { seq: record.seq });
        }
        if record.expected_hash() != record.hash {
            problems.push(ChainProblem::Edited { seq: record.seq });
        }
        expected_seq = record.seq + 1;
        prev = record.hash;
    }
    let last_seq = expected_seq - 1;
    if last_seq < head_seq || (last_seq == head_seq && prev != head_hash && problems.is_empty()) {
        problems.push(ChainProblem::Truncated { head_seq, last_seq });
    }
    problems
}
