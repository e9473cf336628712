//! Nothing acknowledged is lost: the real `rolecall serve` binary on a
//! SQLite file is killed with SIGKILL right after acknowledging writes, and
//! a new process on the same file serves every one of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// Starts `rolecall serve` on an ephemeral port; returns the process and
/// the base URL it printed.
fn start(database: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(database)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // The first line says where it serves; it is printed once the listener
    // is bound, so no waiting is needed.
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

fn init(database: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(["init", "--json", "--database"])
        .arg(database)
        .output()
        .unwrap();
    assert!(output.status.success());
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    answer["operator_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn writes_acknowledged_before_a_kill_survive_it() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("rolecall.db");
    let token = init(&database);
    let (mut server, url) = start(&database);
    let client = reqwest::Client::new();

    // Act: twenty acknowledged writes, then SIGKILL with no shutdown.
    for i in 0..20 {
        let reply = client
            .post(format!("{url}/v1/orgs"))
            .bearer_auth(&token)
            .json(&json!({ "id": format!("clinic-{i}"), "name": format!("Clinic {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let (mut server, url) = start(&database);

    // Assert
    let orgs: Value = client
        .get(format!("{url}/v1/orgs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    for i in 0..20 {
        assert!(
            ids.contains(&format!("clinic-{i}").as_str()),
            "clinic-{i} lost: {ids:?}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let verify = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .args(["audit", "verify", "--database"])
        .arg(&database)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
