//! One rule for every action on a person: editing their employee profile
//! (their email above all), their access, their status, removing them,
//! mailing them a password link and issuing their tokens is allowed only to
//! someone who holds every permission they hold (or a System Admin, or an
//! operator).

use rolecall_store::{AccountWrite, Batch, SessionRow, Stage};
use serde_json::json;

use crate::helpers::{spawn_app, Backend};

on_every_backend!(
    a_user_manager_cannot_take_over_disable_demote_or_remove_a_system_admin,
    a_user_manager_still_manages_someone_who_holds_no_more_than_they_do,
    an_email_change_tells_the_old_address_and_ends_sessions_and_reset_links,
);

async fn a_user_manager_cannot_take_over_disable_demote_or_remove_a_system_admin(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let mgr = app.user_token("acme", "mgr").await;
    let revision = app.revision().await;
    let mail_before = app.service.store().unsent_emails().await.unwrap().len();

    // Act: every way of taking over or pushing out the System Admin.
    let email = app
        .put_json(
            &mgr,
            "/v1/orgs/acme/employees/boss",
            &json!({ "email": "attacker@evil.test" }),
        )
        .await;
    let name = app
        .put_json(
            &mgr,
            "/v1/orgs/acme/employees/boss",
            &json!({ "first_name": "Mallory" }),
        )
        .await;
    let demote = app
        .update_access(
            &mgr,
            "acme",
            "boss",
            &json!({ "roles": ["web.office_staff"] }),
        )
        .await;
    // With an ETag that is not current, the rule still answers first: a
    // 409 would tell the refused actor the user's access had changed.
    let stale = app
        .send(
            reqwest::Method::PUT,
            "/v1/orgs/acme/users/boss/access",
            Some(&mgr),
            &[("If-Match", "\"stale\"")],
            Some(&json!({ "roles": ["web.office_staff"] })),
        )
        .await;
    let bulk = app
        .post_json(
            &mgr,
            "/v1/orgs/acme/users/bulk-access",
            &json!({ "updates": [{ "user": "boss", "roles": ["web.office_staff"] }] }),
        )
        .await;
    let bulk_stale = app
        .post_json(
            &mgr,
            "/v1/orgs/acme/users/bulk-access",
            &json!({ "updates": [{ "user": "boss", "if_match": "stale", "roles": [] }] }),
        )
        .await;
    let disable = app
        .put_json(
            &mgr,
            "/v1/orgs/acme/users/boss/status",
            &json!({ "status": "disabled" }),
        )
        .await;
    let remove = app
        .send(
            reqwest::Method::DELETE,
            "/v1/orgs/acme/users/boss",
            Some(&mgr),
            &[],
            None,
        )
        .await;
    let reset = app
        .post_json(&mgr, "/v1/orgs/acme/users/boss/password-reset", &json!({}))
        .await;

    // Assert: each is refused, naming the rule, and nothing changed.
    for refused in [
        email, name, demote, stale, bulk, bulk_stale, disable, remove, reset,
    ] {
        let problem = refused.problem(403).text;
        assert!(
            problem.contains("holds everything") || problem.contains("which you do not"),
            "{problem}"
        );
    }
    assert_eq!(app.revision().await, revision);
    let (boss, _) = app.get_user("acme", "boss").await;
    assert_eq!(boss["email"], "boss@acme.test");
    assert_eq!(boss["status"], "active");
    assert_eq!(boss["access"]["roles"], json!(["web.system_admin"]));
    assert_eq!(
        app.service.store().unsent_emails().await.unwrap().len(),
        mail_before,
        "no mail went anywhere"
    );
}

async fn a_user_manager_still_manages_someone_who_holds_no_more_than_they_do(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let mgr = app.user_token("acme", "mgr").await;

    // Act + Assert: the same actions on `staff` are allowed.
    app.put_json(
        &mgr,
        "/v1/orgs/acme/employees/staff",
        &json!({ "email": "staff.new@acme.test" }),
    )
    .await
    .expect(200);
    app.update_access(&mgr, "acme", "staff", &json!({ "roles": [] }))
        .await
        .expect(200);
    app.put_json(
        &mgr,
        "/v1/orgs/acme/users/staff/status",
        &json!({ "status": "disabled" }),
    )
    .await
    .expect(200);
    app.send(
        reqwest::Method::DELETE,
        "/v1/orgs/acme/users/staff",
        Some(&mgr),
        &[],
        None,
    )
    .await
    .expect(200);
}

async fn an_email_change_tells_the_old_address_and_ends_sessions_and_reset_links(backend: Backend) {
    // Arrange: `staff` is signed in and has a reset link waiting.
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    let boss = app.user_token("acme", "boss").await;
    let store = app.service.store();
    let now = rolecall_store::now_ms();
    let session = SessionRow {
        id: "ses-staff".to_owned(),
        secret_hash: "0".repeat(64),
        user: "staff".to_owned(),
        org: "acme".to_owned(),
        stage: Stage::Active,
        csrf: "csrf".to_owned(),
        created_at: now,
        authenticated_at: now,
        last_seen_at: now,
        ended_at: None,
        end_reason: None,
    };
    store
        .record(
            "cli",
            "test",
            Batch {
                puts: &[],
                audit: &[],
                emails: &[],
                accounts: &[AccountWrite::Session(session)],
            },
        )
        .await
        .unwrap();
    app.post_json(
        &boss,
        "/v1/orgs/acme/users/staff/password-reset",
        &json!({}),
    )
    .await
    .expect(202);
    let link = store
        .unsent_emails()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == "staff@acme.test" && m.subject.contains("Reset"))
        .expect("the reset link was queued");
    let token = link
        .body_text
        .split_whitespace()
        .find_map(|word| word.split("token=").nth(1))
        .expect("the mail holds a link")
        .to_owned();

    // Act
    app.put_json(
        &boss,
        "/v1/orgs/acme/employees/staff",
        &json!({ "email": "staff.new@acme.test" }),
    )
    .await
    .expect(200);

    // Assert: the old address is told, without a link to act on.
    let mails = store.unsent_emails().await.unwrap();
    let notice = mails
        .iter()
        .find(|m| m.recipient == "staff@acme.test" && m.subject.contains("email was changed"))
        .expect("the old address was told");
    assert!(notice.body_text.contains("staff.new@acme.test"));
    assert!(!notice.body_text.contains("token="));
    // The sessions ended, and the waiting reset link no longer works.
    assert!(store.open_sessions("staff").await.unwrap().is_empty());
    app.send(
        reqwest::Method::POST,
        "/v1/password-reset/complete",
        None,
        &[],
        Some(&json!({ "token": token, "new_password": "A new long passphrase 42" })),
    )
    .await
    .problem(422);
    // The audit names both addresses.
    let record = app
        .audit()
        .await
        .into_iter()
        .find(|r| r.action == "user.email.change")
        .expect("the change is audited");
    assert_eq!(record.target, "user:staff");
    let before = record.before.unwrap_or_default();
    let after = record.after.unwrap_or_default();
    assert!(before.contains("staff@acme.test"), "{before}");
    assert!(after.contains("staff.new@acme.test"), "{after}");
}
