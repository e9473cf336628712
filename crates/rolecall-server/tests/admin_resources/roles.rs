//! Custom roles: copying, defining, changing; built-in roles stay.

use serde_json::json;

use crate::{first_field, Clinic};

/// "create a custom role by copying one"
#[tokio::test]
async fn a_custom_role_copied_from_a_built_in_one_grants_the_same_when_assigned() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;

    // Act
    let (status, created) = app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.front_desk_biller", "name": "Front desk biller",
                    "copy_of": "web.biller" }),
        )
        .await;
    let response = app
        .put(
            &clinic.ada,
            "/v1/orgs/acme/users/cal/access",
            json!({ "roles": ["web.front_desk_biller"] }),
        )
        .await;
    app.ok(response);

    // Assert
    assert_eq!(status, 201, "{created}");
    let (_, roles) = app.get(&clinic.sam, "/v1/orgs/acme/roles").await;
    let roles = roles.as_array().unwrap();
    let find = |id: &str| roles.iter().find(|r| r["id"] == id).unwrap().clone();
    let copy = find("web.front_desk_biller");
    assert_eq!(copy["custom"], true);
    assert_eq!(copy["org"], "acme");
    assert_eq!(copy["application"], "web");
    assert_eq!(copy["grants"], find("web.biller")["grants"]);
    assert_eq!(find("web.biller")["custom"], false);
    assert!(app.allowed("cal", "web.manage_charge_entries").await);
}

#[tokio::test]
async fn a_user_manager_cannot_put_a_permission_they_lack_into_a_role() {
    // Arrange: max is a biller and user manager, not a system admin.
    let clinic = Clinic::new().await;
    let app = &clinic.app;

    // Act
    let (refused, problem) = app
        .post(
            &clinic.max,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.notes_reader", "name": "Notes reader",
                    "grants": ["web.view_notes"] }),
        )
        .await;
    let (accepted, body) = app
        .post(
            &clinic.max,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.charges_only", "name": "Charges only",
                    "grants": ["web.manage_charge_entries"] }),
        )
        .await;

    // Assert
    assert_eq!(refused, 403, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("grants[0]") && detail.contains("web.view_notes"));
    assert_eq!(accepted, 201, "{body}");
}

#[tokio::test]
async fn a_role_id_clashing_with_a_built_in_role_is_a_conflict() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, _) = clinic
        .app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.biller", "name": "Biller", "grants": [] }),
        )
        .await;

    // Assert
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_grant_of_another_application_is_refused_by_position() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.mixed", "name": "Mixed",
                    "grants": ["web.messages", "emr.edit_users"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 422, "{problem}");
    assert_eq!(first_field(&problem), "grants[1]");
}

#[tokio::test]
async fn built_in_roles_cannot_be_changed() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .put(
            &clinic.ada,
            "/v1/orgs/acme/roles/web.biller",
            json!({ "grants": ["web.messages"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 403);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("built-in roles cannot be changed"));
}

#[tokio::test]
async fn changing_a_custom_role_changes_what_its_holders_may_do() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;
    let response = app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.helper", "name": "Helper", "grants": ["web.messages"] }),
        )
        .await;
    app.ok(response);
    let response = app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/groups",
            json!({ "name": "Helpers", "members": ["cal"], "roles": ["web.helper"] }),
        )
        .await;
    app.ok(response);

    // Act
    let (status, body) = app
        .put(
            &clinic.ada,
            "/v1/orgs/acme/roles/web.helper",
            json!({ "grants": ["web.messages", "web.view_claims_status"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    assert!(app.allowed("cal", "web.view_claims_status").await);
}

#[tokio::test]
async fn a_user_manager_cannot_widen_a_role_held_by_others_beyond_their_own_access() {
    // Arrange: ada defines a role; max (a biller) may edit roles but does
    // not hold `web.view_notes`.
    let clinic = Clinic::new().await;
    let app = &clinic.app;
    let response = app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.reader", "name": "Reader", "grants": ["web.messages"] }),
        )
        .await;
    app.ok(response);

    // Act
    let (status, problem) = app
        .put(
            &clinic.max,
            "/v1/orgs/acme/roles/web.reader",
            json!({ "grants": ["web.messages", "web.view_notes"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("grants[1]"));
}
