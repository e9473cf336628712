//! Loading the audit key into a store, and the one-time sealing of logs
//! written before keys.
//!
//! `heads.key_check` holds the MAC of a fixed text with the key the logs
//! are sealed with; NULL means not sealed yet. [`Store::with_audit_key`]:
//!
//! - on a sealed database, compares the check value (a wrong key is
//!   refused at once, before anything is written);
//! - on a new database, records the check value;
//! - on a database written before keys (unkeyed SHA-256 hashes, changes
//!   without MACs), verifies the old audit chain and the change log's
//!   numbering and, only if both are intact, recomputes every audit
//!   record's hash and every change's MAC with the key, in one
//!   transaction, and appends an `audit.seal` record saying how many
//!   records and changes were sealed. A damaged old log is refused
//!   ([`StoreError::Damaged`]) unless the caller passes
//!   [`OnDamage::SealAnyway`], and then the damage found is written into
//!   the `audit.seal` record.
//!
//! Residual risk, by construction: until it is sealed, an old log is only
//! as strong as its unkeyed hashes; and someone who can write the database
//! could present a sealed database as an unsealed one (recompute the
//! unkeyed chain, clear `key_check`), which the next open would seal
//! again. Its `audit.seal` record then appears twice, and every checkpoint
//! taken before is no longer contained, which `audit verify --checkpoint`
//! reports.

use sqlx::Row;

use crate::audit::{AuditRecord, Outcome};
use crate::chain::{self, Chain, ChainProblem, ChangeRecord, Head, Seal, Start};
use crate::key::AuditKey;
use crate::store::{audit_from_row, insert_audit, now_ms, Store, StoreError, Tx};

/// Whether a database's logs are sealed with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealState {
    /// Nothing was ever written: any key may seal it.
    New,
    /// Written before keys: the first key seals it.
    Unsealed,
    /// Sealed with a key; only that key opens it.
    Sealed,
}

/// What to do when an old, unkeyed log is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDamage {
    /// Refuse to seal it (and so to write).
    Refuse,
    /// Seal it as it is, writing the damage into the `audit.seal` record.
    SealAnyway,
}

/// An old log sealed by [`Store::unlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealing {
    /// Audit records sealed.
    pub records: i64,
    /// Changes sealed.
    pub changes: i64,
    /// The damage sealed as it was (only with [`OnDamage::SealAnyway`]).
    pub damage: Vec<ChainProblem>,
}

impl Store {
    /// Opens and migrates the database, and loads the audit key into it.
    pub async fn open_with_key(url: &str, key: AuditKey) -> Result<Store, StoreError> {
        Store::open(url).await?.with_audit_key(key).await
    }

    /// Whether the logs are sealed with a key.
    pub async fn seal_state(&self) -> Result<SealState, StoreError> {
        let row = sqlx::query("SELECT revision, audit_seq, key_check FROM heads WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(state(
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get::<Option<String>, _>(2)?.is_some(),
        ))
    }

    /// The same store, sealing what it writes with `key`; see the module
    /// documentation. A damaged old log is refused.
    pub async fn with_audit_key(self, key: AuditKey) -> Result<Store, StoreError> {
        Ok(self.unlock(key, OnDamage::Refuse).await?.0)
    }

    /// The same store, with `key` for verifying and signing checkpoints,
    /// changing nothing: for a store opened with
    /// [`Store::open_read_only`]. The logs must already be sealed with it.
    pub async fn with_audit_key_read_only(self, key: AuditKey) -> Result<Store, StoreError> {
        match self.seal_state().await? {
            SealState::Sealed => {}
            SealState::New | SealState::Unsealed => return Err(StoreError::NotSealed),
        }
        let check: Option<String> = sqlx::query("SELECT key_check FROM heads WHERE id = 1")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        if check.as_deref() == Some(key.check_value()) {
            Ok(self.set_key(key))
        } else {
            Err(StoreError::WrongAuditKey)
        }
    }

    /// Loads the key as [`Store::with_audit_key`] does; says what was
    /// sealed, when an old log was.
    pub async fn unlock(
        self,
        key: AuditKey,
        on_damage: OnDamage,
    ) -> Result<(Store, Option<Sealing>), StoreError> {
        let check: Option<String> = sqlx::query("SELECT key_check FROM heads WHERE id = 1")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        match check {
            Some(check) if check == key.check_value() => return Ok((self.set_key(key), None)),
            Some(_) => return Err(StoreError::WrongAuditKey),
            None => {}
        }
        let mut tx = self.pool().begin().await?;
        // Takes the `heads` lock: no writer, and no other process sealing.
        let head = sqlx::query(
            "UPDATE heads SET audit_seq = audit_seq WHERE id = 1 \
             RETURNING revision, audit_seq, audit_hash, key_check",
        )
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = head.try_get(0)?;
        let audit_seq: i64 = head.try_get(1)?;
        let audit_hash: String = head.try_get(2)?;
        match head.try_get::<Option<String>, _>(3)? {
            // Another process sealed it meanwhile.
            Some(check) if check == key.check_value() => {
                tx.rollback().await?;
                return Ok((self.set_key(key), None));
            }
            Some(_) => {
                tx.rollback().await?;
                return Err(StoreError::WrongAuditKey);
            }
            None => {}
        }
        let records = read_records(&mut tx).await?;
        let changes = read_changes(&mut tx).await?;
        if records.is_empty() && changes.is_empty() && revision == 0 && audit_seq == 0 {
            sqlx::query("UPDATE heads SET key_check = $1 WHERE id = 1")
                .bind(key.check_value())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok((self.set_key(key), None));
        }
        let audit_head = Head {
            position: audit_seq,
            mac: audit_hash,
        };
        let mut damage = chain::verify(
            Chain::Audit,
            &records,
            Start::Genesis,
            &audit_head,
            Seal::Legacy,
        );
        damage.extend(chain::verify_numbering(
            Chain::Changes,
            changes.iter().map(|c| c.revision),
            revision,
        ));
        if !damage.is_empty() && on_damage == OnDamage::Refuse {
            tx.rollback().await?;
            let found: Vec<String> = damage.iter().map(ToString::to_string).collect();
            return Err(StoreError::Damaged(format!(
                "the log written before audit keys cannot be sealed: {}",
                found.join("; ")
            )));
        }
        let sealing = Sealing {
            records: i64::try_from(records.len()).unwrap_or(i64::MAX),
            changes: i64::try_from(changes.len()).unwrap_or(i64::MAX),
            damage,
        };
        seal_all(&mut tx, &key, records, changes, revision, &sealing).await?;
        tx.commit().await?;
        Ok((self.set_key(key), Some(sealing)))
    }
}

fn state(revision: i64, audit_seq: i64, keyed: bool) -> SealState {
    if keyed {
        SealState::Sealed
    } else if revision == 0 && audit_seq == 0 {
        SealState::New
    } else {
        SealState::Unsealed
    }
}

/// Recomputes every hash and MAC with the key, in stored order, appends
/// the `audit.seal` record and moves both heads to the sealed ends.
async fn seal_all(
    tx: &mut Tx<'_>,
    key: &AuditKey,
    records: Vec<AuditRecord>,
    changes: Vec<ChangeRecord>,
    revision: i64,
    sealing: &Sealing,
) -> Result<(), StoreError> {
    let mut prev = chain::GENESIS.to_owned();
    let mut last_seq = 0;
    for record in &records {
        let hash = record.seal_with(key, &prev, record.seq);
        sqlx::query("UPDATE audit SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(record.seq)
            .execute(&mut **tx)
            .await?;
        prev = hash;
        last_seq = record.seq;
    }
    let mut change_mac = chain::GENESIS.to_owned();
    for change in &changes {
        let mac = change.seal_with(key, &change_mac, change.revision);
        sqlx::query("UPDATE changes SET prev_mac = $1, mac = $2 WHERE revision = $3")
            .bind(&change_mac)
            .bind(&mac)
            .bind(change.revision)
            .execute(&mut **tx)
            .await?;
        change_mac = mac;
    }
    let damage: Vec<String> = sealing.damage.iter().map(ToString::to_string).collect();
    let mut record = AuditRecord {
        seq: last_seq + 1,
        at: now_ms(),
        revision,
        actor: "system".to_owned(),
        action: "audit.seal".to_owned(),
        org: None,
        target: "audit".to_owned(),
        before: None,
        after: Some(crate::store::json(&serde_json::json!({
            "records": sealing.records,
            "changes": sealing.changes,
            "damage": damage,
        }))),
        source: "rolecall".to_owned(),
        outcome: Outcome::Success,
        prev_hash: prev,
        hash: String::new(),
    };
    record.hash = record.seal_with(key, &record.prev_hash, record.seq);
    insert_audit(tx, &record).await?;
    sqlx::query(
        "UPDATE heads SET audit_seq = $1, audit_hash = $2, change_mac = $3, key_check = $4 \
         WHERE id = 1",
    )
    .bind(record.seq)
    .bind(&record.hash)
    .bind(&change_mac)
    .bind(key.check_value())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every audit record, in order.
pub(crate) async fn read_records(tx: &mut Tx<'_>) -> Result<Vec<AuditRecord>, StoreError> {
    sqlx::query(
        "SELECT seq, at, revision, actor, action, org_id, target, before_json, after_json, \
         source, outcome, prev_hash, hash FROM audit ORDER BY seq",
    )
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(audit_from_row)
    .collect()
}

/// Every change, in order.
pub(crate) async fn read_changes(tx: &mut Tx<'_>) -> Result<Vec<ChangeRecord>, StoreError> {
    sqlx::query("SELECT revision, at, actor, payload, prev_mac, mac FROM changes ORDER BY revision")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(change_from_row)
        .collect()
}

pub(crate) fn change_from_row(row: &sqlx::any::AnyRow) -> Result<ChangeRecord, StoreError> {
    Ok(ChangeRecord {
        revision: row.try_get(0)?,
        at: row.try_get(1)?,
        actor: row.try_get(2)?,
        payload: row.try_get(3)?,
        prev_mac: row.try_get(4)?,
        mac: row.try_get(5)?,
    })
}
