//! Changing users' access: one user with optimistic concurrency (`If-Match`),
//! or many at once, all-or-nothing ("update 5 or more user roles at once").

use std::collections::BTreeMap;

use rolecall_model::defaults;
use rolecall_store::{now_ms, Access, AuditEntry, Put};
use serde::Deserialize;

use super::people::{
    check_analytics, check_partner_access, find_user, user_view, AccessInput, AccessView,
};
use super::{access_of, etag_of, validate_membership, Updated};
use crate::error::ServiceError;
use crate::principal::Principal;
use crate::rules::{self, PersonAction};
use crate::service::{Change, Live, Service};

/// The ETag of a user as read in `org`.
pub fn user_etag(
    live: &Live,
    principal: &Principal,
    org: &str,
    user: &str,
) -> Result<String, ServiceError> {
    let row = find_user(live, principal, org, user)?;
    Ok(etag_of(&user_view(live, row, org)))
}

/// Plans one user's new access in `org`; `prefix` names the request's
/// fields (`""`, or `updates[3].` in a bulk update).
fn plan_one(
    live: &Live,
    principal: &Principal,
    org: &str,
    user: &str,
    input: &AccessInput,
    prefix: &str,
) -> Result<(Put, AuditEntry), ServiceError> {
    let row = find_user(live, principal, org, user)?;
    // Taking away is judged like giving: only someone who holds all the
    // user holds may change their access at all.
    rules::may_act_on(live, principal, org, user, PersonAction::Access)?;
    let before = row.memberships.get(org).cloned().unwrap_or_default();
    let spec = input.merged_into(&before, org);
    check_partner_access(principal, Some(&before), &spec)?;
    check_analytics(live, principal, org, Some(&before), &spec)?;
    let mut membership = validate_membership(live, &spec, prefix)?;
    let catalog = live.snapshot.catalog();
    if input.roles.is_none() {
        // Roles were not set explicitly: derive the ones that follow from
        // the grants, as when Analytics Access is first granted.
        defaults::apply_default_roles(catalog, live.snapshot.world(), &mut membership);
    }
    let mut after: Access = access_of(catalog, live, &membership);
    after.expires = input.expiries(&before, &after, prefix, now_ms())?;
    let added: Vec<&String> = after
        .roles
        .iter()
        .filter(|r| !before.roles.contains(r))
        .collect();
    rules::may_grant_roles(live, principal, org, added, &format!("{prefix}roles"))?;
    let mut next = row.clone();
    next.memberships.insert(org.to_owned(), after.clone());
    let entry = AuditEntry {
        actor: String::new(),
        action: "user.access.update".to_owned(),
        org: Some(org.to_owned()),
        target: format!("user:{user}"),
        before: Some(serde_json::json!(AccessView::of(&before))),
        after: Some(serde_json::json!(AccessView::of(&after))),
        ..Default::default()
    };
    Ok((Put::User(next), entry))
}

/// Replaces the given fields of one user's access in `org`. `if_match` must
/// be the ETag from reading the user: a stale one changes nothing.
pub async fn update(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    user: &str,
    if_match: Option<&str>,
    input: AccessInput,
) -> Result<(Updated, String), ServiceError> {
    let if_match = if_match.ok_or(ServiceError::PreconditionRequired)?;
    let (revision, ()) = service
        .write(principal, source, |live| {
            // Who may act comes before whether the request is current: a
            // stale ETag must not tell someone refused anything.
            rules::may_act_on(live, principal, org, user, PersonAction::Access)?;
            let current = user_etag(live, principal, org, user)?;
            if if_match != "*" && if_match != current {
                return Err(ServiceError::Stale);
            }
            let (put, entry) = plan_one(live, principal, org, user, &input, "")?;
            Ok(guarded(
                principal,
                org,
                vec![user.to_owned()],
                vec![put],
                vec![entry],
            ))
        })
        .await?;
    let live = service.live();
    let etag = user_etag(&live, principal, org, user)?;
    Ok((Updated { revision }, etag))
}

fn guarded(
    principal: &Principal,
    org: &str,
    targets: Vec<String>,
    puts: Vec<Put>,
    audit: Vec<AuditEntry>,
) -> Change<()> {
    let principal = principal.clone();
    let org = org.to_owned();
    Change::new(puts, audit, ())
        .guard(rules::administrators_kept)
        .guard(move |before, after| {
            rules::no_escalation(&principal, &org, &targets, before, after)?;
            // Granting an administrator permission is a sensitive action.
            rules::admin_grant_reauthenticated(&principal, &org, &targets, before, after)
        })
}

/// One user's change in a bulk update.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkItem {
    /// The user.
    pub user: String,
    /// The ETag from reading the user; when given, a stale one fails the
    /// whole update.
    #[serde(default)]
    pub if_match: Option<String>,
    // Listed, not flattened: see [`crate::ops::people::NewUser`].
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
    /// or `grants`, to an RFC 3339 time in the future; replaces every end
    /// time when given.
    #[serde(default)]
    pub expires: Option<BTreeMap<String, String>>,
}

impl BulkItem {
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

/// `POST /v1/orgs/{org}/users/bulk-access`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkAccess {
    /// One entry per user; a user appears at most once.
    pub updates: Vec<BulkItem>,
}

/// Changes many users' access in one transaction: every change is applied,
/// or none is.
pub async fn bulk(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: BulkAccess,
) -> Result<Updated, ServiceError> {
    if input.updates.is_empty() {
        return Err(ServiceError::invalid(
            "updates",
            "must list at least one user",
        ));
    }
    for (i, item) in input.updates.iter().enumerate() {
        if input.updates[..i]
            .iter()
            .any(|other| other.user == item.user)
        {
            return Err(ServiceError::invalid(
                format!("updates[{i}].user"),
                format!("user `{}` is listed twice", item.user),
            ));
        }
    }
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::USER_ADMIN)?;
            let mut puts = Vec::new();
            let mut audit = Vec::new();
            for (i, item) in input.updates.iter().enumerate() {
                let prefix = format!("updates[{i}].");
                let found = find_user(live, principal, org, &item.user).map_err(|_| {
                    ServiceError::invalid(
                        format!("{prefix}user"),
                        format!("no user `{}` in `{org}`", item.user),
                    )
                })?;
                rules::may_act_on(live, principal, org, &item.user, PersonAction::Access)?;
                if let Some(tag) = &item.if_match {
                    if *tag != etag_of(&user_view(live, found, org)) {
                        return Err(ServiceError::Stale);
                    }
                }
                let (put, entry) =
                    plan_one(live, principal, org, &item.user, &item.access(), &prefix)?;
                puts.push(put);
                audit.push(entry);
            }
            let targets = input.updates.iter().map(|u| u.user.clone()).collect();
            Ok(guarded(principal, org, targets, puts, audit))
        })
        .await?;
    Ok(Updated { revision })
}
