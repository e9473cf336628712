//! What operators and integrators rely on around the API: the OpenAPI
//! document, health, readiness and metrics.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    the_openapi_document_lists_every_route_the_router_serves,
    health_readiness_and_metrics_answer_and_checks_are_counted,
);

/// Every operation the API serves, as OpenAPI names it.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/catalog"),
    ("post", "/v1/check"),
    ("post", "/v1/check/batch"),
    ("get", "/v1/orgs"),
    ("post", "/v1/orgs"),
    ("get", "/v1/orgs/{org}"),
    ("put", "/v1/orgs/{org}/subscriptions"),
    ("put", "/v1/orgs/{org}/manages"),
    ("get", "/v1/orgs/{org}/employees"),
    ("post", "/v1/orgs/{org}/employees"),
    ("put", "/v1/orgs/{org}/employees/{employee}"),
    ("get", "/v1/orgs/{org}/users"),
    ("post", "/v1/orgs/{org}/users"),
    ("post", "/v1/orgs/{org}/users/bulk-access"),
    ("get", "/v1/orgs/{org}/users/{user}"),
    ("delete", "/v1/orgs/{org}/users/{user}"),
    ("put", "/v1/orgs/{org}/users/{user}/access"),
    ("put", "/v1/orgs/{org}/users/{user}/status"),
    ("get", "/v1/orgs/{org}/users/{user}/permissions"),
    ("get", "/v1/orgs/{org}/permissions/{permission}/users"),
    ("get", "/v1/orgs/{org}/groups"),
    ("post", "/v1/orgs/{org}/groups"),
    ("get", "/v1/orgs/{org}/groups/{group}"),
    ("put", "/v1/orgs/{org}/groups/{group}"),
    ("get", "/v1/orgs/{org}/roles"),
    ("post", "/v1/orgs/{org}/roles"),
    ("put", "/v1/orgs/{org}/roles/{role}"),
    ("get", "/v1/orgs/{org}/audit"),
    ("get", "/v1/audit"),
    ("post", "/v1/tokens"),
    ("get", "/v1/tokens"),
    ("delete", "/v1/tokens/{token}"),
    ("get", "/v1/orgs/{org}/security-policy"),
    ("put", "/v1/orgs/{org}/security-policy"),
    ("post", "/v1/orgs/{org}/users/{user}/invitation"),
    ("post", "/v1/orgs/{org}/users/{user}/password-reset"),
    ("post", "/v1/sign-in"),
    ("post", "/v1/sign-in/mfa"),
    ("post", "/v1/sign-out"),
    ("get", "/v1/session"),
    ("post", "/v1/session/reauthenticate"),
    ("post", "/v1/account/password"),
    ("post", "/v1/account/mfa"),
    ("delete", "/v1/account/mfa"),
    ("post", "/v1/account/mfa/confirm"),
    ("post", "/v1/password-reset"),
    ("post", "/v1/password-reset/complete"),
    ("get", "/v1/orgs/{org}/emergency-access"),
    ("post", "/v1/orgs/{org}/emergency-access"),
    ("post", "/v1/orgs/{org}/emergency-access/{seq}/review"),
];

/// Routes the router serves that are not API operations.
const UNDOCUMENTED: &[(&str, &str)] = &[("get", "/v1/openapi.json"), ("get", "/metrics")];

async fn is_routed(app: &TestApp, method: &str, path: &str) -> bool {
    let path = path
        .replace("{org}", "acme")
        .replace("{user}", "pat")
        .replace("{permission}", "web.messages")
        .replace("{group}", "front-desk")
        .replace("{role}", "acme.front_desk")
        .replace("{employee}", "emp-pat")
        .replace("{seq}", "1");
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let reply = app
        .send(method, &path, Some(&app.operator), &[], Some(&json!({})))
        .await;
    // The fallback answers 404 for "this path"; an unserved method, 405.
    let fallback = reply.status == 404 && reply.text.contains("this path");
    !fallback && reply.status != 405
}

async fn the_openapi_document_lists_every_route_the_router_serves(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.create_org("acme", &[]).await;
    app.create_user("acme", "pat", json!({})).await;

    // Act
    let reply = app.get(&app.operator, "/v1/openapi.json").await.expect(200);

    // Assert: OpenAPI 3, and exactly the routes above.
    let document = &reply.body;
    assert!(document.is_object(), "not JSON: {}", reply.text);
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "openapi {version}");
    assert!(document["info"]["title"].is_string());
    let listed: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(listed, expected);

    // Assert: the router serves every one of them, and the extra two.
    for (method, path) in ROUTES.iter().chain(UNDOCUMENTED) {
        assert!(
            is_routed(&app, method, path).await,
            "{method} {path} is not served"
        );
    }
    app.assert_audit_intact().await;
}

fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no `{name}` in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

async fn health_readiness_and_metrics_answer_and_checks_are_counted(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.create_org("acme", &[]).await;
    app.active_user("acme", "pat", json!({ "roles": ["web.office_staff"] }))
        .await;
    let metrics_path = format!("{}/metrics", app.address);
    let before = app.client.get(&metrics_path).send().await.unwrap();
    assert_eq!(before.status(), 200);
    let before = before.text().await.unwrap();

    // Act: one check, and a batch of two.
    app.check(&app.operator, "acme", "pat", "web.messages", false)
        .await;
    app.post_json(
        &app.operator,
        "/v1/check/batch",
        &json!({ "checks": [
            { "org": "acme", "user": "pat", "permission": "web.messages" },
            { "org": "acme", "user": "pat", "permission": "web.manage_security_policies" },
        ]}),
    )
    .await
    .expect(200);

    // Assert
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let after = app
        .client
        .get(&metrics_path)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        counter(&after, "rolecall_checks_total"),
        counter(&before, "rolecall_checks_total") + 3
    );
    assert_eq!(
        counter(&after, "rolecall_checks_allowed_total"),
        counter(&before, "rolecall_checks_allowed_total") + 2
    );
    assert_eq!(
        counter(&after, "rolecall_revision"),
        app.revision().await as u64
    );
    assert_eq!(counter(&after, "rolecall_users"), 1);
    app.assert_audit_intact().await;
}
