//! Groups, custom roles and the audit log over HTTP: a real router on a
//! loopback port, a fresh SQLite file per test, and a world built through
//! the API with an operator token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use rolecall_model::Catalog;
use rolecall_server::{http, tokens, Service};
use rolecall_store::Store;
use serde_json::{json, Value};

// One binary, one module per resource, beside this file.
#[path = "admin_resources/audit.rs"]
mod audit;
#[path = "admin_resources/groups.rs"]
mod groups;
#[path = "admin_resources/roles.rs"]
mod roles;

/// A running server and a client for it.
struct TestApp {
    base: String,
    client: reqwest::Client,
    operator: String,
    operator_id: String,
    _dir: tempfile::TempDir,
}

/// The clinic every test starts from: `acme` (with `web.clinical` and
/// `web.billing`) and `other`, each with active users and their tokens.
struct Clinic {
    app: TestApp,
    /// acme's system admin.
    ada: String,
    /// acme's user manager (`emr.edit_users`) and biller, not a system admin.
    max: String,
    /// acme's office staff: standard Tasking access, no admin rights.
    sam: String,
    /// acme's auditor: `rolecall.view_audit`, no Tasking access.
    aud: String,
    /// other's system admin.
    olga: String,
}

impl TestApp {
    async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rolecall.db");
        let store = Store::open_with_key(
            path.to_str().unwrap(),
            rolecall_store::AuditKey::from_bytes([7; 32]),
        )
        .await
        .unwrap();
        TestApp::spawn_on(store, dir).await
    }

    /// A server on a fresh PostgreSQL database, when
    /// `ROLECALL_TEST_POSTGRES_URL` names a server.
    async fn spawn_postgres(name: &str) -> Option<TestApp> {
        let url = std::env::var("ROLECALL_TEST_POSTGRES_URL").ok()?;
        let admin = Store::open(&url).await.unwrap();
        let name = format!("rolecall_{name}_{}", std::process::id());
        admin
            .execute_raw(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_raw(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let store = Store::open_with_key(
            &format!("{base}/{name}"),
            rolecall_store::AuditKey::from_bytes([7; 32]),
        )
        .await
        .unwrap();
        Some(TestApp::spawn_on(store, tempfile::tempdir().unwrap()).await)
    }

    async fn spawn_on(store: Store, dir: tempfile::TempDir) -> TestApp {
        let service = Service::open(store, Arc::new(Catalog::default_catalog()))
            .await
            .unwrap();
        let operator = tokens::init_operator(&service, "test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = http::router(service);
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestApp {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            operator: operator.token,
            operator_id: operator.id,
            _dir: dir,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            // Access updates need `If-Match`; these tests do not race.
            .header("If-Match", "*");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, token, path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    async fn put(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, token, path, Some(body))
            .await
    }

    /// Asserts a write succeeded, showing the problem when it did not.
    fn ok(&self, (status, body): (u16, Value)) -> Value {
        assert!(status < 300, "expected success, got {status}: {body}");
        body
    }

    async fn org(&self, id: &str, subscriptions: Value) {
        let op = self.operator.clone();
        let response = self
            .post(
                &op,
                "/v1/orgs",
                json!({ "id": id, "name": id, "subscriptions": subscriptions }),
            )
            .await;
        self.ok(response);
    }

    /// Creates an employee and their user with `access` in `org`, activates
    /// the user, and returns a token acting as them there.
    async fn user(&self, org: &str, id: &str, access: Value) -> String {
        let op = self.operator.clone();
        let employee = format!("emp-{id}");
        let response = self
            .post(
                &op,
                &format!("/v1/orgs/{org}/employees"),
                json!({ "id": employee, "first_name": id, "last_name": "Test",
                        "email": format!("{id}@example.org") }),
            )
            .await;
        self.ok(response);
        let mut body = json!({ "id": id, "employee_id": employee });
        for (key, value) in access.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = self.post(&op, &format!("/v1/orgs/{org}/users"), body).await;
        self.ok(response);
        let response = self
            .put(
                &op,
                &format!("/v1/orgs/{org}/users/{id}/status"),
                json!({ "status": "active" }),
            )
            .await;
        self.ok(response);
        let response = self
            .post(
                &op,
                "/v1/tokens",
                json!({ "org": org, "user": id, "name": "test" }),
            )
            .await;
        let created = self.ok(response);
        created["token"].as_str().unwrap().to_owned()
    }

    async fn allowed(&self, user: &str, permission: &str) -> bool {
        let (status, body) = self
            .post(
                &self.operator,
                "/v1/check",
                json!({ "org": "acme", "user": user, "permission": permission }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["allowed"].as_bool().unwrap()
    }
}

impl Clinic {
    async fn new() -> Clinic {
        Clinic::on(TestApp::spawn().await).await
    }

    async fn on(app: TestApp) -> Clinic {
        app.org("acme", json!(["web.clinical", "web.billing"]))
            .await;
        app.org("other", json!([])).await;
        let ada = app
            .user("acme", "ada", json!({ "roles": ["web.system_admin"] }))
            .await;
        let max = app
            .user(
                "acme",
                "max",
                json!({ "roles": ["web.biller"], "grants": ["emr.edit_users"] }),
            )
            .await;
        let sam = app
            .user("acme", "sam", json!({ "roles": ["web.office_staff"] }))
            .await;
        let aud = app
            .user("acme", "aud", json!({ "roles": ["rolecall.auditor"] }))
            .await;
        app.user("acme", "cal", json!({ "roles": ["web.office_staff"] }))
            .await;
        let olga = app
            .user("other", "olga", json!({ "roles": ["web.system_admin"] }))
            .await;
        Clinic {
            app,
            ada,
            max,
            sam,
            aud,
            olga,
        }
    }
}

fn first_field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or_default()
}
