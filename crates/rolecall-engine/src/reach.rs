//! How a user's access reaches an organization, and what it adds up to.
//!
//! [`reach`] lists every contribution (a role, a group's role, direct grants,
//! a user type, an access level, an access type, possibly through a partner
//! link) and every denial that applies to `user` in `org`; [`Rules::effective`]
//! turns them into the two permission sets the engine answers from. The
//! compiled snapshot and the explanations both use these two functions.

use rolecall_model::world::Status;
use rolecall_model::{
    AccessLevelIx, AccessTypeIx, Catalog, Grant, GroupIx, OrgIx, PermissionIx, RoleIx, Scope,
    UserIx, UserTypeIx, World,
};

use crate::bits;

/// Links between organizations and users, computed once per snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    /// Each organization's clinics.
    pub children: Vec<Vec<OrgIx>>,
    /// The organizations that manage each organization (partner links).
    pub managers: Vec<Vec<OrgIx>>,
    /// The groups each user is a member of.
    pub user_groups: Vec<Vec<GroupIx>>,
}

impl Topology {
    pub fn new(world: &World) -> Self {
        let mut children = vec![Vec::new(); world.orgs.len()];
        let mut managers = vec![Vec::new(); world.orgs.len()];
        for (i, org) in world.orgs.iter().enumerate() {
            let ix = OrgIx::from_usize(i);
            if let Some(parent) = org.parent {
                children[parent.ix()].push(ix);
            }
            for managed in &org.manages {
                managers[managed.ix()].push(ix);
            }
        }
        let mut user_groups = vec![Vec::new(); world.users.len()];
        for (i, group) in world.groups.iter().enumerate() {
            for member in &group.members {
                user_groups[member.ix()].push(GroupIx::from_usize(i));
            }
        }
        Self {
            children,
            managers,
            user_groups,
        }
    }

    /// `org` and every organization below it.
    pub fn subtree(&self, org: OrgIx, out: &mut Vec<OrgIx>) {
        let start = out.len();
        out.push(org);
        let mut next = start;
        while next < out.len() {
            let current = out[next];
            out.extend_from_slice(&self.children[current.ix()]);
            next += 1;
        }
    }

    /// Every organization an active user reaches, sorted, without repeats.
    pub fn reached_orgs(&self, catalog: &Catalog, world: &World, user: UserIx) -> Vec<OrgIx> {
        let user = &world.users[user.ix()];
        let mut orgs = Vec::new();
        if user.status != Status::Active {
            return orgs;
        }
        for membership in &user.memberships {
            let own_start = orgs.len();
            self.subtree(membership.org, &mut orgs);
            let reaches_managed = membership
                .tasking_access
                .is_some_and(|t| catalog.access_types[t.ix()].reaches_managed);
            if reaches_managed {
                let own: Vec<OrgIx> = orgs[own_start..].to_vec();
                for partner in own {
                    for managed in &world.orgs[partner.ix()].manages {
                        self.subtree(*managed, &mut orgs);
                    }
                }
            }
        }
        orgs.sort_unstable();
        orgs.dedup();
        orgs
    }
}

/// Where a contribution comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A role of the membership.
    Role(RoleIx),
    /// A role held through a group.
    GroupRole(GroupIx, RoleIx),
    /// The membership's direct grants.
    Direct,
    /// The membership's user type.
    UserType(UserTypeIx),
    /// The membership's access level.
    Level(AccessLevelIx),
    /// The membership's access type.
    AccessType(AccessTypeIx),
}

/// Grants that reach the organization, and where they come from.
#[derive(Debug, Clone)]
pub(crate) struct Contribution<'w> {
    pub source: Source,
    /// The organization of the membership (or group) it comes from.
    pub from_org: OrgIx,
    /// The managing organization, when it reaches through a partner link.
    pub partner_of: Option<OrgIx>,
    pub grants: &'w [Grant],
}

/// Everything that gives or takes access for one user in one organization.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reach<'w> {
    pub contributions: Vec<Contribution<'w>>,
    /// Denied permissions, with the organization of the membership denying them.
    pub denials: Vec<(PermissionIx, OrgIx)>,
    /// Whether the user is a member of the organization or of one above it
    /// (rather than reaching it only through a partner link).
    pub member: bool,
}

/// What gives `user` access in `org`; `None` when nothing does (not a
/// member, not a partner, or not active).
pub(crate) fn reach<'w>(
    catalog: &'w Catalog,
    world: &'w World,
    topology: &Topology,
    user: UserIx,
    org: OrgIx,
) -> Option<Reach<'w>> {
    let account = &world.users[user.ix()];
    if account.status != Status::Active {
        return None;
    }
    let mut reach = Reach::default();
    for membership in &account.memberships {
        let from_org = membership.org;
        let direct = world.is_at_or_above(from_org, org);
        let mut add = |source, grants: &'w [Grant], partner_of| {
            reach.contributions.push(Contribution {
                source,
                from_org,
                partner_of,
                grants,
            });
        };
        let access_type = membership
            .tasking_access
            .map(|t| (t, &catalog.access_types[t.ix()]));
        if direct {
            for role in &membership.roles {
                add(
                    Source::Role(*role),
                    &world.role(catalog, *role).grants,
                    None,
                );
            }
            add(Source::Direct, &membership.grants, None);
            if let Some(t) = membership.scheduler_type {
                add(
                    Source::UserType(t),
                    &catalog.user_types[t.ix()].grants,
                    None,
                );
            }
            if let Some(level) = membership.scheduler_level {
                add(
                    Source::Level(level),
                    &catalog.access_levels[level.ix()].grants,
                    None,
                );
            }
            if let Some((ix, access)) = access_type.filter(|(_, a)| a.reaches_own) {
                add(Source::AccessType(ix), &access.grants, None);
            }
        }
        // "Partner RCM Access: Add and Edit tasks and member groups within the
        // organizations they manage" -- and only that access type's permissions.
        let partner = access_type
            .filter(|(_, a)| a.reaches_managed)
            .and_then(|(ix, access)| {
                world.ancestors_and_self(org).find_map(|managed| {
                    topology.managers[managed.ix()]
                        .iter()
                        .find(|manager| world.is_at_or_above(from_org, **manager))
                        .map(|manager| (ix, access, *manager))
                })
            });
        if let Some((ix, access, manager)) = partner {
            add(Source::AccessType(ix), &access.grants, Some(manager));
        }
        if direct || partner.is_some() {
            reach.member |= direct;
            reach
                .denials
                .extend(membership.denials.iter().map(|p| (*p, from_org)));
        }
    }
    for group_ix in &topology.user_groups[user.ix()] {
        let group = &world.groups[group_ix.ix()];
        if world.is_at_or_above(group.org, org) {
            for role in &group.roles {
                reach.contributions.push(Contribution {
                    source: Source::GroupRole(*group_ix, *role),
                    from_org: group.org,
                    partner_of: None,
                    grants: &world.role(catalog, *role).grants,
                });
            }
        }
    }
    (reach.member || !reach.contributions.is_empty()).then_some(reach)
}

/// The catalog's rules in the shape the set computation needs.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub words: usize,
    /// Permissions with prerequisites, prerequisites first.
    prerequisites: Vec<(PermissionIx, Vec<PermissionIx>)>,
    /// Restriction permissions and the set each narrows to `own`.
    restrictions: Vec<(PermissionIx, Vec<u64>)>,
}

impl Rules {
    pub fn new(catalog: &Catalog) -> Self {
        let words = bits::words_for(catalog.permissions.len());
        let prerequisites = catalog
            .prerequisite_order
            .iter()
            .filter(|p| !catalog.perm(**p).requires.is_empty())
            .map(|p| (*p, catalog.perm(*p).requires.clone()))
            .collect();
        let restrictions = catalog
            .permissions
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.narrows.is_empty())
            .map(|(i, p)| {
                let mut mask = vec![0; words];
                for target in &p.narrows {
                    bits::insert(&mut mask, *target);
                }
                (PermissionIx::from_usize(i), mask)
            })
            .collect();
        Self {
            words,
            prerequisites,
            restrictions,
        }
    }

    /// The permissions whose module is on in `org`.
    pub fn enabled(&self, catalog: &Catalog, world: &World, org: OrgIx) -> Vec<u64> {
        let subscriptions = &world.orgs[org.ix()].subscriptions;
        let mut set = vec![0; self.words];
        for (i, permission) in catalog.permissions.iter().enumerate() {
            let module = &catalog.modules[permission.module.ix()];
            if !module.is_gated() || module.gated_by.iter().any(|s| subscriptions.contains(s)) {
                bits::insert(&mut set, PermissionIx::from_usize(i));
            }
        }
        set
    }

    /// Writes the effective sets: `any` holds every permission allowed at
    /// some scope, `all` those allowed for every resource.
    ///
    /// Order matters and is the decision's: grants, minus denials, within
    /// the organization's modules, with prerequisites met, then narrowed.
    pub fn effective(&self, reach: &Reach<'_>, enabled: &[u64], any: &mut [u64], all: &mut [u64]) {
        any.fill(0);
        all.fill(0);
        for contribution in &reach.contributions {
            for grant in contribution.grants {
                bits::insert(any, grant.permission);
                if grant.scope == Scope::All {
                    bits::insert(all, grant.permission);
                }
            }
        }
        for (denied, _) in &reach.denials {
            bits::remove(any, *denied);
        }
        for (a, e) in any.iter_mut().zip(enabled) {
            *a &= e;
        }
        for (permission, requires) in &self.prerequisites {
            if bits::has(any, *permission) && !requires.iter().all(|r| bits::has(any, *r)) {
                bits::remove(any, *permission);
            }
        }
        for (restriction, narrowed) in &self.restrictions {
            if bits::has(any, *restriction) {
                for (a, n) in all.iter_mut().zip(narrowed) {
                    *a &= !n;
                }
            }
        }
        for (a, any) in all.iter_mut().zip(any.iter()) {
            *a &= any;
        }
    }

    /// The first prerequisite of `permission` missing from `any`, if any.
    pub fn missing_prerequisite(
        &self,
        any: &[u64],
        permission: PermissionIx,
    ) -> Option<PermissionIx> {
        self.prerequisites
            .iter()
            .find(|(p, _)| *p == permission)
            .and_then(|(_, requires)| requires.iter().copied().find(|r| !bits::has(any, *r)))
    }

    /// The restriction that narrows `permission` in `any`, if any.
    pub fn narrowed_by(&self, any: &[u64], permission: PermissionIx) -> Option<PermissionIx> {
        self.restrictions
            .iter()
            .find(|(r, mask)| bits::has(any, *r) && bits::has(mask, permission))
            .map(|(r, _)| *r)
    }
}
