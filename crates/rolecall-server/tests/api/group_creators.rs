//! "Member groups take their creator's access type": the creator of a
//! group stays a member of its organization, and removing them is refused
//! as a conflict that names the group, not as bad input naming a field the
//! request never had.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(removing_a_group_creator_is_a_conflict_naming_the_group);

async fn removing_a_group_creator_is_a_conflict_naming_the_group(backend: Backend) {
    // Arrange: pat created a group of acme; pat and an administrator are
    // members of acme.
    let app = spawn_app(&backend).await;
    app.create_org("acme", &[]).await;
    app.active_user("acme", "pat", json!({ "roles": ["web.office_staff"] }))
        .await;
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/groups",
        &json!({ "id": "front-desk", "name": "Front desk", "created_by": "pat" }),
    )
    .await
    .expect(201);
    let revision = app.revision().await;

    // Act
    let reply = app
        .send(
            Method::DELETE,
            "/v1/orgs/acme/users/pat",
            Some(&app.operator),
            &[],
            None,
        )
        .await;

    // Assert: a 409 that says why, and nothing changed.
    let reply = reply.problem(409);
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.contains("`front-desk`"), "{detail}");
    assert_eq!(app.revision().await, revision);
    app.get(&app.operator, "/v1/orgs/acme/users/pat")
        .await
        .expect(200);
}
