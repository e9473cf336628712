//! Checkpoints: the heads of both chains, signed with the audit key and
//! kept outside the database.
//!
//! The key stops anyone without it from editing, inserting or reordering
//! records; it cannot stop them from deleting the newest records of both
//! logs and moving the heads back, because what remains is a valid chain.
//! A checkpoint written elsewhere (a log shipper, a file on another host)
//! remembers a head: as long as the database still holds that audit record
//! with that MAC and that change with that MAC, nothing up to it was cut.
//!
//! A checkpoint is one JSON line:
//!
//! ```json
//! {"kind":"rolecall.audit.checkpoint","at":1718000000000,"audit_seq":1200,"audit_mac":"…","revision":310,"change_mac":"…","mac":"…"}
//! ```
//!
//! `mac` is the HMAC, with the audit key, of the other fields but `kind`:
//! a checkpoint cannot be forged either.

use std::fmt;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::chain::GENESIS;
use crate::key::AuditKey;
use crate::store::{now_ms, Store, StoreError};

/// What the `kind` field of a checkpoint line says.
pub const KIND: &str = "rolecall.audit.checkpoint";

/// The signed heads of the audit log and the change log at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`KIND`], so a log shipper can pick the lines out.
    #[serde(default)]
    pub kind: String,
    /// When it was taken (ms since the epoch).
    pub at: i64,
    /// The last audit record's number.
    pub audit_seq: i64,
    /// Its MAC.
    pub audit_mac: String,
    /// The last change's revision.
    pub revision: i64,
    /// Its MAC.
    pub change_mac: String,
    /// The MAC of the fields above with the audit key.
    pub mac: String,
}

impl Checkpoint {
    fn signed_text(&self) -> String {
        format!(
            "checkpoint\n{}\n{}\n{}\n{}\n{}",
            self.at, self.audit_seq, self.audit_mac, self.revision, self.change_mac
        )
    }

    /// Whether `key` signed it.
    pub fn is_signed_by(&self, key: &AuditKey) -> bool {
        key.mac(&[self.signed_text().as_bytes()]) == self.mac
    }

    /// The checkpoint as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        crate::store::json(self)
    }

    /// Parses one line written by [`Checkpoint::to_line`].
    pub fn parse_line(line: &str) -> Result<Checkpoint, String> {
        serde_json::from_str(line).map_err(|e| e.to_string())
    }
}

/// A checkpoint that the database no longer agrees with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// Its MAC is not the key's: it was forged, or is another database's.
    NotSigned {
        /// Where it was read, e.g. "`checkpoints.jsonl` line 3".
        origin: String,
    },
    /// The audit log no longer holds the checkpointed record as it was.
    AuditNotContained {
        /// Where it was read.
        origin: String,
        /// The checkpointed record.
        seq: i64,
        /// The audit log's last record now.
        last: i64,
    },
    /// The change log no longer holds the checkpointed change as it was.
    ChangeNotContained {
        /// Where it was read.
        origin: String,
        /// The checkpointed change.
        revision: i64,
        /// The change log's last change now.
        last: i64,
    },
}

impl fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointProblem::NotSigned { origin } => write!(
                f,
                "the checkpoint at {origin} is not signed with this audit key: it was forged, or \
                 belongs to another database"
            ),
            CheckpointProblem::AuditNotContained { origin, seq, last } if last < seq => write!(
                f,
                "the audit log ends at record {last}, but the checkpoint at {origin} names record \
                 {seq}: the newest records were deleted and the head moved back"
            ),
            CheckpointProblem::AuditNotContained { origin, seq, .. } => write!(
                f,
                "audit record {seq} is not the one the checkpoint at {origin} names: the log was \
                 rewritten up to it"
            ),
            CheckpointProblem::ChangeNotContained {
                origin,
                revision,
                last,
            } if last < revision => write!(
                f,
                "the change log ends at revision {last}, but the checkpoint at {origin} names \
                 revision {revision}: the newest changes were deleted and the head moved back"
            ),
            CheckpointProblem::ChangeNotContained {
                origin, revision, ..
            } => write!(
                f,
                "change {revision} is not the one the checkpoint at {origin} names: the change \
                 log was rewritten up to it"
            ),
        }
    }
}

/// Checks one checkpoint against the chains as read: `audit` maps a number
/// to its stored MAC, as does `changes`.
pub(crate) fn check(
    origin: &str,
    checkpoint: &Checkpoint,
    key: &AuditKey,
    audit: &dyn Fn(i64) -> Option<String>,
    audit_last: i64,
    changes: &dyn Fn(i64) -> Option<String>,
    changes_last: i64,
) -> Vec<CheckpointProblem> {
    if !checkpoint.is_signed_by(key) {
        return vec![CheckpointProblem::NotSigned {
            origin: origin.to_owned(),
        }];
    }
    let contained = |position: i64, mac: &str, stored: &dyn Fn(i64) -> Option<String>| {
        position == 0 && mac == GENESIS || stored(position).as_deref() == Some(mac)
    };
    let mut problems = Vec::new();
    if !contained(checkpoint.audit_seq, &checkpoint.audit_mac, audit) {
        problems.push(CheckpointProblem::AuditNotContained {
            origin: origin.to_owned(),
            seq: checkpoint.audit_seq,
            last: audit_last,
        });
    }
    if !contained(checkpoint.revision, &checkpoint.change_mac, changes) {
        problems.push(CheckpointProblem::ChangeNotContained {
            origin: origin.to_owned(),
            revision: checkpoint.revision,
            last: changes_last,
        });
    }
    problems
}

impl Store {
    /// Signs the current heads of both chains with the store's key.
    /// Check the tail first ([`Store::verify_tail`]): a checkpoint vouches
    /// for everything before it.
    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let key = self.key().ok_or(StoreError::NoAuditKey)?;
        let row = sqlx::query(
            "SELECT audit_seq, audit_hash, revision, change_mac FROM heads WHERE id = 1",
        )
        .fetch_one(self.pool())
        .await?;
        let mut checkpoint = Checkpoint {
            kind: KIND.to_owned(),
            at: now_ms(),
            audit_seq: row.try_get(0)?,
            audit_mac: row.try_get(1)?,
            revision: row.try_get(2)?,
            change_mac: row.try_get(3)?,
            mac: String::new(),
        };
        checkpoint.mac = key.mac(&[checkpoint.signed_text().as_bytes()]);
        Ok(checkpoint)
    }
}
