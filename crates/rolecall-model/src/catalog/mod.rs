//! The catalog: what every application can decide on.
//!
//! A catalog is data: [`Catalog::from_toml`] parses and validates a TOML
//! file, resolving every reference to a dense index, and
//! [`Catalog::default_catalog`] returns the shipped catalog that encodes the
//! four seed applications. The format is documented in `docs/catalog.md`.

mod spec;
mod validate;
pub mod view;

use std::collections::HashMap;

use crate::diagnostic::Diagnostics;
use crate::{
    AccessLevelIx, AccessTypeIx, AppIx, Grant, ModuleIx, PermissionIx, RoleIx, SubscriptionIx,
    UserTypeIx,
};

/// The shipped catalog, the four seed applications exactly.
pub const DEFAULT_CATALOG_TOML: &str = include_str!("../../catalog/default.toml");

/// A validated catalog: every reference resolved, no duplicates, no cycles.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Applications in file order.
    pub applications: Vec<Application>,
    /// Everything an organization can subscribe to: gated modules and services.
    pub subscriptions: Vec<Subscription>,
    /// Modules in file order.
    pub modules: Vec<Module>,
    /// Permissions in file order; their position is their dense id.
    pub permissions: Vec<Permission>,
    /// Built-in roles in file order.
    pub roles: Vec<Role>,
    /// Derivation rules for default roles, one set per application.
    pub default_roles: Vec<DefaultRoles>,
    /// User types (Scheduler's Provider/Therapist, Office Staff).
    pub user_types: Vec<UserType>,
    /// Access levels (Scheduler's A–D).
    pub access_levels: Vec<AccessLevel>,
    /// Access types (Tasking's Standard and Partner RCM).
    pub access_types: Vec<AccessType>,
    /// Permissions in an order where every prerequisite comes before the
    /// permissions that require it.
    pub prerequisite_order: Vec<PermissionIx>,
    ids: Lookup,
}

#[derive(Debug, Clone, Default)]
struct Lookup {
    applications: HashMap<String, AppIx>,
    subscriptions: HashMap<String, SubscriptionIx>,
    modules: HashMap<String, ModuleIx>,
    permissions: HashMap<String, PermissionIx>,
    roles: HashMap<String, RoleIx>,
    user_types: HashMap<String, UserTypeIx>,
    access_levels: HashMap<String, AccessLevelIx>,
    access_types: HashMap<String, AccessTypeIx>,
}

/// An application of the suite (`web`, `emr`, `analytics`, ...).
#[derive(Debug, Clone)]
pub struct Application {
    /// Stable id, the prefix of its modules, permissions and roles.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the application is.
    pub description: String,
}

/// What an organization can subscribe to.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Stable id: a gated module's id (`web.billing`) or a service (`revserve`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether this is a service rather than a module.
    pub is_service: bool,
}

/// A group of permissions inside an application.
#[derive(Debug, Clone)]
pub struct Module {
    /// Stable id, `app.name`.
    pub id: String,
    /// Display name ("Billing").
    pub name: String,
    /// The application it belongs to.
    pub application: AppIx,
    /// Empty when always on; otherwise on when the organization holds any of
    /// these subscriptions.
    pub gated_by: Vec<SubscriptionIx>,
}

impl Module {
    /// Whether the module is on only with a subscription.
    pub fn is_gated(&self) -> bool {
        !self.gated_by.is_empty()
    }
}

/// Something a user may do.
#[derive(Debug, Clone)]
pub struct Permission {
    /// Stable id, `app.name`.
    pub id: String,
    /// Display name, the seed's row label ("Manage charge entries").
    pub name: String,
    /// What it allows.
    pub description: String,
    /// The module it belongs to.
    pub module: ModuleIx,
    /// The application it belongs to (the module's).
    pub application: AppIx,
    /// Whether a grant of it can be limited to the user's own resources.
    pub scoped: bool,
    /// Restriction: holding this permission narrows these to `own`.
    pub narrows: Vec<PermissionIx>,
    /// Prerequisites: this permission is allowed only where all of these are
    /// (its own and its module's).
    pub requires: Vec<PermissionIx>,
}

/// A named set of grants within one application.
#[derive(Debug, Clone)]
pub struct Role {
    /// Stable id, `app.name`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Who the role is for.
    pub description: String,
    /// The application it belongs to.
    pub application: AppIx,
    /// What it grants.
    pub grants: Vec<Grant>,
}

/// How a membership without a role of `application` gets one: the first rule
/// whose conditions its permissions meet.
#[derive(Debug, Clone)]
pub struct DefaultRoles {
    /// The application whose role is derived.
    pub application: AppIx,
    /// Rules in order; the first match wins.
    pub rules: Vec<DefaultRoleRule>,
}

/// One derivation rule.
#[derive(Debug, Clone)]
pub struct DefaultRoleRule {
    /// The role given when the rule matches.
    pub role: RoleIx,
    /// Every one of these must be held.
    pub all_of: Vec<PermissionIx>,
    /// At least one of these must be held (ignored when empty).
    pub any_of: Vec<PermissionIx>,
}

/// A kind of user of an application, with the access levels it can take.
#[derive(Debug, Clone)]
pub struct UserType {
    /// Stable id (`provider`, `office_staff`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The application it belongs to.
    pub application: AppIx,
    /// The access levels a user of this type chooses from.
    pub levels: Vec<AccessLevelIx>,
    /// The level a new user of this type gets when none is given.
    pub default_level: Option<AccessLevelIx>,
    /// Granted to every user of this type.
    pub grants: Vec<Grant>,
    /// Given as direct grants when a user of this type is created without
    /// any direct grant of the application (office staff's default tabs).
    pub initial_grants: Vec<Grant>,
}

/// A preset of grants chosen by level (Scheduler's A–D).
#[derive(Debug, Clone)]
pub struct AccessLevel {
    /// Stable id (`my_schedule`, ...).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Short label ("A").
    pub label: String,
    /// The application it belongs to.
    pub application: AppIx,
    /// What the level grants.
    pub grants: Vec<Grant>,
}

/// A preset of grants that also decides which organizations it reaches.
#[derive(Debug, Clone)]
pub struct AccessType {
    /// Stable id (`standard`, `partner_rcm`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The application it belongs to.
    pub application: AppIx,
    /// Whether it applies in the user's own organizations.
    pub reaches_own: bool,
    /// Whether it applies in the organizations the user's organization manages.
    pub reaches_managed: bool,
    /// What it grants.
    pub grants: Vec<Grant>,
    /// A new membership holding any permission of these applications gets
    /// this access type when it names none.
    pub default_for_users_of: Vec<AppIx>,
}

impl Catalog {
    /// The shipped catalog.
    ///
    /// # Panics
    /// Never in a released build: a test proves the shipped file is valid.
    #[expect(
        clippy::expect_used,
        reason = "the shipped catalog is validated by a test"
    )]
    pub fn default_catalog() -> Catalog {
        Catalog::from_toml("default catalog", DEFAULT_CATALOG_TOML)
            .expect("the shipped default catalog is valid")
    }

    /// Parses and validates a catalog written in TOML; `origin` names the
    /// source in diagnostics (usually the file path).
    pub fn from_toml(origin: &str, source: &str) -> Result<Catalog, Diagnostics> {
        let spec: spec::CatalogSpec = toml::from_str(source)
            .map_err(|error| Diagnostics::from_toml_error(origin, source, &error))?;
        validate::catalog(spec).map_err(|problems| Diagnostics::locate(origin, source, problems))
    }

    /// The application with this id.
    pub fn application(&self, id: &str) -> Option<AppIx> {
        self.ids.applications.get(id).copied()
    }

    /// The subscription with this id.
    pub fn subscription(&self, id: &str) -> Option<SubscriptionIx> {
        self.ids.subscriptions.get(id).copied()
    }

    /// The module with this id.
    pub fn module(&self, id: &str) -> Option<ModuleIx> {
        self.ids.modules.get(id).copied()
    }

    /// The permission with this id.
    pub fn permission(&self, id: &str) -> Option<PermissionIx> {
        self.ids.permissions.get(id).copied()
    }

    /// The built-in role with this id.
    pub fn role(&self, id: &str) -> Option<RoleIx> {
        self.ids.roles.get(id).copied()
    }

    /// The user type with this id.
    pub fn user_type(&self, id: &str) -> Option<UserTypeIx> {
        self.ids.user_types.get(id).copied()
    }

    /// The access level with this id.
    pub fn access_level(&self, id: &str) -> Option<AccessLevelIx> {
        self.ids.access_levels.get(id).copied()
    }

    /// The access type with this id.
    pub fn access_type(&self, id: &str) -> Option<AccessTypeIx> {
        self.ids.access_types.get(id).copied()
    }

    /// Resolves a written grant (`id`, `id:own`, `id:all`) against the catalog.
    pub fn parse_grant(&self, written: &str) -> Result<Grant, String> {
        validate::grant(&self.ids.permissions, &self.permissions, written)
    }

    /// Resolves a permission id, with a message naming it when unknown.
    pub fn parse_permission(&self, id: &str) -> Result<PermissionIx, String> {
        self.permission(id)
            .ok_or_else(|| format!("unknown permission `{id}`"))
    }

    /// The permission's data.
    pub fn perm(&self, permission: PermissionIx) -> &Permission {
        &self.permissions[permission.ix()]
    }

    /// The module a permission belongs to.
    pub fn module_of(&self, permission: PermissionIx) -> &Module {
        &self.modules[self.perm(permission).module.ix()]
    }
}

#[cfg(test)]
mod tests;

/// Checks an id's spelling: lowercase letters, digits, `_`, `-` and `.`, at
/// most 128 characters.
pub fn validate_id(id: &str) -> Result<(), String> {
    validate::id_spelling(id)
}
