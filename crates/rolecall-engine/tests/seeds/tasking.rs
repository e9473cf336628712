//! 004_d11e5ac358a402a3.txt, "Tasking: Access Settings".

use rolecall_engine::{Reason, Snapshot};
use rolecall_model::world::{GroupSpec, OrgSpec, UserSpec};

use crate::support::{
    allowed, allowed_ids, catalog, catalog_ids, clinic, group, member, org, reason_kind, role_ids,
    snapshot, snapshot_with_groups, user, MembershipBuilder,
};

/// "Add and Edit tasks and member groups", "create and edit tasks and Task
/// Tags, assign tasks to other users, and create Member Groups".
const TASK_WORK: [&str; 6] = [
    "tasking.task.add",
    "tasking.task.edit",
    "tasking.task.assign",
    "tasking.tag.manage",
    "tasking.group.create",
    "tasking.group.edit",
];

/// The organizations of the Tasking tests:
/// - `acme`, a customer without RCM services, and `other`, an unrelated one;
/// - `served` (RevServe) and `equipped` (RevEquip), customers using RCM services;
/// - `rcm-co`, a partner providing RCM services, managing `client`, a company
///   with the clinic `client-east`.
fn orgs() -> Vec<OrgSpec> {
    vec![
        org("acme", &[]),
        org("other", &[]),
        org("served", &["revserve"]),
        org("equipped", &["revequip"]),
        OrgSpec {
            manages: vec!["client".into()],
            ..org("rcm-co", &[])
        },
        org("client", &["revserve", "web.billing"]),
        clinic("client-east", "client", &[]),
    ]
}

/// `emma`, an EMR user of `acme`, `served` and `equipped`; `rita`, the
/// Partner RCM user of `rcm-co`; `stan`, a Standard user of `rcm-co`;
/// `cara`, a biller of `client`.
fn users() -> Vec<UserSpec> {
    vec![
        user(
            "emma",
            vec![
                member("acme", &["web.office_staff"]),
                member("served", &["web.office_staff"]),
                member("equipped", &["web.office_staff"]),
            ],
        ),
        user(
            "rita",
            vec![member("rcm-co", &["web.biller"]).tasking("partner_rcm")],
        ),
        user("stan", vec![member("rcm-co", &["web.biller"])]),
        user("cara", vec![member("client", &["web.biller"])]),
    ]
}

fn tasking_world(groups: Vec<GroupSpec>) -> Snapshot {
    snapshot_with_groups(orgs(), users(), groups)
}

/// The access type id of `user`'s membership in `org`.
fn access_type(snapshot: &Snapshot, user: &str, org: &str) -> Option<String> {
    let world = snapshot.world();
    let u = world.user(user).unwrap();
    let o = world.org(org).unwrap();
    world.users[u.ix()]
        .memberships
        .iter()
        .find(|m| m.org == o)
        .and_then(|m| m.tasking_access)
        .map(|t| snapshot.catalog().access_types[t.ix()].id.clone())
}

/// 004_d11e5ac358a402a3.txt: "All EMR users are automatically set up in
/// Tasking with Standard Access"
#[test]
fn every_emr_user_is_set_up_with_standard_access() {
    // Arrange
    let snapshot = snapshot(
        vec![org("acme", &[])],
        vec![
            user("web", vec![member("acme", &["web.business_manager"])]),
            user(
                "emr",
                vec![member("acme", &[]).grants(&["emr.analytics_access"])],
            ),
        ],
    );

    // Act
    let web = access_type(&snapshot, "web", "acme");
    let emr = access_type(&snapshot, "emr", "acme");

    // Assert
    assert_eq!(web.as_deref(), Some("standard"));
    assert_eq!(emr.as_deref(), Some("standard"));
}

/// 004_d11e5ac358a402a3.txt: "Standard users can create and edit tasks and
/// Task Tags, assign tasks to other users, and create Member Groups"
#[test]
fn a_standard_user_works_on_tasks_tags_and_groups_in_their_own_organization() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    for permission in TASK_WORK {
        // Act
        let decision = snapshot.check("emma", permission, "acme", None);

        // Assert
        assert!(decision.allowed, "{permission}");
    }
}

/// 004_d11e5ac358a402a3.txt: "Standard Access | Add and Edit tasks and member
/// groups within the organization"; "Each user will have access to the same
/// organizations as defined in the WebPT EMR and/or WebPT Billing."
#[test]
fn a_standard_user_cannot_work_on_tasks_in_another_organization() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    for permission in TASK_WORK {
        // Act
        let why = snapshot.explain("emma", permission, "other", None);

        // Assert
        assert!(!why.allowed, "{permission}");
        assert_eq!(why.failed_condition, Some(1));
        assert_eq!(why.reason, Reason::NotMember);
    }
}

/// 004_d11e5ac358a402a3.txt: "The ability to assign a task to an RCM group is
/// available exclusively for Members who use RCM services (RevServe and/or
/// RevEquip)."
#[test]
fn assigning_to_an_rcm_group_needs_revserve_or_revequip() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    // Act
    let with_revserve = allowed(&snapshot, "emma", "tasking.task.assign_rcm_group", "served");
    let with_revequip = allowed(
        &snapshot,
        "emma",
        "tasking.task.assign_rcm_group",
        "equipped",
    );
    let without = snapshot.explain("emma", "tasking.task.assign_rcm_group", "acme", None);

    // Assert
    assert!(with_revserve);
    assert!(with_revequip);
    assert!(!without.allowed);
    assert_eq!(without.failed_condition, Some(2));
    assert_eq!(
        without.reason,
        Reason::ModuleNotSubscribed {
            module: "tasking.rcm".into(),
            needs_any_of: vec!["revserve".into(), "revequip".into()],
        }
    );
}

/// 004_d11e5ac358a402a3.txt: "Partner RCM Access | Add and Edit tasks and
/// member groups within the organizations they manage"
#[test]
fn a_partner_rcm_user_works_on_tasks_in_the_organizations_their_organization_manages() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    for permission in TASK_WORK {
        // Act
        let decision = snapshot.check("rita", permission, "client", None);

        // Assert
        assert!(decision.allowed, "{permission}");
    }
    assert!(allowed(
        &snapshot,
        "rita",
        "tasking.task.assign_rcm_group",
        "client"
    ));
}

/// 004_d11e5ac358a402a3.txt: "This Access Type is reserved for Members that
/// provide RCM services for other Members." DESIGN.md: "such a partner
/// reaches only that access type's permissions in the managed organization,
/// nothing else".
#[test]
fn a_partner_rcm_user_has_no_web_or_emr_permission_in_a_managed_organization() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    // Act
    let reached = snapshot.permissions_of("rita", "client");
    let why = snapshot.explain("rita", "web.manage_charge_entries", "client", None);

    // Assert
    let reached: Vec<&str> = reached.iter().map(|(p, _)| *p).collect();
    assert_eq!(reached, catalog_ids("tasking."));
    for permission in catalog_ids("web.").iter().chain(&catalog_ids("emr.")) {
        assert!(
            !allowed(&snapshot, "rita", permission, "client"),
            "{permission}"
        );
    }
    assert!(!why.allowed);
    assert_eq!(why.failed_condition, Some(1));
    assert_eq!(reason_kind(&why), "outside_partner_access");
    assert_eq!(
        why.reason,
        Reason::OutsidePartnerAccess {
            access_type: "partner_rcm".into(),
            partner_of: "rcm-co".into(),
        }
    );
}

/// 004_d11e5ac358a402a3.txt: "within the organizations they manage" -- a
/// managed company's clinics are managed with it.
#[test]
fn a_partner_rcm_user_reaches_the_clinics_of_a_managed_company() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    for permission in TASK_WORK {
        // Act
        let decision = snapshot.check("rita", permission, "client-east", None);

        // Assert
        assert!(decision.allowed, "{permission}");
    }
    assert!(!allowed(&snapshot, "rita", "web.messages", "client-east"));
}

/// 004_d11e5ac358a402a3.txt: "Partner RCM Access ... Manually assigned to
/// specific users during Onboarding". A Standard user of the partner does
/// not reach its clients.
#[test]
fn a_standard_user_of_the_partner_cannot_reach_the_managed_organization() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    // Act
    let why = snapshot.explain("stan", "tasking.task.add", "client", None);

    // Assert
    assert_eq!(
        access_type(&snapshot, "stan", "rcm-co").as_deref(),
        Some("standard")
    );
    assert!(!why.allowed);
    assert_eq!(why.reason, Reason::NotMember);
    assert!(allowed_ids(&snapshot, "stan", "client", "").is_empty());
}

/// The catalog's choice where the seed is silent: "Partner users keep Tasking
/// in their own organization too".
#[test]
fn a_partner_rcm_user_keeps_tasking_in_their_own_organization() {
    // Arrange
    let snapshot = tasking_world(Vec::new());

    // Act
    let own = allowed(&snapshot, "rita", "tasking.task.add", "rcm-co");

    // Assert
    assert!(own);
}

/// 004_d11e5ac358a402a3.txt: "if you are a standard user, any Member Groups
/// you create will be assigned the standard access setting."
#[test]
fn a_group_created_by_a_standard_user_has_standard_access() {
    // Arrange
    let groups = vec![group("front-desk", "acme", "emma", &["emma"], &[])];

    // Act
    let snapshot = tasking_world(groups);

    // Assert
    let world = snapshot.world();
    let created = &world.groups[world.group("front-desk").unwrap().ix()];
    assert_eq!(created.access, catalog().access_type("standard"));
}

/// 004_d11e5ac358a402a3.txt: "When creating Member Groups, individual user
/// access types will automatically dictate the Member Group access setting."
#[test]
fn a_group_created_by_a_partner_rcm_user_has_partner_rcm_access() {
    // Arrange
    let groups = vec![group("rcm-team", "rcm-co", "rita", &["rita", "stan"], &[])];

    // Act
    let snapshot = tasking_world(groups);

    // Assert
    let world = snapshot.world();
    let created = &world.groups[world.group("rcm-team").unwrap().ix()];
    assert_eq!(created.access, catalog().access_type("partner_rcm"));
}

/// DESIGN.md: "A group may hold roles; its members then hold them too" -- in
/// the group's organization only.
#[test]
fn a_groups_roles_are_held_by_its_members_in_the_groups_organization() {
    // Arrange
    let orgs = vec![org("acme", &["web.billing"]), org("beta", &["web.billing"])];
    let users = vec![
        user("gus", vec![member("acme", &[]), member("beta", &[])]),
        user("nia", vec![member("acme", &[])]),
    ];
    let groups = vec![group(
        "billing-team",
        "acme",
        "gus",
        &["gus"],
        &["web.biller"],
    )];

    // Act
    let snapshot = snapshot_with_groups(orgs, users, groups);
    let why = snapshot.explain("gus", "web.manage_charge_entries", "acme", None);

    // Assert
    assert!(why.allowed, "{}", why.sentence);
    match &why.reason {
        Reason::Granted { via, .. } => {
            assert_eq!(via[0].kind, "group_role");
            assert_eq!(via[0].group.as_deref(), Some("billing-team"));
        }
        other => panic!("expected a grant, got {other:?}"),
    }
    assert!(role_ids(&snapshot, "gus", "acme").is_empty());
    assert!(!allowed(
        &snapshot,
        "gus",
        "web.manage_charge_entries",
        "beta"
    ));
    assert!(!allowed(
        &snapshot,
        "nia",
        "web.manage_charge_entries",
        "acme"
    ));
}
