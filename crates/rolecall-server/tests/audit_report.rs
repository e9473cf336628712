//! The audit report (ONC 170.315(d)(2)/(d)(3), ASTM E2147): "every audit
//! record shows date and time, user, action, target, source and outcome";
//! "the audit report can be filtered by period and sorted by each field".
//! An organization's report over HTTP (a real router on a loopback port, a
//! fresh SQLite file per test), and the operator-wide report through its
//! operation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use rolecall_model::Catalog;
use rolecall_server::ops::audit::{self, AuditParams};
use rolecall_server::principal::Via;
use rolecall_server::{http, tokens, Principal, Service, ServiceError};
use rolecall_store::{now_ms, AuditEntry, Batch, Outcome, Store};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Every field the report sorts by.
const FIELDS: [&str; 8] = [
    "seq", "at", "actor", "action", "org", "target", "source", "outcome",
];

/// A running server with a clinic in it and an audit log of successes and
/// failures written at three distinct times at least.
struct Report {
    base: String,
    client: reqwest::Client,
    service: Arc<Service>,
    operator: String,
    /// acme's auditor: `rolecall.view_audit`.
    aud: String,
    _dir: tempfile::TempDir,
}

impl Report {
    async fn new() -> Report {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with_key(
            dir.path().join("rolecall.db").to_str().unwrap(),
            rolecall_store::AuditKey::from_bytes([7; 32]),
        )
        .await
        .unwrap();
        let service = Service::open(store, Arc::new(Catalog::default_catalog()))
            .await
            .unwrap();
        let operator = tokens::init_operator(&service, "test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = http::router(service.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let mut report = Report {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            service,
            operator: operator.token,
            aud: String::new(),
            _dir: dir,
        };
        report.write_log().await;
        report
    }

    /// Builds `acme` and `other` through the API, has acme's admin change a
    /// group, and records sign-ins that succeeded and failed, some of them
    /// in no organization.
    async fn write_log(&mut self) {
        self.org("acme").await;
        self.org("other").await;
        let ada = self
            .user("acme", "ada", json!({ "roles": ["web.system_admin"] }))
            .await;
        self.aud = self
            .user("acme", "aud", json!({ "roles": ["rolecall.auditor"] }))
            .await;
        self.user("other", "olga", json!({ "roles": ["web.system_admin"] }))
            .await;
        tick().await;
        self.ok(self
            .send(
                reqwest::Method::POST,
                &ada,
                "/v1/orgs/acme/groups",
                Some(json!({ "id": "desk", "name": "Desk" })),
            )
            .await);
        self.ok(self
            .send(
                reqwest::Method::PUT,
                &ada,
                "/v1/orgs/acme/groups/desk",
                Some(json!({ "name": "Front desk" })),
            )
            .await);
        tick().await;
        self.sign_in(
            "user:ada",
            Some("acme"),
            "sign_in",
            Outcome::Success,
            "198.51.100.7",
        )
        .await;
        self.sign_in(
            "anonymous",
            Some("acme"),
            "sign_in.failed",
            Outcome::Failure,
            "203.0.113.9",
        )
        .await;
        tick().await;
        self.sign_in(
            "user:ada",
            Some("acme"),
            "sign_in_link.send",
            Outcome::Success,
            "198.51.100.7",
        )
        .await;
        self.sign_in(
            "anonymous",
            Some("other"),
            "sign_in.failed",
            Outcome::Failure,
            "203.0.113.10",
        )
        .await;
        self.sign_in(
            "anonymous",
            None,
            "sign_in.failed",
            Outcome::Failure,
            "192.0.2.1",
        )
        .await;
    }

    /// Records a sign-in the way the accounts code does: no new revision.
    async fn sign_in(
        &self,
        actor: &str,
        org: Option<&str>,
        action: &str,
        outcome: Outcome,
        source: &str,
    ) {
        let entry = AuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            org: org.map(str::to_owned),
            target: "user:ada".to_owned(),
            outcome,
            ..AuditEntry::default()
        };
        self.service
            .store()
            .record(
                actor,
                source,
                Batch {
                    audit: &[entry],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
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
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET /v1/orgs/acme/audit` as acme's auditor, with these parameters.
    async fn acme(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}/v1/orgs/acme/audit", self.base))
            .query(params)
            .bearer_auth(&self.aud)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// acme's records with these parameters, asserting success.
    async fn acme_records(&self, params: &[(&str, &str)]) -> Vec<Value> {
        let (status, page) = self.acme(params).await;
        assert_eq!(status, 200, "{params:?}: {page}");
        page["records"].as_array().unwrap().clone()
    }

    fn ok(&self, (status, body): (u16, Value)) -> Value {
        assert!(status < 300, "expected success, got {status}: {body}");
        body
    }

    async fn org(&self, id: &str) {
        let body = json!({ "id": id, "name": id, "subscriptions": ["web.clinical"] });
        self.ok(self
            .send(
                reqwest::Method::POST,
                &self.operator,
                "/v1/orgs",
                Some(body),
            )
            .await);
    }

    /// Creates an active user with `access` in `org` and returns a token
    /// acting as them there.
    async fn user(&self, org: &str, id: &str, access: Value) -> String {
        let op = &self.operator;
        let employee = format!("emp-{id}");
        self.ok(self
            .send(
                reqwest::Method::POST,
                op,
                &format!("/v1/orgs/{org}/employees"),
                Some(
                    json!({ "id": employee, "first_name": id, "last_name": "Test",
                             "email": format!("{id}@example.org") }),
                ),
            )
            .await);
        let mut body = json!({ "id": id, "employee_id": employee });
        for (key, value) in access.as_object().unwrap() {
            body[key] = value.clone();
        }
        self.ok(self
            .send(
                reqwest::Method::POST,
                op,
                &format!("/v1/orgs/{org}/users"),
                Some(body),
            )
            .await);
        self.ok(self
            .send(
                reqwest::Method::PUT,
                op,
                &format!("/v1/orgs/{org}/users/{id}/status"),
                Some(json!({ "status": "active" })),
            )
            .await);
        let created = self.ok(self
            .send(
                reqwest::Method::POST,
                op,
                "/v1/tokens",
                Some(json!({ "org": org, "user": id, "name": "test" })),
            )
            .await);
        created["token"].as_str().unwrap().to_owned()
    }
}

/// Waits until the clock shows a later millisecond, so the records written
/// next have a later time than those before.
async fn tick() {
    let start = now_ms();
    while now_ms() == start {
        tokio::task::yield_now().await;
    }
}

/// The operator-wide report's parameters.
fn params(pairs: &[(&str, &str)]) -> AuditParams {
    let mut params = AuditParams::default();
    for (name, value) in pairs {
        let value = Some((*value).to_owned());
        match *name {
            "org" => params.org = value,
            "since" => params.since = value,
            "until" => params.until = value,
            "actor" => params.actor = value,
            "action" => params.action = value,
            "target" => params.target = value,
            "outcome" => params.outcome = value,
            "sort" => params.sort = value,
            "before" => params.before = value,
            "offset" => params.offset = value,
            "limit" => params.limit = value,
            other => panic!("no parameter `{other}`"),
        }
    }
    params
}

fn operator() -> Principal {
    Principal::Operator {
        token: "tok-test".to_owned(),
    }
}

/// The operator-wide report as JSON, as the API would show it.
async fn everything(report: &Report, pairs: &[(&str, &str)]) -> Value {
    let page = audit::read_all(&report.service, &operator(), &params(pairs))
        .await
        .unwrap();
    serde_json::to_value(page).unwrap()
}

fn ms(at: &Value) -> i64 {
    let time = OffsetDateTime::parse(at.as_str().unwrap(), &Rfc3339).unwrap();
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap()
}

fn seqs(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["seq"].as_i64().unwrap()).collect()
}

/// A record's value of `field`, comparable the way the database orders it:
/// numbers as numbers, text as text, no organization before any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(i64),
    Text(Option<String>),
}

fn key(record: &Value, field: &str) -> Key {
    match field {
        "seq" => Key::Number(record["seq"].as_i64().unwrap()),
        "at" => Key::Number(ms(&record["at"])),
        _ => Key::Text(record[field].as_str().map(str::to_owned)),
    }
}

/// Asserts `records` are ordered by `field` (largest first when
/// `descending`), ties by record number in the same direction.
fn assert_sorted(records: &[Value], field: &str, descending: bool) {
    let keys: Vec<(Key, i64)> = records
        .iter()
        .map(|r| (key(r, field), r["seq"].as_i64().unwrap()))
        .collect();
    let mut expected = keys.clone();
    expected.sort();
    if descending {
        expected.reverse();
    }
    assert_eq!(
        keys, expected,
        "sorted by {field}, descending: {descending}"
    );
}

fn distinct(records: &[Value], field: &str) -> usize {
    records
        .iter()
        .map(|r| key(r, field))
        .collect::<BTreeSet<_>>()
        .len()
}

fn problem_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

fn problem_message<'a>(problem: &'a Value, field: &str) -> &'a str {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .unwrap()
}

#[tokio::test]
async fn every_record_shows_when_who_what_target_source_and_outcome() {
    // Arrange
    let report = Report::new().await;

    // Act
    let records = report.acme_records(&[("limit", "1000")]).await;

    // Assert
    assert!(!records.is_empty());
    for record in &records {
        ms(&record["at"]);
        for field in ["actor", "action", "target", "source", "outcome"] {
            assert!(
                !record[field].as_str().unwrap().is_empty(),
                "{field} of {record}"
            );
        }
    }
    let outcomes: BTreeSet<&str> = records
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, BTreeSet::from(["failure", "success"]));
}

#[tokio::test]
async fn an_organizations_report_sorts_by_each_field_both_ways() {
    // Arrange
    let report = Report::new().await;
    let all = report.acme_records(&[("limit", "1000")]).await;
    let mut all_seqs = seqs(&all);
    all_seqs.sort_unstable();

    for field in FIELDS {
        for descending in [false, true] {
            let sort = if descending {
                format!("-{field}")
            } else {
                field.to_owned()
            };

            // Act
            let records = report
                .acme_records(&[("sort", &sort), ("limit", "1000")])
                .await;

            // Assert: the same records, in that order.
            assert_sorted(&records, field, descending);
            let mut sorted_seqs = seqs(&records);
            sorted_seqs.sort_unstable();
            assert_eq!(sorted_seqs, all_seqs, "sort={sort}");
        }
        // Each field but the organization (acme's report is all acme)
        // differs between records, so each order was put to the test.
        if field != "org" {
            assert!(distinct(&all, field) > 1, "{field} is the same everywhere");
        }
    }
}

#[tokio::test]
async fn the_report_of_every_organization_sorts_by_each_field_both_ways() {
    // Arrange
    let report = Report::new().await;

    for field in FIELDS {
        for descending in [false, true] {
            let sort = if descending {
                format!("-{field}")
            } else {
                field.to_owned()
            };

            // Act
            let page = everything(&report, &[("sort", &sort), ("limit", "1000")]).await;

            // Assert
            let records = page["records"].as_array().unwrap();
            assert_sorted(records, field, descending);
            assert!(
                distinct(records, field) > 1,
                "{field} is the same everywhere"
            );
        }
    }
}

#[tokio::test]
async fn the_report_filters_by_period() {
    // Arrange: three distinct times at least; the period starts at the
    // second and ends (excluded) at the last.
    let report = Report::new().await;
    let all = report.acme_records(&[("limit", "1000")]).await;
    let mut times: Vec<&Value> = all.iter().map(|r| &r["at"]).collect();
    times.sort_by_key(|at| ms(at));
    times.dedup_by_key(|at| ms(at));
    assert!(
        times.len() >= 3,
        "the log has {} distinct times",
        times.len()
    );
    let since = times[1].as_str().unwrap();
    let until = times[times.len() - 1].as_str().unwrap();
    let (since_ms, until_ms) = (ms(times[1]), ms(times[times.len() - 1]));
    let within = |from: i64, to: i64| -> Vec<i64> {
        all.iter()
            .filter(|r| (from..to).contains(&ms(&r["at"])))
            .map(|r| r["seq"].as_i64().unwrap())
            .collect()
    };

    // Act
    let period = report
        .acme_records(&[("since", since), ("until", until), ("limit", "1000")])
        .await;
    let from = report
        .acme_records(&[("since", since), ("limit", "1000")])
        .await;
    let to = report
        .acme_records(&[("until", until), ("limit", "1000")])
        .await;
    let everywhere = everything(
        &report,
        &[("since", since), ("until", until), ("limit", "1000")],
    )
    .await;

    // Assert
    let expected = within(since_ms, until_ms);
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(seqs(&period), expected);
    assert_eq!(seqs(&from), within(since_ms, i64::MAX));
    assert_eq!(seqs(&to), within(i64::MIN, until_ms));
    for record in everywhere["records"].as_array().unwrap() {
        assert!(
            (since_ms..until_ms).contains(&ms(&record["at"])),
            "{record}"
        );
    }
}

#[tokio::test]
async fn an_action_filter_matches_the_action_and_the_actions_under_it() {
    // Arrange
    let report = Report::new().await;

    // Act
    let sign_ins = report.acme_records(&[("action", "sign_in")]).await;
    let groups = report.acme_records(&[("action", "group")]).await;
    let failed = report.acme_records(&[("action", "sign_in.failed")]).await;

    // Assert: `sign_in_link.send` is not under `sign_in`.
    let actions = |records: &[Value]| -> Vec<String> {
        records
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(actions(&sign_ins), ["sign_in.failed", "sign_in"]);
    assert_eq!(actions(&groups), ["group.update", "group.create"]);
    assert_eq!(actions(&failed), ["sign_in.failed"]);
}

#[tokio::test]
async fn an_outcome_filter_returns_only_failures_or_only_successes() {
    // Arrange
    let report = Report::new().await;
    let all = report.acme_records(&[("limit", "1000")]).await;

    // Act
    let failures = report
        .acme_records(&[("outcome", "failure"), ("limit", "1000")])
        .await;
    let successes = report
        .acme_records(&[("outcome", "success"), ("limit", "1000")])
        .await;
    let every_failure = everything(&report, &[("outcome", "failure")]).await;

    // Assert
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["action"], "sign_in.failed");
    assert_eq!(failures[0]["source"], "203.0.113.9");
    assert!(successes.iter().all(|r| r["outcome"] == "success"));
    assert_eq!(failures.len() + successes.len(), all.len());
    let orgs: Vec<&Value> = every_failure["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["org"])
        .collect();
    assert_eq!(orgs, [&Value::Null, &json!("other"), &json!("acme")]);
}

#[tokio::test]
async fn paging_a_sorted_report_by_offset_returns_every_record_once() {
    // Arrange
    let report = Report::new().await;
    let whole = report
        .acme_records(&[("sort", "actor"), ("limit", "1000")])
        .await;

    // Act
    let mut paged = Vec::new();
    let mut offset = Some(0);
    let mut pages = 0;
    while let Some(at) = offset {
        let at = at.to_string();
        let (status, page) = report
            .acme(&[("sort", "actor"), ("limit", "3"), ("offset", &at)])
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(
            page["next_before"].is_null(),
            "sorted pages have no next_before"
        );
        paged.extend(page["records"].as_array().unwrap().iter().cloned());
        offset = page["next_offset"].as_i64();
        pages += 1;
    }

    // Assert
    assert!(pages > 2, "{pages} pages");
    assert_eq!(seqs(&paged), seqs(&whole));
}

#[tokio::test]
async fn paging_every_organization_by_offset_returns_every_record_once() {
    // Arrange
    let report = Report::new().await;
    let whole = everything(&report, &[("sort", "-org"), ("limit", "1000")]).await;

    // Act
    let mut paged = Vec::new();
    let mut offset = Some(0);
    while let Some(at) = offset {
        let at = at.to_string();
        let page = everything(
            &report,
            &[("sort", "-org"), ("limit", "4"), ("offset", &at)],
        )
        .await;
        paged.extend(page["records"].as_array().unwrap().iter().cloned());
        offset = page["next_offset"].as_i64();
    }

    // Assert
    let whole = whole["records"].as_array().unwrap();
    assert!(whole.len() > 8);
    assert_eq!(seqs(&paged), seqs(whole));
}

#[tokio::test]
async fn the_default_order_pages_by_before_or_by_offset() {
    // Arrange
    let report = Report::new().await;
    let whole = report.acme_records(&[("limit", "1000")]).await;

    // Act
    let (_, first) = report.acme(&[("limit", "3")]).await;
    let before = first["next_before"].as_i64().unwrap().to_string();
    let offset = first["next_offset"].as_i64().unwrap().to_string();
    let by_before = report
        .acme_records(&[("limit", "3"), ("before", &before), ("sort", "-seq")])
        .await;
    let by_offset = report
        .acme_records(&[("limit", "3"), ("offset", &offset)])
        .await;

    // Assert
    assert_eq!(seqs(&by_before), seqs(&whole[3..6]));
    assert_eq!(seqs(&by_offset), seqs(&whole[3..6]));
}

#[tokio::test]
async fn only_an_operator_reads_every_organization_and_records_of_none() {
    // Arrange
    let report = Report::new().await;
    let auditor = Principal::User {
        user: "aud".to_owned(),
        org: "acme".to_owned(),
        via: Via::Direct,
    };

    // Act
    let refused = audit::read_all(&report.service, &auditor, &params(&[])).await;
    let all = everything(&report, &[("limit", "1000")]).await;
    let other = everything(&report, &[("org", "other"), ("limit", "1000")]).await;

    // Assert
    assert!(
        matches!(refused, Err(ServiceError::Forbidden(_))),
        "{refused:?}"
    );
    let orgs: BTreeSet<Option<&str>> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["org"].as_str())
        .collect();
    assert_eq!(orgs, BTreeSet::from([None, Some("acme"), Some("other")]));
    assert!(other["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["org"] == "other"));
}

#[tokio::test]
async fn an_unknown_sort_field_is_refused_naming_sort_and_listing_the_fields() {
    // Arrange
    let report = Report::new().await;

    // Act
    let (status, problem) = report.acme(&[("sort", "-colour")]).await;
    let operator_wide =
        audit::read_all(&report.service, &operator(), &params(&[("sort", "")])).await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(problem_fields(&problem), ["sort"]);
    assert!(problem_message(&problem, "sort")
        .contains("seq, at, actor, action, org, target, source, outcome"));
    let Err(ServiceError::Invalid { fields }) = operator_wide else {
        panic!("{operator_wide:?}");
    };
    assert_eq!(fields[0].field, "sort");
}

#[tokio::test]
async fn an_outcome_other_than_success_or_failure_is_refused_naming_outcome() {
    // Arrange
    let report = Report::new().await;

    // Act
    let (status, problem) = report.acme(&[("outcome", "denied")]).await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(problem_fields(&problem), ["outcome"]);
}

#[tokio::test]
async fn before_with_a_sort_is_refused_pointing_at_offset() {
    // Arrange
    let report = Report::new().await;

    // Act
    let (status, problem) = report.acme(&[("before", "5"), ("sort", "actor")]).await;

    // Assert
    assert_eq!(status, 422);
    assert_eq!(problem_fields(&problem), ["before"]);
    assert!(problem_message(&problem, "before").contains("`offset`"));
}

#[tokio::test]
async fn every_bad_parameter_is_reported_together_under_its_own_name() {
    // Arrange
    let report = Report::new().await;

    // Act
    let (status, problem) = report
        .acme(&[
            ("sort", "colour"),
            ("outcome", "maybe"),
            ("offset", "1000001"),
            ("org", "other"),
        ])
        .await;

    // Assert
    assert_eq!(status, 422);
    let fields: BTreeSet<&str> = problem_fields(&problem).into_iter().collect();
    assert_eq!(fields, BTreeSet::from(["org", "offset", "outcome", "sort"]));
}

#[tokio::test]
async fn the_openapi_document_describes_the_reports_parameters_and_outcome() {
    // Arrange
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(http::admin::read_all_audit))]
    struct OperatorReport;
    let report = Report::new().await;

    // Act
    let (_, document) = report
        .send(
            reqwest::Method::GET,
            &report.operator,
            "/v1/openapi.json",
            None,
        )
        .await;
    let operator_wide =
        serde_json::to_value(<OperatorReport as utoipa::OpenApi>::openapi()).unwrap();

    // Assert
    let names = |operation: &Value| -> BTreeSet<String> {
        operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let org_report = &document["paths"]["/v1/orgs/{org}/audit"]["get"];
    let org_names = names(org_report);
    for name in ["action", "outcome", "sort", "offset", "since", "until"] {
        assert!(org_names.contains(name), "{name} missing");
    }
    let outcome = org_report["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "outcome")
        .unwrap();
    assert!(outcome.to_string().contains("failure"), "{outcome}");
    let view = &document["components"]["schemas"]["AuditRecordView"];
    assert!(view["properties"].get("outcome").is_some(), "{view}");
    assert!(document["components"]["schemas"]["AuditPage"]["properties"]
        .get("next_offset")
        .is_some());

    let every = &operator_wide["paths"]["/v1/audit"]["get"];
    let every_names = names(every);
    assert!(every_names.contains("org") && every_names.contains("sort"));
    assert_eq!(
        every_names.len(),
        org_names.len(),
        "org replaces the path's org"
    );
}
