//! Taking away is judged like giving, through every way access is held:
//! removing someone from a group that gives them a role, or taking a role
//! off a group, changes that person's access, so it needs someone who
//! holds everything they hold, as a direct change of their access does.

use serde_json::json;

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    a_group_editor_cannot_take_access_from_someone_who_holds_more,
    a_group_editor_still_edits_the_groups_of_people_who_hold_no_more,
    a_user_manager_cannot_narrow_a_custom_role_held_by_someone_who_holds_more,
);

/// acme: `editor` (Office Staff, and edits groups); `doc`, a Provider
/// through the group `providers` only; `staff` (Office Staff) in the group
/// `desk`, which gives Office Staff.
async fn clinic(app: &TestApp) -> String {
    app.create_org("acme", &["web.clinical", "web.billing"])
        .await;
    app.active_user("acme", "boss", json!({ "roles": ["web.system_admin"] }))
        .await;
    app.active_user(
        "acme",
        "editor",
        json!({ "roles": ["web.office_staff"], "grants": ["tasking.group.edit"] }),
    )
    .await;
    app.active_user("acme", "doc", json!({ "roles": [] })).await;
    app.active_user("acme", "staff", json!({ "roles": [] }))
        .await;
    for (id, role, member) in [
        ("providers", "web.provider", "doc"),
        ("desk", "web.office_staff", "staff"),
    ] {
        app.post_json(
            &app.operator,
            "/v1/orgs/acme/groups",
            &json!({
                "id": id, "name": id, "created_by": "boss",
                "members": [member], "roles": [role],
            }),
        )
        .await
        .expect(201);
    }
    app.user_token("acme", "editor").await
}

async fn a_group_editor_cannot_take_access_from_someone_who_holds_more(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let editor = clinic(&app).await;
    let held = app
        .check(
            &app.operator,
            "acme",
            "doc",
            "web.send_print_prescriptions",
            false,
        )
        .await;
    assert_eq!(held["allowed"], true, "doc is a Provider through the group");
    let revision = app.revision().await;

    // Act: take doc out of the group, and the role off the group.
    let removed = app
        .put_json(
            &editor,
            "/v1/orgs/acme/groups/providers",
            &json!({ "members": [] }),
        )
        .await;
    let stripped = app
        .put_json(
            &editor,
            "/v1/orgs/acme/groups/providers",
            &json!({ "roles": [] }),
        )
        .await;

    // Assert
    for refused in [removed, stripped] {
        let text = refused.problem(403).text;
        assert!(
            text.contains("only someone who holds everything they hold"),
            "{text}"
        );
    }
    assert_eq!(app.revision().await, revision, "nothing was written");
    let held = app
        .check(
            &app.operator,
            "acme",
            "doc",
            "web.send_print_prescriptions",
            false,
        )
        .await;
    assert_eq!(held["allowed"], true);
}

async fn a_group_editor_still_edits_the_groups_of_people_who_hold_no_more(backend: Backend) {
    let app = spawn_app(&backend).await;
    let editor = clinic(&app).await;

    app.put_json(
        &editor,
        "/v1/orgs/acme/groups/desk",
        &json!({ "members": [] }),
    )
    .await
    .expect(200);

    let (staff, _) = app.get_user("acme", "staff").await;
    assert_eq!(
        app.check(&app.operator, "acme", "staff", "web.messages", false)
            .await["allowed"],
        false,
        "{staff}"
    );
}

async fn a_user_manager_cannot_narrow_a_custom_role_held_by_someone_who_holds_more(
    backend: Backend,
) {
    // Arrange: `doc` holds a copy of Provider; `mgr` manages users.
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/roles",
        &json!({ "id": "web.lead", "name": "Lead", "copy_of": "web.provider" }),
    )
    .await
    .expect(201);
    app.active_user("acme", "doc", json!({ "roles": ["web.lead"] }))
        .await;
    let mgr = app.user_token("acme", "mgr").await;
    let revision = app.revision().await;

    // Act: leave only what the user manager holds in the role.
    let narrowed = app
        .put_json(
            &mgr,
            "/v1/orgs/acme/roles/web.lead",
            &json!({ "grants": ["web.messages"] }),
        )
        .await;

    // Assert
    let text = narrowed.problem(403).text;
    assert!(
        text.contains("only someone who holds everything they hold"),
        "{text}"
    );
    assert_eq!(app.revision().await, revision);
}
