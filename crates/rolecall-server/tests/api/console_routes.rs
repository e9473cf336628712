//! No console route escapes the rules either: every route of the
//! console's own table (`rolecall_server::console::route_table`, from which
//! its router is built) is called without a session, by acme's System Admin
//! about another company, by a member of staff who lacks its permission and,
//! when it acts on a person, by a user manager on someone who holds more.
//! Every form carries a valid CSRF token, so what refuses it is the rule.

use reqwest::header::{COOKIE, LOCATION};
use reqwest::Method;
use rolecall_server::console::route_table;
use rolecall_server::http::{Guard, Route};
use rolecall_store::{AccountWrite, Batch, SessionRow, Stage};
use serde_json::json;

use crate::helpers::{spawn_app, Backend, TestApp};

on_every_backend!(every_console_route_refuses_strangers_outsiders_and_the_less_privileged);

/// What a request is about: the organization and the ids in the path.
struct Ids {
    org: &'static str,
    user: &'static str,
    group: &'static str,
}

/// beta, seen from acme.
const THEIRS: Ids = Ids {
    org: "beta",
    user: "bob",
    group: "beta-desk",
};

/// acme's `staff`, who holds no more than `mgr`.
const OURS: Ids = Ids {
    org: "acme",
    user: "staff",
    group: "acme-desk",
};

/// acme's System Admin, who holds more than `mgr`.
const BOSS: Ids = Ids {
    org: "acme",
    user: "boss",
    group: "acme-desk",
};

/// A signed-in console session of `user` in `org`: its cookie and CSRF
/// token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn session(app: &TestApp, org: &str, user: &str) -> Session {
    let secret = format!("console-secret-of-{user}");
    let csrf = format!("csrf-of-{user}");
    let now = rolecall_store::now_ms();
    let row = SessionRow {
        id: format!("ses-{user}"),
        secret_hash: rolecall_server::tokens::hash_secret(&secret),
        user: user.to_owned(),
        org: org.to_owned(),
        stage: Stage::Active,
        csrf: csrf.clone(),
        created_at: now,
        authenticated_at: now,
        last_seen_at: now,
        ended_at: None,
        end_reason: None,
    };
    let batch = Batch {
        puts: &[],
        audit: &[],
        emails: &[],
        accounts: &[AccountWrite::Session(row)],
    };
    app.service
        .store()
        .record("cli", "test", batch)
        .await
        .unwrap();
    Session {
        cookie: format!("rolecall_session={secret}"),
        csrf,
    }
}

/// The fields a form of `route` needs to reach its rule, beyond its CSRF
/// token and organization. Every form needs an entry.
fn fields(route: &Route) -> Vec<(&'static str, &'static str)> {
    match (route.method.as_str(), route.path) {
        ("GET", _) => vec![],
        ("POST", "/sign-out" | "/account/password") => vec![],
        ("POST", "/account/mfa" | "/account/mfa/confirm" | "/account/mfa/remove") => vec![],
        ("POST", "/sign-in/mfa") => vec![],
        ("POST", "/users/new") => vec![("employee", "{user}")],
        ("POST", "/users/{user}/roles") => vec![("etag", "*"), ("roles", "web.office_staff")],
        ("POST", "/users/{user}/reports" | "/users/{user}/scheduler" | "/users/{user}/tasking") => {
            vec![("etag", "*")]
        }
        ("POST", "/users/{user}/status") => vec![("status", "disabled")],
        ("POST", "/users/{user}/password-reset" | "/users/{user}/invitation") => vec![],
        ("POST", "/employees/{employee}") => vec![
            ("first_name", "Renamed"),
            ("last_name", "Person"),
            ("email", "renamed@acme.test"),
        ],
        ("POST", "/role-management") => vec![("user", "{user}"), ("roles", "web.office_staff")],
        ("POST", "/roles") => vec![
            ("id", "copied"),
            ("name", "Copied"),
            ("copy_of", "web.office_staff"),
        ],
        ("POST", "/roles/edit") => vec![("role", "web.office_staff"), ("name", "Renamed")],
        ("POST", "/organization/subscriptions") => vec![("subscriptions", "web.billing")],
        ("POST", "/organization/groups") => vec![("name", "Night shift")],
        ("POST", "/organization/groups/{group}") => vec![("name", "Renamed")],
        (method, path) => panic!(
            "{method} {path} has no example form in console_routes.rs: add one, so the test \
             can prove its guard"
        ),
    }
}

/// Calls `route` about `ids` as `session` (none: without one); answers the
/// status and where it sends the browser.
async fn call(app: &TestApp, route: &Route, ids: &Ids, session: Option<&Session>) -> (u16, String) {
    let fill = |text: &str| {
        text.replace("{user}", ids.user)
            .replace("{employee}", ids.user)
            .replace("{group}", ids.group)
    };
    let url = format!("{}{}?org={}", app.address, fill(route.path), ids.org);
    let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.request(method.clone(), url);
    if let Some(session) = session {
        request = request.header(COOKIE, &session.cookie);
    }
    if method == Method::POST {
        let mut form = vec![
            (
                "csrf".to_owned(),
                session.map_or(String::new(), |s| s.csrf.clone()),
            ),
            ("org".to_owned(), ids.org.to_owned()),
        ];
        form.extend(
            fields(route)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), fill(v))),
        );
        request = request.form(&form);
    }
    let response = request.send().await.unwrap();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (response.status().as_u16(), location)
}

async fn every_console_route_refuses_strangers_outsiders_and_the_less_privileged(backend: Backend) {
    // Arrange: acme (boss, System Admin; mgr, a user manager holding Office
    // Staff; staff; plain, no access) and beta (bob), each with a group.
    let app = spawn_app(&backend).await;
    app.clinic_with_a_user_manager().await;
    app.create_org("beta", &["web.billing"]).await;
    app.active_user("acme", "plain", json!({ "roles": [] }))
        .await;
    app.active_user("beta", "bob", json!({ "roles": ["web.system_admin"] }))
        .await;
    for (org, creator) in [("acme", "boss"), ("beta", "bob")] {
        app.post_json(
            &app.operator,
            &format!("/v1/orgs/{org}/groups"),
            &json!({ "id": format!("{org}-desk"), "name": "Front desk", "created_by": creator }),
        )
        .await
        .expect(201);
    }
    let boss = session(&app, "acme", "boss").await;
    let mgr = session(&app, "acme", "mgr").await;
    let plain = session(&app, "acme", "plain").await;
    let store = app.service.store();
    let unchanged = async || {
        (
            store.head().await.unwrap(),
            store.unsent_emails().await.unwrap().len(),
        )
    };
    let before = unchanged().await;
    let routes = route_table();
    assert!(routes.len() > 30, "the table lists the console's routes");
    let mut wrong = Vec::new();

    // Act
    for route in &routes {
        let name = format!("{} {}", route.method, route.path);
        // Without a session: sent to sign in, unless the page is public.
        if route.guard != Guard::Public {
            let (status, to) = call(&app, route, &OURS, None).await;
            if status != 303 || to != "/sign-in" {
                wrong.push(format!(
                    "{name} without a session answered {status} to `{to}`"
                ));
            }
        }
        // acme's System Admin about beta: as if it did not exist.
        if !matches!(route.guard, Guard::Public | Guard::Credentials) {
            let (status, _) = call(&app, route, &THEIRS, Some(&boss)).await;
            if status != 404 {
                wrong.push(format!("{name} about beta answered {status}"));
            }
        }
        // A member of staff without the permission.
        if matches!(route.guard, Guard::Permission(_) | Guard::Person(_)) {
            let (status, _) = call(&app, route, &OURS, Some(&plain)).await;
            if status != 403 {
                wrong.push(format!("{name} by a member of staff answered {status}"));
            }
        }
        // A user manager on the System Admin, who holds more.
        if let Guard::Person(_) = route.guard {
            let (status, _) = call(&app, route, &BOSS, Some(&mgr)).await;
            if status != 403 {
                wrong.push(format!(
                    "{name} by a user manager on the System Admin answered {status}"
                ));
            }
        }
    }

    // Assert
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        unchanged().await,
        before,
        "a refused request changed something"
    );
    // Not everything is refused: the user manager may disable staff.
    let status = Route {
        method: Method::POST.as_str().parse().unwrap(),
        path: "/users/{user}/status",
        guard: Guard::Person(rolecall_server::rules::PersonAction::Status),
    };
    let (code, to) = call(&app, &status, &OURS, Some(&mgr)).await;
    assert_eq!((code, to.starts_with("/users/staff")), (303, true), "{to}");
}
