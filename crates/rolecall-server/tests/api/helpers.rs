//! The harness: a fresh database per test, the real router on a loopback
//! port, the replica follower beside it, and an operator token. `TestApp`
//! speaks HTTP through typed helpers, so the tests read as the API's
//! clients would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::IF_MATCH;
use reqwest::Method;
use rolecall_model::Catalog;
use rolecall_server::Service;
use rolecall_store::{AuditKey, AuditQuery, AuditRecord, Store};
use serde_json::{json, Value};
use tokio::sync::watch;

pub use crate::backend::Backend;
pub use crate::reply::Reply;

/// How often the followers of test apps poll the change log.
pub const TEST_POLL: Duration = Duration::from_millis(100);

/// A running service on a loopback port, with its operator token.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The client every helper uses.
    pub client: reqwest::Client,
    /// An operator token.
    pub operator: String,
    /// The service behind the router, for the database and the revision.
    pub service: Arc<Service>,
    /// The database URL, for replicas.
    pub database_url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<Arc<tempfile::TempDir>>,
    /// Dropping it stops the server and the follower.
    _shutdown: watch::Sender<()>,
}

/// Opens a fresh database on `backend` and serves the API on it.
pub async fn spawn_app(backend: &Backend) -> TestApp {
    let (database_url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("rolecall.db").to_str().unwrap().to_owned();
            (url, Some(Arc::new(dir)))
        }
        Backend::Postgres { admin_url, created } => {
            (Backend::create_database(admin_url, created).await, None)
        }
    };
    let service = open_service(&database_url).await;
    let operator = rolecall_server::tokens::init_operator(&service, "cli")
        .await
        .unwrap()
        .token;
    serve(service, database_url, dir, operator, Some(TEST_POLL)).await
}

/// Serves the API on a fresh SQLite file at `path` (a directory the caller
/// keeps alive, such as a small file system of the fault tests).
pub async fn spawn_app_at(path: &std::path::Path) -> TestApp {
    let database_url = path.to_str().unwrap().to_owned();
    let service = open_service(&database_url).await;
    let operator = rolecall_server::tokens::init_operator(&service, "cli")
        .await
        .unwrap()
        .token;
    serve(service, database_url, None, operator, None).await
}

async fn open_service(database_url: &str) -> Arc<Service> {
    // One fixed key: replicas open the same database.
    let store = Store::open_with_key(database_url, AuditKey::from_bytes([7; 32]))
        .await
        .unwrap();
    Service::open(store, Arc::new(Catalog::default_catalog()))
        .await
        .unwrap()
}

/// Serves `service` on a fresh loopback port, with its follower polling
/// every `poll` (no follower when `None`).
async fn serve(
    service: Arc<Service>,
    database_url: String,
    dir: Option<Arc<tempfile::TempDir>>,
    operator: String,
    poll: Option<Duration>,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stopped) = watch::channel(());
    let router = rolecall_server::http::router(Arc::clone(&service))
        .into_make_service_with_connect_info::<SocketAddr>();
    let mut server_stop = stopped.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await
            .unwrap();
    });
    if let Some(poll) = poll {
        let mut follower_stop = stopped;
        tokio::spawn(rolecall_server::follow::follow(
            Arc::clone(&service),
            poll,
            async move {
                let _ = follower_stop.changed().await;
            },
        ));
    }
    TestApp {
        address,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        operator,
        service,
        database_url,
        _dir: dir,
        _shutdown: shutdown,
    }
}

impl TestApp {
    /// Another replica: its own service, router and follower (polling
    /// every `poll`; none when `None`) over the same database.
    pub async fn replica(&self, poll: Option<Duration>) -> TestApp {
        let service = open_service(&self.database_url).await;
        serve(
            service,
            self.database_url.clone(),
            self._dir.clone(),
            self.operator.clone(),
            poll,
        )
        .await
    }

    /// Sends a request; `body` is sent as JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.reply(format!("{method} {path}"), request).await
    }

    /// Sends a prepared request and reads the answer.
    pub async fn reply(&self, what: String, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            request: what,
            status,
            headers,
            body,
            text,
        }
    }

    /// `GET path` with a token.
    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(token), &[], None).await
    }

    /// `POST path` with a JSON body and a token.
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(token), &[], Some(body))
            .await
    }

    /// `PUT path` with a JSON body and a token.
    pub async fn put_json(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(token), &[], Some(body))
            .await
    }

    /// `PUT path` with `If-Match`.
    pub async fn put_if_match(&self, token: &str, path: &str, etag: &str, body: &Value) -> Reply {
        self.send(
            Method::PUT,
            path,
            Some(token),
            &[(IF_MATCH.as_str(), etag)],
            Some(body),
        )
        .await
    }

    /// Creates an organization as the operator; returns the revision.
    pub async fn create_org(&self, id: &str, subscriptions: &[&str]) -> i64 {
        self.post_json(
            &self.operator,
            "/v1/orgs",
            &json!({ "id": id, "name": org_name(id), "subscriptions": subscriptions }),
        )
        .await
        .expect(201)
        .revision()
    }

    /// Adds an employee as the operator; the email is `<id>@<org>.test`.
    pub async fn create_employee(&self, org: &str, id: &str) -> i64 {
        self.post_json(
            &self.operator,
            &format!("/v1/orgs/{org}/employees"),
            &json!({
                "id": id,
                "first_name": id,
                "last_name": "Tester",
                "email": format!("{id}@{org}.test"),
            }),
        )
        .await
        .expect(201)
        .revision()
    }

    /// Creates, as the operator, an employee `id` and their user `id` with
    /// `access` (an object of access fields); returns the user's id.
    pub async fn create_user(&self, org: &str, id: &str, access: Value) -> String {
        self.create_employee(org, id).await;
        let mut body = json!({ "id": id, "employee_id": id });
        if let (Some(body), Value::Object(access)) = (body.as_object_mut(), access) {
            body.extend(access);
        }
        let reply = self
            .post_json(&self.operator, &format!("/v1/orgs/{org}/users"), &body)
            .await
            .expect(201);
        assert_eq!(reply.body["status"], "invited", "{}", reply.text);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Makes an invited user active, as the operator.
    pub async fn activate(&self, org: &str, user: &str) -> i64 {
        self.put_json(
            &self.operator,
            &format!("/v1/orgs/{org}/users/{user}/status"),
            &json!({ "status": "active" }),
        )
        .await
        .expect(200)
        .revision()
    }

    /// Creates and activates a user; returns its id.
    pub async fn active_user(&self, org: &str, id: &str, access: Value) -> String {
        let user = self.create_user(org, id, access).await;
        self.activate(org, &user).await;
        user
    }

    /// `acme` (Clinical and Billing) with a System Admin (`boss`), a user
    /// manager (`mgr`: Office Staff, and "Edit Users" on their profile) and
    /// a member of staff (`staff`: Office Staff).
    pub async fn clinic_with_a_user_manager(&self) {
        self.create_org("acme", &["web.clinical", "web.billing"])
            .await;
        self.active_user("acme", "boss", json!({ "roles": ["web.system_admin"] }))
            .await;
        self.active_user(
            "acme",
            "mgr",
            json!({ "roles": ["web.office_staff"], "grants": ["emr.edit_users"] }),
        )
        .await;
        self.active_user("acme", "staff", json!({ "roles": ["web.office_staff"] }))
            .await;
    }

    /// A token acting as `user` in `org`, issued by the operator.
    pub async fn user_token(&self, org: &str, user: &str) -> String {
        let reply = self
            .post_json(
                &self.operator,
                "/v1/tokens",
                &json!({ "org": org, "user": user, "name": "test token" }),
            )
            .await;
        // The body holds the secret: only the status is shown on failure.
        assert_eq!(reply.status, 201, "POST /v1/tokens for `{user}` in `{org}`");
        reply.body["token"].as_str().unwrap().to_owned()
    }

    /// `POST /v1/check`; returns the answer's body.
    pub async fn check(
        &self,
        token: &str,
        org: &str,
        user: &str,
        permission: &str,
        explain: bool,
    ) -> Value {
        self.post_json(
            token,
            "/v1/check",
            &json!({ "org": org, "user": user, "permission": permission, "explain": explain }),
        )
        .await
        .expect(200)
        .body
    }

    /// Reads a user as the operator; returns the view and its ETag.
    pub async fn get_user(&self, org: &str, user: &str) -> (Value, String) {
        let reply = self
            .get(&self.operator, &format!("/v1/orgs/{org}/users/{user}"))
            .await
            .expect(200);
        let etag = reply.etag();
        (reply.body, etag)
    }

    /// Changes a user's access as `token`, reading the ETag first.
    pub async fn update_access(&self, token: &str, org: &str, user: &str, access: &Value) -> Reply {
        let (_, etag) = self.get_user(org, user).await;
        self.put_if_match(
            token,
            &format!("/v1/orgs/{org}/users/{user}/access"),
            &etag,
            access,
        )
        .await
    }

    /// The database's last committed revision.
    pub async fn revision(&self) -> i64 {
        self.service.store().head().await.unwrap()
    }

    /// Every audit record, oldest first.
    pub async fn audit(&self) -> Vec<AuditRecord> {
        let mut records = self
            .service
            .store()
            .audit(&AuditQuery {
                limit: i64::MAX,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        records.reverse();
        records
    }

    /// Asserts the audit chain is intact and every record written through
    /// the API names its actor (`operator:<token id>` or `user:<id>`) and
    /// comes from loopback (with the token a user acted through); returns
    /// the count.
    pub async fn assert_audit_intact(&self) -> usize {
        let verified = self.service.store().verify_audit().await.unwrap();
        assert!(
            verified.problems.is_empty(),
            "the audit log is damaged: {:?}",
            verified.problems
        );
        let records = self.audit().await;
        assert_eq!(records.len() as i64, verified.records);
        for record in &records {
            if record.source == "cli" {
                // The harness's initial operator token, created in-process.
                assert_eq!(record.action, "token.create.operator");
                continue;
            }
            // An operator from loopback; a user from loopback through a token.
            let named = if record.actor.starts_with("operator:tok-") {
                record.source == "127.0.0.1"
            } else {
                record.actor.starts_with("user:")
                    && record.source.starts_with("127.0.0.1 token:tok-")
            };
            assert!(
                named,
                "audit record {} names actor `{}` from `{}`",
                record.seq, record.actor, record.source
            );
        }
        records.len()
    }
}

/// The public id of a bearer token `rc_<id>_<secret>`.
pub fn token_id(token: &str) -> String {
    let rest = token.strip_prefix("rc_").unwrap();
    rest.split('_').next().unwrap().to_owned()
}

/// The display name the harness gives organization `id`.
pub fn org_name(id: &str) -> String {
    format!("Org {id}")
}
