//! Nothing acknowledged is lost: the real `rolecall serve` binary on a
//! SQLite file is killed with SIGKILL right after acknowledging writes, and
//! a new process on the same file serves every one of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use serde_json::{json, Value};
use server::{audit_verify, init, Server};

#[tokio::test]
async fn writes_acknowledged_before_a_kill_survive_it() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("rolecall.db");
    let database = database.to_str().unwrap();
    let token = init(database);
    let server = Server::start(database, dir.path());
    let client = reqwest::Client::new();

    // Act: twenty acknowledged writes, then SIGKILL with no shutdown.
    for i in 0..20 {
        let reply = client
            .post(format!("{}/v1/orgs", server.url))
            .bearer_auth(&token)
            .json(&json!({ "id": format!("clinic-{i}"), "name": format!("Clinic {i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
    }
    server.kill();
    let server = Server::start(database, dir.path());

    // Assert
    let orgs: Value = client
        .get(format!("{}/v1/orgs", server.url))
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
    server.kill();
    let (intact, printed) = audit_verify(database);
    assert!(intact, "{printed}");
}
