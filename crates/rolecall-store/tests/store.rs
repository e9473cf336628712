//! The store against a real SQLite file and, when `ROLECALL_TEST_POSTGRES_URL`
//! is set, a real PostgreSQL server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rolecall_store::{
    AuditEntry, AuditKey, AuditQuery, Batch, Chain, ChainProblem, OrgRow, Problem, Put, Store,
    StoreError,
};

fn key() -> AuditKey {
    AuditKey::from_bytes([7; 32])
}

async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_with_key(dir.path().join("t.db").to_str().unwrap(), key())
        .await
        .unwrap();
    let mut out = vec![(sqlite, Some(dir))];
    if let Ok(url) = std::env::var("ROLECALL_TEST_POSTGRES_URL") {
        let admin = Store::open(&url).await.unwrap();
        let name = format!("rolecall_store_{}", std::process::id());
        admin
            .execute_raw(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_raw(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        out.push((
            Store::open_with_key(&format!("{base}/{name}"), key())
                .await
                .unwrap(),
            None,
        ));
    }
    out
}

fn org(id: &str) -> Put {
    Put::Org(OrgRow {
        id: id.to_owned(),
        name: id.to_owned(),
        parent: None,
        subscriptions: vec!["web.billing".to_owned()],
        manages: vec![],
        created_at: 1,
    })
}

fn entry(target: &str) -> AuditEntry {
    AuditEntry {
        actor: "cli".to_owned(),
        action: "org.create".to_owned(),
        org: Some(target.to_owned()),
        target: format!("org:{target}"),
        before: None,
        after: Some(serde_json::json!({"id": target})),
        ..Default::default()
    }
}

#[tokio::test]
async fn commits_load_back_and_the_audit_chain_detects_tampering() {
    for (store, _dir) in stores().await {
        let first = store
            .commit(
                0,
                "cli",
                "cli",
                Batch {
                    puts: &[org("a")],
                    audit: &[entry("a")],
                    emails: &[],
                    ..Batch::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(first.revision, 1);
        let stale = store
            .commit(
                0,
                "cli",
                "cli",
                Batch {
                    puts: &[org("b")],
                    audit: &[entry("b")],
                    emails: &[],
                    ..Batch::default()
                },
            )
            .await;
        assert!(
            matches!(
                stale,
                Err(StoreError::Behind {
                    expected: 0,
                    found: 1
                })
            ),
            "{stale:?}"
        );
        store
            .commit(
                1,
                "cli",
                "cli",
                Batch {
                    puts: &[org("b")],
                    audit: &[entry("b")],
                    emails: &[],
                    ..Batch::default()
                },
            )
            .await
            .unwrap();
        store
            .commit(
                2,
                "cli",
                "cli",
                Batch {
                    puts: &[org("c")],
                    audit: &[entry("c")],
                    emails: &[],
                    ..Batch::default()
                },
            )
            .await
            .unwrap();

        let (model, revision) = store.load().await.unwrap();
        assert_eq!(revision, 3);
        assert_eq!(model.orgs.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(store.changes_since(1).await.unwrap().len(), 2);
        let records = store
            .audit(&AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 2, 1]);

        let intact = store.verify_audit().await.unwrap();
        assert_eq!((intact.records, intact.changes), (3, 3));
        assert_eq!(intact.problems, vec![]);
        store
            .execute_raw("UPDATE audit SET actor = 'someone' WHERE seq = 2")
            .await
            .unwrap();
        let problems = store.verify_audit().await.unwrap().problems;
        assert!(
            problems.contains(&Problem::Chain(ChainProblem::Edited {
                chain: Chain::Audit,
                at: 2
            })),
            "{problems:?}"
        );
        store
            .execute_raw("DELETE FROM audit WHERE seq = 3")
            .await
            .unwrap();
        let problems = store.verify_audit().await.unwrap().problems;
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, Problem::Chain(ChainProblem::Truncated { .. }))),
            "{problems:?}"
        );
    }
}
