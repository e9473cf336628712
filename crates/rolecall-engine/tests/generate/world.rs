//! Random worlds for any catalog, and random checks against them.
//!
//! A [`WorldPlan`] becomes a [`WorldSpec`] that [`World::build`] accepts:
//! organizations `o<i>` whose parent is a lower-numbered organization (so
//! parents never form a cycle), users `u<i>` with at most one membership per
//! organization, custom roles `<app>.custom<i>` held only at or below their
//! organization, groups `g<i>` whose creator and members belong to the
//! group's organization or one above it.
//!
//! [`World::build`]: rolecall_model::World::build

use proptest::prelude::*;
use proptest::sample::Index;
use rolecall_model::world::{
    CustomRoleSpec, GroupSpec, MembershipSpec, OrgSpec, Status, UserSpec, WorldSpec,
};
use rolecall_model::Catalog;

use super::{grant_plan, pick, pick_many, GrantPlan};

#[derive(Debug, Clone)]
pub struct OrgPlan {
    parent: Option<Index>,
    subscriptions: Vec<Index>,
    manages: Vec<Index>,
}

#[derive(Debug, Clone)]
pub struct CustomRolePlan {
    app: Index,
    org: Index,
    grants: Vec<GrantPlan>,
}

#[derive(Debug, Clone)]
pub struct MembershipPlan {
    org: Index,
    roles: Vec<Index>,
    grants: Vec<GrantPlan>,
    denials: Vec<Index>,
    scheduler_type: Option<Index>,
    scheduler_level: Option<Index>,
    tasking_access: Option<Index>,
}

#[derive(Debug, Clone)]
pub struct UserPlan {
    status: Status,
    memberships: Vec<MembershipPlan>,
}

#[derive(Debug, Clone)]
pub struct GroupPlan {
    org: Index,
    creator: Index,
    members: Vec<Index>,
    roles: Vec<Index>,
}

/// The choices that make one random world.
#[derive(Debug, Clone)]
pub struct WorldPlan {
    orgs: Vec<OrgPlan>,
    custom_roles: Vec<CustomRolePlan>,
    users: Vec<UserPlan>,
    groups: Vec<GroupPlan>,
}

fn indices(range: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), range)
}

/// Half the time none, otherwise one to `max`.
fn sometimes(max: usize) -> impl Strategy<Value = Vec<Index>> {
    prop_oneof![Just(Vec::new()), indices(1..=max)]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![6 => Just(Status::Active), 1 => Just(Status::Invited), 1 => Just(Status::Disabled)]
}

fn membership() -> impl Strategy<Value = MembershipPlan> {
    (
        any::<Index>(),
        indices(0..=2),
        prop::collection::vec(grant_plan(), 0..=5),
        sometimes(2),
        any::<Option<Index>>(),
        any::<Option<Index>>(),
        any::<Option<Index>>(),
    )
        .prop_map(
            |(org, roles, grants, denials, scheduler_type, scheduler_level, tasking_access)| {
                MembershipPlan {
                    org,
                    roles,
                    grants,
                    denials,
                    scheduler_type,
                    scheduler_level,
                    tasking_access,
                }
            },
        )
}

/// Random worlds: up to 6 organizations, 3 custom roles, 5 users with up
/// to 3 memberships each, and 3 groups.
pub fn world_plan() -> impl Strategy<Value = WorldPlan> {
    let orgs = prop::collection::vec(
        (any::<Option<Index>>(), indices(0..=2), sometimes(2)).prop_map(
            |(parent, subscriptions, manages)| OrgPlan {
                parent,
                subscriptions,
                manages,
            },
        ),
        1..=6,
    );
    let custom_roles = prop::collection::vec(
        (
            any::<Index>(),
            any::<Index>(),
            prop::collection::vec(grant_plan(), 0..=4),
        )
            .prop_map(|(app, org, grants)| CustomRolePlan { app, org, grants }),
        0..=3,
    );
    let users = prop::collection::vec(
        (status(), prop::collection::vec(membership(), 0..=3)).prop_map(|(status, memberships)| {
            UserPlan {
                status,
                memberships,
            }
        }),
        1..=5,
    );
    let groups = prop::collection::vec(
        (
            any::<Index>(),
            any::<Index>(),
            indices(0..=3),
            indices(0..=2),
        )
            .prop_map(|(org, creator, members, roles)| GroupPlan {
                org,
                creator,
                members,
                roles,
            }),
        0..=3,
    );
    (orgs, custom_roles, users, groups).prop_map(|(orgs, custom_roles, users, groups)| WorldPlan {
        orgs,
        custom_roles,
        users,
        groups,
    })
}

/// Whether organization `ancestor` is `org` or above it.
fn at_or_above(parents: &[Option<usize>], ancestor: usize, org: usize) -> bool {
    let mut current = Some(org);
    while let Some(c) = current {
        if c == ancestor {
            return true;
        }
        current = parents[c];
    }
    false
}

/// Written grants of `permissions` (indices into the catalog), each grant once.
fn written_grants(catalog: &Catalog, permissions: &[usize], plans: &[GrantPlan]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for plan in plans {
        let Some(p) = pick(&plan.permission, permissions) else {
            continue;
        };
        let permission = &catalog.permissions[p];
        let written = plan.write(&permission.id, permission.scoped);
        // `id` and `id:all` are the same grant: keep one of them.
        let same = |w: &String| w.trim_end_matches(":all") == written.trim_end_matches(":all");
        if !out.iter().any(same) {
            out.push(written);
        }
    }
    out
}

impl WorldPlan {
    /// The world these choices make in `catalog`.
    pub fn spec(&self, catalog: &Catalog) -> WorldSpec {
        let org_count = self.orgs.len();
        let org_id = |o: usize| format!("o{o}");
        let parents: Vec<Option<usize>> = self
            .orgs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let lower: Vec<usize> = (0..i).collect();
                o.parent.as_ref().and_then(|p| pick(p, &lower))
            })
            .collect();
        let subscription_ids: Vec<String> =
            catalog.subscriptions.iter().map(|s| s.id.clone()).collect();
        let orgs = self
            .orgs
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let others: Vec<usize> = (0..org_count).filter(|x| *x != i).collect();
                OrgSpec {
                    id: org_id(i),
                    name: Some(format!("Org {i}")),
                    parent: parents[i].map(org_id),
                    subscriptions: pick_many(&o.subscriptions, &subscription_ids),
                    manages: pick_many(&o.manages, &others)
                        .into_iter()
                        .map(org_id)
                        .collect(),
                }
            })
            .collect();

        let all_orgs: Vec<usize> = (0..org_count).collect();
        let apps: Vec<usize> = (0..catalog.applications.len()).collect();
        let custom: Vec<(String, usize, usize)> = self
            .custom_roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let app = pick(&r.app, &apps).unwrap_or(0);
                let id = format!("{}.custom{i}", catalog.applications[app].id);
                (id, pick(&r.org, &all_orgs).unwrap_or(0), app)
            })
            .collect();
        let custom_roles = self
            .custom_roles
            .iter()
            .zip(&custom)
            .map(|(r, (id, org, app))| {
                let of_app: Vec<usize> = (0..catalog.permissions.len())
                    .filter(|p| catalog.permissions[*p].application.ix() == *app)
                    .collect();
                CustomRoleSpec {
                    id: id.clone(),
                    org: org_id(*org),
                    name: format!("Custom {id}"),
                    grants: written_grants(catalog, &of_app, &r.grants),
                }
            })
            .collect();
        // Roles that may be held in `org`: built-in, or custom to it or above.
        let roles_in = |org: usize| -> Vec<String> {
            let builtin = catalog.roles.iter().map(|r| r.id.clone());
            let owned = custom
                .iter()
                .filter(|(_, owner, _)| at_or_above(&parents, *owner, org))
                .map(|(id, _, _)| id.clone());
            builtin.chain(owned).collect()
        };

        let all_permissions: Vec<usize> = (0..catalog.permissions.len()).collect();
        let permission_ids: Vec<String> =
            catalog.permissions.iter().map(|p| p.id.clone()).collect();
        let user_types: Vec<usize> = (0..catalog.user_types.len()).collect();
        let access_types: Vec<String> = catalog.access_types.iter().map(|t| t.id.clone()).collect();
        let mut member_orgs: Vec<Vec<usize>> = Vec::new();
        let users: Vec<UserSpec> = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut orgs_of_user = Vec::new();
                let mut membership = Vec::new();
                for m in &u.memberships {
                    let org = pick(&m.org, &all_orgs).unwrap_or(0);
                    if orgs_of_user.contains(&org) {
                        continue;
                    }
                    orgs_of_user.push(org);
                    let scheduler_type =
                        m.scheduler_type.as_ref().and_then(|t| pick(t, &user_types));
                    let scheduler_level = scheduler_type.and_then(|t| {
                        let levels: Vec<String> = catalog.user_types[t]
                            .levels
                            .iter()
                            .map(|l| catalog.access_levels[l.ix()].id.clone())
                            .collect();
                        m.scheduler_level.as_ref().and_then(|l| pick(l, &levels))
                    });
                    membership.push(MembershipSpec {
                        org: org_id(org),
                        roles: pick_many(&m.roles, &roles_in(org)),
                        grants: written_grants(catalog, &all_permissions, &m.grants),
                        denials: pick_many(&m.denials, &permission_ids),
                        scheduler_type: scheduler_type.map(|t| catalog.user_types[t].id.clone()),
                        scheduler_level,
                        tasking_access: m
                            .tasking_access
                            .as_ref()
                            .and_then(|t| pick(t, &access_types)),
                    });
                }
                member_orgs.push(orgs_of_user);
                UserSpec {
                    id: format!("u{i}"),
                    name: Some(format!("User {i}")),
                    status: u.status,
                    membership,
                }
            })
            .collect();

        let groups = self
            .groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let org = pick(&g.org, &all_orgs).unwrap_or(0);
                let eligible: Vec<String> = member_orgs
                    .iter()
                    .enumerate()
                    .filter(|(_, orgs)| orgs.iter().any(|m| at_or_above(&parents, *m, org)))
                    .map(|(u, _)| format!("u{u}"))
                    .collect();
                Some(GroupSpec {
                    id: format!("g{i}"),
                    org: org_id(org),
                    created_by: pick(&g.creator, &eligible)?,
                    members: pick_many(&g.members, &eligible),
                    roles: pick_many(&g.roles, &roles_in(org)),
                })
            })
            .collect();

        WorldSpec {
            orgs,
            users,
            groups,
            custom_roles,
        }
    }
}

/// Whose resource a check is about.
#[derive(Debug, Clone)]
pub enum OwnerPlan {
    /// No owner given.
    None,
    /// The user asking.
    Same,
    /// Some user of the world (possibly the one asking).
    Other(Index),
    /// An id no user has.
    Unknown,
}

/// One random check; each pick may also land on an unknown id.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    user: Index,
    permission: Index,
    org: Index,
    owner: OwnerPlan,
}

/// A check by string ids: user, permission, organization, owner.
#[derive(Debug, Clone)]
pub struct Check {
    pub user: String,
    pub permission: String,
    pub org: String,
    pub owner: Option<String>,
}

/// `count` random checks.
pub fn checks(count: usize) -> impl Strategy<Value = Vec<CheckPlan>> {
    let owner = prop_oneof![
        2 => Just(OwnerPlan::None),
        1 => Just(OwnerPlan::Same),
        2 => any::<Index>().prop_map(OwnerPlan::Other),
        1 => Just(OwnerPlan::Unknown),
    ];
    prop::collection::vec(
        (any::<Index>(), any::<Index>(), any::<Index>(), owner).prop_map(
            |(user, permission, org, owner)| CheckPlan {
                user,
                permission,
                org,
                owner,
            },
        ),
        count,
    )
}

impl CheckPlan {
    /// The check in `catalog` and `world`; one pick in each list is unknown.
    pub fn resolve(&self, catalog: &Catalog, world: &WorldSpec) -> Check {
        let with_unknown = |ids: Vec<String>, unknown: &str| {
            let mut ids = ids;
            ids.push(unknown.to_owned());
            ids
        };
        let users = with_unknown(world.users.iter().map(|u| u.id.clone()).collect(), "ghost");
        let user = pick(&self.user, &users).unwrap_or_default();
        let permissions = with_unknown(
            catalog.permissions.iter().map(|p| p.id.clone()).collect(),
            "zz.unknown",
        );
        let orgs = with_unknown(world.orgs.iter().map(|o| o.id.clone()).collect(), "nowhere");
        let owner = match &self.owner {
            OwnerPlan::None => None,
            OwnerPlan::Same => Some(user.clone()),
            OwnerPlan::Other(index) => pick(index, &users),
            OwnerPlan::Unknown => Some("stranger".to_owned()),
        };
        Check {
            permission: pick(&self.permission, &permissions).unwrap_or_default(),
            org: pick(&self.org, &orgs).unwrap_or_default(),
            user,
            owner,
        }
    }
}
