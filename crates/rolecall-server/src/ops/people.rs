//! Employees and users. A user is created only for an existing employee of
//! the organization, and its email is always the employee's ("the email
//! address will be pulled from the employee profile").

use std::collections::BTreeMap;

use rolecall_model::defaults;
use rolecall_model::world::{MembershipSpec, Status};
use rolecall_store::{now_ms, Access, AccountWrite, AuditEntry, EmployeeRow, Put, UserRow};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{access_of, check_id, check_text, new_id, validate_membership, Created};
use crate::accounts::credentials::Temporary;
use crate::accounts::{signin, SecurityPolicy};
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules::{self, PersonAction};
use crate::service::{Change, Live, Service};

/// `POST /v1/orgs/{org}/employees`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmployee {
    /// Stable id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Work email; the user's email will be this one.
    pub email: String,
}

/// An employee as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmployeeView {
    /// Stable id.
    pub id: String,
    /// The employing organization.
    pub org: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// The employee's user, if one was created.
    pub user: Option<String>,
}

/// Checks an email address's shape: one `@`, something on each side, a dot
/// in the domain, no spaces. Deliverability is the mail server's business.
pub fn check_email(field: &str, email: &str) -> Result<String, ServiceError> {
    let email = check_text(field, email, 254)?;
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(ServiceError::invalid(
            field,
            format!("`{email}` is not an email address"),
        ))
    }
}

fn employee_view(live: &Live, row: &EmployeeRow) -> EmployeeView {
    EmployeeView {
        id: row.id.clone(),
        org: row.org.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        email: row.email.clone(),
        user: live.model.user_of_employee.get(&row.id).cloned(),
    }
}

/// Adds an employee to an organization's staff. Needs a user manager.
pub async fn create_employee(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: NewEmployee,
) -> Result<Created, ServiceError> {
    if let Some(id) = &input.id {
        check_id("id", id)?;
    }
    let first_name = check_text("first_name", &input.first_name, 100)?;
    let last_name = check_text("last_name", &input.last_name, 100)?;
    let email = check_email("email", &input.email)?;
    let id = input.id.clone().unwrap_or_else(|| new_id("emp-"));
    let (revision, id) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            if live.model.employees.contains_key(&id) {
                return Err(ServiceError::Conflict(format!(
                    "employee `{id}` already exists"
                )));
            }
            let row = EmployeeRow {
                id: id.clone(),
                org: org.to_owned(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                email: email.clone(),
                created_at: now_ms(),
            };
            let audit = vec![AuditEntry {
                actor: String::new(),
                action: "employee.create".to_owned(),
                org: Some(org.to_owned()),
                target: format!("employee:{id}"),
                before: None,
                after: Some(serde_json::json!(employee_view(live, &row))),
                ..Default::default()
            }];
            Ok(Change::new(vec![Put::Employee(row)], audit, id.clone()))
        })
        .await?;
    Ok(Created { id, revision })
}

/// `PUT /v1/orgs/{org}/employees/{employee}`: the fields to change.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeUpdate {
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email: the employee's user signs in with, and receives mail at, this
    /// address from this change on.
    #[serde(default)]
    pub email: Option<String>,
}

/// Changes an employee's profile. The seed: the email is corrected on the
/// employee's profile, and the user's email follows at once.
pub async fn update_employee(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    employee: &str,
    input: EmployeeUpdate,
) -> Result<super::Updated, ServiceError> {
    let mut fields = Vec::new();
    let mut keep = |result: Result<String, ServiceError>| match result {
        Ok(value) => Some(value),
        Err(ServiceError::Invalid { fields: wrong }) => {
            fields.extend(wrong);
            None
        }
        Err(_) => None,
    };
    let first_name = input
        .first_name
        .as_deref()
        .and_then(|v| keep(check_text("first_name", v, 100)));
    let last_name = input
        .last_name
        .as_deref()
        .and_then(|v| keep(check_text("last_name", v, 100)));
    let email = input
        .email
        .as_deref()
        .and_then(|v| keep(check_email("email", v)));
    if !fields.is_empty() {
        return Err(ServiceError::Invalid { fields });
    }
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            let before = live
                .model
                .employees
                .get(employee)
                .filter(|e| e.org == org)
                .ok_or_else(|| ServiceError::NotFound(format!("employee `{employee}`")))?;
            let mut row = before.clone();
            if let Some(v) = &first_name {
                row.first_name.clone_from(v);
            }
            if let Some(v) = &last_name {
                row.last_name.clone_from(v);
            }
            if let Some(v) = &email {
                row.email.clone_from(v);
            }
            let own_user = live.model.user_of_employee.get(employee).cloned();
            if let Some(user) = &own_user {
                // The profile owns the email that the user signs in with
                // and receives reset links at: changing it is an action on
                // the user.
                rules::may_act_on(live, principal, org, user, PersonAction::Profile)?;
            }
            if signin::user_by_email(&live.model, &row.email)
                .is_some_and(|u| Some(&u.id) != own_user.as_ref())
            {
                return Err(email_taken(&row.email));
            }
            let mut audit = vec![AuditEntry {
                action: "employee.update".to_owned(),
                org: Some(org.to_owned()),
                target: format!("employee:{employee}"),
                before: Some(serde_json::json!(employee_view(live, before))),
                after: Some(serde_json::json!(employee_view(live, &row))),
                ..Default::default()
            }];
            let mut change = Change::new(vec![Put::Employee(row.clone())], Vec::new(), ());
            let email_changed = !before.email.eq_ignore_ascii_case(&row.email);
            if let (Some(user), true) = (own_user, email_changed) {
                // Whoever holds the old address learns of the change, and
                // nothing sent there before (a session, a reset link) keeps
                // working.
                let now = now_ms();
                audit.push(AuditEntry {
                    action: "user.email.change".to_owned(),
                    org: Some(org.to_owned()),
                    target: format!("user:{user}"),
                    before: Some(serde_json::json!({ "email": before.email })),
                    after: Some(serde_json::json!({ "email": row.email })),
                    ..Default::default()
                });
                change = change
                    .email(email_change_notice(live, principal, org, before, &row))
                    .account(AccountWrite::EndSessions {
                        user: user.clone(),
                        at: now,
                        reason: "email_changed".to_owned(),
                    })
                    .account(AccountWrite::EndResetTokens { user, at: now });
            }
            change.audit = audit;
            Ok(change)
        })
        .await?;
    Ok(super::Updated { revision })
}

/// The refusal of an email someone already signs in with. It names
/// neither the user nor where they are, and reads the same whether or not
/// the actor reaches them.
pub fn email_taken(email: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "`{email}` is already used to sign in: each user needs an email of their own"
    ))
}

/// The message to an employee's old address when their sign-in email
/// changes: what changed, by whom, and what to do if it was unexpected. It
/// holds no link to act on.
fn email_change_notice(
    live: &Live,
    principal: &Principal,
    org: &str,
    before: &EmployeeRow,
    after: &EmployeeRow,
) -> rolecall_store::OutgoingEmail {
    let by = principal
        .user()
        .and_then(|u| live.model.users.get(u))
        .map_or_else(|| "an operator".to_owned(), |row| live.model.user_name(row));
    let clinic = live.model.orgs.get(org).map_or(org, |o| o.name.as_str());
    rolecall_store::OutgoingEmail {
        to: before.email.clone(),
        subject: "Your sign-in email was changed".to_owned(),
        body_text: format!(
            "Hello {} {},\n\n\
             The email you sign in to {clinic} with was changed from {} to {} by {by}. \
             Password links now go to the new address, and you were signed out.\n\n\
             If you did not expect this, tell your clinic's administrator at once.\n",
            before.first_name, before.last_name, before.email, after.email
        ),
    }
}

/// Lists an organization's employees.
pub fn list_employees(
    live: &Live,
    principal: &Principal,
    org: &str,
) -> Result<Vec<EmployeeView>, ServiceError> {
    rules::require(live, principal, org, rules::USER_ADMIN)?;
    Ok(live
        .model
        .employees
        .values()
        .filter(|e| e.org == org)
        .map(|e| employee_view(live, e))
        .collect())
}

/// A user's access in one organization, as requests write it. Every field
/// is optional: on an update, a field left out keeps its value.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessInput {
    /// Role ids, built-in or custom.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Direct grants: `permission` or `permission:own`.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// Direct denials: permissions unchecked against the roles' defaults.
    #[serde(default)]
    pub denials: Option<Vec<String>>,
    /// Scheduler user type: `provider` or `office_staff`.
    #[serde(default)]
    pub scheduler_type: Option<String>,
    /// Scheduler access level (providers): `my_schedule`, `edit_own`,
    /// `edit_own_view_all`, `view_edit_all`.
    #[serde(default)]
    pub scheduler_level: Option<String>,
    /// Tasking access type: `standard` (or `partner_rcm`, operators only).
    #[serde(default)]
    pub tasking_access: Option<String>,
    /// When roles and grants end: a role id or grant, as written in `roles`
    /// or `grants`, to an RFC 3339 time in the future. When given, it
    /// replaces every end time (`{}` makes everything permanent); when left
    /// out, the end times of the roles and grants that stay are kept.
    #[serde(default)]
    pub expires: Option<BTreeMap<String, String>>,
}

impl AccessInput {
    /// `base` with the fields given here replaced.
    pub fn merged_into(&self, base: &Access, org: &str) -> MembershipSpec {
        let mut spec = base.to_full_spec(org);
        if let Some(roles) = &self.roles {
            spec.roles.clone_from(roles);
        }
        if let Some(grants) = &self.grants {
            spec.grants.clone_from(grants);
        }
        if let Some(denials) = &self.denials {
            spec.denials.clone_from(denials);
        }
        if self.scheduler_type.is_some() {
            spec.scheduler_type.clone_from(&self.scheduler_type);
        }
        if self.scheduler_level.is_some() {
            spec.scheduler_level.clone_from(&self.scheduler_level);
        }
        if self.tasking_access.is_some() {
            spec.tasking_access.clone_from(&self.tasking_access);
        }
        spec
    }

    /// The end times to store with `after`, the access as merged and
    /// validated: the ones given here, or else `before`'s for the roles and
    /// grants `after` still has. Every wrong entry is reported, as
    /// `{prefix}expires.<key>`: a key that is not one of `after`'s roles or
    /// grants, a time that is not RFC 3339, or one not after `now`.
    pub fn expiries(
        &self,
        before: &Access,
        after: &Access,
        prefix: &str,
        now: i64,
    ) -> Result<BTreeMap<String, i64>, ServiceError> {
        let held = |key: &str| after.roles.iter().chain(&after.grants).any(|i| i == key);
        let Some(given) = &self.expires else {
            let mut kept = before.expires.clone();
            kept.retain(|key, _| held(key));
            return Ok(kept);
        };
        let mut fields = Vec::new();
        let mut expires = BTreeMap::new();
        for (key, text) in given {
            let field = format!("{prefix}expires.{key}");
            if !held(key) {
                fields.push(FieldError::new(
                    field,
                    format!("`{key}` is not one of the roles or grants of this membership"),
                ));
                continue;
            }
            match parse_time(text) {
                None => fields.push(FieldError::new(
                    field,
                    format!("`{text}` is not an RFC 3339 time, e.g. `2025-01-31T18:00:00Z`"),
                )),
                Some(end) if end <= now => fields.push(FieldError::new(
                    field,
                    format!("`{text}` is not in the future"),
                )),
                Some(end) => {
                    expires.insert(key.clone(), end);
                }
            }
        }
        if fields.is_empty() {
            Ok(expires)
        } else {
            Err(ServiceError::Invalid { fields })
        }
    }
}

/// An RFC 3339 time as ms since the epoch; none when it is not one.
pub fn parse_time(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
}

/// Ms since the epoch as RFC 3339 (UTC); the number itself if out of range.
pub fn format_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// `POST /v1/orgs/{org}/users`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Stable id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The employee whose account this is; their email is the user's.
    pub employee_id: String,
    // The access fields are listed rather than flattened from
    // [`AccessInput`]: serde's `flatten` loses the name of a bad field.
    /// Role ids, built-in or custom.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Direct grants: `permission` or `permission:own`.
    #[serde(default)]
    pub grants: Option<Vec<String>>,
    /// Direct denials: permissions unchecked against the roles' defaults.
    #[serde(default)]
    pub denials: Option<Vec<String>>,
    /// Scheduler user type: `provider` or `office_staff`.
    #[serde(default)]
    pub scheduler_type: Option<String>,
    /// Scheduler access level (providers).
    #[serde(default)]
    pub scheduler_level: Option<String>,
    /// Tasking access type: `standard` (or `partner_rcm`, operators only).
    #[serde(default)]
    pub tasking_access: Option<String>,
    /// When roles and grants end: a role id or grant, as written in `roles`
    /// or `grants`, to an RFC 3339 time in the future.
    #[serde(default)]
    pub expires: Option<BTreeMap<String, String>>,
}

impl NewUser {
    /// A request for `employee_id`'s user with `access`.
    pub fn new(id: Option<String>, employee_id: String, access: AccessInput) -> NewUser {
        NewUser {
            id,
            employee_id,
            roles: access.roles,
            grants: access.grants,
            denials: access.denials,
            scheduler_type: access.scheduler_type,
            scheduler_level: access.scheduler_level,
            tasking_access: access.tasking_access,
            expires: access.expires,
        }
    }
    /// The access fields of the request.
    pub fn access(&self) -> AccessInput {
        AccessInput {
            roles: self.roles.clone(),
            grants: self.grants.clone(),
            denials: self.denials.clone(),
            scheduler_type: self.scheduler_type.clone(),
            scheduler_level: self.scheduler_level.clone(),
            tasking_access: self.tasking_access.clone(),
            expires: self.expires.clone(),
        }
    }
}

/// What creating a user returns.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// The new user's id.
    pub id: String,
    /// Its status: `invited` until it first signs in.
    #[schema(value_type = String)]
    pub status: Status,
    /// The revision that created it.
    pub revision: i64,
}

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Stable id.
    pub id: String,
    /// The employee whose account this is.
    pub employee_id: String,
    /// The employee's name.
    pub name: String,
    /// The employee's email.
    pub email: Option<String>,
    /// `invited`, `active` or `disabled`.
    #[schema(value_type = String)]
    pub status: Status,
    /// The access in the organization asked about.
    pub org: String,
    /// That access.
    pub access: AccessView,
}

/// A user's access in one organization, as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccessView {
    /// Role ids, built-in or custom.
    pub roles: Vec<String>,
    /// Direct grants, `permission` or `permission:own`.
    pub grants: Vec<String>,
    /// Direct denials.
    pub denials: Vec<String>,
    /// Scheduler user type.
    pub scheduler_type: Option<String>,
    /// Scheduler access level.
    pub scheduler_level: Option<String>,
    /// Tasking access type.
    pub tasking_access: Option<String>,
    /// When roles and grants end: role id or grant to an RFC 3339 time.
    /// The ones not listed do not end.
    pub expires: BTreeMap<String, String>,
}

impl AccessView {
    /// The view of stored access.
    pub fn of(access: &Access) -> AccessView {
        AccessView {
            roles: access.roles.clone(),
            grants: access.grants.clone(),
            denials: access.denials.clone(),
            scheduler_type: access.scheduler_type.clone(),
            scheduler_level: access.scheduler_level.clone(),
            tasking_access: access.tasking_access.clone(),
            expires: access
                .expires
                .iter()
                .map(|(item, &end)| (item.clone(), format_time(end)))
                .collect(),
        }
    }
}

/// The user's view in `org`.
pub fn user_view(live: &Live, row: &UserRow, org: &str) -> UserView {
    UserView {
        id: row.id.clone(),
        employee_id: row.employee.clone(),
        name: live.model.user_name(row),
        email: live.model.user_email(row).map(str::to_owned),
        status: row.status,
        org: org.to_owned(),
        access: row
            .memberships
            .get(org)
            .map(AccessView::of)
            .unwrap_or_default(),
    }
}

/// The user, if it belongs to `org` (a membership there) and the actor
/// may see it.
pub fn find_user<'a>(
    live: &'a Live,
    principal: &Principal,
    org: &str,
    user: &str,
) -> Result<&'a UserRow, ServiceError> {
    rules::visible_org(live, principal, org)?;
    live.model
        .users
        .get(user)
        .filter(|u| u.memberships.contains_key(org))
        .ok_or_else(|| ServiceError::NotFound(format!("user `{user}` in `{org}`")))
}

/// Reads one user; the actor sees themself, and user managers see everyone.
pub fn get_user(
    live: &Live,
    principal: &Principal,
    org: &str,
    user: &str,
) -> Result<UserView, ServiceError> {
    let row = find_user(live, principal, org, user)?;
    if principal.user() != Some(user) {
        rules::require(live, principal, org, rules::USER_ADMIN)?;
    }
    Ok(user_view(live, row, org))
}

/// Lists the users with a membership in `org`.
pub fn list_users(
    live: &Live,
    principal: &Principal,
    org: &str,
) -> Result<Vec<UserView>, ServiceError> {
    rules::require(live, principal, org, rules::USER_ADMIN)?;
    Ok(live
        .model
        .users
        .values()
        .filter(|u| u.memberships.contains_key(org))
        .map(|u| user_view(live, u, org))
        .collect())
}

/// Creates the user of an existing employee, with their access in `org`.
pub async fn create_user(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: NewUser,
) -> Result<CreatedUser, ServiceError> {
    if let Some(id) = &input.id {
        check_id("id", id)?;
    }
    let id = input.id.clone().unwrap_or_else(|| new_id("usr-"));
    // The seed: creating the user "will send an email to the user with a
    // temporary password so that they are able to create their own". It is
    // hashed here, off the write lock, and queued by the same transaction.
    let policy = SecurityPolicy::of(&service.live().model, org);
    let temporary = Temporary::new(service, &id, None, policy.temporary_password_ms()).await?;
    let (revision, id) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            let employee = live
                .model
                .employees
                .get(&input.employee_id)
                .filter(|e| e.org == org)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "employee_id",
                        format!("`{}` is not an employee of `{org}`", input.employee_id),
                    )
                })?;
            if let Some(existing) = live.model.user_of_employee.get(&employee.id) {
                return Err(ServiceError::Conflict(format!(
                    "employee `{}` already has user `{existing}`",
                    employee.id
                )));
            }
            if live.model.users.contains_key(&id) {
                return Err(ServiceError::Conflict(format!(
                    "user `{id}` already exists"
                )));
            }
            let spec = input.access().merged_into(&Access::default(), org);
            check_partner_access(principal, None, &spec)?;
            check_analytics(live, principal, org, None, &spec)?;
            let mut membership = validate_membership(live, &spec, "")?;
            let catalog = live.snapshot.catalog();
            defaults::apply_on_create(catalog, live.snapshot.world(), &mut membership);
            let mut access = access_of(catalog, live, &membership);
            access.expires = input
                .access()
                .expiries(&Access::default(), &access, "", now_ms())?;
            rules::may_grant_roles(live, principal, org, &access.roles, "roles")?;
            let row = UserRow {
                id: id.clone(),
                employee: employee.id.clone(),
                status: Status::Invited,
                memberships: BTreeMap::from([(org.to_owned(), access)]),
                created_at: now_ms(),
            };
            let audit = vec![AuditEntry {
                actor: String::new(),
                action: "user.create".to_owned(),
                org: Some(org.to_owned()),
                target: format!("user:{id}"),
                before: None,
                after: Some(serde_json::json!(user_view(live, &row, org))),
                ..Default::default()
            }];
            let principal = principal.clone();
            let org = org.to_owned();
            if signin::user_by_email(&live.model, &employee.email).is_some() {
                return Err(email_taken(&employee.email));
            }
            let email = temporary.email(
                service,
                &employee.email,
                &format!("{} {}", employee.first_name, employee.last_name),
            );
            let targets = vec![id.clone()];
            let reauth_targets = targets.clone();
            let reauth_principal = principal.clone();
            let reauth_org = org.clone();
            Ok(Change::new(vec![Put::User(row)], audit, id.clone())
                .account(AccountWrite::Credential(temporary.credential.clone()))
                .email(email)
                .guard(move |before, after| {
                    rules::no_escalation(&principal, &org, &targets, before, after)
                })
                .guard(move |before, after| {
                    rules::admin_grant_reauthenticated(
                        &reauth_principal,
                        &reauth_org,
                        &reauth_targets,
                        before,
                        after,
                    )
                }))
        })
        .await?;
    Ok(CreatedUser {
        id,
        status: Status::Invited,
        revision,
    })
}

/// Partner RCM access is assigned by an operator only.
pub fn check_partner_access(
    principal: &Principal,
    before: Option<&Access>,
    after: &MembershipSpec,
) -> Result<(), ServiceError> {
    let was = before.and_then(|a| a.tasking_access.as_deref());
    let is = after.tasking_access.as_deref();
    let touches_partner =
        (was != is) && (was == Some(rules::PARTNER_ACCESS) || is == Some(rules::PARTNER_ACCESS));
    if touches_partner && !principal.is_operator() {
        return Err(ServiceError::Forbidden(format!(
            "tasking_access: only an operator may assign or remove `{}` access",
            rules::PARTNER_ACCESS
        )));
    }
    Ok(())
}

/// Changing Analytics roles needs `analytics.management` too.
pub fn check_analytics(
    live: &Live,
    principal: &Principal,
    org: &str,
    before: Option<&Access>,
    after: &MembershipSpec,
) -> Result<(), ServiceError> {
    let analytics = |roles: &[String]| -> Vec<String> {
        let mut r: Vec<String> = roles
            .iter()
            .filter(|r| r.starts_with("analytics."))
            .cloned()
            .collect();
        r.sort();
        r
    };
    let was = before.map(|a| analytics(&a.roles)).unwrap_or_default();
    let is = analytics(&after.roles);
    let grants_changed = |grants: &[String]| -> Vec<String> {
        let mut g: Vec<String> = grants
            .iter()
            .filter(|g| g.starts_with("analytics."))
            .cloned()
            .collect();
        g.sort();
        g
    };
    let was_grants = before
        .map(|a| grants_changed(&a.grants))
        .unwrap_or_default();
    // Denying a report is as much a change of Analytics access as granting
    // one.
    let was_denials = before
        .map(|a| grants_changed(&a.denials))
        .unwrap_or_default();
    if was != is
        || was_grants != grants_changed(&after.grants)
        || was_denials != grants_changed(&after.denials)
    {
        rules::require(live, principal, org, rules::ANALYTICS_ADMIN).map_err(|_| {
            ServiceError::Forbidden(format!(
                "roles: changing Analytics roles, report grants or report denials needs `analytics.management` in `{org}`"
            ))
        })?;
    }
    Ok(())
}

/// `PUT /v1/orgs/{org}/users/{user}/status`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `active` or `disabled`.
    #[schema(value_type = String)]
    pub status: Status,
}

/// Activates or disables a user.
pub async fn set_status(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    user: &str,
    input: StatusInput,
) -> Result<super::Updated, ServiceError> {
    if input.status == Status::Invited {
        return Err(ServiceError::invalid(
            "status",
            "a user cannot be made `invited` again; use `active` or `disabled`",
        ));
    }
    let (revision, ()) = service
        .write(principal, source, |live| {
            let before = find_user(live, principal, org, user)?;
            rules::may_act_on(live, principal, org, user, PersonAction::Status)?;
            let mut row = before.clone();
            row.status = input.status;
            let audit = vec![AuditEntry {
                actor: String::new(),
                action: "user.status.update".to_owned(),
                org: Some(org.to_owned()),
                target: format!("user:{user}"),
                before: Some(serde_json::json!({ "status": before.status })),
                after: Some(serde_json::json!({ "status": row.status })),
                ..Default::default()
            }];
            let principal = principal.clone();
            let org = org.to_owned();
            let targets = vec![user.to_owned()];
            let mut puts = vec![Put::User(row)];
            let mut change_accounts = Vec::new();
            if input.status == Status::Disabled {
                // Termination: the user's sessions and API tokens end with
                // the same commit.
                let now = now_ms();
                change_accounts.push(AccountWrite::EndSessions {
                    user: user.to_owned(),
                    at: now,
                    reason: "disabled".to_owned(),
                });
                for token in live.model.tokens.values() {
                    if token.user.as_deref() == Some(user) && token.revoked_at.is_none() {
                        let mut revoked = token.clone();
                        revoked.revoked_at = Some(now);
                        puts.push(Put::Token(revoked));
                    }
                }
            }
            let mut change = Change::new(puts, audit, ());
            change.accounts = change_accounts;
            Ok(change
                .guard(rules::administrators_kept)
                .guard(move |before, after| {
                    rules::no_escalation(&principal, &org, &targets, before, after)
                }))
        })
        .await?;
    Ok(super::Updated { revision })
}

/// Removes a user's membership in `org` (their access there, and their
/// place in its groups). When it was their last, their sessions end and
/// their API tokens are revoked in the same commit ("termination
/// procedures"); otherwise the tokens issued for `org` are revoked, and a
/// session in `org` ends at its next request.
pub async fn remove_membership(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    user: &str,
) -> Result<super::Updated, ServiceError> {
    let (revision, ()) = service
        .write(principal, source, |live| {
            let before = find_user(live, principal, org, user)?;
            rules::may_act_on(live, principal, org, user, PersonAction::Removal)?;
            let mut row = before.clone();
            let removed = row.memberships.remove(org).unwrap_or_default();
            let last = row.memberships.is_empty();
            // A group takes its access setting from its creator, who must
            // stay a member of its organization.
            let world = live.snapshot.world();
            let still_reaches = |group_org: &str| {
                world.org(group_org).is_some_and(|target| {
                    row.memberships.keys().any(|held| {
                        world
                            .org(held)
                            .is_some_and(|held| world.is_at_or_above(held, target))
                    })
                })
            };
            if let Some(group) = live
                .model
                .groups
                .values()
                .find(|g| g.created_by == user && !still_reaches(&g.org))
            {
                return Err(ServiceError::Conflict(format!(
                    "`{user}` created the group `{}` of `{}`, which takes its access setting \
                     from its creator: the creator of a group stays a member of its organization",
                    group.id, group.org
                )));
            }
            let now = now_ms();
            let mut puts = Vec::new();
            for group in live.model.groups.values() {
                if group.org == org && group.members.iter().any(|m| m == user) {
                    let mut group = group.clone();
                    group.members.retain(|m| m != user);
                    puts.push(Put::Group(group));
                }
            }
            for token in live.model.tokens.values() {
                let affected = token.user.as_deref() == Some(user)
                    && token.revoked_at.is_none()
                    && (last || token.org.as_deref() == Some(org));
                if affected {
                    let mut revoked = token.clone();
                    revoked.revoked_at = Some(now);
                    puts.push(Put::Token(revoked));
                }
            }
            puts.insert(0, Put::User(row));
            let audit = vec![AuditEntry {
                action: "user.membership.remove".to_owned(),
                org: Some(org.to_owned()),
                target: format!("user:{user}"),
                before: Some(serde_json::json!({ "org": org, "access": AccessView::of(&removed) })),
                after: Some(serde_json::json!({ "last_membership": last })),
                ..Default::default()
            }];
            let mut change = Change::new(puts, audit, ()).guard(rules::administrators_kept);
            if last {
                change = change.account(AccountWrite::EndSessions {
                    user: user.to_owned(),
                    at: now,
                    reason: "membership_removed".to_owned(),
                });
            }
            Ok(change)
        })
        .await?;
    Ok(super::Updated { revision })
}
