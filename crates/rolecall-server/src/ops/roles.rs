//! Roles: the catalog's built-in roles, and the custom roles an
//! organization adds ("create a custom role by copying one"). A custom role
//! belongs to one organization and can be held there and below. Defining a
//! role is granting: nobody puts into a role a permission they do not hold.

use std::collections::BTreeSet;

use rolecall_model::{AppIx, Grant, RoleIx, Scope};
use rolecall_store::{now_ms, AuditEntry, CustomRoleRow, Put};
use serde::{Deserialize, Serialize};

use super::{check_id, check_text, Created, Updated};
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

/// A role as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleView {
    /// Stable id, `app.name`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The application it belongs to.
    pub application: String,
    /// What it grants: `permission` or `permission:own`.
    pub grants: Vec<String>,
    /// Whether an organization defined it (rather than the catalog).
    pub custom: bool,
    /// The organization that owns a custom role; none for a built-in one.
    pub org: Option<String>,
}

/// `POST /v1/orgs/{org}/roles`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    /// Stable id, `app.name`: `app` is the application whose permissions
    /// it grants.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it grants: `permission` or `permission:own`.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// A role to copy the grants of, instead of listing them.
    #[serde(default)]
    pub copy_of: Option<String>,
}

/// `PUT /v1/orgs/{org}/roles/{role}`: a field left out keeps its value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Everything it grants.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
}

/// A role that may be held in `org`: built-in, or custom to `org` or an
/// organization above it.
pub fn role_in_org(live: &Live, org: &str, id: &str) -> Option<RoleIx> {
    let world = live.snapshot.world();
    let role = world.role_id(live.snapshot.catalog(), id)?;
    match world.role_owner(live.snapshot.catalog(), role) {
        None => Some(role),
        Some(owner) => world
            .org(org)
            .filter(|o| world.is_at_or_above(owner, *o))
            .map(|_| role),
    }
}

fn view(live: &Live, role: RoleIx) -> RoleView {
    let world = live.snapshot.world();
    let catalog = live.snapshot.catalog();
    let data = world.role(catalog, role);
    RoleView {
        id: data.id.clone(),
        name: data.name.clone(),
        application: catalog.applications[data.application.ix()].id.clone(),
        grants: data.grants.iter().map(|g| catalog.write_grant(g)).collect(),
        custom: world.role_owner(catalog, role).is_some(),
        org: world
            .role_owner(catalog, role)
            .map(|o| world.orgs[o.ix()].id.clone()),
    }
}

/// The roles that may be held in `org`: every built-in role, then the
/// custom roles of `org` and the organizations above it.
pub fn list(live: &Live, principal: &Principal, org: &str) -> Result<Vec<RoleView>, ServiceError> {
    rules::visible_org(live, principal, org)?;
    let catalog = live.snapshot.catalog();
    let builtin = (0..catalog.roles.len()).map(RoleIx::from_usize);
    let custom = live
        .model
        .custom_roles
        .keys()
        .filter_map(|id| role_in_org(live, org, id));
    Ok(builtin.chain(custom).map(|r| view(live, r)).collect())
}

/// The application a new role's id names: `app.name`.
fn application_of(live: &Live, id: &str) -> Result<AppIx, ServiceError> {
    id.split_once('.')
        .filter(|(_, name)| !name.is_empty())
        .and_then(|(app, _)| live.snapshot.catalog().application(app))
        .ok_or_else(|| {
            ServiceError::invalid(
                "id",
                format!(
                    "`{id}` must be `app.name`, where `app` is an application of the catalog \
                     (`web`, `emr`, `analytics`, ...)"
                ),
            )
        })
}

/// Resolves written grants of one application, naming every wrong one
/// (`grants[1]`).
fn check_grants(live: &Live, app: AppIx, grants: &[String]) -> Result<Vec<Grant>, ServiceError> {
    let catalog = live.snapshot.catalog();
    let mut fields = Vec::new();
    let mut out: Vec<Grant> = Vec::new();
    for (i, written) in grants.iter().enumerate() {
        let field = format!("grants[{i}]");
        match catalog.parse_grant(written) {
            Err(message) => fields.push(FieldError::new(field, message)),
            Ok(grant) if catalog.perm(grant.permission).application != app => {
                fields.push(FieldError::new(
                    field,
                    format!(
                        "`{written}` is not a permission of `{}`, the role's application",
                        catalog.applications[app.ix()].id
                    ),
                ));
            }
            Ok(grant) if out.iter().any(|g| g.permission == grant.permission) => {
                fields.push(FieldError::new(
                    field,
                    format!("`{written}` is listed twice"),
                ));
            }
            Ok(grant) => out.push(grant),
        }
    }
    if fields.is_empty() {
        Ok(out)
    } else {
        Err(ServiceError::Invalid { fields })
    }
}

/// Fails unless the actor holds every grant in `org` (an `all` grant with
/// scope `all`), or may grant anything. `field` names where each came from.
fn holds_all(
    live: &Live,
    principal: &Principal,
    org: &str,
    grants: &[(String, Grant)],
) -> Result<(), ServiceError> {
    let Some(actor) = principal.user() else {
        return Ok(());
    };
    if rules::grants_anything(live, principal, org) {
        return Ok(());
    }
    let catalog = live.snapshot.catalog();
    for (field, grant) in grants {
        let permission = &catalog.perm(grant.permission).id;
        let decision = live.snapshot.check(actor, permission, org, None);
        let held =
            decision.allowed && (grant.scope == Scope::Own || decision.scope == Some(Scope::All));
        if !held {
            return Err(ServiceError::Forbidden(format!(
                "{field}: you cannot grant `{}`, which you do not hold in `{org}`",
                catalog.write_grant(grant)
            )));
        }
    }
    Ok(())
}

fn audit_role(action: &str, before: Option<RoleView>, after: RoleView) -> AuditEntry {
    AuditEntry {
        actor: String::new(),
        action: action.to_owned(),
        org: after.org.clone(),
        target: format!("role:{}", after.id),
        before: before.map(|b| serde_json::json!(b)),
        after: Some(serde_json::json!(after)),
        ..Default::default()
    }
}

/// The view a custom role row will have once written.
fn row_view(live: &Live, row: &CustomRoleRow, app: AppIx) -> RoleView {
    RoleView {
        id: row.id.clone(),
        name: row.name.clone(),
        application: live.snapshot.catalog().applications[app.ix()].id.clone(),
        grants: row.grants.clone(),
        custom: true,
        org: Some(row.org.clone()),
    }
}

/// Creates a custom role of `org`, from a list of grants or by copying a
/// role. Needs a user manager.
pub async fn create(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: NewRole,
) -> Result<Created, ServiceError> {
    check_id("id", &input.id)?;
    let name = check_text("name", &input.name, 200)?;
    if input.grants.is_some() && input.copy_of.is_some() {
        return Err(ServiceError::invalid(
            "copy_of",
            "give either `grants` or `copy_of`, not both",
        ));
    }
    let id = input.id.clone();
    let (revision, id) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            let app = application_of(live, &id)?;
            let catalog = live.snapshot.catalog();
            if catalog.role(&id).is_some() {
                return Err(ServiceError::Conflict(format!(
                    "`{id}` is a built-in role; choose another id"
                )));
            }
            if live.model.custom_roles.contains_key(&id) {
                return Err(ServiceError::Conflict(format!(
                    "role `{id}` already exists"
                )));
            }
            let grants: Vec<(String, Grant)> = match &input.copy_of {
                Some(copied) => {
                    let role = role_in_org(live, org, copied).ok_or_else(|| {
                        ServiceError::invalid("copy_of", format!("unknown role `{copied}`"))
                    })?;
                    let data = live.snapshot.world().role(catalog, role);
                    if data.application != app {
                        return Err(ServiceError::invalid(
                            "copy_of",
                            format!(
                                "`{copied}` is a role of `{}`; a copy keeps its application",
                                catalog.applications[data.application.ix()].id
                            ),
                        ));
                    }
                    data.grants
                        .iter()
                        .map(|g| ("copy_of".to_owned(), *g))
                        .collect()
                }
                None => {
                    let written = input.grants.as_deref().unwrap_or_default();
                    check_grants(live, app, written)?
                        .into_iter()
                        .enumerate()
                        .map(|(i, g)| (format!("grants[{i}]"), g))
                        .collect()
                }
            };
            holds_all(live, principal, org, &grants)?;
            let row = CustomRoleRow {
                id: id.clone(),
                org: org.to_owned(),
                name: name.clone(),
                grants: grants.iter().map(|(_, g)| catalog.write_grant(g)).collect(),
                created_at: now_ms(),
            };
            let audit = audit_role("role.create", None, row_view(live, &row, app));
            Ok(Change::new(
                vec![Put::CustomRole(row)],
                vec![audit],
                id.clone(),
            ))
        })
        .await?;
    Ok(Created { id, revision })
}

/// Every user holding `role`, by a membership or a group. A custom role is
/// held only in its organization and below, so every holder is affected.
fn holders(live: &Live, role: &str) -> Vec<String> {
    let mut users: BTreeSet<String> = live
        .model
        .users
        .values()
        .filter(|u| {
            u.memberships
                .values()
                .any(|a| a.roles.iter().any(|r| r == role))
        })
        .map(|u| u.id.clone())
        .collect();
    for group in live.model.groups.values() {
        if group.roles.iter().any(|r| r == role) {
            users.extend(group.members.iter().cloned());
        }
    }
    users.into_iter().collect()
}

/// Changes a custom role of `org`. Built-in roles cannot be changed. Needs
/// a user manager, who must hold every grant they add, and may not give any
/// holder of the role more than they hold themself.
pub async fn update(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    role: &str,
    input: RoleUpdate,
) -> Result<Updated, ServiceError> {
    let name = input
        .name
        .as_deref()
        .map(|n| check_text("name", n, 200))
        .transpose()?;
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            let catalog = live.snapshot.catalog();
            if catalog.role(role).is_some() {
                return Err(ServiceError::Forbidden(format!(
                    "built-in roles cannot be changed; create a custom role with \
                     `copy_of: \"{role}\"` instead"
                )));
            }
            let before = live
                .model
                .custom_roles
                .get(role)
                .filter(|r| r.org == org)
                .ok_or_else(|| {
                    ServiceError::NotFound(format!("custom role `{role}` in `{org}`"))
                })?;
            let app = application_of(live, role)?;
            let mut row = before.clone();
            if let Some(name) = &name {
                row.name.clone_from(name);
            }
            if let Some(written) = &input.grants {
                let grants = check_grants(live, app, written)?;
                let added: Vec<(String, Grant)> = grants
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| !before.grants.contains(&catalog.write_grant(g)))
                    .map(|(i, g)| (format!("grants[{i}]"), *g))
                    .collect();
                holds_all(live, principal, org, &added)?;
                row.grants = grants.iter().map(|g| catalog.write_grant(g)).collect();
            }
            let audit = audit_role(
                "role.update",
                Some(row_view(live, before, app)),
                row_view(live, &row, app),
            );
            let principal = principal.clone();
            let org = org.to_owned();
            let targets = holders(live, role);
            Ok(Change::new(vec![Put::CustomRole(row)], vec![audit], ())
                .guard(rules::administrators_kept)
                .guard(move |before, after| {
                    rules::no_escalation(&principal, &org, &targets, before, after)
                }))
        })
        .await?;
    Ok(Updated { revision })
}
