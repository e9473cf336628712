//! What the tests of the real `rolecall serve` process share: starting it
//! and reading where it serves, killing it (also when a test panics, so no
//! server outlives its test), `rolecall init` and `rolecall audit verify`,
//! fresh PostgreSQL databases for the runs on PostgreSQL, and PostgreSQL
//! clusters of a test's own to stop and start.
#![allow(
    dead_code,
    reason = "every test binary that includes this module uses its own part of it"
)]

pub mod cluster;
pub mod postgres;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_rolecall");

/// The `rolecall` command for `database`, with its audit key: beside a
/// SQLite file by default; for PostgreSQL, where there is no file to put
/// it beside, a file of the database's own in the temporary directory,
/// named through `ROLECALL_AUDIT_KEY_FILE` (the first command creates it).
pub fn command(database: &str) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_remove("ROLECALL_AUDIT_KEY")
        .env_remove("ROLECALL_AUDIT_KEY_FILE");
    if database.starts_with("postgres") {
        let name = database.rsplit('/').next().unwrap_or("rolecall");
        let key = std::env::temp_dir().join(format!("rolecall-test-{name}.audit-key"));
        command.env("ROLECALL_AUDIT_KEY_FILE", key);
    }
    command
}

/// A running `rolecall serve`. Dropping it sends SIGKILL and reaps the
/// process, so a failed assertion never leaves a server behind.
pub struct Server {
    /// The process.
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
    /// The revision it printed that it serves at: the database's last
    /// commit when it loaded it.
    pub revision: i64,
}

impl Server {
    /// Starts `rolecall serve` on `database` and an ephemeral port, in the
    /// working directory `dir` (where its mail goes on PostgreSQL: never
    /// the source tree, never a real SMTP server). Returns once the server
    /// has printed its first line, which it does after binding the
    /// listener: no waiting or polling is needed.
    pub fn start(database: &str, dir: &Path) -> Server {
        let mut child = command(database)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .env_remove("ROLECALL_SMTP_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Guarded from here on: a panic below still kills the process.
        let mut server = Server {
            child,
            url: String::new(),
            revision: 0,
        };
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("`rolecall serve --database {database}` printed nothing"))
            .unwrap();
        // "rolecall is serving http://127.0.0.1:PORT (database ..., revision N)"
        server.url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        server.revision = first
            .rsplit_once("revision ")
            .and_then(|(_, rest)| rest.trim_end_matches(')').parse().ok())
            .unwrap_or_else(|| panic!("no revision in {first:?}"));
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        server
    }

    /// SIGKILL: no shutdown, no flushing, no closing of connections; then
    /// reaps the process.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // After `kill` the process is gone already and both calls fail
        // harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `rolecall init` on `database`; returns the operator token it printed.
pub fn init(database: &str) -> String {
    let output = command(database)
        .args(["init", "--json", "--database", database])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rolecall init: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    answer["operator_token"].as_str().unwrap().to_owned()
}

/// `rolecall audit verify` on `database`: whether it exited 0, and what it
/// printed.
pub fn audit_verify(database: &str) -> (bool, String) {
    let output = command(database)
        .args(["audit", "verify", "--database", database])
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}
