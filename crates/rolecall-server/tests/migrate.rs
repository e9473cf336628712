//! The Analytics 2.0 migration: "All existing Admin users will
//! automatically have the Analytics Access permission enabled upon
//! transition to 2.0."

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rolecall_model::Catalog;
use rolecall_server::ops::migrate::{self, MigrationChange};
use rolecall_server::ops::orgs::{self, NewOrg};
use rolecall_server::ops::people::{self, AccessInput, NewEmployee, NewUser};
use rolecall_server::principal::Via;
use rolecall_server::{Principal, Service};
use rolecall_store::{AuditQuery, Store};

const ORG: &str = "acme";

/// A user: id, roles, direct grants, direct denials.
type Person = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// A clinic with:
/// - `sam`, a system admin (`web.system_admin`) without Analytics Access;
/// - `cleo`, an EMR clinic admin (`emr.clinic_admin`) without it;
/// - `bill`, a biller with `emr.billing_report_admin`: not an admin;
/// - `ada`, a clinic admin who already has Analytics Access;
/// - `dee`, a company admin whose Analytics Access is denied directly.
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
    let users: [Person; 5] = [
        ("sam", &["web.system_admin"], &[], &[]),
        ("cleo", &[], &["emr.clinic_admin", "emr.edit_users"], &[]),
        ("bill", &["web.biller"], &["emr.billing_report_admin"], &[]),
        (
            "ada",
            &[],
            &["emr.clinic_admin", "emr.analytics_access"],
            &[],
        ),
        (
            "dee",
            &[],
            &["emr.company_admin"],
            &["emr.analytics_access"],
        ),
    ];
    for (id, roles, grants, denials) in users {
        let list = |items: &[&str]| Some(items.iter().map(|s| (*s).to_owned()).collect());
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
        people::create_user(
            &service,
            &Principal::Cli,
            "test",
            ORG,
            NewUser::new(
                Some(id.to_owned()),
                format!("emp-{id}"),
                AccessInput {
                    roles: list(roles),
                    grants: list(grants),
                    denials: list(denials),
                    ..AccessInput::default()
                },
            ),
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

fn allowed(service: &Service, user: &str, permission: &str) -> bool {
    service
        .live()
        .snapshot
        .check(user, permission, ORG, None)
        .allowed
}

fn change(user: &str, role: &str) -> MigrationChange {
    MigrationChange {
        user: user.to_owned(),
        org: ORG.to_owned(),
        roles_added: vec![role.to_owned()],
    }
}

#[tokio::test]
async fn a_dry_run_lists_the_admins_without_analytics_access_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let before = service.revision();

    let report = migrate::analytics_access(&service, &Principal::Cli, "test", true)
        .await
        .unwrap();

    // Users in id order. A clinic admin gets Analytics Admin; a system admin
    // who is no clinic or company admin gets what the catalog derives from
    // Analytics Access alone, as when a user manager ticks the box.
    assert_eq!(
        report.changes,
        vec![
            change("cleo", "analytics.admin"),
            change("sam", "analytics.reporting_user"),
        ]
    );
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].user, "dee");
    assert!(report.skipped[0].reason.contains("denied"));
    assert_eq!(report.revision, None);
    assert_eq!(service.revision(), before);
    assert!(!allowed(&service, "cleo", "emr.analytics_access"));
}

#[tokio::test]
async fn the_migration_grants_analytics_access_and_the_default_role_once() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let before = service.revision();
    assert!(!allowed(&service, "cleo", "analytics.management"));

    let report = migrate::analytics_access(&service, &Principal::Cli, "test", false)
        .await
        .unwrap();

    assert_eq!(report.users(), 2);
    assert_eq!(report.revision, Some(before + 1));
    assert_eq!(service.revision(), before + 1);
    // "Analytics admins will have access to all reports and the Management section".
    assert!(allowed(&service, "cleo", "emr.analytics_access"));
    assert!(allowed(&service, "cleo", "analytics.management"));
    assert!(allowed(
        &service,
        "cleo",
        "analytics.report.national_benchmarks"
    ));
    assert!(allowed(&service, "sam", "emr.analytics_access"));
    assert!(allowed(
        &service,
        "sam",
        "analytics.report.visits_by_provider"
    ));
    // Not admins, or already done, or denied on purpose: untouched.
    assert!(!allowed(&service, "bill", "emr.analytics_access"));
    assert!(!allowed(&service, "dee", "emr.analytics_access"));
    let live = service.live();
    assert_eq!(
        live.model.users["ada"].memberships[ORG].grants,
        vec!["emr.clinic_admin", "emr.analytics_access"]
    );

    let again = migrate::analytics_access(&service, &Principal::Cli, "test", false)
        .await
        .unwrap();

    assert!(again.changes.is_empty());
    assert_eq!(again.revision, None);
    assert_eq!(service.revision(), before + 1);
}

#[tokio::test]
async fn each_changed_user_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;

    migrate::analytics_access(&service, &Principal::Cli, "test", false)
        .await
        .unwrap();

    let records = service
        .store()
        .audit(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let mut migrated: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r.action == "migrate.analytics_access")
        .map(|r| (r.target.as_str(), r.actor.as_str()))
        .collect();
    migrated.sort_unstable();
    assert_eq!(migrated, vec![("user:cleo", "cli"), ("user:sam", "cli")]);
    let cleo = records
        .iter()
        .find(|r| r.action == "migrate.analytics_access" && r.target == "user:cleo")
        .unwrap();
    assert!(cleo.after.as_deref().unwrap().contains("analytics.admin"));
}

#[tokio::test]
async fn only_an_operator_runs_a_migration() {
    let dir = tempfile::tempdir().unwrap();
    let service = clinic(&dir).await;
    let sam = Principal::User {
        user: "sam".to_owned(),
        org: ORG.to_owned(),
        via: Via::Direct,
    };

    let refused = migrate::analytics_access(&service, &sam, "test", true).await;

    assert!(matches!(
        refused,
        Err(rolecall_server::ServiceError::Forbidden(_))
    ));
}
