//! Every 401 says how to authenticate (RFC 9110 §11.6.1: "A server
//! generating a 401 (Unauthorized) response MUST send a WWW-Authenticate
//! header field containing at least one challenge"), and one for a bearer
//! token that was given and does not work says `invalid_token` (RFC 6750
//! §3.1).

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, WWW_AUTHENTICATE};
use reqwest::Method;
use serde_json::json;

use crate::document::{operations, sample_world, Operation};
use crate::helpers::{spawn_app, Backend, Reply, TestApp};

on_every_backend!(
    every_401_carries_a_bearer_challenge,
    the_document_lists_the_401_of_every_operation_that_needs_credentials,
    the_scheme_is_named_in_any_case,
);

const CHALLENGE: &str = "Bearer realm=\"rolecall\"";
const INVALID_TOKEN: &str = "Bearer realm=\"rolecall\", error=\"invalid_token\"";

/// Operations anyone may call: no 401 expected without credentials.
const PUBLIC: &[&str] = &[
    "GET /healthz",
    "GET /readyz",
    "POST /v1/sign-in",
    "POST /v1/password-reset",
    "POST /v1/password-reset/complete",
];

/// Sends `operation` with `authorization` (and an empty JSON object as
/// its body when it takes one).
async fn send(
    app: &TestApp,
    operation: &Operation,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> Reply {
    let mut request = app.client.request(
        operation.method.clone(),
        format!("{}{}", app.address, operation.path()),
    );
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    if let Some(value) = cookie {
        request = request.header(COOKIE, value);
    }
    if operation.has_json_body() {
        request = request.header(CONTENT_TYPE, "application/json").body("{}");
    }
    app.reply(operation.name(), request).await
}

fn challenge(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
}

/// A failure message unless `reply` is a 401 problem challenging with
/// exactly `expected`.
fn check(reply: &Reply, what: &str, expected: &str) -> Option<String> {
    let is_problem = reply.content_type().starts_with("application/problem+json")
        && reply.body["type"] == "https://rolecall.dev/problems/unauthenticated";
    (reply.status != 401 || !is_problem || challenge(reply) != Some(expected)).then(|| {
        format!(
            "{} {what}: {} `{}` with WWW-Authenticate {:?}",
            reply.request,
            reply.status,
            reply.content_type(),
            challenge(reply)
        )
    })
}

async fn every_401_carries_a_bearer_challenge(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    sample_world(&app).await;
    let (_, operations) = operations(&app).await;
    let guarded: Vec<&Operation> = operations
        .iter()
        .filter(|o| !PUBLIC.contains(&o.name().as_str()))
        .collect();
    assert!(
        guarded.iter().any(|o| !o.takes_bearer()),
        "no session routes"
    );

    let mut failures = Vec::new();
    for operation in guarded {
        // Act and assert: no credentials at all.
        let reply = send(&app, operation, None, None).await;
        failures.extend(check(&reply, "without credentials", CHALLENGE));

        // A token that does not work: `invalid_token` where a token is
        // taken; the session routes take none and only challenge.
        let reply = send(&app, operation, Some("Bearer rc_tok-nope_0123"), None).await;
        let expected = if operation.takes_bearer() {
            INVALID_TOKEN
        } else {
            CHALLENGE
        };
        failures.extend(check(&reply, "with a bad token", expected));

        // Another scheme is no token: a plain challenge.
        if operation.takes_bearer() {
            let reply = send(&app, operation, Some("Basic YWRtaW46YWRtaW4="), None).await;
            failures.extend(check(&reply, "with Basic credentials", CHALLENGE));
        } else {
            let reply = send(&app, operation, None, Some("rolecall_session=forged")).await;
            failures.extend(check(&reply, "with a forged session", CHALLENGE));
        }
    }

    // A wrong password at sign-in, over the API and in the console.
    let reply = app
        .send(
            Method::POST,
            "/v1/sign-in",
            None,
            &[],
            Some(&json!({ "email": "staff@acme.test", "password": "not the one" })),
        )
        .await;
    failures.extend(check(&reply, "with a wrong password", CHALLENGE));
    let console = app
        .client
        .post(format!("{}/sign-in", app.address))
        .form(&[("email", "staff@acme.test"), ("password", "not the one")])
        .send()
        .await
        .unwrap();
    if console.status() != 401
        || console
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            != Some(CHALLENGE)
    {
        failures.push(format!(
            "console sign-in with a wrong password: {} with WWW-Authenticate {:?}",
            console.status(),
            console.headers().get(WWW_AUTHENTICATE)
        ));
    }

    assert!(
        failures.is_empty(),
        "{} answers were not a 401 with the right challenge:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn the_document_lists_the_401_of_every_operation_that_needs_credentials(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;

    // Act
    let (_, operations) = operations(&app).await;

    // Assert: a problem+json 401 with its header, where credentials are
    // needed; every 4xx and 5xx of the document is a problem.
    let mut failures = Vec::new();
    for operation in &operations {
        let responses = operation.spec["responses"].as_object().unwrap();
        let needs_credentials = !PUBLIC.contains(&operation.name().as_str());
        let unauthorized = &operation.spec["responses"]["401"];
        if needs_credentials
            && (!unauthorized["content"]["application/problem+json"].is_object()
                || !unauthorized["headers"]["WWW-Authenticate"].is_object())
        {
            failures.push(format!(
                "{}: no 401 with WWW-Authenticate",
                operation.name()
            ));
        }
        for (status, response) in responses {
            let problem = status.starts_with('4') || status.starts_with('5');
            if problem
                && operation.template.starts_with("/v1/")
                && response["content"]
                    .as_object()
                    .is_none_or(|c| c.keys().any(|k| k != "application/problem+json"))
            {
                failures.push(format!(
                    "{}: {status} is not only problem+json",
                    operation.name()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// "It uses a case-insensitive token as a means to identify the
/// authentication scheme" (RFC 9110 §11.1): `bearer` and `BEARER` are
/// `Bearer`.
async fn the_scheme_is_named_in_any_case(backend: Backend) {
    let app = spawn_app(&backend).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let reply = app
            .reply(
                format!("GET /v1/orgs as {scheme}"),
                app.client
                    .get(format!("{}/v1/orgs", app.address))
                    .header(AUTHORIZATION, format!("{scheme} {}", app.operator)),
            )
            .await;
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.text);
    }
}
