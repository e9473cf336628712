//! The OpenAPI document as the tests walk it: every operation it lists,
//! with sample ids in its path, whether it takes a bearer token, and the
//! fields of its JSON body. Tests that hold for every route iterate these,
//! so a route added later is covered without being named.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `post`, `put`, ...
    pub method: Method,
    /// The path as the document writes it: `/v1/orgs/{org}`.
    pub template: String,
    /// The operation object.
    pub spec: Value,
}

impl Operation {
    /// `POST /v1/orgs/{org}/users`, for messages.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The path with the ids of [`sample_world`].
    pub fn path(&self) -> String {
        self.template
            .replace("{org}", "acme")
            .replace("{user}", "staff")
            .replace("{employee}", "staff")
            .replace("{permission}", "web.messages")
            .replace("{group}", "front-desk")
            .replace("{role}", "web.front_desk")
            .replace("{seq}", "1")
    }

    /// Whether the document says it takes a bearer token.
    pub fn takes_bearer(&self) -> bool {
        self.spec["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
    }

    /// Whether it has a JSON request body.
    pub fn has_json_body(&self) -> bool {
        self.spec["requestBody"]["content"]["application/json"].is_object()
    }

    /// The names of the body's top-level fields that the document marks as
    /// secrets (`format: password`).
    pub fn secret_fields(&self, document: &Value) -> Vec<String> {
        let schema = resolve(
            document,
            &self.spec["requestBody"]["content"]["application/json"]["schema"],
        );
        schema["properties"]
            .as_object()
            .map(|properties| {
                properties
                    .iter()
                    .filter(|(_, p)| resolve(document, p)["format"] == "password")
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document.pointer(pointer).unwrap_or(&Value::Null)
        }
        None => schema,
    }
}

/// The served document and every operation it lists.
pub async fn operations(app: &TestApp) -> (Value, Vec<Operation>) {
    let document = app
        .get(&app.operator, "/v1/openapi.json")
        .await
        .expect(200)
        .body;
    let mut operations = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            operations.push(Operation {
                method,
                template: template.clone(),
                spec: spec.clone(),
            });
        }
    }
    assert!(
        operations.len() > 40,
        "the document lists {}",
        operations.len()
    );
    (document, operations)
}

/// A console session: its cookie and its CSRF token.
pub struct Session {
    /// `rolecall_session=...`, for the `Cookie` header.
    pub cookie: String,
    /// For `X-CSRF-Token`.
    pub csrf: String,
}

/// The world the paths of [`Operation::path`] name: organization `acme`
/// (with Billing), its user `staff` (an office-staff member, active), an
/// employee `emp` without a user, the group `front-desk`, the custom role
/// `web.front_desk`, and `sam`, invited, signed in with the temporary
/// password (the session must choose a password next).
pub async fn sample_world(app: &TestApp) -> Session {
    app.create_org("acme", &["web.billing"]).await;
    app.active_user("acme", "staff", json!({ "roles": ["web.office_staff"] }))
        .await;
    app.create_employee("acme", "emp").await;
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/groups",
        &json!({ "id": "front-desk", "name": "Front desk", "created_by": "staff" }),
    )
    .await
    .expect(201);
    app.post_json(
        &app.operator,
        "/v1/orgs/acme/roles",
        &json!({ "id": "web.front_desk", "name": "Front desk", "copy_of": "web.office_staff" }),
    )
    .await
    .expect(201);
    app.create_user("acme", "sam", json!({})).await;
    sign_in_with_temporary_password(app, "sam@acme.test").await
}

/// Signs in with the temporary password the outbox holds for `email`.
pub async fn sign_in_with_temporary_password(app: &TestApp, email: &str) -> Session {
    let mail = app
        .service
        .store()
        .due_emails(i64::MAX, 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|m| m.recipient == email)
        .unwrap_or_else(|| panic!("no email to {email} in the outbox"));
    // The password is the indented line after "temporary password:".
    let password = mail
        .body_text
        .split_once("temporary password:")
        .and_then(|(_, rest)| rest.lines().map(str::trim).find(|l| !l.is_empty()))
        .expect("a temporary password in the invitation")
        .to_owned();
    let reply = app
        .send(
            Method::POST,
            "/v1/sign-in",
            None,
            &[],
            Some(&json!({ "email": email, "password": password })),
        )
        .await;
    // The answer sets the session cookie: only the status is shown.
    assert_eq!(reply.status, 200, "signing in as {email}");
    let cookie = reply
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()
                .filter(|c| c.starts_with("rolecall_session="))
        })
        .expect("a session cookie")
        .to_owned();
    let csrf = reply.body["csrf_token"].as_str().unwrap().to_owned();
    Session { cookie, csrf }
}
