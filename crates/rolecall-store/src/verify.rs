//! Verifying a database: both chains whole, the state tables against the
//! change log, and checkpoints kept outside; or, cheaply at start-up, the
//! tail of each chain.
//!
//! [`Store::open_read_only`] opens a database for this without changing
//! it: SQLite in `mode=ro` (a missing file is an error, never created),
//! PostgreSQL in read-only transactions, and no migrations.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::Row;

use crate::chain::{self, Chain, ChainProblem, ChangeRecord, Head, Seal, Start};
use crate::checkpoint::{self, Checkpoint, CheckpointProblem};
use crate::key::AuditKey;
use crate::seal::{change_from_row, read_changes, read_records};
use crate::state::{self, StateProblem};
use crate::store::{audit_from_row, normalize_url, Backend, Store, StoreError};

/// How many of the newest items of each chain the start-up check verifies.
pub const TAIL: i64 = 1000;

/// Anything verification found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// In the audit log or the change log.
    Chain(ChainProblem),
    /// In the state tables.
    State(StateProblem),
    /// A checkpoint no longer contained.
    Checkpoint(CheckpointProblem),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Chain(problem) => problem.fmt(f),
            Problem::State(problem) => problem.fmt(f),
            Problem::Checkpoint(problem) => problem.fmt(f),
        }
    }
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Audit records read.
    pub records: i64,
    /// Changes read.
    pub changes: i64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Whether the logs are sealed with a key; when not (a database written
    /// before keys and not opened with one since), the audit chain was
    /// checked with its unkeyed hashes and the change log only for gaps.
    pub sealed: bool,
    /// Every problem; empty when intact.
    pub problems: Vec<Problem>,
}

/// A checkpoint to check, with where it was read ("`FILE` line 3").
#[derive(Debug, Clone)]
pub struct Checkpointed {
    /// Where it was read.
    pub origin: String,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
}

impl Store {
    /// Opens a database to read only: no migration, nothing created.
    pub async fn open_read_only(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, normalized) = normalize_url(url)?;
        let url = match backend {
            Backend::Sqlite => {
                let path = sqlite_path(&normalized);
                if !std::path::Path::new(path).is_file() {
                    return Err(StoreError::Missing(path.to_owned()));
                }
                format!("sqlite://{path}?mode=ro")
            }
            Backend::Postgres => normalized,
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    let setting = match backend {
                        Backend::Sqlite => "PRAGMA busy_timeout = 10000",
                        Backend::Postgres => "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
                    };
                    sqlx::query(setting).execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Store::from_pool(pool, backend, url))
    }

    /// Verifies everything with the store's own key, without checkpoints.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        self.verify(self.key(), &[]).await
    }

    /// Verifies both chains from their first item, replays the change log
    /// and compares it with the state tables, and checks each checkpoint.
    /// A sealed database needs its key (else [`StoreError::NoAuditKey`] or
    /// [`StoreError::WrongAuditKey`]); one written before keys and not yet
    /// sealed is checked with its unkeyed hashes.
    pub async fn verify(
        &self,
        key: Option<&AuditKey>,
        checkpoints: &[Checkpointed],
    ) -> Result<Verification, StoreError> {
        // The state first, so that every change it reflects is read below.
        let stored = self.load().await;
        let keyed_schema = self.has_keyed_columns().await?;
        let mut tx = self.pool().begin().await?;
        let heads = if keyed_schema {
            "SELECT revision, audit_seq, audit_hash, change_mac, key_check FROM heads WHERE id = 1"
        } else {
            "SELECT revision, audit_seq, audit_hash, NULL, NULL FROM heads WHERE id = 1"
        };
        let head = sqlx::query(heads).fetch_one(&mut *tx).await?;
        let revision: i64 = head.try_get(0)?;
        let audit_head = Head {
            position: head.try_get(1)?,
            mac: head.try_get(2)?,
        };
        let change_mac: Option<String> = head.try_get(3)?;
        let key_check: Option<String> = head.try_get(4)?;
        let records = read_records(&mut tx).await?;
        let changes = if keyed_schema {
            read_changes(&mut tx).await?
        } else {
            sqlx::query(
                "SELECT revision, at, actor, payload, NULL, NULL FROM changes ORDER BY revision",
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(change_from_row)
            .collect::<Result<_, _>>()?
        };
        tx.commit().await?;

        let seal = match (key_check, key) {
            (None, _) => Seal::Legacy,
            (Some(_), None) => return Err(StoreError::NoAuditKey),
            (Some(check), Some(key)) if check == key.check_value() => Seal::Keyed(key),
            (Some(_), Some(_)) => return Err(StoreError::WrongAuditKey),
        };
        let mut problems: Vec<Problem> =
            chain::verify(Chain::Audit, &records, Start::Genesis, &audit_head, seal)
                .into_iter()
                .map(Problem::Chain)
                .collect();
        let change_problems = match (seal, change_mac) {
            (Seal::Keyed(_), Some(mac)) => {
                let head = Head {
                    position: revision,
                    mac,
                };
                chain::verify(Chain::Changes, &changes, Start::Genesis, &head, seal)
            }
            _ => chain::verify_numbering(
                Chain::Changes,
                changes.iter().map(|c| c.revision),
                revision,
            ),
        };
        problems.extend(change_problems.into_iter().map(Problem::Chain));
        problems.extend(compare_state(stored, &changes));
        if !checkpoints.is_empty() {
            let Seal::Keyed(key) = seal else {
                return Err(StoreError::NotSealed);
            };
            problems.extend(check_checkpoints(key, checkpoints, &records, &changes));
        }
        Ok(Verification {
            records: i64::try_from(records.len()).unwrap_or(i64::MAX),
            changes: i64::try_from(changes.len()).unwrap_or(i64::MAX),
            checkpoints: checkpoints.len(),
            sealed: matches!(seal, Seal::Keyed(_)),
            problems,
        })
    }

    /// Verifies the newest [`TAIL`] items of each chain, that each ends at
    /// its head, and that nothing lies past a head, with the store's key;
    /// cheap enough for every start. Empty when intact.
    pub async fn verify_tail(&self) -> Result<Vec<ChainProblem>, StoreError> {
        let key = self.key().ok_or(StoreError::NoAuditKey)?;
        let seal = Seal::Keyed(key);
        let mut tx = self.pool().begin().await?;
        let head = sqlx::query(
            "SELECT revision, audit_seq, audit_hash, change_mac FROM heads WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = head.try_get(0)?;
        let audit_head = Head {
            position: head.try_get(1)?,
            mac: head.try_get(2)?,
        };
        let change_head = Head {
            position: revision,
            mac: head.try_get(3)?,
        };
        let audit_from = (audit_head.position - TAIL).max(1);
        let records = sqlx::query(
            "SELECT seq, at, revision, actor, action, org_id, target, before_json, after_json, \
             source, outcome, prev_hash, hash FROM audit WHERE seq >= $1 ORDER BY seq",
        )
        .bind(audit_from)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(audit_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let change_from = (revision - TAIL).max(1);
        let changes = sqlx::query(
            "SELECT revision, at, actor, payload, prev_mac, mac FROM changes \
             WHERE revision >= $1 ORDER BY revision",
        )
        .bind(change_from)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(change_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        let start = |from: i64| {
            if from == 1 {
                Start::Genesis
            } else {
                Start::At(from)
            }
        };
        let mut problems =
            chain::verify(Chain::Audit, &records, start(audit_from), &audit_head, seal);
        problems.extend(chain::verify(
            Chain::Changes,
            &changes,
            start(change_from),
            &change_head,
            seal,
        ));
        Ok(problems)
    }

    /// Whether the database has the columns of keyed chains (it may be
    /// older than this binary: read-only opens migrate nothing).
    async fn has_keyed_columns(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 4")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }
}

/// The file path of a normalized SQLite URL.
fn sqlite_path(url: &str) -> &str {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    path.split_once('?').map_or(path, |(path, _)| path)
}

fn compare_state(
    stored: Result<(crate::model::Model, i64), StoreError>,
    changes: &[ChangeRecord],
) -> Vec<Problem> {
    let (stored, revision) = match stored {
        Ok(loaded) => loaded,
        Err(StoreError::Corrupt(reason)) => {
            return vec![Problem::State(StateProblem::UnreadableTables(reason))];
        }
        Err(other) => {
            return vec![Problem::State(StateProblem::UnreadableTables(
                other.to_string(),
            ))];
        }
    };
    let (replayed, unreadable) = state::replay(changes, revision);
    if let Some(problem) = unreadable {
        return vec![Problem::State(problem)];
    }
    state::compare(&replayed, &stored)
        .into_iter()
        .map(Problem::State)
        .collect()
}

fn check_checkpoints(
    key: &AuditKey,
    checkpoints: &[Checkpointed],
    records: &[crate::audit::AuditRecord],
    changes: &[ChangeRecord],
) -> Vec<Problem> {
    let audit = |seq: i64| {
        records
            .binary_search_by_key(&seq, |r| r.seq)
            .ok()
            .map(|i| records[i].hash.clone())
    };
    let change = |revision: i64| {
        changes
            .binary_search_by_key(&revision, |c| c.revision)
            .ok()
            .and_then(|i| changes[i].mac.clone())
    };
    let audit_last = records.last().map_or(0, |r| r.seq);
    let changes_last = changes.last().map_or(0, |c| c.revision);
    checkpoints
        .iter()
        .flat_map(|c| {
            checkpoint::check(
                &c.origin,
                &c.checkpoint,
                key,
                &audit,
                audit_last,
                &change,
                changes_last,
            )
        })
        .map(Problem::Checkpoint)
        .collect()
}
