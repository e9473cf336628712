//! Member groups: the creator's access setting, members, roles.

use serde_json::json;

use crate::{first_field, Clinic};

/// "if you are a standard user, any Member Groups you create will be
/// assigned the standard access setting"
#[tokio::test]
async fn a_group_created_by_a_standard_user_gets_the_standard_access_setting() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;

    // Act
    let (status, created) = app
        .post(
            &clinic.sam,
            "/v1/orgs/acme/groups",
            json!({ "id": "front-desk", "name": "Front desk", "members": ["sam", "cal"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], "front-desk");
    let (_, group) = app
        .get(&clinic.sam, "/v1/orgs/acme/groups/front-desk")
        .await;
    assert_eq!(group["access"], "standard");
    assert_eq!(group["created_by"], "sam");
    assert_eq!(group["members"], json!(["sam", "cal"]));
}

#[tokio::test]
async fn an_operator_must_name_the_user_who_creates_a_group() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;

    // Act
    let (without, problem) = app
        .post(
            &app.operator,
            "/v1/orgs/acme/groups",
            json!({ "id": "billing", "name": "Billing" }),
        )
        .await;
    let (with, _) = app
        .post(
            &app.operator,
            "/v1/orgs/acme/groups",
            json!({ "id": "billing", "name": "Billing", "created_by": "sam" }),
        )
        .await;

    // Assert
    assert_eq!(without, 422);
    assert_eq!(first_field(&problem), "created_by");
    assert_eq!(with, 201);
    let (_, group) = app.get(&app.operator, "/v1/orgs/acme/groups/billing").await;
    assert_eq!(group["created_by"], "sam");
    assert_eq!(group["access"], "standard");
}

#[tokio::test]
async fn a_user_cannot_create_a_group_in_someone_elses_name() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .post(
            &clinic.sam,
            "/v1/orgs/acme/groups",
            json!({ "name": "Mine", "created_by": "ada" }),
        )
        .await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(first_field(&problem), "created_by");
}

#[tokio::test]
async fn a_member_from_another_organization_is_refused_by_position() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/groups",
            json!({ "name": "Mixed", "members": ["olga", "sam"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 422, "{problem}");
    assert_eq!(first_field(&problem), "members[0]");
    let (_, groups) = clinic.app.get(&clinic.ada, "/v1/orgs/acme/groups").await;
    assert_eq!(groups, json!([]));
}

#[tokio::test]
async fn a_groups_roles_reach_its_members_in_checks() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;
    let before = app.allowed("sam", "web.manage_charge_entries").await;

    // Act
    let (status, body) = app
        .post(
            &clinic.ada,
            "/v1/orgs/acme/groups",
            json!({ "name": "Billing help", "members": ["sam"], "roles": ["web.biller"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 201, "{body}");
    assert!(!before);
    assert!(app.allowed("sam", "web.manage_charge_entries").await);
}

#[tokio::test]
async fn a_user_cannot_give_a_group_a_role_they_do_not_hold() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .post(
            &clinic.sam,
            "/v1/orgs/acme/groups",
            json!({ "name": "Billing", "members": ["cal"], "roles": ["web.biller"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("web.biller"));
    assert!(!clinic.app.allowed("cal", "web.manage_charge_entries").await);
}

#[tokio::test]
async fn a_user_without_tasking_group_create_cannot_create_groups() {
    // Arrange: the auditor holds no Tasking access type.
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .post(
            &clinic.aud,
            "/v1/orgs/acme/groups",
            json!({ "name": "Auditors" }),
        )
        .await;

    // Assert
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("tasking.group.create"));
}

#[tokio::test]
async fn editing_a_group_changes_its_members_but_not_its_access_setting() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;
    let response = app
        .post(
            &clinic.sam,
            "/v1/orgs/acme/groups",
            json!({ "id": "desk", "name": "Desk", "members": ["sam"] }),
        )
        .await;
    app.ok(response);

    // Act
    let (status, body) = app
        .put(
            &clinic.sam,
            "/v1/orgs/acme/groups/desk",
            json!({ "members": ["sam", "cal"] }),
        )
        .await;

    // Assert
    assert_eq!(status, 200, "{body}");
    let (_, group) = app.get(&clinic.sam, "/v1/orgs/acme/groups/desk").await;
    assert_eq!(group["members"], json!(["sam", "cal"]));
    assert_eq!(group["name"], "Desk");
    assert_eq!(group["access"], "standard");
}

#[tokio::test]
async fn a_group_of_another_organization_is_not_found() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;
    let response = app
        .post(
            &app.operator,
            "/v1/orgs/other/groups",
            json!({ "id": "theirs", "name": "Theirs", "created_by": "olga" }),
        )
        .await;
    app.ok(response);

    // Act
    let (read, _) = app.get(&app.operator, "/v1/orgs/acme/groups/theirs").await;
    let (edit, _) = app
        .put(
            &app.operator,
            "/v1/orgs/acme/groups/theirs",
            json!({ "name": "Ours" }),
        )
        .await;

    // Assert
    assert_eq!(read, 404);
    assert_eq!(edit, 404);
}
