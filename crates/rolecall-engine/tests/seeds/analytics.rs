//! 000_317758bf3e61ba9b.txt and 001_c46a0547a6e0d4ea.txt, "Analytics User
//! Permissions and User Roles" (the same article, twice).

use rolecall_engine::{Reason, Snapshot};
use rolecall_model::world::MembershipSpec;

use crate::support::{
    allowed, allowed_ids, catalog_ids, ids_in_module, member, org, reason_kind, role_ids, snapshot,
    user, MembershipBuilder,
};

/// A world of one clinic and one user holding `membership` there.
fn one_user(membership: MembershipSpec) -> Snapshot {
    snapshot(
        vec![org("clinic", &[])],
        vec![user("ana", vec![membership])],
    )
}

/// The Analytics role `ana` gets from these EMR permissions.
fn derived_roles(emr_permissions: &[&str]) -> Vec<String> {
    let snapshot = one_user(member("clinic", &[]).grants(emr_permissions));
    role_ids(&snapshot, "ana", "clinic")
}

/// Every report, then the Management section.
fn every_analytics_permission() -> Vec<String> {
    catalog_ids("analytics.")
}

fn financial() -> Vec<String> {
    ids_in_module("analytics.financial")
}

fn productivity() -> Vec<String> {
    ids_in_module("analytics.productivity")
}

fn benchmarking_and_comparison_charts() -> Vec<String> {
    let mut ids = ids_in_module("analytics.benchmarking");
    ids.extend(ids_in_module("analytics.comparison_charts"));
    assert!(!ids.is_empty());
    ids
}

/// 000_317758bf3e61ba9b.txt: "EMR Permission Analytics Access, Clinic or
/// Company Admin ... Default Analytics User Role Analytics Admin".
#[test]
fn analytics_access_with_clinic_admin_derives_analytics_admin() {
    // Arrange
    let grants = ["emr.analytics_access", "emr.clinic_admin"];

    // Act
    let roles = derived_roles(&grants);

    // Assert
    assert_eq!(roles, ["analytics.admin"]);
}

/// 001_c46a0547a6e0d4ea.txt: "EMR Permission | Analytics Access, Clinic or
/// Company Admin | ... Default Analytics User Role | Analytics Admin".
#[test]
fn analytics_access_with_company_admin_derives_analytics_admin() {
    // Arrange
    let grants = ["emr.analytics_access", "emr.company_admin"];

    // Act
    let roles = derived_roles(&grants);

    // Assert
    assert_eq!(roles, ["analytics.admin"]);
}

/// 001_c46a0547a6e0d4ea.txt: "Analytics Access, Billing Report Admin |
/// ... | Billing User".
#[test]
fn analytics_access_with_billing_report_admin_derives_billing_user() {
    // Arrange
    let grants = ["emr.analytics_access", "emr.billing_report_admin"];

    // Act
    let roles = derived_roles(&grants);

    // Assert
    assert_eq!(roles, ["analytics.billing_user"]);
}

/// 001_c46a0547a6e0d4ea.txt: "Analytics Access | ... | Reporting User".
#[test]
fn analytics_access_alone_derives_reporting_user() {
    // Arrange
    let grants = ["emr.analytics_access"];

    // Act
    let roles = derived_roles(&grants);

    // Assert
    assert_eq!(roles, ["analytics.reporting_user"]);
}

/// 000_317758bf3e61ba9b.txt: "The default permission set given to your user
/// in Analytics is based on their user permissions." DESIGN.md: "first match
/// wins, in the seed's order: Admin, Billing User, Reporting User".
#[test]
fn the_first_matching_rule_wins_so_an_admin_who_is_also_billing_report_admin_gets_admin_only() {
    // Arrange
    let grants = [
        "emr.analytics_access",
        "emr.clinic_admin",
        "emr.billing_report_admin",
    ];

    // Act
    let roles = derived_roles(&grants);

    // Assert
    assert_eq!(roles, ["analytics.admin"]);
}

/// 000_317758bf3e61ba9b.txt: "In order to access Analytics, users must have
/// the Analytics Access permission enabled on their user profile in the EMR."
#[test]
fn without_analytics_access_no_role_is_derived_and_every_analytics_permission_is_denied() {
    // Arrange
    let snapshot = one_user(member("clinic", &[]).grants(&[
        "emr.clinic_admin",
        "emr.company_admin",
        "emr.billing_report_admin",
    ]));

    // Act
    let roles = role_ids(&snapshot, "ana", "clinic");
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");

    // Assert
    assert!(roles.is_empty(), "derived {roles:?}");
    assert!(granted.is_empty(), "allowed {granted:?}");
    for permission in every_analytics_permission() {
        assert!(
            !allowed(&snapshot, "ana", &permission, "clinic"),
            "{permission}"
        );
    }
}

/// 000_317758bf3e61ba9b.txt: "To update a user’s role, simply check or
/// uncheck a box and use the Update Roles button to save your changes." A
/// role chosen on purpose is kept; nothing is derived over it.
#[test]
fn a_membership_listing_an_analytics_role_keeps_it_without_derivation() {
    // Arrange
    let membership = member("clinic", &["analytics.reporting_user"])
        .grants(&["emr.analytics_access", "emr.clinic_admin"]);

    // Act
    let snapshot = one_user(membership);

    // Assert
    assert_eq!(
        role_ids(&snapshot, "ana", "clinic"),
        ["analytics.reporting_user"]
    );
    assert!(!allowed(&snapshot, "ana", "analytics.management", "clinic"));
}

/// 000_317758bf3e61ba9b.txt: "Analytics admins will have access to all
/// reports and the Management section by default".
#[test]
fn analytics_admin_has_every_report_and_the_management_section() {
    // Arrange
    let snapshot =
        one_user(member("clinic", &[]).grants(&["emr.analytics_access", "emr.clinic_admin"]));

    // Act
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");

    // Assert
    assert_eq!(granted, every_analytics_permission());
    assert!(granted.iter().any(|p| p == "analytics.management"));
    assert!(granted.len() > 1);
}

/// 000_317758bf3e61ba9b.txt: "Billing Users will have access to financial
/// reporting by default. No access to Benchmarking or Comparison Charts".
#[test]
fn billing_user_has_financial_reports_and_no_benchmarking_comparison_charts_or_management() {
    // Arrange
    let snapshot = one_user(
        member("clinic", &[]).grants(&["emr.analytics_access", "emr.billing_report_admin"]),
    );

    // Act
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");

    // Assert
    assert!(!financial().is_empty());
    assert_eq!(granted, financial());
    for report in benchmarking_and_comparison_charts() {
        assert!(!allowed(&snapshot, "ana", &report, "clinic"), "{report}");
    }
    assert!(!allowed(&snapshot, "ana", "analytics.management", "clinic"));
}

/// 000_317758bf3e61ba9b.txt: "Reporting users will have access to general
/// productivity reports by default. No access to Benchmarking or Comparison
/// Charts".
#[test]
fn reporting_user_has_productivity_reports_and_no_benchmarking_or_comparison_charts() {
    // Arrange
    let snapshot = one_user(member("clinic", &[]).grants(&["emr.analytics_access"]));

    // Act
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");

    // Assert
    assert!(!productivity().is_empty());
    assert_eq!(granted, productivity());
    for report in benchmarking_and_comparison_charts() {
        assert!(!allowed(&snapshot, "ana", &report, "clinic"), "{report}");
    }
    assert!(!allowed(&snapshot, "ana", "analytics.management", "clinic"));
}

/// 000_317758bf3e61ba9b.txt: "Users can be assigned to more than one role."
#[test]
fn a_user_with_two_analytics_roles_gets_both_sets_of_reports() {
    // Arrange
    let membership = member(
        "clinic",
        &["analytics.billing_user", "analytics.reporting_user"],
    )
    .grants(&["emr.analytics_access"]);

    // Act
    let snapshot = one_user(membership);
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");

    // Assert
    let mut expected: Vec<String> = financial().into_iter().chain(productivity()).collect();
    expected.sort();
    let mut granted_sorted = granted.clone();
    granted_sorted.sort();
    assert_eq!(granted_sorted, expected);
    assert_eq!(
        role_ids(&snapshot, "ana", "clinic"),
        ["analytics.billing_user", "analytics.reporting_user"]
    );
}

/// 000_317758bf3e61ba9b.txt: "Use the checkboxes to select or unselect
/// specific reports."
#[test]
fn selecting_a_report_on_the_profile_adds_it() {
    // Arrange
    let snapshot = one_user(member("clinic", &[]).grants(&[
        "emr.analytics_access",
        "analytics.report.national_benchmarks",
    ]));

    // Act
    let why = snapshot.explain(
        "ana",
        "analytics.report.national_benchmarks",
        "clinic",
        None,
    );

    // Assert
    assert_eq!(
        role_ids(&snapshot, "ana", "clinic"),
        ["analytics.reporting_user"]
    );
    assert!(why.allowed, "{}", why.sentence);
    match why.reason {
        Reason::Granted { via, .. } => assert_eq!(via[0].kind, "direct_grant"),
        other => panic!("expected a grant, got {other:?}"),
    }
    assert!(!allowed(
        &snapshot,
        "ana",
        "analytics.report.peer_benchmarks",
        "clinic"
    ));
}

/// 000_317758bf3e61ba9b.txt: "Use the checkboxes to select or unselect
/// specific reports."
#[test]
fn unselecting_a_report_on_the_profile_removes_it() {
    // Arrange
    let snapshot = one_user(
        member("clinic", &[])
            .grants(&["emr.analytics_access"])
            .denials(&["analytics.report.visits_by_provider"]),
    );

    // Act
    let removed = snapshot.explain("ana", "analytics.report.visits_by_provider", "clinic", None);
    let kept = allowed(
        &snapshot,
        "ana",
        "analytics.report.units_per_visit",
        "clinic",
    );

    // Assert
    assert!(!removed.allowed);
    assert_eq!(reason_kind(&removed), "denied_on_profile");
    assert!(kept);
}

/// 000_317758bf3e61ba9b.txt: "In order to access Analytics, users must have
/// the Analytics Access permission enabled on their user profile in the EMR."
#[test]
fn an_analytics_role_without_analytics_access_gives_nothing_and_says_what_is_missing() {
    // Arrange
    let snapshot = one_user(member("clinic", &["analytics.admin"]));

    // Act
    let granted = allowed_ids(&snapshot, "ana", "clinic", "analytics.");
    let why = snapshot.explain("ana", "analytics.report.revenue_summary", "clinic", None);

    // Assert
    assert!(granted.is_empty(), "allowed {granted:?}");
    assert!(!why.allowed);
    assert_eq!(why.failed_condition, Some(3));
    assert_eq!(reason_kind(&why), "missing_prerequisite");
    match &why.reason {
        Reason::MissingPrerequisite { requires, .. } => {
            assert_eq!(requires, "emr.analytics_access")
        }
        other => panic!("expected a missing prerequisite, got {other:?}"),
    }
    assert!(
        why.sentence.contains("Analytics Access"),
        "{}",
        why.sentence
    );
}

/// 000_317758bf3e61ba9b.txt: "If you do not have the Edit Users permission in
/// the EMR and you need to use Analytics, you’ll need to ask someone in your
/// clinic (User Manager) to enable this permission for you."
#[test]
fn the_user_managers_of_a_clinic_are_those_holding_edit_users() {
    // Arrange
    let snapshot = snapshot(
        vec![org("clinic", &[])],
        vec![
            user("ana", vec![member("clinic", &["web.office_staff"])]),
            user(
                "uma",
                vec![member("clinic", &[]).grants(&["emr.edit_users"])],
            ),
        ],
    );

    // Act
    let managers = snapshot.users_with("emr.edit_users", "clinic");

    // Assert
    let ids: Vec<&str> = managers.iter().map(|(u, _)| *u).collect();
    assert_eq!(ids, ["uma"]);
    assert!(!allowed(&snapshot, "ana", "emr.analytics_access", "clinic"));
}
