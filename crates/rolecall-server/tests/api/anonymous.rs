//! What an anonymous client learns about accounts from asking for a reset
//! link: nothing. The request path does the same work for an address that
//! has an account and one that has none (it queues the request and
//! answers), and the link is made later, off the request path.

use reqwest::Method;
use serde_json::json;

use rolecall_server::accounts::reset_requests::handle_waiting;

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(
    a_reset_request_answers_alike_and_before_any_link_exists,
    the_console_reset_form_answers_alike_and_before_any_link_exists,
);

/// The reset emails waiting in the outbox for `to`.
async fn reset_mail_to(app: &TestApp, to: &str) -> usize {
    app.service
        .store()
        .unsent_emails()
        .await
        .unwrap()
        .iter()
        .filter(|m| m.recipient == to && m.subject.contains("Reset"))
        .count()
}

/// The reset links stored, used or not.
async fn reset_links(app: &TestApp) -> u64 {
    app.service
        .store()
        .execute_raw("UPDATE reset_tokens SET used_at = used_at")
        .await
        .unwrap()
}

async fn a_reset_request_answers_alike_and_before_any_link_exists(backend: Backend) {
    // Arrange: one address with an account, one without.
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.billing"]).await;
    app.active_user("acme", "kim", json!({ "roles": ["web.biller"] }))
        .await;
    let known = "kim@acme.test";
    let unknown = "nobody@acme.test";

    // Act
    let for_known = app
        .send(
            Method::POST,
            "/v1/password-reset",
            None,
            &[],
            Some(&json!({ "email": known })),
        )
        .await
        .expect(202);
    let for_unknown = app
        .send(
            Method::POST,
            "/v1/password-reset",
            None,
            &[],
            Some(&json!({ "email": unknown })),
        )
        .await
        .expect(202);

    // Assert: the same answer, given before any link or email exists.
    assert_eq!(for_known.text, for_unknown.text);
    assert_eq!(
        reset_links(&app).await,
        0,
        "a reset link was made on the request path"
    );
    assert_eq!(
        reset_mail_to(&app, known).await,
        0,
        "the reset email was composed on the request path"
    );
    // The one thing each request stored is alike: the email as given, the
    // source address and the time.
    let waiting = app.service.store().reset_requests(10).await.unwrap();
    let emails: Vec<&str> = waiting.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(emails, [known, unknown]);
    assert!(
        waiting.iter().all(|r| r.source == "127.0.0.1"),
        "{waiting:?}"
    );

    // Act: the worker handles what is waiting, off the request path.
    let handled = handle_waiting(&app.service).await.unwrap();

    // Assert: a link and its email for the account, nothing for the other
    // address, nothing left waiting; and the token is in no audit record.
    assert_eq!(handled, 2);
    assert_eq!(reset_links(&app).await, 1);
    assert_eq!(reset_mail_to(&app, known).await, 1);
    assert_eq!(reset_mail_to(&app, unknown).await, 0);
    assert!(app
        .service
        .store()
        .reset_requests(10)
        .await
        .unwrap()
        .is_empty());
    let mail = app
        .service
        .store()
        .unsent_emails()
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == known && m.subject.contains("Reset"))
        .unwrap();
    let token = mail
        .body_text
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 64, "{}", mail.subject);
    let audit = app.audit().await;
    let request = audit
        .iter()
        .find(|r| r.action == "password.reset.request")
        .unwrap();
    assert_eq!(request.target, "user:kim");
    assert_eq!(request.source, "127.0.0.1");
    let text = format!("{audit:?}");
    assert!(
        !text.contains(&token),
        "the reset token is in the audit log"
    );
    assert_eq!(handle_waiting(&app.service).await.unwrap(), 0);
}

async fn the_console_reset_form_answers_alike_and_before_any_link_exists(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.billing"]).await;
    app.active_user("acme", "kim", json!({ "roles": ["web.biller"] }))
        .await;

    // Act
    let mut pages = Vec::new();
    for email in ["kim@acme.test", "nobody@acme.test"] {
        let request = app
            .client
            .post(format!("{}/forgot-password", app.address))
            .form(&[("email", email)]);
        pages.push(app.reply("POST /forgot-password".to_owned(), request).await);
    }

    // Assert
    assert_eq!(pages[0].status, 200, "{}", pages[0].text);
    assert_eq!(pages[0].status, pages[1].status);
    assert_eq!(pages[0].text, pages[1].text);
    assert_eq!(reset_links(&app).await, 0);
    assert_eq!(reset_mail_to(&app, "kim@acme.test").await, 0);
}
