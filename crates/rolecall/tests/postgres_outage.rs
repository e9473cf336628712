//! PostgreSQL stopped and started again under two `rolecall serve`
//! replicas. While it is down, every write is refused, promptly and
//! clearly (503 with Retry-After and a problem+json body, within 2.5 s),
//! checks keep answering from memory and `/readyz` says 503 at once; once
//! it is back, both replicas accept writes again and converge, the
//! follower within about a second.
//!
//! The test starts a PostgreSQL cluster of its own with
//! scripts/postgres.sh (in a temporary directory, on a free port), never
//! the shared one other tests use. Without the PostgreSQL server binaries
//! it is skipped, except under CI, where that fails. It prints its
//! measured figures in one line, passed or failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::cluster::Cluster;
use server::{audit_verify, init, Server};

/// How long a refused write may take while the database is down.
const REFUSAL_WITHIN: Duration = Duration::from_millis(2500);
/// How long a check answered from memory may take.
const CHECK_WITHIN: Duration = Duration::from_secs(1);
/// How long after a write through one replica the other may take to have it.
const CATCH_UP_WITHIN: Duration = Duration::from_millis(1500);

/// An answer and how long it took.
struct Timed {
    status: StatusCode,
    retry_after: Option<String>,
    content_type: Option<String>,
    body: Value,
    text: String,
    took: Duration,
}

impl Timed {
    fn describe(&self) -> String {
        format!(
            "{} in {:.2} s",
            self.status.as_u16(),
            self.took.as_secs_f64()
        )
    }
}

/// The API as the test uses it, against one replica.
struct Api<'a> {
    http: &'a reqwest::Client,
    token: &'a str,
    url: &'a str,
}

impl Api<'_> {
    async fn send(&self, request: reqwest::RequestBuilder) -> Timed {
        let started = Instant::now();
        let response = request.bearer_auth(self.token).send().await.unwrap();
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let (retry_after, content_type) = (header(RETRY_AFTER), header(CONTENT_TYPE));
        let text = response.text().await.unwrap();
        Timed {
            status,
            retry_after,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            took: started.elapsed(),
        }
    }

    async fn get(&self, path: &str) -> Timed {
        self.send(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    async fn post(&self, path: &str, body: &Value) -> Timed {
        self.send(self.http.post(format!("{}{path}", self.url)).json(body))
            .await
    }

    async fn put(&self, path: &str, body: &Value) -> Timed {
        self.send(self.http.put(format!("{}{path}", self.url)).json(body))
            .await
    }

    /// Creates organization `id`; the answer, for the caller to judge.
    async fn create_org(&self, id: &str) -> Timed {
        self.post(
            "/v1/orgs",
            &json!({ "id": id, "name": format!("Clinic {id}"), "subscriptions": ["web.billing"] }),
        )
        .await
    }

    /// Creates organization `id`, which must be acknowledged; its revision.
    async fn created_org(&self, id: &str) -> i64 {
        let answer = self.create_org(id).await;
        assert_eq!(answer.status, 201, "POST /v1/orgs `{id}`: {}", answer.text);
        answer.body["revision"].as_i64().unwrap()
    }

    /// Whether `pat` may `permission` in `acme`, asked at `min_revision`.
    async fn check(&self, permission: &str, min_revision: Option<i64>) -> Timed {
        self.post(
            "/v1/check",
            &json!({
                "org": "acme",
                "user": "pat",
                "permission": permission,
                "min_revision": min_revision,
            }),
        )
        .await
    }
}

/// What pat (a Biller in acme, which subscribes to Billing) may do, and
/// what not: the answers the checks must keep giving.
const EXPECTED: [(&str, bool); 2] = [
    ("web.manage_charge_entries", true),
    ("web.manage_security_policies", false),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_two_replicas() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    outage(&cluster, work.path()).await;
}

async fn outage(cluster: &Cluster, work: &Path) {
    // Arrange: two replicas, a Biller, writes and checks flowing.
    let token = init(&cluster.url);
    let first = Server::start(&cluster.url, work);
    let second = Server::start(&cluster.url, work);
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let a = Api {
        http: &http,
        token: &token,
        url: &first.url,
    };
    let b = Api {
        http: &http,
        token: &token,
        url: &second.url,
    };
    a.created_org("acme").await;
    let employee = json!({
        "id": "pat", "first_name": "Pat", "last_name": "Biller", "email": "pat@acme.test",
    });
    assert_eq!(
        a.post("/v1/orgs/acme/employees", &employee).await.status,
        201
    );
    let user = json!({ "id": "pat", "employee_id": "pat", "roles": ["web.biller"] });
    assert_eq!(a.post("/v1/orgs/acme/users", &user).await.status, 201);
    let active = a
        .put(
            "/v1/orgs/acme/users/pat/status",
            &json!({ "status": "active" }),
        )
        .await;
    assert_eq!(active.status, 200, "{}", active.text);
    let before = b.created_org("before").await;
    for api in [&a, &b] {
        for (permission, allowed) in EXPECTED {
            let answer = api.check(permission, Some(before)).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            assert_eq!(
                answer.body["allowed"], allowed,
                "{permission}: {}",
                answer.text
            );
        }
    }
    let mut findings: Vec<String> = Vec::new();

    // Act: PostgreSQL goes away.
    cluster.stop();

    // Assert: writes refused, promptly and clearly; checks answered from
    // memory; /readyz 503 at once. Both replicas at the same time.
    let (down_a, down_b) = tokio::join!(while_down(&a, "a"), while_down(&b, "b"));
    down_a.judge(&mut findings);
    down_b.judge(&mut findings);

    // Act: PostgreSQL comes back.
    cluster.start_again();
    let back = Instant::now();

    // Assert: both replicas write again and converge; the follower has a
    // write through the other replica within about a second.
    let after_a = a.create_org("after-a").await;
    let first_write = back.elapsed();
    if after_a.status != 201 {
        findings.push(format!(
            "replica a: the first write after PostgreSQL was back answered {}: {}",
            after_a.describe(),
            after_a.text
        ));
    }
    let revision_a = match after_a.body["revision"].as_i64() {
        Some(revision) => revision,
        None => a.created_org("after-a-again").await,
    };
    let acknowledged = Instant::now();
    let seen = b
        .get(&format!("/v1/orgs/after-a?min_revision={revision_a}"))
        .await;
    let catch_up = acknowledged.elapsed();
    if seen.status != 200 || catch_up > CATCH_UP_WITHIN {
        findings.push(format!(
            "replica b: had revision {revision_a} of replica a after {:.2} s, answering {} \
             (want 200 within {CATCH_UP_WITHIN:?})",
            catch_up.as_secs_f64(),
            seen.describe()
        ));
    }
    let since_back = back.elapsed();
    let after_b = b.create_org("after-b").await;
    if after_b.status != 201 {
        findings.push(format!(
            "replica b: the first write after PostgreSQL was back answered {}: {}",
            after_b.describe(),
            after_b.text
        ));
    }
    let last = after_b.body["revision"].as_i64().unwrap_or(revision_a);
    let path = format!("/v1/orgs?min_revision={last}");
    let (through_a, through_b) = tokio::join!(a.get(&path), b.get(&path));
    assert_eq!(through_a.status, 200, "{}", through_a.text);
    assert_eq!(through_b.status, 200, "{}", through_b.text);
    assert_eq!(
        through_a.body, through_b.body,
        "the replicas differ at {last}"
    );
    let (ready_a, ready_b) = tokio::join!(a.get("/readyz"), b.get("/readyz"));
    assert_eq!(ready_a.text, format!("ready at revision {last}\n"));
    assert_eq!(ready_b.text, ready_a.text);
    for (replica, answer) in [("a", &through_a), ("b", &through_b)] {
        let ids: Vec<&str> = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        if ids.iter().any(|id| id.starts_with("down-")) {
            findings.push(format!(
                "replica {replica}: a write refused while PostgreSQL was down is there: {ids:?}"
            ));
        }
    }
    drop((first, second));
    let (intact, printed) = audit_verify(&cluster.url);
    assert!(intact, "{printed}");

    println!(
        "postgres outage: while down, {}; {}; after the restart, the first write through a \
         {:.2} s after PostgreSQL was back, replica b had it {:.2} s later ({:.2} s after \
         PostgreSQL was back)",
        down_a.figures(),
        down_b.figures(),
        first_write.as_secs_f64(),
        catch_up.as_secs_f64(),
        since_back.as_secs_f64(),
    );
    assert!(
        findings.is_empty(),
        "{} target(s) missed:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

/// What one replica answered while the database was down.
struct Down {
    replica: &'static str,
    writes: Vec<Timed>,
    checks: Vec<Timed>,
    ready: Timed,
}

impl Down {
    /// Adds to `findings` every answer that missed its target.
    fn judge(&self, findings: &mut Vec<String>) {
        let replica = self.replica;
        for write in &self.writes {
            judge_refusal(findings, replica, write);
        }
        for ((permission, allowed), check) in EXPECTED.iter().zip(&self.checks) {
            if check.status != 200 || check.body["allowed"] != *allowed || check.took > CHECK_WITHIN
            {
                findings.push(format!(
                    "replica {replica}: the check of {permission} while PostgreSQL was down \
                     answered {} (want 200, allowed {allowed}, within {CHECK_WITHIN:?}): {}",
                    check.describe(),
                    check.text
                ));
            }
        }
        if self.ready.status != 503 || self.ready.took > REFUSAL_WITHIN {
            findings.push(format!(
                "replica {replica}: /readyz while PostgreSQL was down answered {} (want 503 \
                 within {REFUSAL_WITHIN:?})",
                self.ready.describe()
            ));
        }
    }

    /// What it answered and how fast, for the report.
    fn figures(&self) -> String {
        let writes: Vec<String> = self.writes.iter().map(Timed::describe).collect();
        let slowest = self.checks.iter().map(|c| c.took).max().unwrap_or_default();
        format!(
            "replica {}: writes [{}], checks within {:.3} s, /readyz {}",
            self.replica,
            writes.join(", "),
            slowest.as_secs_f64(),
            self.ready.describe()
        )
    }
}

/// Two writes one after the other, and beside them the checks and
/// `/readyz`: answers from memory must not wait for the writes.
async fn while_down(api: &Api<'_>, replica: &'static str) -> Down {
    let writes = async {
        let mut writes = Vec::new();
        for i in 0..2 {
            writes.push(api.create_org(&format!("down-{replica}-{i}")).await);
        }
        writes
    };
    let checks = async {
        let mut checks = Vec::new();
        for (permission, _) in EXPECTED {
            checks.push(api.check(permission, None).await);
        }
        checks
    };
    let (writes, checks, ready) = tokio::join!(writes, checks, api.get("/readyz"));
    Down {
        replica,
        writes,
        checks,
        ready,
    }
}

/// A write while the database is down: never 2xx; 503 with Retry-After and
/// a problem+json body, within [`REFUSAL_WITHIN`].
fn judge_refusal(findings: &mut Vec<String>, replica: &str, write: &Timed) {
    if write.status.is_success() {
        findings.push(format!(
            "replica {replica}: a write was acknowledged while PostgreSQL was down: {}",
            write.text
        ));
        return;
    }
    let problem = write.content_type.as_deref() == Some("application/problem+json")
        && write.body["status"] == write.status.as_u16();
    if write.status != 503 || write.retry_after.is_none() || !problem || write.took > REFUSAL_WITHIN
    {
        findings.push(format!(
            "replica {replica}: a write while PostgreSQL was down answered {} with Retry-After \
             {:?} and {:?} (want 503 with Retry-After and a problem+json body within \
             {REFUSAL_WITHIN:?}): {}",
            write.describe(),
            write.retry_after,
            write.content_type,
            write.text
        ));
    }
}
