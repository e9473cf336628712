//! The audit key, `audit verify`, `audit checkpoint` and the start-up check
//! of `serve`, at the command line, against a SQLite file that someone
//! without the key edits by SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rolecall_store::Store;
use tempfile::TempDir;

mod common;

use common::{rolecall, Output};

/// A fresh database file in its own directory.
struct Database {
    dir: TempDir,
    path: PathBuf,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rolecall.db");
        Database { dir, path }
    }

    fn url(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn key_file(&self) -> PathBuf {
        PathBuf::from(format!("{}.audit-key", self.url()))
    }

    /// Runs a command with `--database` pointing here.
    fn run(&self, args: &[&str]) -> Output {
        let mut args = args.to_vec();
        args.extend(["--database", self.url()]);
        rolecall(&args)
    }

    /// `init`, then a second write (another operator token).
    fn initialized(self) -> Database {
        let init = self.run(&["init"]);
        assert_eq!(init.code, 0, "{}", init.err);
        let token = self.run(&["token", "create", "--operator", "--json"]);
        assert_eq!(token.code, 0, "{}", token.err);
        self
    }

    /// Runs statements directly, as someone with write access to the file.
    fn tamper(&self, statements: &[&str]) {
        runtime().block_on(async {
            let store = Store::open(self.url()).await.unwrap();
            for sql in statements {
                store.execute_raw(sql).await.unwrap();
            }
            store.close().await;
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn audit_verify_of_a_missing_database_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");

    let output = rolecall(&["audit", "verify", "--database", missing.to_str().unwrap()]);

    assert_eq!(output.code, 2);
    assert!(output.out.is_empty(), "{}", output.out);
    assert!(
        output
            .err
            .contains(&format!("there is no database at `{}`", missing.display())),
        "{}",
        output.err
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn init_creates_a_private_key_beside_the_database_and_says_to_keep_it_apart() {
    let db = Database::new();

    let init = db.run(&["init"]);

    assert_eq!(init.code, 0, "{}", init.err);
    let key = std::fs::read_to_string(db.key_file()).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.key_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        init.out.contains(&format!(
            "Created the audit key {}",
            db.key_file().display()
        )),
        "{}",
        init.out
    );
    assert!(init.out.contains("keep it apart from the database"));
    assert!(!init.out.contains(key.trim()) && !init.err.contains(key.trim()));
    let verified = db.run(&["audit", "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.err);
}

#[test]
fn a_key_in_the_environment_is_used_and_no_file_is_written() {
    let db = Database::new();
    let hex = "0f".repeat(32);
    let run = |args: &[&str], key: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
        command.args(args).args(["--database", db.url()]);
        if let Some(key) = key {
            command.env("ROLECALL_AUDIT_KEY", key);
        }
        command.output().unwrap()
    };

    let init = run(&["init", "--json"], Some(&hex));
    let with = run(&["audit", "verify"], Some(&hex));
    let without = run(&["audit", "verify"], None);
    let wrong = run(&["audit", "verify"], Some(&"1e".repeat(32)));

    assert!(init.status.success());
    assert!(!db.key_file().exists());
    assert_eq!(with.status.code(), Some(0));
    assert_eq!(without.status.code(), Some(2));
    let without = String::from_utf8(without.stderr).unwrap();
    assert!(
        without.contains("is sealed with an audit key, and there is none at"),
        "{without}"
    );
    assert_eq!(wrong.status.code(), Some(2));
    let wrong = String::from_utf8(wrong.stderr).unwrap();
    assert!(
        wrong.contains("the audit key `ROLECALL_AUDIT_KEY` is not the one"),
        "{wrong}"
    );
    assert!(!wrong.contains(&"1e".repeat(32)));
}

#[test]
fn a_checkpoint_catches_the_newest_records_deleted_and_the_heads_moved_back() {
    let db = Database::new().initialized();
    let checkpoints = db.dir.path().join("checkpoints.jsonl");
    let file = checkpoints.to_str().unwrap();
    let taken = db.run(&["audit", "checkpoint", "--out", file]);
    assert_eq!(taken.code, 0, "{}", taken.err);

    db.tamper(&[
        "UPDATE heads SET audit_seq = 1, audit_hash = (SELECT hash FROM audit WHERE seq = 1), \
         revision = 1, change_mac = (SELECT mac FROM changes WHERE revision = 1)",
        // The second token, its change and its audit record.
        "DELETE FROM api_tokens WHERE 'token:' || id = (SELECT target FROM audit WHERE seq = 2)",
        "DELETE FROM audit WHERE seq = 2",
        "DELETE FROM changes WHERE revision = 2",
    ]);
    let without = db.run(&["audit", "verify"]);
    let with = db.run(&["audit", "verify", "--checkpoint", file]);

    // What remains is self-consistent; only the checkpoint knows better.
    assert_eq!(without.code, 0, "{}{}", without.out, without.err);
    assert_eq!(with.code, 1, "{}{}", with.out, with.err);
    assert!(
        with.out.contains(&format!(
            "the audit log ends at record 1, but the checkpoint at `{file}` line 1 names record \
             2: the newest records were deleted and the head moved back"
        )),
        "{}",
        with.out
    );
    assert!(
        with.out.contains("the change log ends at revision 1"),
        "{}",
        with.out
    );
}

#[test]
fn audit_checkpoint_prints_one_signed_json_line_that_verifies() {
    let db = Database::new().initialized();

    let taken = db.run(&["audit", "checkpoint"]);
    std::fs::write(db.dir.path().join("c.jsonl"), &taken.out).unwrap();
    let verified = db.run(&[
        "audit",
        "verify",
        "--checkpoint",
        db.dir.path().join("c.jsonl").to_str().unwrap(),
    ]);

    assert_eq!(taken.code, 0, "{}", taken.err);
    assert_eq!(taken.out.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(&taken.out).unwrap();
    assert_eq!(line["kind"], "rolecall.audit.checkpoint");
    assert_eq!(
        (line["audit_seq"].as_i64(), line["revision"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(line["mac"].as_str().unwrap().len(), 64);
    assert_eq!(verified.code, 0, "{}", verified.out);
    assert!(
        verified.out.ends_with(", 1 checkpoints\n"),
        "{}",
        verified.out
    );
}

#[test]
fn audit_verify_names_a_system_admin_granted_by_sql() {
    let db = Database::new();
    runtime().block_on(async {
        let store = Store::open_with_key(db.url(), common::audit_key(db.url()))
            .await
            .unwrap();
        let service = rolecall_server::Service::open(
            store,
            std::sync::Arc::new(rolecall_model::Catalog::default_catalog()),
        )
        .await
        .unwrap();
        rolecall_server::demo::load(&service).await.unwrap();
        service.store().close().await;
    });

    db.tamper(&["UPDATE memberships SET roles = '[\"web.system_admin\"]' \
         WHERE user_id = 'carol' AND org_id = 'acme-north'"]);
    let verified = db.run(&["audit", "verify"]);

    assert_eq!(verified.code, 1, "{}{}", verified.out, verified.err);
    assert!(
        verified.out.starts_with(
            "membership of `carol` in `acme-north` (table `memberships`) differs from the change \
             log\n"
        ),
        "{}",
        verified.out
    );
    assert!(verified.out.contains("audit log damaged: 1 problem in "));
}

#[test]
fn serve_refuses_access_granted_by_sql_instead_of_serving_it() {
    // Arrange: an organization and a user written by rolecall, then a
    // System Admin role given to that user by SQL, behind rolecall's back.
    let db = Database::new();
    runtime().block_on(async {
        let store = Store::open_with_key(db.url(), common::audit_key(db.url()))
            .await
            .unwrap();
        let service = rolecall_server::Service::open(
            store,
            std::sync::Arc::new(rolecall_model::Catalog::default_catalog()),
        )
        .await
        .unwrap();
        rolecall_server::demo::load(&service).await.unwrap();
        service.store().close().await;
    });
    db.tamper(&["UPDATE memberships SET roles = '[\"web.system_admin\"]' \
         WHERE user_id = 'dave' AND org_id = 'acme-north'"]);

    // Act
    let refused = db.run(&["serve", "--listen", "127.0.0.1:0"]);

    // Assert
    assert_eq!(refused.code, 2, "{}", refused.out);
    assert!(refused.out.is_empty(), "served: {}", refused.out);
    assert!(
        refused.err.contains(
            "membership of `dave` in `acme-north` (table `memberships`) differs from the change log"
        ),
        "{}",
        refused.err
    );
}

#[test]
fn serve_refuses_a_broken_chain_and_names_the_problem() {
    let db = Database::new().initialized();
    db.tamper(&[
        "INSERT INTO audit (seq, at, revision, actor, action, org_id, target, source, outcome, \
         prev_hash, hash) SELECT 3, at, revision, 'user:mallory', action, org_id, target, \
         source, outcome, hash, hash FROM audit WHERE seq = 2",
    ]);

    let refused = db.run(&["serve", "--listen", "127.0.0.1:0"]);

    assert_eq!(refused.code, 2, "{}", refused.out);
    assert!(refused.out.is_empty(), "{}", refused.out);
    assert!(
        refused
            .err
            .contains("is damaged, so rolecall does not start:"),
        "{}",
        refused.err
    );
    assert!(
        refused.err.contains(
            "audit record 3 is past the head (2) and does not continue the chain: it was added \
             outside rolecall"
        ),
        "{}",
        refused.err
    );
    assert!(
        refused.err.contains("--allow-broken-audit"),
        "{}",
        refused.err
    );
}

/// Starts the real binary with `args`; returns its first line of output
/// (or what it printed when it exited first), then stops it.
fn first_line_of_serve(database: &Path, args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(database)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = BufReader::new(stdout)
        .lines()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    first
}

#[test]
fn serve_starts_on_a_broken_chain_when_told_to() {
    let db = Database::new().initialized();
    db.tamper(&["UPDATE audit SET actor = 'someone' WHERE seq = 2"]);

    let first = first_line_of_serve(&db.path, &["--allow-broken-audit"]);

    assert!(
        first.starts_with("rolecall is serving http://"),
        "{first:?}"
    );
}

#[test]
fn serve_demo_on_a_fresh_file_needs_no_flags_and_creates_the_key() {
    let db = Database::new();

    let first = first_line_of_serve(&db.path, &["--demo"]);

    assert!(
        first.starts_with("rolecall is serving http://"),
        "{first:?}"
    );
    assert!(db.key_file().exists());
    let verified = db.run(&["audit", "verify"]);
    assert_eq!(verified.code, 0, "{}{}", verified.out, verified.err);
}

#[test]
fn serve_refuses_a_sealed_database_without_its_key_or_with_another() {
    let db = Database::new().initialized();
    let other = db.dir.path().join("other.key");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).unwrap();

    let wrong = db.run(&["serve", "--audit-key", other.to_str().unwrap()]);
    std::fs::remove_file(db.key_file()).unwrap();
    let without = db.run(&["serve"]);

    assert_eq!(wrong.code, 2);
    assert!(
        wrong.err.contains(&format!(
            "the audit key `{}` is not the one the database",
            other.display()
        )),
        "{}",
        wrong.err
    );
    assert_eq!(without.code, 2);
    assert!(
        without.err.contains(&format!(
            "is sealed with an audit key, and there is none at `{}`",
            db.key_file().display()
        )),
        "{}",
        without.err
    );
    assert!(!db.key_file().exists(), "no new key for a sealed database");
}
