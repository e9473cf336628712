//! "bad input gets a clear 4xx error that names the field, and changes
//! nothing": every kind of bad request, in one table.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, IF_MATCH};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(bad_input_of_every_kind_is_a_problem_naming_the_field_and_changes_nothing);

/// How a case authenticates.
enum Auth {
    /// The operator's token.
    Operator,
    /// No `Authorization` header.
    Missing,
    /// This `Authorization` header, verbatim.
    Header(&'static str),
}

/// What a case sends.
enum Payload {
    /// Nothing.
    Empty,
    /// JSON, as `application/json`.
    Json(Value),
    /// These bytes with this `Content-Type` (none when `None`).
    Raw(Option<&'static str>, Vec<u8>),
}

/// One bad request and the problem it must get.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    auth: Auth,
    payload: Payload,
    /// The status, or `None` for "some 4xx".
    status: Option<u16>,
    /// The field the problem must name.
    field: Option<&'static str>,
}

fn case(what: &'static str, method: Method, path: &str, payload: Payload) -> Case {
    Case {
        what,
        method,
        path: path.to_owned(),
        auth: Auth::Operator,
        payload,
        status: Some(422),
        field: None,
    }
}

impl Case {
    fn names(mut self, field: &'static str) -> Case {
        self.field = Some(field);
        self
    }

    fn status(mut self, status: u16) -> Case {
        self.status = Some(status);
        self
    }

    fn auth(mut self, auth: Auth) -> Case {
        self.auth = auth;
        self
    }
}

fn post(what: &'static str, path: &str, body: Value) -> Case {
    case(what, Method::POST, path, Payload::Json(body))
}

fn put(what: &'static str, path: &str, body: Value) -> Case {
    case(what, Method::PUT, path, Payload::Json(body))
}

fn get(what: &'static str, path: &str) -> Case {
    case(what, Method::GET, path, Payload::Empty)
}

fn new_user(access: Value) -> Value {
    let mut body = json!({ "employee_id": "emp" });
    if let (Some(body), Value::Object(access)) = (body.as_object_mut(), access) {
        body.extend(access);
    }
    body
}

/// The table: one bad request a line. Kept on one line each, so the table
/// reads as one.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let orgs = "/v1/orgs";
    let users = "/v1/orgs/acme/users";
    let employees = "/v1/orgs/acme/employees";
    let access = "/v1/orgs/acme/users/staff/access";
    let status = "/v1/orgs/acme/users/staff/status";
    let bulk = "/v1/orgs/acme/users/bulk-access";
    let check = |permission: &str| json!({ "org": "acme", "user": "staff", "permission": permission });
    let employee = |email: &str| json!({ "first_name": "A", "last_name": "B", "email": email });
    let raw = |content_type, bytes: &[u8]| Payload::Raw(content_type, bytes.to_vec());
    vec![
        // The body itself.
        case("malformed JSON", Method::POST, orgs, raw(Some("application/json"), b"{\"name\": ")),
        case("text/plain body", Method::POST, orgs, raw(Some("text/plain"), b"{\"name\": \"x\"}")).status(415),
        case("no Content-Type", Method::POST, orgs, raw(None, b"{\"name\": \"x\"}")).status(415),
        case("JSON that is not an object", Method::POST, orgs, Payload::Json(json!([1, 2]))),
        case("a body over 4 MiB", Method::POST, orgs, Payload::Json(json!({ "name": "x".repeat(4 << 20) }))).status(413),
        // Fields of the body.
        post("unknown field", orgs, json!({ "name": "x", "colour": "red" })).names("colour"),
        post("missing field", orgs, json!({})).names("name"),
        post("wrong type", orgs, json!({ "name": 5 })).names("name"),
        post("empty name", orgs, json!({ "name": "   " })).names("name"),
        post("too-long name", orgs, json!({ "name": "x".repeat(201) })).names("name"),
        post("control character in a name", orgs, json!({ "name": "a\u{7}b" })).names("name"),
        post("bad id spelling", orgs, json!({ "id": "Bad Id!", "name": "x" })).names("id"),
        post("unknown subscription", orgs, json!({ "name": "x", "subscriptions": ["web.nope"] })).names("subscriptions[0]"),
        post("subscription listed twice", orgs, json!({ "name": "x", "subscriptions": ["revserve", "revserve"] })).names("subscriptions[1]"),
        post("unknown parent", orgs, json!({ "name": "x", "parent": "ghost" })).names("parent"),
        put("unknown subscription on update", "/v1/orgs/acme/subscriptions", json!({ "subscriptions": ["gold"] })).names("subscriptions[0]"),
        put("partner link to an unknown org", "/v1/orgs/acme/manages", json!({ "orgs": ["ghost"] })).names("orgs[0]"),
        put("organization managing itself", "/v1/orgs/acme/manages", json!({ "orgs": ["acme"] })).names("orgs[0]"),
        post("bad email", employees, employee("not-an-email")).names("email"),
        post("email with a space", employees, employee("a b@acme.test")).names("email"),
        post("employee without a last name", employees, json!({ "first_name": "A", "email": "a@b.test" })).names("last_name"),
        post("bad user id spelling", users, json!({ "id": "NO WAY", "employee_id": "emp" })).names("id"),
        post("unknown role", users, new_user(json!({ "roles": ["web.wizard"] }))).names("roles[0]"),
        post("unknown grant", users, new_user(json!({ "grants": ["web.nope"] }))).names("grants[0]"),
        post("unknown denial", users, new_user(json!({ "denials": ["web.nope"] }))).names("denials[0]"),
        post("own on an unscoped permission", users, new_user(json!({ "grants": ["web.messages:own"] }))).names("grants[0]"),
        post("scheduler level not of the type", users, new_user(json!({ "scheduler_type": "office_staff", "scheduler_level": "edit_own" }))).names("scheduler_level"),
        post("unknown user type", users, new_user(json!({ "scheduler_type": "wizard" }))).names("scheduler_type"),
        post("unknown access type", users, new_user(json!({ "tasking_access": "gold" }))).names("tasking_access"),
        post("roles not a list", users, new_user(json!({ "roles": "web.biller" }))).names("roles"),
        put("unknown role on update", access, json!({ "roles": ["web.wizard"] })).names("roles[0]"),
        put("unknown field on update", access, json!({ "email": "x@y.test" })).names("email"),
        put("status invited again", status, json!({ "status": "invited" })).names("status"),
        put("unknown status", status, json!({ "status": "sleeping" })).names("status"),
        post("bulk update of nobody", bulk, json!({ "updates": [] })).names("updates"),
        post("bulk entry of the wrong type", bulk, json!({ "updates": [{ "user": "staff", "roles": 5 }] })).names("updates[0].roles"),
        post("token expiring in 0 days", "/v1/tokens", json!({ "org": "acme", "user": "staff", "name": "t", "expires_in_days": 0 })).names("expires_in_days"),
        post("token for a non-user", "/v1/tokens", json!({ "org": "acme", "user": "ghost", "name": "t" })).names("user"),
        // Checks.
        post("check of an unknown permission", "/v1/check", check("web.fly")).names("permission"),
        post("check without a user", "/v1/check", json!({ "org": "acme", "permission": "web.messages" })).names("user"),
        post("batch entry of an unknown permission", "/v1/check/batch", json!({ "checks": [check("web.messages"), check("web.fly")] })).names("checks[1].permission"),
        post("batch over 10,000 checks", "/v1/check/batch", json!({ "checks": vec![check("web.messages"); 10_001] })).names("checks"),
        // Query parameters.
        get("min_revision not a number", "/v1/orgs?min_revision=soon").names("min_revision"),
        get("unknown query parameter", "/v1/orgs?colour=red").names("colour"),
        get("min_revision no write has reached", "/v1/orgs/acme/users?min_revision=9000000000").names("min_revision"),
        post("check at a revision no write has reached", "/v1/check", json!({ "org": "acme", "user": "staff", "permission": "web.messages", "min_revision": 9_000_000_000_i64 })).names("min_revision"),
        // Credentials.
        get("no bearer token", orgs).auth(Auth::Missing).status(401),
        get("unknown bearer token", orgs).auth(Auth::Header("Bearer rc_tok-nope_0123")).status(401),
        get("empty bearer token", orgs).auth(Auth::Header("Bearer ")).status(401),
        get("another scheme", orgs).auth(Auth::Header("Basic YWRtaW46YWRtaW4=")).status(401),
        get("garbage authorization", orgs).auth(Auth::Header("garbage")).status(401),
        post("write without a token", orgs, json!({ "name": "x" })).auth(Auth::Missing).status(401),
        // Routes.
        get("unknown route", "/v1/nope").status(404),
        get("unknown route without a token", "/nope").auth(Auth::Missing).status(404),
        case("method the route does not serve", Method::DELETE, orgs, Payload::Empty).status(405),
    ]
}

/// Sends a case. Access updates carry a current If-Match, so only their
/// bad body can be what is refused.
async fn send(app: &TestApp, case: &Case, etag: &str) -> crate::helpers::Reply {
    let mut request = app
        .client
        .request(case.method.clone(), format!("{}{}", app.address, case.path));
    if case.path.ends_with("/access") {
        request = request.header(IF_MATCH, etag);
    }
    match case.auth {
        Auth::Operator => request = request.bearer_auth(&app.operator),
        Auth::Missing => {}
        Auth::Header(value) => request = request.header(AUTHORIZATION, value),
    }
    match &case.payload {
        Payload::Empty => {}
        Payload::Json(body) => request = request.json(body),
        Payload::Raw(content_type, bytes) => {
            if let Some(content_type) = content_type {
                request = request.header(CONTENT_TYPE, *content_type);
            }
            request = request.body(bytes.clone());
        }
    }
    app.reply(
        format!("{} ({} {})", case.what, case.method, case.path),
        request,
    )
    .await
}

async fn bad_input_of_every_kind_is_a_problem_naming_the_field_and_changes_nothing(
    backend: Backend,
) {
    // Arrange: an organization, an employee without a user, a user.
    let app = spawn_app(&backend).await;
    app.create_org("acme", &["web.billing"]).await;
    app.create_employee("acme", "emp").await;
    app.active_user("acme", "staff", json!({ "roles": ["web.office_staff"] }))
        .await;
    let revision = app.revision().await;
    let audited = app.assert_audit_intact().await;
    let (user, etag) = app.get_user("acme", "staff").await;

    let mut failures = Vec::new();
    for case in cases() {
        // Act
        let reply = send(&app, &case, &etag).await;

        // Assert: the status, problem+json with a stable type, the field.
        let status_ok = match case.status {
            Some(status) => reply.status == status,
            None => (400..500).contains(&reply.status),
        };
        let is_problem = reply.content_type().starts_with("application/problem+json")
            && reply.body["status"] == json!(reply.status)
            && reply.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://rolecall.dev/problems/"));
        let field_ok = case
            .field
            .is_none_or(|field| reply.fields().iter().any(|f| f == field));
        if !(status_ok && is_problem && field_ok) {
            let mut text = reply.text.clone();
            text.truncate(300);
            failures.push(format!(
                "{}: expected {:?} naming {:?}, got {} `{}` {}",
                reply.request,
                case.status,
                case.field,
                reply.status,
                reply.content_type(),
                text
            ));
        }
    }

    // Assert: nothing changed.
    assert!(
        failures.is_empty(),
        "{} bad requests were not answered as expected:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(app.revision().await, revision);
    assert_eq!(app.assert_audit_intact().await, audited);
    let (after, after_etag) = app.get_user("acme", "staff").await;
    assert_eq!(after, user);
    assert_eq!(after_etag, etag);
    let orgs = app.get(&app.operator, "/v1/orgs").await.expect(200).body;
    assert_eq!(orgs.as_array().unwrap().len(), 1);
}
