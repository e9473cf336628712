//! No route escapes the rules: every route of the router's own table
//! (`rolecall_server::http::route_table`, from which the router is built)
//! is called (a) with another organization's ids, (b) by a user who lacks
//! its permission, (c) without credentials, and (d), when it acts on a
//! person, on someone who holds more than the actor. A route on what a
//! person owns (their API token) answers (a), (b) and (d) with 404. A route added to the
//! router is in the table with a guard; one without an example body here
//! fails this test.

use reqwest::Method;
use rolecall_server::http::{route_table, Guard, Route};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, token_id, Backend, TestApp};

on_every_backend!(every_route_refuses_strangers_outsiders_and_the_less_privileged);

/// The ids a request is about: the path's parameters, and the same names
/// in the body.
struct Ids {
    org: &'static str,
    user: &'static str,
    employee: &'static str,
    group: &'static str,
    role: &'static str,
    /// The public id of an API token acting as `user`.
    token: String,
}

/// Another company's ids, seen from acme.
fn beta_ids(token: String) -> Ids {
    Ids {
        org: "beta",
        user: "bob",
        employee: "bob",
        group: "beta-desk",
        role: "web.beta_role",
        token,
    }
}

/// beta's people, group, role and token named in a request about acme.
fn theirs_in_ours(token: String) -> Ids {
    Ids {
        org: "acme",
        ..beta_ids(token)
    }
}

/// Ids that name nothing at all, in a request about acme.
fn nobody() -> Ids {
    Ids {
        org: "acme",
        user: "ghost",
        employee: "ghost",
        group: "ghost-desk",
        role: "web.ghost_role",
        token: "tok-ghost0000000".to_owned(),
    }
}

impl Ids {
    /// Whether `route` names one of these ids (beyond the organization).
    fn named_by(route: &Route, policy: &Value) -> bool {
        let text = format!(
            "{} {}",
            route.path,
            example(route, policy).map_or_else(String::new, |b| b.to_string())
        );
        ["{user}", "{employee}", "{group}", "{role}", "{token}"]
            .iter()
            .any(|id| text.contains(id))
    }

    /// `text` with `self`'s ids written as `other`'s.
    fn renamed(&self, text: &str, other: &Ids) -> String {
        text.replace(&self.token, &other.token)
            .replace(self.group, other.group)
            .replace(self.role, other.role)
            .replace(self.user, other.user)
            .replace(self.employee, other.employee)
    }
}

/// Ids in acme about `staff`, who holds no more than `mgr`.
fn staff_ids(token: String) -> Ids {
    Ids {
        org: "acme",
        user: "staff",
        employee: "staff",
        group: "acme-desk",
        role: "web.acme_role",
        token,
    }
}

/// Ids in acme about `boss`, the System Admin, who holds more than `mgr`.
fn boss_ids(token: String) -> Ids {
    Ids {
        org: "acme",
        user: "boss",
        employee: "boss",
        group: "acme-desk",
        role: "web.acme_role",
        token,
    }
}

impl Ids {
    fn fill(&self, text: &str) -> String {
        text.replace("{org}", self.org)
            .replace("{user}", self.user)
            .replace("{employee}", self.employee)
            .replace("{group}", self.group)
            .replace("{role}", self.role)
            .replace("{token}", &self.token)
            .replace("{permission}", "web.messages")
            .replace("{seq}", "1")
    }
}

/// A body that passes parsing, so the request reaches its rule. Every
/// route that takes a body needs one.
fn example(route: &Route, policy: &Value) -> Option<Value> {
    let user = json!({ "org": "{org}", "user": "{user}", "permission": "web.messages" });
    let body = match (route.method.as_str(), route.path) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/check") => {
            json!({ "org": "{org}", "user": "{user}", "permission": "web.messages", "explain": true })
        }
        ("POST", "/check/batch") => json!({ "checks": [user] }),
        ("POST", "/orgs") => json!({ "id": "newco", "name": "New Co" }),
        ("PUT", "/orgs/{org}/subscriptions") => json!({ "subscriptions": [] }),
        ("PUT", "/orgs/{org}/manages") => json!({ "orgs": [] }),
        ("POST", "/orgs/{org}/employees") => {
            json!({ "first_name": "New", "last_name": "Hire", "email": "new.hire@acme.test" })
        }
        ("POST", "/orgs/{org}/users") => json!({ "employee_id": "{employee}" }),
        ("PUT", "/orgs/{org}/employees/{employee}") => json!({ "first_name": "Renamed" }),
        ("POST", "/orgs/{org}/users/bulk-access") => {
            json!({ "updates": [{ "user": "{user}", "roles": [] }] })
        }
        ("PUT", "/orgs/{org}/users/{user}/access") => json!({ "roles": [] }),
        ("PUT", "/orgs/{org}/users/{user}/status") => json!({ "status": "disabled" }),
        ("POST", "/orgs/{org}/groups") => json!({ "name": "Night shift" }),
        ("PUT", "/orgs/{org}/groups/{group}") => json!({ "name": "Renamed" }),
        ("POST", "/orgs/{org}/roles") => {
            json!({ "id": "copied", "name": "Copied", "copy_of": "web.office_staff" })
        }
        ("PUT", "/orgs/{org}/roles/{role}") => json!({ "name": "Renamed" }),
        ("PUT", "/orgs/{org}/security-policy") => policy.clone(),
        (
            "POST",
            "/orgs/{org}/users/{user}/invitation" | "/orgs/{org}/users/{user}/password-reset",
        ) => {
            json!({})
        }
        ("POST", "/orgs/{org}/emergency-access") => {
            json!({ "reason": "the only doctor on call is locked out", "minutes": 10 })
        }
        ("POST", "/orgs/{org}/emergency-access/{seq}/review") => json!({ "note": "seen" }),
        ("POST", "/tokens") => json!({ "org": "{org}", "user": "{user}", "name": "probe" }),
        ("POST", "/sign-in" | "/sign-in/mfa" | "/sign-out" | "/session/reauthenticate")
        | ("POST", "/account/password" | "/account/mfa" | "/account/mfa/confirm")
        | ("POST", "/password-reset" | "/password-reset/complete") => json!({}),
        (method, path) => panic!(
            "{method} /v1{path} has no example body in route_table.rs: add one, so the test \
             can prove its guard"
        ),
    };
    Some(body)
}

/// acme (boss: System Admin; mgr: user manager holding Office Staff;
/// staff: Office Staff; plain: no access at all) and beta (bob: System Admin), each with
/// a group and a custom role.
async fn world(app: &TestApp) {
    for org in ["acme", "beta"] {
        app.create_org(org, &["web.billing"]).await;
    }
    app.active_user("acme", "boss", json!({ "roles": ["web.system_admin"] }))
        .await;
    app.active_user(
        "acme",
        "mgr",
        json!({ "roles": ["web.office_staff"], "grants": ["emr.edit_users"] }),
    )
    .await;
    app.active_user("acme", "staff", json!({ "roles": ["web.office_staff"] }))
        .await;
    app.active_user("acme", "plain", json!({ "roles": [] }))
        .await;
    app.active_user("beta", "bob", json!({ "roles": ["web.system_admin"] }))
        .await;
    for (org, creator) in [("acme", "boss"), ("beta", "bob")] {
        let token = app.user_token(org, creator).await;
        app.post_json(
            &token,
            &format!("/v1/orgs/{org}/groups"),
            &json!({ "id": format!("{org}-desk"), "name": "Front desk" }),
        )
        .await
        .expect(201);
        app.post_json(
            &app.operator,
            &format!("/v1/orgs/{org}/roles"),
            &json!({ "id": format!("web.{org}_role"), "name": "Custom", "copy_of": "web.office_staff" }),
        )
        .await
        .expect(201);
    }
}

/// Calls `route` about `ids` as `token` (none: without credentials).
async fn call(app: &TestApp, route: &Route, ids: &Ids, token: Option<&str>, policy: &Value) -> u16 {
    answer(app, route, ids, token, policy).await.0
}

/// The status and the body of calling `route` about `ids` as `token`.
async fn answer(
    app: &TestApp,
    route: &Route,
    ids: &Ids,
    token: Option<&str>,
    policy: &Value,
) -> (u16, String) {
    let path = format!("/v1{}", ids.fill(route.path));
    let body = example(route, policy)
        .map(|b| serde_json::from_str::<Value>(&ids.fill(&b.to_string())).unwrap());
    let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
    let reply = app
        .send(method, &path, token, &[("if-match", "*")], body.as_ref())
        .await;
    (reply.status, reply.text)
}

async fn every_route_refuses_strangers_outsiders_and_the_less_privileged(backend: Backend) {
    // Arrange
    let app = spawn_app(&backend).await;
    world(&app).await;
    let boss = app.user_token("acme", "boss").await;
    let mgr = app.user_token("acme", "mgr").await;
    let plain = app.user_token("acme", "plain").await;
    let theirs = beta_ids(token_id(&app.user_token("beta", "bob").await));
    let ours = staff_ids(token_id(&app.user_token("acme", "staff").await));
    let higher = boss_ids(token_id(&boss));
    let policy = app
        .get(&app.operator, "/v1/orgs/acme/security-policy")
        .await
        .expect(200)
        .body;
    let routes = route_table();
    assert!(routes.len() > 40, "the table lists the API's routes");
    let store = app.service.store();
    let unchanged = async || {
        (
            store.head().await.unwrap(),
            store.unsent_emails().await.unwrap().len(),
        )
    };
    let before = unchanged().await;
    let mut wrong = Vec::new();

    for route in &routes {
        let name = format!("{} /v1{}", route.method, route.path);
        let in_org = route.path.contains("{org}")
            || example(route, &policy).is_some_and(|b| b.to_string().contains("{org}"));

        // (c) Without credentials: 401, unless the route is public.
        if route.guard != Guard::Public {
            let status = call(&app, route, &ours, None, &policy).await;
            if status != 401 {
                wrong.push(format!("{name} without credentials answered {status}"));
            }
        }
        // (a) acme's System Admin about beta: as if it did not exist.
        let owned = matches!(route.guard, Guard::Owner(_));
        if (in_org || owned) && !matches!(route.guard, Guard::Public | Guard::Operator) {
            let status = call(&app, route, &theirs, Some(&boss), &policy).await;
            if status != 404 {
                wrong.push(format!("{name} about beta answered {status}"));
            }
        }
        // (a) And beta's people, group, role or token named in a request about
        // acme: the same status and the same words as ids that name
        // nothing at all.
        if Ids::named_by(route, &policy) && route.guard != Guard::Public {
            let mixed = theirs_in_ours(theirs.token.clone());
            let ghost = nobody();
            let named = answer(&app, route, &mixed, Some(&boss), &policy).await;
            let nobody = answer(&app, route, &ghost, Some(&boss), &policy).await;
            let named = (named.0, mixed.renamed(&named.1, &ghost));
            if named != nobody {
                wrong.push(format!(
                    "{name} about beta's ids answered {named:?}, about nobody {nobody:?}"
                ));
            }
        }
        // (b) A member of staff with no administrative permission.
        if matches!(
            route.guard,
            Guard::Operator | Guard::Permission(_) | Guard::Person(_)
        ) {
            let status = call(&app, route, &ours, Some(&plain), &policy).await;
            if status != 403 {
                wrong.push(format!("{name} by a member of staff answered {status}"));
            }
        }
        // (b) and (d) on what a person owns: not found, as if it did not exist.
        if owned {
            let status = call(&app, route, &ours, Some(&plain), &policy).await;
            if status != 404 {
                wrong.push(format!("{name} by a member of staff answered {status}"));
            }
            let status = call(&app, route, &higher, Some(&mgr), &policy).await;
            if status != 404 {
                wrong.push(format!(
                    "{name} by a user manager on the System Admin answered {status}"
                ));
            }
        }
        // (d) A user manager on the System Admin, who holds more.
        if let Guard::Person(_) = route.guard {
            let status = call(&app, route, &higher, Some(&mgr), &policy).await;
            if status != 403 {
                wrong.push(format!(
                    "{name} by a user manager on the System Admin answered {status}"
                ));
            }
        }
    }

    // Assert: every refusal was right, and none changed anything.
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        unchanged().await,
        before,
        "a refused request changed something"
    );
    // The guards are not all refusals: the user manager may act on staff.
    let allowed = Route {
        method: Method::PUT.as_str().parse().unwrap(),
        path: "/orgs/{org}/users/{user}/status",
        guard: Guard::Person(rolecall_server::rules::PersonAction::Status),
    };
    assert_eq!(call(&app, &allowed, &ours, Some(&mgr), &policy).await, 200);
}
