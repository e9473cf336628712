//! The stored model in memory: every row the service keeps, by id.
//!
//! A write is a list of [`Put`]s. The writer applies them to its copy of the
//! model and to the database in one transaction; the change log stores them
//! as JSON, and other replicas replay them with the same [`Model::apply`].
//! So there is one code path from a change to every replica's state.

use std::collections::BTreeMap;

use imbl::{HashMap, OrdMap};

use rolecall_model::world::{
    CustomRoleSpec, GroupSpec, MembershipSpec, OrgSpec, Status, UserSpec, WorldSpec,
};
use serde::{Deserialize, Serialize};

/// An organization: a company, or a clinic inside one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The company a clinic belongs to.
    pub parent: Option<String>,
    /// Gated modules and services it subscribes to.
    pub subscriptions: Vec<String>,
    /// Organizations it manages as a partner.
    pub manages: Vec<String>,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
}

/// A person on an organization's staff; owns the email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmployeeRow {
    /// Stable id.
    pub id: String,
    /// The organization employing them.
    pub org: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// The email address; the user's email is always this one.
    pub email: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
}

/// One user's access in one organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Role ids, built-in or custom.
    pub roles: Vec<String>,
    /// Direct grants, `id` or `id:own`.
    pub grants: Vec<String>,
    /// Direct denials.
    pub denials: Vec<String>,
    /// Scheduler user type.
    pub scheduler_type: Option<String>,
    /// Scheduler access level.
    pub scheduler_level: Option<String>,
    /// Tasking access type.
    pub tasking_access: Option<String>,
    /// Roles and grants that end: role id or grant (as in `roles` and
    /// `grants`) to the time it ends (ms since the epoch). From then on it
    /// no longer counts, and the expiry sweep removes it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expires: BTreeMap<String, i64>,
}

impl Access {
    /// Whether a role or grant still counts at `now`.
    pub fn current(&self, item: &str, now: i64) -> bool {
        self.expires.get(item).is_none_or(|&end| end > now)
    }

    /// The earliest end still ahead of `now`, if any.
    pub fn next_expiry(&self, now: i64) -> Option<i64> {
        self.expires
            .values()
            .copied()
            .filter(|&end| end > now)
            .min()
    }

    /// The membership as stored, time-bound items included.
    pub fn to_full_spec(&self, org: &str) -> MembershipSpec {
        self.to_spec(org, i64::MIN)
    }

    /// The membership as the engine's world spec writes it, with what has
    /// ended by `now` left out.
    pub fn to_spec(&self, org: &str, now: i64) -> MembershipSpec {
        let current = |items: &[String]| -> Vec<String> {
            items
                .iter()
                .filter(|item| self.current(item, now))
                .cloned()
                .collect()
        };
        MembershipSpec {
            org: org.to_owned(),
            roles: current(&self.roles),
            grants: current(&self.grants),
            denials: self.denials.clone(),
            scheduler_type: self.scheduler_type.clone(),
            scheduler_level: self.scheduler_level.clone(),
            tasking_access: self.tasking_access.clone(),
        }
    }

    /// The access a world spec membership describes.
    pub fn from_spec(spec: &MembershipSpec) -> Access {
        Access {
            roles: spec.roles.clone(),
            grants: spec.grants.clone(),
            denials: spec.denials.clone(),
            scheduler_type: spec.scheduler_type.clone(),
            scheduler_level: spec.scheduler_level.clone(),
            tasking_access: spec.tasking_access.clone(),
            expires: BTreeMap::new(),
        }
    }
}

/// The sign-in account of one employee, with its memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Stable id.
    pub id: String,
    /// The employee whose account this is.
    pub employee: String,
    /// Account status.
    pub status: Status,
    /// Access per organization id.
    pub memberships: BTreeMap<String, Access>,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
}

/// A member group (Tasking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Stable id.
    pub id: String,
    /// The organization it belongs to.
    pub org: String,
    /// Display name.
    pub name: String,
    /// The user who created it.
    pub created_by: String,
    /// Its access setting: the creator's access type, set by the service.
    pub access: Option<String>,
    /// Member user ids.
    pub members: Vec<String>,
    /// Roles every member holds.
    pub roles: Vec<String>,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
}

/// A custom role of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRoleRow {
    /// Stable id, `app.name`.
    pub id: String,
    /// The organization that owns it.
    pub org: String,
    /// Display name.
    pub name: String,
    /// What it grants, `id` or `id:own`.
    pub grants: Vec<String>,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
}

/// An API token; only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Public id, shown in listings and the audit log.
    pub id: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// What it is for.
    pub name: String,
    /// An operator token may do everything, in every organization.
    pub operator: bool,
    /// The organization it acts in (none for an operator token).
    pub org: Option<String>,
    /// The user it acts as (none for an operator token).
    pub user: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created (ms since the epoch).
    pub created_at: i64,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// One row written by a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Put {
    /// Create or replace an organization.
    Org(OrgRow),
    /// Create or replace an employee.
    Employee(EmployeeRow),
    /// Create or replace a user with all its memberships.
    User(UserRow),
    /// Create or replace a group.
    Group(GroupRow),
    /// Create or replace a custom role.
    CustomRole(CustomRoleRow),
    /// Create or replace a token.
    Token(TokenRow),
    /// Create or replace an organization's security policy.
    Policy(PolicyRow),
}

/// An organization's security policy, as JSON the service validates
/// (passwords, sign-in throttling, session inactivity, MFA, emergency
/// access).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    /// The organization.
    pub org: String,
    /// The policy.
    pub policy: serde_json::Value,
    /// When it was last changed (ms since the epoch).
    pub updated_at: i64,
}

/// Everything the service keeps, by id.
///
/// The maps are persistent (structure-sharing) maps: a write clones the
/// model in constant time and changes only the paths to the rows it puts,
/// so the cost of a write does not grow with the number of users, and
/// readers keep the model they loaded for as long as they need it.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Organizations by id.
    pub orgs: OrdMap<String, OrgRow>,
    /// Employees by id.
    pub employees: OrdMap<String, EmployeeRow>,
    /// Users by id.
    pub users: OrdMap<String, UserRow>,
    /// The user of each employee that has one.
    pub user_of_employee: HashMap<String, String>,
    /// Groups by id.
    pub groups: OrdMap<String, GroupRow>,
    /// Custom roles by id.
    pub custom_roles: OrdMap<String, CustomRoleRow>,
    /// Tokens by id.
    pub tokens: OrdMap<String, TokenRow>,
    /// Token ids by secret hash, for authentication.
    pub token_by_hash: HashMap<String, String>,
    /// Security policies by organization id (absent: the defaults).
    pub policies: OrdMap<String, PolicyRow>,
}

impl Model {
    /// Applies one written row.
    pub fn apply(&mut self, put: &Put) {
        match put {
            Put::Org(org) => {
                self.orgs.insert(org.id.clone(), org.clone());
            }
            Put::Employee(employee) => {
                self.employees.insert(employee.id.clone(), employee.clone());
            }
            Put::User(user) => {
                self.user_of_employee
                    .insert(user.employee.clone(), user.id.clone());
                self.users.insert(user.id.clone(), user.clone());
            }
            Put::Group(group) => {
                self.groups.insert(group.id.clone(), group.clone());
            }
            Put::CustomRole(role) => {
                self.custom_roles.insert(role.id.clone(), role.clone());
            }
            Put::Token(token) => {
                self.token_by_hash
                    .insert(token.secret_hash.clone(), token.id.clone());
                self.tokens.insert(token.id.clone(), token.clone());
            }
            Put::Policy(policy) => {
                self.policies.insert(policy.org.clone(), policy.clone());
            }
        }
    }

    /// Applies a change's rows in order.
    pub fn apply_all(&mut self, puts: &[Put]) {
        for put in puts {
            self.apply(put);
        }
    }

    /// A user's display name: their employee's name.
    pub fn user_name(&self, user: &UserRow) -> String {
        self.employees
            .get(&user.employee)
            .map(|e| format!("{} {}", e.first_name, e.last_name))
            .unwrap_or_else(|| user.id.clone())
    }

    /// A user's email: their employee's, always.
    pub fn user_email(&self, user: &UserRow) -> Option<&str> {
        self.employees.get(&user.employee).map(|e| e.email.as_str())
    }

    /// The earliest time after `now` at which a role or grant ends, so the
    /// snapshot must be compiled again.
    pub fn next_expiry(&self, now: i64) -> Option<i64> {
        self.users
            .values()
            .flat_map(|u| u.memberships.values())
            .filter_map(|access| access.next_expiry(now))
            .min()
    }

    /// The world the engine compiles at `now`, with every stored default
    /// already applied and every role or grant that has ended left out.
    pub fn world_spec(&self, now: i64) -> WorldSpec {
        WorldSpec {
            orgs: self
                .orgs
                .values()
                .map(|o| OrgSpec {
                    id: o.id.clone(),
                    name: Some(o.name.clone()),
                    parent: o.parent.clone(),
                    subscriptions: o.subscriptions.clone(),
                    manages: o.manages.clone(),
                })
                .collect(),
            users: self
                .users
                .values()
                .map(|u| UserSpec {
                    id: u.id.clone(),
                    name: Some(self.user_name(u)),
                    status: u.status,
                    membership: u
                        .memberships
                        .iter()
                        .map(|(org, access)| access.to_spec(org, now))
                        .collect(),
                })
                .collect(),
            groups: self
                .groups
                .values()
                .map(|g| GroupSpec {
                    id: g.id.clone(),
                    org: g.org.clone(),
                    created_by: g.created_by.clone(),
                    members: g.members.clone(),
                    roles: g.roles.clone(),
                })
                .collect(),
            custom_roles: self
                .custom_roles
                .values()
                .map(|r| CustomRoleSpec {
                    id: r.id.clone(),
                    org: r.org.clone(),
                    name: r.name.clone(),
                    grants: r.grants.clone(),
                })
                .collect(),
        }
    }
}
