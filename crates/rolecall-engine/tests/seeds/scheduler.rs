//! 003_9c2a19c4f37819bc.txt, the Scheduler's "Create User and Assign User
//! Permissions for Employees".

use rolecall_engine::{Decision, Snapshot};

use crate::support::{
    allowed_ids, catalog, member, org, snapshot, try_world, user, MembershipBuilder,
};

/// A clinic with a provider `pro` at `level` (or the default level), and a
/// colleague `col` whose schedule `pro` may or may not see.
fn provider_at(level: Option<&str>) -> Snapshot {
    snapshot(
        vec![org("clinic", &[])],
        vec![
            user(
                "pro",
                vec![member("clinic", &[]).scheduler("provider", level)],
            ),
            user(
                "col",
                vec![member("clinic", &[]).scheduler("provider", None)],
            ),
        ],
    )
}

/// What `pro` may do with schedules: (view own, view other's, edit own, edit other's).
fn schedule_access(snapshot: &Snapshot) -> [bool; 4] {
    let may = |permission: &str, owner: &str| {
        snapshot
            .check("pro", permission, "clinic", Some(owner))
            .allowed
    };
    [
        may("scheduler.schedule.view", "pro"),
        may("scheduler.schedule.view", "col"),
        may("scheduler.schedule.edit", "pro"),
        may("scheduler.schedule.edit", "col"),
    ]
}

fn tabs(snapshot: &Snapshot, user: &str) -> Vec<String> {
    allowed_ids(snapshot, user, "clinic", "scheduler.tab.")
}

/// 003_9c2a19c4f37819bc.txt: "A. My Schedule Access Only- Will have access to
/// the following 5 tabs".
#[test]
fn level_a_my_schedule_views_only_their_own_schedule_on_five_tabs() {
    // Arrange
    let snapshot = provider_at(Some("my_schedule"));

    // Act
    let access = schedule_access(&snapshot);
    let tabs = tabs(&snapshot, "pro");

    // Assert
    assert_eq!(access, [true, false, false, false]);
    assert_eq!(
        snapshot.check("pro", "scheduler.schedule.view", "clinic", None),
        Decision::OWN
    );
    assert_eq!(tabs.len(), 5, "{tabs:?}");
    assert!(!tabs.iter().any(|t| t == "scheduler.tab.scheduler"));
}

/// 003_9c2a19c4f37819bc.txt: "B. My Schedule + Edit Own Schedule- Will have
/// access to the following 5 tabs and will have access to the add
/// billable/non billable links to only schedule their own sessions".
#[test]
fn level_b_edit_own_views_and_edits_only_their_own_schedule_on_five_tabs() {
    // Arrange
    let snapshot = provider_at(Some("edit_own"));

    // Act
    let access = schedule_access(&snapshot);
    let tabs = tabs(&snapshot, "pro");

    // Assert
    assert_eq!(access, [true, false, true, false]);
    assert_eq!(tabs.len(), 5, "{tabs:?}");
    assert!(!tabs.iter().any(|t| t == "scheduler.tab.scheduler"));
}

/// 003_9c2a19c4f37819bc.txt: "C. My Schedule + Edit Own Schedule + View
/// all-Will have access to the following 6 tabs and will have access to the
/// add billable/non billable links to only schedule their own sessions + be
/// able to view all other schedules under the Scheduler tab".
#[test]
fn level_c_edit_own_view_all_views_every_schedule_and_edits_only_their_own_on_six_tabs() {
    // Arrange
    let snapshot = provider_at(Some("edit_own_view_all"));

    // Act
    let access = schedule_access(&snapshot);
    let tabs = tabs(&snapshot, "pro");

    // Assert
    assert_eq!(access, [true, true, true, false]);
    assert_eq!(
        snapshot.check("pro", "scheduler.schedule.view", "clinic", None),
        Decision::ALL
    );
    assert_eq!(tabs.len(), 6, "{tabs:?}");
    assert!(tabs.iter().any(|t| t == "scheduler.tab.scheduler"));
}

/// 003_9c2a19c4f37819bc.txt: "D. My Schedule + View/Edit all-Will have access
/// to the following 6 tabs and will have access to the add billable/non
/// billable links to schedule their own sessions + be able to schedule
/// sessions for all other providers under the Scheduler tab."
#[test]
fn level_d_view_edit_all_views_and_edits_every_schedule_on_six_tabs() {
    // Arrange
    let snapshot = provider_at(Some("view_edit_all"));

    // Act
    let access = schedule_access(&snapshot);
    let tabs = tabs(&snapshot, "pro");

    // Assert
    assert_eq!(access, [true, true, true, true]);
    assert_eq!(tabs.len(), 6, "{tabs:?}");
    assert!(tabs.iter().any(|t| t == "scheduler.tab.scheduler"));
}

/// 003_9c2a19c4f37819bc.txt: "If Selected Provider (Therapist) User Type:
/// Select the type of permission you want to give your Provider." When none
/// is selected, the catalog's default level (A) applies.
#[test]
fn a_provider_without_a_level_gets_my_schedule() {
    // Arrange
    let default = provider_at(None);
    let level_a = provider_at(Some("my_schedule"));

    // Act
    let world = default.world();
    let pro = &world.users[world.user("pro").unwrap().ix()];
    let level = pro.memberships[0].scheduler_level;

    // Assert
    assert_eq!(level, catalog().access_level("my_schedule"));
    assert_eq!(schedule_access(&default), schedule_access(&level_a));
    assert_eq!(tabs(&default, "pro"), tabs(&level_a, "pro"));
}

/// 003_9c2a19c4f37819bc.txt: "Please note that by default, the Office Staff
/// user type will have access to the Dashboard and Reports section when
/// their user permissions are created."
#[test]
fn office_staff_get_only_the_dashboard_and_reports_tabs_by_default() {
    // Arrange
    let snapshot = snapshot(
        vec![org("clinic", &[])],
        vec![user(
            "ofa",
            vec![member("clinic", &[]).scheduler("office_staff", None)],
        )],
    );

    // Act
    let tabs = tabs(&snapshot, "ofa");
    let schedules = allowed_ids(&snapshot, "ofa", "clinic", "scheduler.schedule.");

    // Assert
    assert_eq!(tabs, ["scheduler.tab.dashboard", "scheduler.tab.reports"]);
    assert!(schedules.is_empty(), "{schedules:?}");
}

/// 003_9c2a19c4f37819bc.txt: "If Selected Office Staff - User Type Select the
/// checkboxes based on which tabs you want your Office Staff user to have
/// access to."
#[test]
fn office_staff_with_chosen_tabs_get_those_instead_of_the_defaults() {
    // Arrange
    let snapshot = snapshot(
        vec![org("clinic", &[])],
        vec![user(
            "ofa",
            vec![member("clinic", &[])
                .scheduler("office_staff", None)
                .grants(&["scheduler.tab.patients", "scheduler.tab.billing"])],
        )],
    );

    // Act
    let tabs = tabs(&snapshot, "ofa");

    // Assert
    assert_eq!(tabs, ["scheduler.tab.patients", "scheduler.tab.billing"]);
}

/// 003_9c2a19c4f37819bc.txt: the levels A-D belong to "Provider (Therapist)
/// User Type"; office staff select tabs instead.
#[test]
fn a_level_the_user_type_does_not_have_is_rejected_naming_scheduler_level() {
    // Arrange
    let users = vec![user(
        "ofa",
        vec![member("clinic", &[]).scheduler("office_staff", Some("edit_own"))],
    )];

    // Act
    let problems = try_world(vec![org("clinic", &[])], users, Vec::new()).unwrap_err();

    // Assert
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].path.to_string(),
        "user[0].membership[0].scheduler_level"
    );
    assert!(problems[0].message.contains("edit_own"), "{}", problems[0]);
}
