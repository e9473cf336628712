//! Every JSON body of the API, taken from the OpenAPI document: a body is
//! one JSON value with nothing after it, and an error about a body never
//! quotes a value it held ("no secret in logs/errors"), so a password sent
//! as a number is not sent back.

use reqwest::header::{CONTENT_TYPE, COOKIE, IF_MATCH};
use serde_json::{json, Value};

use crate::document::{operations, sample_world, Operation, Session};
use crate::helpers::{spawn_app, Backend, Reply, TestApp};

on_every_backend!(
    every_json_body_with_data_after_it_is_refused_and_changes_nothing,
    no_error_quotes_the_value_of_a_secret_field,
);

/// A body each operation accepts (in [`sample_world`]), by
/// `METHOD template`. Every operation with a JSON body must have one: the
/// tests fail on an operation missing here.
pub fn example(operation: &Operation, policy: &Value) -> Value {
    let check = json!({ "org": "acme", "user": "staff", "permission": "web.messages" });
    match (operation.method.as_str(), operation.template.as_str()) {
        ("POST", "/v1/check") => check,
        ("POST", "/v1/check/batch") => json!({ "checks": [check] }),
        ("POST", "/v1/orgs") => json!({ "id": "beta", "name": "Beta" }),
        ("PUT", "/v1/orgs/{org}/subscriptions") => json!({ "subscriptions": ["web.clinical"] }),
        ("PUT", "/v1/orgs/{org}/manages") => json!({ "orgs": [] }),
        ("POST", "/v1/orgs/{org}/employees") => {
            json!({ "id": "emp-new", "first_name": "N", "last_name": "E", "email": "new@acme.test" })
        }
        ("PUT", "/v1/orgs/{org}/employees/{employee}") => json!({ "first_name": "Stella" }),
        ("POST", "/v1/orgs/{org}/users") => json!({ "id": "newbie", "employee_id": "emp" }),
        ("PUT", "/v1/orgs/{org}/users/{user}/access") => json!({ "roles": ["web.biller"] }),
        ("POST", "/v1/orgs/{org}/users/bulk-access") => {
            json!({ "updates": [{ "user": "staff", "roles": ["web.biller"] }] })
        }
        ("PUT", "/v1/orgs/{org}/users/{user}/status") => json!({ "status": "disabled" }),
        ("POST", "/v1/tokens") => json!({ "org": "acme", "user": "staff", "name": "t" }),
        ("POST", "/v1/orgs/{org}/groups") => json!({ "id": "night", "name": "Night shift" }),
        ("PUT", "/v1/orgs/{org}/groups/{group}") => json!({ "name": "Front office" }),
        ("POST", "/v1/orgs/{org}/roles") => {
            json!({ "id": "web.night", "name": "Night", "copy_of": "web.office_staff" })
        }
        ("PUT", "/v1/orgs/{org}/roles/{role}") => json!({ "name": "Front office" }),
        ("PUT", "/v1/orgs/{org}/security-policy") => policy.clone(),
        ("POST", "/v1/orgs/{org}/emergency-access") => {
            json!({ "reason": "a patient", "minutes": 30 })
        }
        ("POST", "/v1/orgs/{org}/emergency-access/{seq}/review") => json!({ "note": "fine" }),
        ("POST", "/v1/sign-in") => json!({ "email": "staff@acme.test", "password": "not the one" }),
        ("POST", "/v1/sign-in/mfa") | ("POST", "/v1/account/mfa/confirm") => {
            json!({ "code": "123456" })
        }
        ("POST", "/v1/session/reauthenticate") | ("DELETE", "/v1/account/mfa") => {
            json!({ "password": "not the one" })
        }
        ("POST", "/v1/account/password") => json!({ "new_password": "a phrase sam chose 1" }),
        ("POST", "/v1/password-reset") => json!({ "email": "staff@acme.test" }),
        ("POST", "/v1/password-reset/complete") => {
            json!({ "token": "rc_reset-nope", "new_password": "a phrase sam chose 1" })
        }
        _ => panic!(
            "{} has a JSON body but no example in tests/api/bodies.rs",
            operation.name()
        ),
    }
}

/// Sends `body` (raw bytes, as JSON) to `operation`, with the credentials
/// it takes: the operator's token, or the session, or none.
pub async fn send_raw(
    app: &TestApp,
    session: &Session,
    operation: &Operation,
    etag: &str,
    body: Vec<u8>,
) -> Reply {
    let mut request = app
        .client
        .request(
            operation.method.clone(),
            format!("{}{}", app.address, operation.path()),
        )
        .header(CONTENT_TYPE, "application/json")
        .header(IF_MATCH, etag)
        .body(body);
    request = if operation.takes_bearer() {
        request.bearer_auth(&app.operator)
    } else {
        request
            .header(COOKIE, &session.cookie)
            .header("X-CSRF-Token", &session.csrf)
    };
    app.reply(operation.name(), request).await
}

/// What is written after a valid body.
const TRAILING: &[&str] = &[" x", "{}", " {\"a\": 1}", "[]", "\n0", "\"tail\"", " null"];

async fn every_json_body_with_data_after_it_is_refused_and_changes_nothing(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let session = sample_world(&app).await;
    let (document, operations) = operations(&app).await;
    let policy = app
        .get(&app.operator, "/v1/orgs/acme/security-policy")
        .await
        .expect(200)
        .body;
    let (_, etag) = app.get_user("acme", "staff").await;
    let revision = app.revision().await;
    let audited = app.audit().await.len();
    let with_body: Vec<&Operation> = operations.iter().filter(|o| o.has_json_body()).collect();
    assert!(
        with_body.len() >= 25,
        "{} operations take a body",
        with_body.len()
    );
    let _ = document;

    let mut failures = Vec::new();
    for operation in with_body {
        let body = serde_json::to_vec(&example(operation, &policy)).unwrap();
        for trailing in TRAILING {
            // Act
            let mut bytes = body.clone();
            bytes.extend_from_slice(trailing.as_bytes());
            let reply = send_raw(&app, &session, operation, &etag, bytes).await;

            // Assert: a 422 problem naming the body and saying why.
            let named = reply.status == 422
                && reply.content_type().starts_with("application/problem+json")
                && reply.body["errors"].as_array().is_some_and(|errors| {
                    errors.iter().any(|e| {
                        e["field"] == "body"
                            && e["message"]
                                .as_str()
                                .is_some_and(|m| m.contains("nothing after it"))
                    })
                });
            if !named {
                let mut text = reply.text.clone();
                text.truncate(200);
                failures.push(format!(
                    "{} with {trailing:?} after the body: {} {text}",
                    reply.request, reply.status
                ));
            }
        }
    }

    // Assert: every one refused, nothing changed.
    assert!(
        failures.is_empty(),
        "{} bodies with data after them were not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(app.revision().await, revision);
    assert_eq!(app.audit().await.len(), audited);
}

/// Values no answer may quote, each with the text that would give it away.
fn hostile_values() -> Vec<(Value, String)> {
    let long = format!("{}-MARKER-7f3a", "s3cr3t ".repeat(300));
    vec![
        (json!(12_345_678), "12345678".to_owned()),
        (json!(-987_654_321), "987654321".to_owned()),
        (json!(31_415.926_5), "31415".to_owned()),
        (json!(true), "`true`".to_owned()),
        (json!(["MARKER-in-a-list"]), "MARKER-in-a-list".to_owned()),
        (
            json!({ "MARKER-key": "MARKER-in-an-object" }),
            "MARKER-".to_owned(),
        ),
        (json!("MARKER-short\"quoted\\"), "MARKER-short".to_owned()),
        (json!(long), "MARKER-7f3a".to_owned()),
    ]
}

async fn no_error_quotes_the_value_of_a_secret_field(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    let session = sample_world(&app).await;
    let (document, operations) = operations(&app).await;
    let policy = Value::Null;
    let (_, etag) = app.get_user("acme", "staff").await;
    let mut secrets = Vec::new();
    for operation in operations.iter().filter(|o| o.has_json_body()) {
        for field in operation.secret_fields(&document) {
            secrets.push((operation, field));
        }
    }
    // The document marks at least these as secrets.
    let named: Vec<&str> = secrets.iter().map(|(_, f)| f.as_str()).collect();
    for field in [
        "password",
        "new_password",
        "current_password",
        "token",
        "code",
        "recovery_code",
    ] {
        assert!(named.contains(&field), "no secret `{field}` in {named:?}");
    }

    let mut failures = Vec::new();
    for (operation, field) in &secrets {
        for (value, giveaway) in hostile_values() {
            // Act
            let mut body = example(operation, &policy);
            body[field.as_str()] = value.clone();
            let reply = send_raw(
                &app,
                &session,
                operation,
                &etag,
                serde_json::to_vec(&body).unwrap(),
            )
            .await;

            // Assert: the value is nowhere in the answer; a value of the
            // wrong type is a 422 naming the field and the type expected.
            let headers = format!("{:?}", reply.headers);
            if reply.text.contains(&giveaway) || headers.contains(&giveaway) {
                failures.push(format!(
                    "{}: `{field}` = {giveaway} is quoted back",
                    reply.request
                ));
                continue;
            }
            if !value.is_string() {
                let names = reply.status == 422
                    && reply.body["errors"].as_array().is_some_and(|errors| {
                        errors.iter().any(|e| {
                            e["field"] == field.as_str()
                                && e["message"]
                                    .as_str()
                                    .is_some_and(|m| m.contains("expected a string"))
                        })
                    });
                if !names {
                    failures.push(format!(
                        "{}: `{field}` = {giveaway}: {} {}",
                        reply.request, reply.status, reply.text
                    ));
                }
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} answers gave a secret's value away:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
