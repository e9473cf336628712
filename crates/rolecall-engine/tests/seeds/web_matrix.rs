//! 002_38427b3b9f725620.txt, "Web User Roles and Permissions": six roles ×
//! thirty permissions in five groups.

use rolecall_engine::{Decision, Reason, Scope, Snapshot};
use rolecall_model::world::{OrgSpec, UserSpec};

use crate::support::{allowed, catalog, catalog_ids, member, org, reason_kind, snapshot, user};

/// The seed's column order, as role ids, with the user holding each in the tests.
const ROLES: [(&str, &str); 6] = [
    ("web.system_admin", "sam"),
    ("web.provider", "pia"),
    ("web.clinical_assistant", "cass"),
    ("web.office_staff", "otto"),
    ("web.biller", "bill"),
    ("web.business_manager", "bea"),
];

/// The seed's table, copied row by row: the group heading the row sits
/// under, the permission id, and one cell per role in the column order
/// System Admin, Provider, Clinical Assistant, Office Staff, Biller,
/// Business Manager (`Y` allowed, `-` denied).
const MATRIX: [(&str, &str, &str); 30] = [
    ("General", "web.manage_patient_demographics", "YYYYY-"),
    ("General", "web.manage_patient_appointments", "YYYYY-"),
    ("General", "web.messages", "YYYYY-"),
    ("Clinical", "web.manage_clinical_information", "YYYY--"),
    ("Clinical", "web.view_notes", "-YY---"),
    ("Clinical", "web.view_signed_notes", "-Y----"),
    ("Clinical", "web.view_owner_notes_only", "-Y----"),
    ("Clinical", "web.send_print_prescriptions", "-Y----"),
    ("Clinical", "web.manage_refills", "-YY---"),
    ("Clinical", "web.view_labs_studies", "-YYY--"),
    ("Clinical", "web.share_labs_studies", "-YY---"),
    ("Clinical", "web.review_sign_results", "-YY---"),
    ("Billing", "web.manage_charge_entries", "Y---Y-"),
    ("Billing", "web.view_claims_status", "Y---Y-"),
    ("Billing", "web.view_patient_collections_status", "Y---Y-"),
    ("Billing", "web.view_payout_report", "Y---YY"),
    ("Billing", "web.billing_analytics", "Y----Y"),
    ("Engage", "web.manage_online_profile", "YY-Y--"),
    ("Engage", "web.manage_surveys_results", "YY----"),
    ("Engage", "web.view_online_directory_results", "YYYYY-"),
    (
        "Engage",
        "web.manage_patient_broadcast_communication",
        "YYYY--",
    ),
    ("Engage", "web.manage_patient_intake", "YY-Y--"),
    (
        "Administrative",
        "web.manage_practice_information",
        "Y---Y-",
    ),
    ("Administrative", "web.manage_insurance", "Y---Y-"),
    (
        "Administrative",
        "web.manage_user_accounts_subscriptions",
        "Y-----",
    ),
    (
        "Administrative",
        "web.manage_appointment_settings",
        "YYYYY-",
    ),
    ("Administrative", "web.manage_clinical_settings", "YY----"),
    ("Administrative", "web.manage_demographic_import", "YYYYY-"),
    ("Administrative", "web.manage_clinical_import", "YYY---"),
    ("Administrative", "web.manage_security_policies", "Y-----"),
];

/// The groups that only a module subscription turns on.
const GATED_GROUPS: [&str; 3] = ["Clinical", "Billing", "Engage"];

/// One user per web role, all members of `clinic`.
fn one_user_per_role(clinic: OrgSpec) -> Snapshot {
    let users: Vec<UserSpec> = ROLES
        .iter()
        .map(|(role, id)| user(id, vec![member("clinic", &[role])]))
        .collect();
    snapshot(vec![clinic], users)
}

/// Every cell whose decision differs from `expected(group, cell)`, described.
fn mismatches(snapshot: &Snapshot, expected: impl Fn(&str, char) -> bool) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (group, permission, cells) in MATRIX {
        assert_eq!(cells.len(), ROLES.len(), "row {permission} has six cells");
        for ((role, user), cell) in ROLES.iter().zip(cells.chars()) {
            checked += 1;
            let want = expected(group, cell);
            let got = allowed(snapshot, user, permission, "clinic");
            if got != want {
                wrong.push(format!(
                    "{permission} for {role}: expected {}, got {}",
                    if want { "allow" } else { "deny" },
                    if got { "allow" } else { "deny" }
                ));
            }
        }
    }
    (checked, wrong)
}

/// DESIGN.md: "Permissions, exactly these thirty (the seed's row labels in
/// lower snake case ...)".
#[test]
fn the_catalog_has_exactly_the_thirty_web_permissions_of_the_seed() {
    // Arrange
    let mut seed: Vec<String> = MATRIX.iter().map(|(_, p, _)| (*p).to_owned()).collect();
    seed.sort();

    // Act
    let mut shipped = catalog_ids("web.");
    shipped.sort();

    // Assert
    assert_eq!(shipped, seed);
}

/// 002_38427b3b9f725620.txt: "Below are the available roles and brief
/// descriptions of each role."
#[test]
fn the_six_web_roles_carry_the_seed_names_and_descriptions() {
    // Arrange
    let seed = [
        (
            "web.system_admin",
            "System Admin",
            "The staff member who configures the system and manages user accounts",
        ),
        (
            "web.provider",
            "Provider",
            "Providers who perform clinical tasks and are the rendering provider on claims",
        ),
        (
            "web.clinical_assistant",
            "Clinical Assistant",
            "Medical assistants and nurses who perform basic clinical tasks",
        ),
        (
            "web.office_staff",
            "Office Staff",
            "Front office and administrative personnel",
        ),
        (
            "web.biller",
            "Biller",
            "Office staff who are responsible for billing tasks",
        ),
        (
            "web.business_manager",
            "Business Manager",
            "Office staff who perform bookkeeping and accounting tasks",
        ),
    ];
    let catalog = catalog();

    for (id, name, description) in seed {
        // Act
        let role = catalog.role(id).map(|r| &catalog.roles[r.ix()]);

        // Assert
        let role = role.unwrap_or_else(|| panic!("role {id} is in the catalog"));
        assert_eq!(
            (role.name.as_str(), role.description.as_str()),
            (name, description)
        );
    }
}

/// 002_38427b3b9f725620.txt: "Below is a comparison of what each role can
/// see and do within the web platform."
#[test]
fn with_every_module_subscribed_all_180_cells_match_the_seed_matrix() {
    // Arrange
    let snapshot = one_user_per_role(org(
        "clinic",
        &["web.clinical", "web.billing", "web.engage"],
    ));

    // Act
    let (checked, wrong) = mismatches(&snapshot, |_, cell| cell == 'Y');

    // Assert
    assert_eq!(checked, 180);
    assert!(
        wrong.is_empty(),
        "{} cells differ from the seed:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// 002_38427b3b9f725620.txt: "Clinical Permissions, Billing Permissions, and
/// Engage Permissions are available with module subscription."
#[test]
fn without_subscriptions_clinical_billing_and_engage_are_denied_to_every_role() {
    // Arrange
    let snapshot = one_user_per_role(org("clinic", &[]));

    // Act
    let (checked, wrong) = mismatches(&snapshot, |group, cell| {
        !GATED_GROUPS.contains(&group) && cell == 'Y'
    });

    // Assert
    assert_eq!(checked, 180);
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// 002_38427b3b9f725620.txt: "Clinical Permissions, Billing Permissions, and
/// Engage Permissions are available with module subscription."
#[test]
fn an_unsubscribed_module_fails_the_second_condition() {
    // Arrange
    let snapshot = one_user_per_role(org("clinic", &["web.clinical"]));

    // Act
    let billing = snapshot.explain("sam", "web.manage_charge_entries", "clinic", None);
    let engage = snapshot.explain("sam", "web.manage_online_profile", "clinic", None);
    let clinical = snapshot.explain("sam", "web.manage_clinical_information", "clinic", None);

    // Assert
    assert_eq!(billing.failed_condition, Some(2));
    assert_eq!(
        billing.reason,
        Reason::ModuleNotSubscribed {
            module: "web.billing".into(),
            needs_any_of: vec!["web.billing".into()],
        }
    );
    assert_eq!(reason_kind(&engage), "module_not_subscribed");
    assert!(clinical.allowed, "{}", clinical.sentence);
}

/// 002_38427b3b9f725620.txt: the Provider column holds "View Owner Notes
/// Only"; DESIGN.md: "holding `web.view_owner_notes_only` narrows
/// `web.view_notes` and `web.view_signed_notes` to `own`".
#[test]
fn a_provider_views_notes_and_signed_notes_only_for_their_own_patients() {
    // Arrange
    let snapshot = one_user_per_role(org("clinic", &["web.clinical"]));

    // Act
    let notes = snapshot.check("pia", "web.view_notes", "clinic", None);
    let signed = snapshot.check("pia", "web.view_signed_notes", "clinic", None);
    let why = snapshot.explain("pia", "web.view_notes", "clinic", None);

    // Assert
    assert_eq!(notes, Decision::OWN);
    assert_eq!(signed, Decision::OWN);
    assert_eq!(why.scope, Some(Scope::Own));
    match why.reason {
        Reason::Granted { narrowed_by, .. } => {
            assert_eq!(narrowed_by.as_deref(), Some("web.view_owner_notes_only"));
        }
        other => panic!("expected a grant, got {other:?}"),
    }
}

/// 002_38427b3b9f725620.txt: "View Notes" is Y for the Clinical Assistant,
/// who does not hold "View Owner Notes Only".
#[test]
fn a_clinical_assistant_views_every_note() {
    // Arrange
    let snapshot = one_user_per_role(org("clinic", &["web.clinical"]));

    // Act
    let unowned = snapshot.check("cass", "web.view_notes", "clinic", None);
    let others = snapshot.check("cass", "web.view_notes", "clinic", Some("pia"));

    // Assert
    assert_eq!(unowned, Decision::ALL);
    assert_eq!(others, Decision::ALL);
}

/// DESIGN.md, condition 4: "if the effective grant is scoped `own` ... and
/// `owner` is given, then `owner` is the user".
#[test]
fn a_provider_is_denied_someone_elses_notes_and_allowed_their_own() {
    // Arrange
    let snapshot = one_user_per_role(org("clinic", &["web.clinical"]));

    // Act
    let theirs = snapshot.check("pia", "web.view_notes", "clinic", Some("cass"));
    let own = snapshot.check("pia", "web.view_notes", "clinic", Some("pia"));
    let why = snapshot.explain("pia", "web.view_notes", "clinic", Some("cass"));

    // Assert
    assert_eq!(theirs, Decision::DENIED);
    assert_eq!(own, Decision::OWN);
    assert_eq!(why.failed_condition, Some(4));
    assert_eq!(
        why.reason,
        Reason::NotOwner {
            owner: "cass".into(),
            narrowed_by: Some("web.view_owner_notes_only".into()),
        }
    );
}
