//! Reading the audit log: filters, paging, who may read it.

use serde_json::{json, Value};

use crate::{first_field, Clinic, TestApp};

#[tokio::test]
async fn the_audit_log_filters_by_actor_target_and_time_and_pages_backwards() {
    audit_filters_and_paging(Clinic::new().await).await;
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_on_postgresql_too() {
    let Some(app) = TestApp::spawn_postgres("admin_audit").await else {
        return; // No PostgreSQL server given.
    };
    audit_filters_and_paging(Clinic::on(app).await).await;
}

async fn audit_filters_and_paging(clinic: Clinic) {
    // Arrange: building the clinic wrote records by the operator.
    let app = &clinic.app;
    let response = app
        .post(
            &clinic.sam,
            "/v1/orgs/acme/groups",
            json!({ "id": "desk", "name": "Desk" }),
        )
        .await;
    app.ok(response);
    let response = app
        .put(
            &clinic.sam,
            "/v1/orgs/acme/groups/desk",
            json!({ "name": "Front desk" }),
        )
        .await;
    app.ok(response);
    let operator = format!("operator:{}", app.operator_id);

    // Act
    let (_, first) = app
        .get(
            &clinic.aud,
            &format!("/v1/orgs/acme/audit?actor={operator}&limit=2"),
        )
        .await;
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = app
        .get(
            &clinic.aud,
            &format!("/v1/orgs/acme/audit?actor={operator}&limit=2&before={before}"),
        )
        .await;
    let (_, by_target) = app
        .get(&clinic.aud, "/v1/orgs/acme/audit?target=group:desk")
        .await;
    let newest = &by_target["records"][0];
    let since = newest["at"].as_str().unwrap().to_owned();
    let (_, recent) = app
        .get(
            &clinic.aud,
            &format!("/v1/orgs/acme/audit?since={}", since.replace('+', "%2B")),
        )
        .await;
    let (_, future) = app
        .get(
            &clinic.aud,
            "/v1/orgs/acme/audit?since=2999-01-01T00:00:00Z",
        )
        .await;

    // Assert
    let records = |page: &Value| page["records"].as_array().unwrap().clone();
    assert_eq!(records(&first).len(), 2);
    assert!(records(&first).iter().all(|r| r["actor"] == operator));
    assert_eq!(records(&first)[1]["seq"].as_i64().unwrap(), before);
    assert_eq!(records(&second).len(), 2);
    assert!(records(&second)
        .iter()
        .all(|r| r["actor"] == operator && r["seq"].as_i64().unwrap() < before));

    let actions: Vec<&str> = by_target["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["group.update", "group.create"]);
    assert_eq!(newest["before"]["name"], "Desk");
    assert_eq!(newest["after"]["name"], "Front desk");
    assert_eq!(newest["org"], "acme");
    assert!(by_target["next_before"].is_null());

    assert!(records(&recent).iter().any(|r| r["seq"] == newest["seq"]));
    assert_eq!(records(&future).len(), 0);
}

#[tokio::test]
async fn a_bad_since_is_refused_naming_the_parameter() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic
        .app
        .get(&clinic.aud, "/v1/orgs/acme/audit?since=yesterday")
        .await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(first_field(&problem), "since");
}

#[tokio::test]
async fn an_unknown_or_out_of_range_audit_parameter_is_refused_by_name() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (unknown, unknown_problem) = clinic
        .app
        .get(&clinic.aud, "/v1/orgs/acme/audit?colour=red")
        .await;
    let (too_many, limit_problem) = clinic
        .app
        .get(&clinic.aud, "/v1/orgs/acme/audit?limit=1001")
        .await;

    // Assert
    assert_eq!(unknown, 422);
    assert_eq!(first_field(&unknown_problem), "colour");
    assert_eq!(too_many, 422);
    assert_eq!(first_field(&limit_problem), "limit");
}

#[tokio::test]
async fn a_user_without_view_audit_cannot_read_the_audit_log() {
    // Arrange
    let clinic = Clinic::new().await;

    // Act
    let (status, problem) = clinic.app.get(&clinic.sam, "/v1/orgs/acme/audit").await;

    // Assert
    assert_eq!(status, 403);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("rolecall.view_audit"));
}

#[tokio::test]
async fn a_token_of_another_organization_finds_nothing_here() {
    // Arrange
    let clinic = Clinic::new().await;
    let app = &clinic.app;

    // Act
    let (audit, _) = app.get(&clinic.olga, "/v1/orgs/acme/audit").await;
    let (groups, _) = app.get(&clinic.olga, "/v1/orgs/acme/groups").await;
    let (roles, _) = app.get(&clinic.olga, "/v1/orgs/acme/roles").await;
    let (create, _) = app
        .post(
            &clinic.olga,
            "/v1/orgs/acme/roles",
            json!({ "id": "web.spy", "name": "Spy", "grants": [] }),
        )
        .await;

    // Assert
    assert_eq!((audit, groups, roles, create), (404, 404, 404, 404));
}

#[tokio::test]
async fn the_openapi_document_lists_the_new_resources() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let (_, document) = app.get(&app.operator, "/v1/openapi.json").await;

    // Assert
    let paths = &document["paths"];
    for path in [
        "/v1/orgs/{org}/groups",
        "/v1/orgs/{org}/groups/{group}",
        "/v1/orgs/{org}/roles",
        "/v1/orgs/{org}/roles/{role}",
        "/v1/orgs/{org}/audit",
    ] {
        assert!(paths.get(path).is_some(), "{path} missing");
    }
    let parameters = paths["/v1/orgs/{org}/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(parameters
        .iter()
        .any(|p| p["name"] == "since" && p["in"] == "query"));
}
