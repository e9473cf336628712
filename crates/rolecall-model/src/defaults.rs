//! Defaults a membership gets when it is created, and derived settings.
//!
//! One code path for the service and for policy test files:
//! - the Analytics default role, derived from EMR permissions, first match
//!   wins ("The default permission set given to your user in Analytics is
//!   based on their user permissions");
//! - a user type's default level, and its initial grants (office staff get
//!   the Dashboard and Reports tabs "when their user permissions are created");
//! - Tasking Standard access for every EMR user ("All EMR users are
//!   automatically set up in Tasking with Standard Access");
//! - a group's access setting, its creator's access type ("if you are a
//!   standard user, any Member Groups you create will be assigned the
//!   standard access setting").

use crate::world::{Membership, World};
use crate::{AccessTypeIx, Catalog, OrgIx, PermissionIx, UserIx};

/// The permissions a membership holds by its own roles and direct grants,
/// less its denials, regardless of subscriptions: what derivation rules read.
pub fn held_permissions(
    catalog: &Catalog,
    world: &World,
    membership: &Membership,
) -> Vec<PermissionIx> {
    let mut held: Vec<PermissionIx> = membership
        .roles
        .iter()
        .flat_map(|role| {
            world
                .role(catalog, *role)
                .grants
                .iter()
                .map(|g| g.permission)
        })
        .chain(membership.grants.iter().map(|g| g.permission))
        .filter(|p| !membership.denials.contains(p))
        .collect();
    held.sort_unstable();
    held.dedup();
    held
}

/// Applies every creation default to a new membership.
pub fn apply_on_create(catalog: &Catalog, world: &World, membership: &mut Membership) {
    apply_default_roles(catalog, world, membership);
    if let Some(user_type) = membership
        .scheduler_type
        .map(|t| &catalog.user_types[t.ix()])
    {
        if membership.scheduler_level.is_none() {
            membership.scheduler_level = user_type.default_level;
        }
        let has_grant_of_app = membership
            .grants
            .iter()
            .any(|g| catalog.perm(g.permission).application == user_type.application);
        if !has_grant_of_app {
            membership
                .grants
                .extend(user_type.initial_grants.iter().copied());
        }
    }
    if membership.tasking_access.is_none() {
        membership.tasking_access = default_access_type(catalog, world, membership);
    }
}

/// Gives a membership the derived role of each application it holds no role
/// of. Called at creation, and by the service whenever a grant changes (the
/// Analytics role appears when Analytics Access is first granted).
pub fn apply_default_roles(catalog: &Catalog, world: &World, membership: &mut Membership) {
    for defaults in &catalog.default_roles {
        let has_role_of_app = membership
            .roles
            .iter()
            .any(|r| world.role(catalog, *r).application == defaults.application);
        if has_role_of_app {
            continue;
        }
        let held = held_permissions(catalog, world, membership);
        let matched = defaults.rules.iter().find(|rule| {
            rule.all_of.iter().all(|p| held.contains(p))
                && (rule.any_of.is_empty() || rule.any_of.iter().any(|p| held.contains(p)))
        });
        if let Some(rule) = matched {
            membership.roles.push(rule.role);
        }
    }
}

/// The access type a membership gets when it names none: the catalog's
/// default, when the membership holds any permission of its applications.
fn default_access_type(
    catalog: &Catalog,
    world: &World,
    membership: &Membership,
) -> Option<AccessTypeIx> {
    let held = held_permissions(catalog, world, membership);
    catalog
        .access_types
        .iter()
        .enumerate()
        .find_map(|(i, access_type)| {
            let applies = held.iter().any(|p| {
                access_type
                    .default_for_users_of
                    .contains(&catalog.perm(*p).application)
            });
            applies.then(|| AccessTypeIx::from_usize(i))
        })
}

/// A group's access setting: its creator's access type in the group's
/// organization (from the nearest membership at or above it).
pub fn group_access(world: &World, creator: UserIx, org: OrgIx) -> Option<AccessTypeIx> {
    let memberships = &world.users.get(creator.ix())?.memberships;
    world
        .ancestors_and_self(org)
        .find_map(|o| memberships.iter().find(|m| m.org == o))
        .and_then(|m| m.tasking_access)
}
