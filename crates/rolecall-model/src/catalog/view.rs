//! The catalog with every reference written as its id, for JSON output.

use serde::Serialize;

use super::Catalog;
use crate::Grant;

/// The whole catalog, ids instead of indices.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Catalog))]
pub struct CatalogView<'a> {
    /// Applications, each with its modules and their permissions.
    pub applications: Vec<ApplicationView<'a>>,
    /// Everything an organization can subscribe to.
    pub subscriptions: Vec<SubscriptionView<'a>>,
    /// Built-in roles.
    pub roles: Vec<RoleView<'a>>,
    /// Default-role derivation rules.
    pub default_roles: Vec<DefaultRolesView<'a>>,
    /// User types.
    pub user_types: Vec<UserTypeView<'a>>,
    /// Access levels.
    pub access_levels: Vec<AccessLevelView<'a>>,
    /// Access types.
    pub access_types: Vec<AccessTypeView<'a>>,
}

/// An application and its modules.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogApplication))]
pub struct ApplicationView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// What it is.
    pub description: &'a str,
    /// Its modules.
    pub modules: Vec<ModuleView<'a>>,
}

/// A module and its permissions.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogModule))]
pub struct ModuleView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Empty when always on; otherwise any of these subscriptions turns it on.
    pub gated_by: Vec<&'a str>,
    /// Its permissions.
    pub permissions: Vec<PermissionView<'a>>,
}

/// A permission.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogPermission))]
pub struct PermissionView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// What it allows.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    /// Whether grants can be limited to own resources.
    pub scoped: bool,
    /// Permissions it narrows to `own` when held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub narrows: Vec<&'a str>,
    /// Permissions it requires.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<&'a str>,
}

/// A subscription id.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogSubscription))]
pub struct SubscriptionView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// `service` or `module`.
    pub kind: &'static str,
}

/// A role.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogRole))]
pub struct RoleView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Who it is for.
    pub description: &'a str,
    /// Grants, written `id` or `id:own`.
    pub grants: Vec<String>,
}

/// Derivation rules of one application.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogDefaultRoles))]
pub struct DefaultRolesView<'a> {
    /// The application.
    pub application: &'a str,
    /// Rules, first match wins.
    pub rules: Vec<DefaultRuleView<'a>>,
}

/// One derivation rule.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogDefaultRule))]
pub struct DefaultRuleView<'a> {
    /// The role given.
    pub role: &'a str,
    /// All of these must be held.
    pub all_of: Vec<&'a str>,
    /// One of these must be held, when not empty.
    pub any_of: Vec<&'a str>,
}

/// A user type.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogUserType))]
pub struct UserTypeView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Application.
    pub application: &'a str,
    /// Levels it chooses from.
    pub levels: Vec<&'a str>,
    /// Level given when none is.
    pub default_level: Option<&'a str>,
    /// Grants of every user of the type.
    pub grants: Vec<String>,
    /// Direct grants given at creation.
    pub initial_grants: Vec<String>,
}

/// An access level.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogAccessLevel))]
pub struct AccessLevelView<'a> {
    /// Id.
    pub id: &'a str,
    /// Short label.
    pub label: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Application.
    pub application: &'a str,
    /// Grants.
    pub grants: Vec<String>,
}

/// An access type.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogAccessType))]
pub struct AccessTypeView<'a> {
    /// Id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Application.
    pub application: &'a str,
    /// `own`, `managed`.
    pub reaches: Vec<&'static str>,
    /// Grants.
    pub grants: Vec<String>,
    /// Given by default to users of these applications.
    pub default_for_users_of: Vec<&'a str>,
}

impl Catalog {
    /// A grant written as in catalog files: `id` or `id:own`.
    pub fn write_grant(&self, grant: &Grant) -> String {
        let permission = self.perm(grant.permission);
        match grant.scope {
            crate::Scope::Own => format!("{}:own", permission.id),
            crate::Scope::All => permission.id.clone(),
        }
    }

    /// The catalog with ids for references, ready to serialize.
    pub fn view(&self) -> CatalogView<'_> {
        let grants = |grants: &[Grant]| {
            grants
                .iter()
                .map(|g| self.write_grant(g))
                .collect::<Vec<_>>()
        };
        let perm_id = |p: &crate::PermissionIx| self.perm(*p).id.as_str();
        let app_id = |a: crate::AppIx| self.applications[a.ix()].id.as_str();
        CatalogView {
            applications: self
                .applications
                .iter()
                .enumerate()
                .map(|(a, app)| ApplicationView {
                    id: &app.id,
                    name: &app.name,
                    description: &app.description,
                    modules: self
                        .modules
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.application.ix() == a)
                        .map(|(m, module)| ModuleView {
                            id: &module.id,
                            name: &module.name,
                            gated_by: module
                                .gated_by
                                .iter()
                                .map(|s| self.subscriptions[s.ix()].id.as_str())
                                .collect(),
                            permissions: self
                                .permissions
                                .iter()
                                .filter(|p| p.module.ix() == m)
                                .map(|p| PermissionView {
                                    id: &p.id,
                                    name: &p.name,
                                    description: &p.description,
                                    scoped: p.scoped,
                                    narrows: p.narrows.iter().map(perm_id).collect(),
                                    requires: p.requires.iter().map(perm_id).collect(),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            subscriptions: self
                .subscriptions
                .iter()
                .map(|s| SubscriptionView {
                    id: &s.id,
                    name: &s.name,
                    kind: if s.is_service { "service" } else { "module" },
                })
                .collect(),
            roles: self
                .roles
                .iter()
                .map(|r| RoleView {
                    id: &r.id,
                    name: &r.name,
                    description: &r.description,
                    grants: grants(&r.grants),
                })
                .collect(),
            default_roles: self
                .default_roles
                .iter()
                .map(|d| DefaultRolesView {
                    application: app_id(d.application),
                    rules: d
                        .rules
                        .iter()
                        .map(|r| DefaultRuleView {
                            role: &self.roles[r.role.ix()].id,
                            all_of: r.all_of.iter().map(perm_id).collect(),
                            any_of: r.any_of.iter().map(perm_id).collect(),
                        })
                        .collect(),
                })
                .collect(),
            user_types: self
                .user_types
                .iter()
                .map(|t| UserTypeView {
                    id: &t.id,
                    name: &t.name,
                    application: app_id(t.application),
                    levels: t
                        .levels
                        .iter()
                        .map(|l| self.access_levels[l.ix()].id.as_str())
                        .collect(),
                    default_level: t
                        .default_level
                        .map(|l| self.access_levels[l.ix()].id.as_str()),
                    grants: grants(&t.grants),
                    initial_grants: grants(&t.initial_grants),
                })
                .collect(),
            access_levels: self
                .access_levels
                .iter()
                .map(|l| AccessLevelView {
                    id: &l.id,
                    label: &l.label,
                    name: &l.name,
                    application: app_id(l.application),
                    grants: grants(&l.grants),
                })
                .collect(),
            access_types: self
                .access_types
                .iter()
                .map(|t| AccessTypeView {
                    id: &t.id,
                    name: &t.name,
                    application: app_id(t.application),
                    reaches: [(t.reaches_own, "own"), (t.reaches_managed, "managed")]
                        .into_iter()
                        .filter_map(|(on, name)| on.then_some(name))
                        .collect(),
                    grants: grants(&t.grants),
                    default_for_users_of: t
                        .default_for_users_of
                        .iter()
                        .map(|a| app_id(*a))
                        .collect(),
                })
                .collect(),
        }
    }
}
