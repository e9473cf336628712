//! Tamper evidence: someone who can write the database but does not hold
//! the audit key edits it by SQL, and verification names what they did.
//! On a SQLite file and, when `ROLECALL_TEST_POSTGRES_URL` is set, on
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use rolecall_model::world::Status;
use rolecall_store::{
    Access, AuditEntry, AuditKey, AuditQuery, AuditRecord, Batch, Chain, ChainProblem,
    CheckpointProblem, Checkpointed, Disagreement, EmployeeRow, OrgRow, Problem, Put, StateProblem,
    Store, StoreError, UserRow,
};

fn key() -> AuditKey {
    AuditKey::from_bytes([7; 32])
}

/// A database per backend, with three changes and three audit records.
struct Db {
    store: Store,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn databases(name: &str) -> Vec<Db> {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("t.db").to_str().unwrap().to_owned();
    let mut out = vec![Db {
        store: Store::open_with_key(&url, key()).await.unwrap(),
        url,
        _dir: Some(dir),
    }];
    if let Ok(admin_url) = std::env::var("ROLECALL_TEST_POSTGRES_URL") {
        let admin = Store::open(&admin_url).await.unwrap();
        let db = format!("rolecall_tamper_{name}_{}", std::process::id());
        admin
            .execute_raw(&format!("DROP DATABASE IF EXISTS {db}"))
            .await
            .unwrap();
        admin
            .execute_raw(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{db}");
        out.push(Db {
            store: Store::open_with_key(&url, key()).await.unwrap(),
            url,
            _dir: None,
        });
    }
    for db in &out {
        for (revision, puts) in [
            vec![org("acme")],
            vec![employee("bob"), user("bob", &["web.biller"])],
            vec![org("other")],
        ]
        .into_iter()
        .enumerate()
        {
            db.store
                .commit(
                    revision as i64,
                    "cli",
                    "cli",
                    Batch {
                        puts: &puts,
                        audit: &[entry(revision)],
                        ..Batch::default()
                    },
                )
                .await
                .unwrap();
        }
    }
    out
}

fn org(id: &str) -> Put {
    Put::Org(OrgRow {
        id: id.to_owned(),
        name: id.to_owned(),
        parent: None,
        subscriptions: vec![],
        manages: vec![],
        created_at: 1,
    })
}

fn employee(id: &str) -> Put {
    Put::Employee(EmployeeRow {
        id: id.to_owned(),
        org: "acme".to_owned(),
        first_name: id.to_owned(),
        last_name: "Tester".to_owned(),
        email: format!("{id}@acme.test"),
        created_at: 1,
    })
}

fn user(id: &str, roles: &[&str]) -> Put {
    let access = Access {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ..Access::default()
    };
    Put::User(UserRow {
        id: id.to_owned(),
        employee: id.to_owned(),
        status: Status::Active,
        memberships: BTreeMap::from([("acme".to_owned(), access)]),
        created_at: 1,
    })
}

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        actor: "cli".to_owned(),
        action: "org.create".to_owned(),
        target: format!("thing:{n}"),
        ..Default::default()
    }
}

/// Every audit record, oldest first.
async fn records(store: &Store) -> Vec<AuditRecord> {
    let mut records = store
        .audit(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    records.reverse();
    records
}

async fn problems(store: &Store) -> Vec<Problem> {
    store.verify_audit().await.unwrap().problems
}

fn texts(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn an_untouched_database_is_intact_in_whole_and_in_its_tail() {
    for db in databases("intact").await {
        let verified = db.store.verify_audit().await.unwrap();

        assert_eq!(verified.problems, vec![]);
        assert_eq!((verified.records, verified.changes), (3, 3));
        assert!(verified.sealed);
        assert_eq!(db.store.verify_tail().await.unwrap(), vec![]);
    }
}

#[tokio::test]
async fn a_row_appended_past_the_head_with_a_correct_unkeyed_hash_is_named() {
    for db in databases("past_head").await {
        // The attacker computes the hash the way it was computed before keys.
        let last = records(&db.store).await.pop().unwrap();
        let mut forged = AuditRecord {
            seq: 4,
            actor: "user:mallory".to_owned(),
            prev_hash: last.hash.clone(),
            ..last
        };
        forged.hash = forged.legacy_hash();
        db.store
            .execute_raw(&format!(
                "INSERT INTO audit (seq, at, revision, actor, action, org_id, target, source, \
                 outcome, prev_hash, hash) VALUES (4, {}, 3, 'user:mallory', 'org.create', NULL, \
                 'thing:2', 'cli', 'success', '{}', '{}')",
                forged.at, forged.prev_hash, forged.hash
            ))
            .await
            .unwrap();

        let found = problems(&db.store).await;
        let tail = db.store.verify_tail().await.unwrap();

        let past_head = ChainProblem::PastHead {
            chain: Chain::Audit,
            at: 4,
            head: 3,
        };
        assert!(
            found.contains(&Problem::Chain(past_head.clone())),
            "{found:?}"
        );
        assert!(tail.contains(&past_head), "{tail:?}");
        assert!(
            texts(&found).contains(
                &"audit record 4 is past the head (3) and does not continue the chain: it was \
                  added outside rolecall"
                    .to_owned()
            ),
            "{found:?}"
        );
    }
}

#[tokio::test]
async fn the_newest_records_deleted_and_the_heads_moved_back_are_caught_by_a_checkpoint() {
    for db in databases("rewind").await {
        let checkpoint = Checkpointed {
            origin: "`checkpoints` line 1".to_owned(),
            checkpoint: db.store.checkpoint().await.unwrap(),
        };
        // Heads moved back first, to the MACs still in the tables.
        for sql in [
            "UPDATE heads SET audit_seq = 2, audit_hash = (SELECT hash FROM audit WHERE seq = 2), \
             revision = 2, change_mac = (SELECT mac FROM changes WHERE revision = 2)",
            "DELETE FROM audit WHERE seq = 3",
            "DELETE FROM changes WHERE revision = 3",
            "DELETE FROM orgs WHERE id = 'other'",
        ] {
            db.store.execute_raw(sql).await.unwrap();
        }

        let without = db.store.verify(Some(&key()), &[]).await.unwrap();
        let with = db
            .store
            .verify(Some(&key()), std::slice::from_ref(&checkpoint))
            .await
            .unwrap();

        // What remains is a valid chain: only the checkpoint knows better.
        assert_eq!(without.problems, vec![]);
        assert_eq!(
            with.problems,
            vec![
                Problem::Checkpoint(CheckpointProblem::AuditNotContained {
                    origin: checkpoint.origin.clone(),
                    seq: 3,
                    last: 2
                }),
                Problem::Checkpoint(CheckpointProblem::ChangeNotContained {
                    origin: checkpoint.origin.clone(),
                    revision: 3,
                    last: 2
                }),
            ]
        );
        assert!(
            texts(&with.problems)[0]
                .contains("the newest records were deleted and the head moved back"),
            "{:?}",
            with.problems
        );
    }
}

#[tokio::test]
async fn an_edited_record_is_caught_though_the_unkeyed_chain_was_recomputed() {
    for db in databases("edit").await {
        db.store
            .execute_raw("UPDATE audit SET actor = 'someone' WHERE seq = 2")
            .await
            .unwrap();
        // The attacker recomputes every hash and the head, without the key.
        let mut prev = rolecall_store::audit::GENESIS.to_owned();
        for mut record in records(&db.store).await {
            record.prev_hash = prev.clone();
            record.hash = record.legacy_hash();
            db.store
                .execute_raw(&format!(
                    "UPDATE audit SET prev_hash = '{}', hash = '{}' WHERE seq = {}",
                    record.prev_hash, record.hash, record.seq
                ))
                .await
                .unwrap();
            prev = record.hash;
        }
        db.store
            .execute_raw(&format!("UPDATE heads SET audit_hash = '{prev}'"))
            .await
            .unwrap();

        let found = problems(&db.store).await;

        for seq in 1..=3 {
            let edited = Problem::Chain(ChainProblem::Edited {
                chain: Chain::Audit,
                at: seq,
            });
            assert!(found.contains(&edited), "{found:?}");
        }
    }
}

#[tokio::test]
async fn two_records_swapped_are_named_as_reordered() {
    for db in databases("reorder").await {
        for sql in [
            "UPDATE audit SET seq = -1 WHERE seq = 2",
            "UPDATE audit SET seq = 2 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = -1",
        ] {
            db.store.execute_raw(sql).await.unwrap();
        }

        let found = problems(&db.store).await;

        for (at, written_as) in [(2, 3), (3, 2)] {
            let moved = Problem::Chain(ChainProblem::Moved {
                chain: Chain::Audit,
                at,
                written_as,
            });
            assert!(found.contains(&moved), "{found:?}");
        }
        assert!(
            texts(&found).contains(
                &"audit record 2 was written as audit record 3: the audit log was reordered"
                    .to_owned()
            ),
            "{found:?}"
        );
    }
}

#[tokio::test]
async fn a_system_admin_granted_by_sql_is_caught_by_the_change_log() {
    for db in databases("grant").await {
        db.store
            .execute_raw(
                "UPDATE memberships SET roles = '[\"web.system_admin\"]' \
                 WHERE user_id = 'bob' AND org_id = 'acme'",
            )
            .await
            .unwrap();

        let found = problems(&db.store).await;

        assert_eq!(
            found,
            vec![Problem::State(StateProblem::Row {
                table: "memberships",
                row: "membership of `bob` in `acme`".to_owned(),
                disagreement: Disagreement::Differs,
            })]
        );
        assert_eq!(
            found[0].to_string(),
            "membership of `bob` in `acme` (table `memberships`) differs from the change log"
        );
    }
}

#[tokio::test]
async fn a_forged_change_is_caught() {
    for db in databases("forged").await {
        // A change granting the role, applied to the tables, and the head
        // moved to it: everything but a valid MAC.
        let payload = serde_json::to_string(&[user("bob", &["web.system_admin"])]).unwrap();
        for sql in [
            format!(
                "INSERT INTO changes (revision, at, actor, payload, prev_mac, mac) VALUES \
                 (4, 5, 'cli', '{payload}', (SELECT mac FROM changes WHERE revision = 3), \
                 '{}')",
                "ab".repeat(32)
            ),
            "UPDATE memberships SET roles = '[\"web.system_admin\"]' WHERE user_id = 'bob'"
                .to_owned(),
            format!(
                "UPDATE heads SET revision = 4, change_mac = '{}'",
                "ab".repeat(32)
            ),
        ] {
            db.store.execute_raw(&sql).await.unwrap();
        }

        let found = problems(&db.store).await;
        let tail = db.store.verify_tail().await.unwrap();
        let replayed = db.store.changes_since(2).await;

        // A replica following the log refuses it rather than applying it.
        let Err(StoreError::Damaged(refusal)) = replayed else {
            panic!("{replayed:?}");
        };
        assert!(
            refusal.starts_with("change 4 does not match its MAC"),
            "{refusal}"
        );
        let forged = ChainProblem::Edited {
            chain: Chain::Changes,
            at: 4,
        };
        assert_eq!(found, vec![Problem::Chain(forged.clone())]);
        assert_eq!(tail, vec![forged]);
        assert_eq!(
            found[0].to_string(),
            "change 4 does not match its MAC: it was edited, or written without the audit key"
        );
    }
}

#[tokio::test]
async fn a_wrong_key_or_no_key_is_refused_before_anything_is_written() {
    for db in databases("keys").await {
        let wrong = Store::open_with_key(&db.url, AuditKey::from_bytes([8; 32])).await;
        let keyless = Store::open(&db.url).await.unwrap();
        let write = keyless
            .record(
                "cli",
                "cli",
                Batch {
                    audit: &[entry(9)],
                    ..Batch::default()
                },
            )
            .await;

        assert!(matches!(wrong, Err(StoreError::WrongAuditKey)), "{wrong:?}");
        assert!(matches!(write, Err(StoreError::NoAuditKey)), "{write:?}");
        assert_eq!(problems(&db.store).await, vec![]);
        assert_eq!(records(&db.store).await.len(), 3);
    }
}

/// Turns a sealed database back into one written before keys: unkeyed
/// hashes, changes without MACs, no key check.
async fn unseal(store: &Store) {
    let mut prev = rolecall_store::audit::GENESIS.to_owned();
    for mut record in records(store).await {
        record.prev_hash = prev.clone();
        record.hash = record.legacy_hash();
        store
            .execute_raw(&format!(
                "UPDATE audit SET prev_hash = '{}', hash = '{}' WHERE seq = {}",
                record.prev_hash, record.hash, record.seq
            ))
            .await
            .unwrap();
        prev = record.hash;
    }
    store
        .execute_raw("UPDATE changes SET prev_mac = NULL, mac = NULL")
        .await
        .unwrap();
    store
        .execute_raw(&format!(
            "UPDATE heads SET audit_hash = '{prev}', key_check = NULL, change_mac = '{}'",
            rolecall_store::audit::GENESIS
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_log_written_before_keys_is_verified_then_sealed_on_the_first_open_with_a_key() {
    for db in databases("legacy").await {
        unseal(&db.store).await;
        let before = Store::open_read_only(&db.url)
            .await
            .unwrap()
            .verify(None, &[])
            .await
            .unwrap();

        let (sealed, sealing) = Store::open(&db.url)
            .await
            .unwrap()
            .unlock(key(), rolecall_store::OnDamage::Refuse)
            .await
            .unwrap();

        assert!(!before.sealed);
        assert_eq!(before.problems, vec![]);
        let sealing = sealing.unwrap();
        assert_eq!((sealing.records, sealing.changes), (3, 3));
        let after = sealed.verify_audit().await.unwrap();
        assert!(after.sealed);
        assert_eq!(after.problems, vec![]);
        let newest = records(&sealed).await.pop().unwrap();
        assert_eq!((newest.seq, newest.action.as_str()), (4, "audit.seal"));
        // Opening again seals nothing more.
        let (_, again) = Store::open(&db.url)
            .await
            .unwrap()
            .unlock(key(), rolecall_store::OnDamage::Refuse)
            .await
            .unwrap();
        assert_eq!(again, None);
    }
}

#[tokio::test]
async fn a_damaged_log_written_before_keys_is_not_sealed() {
    for db in databases("legacy_damaged").await {
        unseal(&db.store).await;
        db.store
            .execute_raw("UPDATE audit SET actor = 'someone' WHERE seq = 2")
            .await
            .unwrap();

        let refused = Store::open_with_key(&db.url, key()).await;

        let Err(StoreError::Damaged(message)) = refused else {
            panic!("{refused:?}");
        };
        assert!(
            message.contains("audit record 2 does not match its MAC"),
            "{message}"
        );
        assert_eq!(
            db.store.seal_state().await.unwrap(),
            rolecall_store::SealState::Unsealed
        );
    }
}

#[tokio::test]
async fn a_checkpoint_not_signed_with_the_key_is_named() {
    for db in databases("forged_checkpoint").await {
        let mut checkpoint = db.store.checkpoint().await.unwrap();
        checkpoint.audit_seq = 2;

        let found = db
            .store
            .verify(
                Some(&key()),
                &[Checkpointed {
                    origin: "`c` line 1".to_owned(),
                    checkpoint,
                }],
            )
            .await
            .unwrap()
            .problems;

        assert_eq!(
            found,
            vec![Problem::Checkpoint(CheckpointProblem::NotSigned {
                origin: "`c` line 1".to_owned()
            })]
        );
    }
}
