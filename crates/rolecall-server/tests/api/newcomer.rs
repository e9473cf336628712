//! A newcomer's first day: an organization, an employee, their user, the
//! activation, a role they lack, and the role granted.

use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(a_newcomer_is_denied_until_active_and_granted_then_allowed_with_the_reason);

async fn a_newcomer_is_denied_until_active_and_granted_then_allowed_with_the_reason(
    backend: Backend,
) {
    // Arrange: "Clinical Permissions, Billing Permissions, and Engage
    // Permissions are available with module subscription."
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.clinical", "web.billing"])
        .await;
    let org = app
        .get(&app.operator, "/v1/orgs/acme")
        .await
        .expect(200)
        .body;
    assert_eq!(org["subscriptions"], json!(["web.clinical", "web.billing"]));
    let pia = app
        .create_user("acme", "pia", json!({ "roles": ["web.office_staff"] }))
        .await;

    // Act + Assert: new users are invited, and denied everything.
    let invited = app
        .check(&app.operator, "acme", &pia, "web.messages", true)
        .await;
    assert_eq!(invited["allowed"], false);
    assert_eq!(invited["reason"]["kind"], "not_active");
    let sentence = invited["reason"]["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("Denied:") && sentence.contains("invited"),
        "{sentence}"
    );

    // Act: activate; ask for a permission of a role the user lacks.
    app.activate("acme", &pia).await;
    let lacking = app
        .check(
            &app.operator,
            "acme",
            &pia,
            "web.manage_charge_entries",
            true,
        )
        .await;

    // Assert: denied, and the sentence says nothing grants it.
    assert_eq!(lacking["allowed"], false);
    assert_eq!(lacking["reason"]["failed_condition"], 3);
    assert_eq!(lacking["reason"]["kind"], "not_granted");
    let sentence = lacking["reason"]["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("Denied:") && sentence.contains("Manage charge entries"),
        "{sentence}"
    );

    // Act: read the user, then add the Biller role with the read's ETag.
    let (before, etag) = app.get_user("acme", &pia).await;
    assert_eq!(before["access"]["roles"], json!(["web.office_staff"]));
    let write = app
        .put_if_match(
            &app.operator,
            &format!("/v1/orgs/acme/users/{pia}/access"),
            &etag,
            &json!({ "roles": ["web.office_staff", "web.biller"] }),
        )
        .await
        .expect(200);
    let revision = write.revision();
    assert_ne!(write.etag(), etag, "the answer carries the new ETag");

    // Assert: the same check, at the write's revision, is allowed, and
    // says why.
    let allowed = app
        .post_json(
            &app.operator,
            "/v1/check",
            &json!({
                "org": "acme",
                "user": pia,
                "permission": "web.manage_charge_entries",
                "explain": true,
                "min_revision": revision,
            }),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(allowed["allowed"], true);
    assert_eq!(allowed["scope"], "all");
    let reason = &allowed["reason"];
    assert_eq!(reason["kind"], "granted");
    assert_eq!(reason["subscription"], "web.billing");
    assert!(
        reason["via"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["kind"] == "role" && v["id"] == "web.biller"),
        "{reason}"
    );
    let sentence = allowed["reason"]["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("Allowed:") && sentence.contains("Biller"),
        "{sentence}"
    );
    let (after, _) = app.get_user("acme", &pia).await;
    assert_eq!(
        after["access"]["roles"],
        json!(["web.office_staff", "web.biller"])
    );
    assert_eq!(app.revision().await, revision);
    app.assert_audit_intact().await;
}
