//! The check path allocates nothing: host applications call it thousands of
//! times a second, on every request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rolecall_engine::Snapshot;
use rolecall_model::world::{Defaults, MembershipSpec, OrgSpec, UserSpec, WorldSpec};
use rolecall_model::{Catalog, World};

fn snapshot() -> Snapshot {
    let catalog = Arc::new(Catalog::default_catalog());
    let orgs = (0..20)
        .map(|i| OrgSpec {
            id: format!("org-{i}"),
            parent: (i >= 10).then(|| format!("org-{}", i - 10)),
            subscriptions: if i % 2 == 0 {
                vec!["web.billing".into(), "web.clinical".into()]
            } else {
                Vec::new()
            },
            ..OrgSpec::default()
        })
        .collect();
    let roles = [
        "web.system_admin",
        "web.provider",
        "web.biller",
        "web.office_staff",
    ];
    let users = (0..200)
        .map(|i| UserSpec {
            id: format!("user-{i}"),
            membership: vec![MembershipSpec {
                org: format!("org-{}", i % 20),
                roles: vec![roles[i % roles.len()].into()],
                scheduler_type: Some("provider".into()),
                ..MembershipSpec::default()
            }],
            ..UserSpec::default()
        })
        .collect();
    let spec = WorldSpec {
        orgs,
        users,
        ..WorldSpec::default()
    };
    Snapshot::build(
        Arc::clone(&catalog),
        World::build(&catalog, &spec, Defaults::Apply).unwrap(),
    )
}

#[test]
fn checks_by_string_and_by_key_allocate_nothing() {
    let snapshot = snapshot();
    let permissions = [
        "web.manage_charge_entries",
        "web.view_notes",
        "scheduler.schedule.view",
        "tasking.task.add",
        "web.nope",
    ];
    let questions: Vec<(String, &str, String, Option<String>)> = (0..1000)
        .map(|i| {
            let owner = match i % 3 {
                0 => None,
                1 => Some(format!("user-{}", i % 200)),
                _ => Some("someone-else".to_owned()),
            };
            // Mostly the user's own organization, sometimes any (or an unknown one).
            let org = if i % 4 == 0 { i % 23 } else { (i % 210) % 20 };
            (
                format!("user-{}", i % 210),
                permissions[i % permissions.len()],
                format!("org-{org}"),
                owner,
            )
        })
        .collect();
    let keys: Vec<_> = questions
        .iter()
        .filter_map(|(u, p, o, owner)| {
            Some((
                snapshot.user_key(u)?,
                snapshot.permission_key(p)?,
                snapshot.org_key(o)?,
                owner.as_deref().and_then(|w| snapshot.user_key(w)),
            ))
        })
        .collect();
    let mut allowed = 0;

    let info = allocation_counter::measure(|| {
        for (user, permission, org, owner) in &questions {
            allowed += usize::from(
                snapshot
                    .check(user, permission, org, owner.as_deref())
                    .allowed,
            );
        }
        for (user, permission, org, owner) in &keys {
            allowed += usize::from(
                snapshot
                    .check_keys(*user, *permission, *org, *owner)
                    .allowed,
            );
        }
    });

    assert!(
        allowed > 300,
        "the questions exercise allowed paths too ({allowed})"
    );
    assert_eq!(info.count_total, 0, "the check path allocated");
}
