//! The catalog file as written: plain serde types, strings for every reference.
//!
//! [`super::validate`] turns a [`CatalogSpec`] into a [`super::Catalog`].

use serde::Deserialize;

/// A whole catalog file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSpec {
    #[serde(default)]
    pub application: Vec<ApplicationSpec>,
    #[serde(default)]
    pub service: Vec<ServiceSpec>,
    #[serde(default)]
    pub module: Vec<ModuleSpec>,
    #[serde(default)]
    pub permission: Vec<PermissionSpec>,
    #[serde(default)]
    pub role: Vec<RoleSpec>,
    #[serde(default)]
    pub default_role: Vec<DefaultRoleSpec>,
    #[serde(default)]
    pub user_type: Vec<UserTypeSpec>,
    #[serde(default)]
    pub access_level: Vec<AccessLevelSpec>,
    #[serde(default)]
    pub access_type: Vec<AccessTypeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub gated_by: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub id: String,
    pub name: String,
    pub module: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub scoped: bool,
    #[serde(default)]
    pub narrows: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRoleSpec {
    pub application: String,
    pub rule: Vec<DefaultRoleRuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultRoleRuleSpec {
    pub role: String,
    #[serde(default)]
    pub all_of: Vec<String>,
    #[serde(default)]
    pub any_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserTypeSpec {
    pub id: String,
    pub name: String,
    pub application: String,
    #[serde(default)]
    pub levels: Vec<String>,
    #[serde(default)]
    pub default_level: Option<String>,
    #[serde(default)]
    pub grants: Vec<String>,
    #[serde(default)]
    pub initial_grants: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLevelSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub application: String,
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTypeSpec {
    pub id: String,
    pub name: String,
    pub application: String,
    pub reaches: Vec<ReachSpec>,
    #[serde(default)]
    pub grants: Vec<String>,
    #[serde(default)]
    pub default_for_users_of: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReachSpec {
    Own,
    Managed,
}
