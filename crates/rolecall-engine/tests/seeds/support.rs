//! Builders that keep each test down to the facts it is about.

use std::sync::Arc;

use rolecall_engine::Snapshot;
use rolecall_model::diagnostic::Problem;
use rolecall_model::world::{Defaults, GroupSpec, MembershipSpec, OrgSpec, UserSpec, WorldSpec};
use rolecall_model::{Catalog, World};

/// The shipped default catalog.
pub fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::default_catalog())
}

/// Owned strings from string literals.
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// An organization subscribing to `subscriptions` (gated modules, services).
pub fn org(id: &str, subscriptions: &[&str]) -> OrgSpec {
    OrgSpec {
        id: id.to_owned(),
        subscriptions: strings(subscriptions),
        ..OrgSpec::default()
    }
}

/// A clinic inside the company `parent`.
pub fn clinic(id: &str, parent: &str, subscriptions: &[&str]) -> OrgSpec {
    OrgSpec {
        parent: Some(parent.to_owned()),
        ..org(id, subscriptions)
    }
}

/// An active user with these memberships.
pub fn user(id: &str, memberships: Vec<MembershipSpec>) -> UserSpec {
    UserSpec {
        id: id.to_owned(),
        membership: memberships,
        ..UserSpec::default()
    }
}

/// A membership in `org` holding `roles`.
pub fn member(org: &str, roles: &[&str]) -> MembershipSpec {
    MembershipSpec {
        org: org.to_owned(),
        roles: strings(roles),
        ..MembershipSpec::default()
    }
}

/// The rest of a membership, written as a chain after [`member`].
pub trait MembershipBuilder {
    /// Direct grants (the checkboxes of the user's profile).
    fn grants(self, grants: &[&str]) -> Self;
    /// Direct denials (boxes unchecked against the roles' defaults).
    fn denials(self, denials: &[&str]) -> Self;
    /// A Scheduler user type and, optionally, its access level.
    fn scheduler(self, user_type: &str, level: Option<&str>) -> Self;
    /// A Tasking access type.
    fn tasking(self, access_type: &str) -> Self;
}

impl MembershipBuilder for MembershipSpec {
    fn grants(self, grants: &[&str]) -> Self {
        MembershipSpec {
            grants: strings(grants),
            ..self
        }
    }

    fn denials(self, denials: &[&str]) -> Self {
        MembershipSpec {
            denials: strings(denials),
            ..self
        }
    }

    fn scheduler(self, user_type: &str, level: Option<&str>) -> Self {
        MembershipSpec {
            scheduler_type: Some(user_type.to_owned()),
            scheduler_level: level.map(str::to_owned),
            ..self
        }
    }

    fn tasking(self, access_type: &str) -> Self {
        MembershipSpec {
            tasking_access: Some(access_type.to_owned()),
            ..self
        }
    }
}

/// A member group of `org`.
pub fn group(id: &str, org: &str, created_by: &str, members: &[&str], roles: &[&str]) -> GroupSpec {
    GroupSpec {
        id: id.to_owned(),
        org: org.to_owned(),
        created_by: created_by.to_owned(),
        members: strings(members),
        roles: strings(roles),
    }
}

/// Validates a world against the default catalog, applying creation defaults.
pub fn try_world(
    orgs: Vec<OrgSpec>,
    users: Vec<UserSpec>,
    groups: Vec<GroupSpec>,
) -> Result<World, Vec<Problem>> {
    let spec = WorldSpec {
        orgs,
        users,
        groups,
        ..WorldSpec::default()
    };
    World::build(&catalog(), &spec, Defaults::Apply)
}

/// A snapshot of a valid world with groups.
pub fn snapshot_with_groups(
    orgs: Vec<OrgSpec>,
    users: Vec<UserSpec>,
    groups: Vec<GroupSpec>,
) -> Snapshot {
    let world = try_world(orgs, users, groups).unwrap_or_else(|p| panic!("invalid world: {p:?}"));
    Snapshot::build(catalog(), world)
}

/// A snapshot of a valid world without groups.
pub fn snapshot(orgs: Vec<OrgSpec>, users: Vec<UserSpec>) -> Snapshot {
    snapshot_with_groups(orgs, users, Vec::new())
}

/// The ids of the roles `user`'s membership in `org` holds, after defaults.
pub fn role_ids(snapshot: &Snapshot, user: &str, org: &str) -> Vec<String> {
    let world = snapshot.world();
    let u = world.user(user).expect("known user");
    let o = world.org(org).expect("known organization");
    let membership = world.users[u.ix()]
        .memberships
        .iter()
        .find(|m| m.org == o)
        .expect("a membership in the organization");
    membership
        .roles
        .iter()
        .map(|r| world.role(snapshot.catalog(), *r).id.clone())
        .collect()
}

/// The catalog's permission ids starting with `prefix`, in catalog order.
pub fn catalog_ids(prefix: &str) -> Vec<String> {
    catalog()
        .permissions
        .iter()
        .filter(|p| p.id.starts_with(prefix))
        .map(|p| p.id.clone())
        .collect()
}

/// The catalog's permission ids in module `module`, in catalog order.
pub fn ids_in_module(module: &str) -> Vec<String> {
    let catalog = catalog();
    let module = catalog.module(module).expect("known module");
    catalog
        .permissions
        .iter()
        .filter(|p| p.module == module)
        .map(|p| p.id.clone())
        .collect()
}

/// The permissions starting with `prefix` that `user` may do in `org`
/// (at any scope), in catalog order.
pub fn allowed_ids(snapshot: &Snapshot, user: &str, org: &str, prefix: &str) -> Vec<String> {
    snapshot
        .permissions_of(user, org)
        .into_iter()
        .filter(|(p, _)| p.starts_with(prefix))
        .map(|(p, _)| p.to_owned())
        .collect()
}

/// Whether `user` may do `permission` in `org`, with no resource owner given.
pub fn allowed(snapshot: &Snapshot, user: &str, permission: &str, org: &str) -> bool {
    snapshot.check(user, permission, org, None).allowed
}

/// The `kind` of an explanation's reason, as the API serializes it.
pub fn reason_kind(explanation: &rolecall_engine::Explanation) -> String {
    let json = serde_json::to_value(explanation).expect("an explanation serializes");
    json["reason"]["kind"]
        .as_str()
        .expect("a reason kind")
        .to_owned()
}
