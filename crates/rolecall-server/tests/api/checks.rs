//! Decisions over HTTP: single checks, batches, explanations, "what may U
//! do?" and "who may do P?" all tell the same story.

use std::collections::BTreeSet;

use rolecall_model::Catalog;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    batches_single_checks_and_the_permission_lists_agree,
    users_read_their_own_permissions_but_not_each_others,
);

const USERS: [&str; 5] = ["pia", "bill", "dee", "ivy", "ghost"];

/// acme with a Provider, a Biller, an Office Staff user with Messages
/// unchecked on her profile, and an invited Biller.
async fn clinic(app: &TestApp) {
    app.create_org("acme", &["web.clinical", "web.billing"])
        .await;
    app.active_user(
        "acme",
        "pia",
        json!({ "roles": ["web.provider"], "scheduler_type": "provider", "scheduler_level": "edit_own" }),
    )
    .await;
    app.active_user("acme", "bill", json!({ "roles": ["web.biller"] }))
        .await;
    app.active_user(
        "acme",
        "dee",
        json!({ "roles": ["web.office_staff"], "denials": ["web.messages"] }),
    )
    .await;
    app.create_user("acme", "ivy", json!({ "roles": ["web.biller"] }))
        .await;
}

fn decision(answer: &Value) -> (bool, Value) {
    (
        answer["allowed"].as_bool().unwrap(),
        answer["scope"].clone(),
    )
}

async fn batches_single_checks_and_the_permission_lists_agree(backend: Backend) {
    // Arrange: every user against every permission of the catalog, and the
    // owner cases of "View Owner Notes Only".
    let app = spawn_app(&backend).await;
    clinic(&app).await;
    let permissions: Vec<String> = Catalog::default_catalog()
        .permissions
        .iter()
        .map(|p| p.id.clone())
        .collect();
    let mut checks: Vec<Value> = Vec::new();
    for user in USERS {
        for permission in &permissions {
            checks.push(json!({ "org": "acme", "user": user, "permission": permission }));
        }
    }
    for owner in ["pia", "bill"] {
        checks.push(
            json!({ "org": "acme", "user": "pia", "permission": "web.view_notes", "owner": owner }),
        );
    }

    // Act
    let batch = app
        .post_json(
            &app.operator,
            "/v1/check/batch",
            &json!({ "checks": checks }),
        )
        .await
        .expect(200)
        .body;
    let results = batch["results"].as_array().unwrap();

    // Assert: one answer per check, in order, each the single check's.
    assert_eq!(results.len(), checks.len());
    let mut allowed: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (asked, answered) in checks.iter().zip(results) {
        let mut single = asked.clone();
        single["explain"] = json!(true);
        let one = app
            .post_json(&app.operator, "/v1/check", &single)
            .await
            .expect(200)
            .body;
        assert_eq!(decision(answered), decision(&one), "{asked}");
        assert!(answered.get("reason").is_none(), "no reason unless asked");
        let sentence = one["reason"]["sentence"].as_str().unwrap();
        let expected_start = if one["allowed"] == true {
            "Allowed: "
        } else {
            "Denied: "
        };
        assert!(sentence.starts_with(expected_start), "{asked}: {sentence}");
        if one["allowed"] == true && asked.get("owner").is_none() {
            allowed.insert((
                asked["user"].as_str().unwrap().to_owned(),
                asked["permission"].as_str().unwrap().to_owned(),
                one["scope"].as_str().unwrap().to_owned(),
            ));
        }
    }
    // "View Owner Notes Only": the Provider sees her own notes only.
    let owners = &results[results.len() - 2..];
    assert_eq!(owners[0]["allowed"], true);
    assert_eq!(owners[0]["scope"], "own");
    assert_eq!(owners[1]["allowed"], false);
    // The unchecked box wins over the role; the invited user has nothing.
    assert!(!allowed
        .iter()
        .any(|(u, p, _)| u == "dee" && p == "web.messages"));
    assert!(!allowed.iter().any(|(u, _, _)| u == "ivy" || u == "ghost"));

    // Assert: "what may U do?" lists exactly the allowed checks.
    for user in ["pia", "bill", "dee", "ivy"] {
        let listed = app
            .get(
                &app.operator,
                &format!("/v1/orgs/acme/users/{user}/permissions"),
            )
            .await
            .expect(200)
            .body;
        let listed: BTreeSet<(String, String, String)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    user.to_owned(),
                    p["permission"].as_str().unwrap().to_owned(),
                    p["scope"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: BTreeSet<_> = allowed
            .iter()
            .filter(|(u, _, _)| u == user)
            .cloned()
            .collect();
        assert_eq!(listed, expected, "permissions of {user}");
    }

    // Assert: "who may do P?" lists exactly the users allowed P.
    for permission in &permissions {
        let listed = app
            .get(
                &app.operator,
                &format!("/v1/orgs/acme/permissions/{permission}/users"),
            )
            .await
            .expect(200)
            .body;
        let listed: BTreeSet<(String, String, String)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["user"].as_str().unwrap().to_owned(),
                    permission.clone(),
                    u["scope"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: BTreeSet<_> = allowed
            .iter()
            .filter(|(_, p, _)| p == permission)
            .cloned()
            .collect();
        assert_eq!(listed, expected, "users with {permission}");
    }
    app.assert_audit_intact().await;
}

async fn users_read_their_own_permissions_but_not_each_others(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    clinic(&app).await;
    let pia = app.user_token("acme", "pia").await;
    let by_operator = app
        .get(&app.operator, "/v1/orgs/acme/users/pia/permissions")
        .await
        .expect(200)
        .body;

    // Act
    let own = app.get(&pia, "/v1/orgs/acme/users/pia/permissions").await;
    let others = app.get(&pia, "/v1/orgs/acme/users/bill/permissions").await;
    let who = app
        .get(&pia, "/v1/orgs/acme/permissions/web.messages/users")
        .await;
    let own_user = app.get(&pia, "/v1/orgs/acme/users/pia").await;
    let other_user = app.get(&pia, "/v1/orgs/acme/users/bill").await;

    // Assert: herself yes; anyone else needs a user manager.
    assert_eq!(own.expect(200).body, by_operator);
    others.problem(403);
    who.problem(403);
    assert_eq!(own_user.expect(200).body["id"], "pia");
    other_user.problem(403);
    app.assert_audit_intact().await;
}
