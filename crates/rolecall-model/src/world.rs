//! The world a catalog is applied to: organizations, users, groups and
//! custom roles.
//!
//! [`WorldSpec`] is the world as written (string ids; a policy test file, or
//! rows from the database); [`World::build`] validates it against a catalog
//! and resolves every id. Problems carry the path of the wrong field
//! (`user[2].membership[0].roles[1]`), which callers turn into a file line or
//! an API field name.

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalog::validate_id;
use crate::diagnostic::{FieldPath, Problem};
use crate::{
    AccessLevelIx, AccessTypeIx, Catalog, Grant, GroupIx, OrgIx, PermissionIx, RoleIx,
    SubscriptionIx, UserIx, UserTypeIx,
};

/// An organization as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSpec {
    /// Stable id.
    pub id: String,
    /// Display name; the id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The company a clinic belongs to.
    #[serde(default)]
    pub parent: Option<String>,
    /// Gated modules and services it subscribes to.
    #[serde(default)]
    pub subscriptions: Vec<String>,
    /// Organizations it manages as a partner (Partner RCM).
    #[serde(default)]
    pub manages: Vec<String>,
}

/// A user as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Stable id.
    pub id: String,
    /// Display name; the id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// `invited`, `active` (the default) or `disabled`.
    #[serde(default)]
    pub status: Status,
    /// The organizations the user belongs to, with their access in each.
    #[serde(default)]
    pub membership: Vec<MembershipSpec>,
}

/// One user's access in one organization, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipSpec {
    /// The organization.
    pub org: String,
    /// Built-in or custom role ids.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Direct grants, `id` or `id:own`.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Direct denials: permissions unchecked against the roles' defaults.
    #[serde(default)]
    pub denials: Vec<String>,
    /// Scheduler user type.
    #[serde(default)]
    pub scheduler_type: Option<String>,
    /// Scheduler access level.
    #[serde(default)]
    pub scheduler_level: Option<String>,
    /// Tasking access type.
    #[serde(default)]
    pub tasking_access: Option<String>,
}

/// A group as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Stable id.
    pub id: String,
    /// The organization the group belongs to.
    pub org: String,
    /// The user who created it; the group takes their access type.
    pub created_by: String,
    /// Its members.
    #[serde(default)]
    pub members: Vec<String>,
    /// Roles every member holds in the group's organization.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A custom role of one organization, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleSpec {
    /// Stable id, `app.name`, distinct from every built-in role.
    pub id: String,
    /// The organization that owns it; it can be held there and below.
    pub org: String,
    /// Display name.
    pub name: String,
    /// What it grants.
    #[serde(default)]
    pub grants: Vec<String>,
}

/// A whole world as written.
#[derive(Debug, Clone, Default)]
pub struct WorldSpec {
    /// Organizations.
    pub orgs: Vec<OrgSpec>,
    /// Users with their memberships.
    pub users: Vec<UserSpec>,
    /// Groups.
    pub groups: Vec<GroupSpec>,
    /// Custom roles.
    pub custom_roles: Vec<CustomRoleSpec>,
}

/// A user's account status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, has not yet set a password; denied everything.
    Invited,
    /// May sign in.
    #[default]
    Active,
    /// Switched off; denied everything.
    Disabled,
}

impl Status {
    /// The lowercase name used in files and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }
}

/// A validated organization.
#[derive(Debug, Clone)]
pub struct Org {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The company a clinic belongs to.
    pub parent: Option<OrgIx>,
    /// What it subscribes to.
    pub subscriptions: Vec<SubscriptionIx>,
    /// What it manages as a partner.
    pub manages: Vec<OrgIx>,
}

/// A validated user.
#[derive(Debug, Clone)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Account status.
    pub status: Status,
    /// One per organization the user belongs to.
    pub memberships: Vec<Membership>,
}

/// A validated membership: a user's access in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The organization.
    pub org: OrgIx,
    /// Roles held there.
    pub roles: Vec<RoleIx>,
    /// Direct grants.
    pub grants: Vec<Grant>,
    /// Direct denials; they win over every grant.
    pub denials: Vec<PermissionIx>,
    /// Scheduler user type.
    pub scheduler_type: Option<UserTypeIx>,
    /// Scheduler access level.
    pub scheduler_level: Option<AccessLevelIx>,
    /// Tasking access type.
    pub tasking_access: Option<AccessTypeIx>,
}

impl Membership {
    /// A membership in `org` holding nothing.
    pub fn empty(org: OrgIx) -> Self {
        Self {
            org,
            roles: Vec::new(),
            grants: Vec::new(),
            denials: Vec::new(),
            scheduler_type: None,
            scheduler_level: None,
            tasking_access: None,
        }
    }
}

/// A validated group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Stable id.
    pub id: String,
    /// The organization it belongs to.
    pub org: OrgIx,
    /// Who created it.
    pub created_by: UserIx,
    /// Its members.
    pub members: Vec<UserIx>,
    /// Roles its members hold through it.
    pub roles: Vec<RoleIx>,
    /// Its access setting: its creator's access type in its organization.
    pub access: Option<AccessTypeIx>,
}

/// A custom role: like a catalog role, owned by one organization.
#[derive(Debug, Clone)]
pub struct CustomRole {
    /// The role itself.
    pub role: crate::catalog::Role,
    /// The organization that owns it.
    pub org: OrgIx,
}

/// A validated world: every reference resolved against one catalog.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// Organizations.
    pub orgs: Vec<Org>,
    /// Users.
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Custom roles; their [`RoleIx`] follows the catalog's roles.
    pub custom_roles: Vec<CustomRole>,
    org_ids: HashMap<String, OrgIx>,
    user_ids: HashMap<String, UserIx>,
    group_ids: HashMap<String, GroupIx>,
    custom_role_ids: HashMap<String, RoleIx>,
}

/// Whether [`World::build`] applies creation defaults to memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    /// Memberships are new (a policy test file): apply [`crate::defaults`].
    Apply,
    /// Memberships were stored with their defaults already applied.
    AlreadyApplied,
}

impl World {
    /// The organization with this id.
    pub fn org(&self, id: &str) -> Option<OrgIx> {
        self.org_ids.get(id).copied()
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<UserIx> {
        self.user_ids.get(id).copied()
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<GroupIx> {
        self.group_ids.get(id).copied()
    }

    /// A role by id: built-in first, then this world's custom roles.
    pub fn role_id(&self, catalog: &Catalog, id: &str) -> Option<RoleIx> {
        catalog
            .role(id)
            .or_else(|| self.custom_role_ids.get(id).copied())
    }

    /// A role's data, built-in or custom.
    pub fn role<'a>(&'a self, catalog: &'a Catalog, role: RoleIx) -> &'a crate::catalog::Role {
        match catalog.roles.get(role.ix()) {
            Some(builtin) => builtin,
            None => &self.custom_roles[role.ix() - catalog.roles.len()].role,
        }
    }

    /// The organization that owns a custom role, `None` for a built-in one.
    pub fn role_owner(&self, catalog: &Catalog, role: RoleIx) -> Option<OrgIx> {
        role.ix()
            .checked_sub(catalog.roles.len())
            .map(|custom| self.custom_roles[custom].org)
    }

    /// `org` and every organization above it, nearest first.
    pub fn ancestors_and_self(&self, org: OrgIx) -> impl Iterator<Item = OrgIx> + '_ {
        std::iter::successors(Some(org), |o| self.orgs[o.ix()].parent)
    }

    /// Whether `ancestor` is `org` or above it.
    pub fn is_at_or_above(&self, ancestor: OrgIx, org: OrgIx) -> bool {
        self.ancestors_and_self(org).any(|o| o == ancestor)
    }

    /// Validates a world against a catalog.
    pub fn build(
        catalog: &Catalog,
        spec: &WorldSpec,
        defaults: Defaults,
    ) -> Result<World, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut world = World::default();
        let root = FieldPath::root();

        // Organizations: ids first, so parents and partners may come in any order.
        for (i, org) in spec.orgs.iter().enumerate() {
            let path = root.item("org", i).key("id");
            if let Err(message) = validate_id(&org.id) {
                problems.push(Problem::new(path, format!("organization id {message}")));
            } else if world
                .org_ids
                .insert(org.id.clone(), OrgIx::from_usize(i))
                .is_some()
            {
                problems.push(Problem::new(
                    path,
                    format!("duplicate organization id `{}`", org.id),
                ));
            }
        }
        for (i, org) in spec.orgs.iter().enumerate() {
            let path = root.item("org", i);
            let parent = org
                .parent
                .as_ref()
                .and_then(|p| world.lookup_org(&mut problems, path.key("parent"), p));
            let subscriptions = resolve_list(
                &mut problems,
                &path.key("subscriptions"),
                &org.subscriptions,
                |id| {
                    catalog
                        .subscription(id)
                        .ok_or_else(|| format!("unknown subscription `{id}`"))
                },
            );
            let manages =
                resolve_list(
                    &mut problems,
                    &path.key("manages"),
                    &org.manages,
                    |id| match world.org_ids.get(id) {
                        Some(o) if o.ix() == i => {
                            Err("an organization cannot manage itself".to_owned())
                        }
                        Some(o) => Ok(*o),
                        None => Err(format!("unknown organization `{id}`")),
                    },
                );
            world.orgs.push(Org {
                id: org.id.clone(),
                name: org.name.clone().unwrap_or_else(|| org.id.clone()),
                parent,
                subscriptions,
                manages,
            });
        }
        for i in 0..world.orgs.len() {
            // A walk up longer than the number of organizations has met a cycle.
            if world
                .ancestors_and_self(OrgIx::from_usize(i))
                .nth(world.orgs.len())
                .is_some()
            {
                problems.push(Problem::new(
                    root.item("org", i).key("parent"),
                    format!(
                        "organization `{}` is its own ancestor: parents form a cycle",
                        world.orgs[i].id
                    ),
                ));
                world.orgs[i].parent = None;
            }
        }

        for (i, role) in spec.custom_roles.iter().enumerate() {
            let path = root.item("role", i);
            let ix = RoleIx::from_usize(catalog.roles.len() + i);
            if let Err(message) = validate_id(&role.id) {
                problems.push(Problem::new(path.key("id"), format!("role id {message}")));
                continue;
            }
            if catalog.role(&role.id).is_some()
                || world.custom_role_ids.insert(role.id.clone(), ix).is_some()
            {
                problems.push(Problem::new(
                    path.key("id"),
                    format!("duplicate role id `{}`", role.id),
                ));
            }
            let org = world.lookup_org(&mut problems, path.key("org"), &role.org);
            let application = role
                .id
                .split_once('.')
                .and_then(|(app, _)| catalog.application(app));
            if application.is_none() {
                problems.push(Problem::new(
                    path.key("id"),
                    format!(
                        "role id `{}` must start with a known application: `app.name`",
                        role.id
                    ),
                ));
            }
            let grants = resolve_list(
                &mut problems,
                &path.key("grants"),
                &role.grants,
                |written| {
                    let grant = catalog.parse_grant(written)?;
                    match application {
                        Some(app) if catalog.perm(grant.permission).application != app => Err(
                            format!("permission `{written}` is not of the role's application"),
                        ),
                        _ => Ok(grant),
                    }
                },
            );
            world.custom_roles.push(CustomRole {
                role: crate::catalog::Role {
                    id: role.id.clone(),
                    name: role.name.clone(),
                    description: String::new(),
                    application: application.unwrap_or(crate::AppIx(0)),
                    grants,
                },
                org: org.unwrap_or(OrgIx(0)),
            });
        }

        for (i, user) in spec.users.iter().enumerate() {
            let path = root.item("user", i);
            if let Err(message) = validate_id(&user.id) {
                problems.push(Problem::new(path.key("id"), format!("user id {message}")));
            } else if world
                .user_ids
                .insert(user.id.clone(), UserIx::from_usize(i))
                .is_some()
            {
                problems.push(Problem::new(
                    path.key("id"),
                    format!("duplicate user id `{}`", user.id),
                ));
            }
            let mut memberships: Vec<Membership> = Vec::new();
            for (j, spec) in user.membership.iter().enumerate() {
                let mpath = path.item("membership", j);
                let Some(mut membership) = world.membership(catalog, &mut problems, &mpath, spec)
                else {
                    continue;
                };
                if memberships.iter().any(|m| m.org == membership.org) {
                    problems.push(Problem::new(
                        mpath.key("org"),
                        format!("user `{}` is a member of `{}` twice", user.id, spec.org),
                    ));
                    continue;
                }
                if defaults == Defaults::Apply {
                    crate::defaults::apply_on_create(catalog, &world, &mut membership);
                }
                memberships.push(membership);
            }
            world.users.push(User {
                id: user.id.clone(),
                name: user.name.clone().unwrap_or_else(|| user.id.clone()),
                status: user.status,
                memberships,
            });
        }

        for (i, group) in spec.groups.iter().enumerate() {
            let path = root.item("group", i);
            if let Err(message) = validate_id(&group.id) {
                problems.push(Problem::new(path.key("id"), format!("group id {message}")));
            } else if world
                .group_ids
                .insert(group.id.clone(), GroupIx::from_usize(i))
                .is_some()
            {
                problems.push(Problem::new(
                    path.key("id"),
                    format!("duplicate group id `{}`", group.id),
                ));
            }
            let Some(org) = world.lookup_org(&mut problems, path.key("org"), &group.org) else {
                continue;
            };
            let member_of_org = |world: &World, user: UserIx| {
                world.users[user.ix()]
                    .memberships
                    .iter()
                    .any(|m| world.is_at_or_above(m.org, org))
            };
            let created_by = match world.user_ids.get(&group.created_by) {
                Some(user) if member_of_org(&world, *user) => Some(*user),
                Some(_) => {
                    problems.push(Problem::new(
                        path.key("created_by"),
                        format!(
                            "user `{}` is not a member of `{}`",
                            group.created_by, group.org
                        ),
                    ));
                    None
                }
                None => {
                    problems.push(Problem::new(
                        path.key("created_by"),
                        format!("unknown user `{}`", group.created_by),
                    ));
                    None
                }
            };
            let members =
                resolve_list(
                    &mut problems,
                    &path.key("members"),
                    &group.members,
                    |id| match world.user_ids.get(id) {
                        Some(user) if member_of_org(&world, *user) => Ok(*user),
                        Some(_) => Err(format!("user `{id}` is not a member of `{}`", group.org)),
                        None => Err(format!("unknown user `{id}`")),
                    },
                );
            let roles = resolve_list(&mut problems, &path.key("roles"), &group.roles, |id| {
                world.role_in(catalog, id, org)
            });
            let Some(created_by) = created_by else {
                continue;
            };
            let access = crate::defaults::group_access(&world, created_by, org);
            world.groups.push(Group {
                id: group.id.clone(),
                org,
                created_by,
                members,
                roles,
                access,
            });
        }

        if problems.is_empty() {
            Ok(world)
        } else {
            Err(problems)
        }
    }

    fn lookup_org(&self, problems: &mut Vec<Problem>, path: FieldPath, id: &str) -> Option<OrgIx> {
        let found = self.org_ids.get(id).copied();
        if found.is_none() {
            problems.push(Problem::new(path, format!("unknown organization `{id}`")));
        }
        found
    }

    /// A role that may be held in `org`: built-in, or custom to `org` or above.
    fn role_in(&self, catalog: &Catalog, id: &str, org: OrgIx) -> Result<RoleIx, String> {
        let role = self
            .role_id(catalog, id)
            .ok_or_else(|| format!("unknown role `{id}`"))?;
        match self.role_owner(catalog, role) {
            Some(owner) if !self.is_at_or_above(owner, org) => Err(format!(
                "role `{id}` belongs to `{}` and cannot be held in `{}`",
                self.orgs[owner.ix()].id,
                self.orgs[org.ix()].id
            )),
            _ => Ok(role),
        }
    }

    /// Validates one membership (without applying defaults).
    pub fn membership(
        &self,
        catalog: &Catalog,
        problems: &mut Vec<Problem>,
        path: &FieldPath,
        spec: &MembershipSpec,
    ) -> Option<Membership> {
        let org = self.lookup_org(problems, path.key("org"), &spec.org)?;
        let roles = resolve_list(problems, &path.key("roles"), &spec.roles, |id| {
            self.role_in(catalog, id, org)
        });
        let grants = resolve_list(problems, &path.key("grants"), &spec.grants, |g| {
            catalog.parse_grant(g)
        });
        let denials = resolve_list(problems, &path.key("denials"), &spec.denials, |p| {
            catalog.parse_permission(p)
        });
        let scheduler_type = spec.scheduler_type.as_ref().and_then(|id| {
            let found = catalog.user_type(id);
            if found.is_none() {
                problems.push(Problem::new(
                    path.key("scheduler_type"),
                    format!("unknown user type `{id}`"),
                ));
            }
            found
        });
        let scheduler_level = spec.scheduler_level.as_ref().and_then(|id| {
            let Some(level) = catalog.access_level(id) else {
                problems.push(Problem::new(
                    path.key("scheduler_level"),
                    format!("unknown access level `{id}`"),
                ));
                return None;
            };
            match scheduler_type {
                Some(t) if catalog.user_types[t.ix()].levels.contains(&level) => Some(level),
                Some(t) => {
                    problems.push(Problem::new(
                        path.key("scheduler_level"),
                        format!(
                            "access level `{id}` is not one of user type `{}`'s levels",
                            catalog.user_types[t.ix()].id
                        ),
                    ));
                    None
                }
                None if spec.scheduler_type.is_none() => {
                    problems.push(Problem::new(
                        path.key("scheduler_level"),
                        format!("access level `{id}` needs a `scheduler_type`"),
                    ));
                    None
                }
                None => None,
            }
        });
        let tasking_access = spec.tasking_access.as_ref().and_then(|id| {
            let found = catalog.access_type(id);
            if found.is_none() {
                problems.push(Problem::new(
                    path.key("tasking_access"),
                    format!("unknown access type `{id}`"),
                ));
            }
            found
        });
        Some(Membership {
            org,
            roles,
            grants,
            denials,
            scheduler_type,
            scheduler_level,
            tasking_access,
        })
    }
}

/// Resolves each item, reporting failures at `path[i]` and removing repeats.
fn resolve_list<T: PartialEq>(
    problems: &mut Vec<Problem>,
    path: &FieldPath,
    items: &[String],
    mut resolve: impl FnMut(&str) -> Result<T, String>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match resolve(item) {
            Ok(value) if out.contains(&value) => {
                problems.push(Problem::new(
                    path.at(i),
                    format!("`{item}` is listed twice"),
                ));
            }
            Ok(value) => out.push(value),
            Err(message) => problems.push(Problem::new(path.at(i), message)),
        }
    }
    out
}
