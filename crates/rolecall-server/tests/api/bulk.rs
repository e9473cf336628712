//! "To update 5 or more user roles at once click here.": one call, one
//! revision, all or nothing.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    a_bulk_update_of_five_users_is_one_revision,
    a_bulk_update_with_one_bad_entry_changes_nobody,
);

async fn five_users(app: &TestApp) -> Vec<String> {
    app.create_org("acme", &["web.billing"]).await;
    let mut users = Vec::new();
    for i in 0..5 {
        let user = app
            .active_user(
                "acme",
                &format!("user{i}"),
                json!({ "roles": ["web.office_staff"] }),
            )
            .await;
        users.push(user);
    }
    users
}

async fn roles_of(app: &TestApp, user: &str) -> Value {
    app.get_user("acme", user).await.0["access"]["roles"].clone()
}

async fn a_bulk_update_of_five_users_is_one_revision(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let users = five_users(&app).await;
    let before = app.revision().await;
    let updates: Vec<Value> = users
        .iter()
        .map(|u| json!({ "user": u, "roles": ["web.office_staff", "web.biller"] }))
        .collect();

    // Act
    let revision = app
        .post_json(
            &app.operator,
            "/v1/orgs/acme/users/bulk-access",
            &json!({ "updates": updates }),
        )
        .await
        .expect(200)
        .revision();

    // Assert: one revision, five users changed, five audit records.
    assert_eq!(revision, before + 1);
    assert_eq!(app.revision().await, revision);
    for user in &users {
        assert_eq!(
            roles_of(&app, user).await,
            json!(["web.office_staff", "web.biller"])
        );
        let check = app
            .check(
                &app.operator,
                "acme",
                user,
                "web.manage_charge_entries",
                false,
            )
            .await;
        assert_eq!(check["allowed"], true, "{user}: {check}");
    }
    app.assert_audit_intact().await;
    let records: Vec<_> = app
        .audit()
        .await
        .into_iter()
        .filter(|r| r.revision == revision)
        .collect();
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r.action == "user.access.update"));
}

async fn a_bulk_update_with_one_bad_entry_changes_nobody(backend: Backend) {
    // Arrange: the 4th entry names a role that does not exist.
    let app = spawn_app(&backend).await;
    let users = five_users(&app).await;
    let before = app.revision().await;
    let audited = app.assert_audit_intact().await;
    let updates: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let role = if i == 3 { "web.wizard" } else { "web.biller" };
            json!({ "user": u, "roles": [role] })
        })
        .collect();

    // Act
    let reply = app
        .post_json(
            &app.operator,
            "/v1/orgs/acme/users/bulk-access",
            &json!({ "updates": updates }),
        )
        .await;

    // Assert: the 4th entry's role is named, and none of the five changed.
    reply.invalid_field(422, "updates[3].roles[0]");
    assert_eq!(app.revision().await, before);
    assert_eq!(app.assert_audit_intact().await, audited);
    for user in &users {
        assert_eq!(roles_of(&app, user).await, json!(["web.office_staff"]));
    }

    // A user listed twice, or one who is not in the organization, is named
    // the same way.
    let twice = json!({ "updates": [
        { "user": users[0], "roles": ["web.biller"] },
        { "user": users[0], "roles": ["web.provider"] },
    ]});
    app.post_json(&app.operator, "/v1/orgs/acme/users/bulk-access", &twice)
        .await
        .invalid_field(422, "updates[1].user");
    let stranger = json!({ "updates": [
        { "user": users[0], "roles": ["web.biller"] },
        { "user": "nobody", "roles": ["web.biller"] },
    ]});
    app.post_json(&app.operator, "/v1/orgs/acme/users/bulk-access", &stranger)
        .await
        .invalid_field(422, "updates[1].user");
    assert_eq!(app.revision().await, before);
}
