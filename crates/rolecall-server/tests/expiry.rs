//! Time-bound access: "any role or grant can carry an expiry; expired
//! access disappears from decisions on time, without a restart", and
//! emergency access ("break the glass"): a pre-authorized user raises their
//! own access for a bounded time by giving a reason; it ends by itself, and
//! each use is audited and listed for review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rolecall_model::Catalog;
use rolecall_server::accounts::emergency::{self, EmergencyInput};
use rolecall_server::accounts::expiry::{run_expiry, sweep};
use rolecall_server::accounts::{self, EmergencyPolicy, SecurityPolicy};
use rolecall_server::ops::access::{self, BulkAccess, BulkItem};
use rolecall_server::ops::orgs::{self, NewOrg};
use rolecall_server::ops::people::{
    self, format_time, parse_time, AccessInput, NewEmployee, NewUser,
};
use rolecall_server::principal::Via;
use rolecall_server::service::Change;
use rolecall_server::{Principal, Service, ServiceError};
use rolecall_store::{now_ms, AuditQuery, AuditRecord, Put, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const ORG: &str = "acme";
/// A permission of `web.biller` that `web.office_staff` lacks.
const CLAIMS: &str = "web.view_claims_status";
/// How long a test waits for the sweep before failing: far longer than
/// it takes, so a slow machine does not fail it.
const PATIENCE: Duration = Duration::from_secs(30);

/// A clinic with, every one active:
/// - `sam`, a system admin;
/// - `olive`, office staff and an auditor (reviews emergency access);
/// - `eve`, office staff and an auditor;
/// - `nora` and `pat`, office staff.
async fn clinic(dir: &tempfile::TempDir) -> Arc<Service> {
    let store = Store::open_with_key(
        dir.path().join("rolecall.db").to_str().unwrap(),
        rolecall_store::AuditKey::from_bytes([7; 32]),
    )
    .await
    .unwrap();
    let service = Service::open(store, Arc::new(Catalog::default_catalog()))
        .await
        .unwrap();
    orgs::create(
        &service,
        &Principal::Cli,
        "test",
        NewOrg {
            id: Some(ORG.to_owned()),
            name: "Acme PT".to_owned(),
            parent: None,
            subscriptions: vec!["web.billing".to_owned()],
        },
    )
    .await
    .unwrap();
    let people: [(&str, &[&str]); 5] = [
        ("sam", &["web.system_admin"]),
        ("olive", &["web.office_staff", "rolecall.auditor"]),
        ("eve", &["web.office_staff", "rolecall.auditor"]),
        ("nora", &["web.office_staff"]),
        ("pat", &["web.office_staff"]),
    ];
    for (id, roles) in people {
        people::create_employee(
            &service,
            &Principal::Cli,
            "test",
            ORG,
            NewEmployee {
                id: Some(format!("emp-{id}")),
                first_name: id.to_owned(),
                last_name: "Tester".to_owned(),
                email: format!("{id}@acme.test"),
            },
        )
        .await
        .unwrap();
        let access = AccessInput {
            roles: Some(roles.iter().map(|r| (*r).to_owned()).collect()),
            ..AccessInput::default()
        };
        people::create_user(
            &service,
            &Principal::Cli,
            "test",
            ORG,
            NewUser::new(Some(id.to_owned()), format!("emp-{id}"), access),
        )
        .await
        .unwrap();
        let active = people::StatusInput {
            status: rolecall_model::world::Status::Active,
        };
        people::set_status(&service, &Principal::Cli, "test", ORG, id, active)
            .await
            .unwrap();
    }
    service
}

fn user(id: &str) -> Principal {
    Principal::User {
        user: id.to_owned(),
        org: ORG.to_owned(),
        via: Via::Direct,
    }
}

fn allowed(service: &Service, user: &str, permission: &str) -> bool {
    service
        .live()
        .snapshot
        .check(user, permission, ORG, None)
        .allowed
}

/// Gives `pat` office staff and biller, the biller role ending at `end`.
async fn biller_until(service: &Service, end: i64) -> Result<i64, ServiceError> {
    let input = AccessInput {
        roles: Some(vec!["web.office_staff".to_owned(), "web.biller".to_owned()]),
        expires: Some(BTreeMap::from([(
            "web.biller".to_owned(),
            format_time(end),
        )])),
        ..AccessInput::default()
    };
    access::update(
        service,
        &Principal::Cli,
        "test",
        ORG,
        "pat",
        Some("*"),
        input,
    )
    .await
    .map(|(updated, _)| updated.revision)
}

/// Runs the expiry sweep in the background; dropping the sender stops it.
fn expiry_running(service: &Arc<Service>) -> (watch::Sender<bool>, JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run_expiry(Arc::clone(service), stopped));
    (stop, task)
}

async fn stop(running: (watch::Sender<bool>, JoinHandle<()>)) {
    let (stop, task) = running;
    stop.send(true).unwrap();
    tokio::time::timeout(PATIENCE, task).await.unwrap().unwrap();
}

/// Waits until the service has applied a revision after `revision`.
async fn next_revision(service: &Service, revision: i64) {
    let mut revisions = service.subscribe_revision();
    tokio::time::timeout(PATIENCE, revisions.wait_for(|r| *r > revision))
        .await
        .expect("the sweep wrote nothing in time")
        .unwrap();
}

async fn records(service: &Service, action: &str) -> Vec<AuditRecord> {
    service
        .store()
        .audit(&AuditQuery {
            org: Some(ORG.to_owned()),
            action: Some(action.to_owned()),
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

fn json(text: Option<&str>) -> serde_json::Value {
    serde_json::from_str(text.unwrap()).unwrap()
}

fn invalid_fields(result: Result<impl std::fmt::Debug, ServiceError>) -> Vec<String> {
    match result {
        Err(ServiceError::Invalid { fields }) => fields.into_iter().map(|f| f.field).collect(),
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[tokio::test]
async fn a_grant_that_ends_stops_counting_on_time_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let running = expiry_running(&service);
    let end = now_ms() + 2_000;

    let revision = biller_until(&service, end).await.unwrap();

    assert!(allowed(&service, "pat", CLAIMS));
    let view = people::get_user(&service.live(), &Principal::Cli, ORG, "pat").unwrap();
    assert_eq!(
        view.access.expires,
        BTreeMap::from([("web.biller".to_owned(), format_time(end))]),
        "an admin sees when the access ends"
    );

    next_revision(&service, revision).await;

    assert!(now_ms() >= end, "nothing ended before its time");
    assert!(!allowed(&service, "pat", CLAIMS));
    assert!(allowed(&service, "pat", "web.manage_patient_demographics"));
    let live = service.live();
    let access = &live.model.users["pat"].memberships[ORG];
    assert_eq!(access.roles, vec!["web.office_staff"]);
    assert!(access.expires.is_empty());
    drop(live);
    let expired = records(&service, "access.expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].actor, "system");
    assert_eq!(expired[0].target, "user:pat");
    let before = json(expired[0].before.as_deref());
    assert_eq!(before["roles"], serde_json::json!(["web.biller"]));
    assert_eq!(before["expires"]["web.biller"], format_time(end));
    stop(running).await;
}

#[tokio::test]
async fn recompiling_alone_drops_ended_access_and_the_sweep_then_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let end = now_ms() + 500;
    let revision = biller_until(&service, end).await.unwrap();
    assert_eq!(sweep(&service, now_ms()).await.unwrap(), 0);
    assert_eq!(service.revision(), revision, "nothing ended: no write");

    // Wait for the end itself (no sweep runs in this test).
    let left = u64::try_from(end - now_ms() + 1).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(left)).await;
    assert!(
        allowed(&service, "pat", CLAIMS),
        "the snapshot compiled before the end still counts it"
    );

    service.recompile().await.unwrap();

    assert!(!allowed(&service, "pat", CLAIMS));
    assert_eq!(service.revision(), revision, "no database write");
    assert_eq!(service.store().head().await.unwrap(), revision);
    assert!(service.live().model.users["pat"].memberships[ORG]
        .roles
        .contains(&"web.biller".to_owned()));

    assert_eq!(sweep(&service, now_ms()).await.unwrap(), 1);
    assert_eq!(service.revision(), revision + 1);
    assert!(!service.live().model.users["pat"].memberships[ORG]
        .roles
        .contains(&"web.biller".to_owned()));
}

#[tokio::test]
async fn an_end_time_must_name_a_role_or_grant_and_a_future_rfc_3339_time() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let soon = format_time(now_ms() + 3_600_000);
    let update = |expires: BTreeMap<String, String>| AccessInput {
        roles: Some(vec!["web.office_staff".to_owned(), "web.biller".to_owned()]),
        expires: Some(expires),
        ..AccessInput::default()
    };
    let cases = [
        (
            "web.provider",
            soon.as_str(),
            "a role the user does not hold",
        ),
        ("web.biller", "2001-01-01T00:00:00Z", "a time in the past"),
        ("web.biller", "tomorrow at noon", "not RFC 3339"),
    ];

    for (key, time, why) in cases {
        let input = update(BTreeMap::from([(key.to_owned(), time.to_owned())]));
        let result = access::update(
            &service,
            &Principal::Cli,
            "test",
            ORG,
            "pat",
            Some("*"),
            input,
        )
        .await;

        assert_eq!(
            invalid_fields(result),
            vec![format!("expires.{key}")],
            "{why}"
        );
    }
    let bulk = BulkAccess {
        updates: vec![BulkItem {
            user: "pat".to_owned(),
            if_match: None,
            roles: None,
            grants: None,
            denials: None,
            scheduler_type: None,
            scheduler_level: None,
            tasking_access: None,
            expires: Some(BTreeMap::from([("web.biller".to_owned(), soon.clone())])),
        }],
    };
    let result = access::bulk(&service, &Principal::Cli, "test", ORG, bulk).await;
    assert_eq!(
        invalid_fields(result),
        vec!["updates[0].expires.web.biller"]
    );
    let mut new_user = NewUser::new(
        Some("newbie".to_owned()),
        "emp-newbie".to_owned(),
        AccessInput::default(),
    );
    new_user.expires = Some(BTreeMap::from([("web.biller".to_owned(), soon)]));
    people::create_employee(
        &service,
        &Principal::Cli,
        "test",
        ORG,
        NewEmployee {
            id: Some("emp-newbie".to_owned()),
            first_name: "New".to_owned(),
            last_name: "Bie".to_owned(),
            email: "newbie@acme.test".to_owned(),
        },
    )
    .await
    .unwrap();
    let result = people::create_user(&service, &Principal::Cli, "test", ORG, new_user).await;
    assert_eq!(invalid_fields(result), vec!["expires.web.biller"]);
}

#[tokio::test]
async fn end_times_follow_the_roles_they_belong_to() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let end = now_ms() + 3_600_000;
    biller_until(&service, end).await.unwrap();
    let expires = |service: &Service| {
        service.live().model.users["pat"].memberships[ORG]
            .expires
            .clone()
    };

    // Another field changed: the end time stays.
    let denials = AccessInput {
        denials: Some(vec!["web.messages".to_owned()]),
        ..AccessInput::default()
    };
    access::update(
        &service,
        &Principal::Cli,
        "test",
        ORG,
        "pat",
        Some("*"),
        denials,
    )
    .await
    .unwrap();
    assert_eq!(
        expires(&service),
        BTreeMap::from([("web.biller".to_owned(), end)])
    );

    // The role is taken away: its end time goes with it.
    let roles = AccessInput {
        roles: Some(vec!["web.office_staff".to_owned()]),
        ..AccessInput::default()
    };
    access::update(
        &service,
        &Principal::Cli,
        "test",
        ORG,
        "pat",
        Some("*"),
        roles,
    )
    .await
    .unwrap();
    assert!(expires(&service).is_empty());
}

/// `eve` may break the glass in `acme` for at most 30 minutes, to become a
/// biller.
async fn emergency_policy(service: &Service) {
    let policy = SecurityPolicy {
        emergency: EmergencyPolicy {
            users: vec!["eve".to_owned()],
            roles: vec!["web.biller".to_owned()],
            max_minutes: 30,
        },
        ..SecurityPolicy::default()
    };
    accounts::set_policy(service, &Principal::Cli, "test", ORG, policy)
        .await
        .unwrap();
}

fn emergency_input(reason: &str, minutes: u32) -> EmergencyInput {
    EmergencyInput {
        reason: reason.to_owned(),
        minutes,
    }
}

const REASON: &str = "Billing run failed overnight; the biller is out sick.";

#[tokio::test]
async fn only_a_pre_authorized_user_breaks_the_glass_with_a_reason_and_a_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    emergency_policy(&service).await;

    let outsider = emergency::start(
        &service,
        &user("nora"),
        "test",
        ORG,
        emergency_input(REASON, 10),
    )
    .await;
    let operator = emergency::start(
        &service,
        &Principal::Cli,
        "test",
        ORG,
        emergency_input(REASON, 10),
    )
    .await;
    let terse = emergency::start(
        &service,
        &user("eve"),
        "test",
        ORG,
        emergency_input("  urgent  ", 10),
    )
    .await;
    let too_long = emergency::start(
        &service,
        &user("eve"),
        "test",
        ORG,
        emergency_input(REASON, 31),
    )
    .await;

    match outsider {
        Err(ServiceError::Forbidden(message)) => assert!(message.contains("pre-authorized")),
        other => panic!("expected a 403, got {other:?}"),
    }
    assert!(matches!(operator, Err(ServiceError::Forbidden(_))));
    assert_eq!(invalid_fields(terse), vec!["reason"]);
    match too_long {
        Err(ServiceError::Invalid { fields }) => {
            assert_eq!(fields.len(), 1);
            assert_eq!(fields[0].field, "minutes");
            assert!(fields[0].message.contains("30"), "{}", fields[0].message);
        }
        other => panic!("expected a 422, got {other:?}"),
    }
    assert!(!allowed(&service, "nora", CLAIMS));
    assert!(!allowed(&service, "eve", CLAIMS));
    assert!(records(&service, "emergency_access.start").await.is_empty());
}

#[tokio::test]
async fn emergency_access_is_given_audited_listed_ended_and_reviewed_once() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    emergency_policy(&service).await;
    let running = expiry_running(&service);
    assert!(!allowed(&service, "eve", CLAIMS));
    let started_at = now_ms();

    let grant = emergency::start(
        &service,
        &user("eve"),
        "203.0.113.9",
        ORG,
        emergency_input(REASON, 10),
    )
    .await
    .unwrap();

    // Given, for the time asked.
    assert!(allowed(&service, "eve", CLAIMS));
    assert_eq!(grant.roles, vec!["web.biller"]);
    let until = parse_time(&grant.until).unwrap();
    assert!(until >= started_at + 10 * 60_000 && until <= now_ms() + 10 * 60_000);
    let stored = service.live().model.users["eve"].memberships[ORG]
        .expires
        .clone();
    assert_eq!(stored, BTreeMap::from([("web.biller".to_owned(), until)]));
    // Audited.
    let starts = records(&service, "emergency_access.start").await;
    assert_eq!(starts.len(), 1);
    let start = &starts[0];
    assert_eq!(
        (start.actor.as_str(), start.target.as_str()),
        ("user:eve", "user:eve")
    );
    let after = json(start.after.as_deref());
    assert_eq!(after["reason"], REASON);
    assert_eq!(after["roles"], serde_json::json!(["web.biller"]));
    assert_eq!(after["until"], grant.until);
    // Listed for review, to auditors only.
    let listed = emergency::list(&service, &user("olive"), ORG)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].seq, start.seq);
    assert_eq!(listed[0].user, "eve");
    assert_eq!(listed[0].reason, REASON);
    assert!(listed[0].active);
    assert_eq!(listed[0].reviewed_by, None);
    assert!(matches!(
        emergency::list(&service, &user("nora"), ORG).await,
        Err(ServiceError::Forbidden(_))
    ));

    // Ends by itself. Rather than wait the ten minutes, bring the stored
    // end time forward, as if they had passed.
    let end = now_ms() + 1_000;
    let (revision, ()) = service
        .write(&Principal::Cli, "test", |live| {
            let mut row = live.model.users["eve"].clone();
            let access = row.memberships.get_mut(ORG).unwrap();
            access.expires.insert("web.biller".to_owned(), end);
            Ok(Change::new(vec![Put::User(row)], vec![], ()))
        })
        .await
        .unwrap();
    next_revision(&service, revision).await;
    assert!(now_ms() >= end);
    assert!(!allowed(&service, "eve", CLAIMS));
    let listed = emergency::list(&service, &user("olive"), ORG)
        .await
        .unwrap();
    assert!(!listed[0].active);
    stop(running).await;

    // Reviewed once, and not by the user who broke the glass.
    let own = emergency::review(
        &service,
        &user("eve"),
        "test",
        ORG,
        start.seq,
        "All fine.".to_owned(),
    )
    .await;
    let first = emergency::review(
        &service,
        &user("olive"),
        "test",
        ORG,
        start.seq,
        "Checked with the billing lead.".to_owned(),
    )
    .await;
    let second = emergency::review(
        &service,
        &user("sam"),
        "test",
        ORG,
        start.seq,
        "Me too.".to_owned(),
    )
    .await;
    let unknown = emergency::review(
        &service,
        &user("olive"),
        "test",
        ORG,
        start.seq + 1000,
        "?".to_owned(),
    )
    .await;

    assert!(matches!(own, Err(ServiceError::Forbidden(_))), "{own:?}");
    first.unwrap();
    assert!(
        matches!(second, Err(ServiceError::Conflict(_))),
        "{second:?}"
    );
    assert!(
        matches!(unknown, Err(ServiceError::NotFound(_))),
        "{unknown:?}"
    );
    let listed = emergency::list(&service, &user("sam"), ORG).await.unwrap();
    assert_eq!(listed[0].reviewed_by.as_deref(), Some("user:olive"));
    assert_eq!(
        listed[0].note.as_deref(),
        Some("Checked with the billing lead.")
    );
    assert!(listed[0].reviewed_at.is_some());
    let reviews = records(&service, "emergency_access.review").await;
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].target, format!("audit:{}", start.seq));
}
