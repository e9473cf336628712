//! The decision rules of DESIGN.md ("Decision") that every application
//! shares: account status, membership, organization trees, direct grants and
//! denials, subscriptions, listings and explanations.

use rolecall_engine::{Reason, Scope};
use rolecall_model::world::{OrgSpec, Status, UserSpec};

use crate::support::{
    allowed, catalog_ids, clinic, member, org, reason_kind, snapshot, user, MembershipBuilder,
};

/// A system admin of a fully subscribed clinic, with this account status.
fn admin_with_status(status: Status) -> UserSpec {
    UserSpec {
        status,
        ..user(
            "sam",
            vec![member("acme", &["web.system_admin"]).grants(&["emr.edit_users"])],
        )
    }
}

fn subscribed(id: &str) -> OrgSpec {
    org(
        id,
        &["web.clinical", "web.billing", "web.engage", "revserve"],
    )
}

/// DESIGN.md: "Status: invited, active, disabled"; condition 1: "the user is
/// active".
#[test]
fn disabled_and_invited_users_are_denied_everything() {
    for status in [Status::Disabled, Status::Invited] {
        // Arrange
        let snapshot = snapshot(vec![subscribed("acme")], vec![admin_with_status(status)]);

        // Act
        let granted = snapshot.permissions_of("sam", "acme");
        let why = snapshot.explain("sam", "web.messages", "acme", None);

        // Assert
        assert!(granted.is_empty(), "{status:?}: {granted:?}");
        for permission in catalog_ids("") {
            assert!(
                !allowed(&snapshot, "sam", &permission, "acme"),
                "{status:?}: {permission}"
            );
        }
        assert_eq!(why.failed_condition, Some(1));
        assert_eq!(why.reason, Reason::NotActive { status });
        assert_eq!(reason_kind(&why), "not_active");
    }
}

/// DESIGN.md, condition 1: the user "is a member of `org` (or of an ancestor
/// of `org`)".
#[test]
fn a_user_is_denied_in_an_organization_they_do_not_belong_to() {
    // Arrange
    let snapshot = snapshot(
        vec![subscribed("acme"), subscribed("beta")],
        vec![admin_with_status(Status::Active)],
    );

    // Act
    let why = snapshot.explain("sam", "web.messages", "beta", None);

    // Assert
    assert!(!why.allowed);
    assert_eq!(why.failed_condition, Some(1));
    assert_eq!(why.reason, Reason::NotMember);
    assert!(snapshot.permissions_of("sam", "beta").is_empty());
}

/// DESIGN.md, condition 3: "a grant at a parent organization reaches its
/// children".
#[test]
fn a_role_held_in_a_company_reaches_its_clinics_but_not_the_other_way_round() {
    // Arrange
    let snapshot = snapshot(
        vec![
            org("acme-co", &[]),
            OrgSpec {
                name: Some("Acme East".into()),
                ..clinic("acme-east", "acme-co", &[])
            },
        ],
        vec![
            user("cora", vec![member("acme-co", &["web.office_staff"])]),
            user("cleo", vec![member("acme-east", &["web.office_staff"])]),
        ],
    );

    // Act
    let down = snapshot.explain("cora", "web.messages", "acme-east", None);
    let up = snapshot.explain("cleo", "web.messages", "acme-co", None);

    // Assert
    assert!(down.allowed, "{}", down.sentence);
    match &down.reason {
        Reason::Granted { via, .. } => assert_eq!(via[0].org, "acme-co"),
        other => panic!("expected a grant, got {other:?}"),
    }
    assert!(!up.allowed);
    assert_eq!(up.reason, Reason::NotMember);
}

/// DESIGN.md: "direct denials (a box unchecked against a role's default)".
#[test]
fn a_direct_denial_removes_a_permission_the_role_grants() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &[])],
        vec![user(
            "bill",
            vec![member("acme", &["web.biller"]).denials(&["web.messages"])],
        )],
    );

    // Act
    let why = snapshot.explain("bill", "web.messages", "acme", None);

    // Assert
    assert!(!why.allowed);
    assert_eq!(why.failed_condition, Some(3));
    assert_eq!(reason_kind(&why), "denied_on_profile");
    assert!(allowed(
        &snapshot,
        "bill",
        "web.manage_patient_demographics",
        "acme"
    ));
}

/// DESIGN.md: "direct grants (the checkbox permissions of an EMR user profile)".
#[test]
fn a_direct_grant_adds_a_permission_no_role_gives() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &[])],
        vec![user(
            "otto",
            vec![member("acme", &["web.office_staff"]).grants(&["web.manage_insurance"])],
        )],
    );

    // Act
    let why = snapshot.explain("otto", "web.manage_insurance", "acme", None);

    // Assert
    assert!(why.allowed, "{}", why.sentence);
    match &why.reason {
        Reason::Granted { via, .. } => assert_eq!(via[0].kind, "direct_grant"),
        other => panic!("expected a grant, got {other:?}"),
    }
}

/// DESIGN.md: "Unknown ids are denied."
#[test]
fn unknown_users_organizations_and_permissions_are_denied() {
    // Arrange
    let snapshot = snapshot(
        vec![subscribed("acme")],
        vec![admin_with_status(Status::Active)],
    );

    // Act
    let cases = [
        ("nobody", "web.messages", "acme", "unknown_user"),
        ("sam", "web.messages", "nowhere", "unknown_organization"),
        ("sam", "web.no_such_thing", "acme", "unknown_permission"),
    ];

    // Assert
    for (user, permission, org, kind) in cases {
        assert!(
            !allowed(&snapshot, user, permission, org),
            "{user} {permission} {org}"
        );
        let why = snapshot.explain(user, permission, org, None);
        assert!(!why.allowed);
        assert_eq!(reason_kind(&why), kind);
    }
}

/// The project's documented choice where the seeds are silent: subscriptions
/// belong to one organization; a company's subscription does not turn a
/// module on in its clinics.
#[test]
fn a_companys_subscription_does_not_turn_a_module_on_in_its_clinics() {
    // Arrange
    let snapshot = snapshot(
        vec![
            org("acme-co", &["web.billing"]),
            clinic("acme-east", "acme-co", &[]),
        ],
        vec![user("bill", vec![member("acme-co", &["web.biller"])])],
    );

    // Act
    let company = allowed(&snapshot, "bill", "web.manage_charge_entries", "acme-co");
    let clinic = snapshot.explain("bill", "web.manage_charge_entries", "acme-east", None);

    // Assert
    assert!(company);
    assert!(!clinic.allowed);
    assert_eq!(clinic.failed_condition, Some(2));
    assert_eq!(reason_kind(&clinic), "module_not_subscribed");
}

/// DESIGN.md: "Belongs to one or more organizations. In each it holds roles".
#[test]
fn roles_are_held_per_organization() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &["web.billing"]), org("beta", &["web.billing"])],
        vec![user(
            "pat",
            vec![
                member("acme", &["web.biller"]),
                member("beta", &["web.office_staff"]),
            ],
        )],
    );

    // Act
    let in_acme = allowed(&snapshot, "pat", "web.manage_charge_entries", "acme");
    let in_beta = allowed(&snapshot, "pat", "web.manage_charge_entries", "beta");

    // Assert
    assert!(in_acme);
    assert!(!in_beta);
}

/// DESIGN.md: "'what may U do?' / 'who may do P?' to draw menus and lists".
#[test]
fn permissions_of_and_users_with_list_exactly_what_the_world_holds() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &["web.clinical", "web.billing"])],
        vec![
            user("bea", vec![member("acme", &["web.business_manager"])]),
            user("pia", vec![member("acme", &["web.provider"])]),
            user("cass", vec![member("acme", &["web.clinical_assistant"])]),
            UserSpec {
                status: Status::Disabled,
                ..user("dora", vec![member("acme", &["web.business_manager"])])
            },
        ],
    );

    // Act
    let bea = snapshot.permissions_of("bea", "acme");
    let payout = snapshot.users_with("web.view_payout_report", "acme");
    let notes = snapshot.users_with("web.view_notes", "acme");

    // Assert
    assert_eq!(
        bea,
        [
            ("web.view_payout_report", Scope::All),
            ("web.billing_analytics", Scope::All),
            ("tasking.task.add", Scope::All),
            ("tasking.task.edit", Scope::All),
            ("tasking.task.assign", Scope::All),
            ("tasking.tag.manage", Scope::All),
            ("tasking.group.create", Scope::All),
            ("tasking.group.edit", Scope::All),
        ]
    );
    assert_eq!(payout, [("bea", Scope::All)]);
    assert_eq!(notes, [("pia", Scope::Own), ("cass", Scope::All)]);
}

/// DESIGN.md: "Every decision can be explained ... as one plain-English
/// sentence."
#[test]
fn an_unsubscribed_module_is_explained_in_one_plain_sentence() {
    // Arrange
    let snapshot = snapshot(
        vec![OrgSpec {
            name: Some("Acme PT".into()),
            ..org("acme", &[])
        }],
        vec![user("bill", vec![member("acme", &["web.biller"])])],
    );

    // Act
    let why = snapshot.explain("bill", "web.manage_charge_entries", "acme", None);

    // Assert
    assert_eq!(
        why.sentence,
        "Denied: Acme PT does not subscribe to the Billing module, which Manage charge entries belongs to."
    );
}

/// DESIGN.md: "the answer carries the facts that made it ... as data".
#[test]
fn explanations_serialize_to_json_with_allowed_and_a_reason_kind() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &["web.billing"])],
        vec![user("bill", vec![member("acme", &["web.biller"])])],
    );
    let yes = snapshot.explain("bill", "web.manage_charge_entries", "acme", None);
    let no = snapshot.explain("bill", "web.view_notes", "acme", None);

    // Act
    let yes = serde_json::to_value(&yes).unwrap();
    let no = serde_json::to_value(&no).unwrap();

    // Assert
    assert_eq!(yes["allowed"], serde_json::Value::Bool(true));
    assert_eq!(yes["reason"]["kind"], "granted");
    assert_eq!(no["allowed"], serde_json::Value::Bool(false));
    assert!(no["reason"]["kind"].is_string(), "{no}");
    assert!(no["sentence"].as_str().unwrap().starts_with("Denied: "));
}
