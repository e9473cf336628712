//! Member groups (Tasking). A group's access setting is its creator's access
//! type, set by the service and never by the request ("if you are a standard
//! user, any Member Groups you create will be assigned the standard access
//! setting"). A group may hold roles; its members then hold them too, so
//! giving a group roles or members is granting, under the same rules as
//! granting a user a role.

use rolecall_model::defaults;
use rolecall_store::{now_ms, AuditEntry, GroupRow, Put};
use serde::{Deserialize, Serialize};

use super::roles::role_in_org;
use super::{check_id, check_text, new_id, Created, Updated};
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

/// `POST /v1/orgs/{org}/groups`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Stable id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// Member user ids: users of the organization.
    #[serde(default)]
    pub members: Vec<String>,
    /// Roles every member holds in the organization and below.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user creating the group, whose access type the group takes.
    /// An operator must name one; a user creates groups as themself.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// `PUT /v1/orgs/{org}/groups/{group}`: a field left out keeps its value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Every member.
    #[serde(default)]
    pub members: Option<Vec<String>>,
    /// Every role the members hold through the group.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    /// Stable id.
    pub id: String,
    /// The organization it belongs to.
    pub org: String,
    /// Display name.
    pub name: String,
    /// The user who created it.
    pub created_by: String,
    /// Its access setting: the creator's access type (`standard`,
    /// `partner_rcm`), none when the creator had none.
    pub access: Option<String>,
    /// Member user ids.
    pub members: Vec<String>,
    /// Roles every member holds through it.
    pub roles: Vec<String>,
}

impl From<&GroupRow> for GroupView {
    fn from(row: &GroupRow) -> Self {
        GroupView {
            id: row.id.clone(),
            org: row.org.clone(),
            name: row.name.clone(),
            created_by: row.created_by.clone(),
            access: row.access.clone(),
            members: row.members.clone(),
            roles: row.roles.clone(),
        }
    }
}

/// Whether `user` belongs to `org`: a membership there or above it (a
/// company's staff belong to its clinics), as the world requires of a
/// group's creator and members.
fn member_of(live: &Live, user: &str, org: &str) -> bool {
    let world = live.snapshot.world();
    let (Some(user), Some(org)) = (world.user(user), world.org(org)) else {
        return false;
    };
    world.users[user.ix()]
        .memberships
        .iter()
        .any(|m| world.is_at_or_above(m.org, org))
}

/// Checks members and roles, naming every wrong entry (`members[2]`).
fn check_members_and_roles(
    live: &Live,
    org: &str,
    members: &[String],
    roles: &[String],
) -> Result<(), ServiceError> {
    let mut fields = Vec::new();
    for (i, user) in members.iter().enumerate() {
        let field = format!("members[{i}]");
        if !live.model.users.contains_key(user) {
            fields.push(FieldError::new(field, format!("unknown user `{user}`")));
        } else if !member_of(live, user, org) {
            fields.push(FieldError::new(
                field,
                format!("user `{user}` is not a member of `{org}`"),
            ));
        } else if members[..i].contains(user) {
            fields.push(FieldError::new(field, format!("`{user}` is listed twice")));
        }
    }
    for (i, role) in roles.iter().enumerate() {
        let field = format!("roles[{i}]");
        if role_in_org(live, org, role).is_none() {
            fields.push(FieldError::new(
                field,
                format!("unknown role `{role}` (or not one that can be held in `{org}`)"),
            ));
        } else if roles[..i].contains(role) {
            fields.push(FieldError::new(field, format!("`{role}` is listed twice")));
        }
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid { fields })
    }
}

/// Who creates the group: the acting user, or the user an operator names.
fn creator(
    live: &Live,
    principal: &Principal,
    org: &str,
    named: Option<&str>,
) -> Result<String, ServiceError> {
    match (principal.user(), named) {
        (Some(actor), Some(named)) if named != actor => Err(ServiceError::invalid(
            "created_by",
            "a user creates groups as themself; leave `created_by` out",
        )),
        (Some(actor), _) => {
            if member_of(live, actor, org) {
                Ok(actor.to_owned())
            } else {
                // A partner reaching a managed organization has no
                // membership there to take an access type from.
                Err(ServiceError::Forbidden(format!(
                    "only members of `{org}` create its groups: a group takes its creator's \
                     access type there"
                )))
            }
        }
        (None, None) => Err(ServiceError::invalid(
            "created_by",
            "an operator must name the user who creates the group; the group takes that \
             user's access type",
        )),
        (None, Some(named)) => {
            if !live.model.users.contains_key(named) {
                Err(ServiceError::invalid(
                    "created_by",
                    format!("unknown user `{named}`"),
                ))
            } else if !member_of(live, named, org) {
                Err(ServiceError::invalid(
                    "created_by",
                    format!("user `{named}` is not a member of `{org}`"),
                ))
            } else {
                Ok(named.to_owned())
            }
        }
    }
}

/// The creator's access type in `org`, as its catalog id.
fn access_of_creator(live: &Live, creator: &str, org: &str) -> Option<String> {
    let world = live.snapshot.world();
    let access = defaults::group_access(world, world.user(creator)?, world.org(org)?)?;
    Some(live.snapshot.catalog().access_types[access.ix()].id.clone())
}

fn audit_group(action: &str, before: Option<&GroupRow>, after: &GroupRow) -> AuditEntry {
    AuditEntry {
        actor: String::new(),
        action: action.to_owned(),
        org: Some(after.org.clone()),
        target: format!("group:{}", after.id),
        before: before.map(|b| serde_json::json!(GroupView::from(b))),
        after: Some(serde_json::json!(GroupView::from(after))),
        ..Default::default()
    }
}

/// A group change, with the guards every grant runs under: nobody hands
/// members more than they hold, and the organization keeps an administrator.
fn guarded<T>(
    principal: &Principal,
    before: Option<&GroupRow>,
    row: GroupRow,
    audit: AuditEntry,
    value: T,
) -> Change<T> {
    let principal = principal.clone();
    let org = row.org.clone();
    // Who is in the group before or after: a member taken out loses what
    // the group gave them.
    let mut targets = row.members.clone();
    for member in before.into_iter().flat_map(|b| &b.members) {
        if !targets.contains(member) {
            targets.push(member.clone());
        }
    }
    Change::new(vec![Put::Group(row)], vec![audit], value)
        .guard(rules::administrators_kept)
        .guard(move |before, after| {
            rules::no_escalation(&principal, &org, &targets, before, after)?;
            // Granting an administrator permission is a sensitive action.
            rules::admin_grant_reauthenticated(&principal, &org, &targets, before, after)
        })
}

/// Creates a group. Needs `tasking.group.create` in `org`.
pub async fn create(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: NewGroup,
) -> Result<Created, ServiceError> {
    if let Some(id) = &input.id {
        check_id("id", id)?;
    }
    let name = check_text("name", &input.name, 200)?;
    let id = input.id.clone().unwrap_or_else(|| new_id("grp-"));
    let (revision, id) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::GROUP_CREATOR)?;
            let created_by = creator(live, principal, org, input.created_by.as_deref())?;
            if live.model.groups.contains_key(&id) {
                return Err(ServiceError::Conflict(format!(
                    "group `{id}` already exists"
                )));
            }
            check_members_and_roles(live, org, &input.members, &input.roles)?;
            rules::may_grant_roles(live, principal, org, &input.roles, "roles")?;
            let row = GroupRow {
                id: id.clone(),
                org: org.to_owned(),
                name: name.clone(),
                access: access_of_creator(live, &created_by, org),
                created_by,
                members: input.members.clone(),
                roles: input.roles.clone(),
                created_at: now_ms(),
            };
            let audit = audit_group("group.create", None, &row);
            Ok(guarded(principal, None, row, audit, id.clone()))
        })
        .await?;
    Ok(Created { id, revision })
}

/// The group, if it belongs to `org` and the actor reaches `org`.
fn find<'a>(
    live: &'a Live,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<&'a GroupRow, ServiceError> {
    rules::visible_org(live, principal, org)?;
    live.model
        .groups
        .get(group)
        .filter(|g| g.org == org)
        .ok_or_else(|| ServiceError::NotFound(format!("group `{group}` in `{org}`")))
}

/// Changes a group's name, members or roles; its access setting stays.
/// Needs `tasking.group.edit` in `org`.
pub async fn update(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    group: &str,
    input: GroupUpdate,
) -> Result<Updated, ServiceError> {
    let name = input
        .name
        .as_deref()
        .map(|n| check_text("name", n, 200))
        .transpose()?;
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::GROUP_EDITOR)?;
            let before = find(live, principal, org, group)?;
            let mut row = before.clone();
            if let Some(name) = &name {
                row.name.clone_from(name);
            }
            if let Some(members) = &input.members {
                row.members.clone_from(members);
            }
            if let Some(roles) = &input.roles {
                row.roles.clone_from(roles);
            }
            check_members_and_roles(live, org, &row.members, &row.roles)?;
            // A new member receives every role of the group; otherwise only
            // added roles are newly granted.
            let new_member = row.members.iter().any(|m| !before.members.contains(m));
            let granted = row
                .roles
                .iter()
                .filter(|r| new_member || !before.roles.contains(r));
            rules::may_grant_roles(live, principal, org, granted, "roles")?;
            let audit = audit_group("group.update", Some(before), &row);
            Ok(guarded(principal, Some(before), row, audit, ()))
        })
        .await?;
    Ok(Updated { revision })
}

/// Reads one group of an organization the actor reaches.
pub fn get(
    live: &Live,
    principal: &Principal,
    org: &str,
    group: &str,
) -> Result<GroupView, ServiceError> {
    find(live, principal, org, group).map(GroupView::from)
}

/// Lists the groups of an organization the actor reaches.
pub fn list(live: &Live, principal: &Principal, org: &str) -> Result<Vec<GroupView>, ServiceError> {
    rules::visible_org(live, principal, org)?;
    Ok(live
        .model
        .groups
        .values()
        .filter(|g| g.org == org)
        .map(GroupView::from)
        .collect())
}
