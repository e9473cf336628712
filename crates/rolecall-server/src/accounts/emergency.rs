//! Emergency access ("break the glass").
//!
//! An organization's security policy may name users who, in an emergency,
//! give themselves the policy's emergency roles for a bounded time by
//! stating a reason ([`start`]). The access was authorized in advance by
//! whoever wrote the policy, who had to hold those roles (see
//! [`super::set_policy`]), so the usual rules against changing one's own
//! access do not apply here. The roles carry an end time and are removed
//! by the expiry sweep ([`super::expiry`]) when it is reached.
//!
//! Every use is loud: an `emergency_access.start` audit record and a
//! warning in the log. Auditors and security administrators list the uses
//! ([`list`]) and mark each one reviewed ([`review`]), with an
//! `emergency_access.review` record; nobody reviews their own.

use std::collections::BTreeMap;

use rolecall_store::{now_ms, AuditEntry, AuditQuery, AuditRecord, Put, UserRow};
use serde::{Deserialize, Serialize};

use super::{EmergencyPolicy, SecurityPolicy};
use crate::error::{FieldError, ServiceError};
use crate::ops::people::{format_time, parse_time, AccessView};
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

/// The audit action of a use.
pub const START_ACTION: &str = "emergency_access.start";
/// The audit action of a review.
pub const REVIEW_ACTION: &str = "emergency_access.review";
/// The shortest reason accepted, in characters.
pub const MIN_REASON: usize = 10;
/// The longest reason accepted, in characters.
pub const MAX_REASON: usize = 1000;
/// The longest review note accepted, in characters.
pub const MAX_NOTE: usize = 1000;
/// The most uses [`list`] returns, newest first.
pub const MAX_LISTED: i64 = 1000;
/// How far before the oldest listed use reviews are looked for: replicas'
/// clocks may disagree a little.
const CLOCK_MARGIN_MS: i64 = 60 * 60 * 1000;
const MINUTE_MS: i64 = 60_000;

/// `POST /v1/orgs/{org}/emergency-access`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyInput {
    /// Why the access is needed, 10 to 1000 characters; kept in the audit
    /// log for review.
    pub reason: String,
    /// How long the access lasts, from 1 to the policy's `max_minutes`.
    pub minutes: u32,
}

/// What breaking the glass gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EmergencyGrant {
    /// The roles given (the policy's emergency roles).
    pub roles: Vec<String>,
    /// When they end, RFC 3339.
    pub until: String,
    /// The revision of the change.
    pub revision: i64,
}

/// One use of emergency access, for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EmergencyUse {
    /// The number of its audit record: the one a review names.
    pub seq: i64,
    /// The user who broke the glass.
    pub user: String,
    /// When, RFC 3339.
    pub at: String,
    /// When the access ends or ended, RFC 3339.
    pub until: String,
    /// The reason they gave.
    pub reason: String,
    /// The roles it gave.
    pub roles: Vec<String>,
    /// Whether the access is still in effect: its end is ahead and the
    /// user still holds one of its roles.
    pub active: bool,
    /// Who reviewed it (an audit actor, `user:<id>`), if anyone has.
    pub reviewed_by: Option<String>,
    /// When it was reviewed, RFC 3339.
    pub reviewed_at: Option<String>,
    /// The reviewer's note.
    pub note: Option<String>,
}

/// `POST /v1/orgs/{org}/emergency-access/{seq}/review`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// What the review found, 1 to 1000 characters.
    pub note: String,
}

/// What a start record keeps, as its `after`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Started {
    reason: String,
    roles: Vec<String>,
    until: String,
}

/// What a review record keeps, as its `after`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct Reviewed {
    note: String,
    user: String,
}

/// Breaks the glass: gives the acting user the emergency roles of `org`'s
/// policy until `minutes` from now. The user must be named in the policy
/// and be a member of `org`. A role they already hold for good is left
/// alone; one that ends earlier is extended.
pub async fn start(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: EmergencyInput,
) -> Result<EmergencyGrant, ServiceError> {
    let reason = input.reason.trim().to_owned();
    let (revision, (user, roles, until)) = service
        .write(principal, source, |live| {
            rules::visible_org(live, principal, org)?;
            let policy = SecurityPolicy::of(&live.model, org).emergency;
            let row = pre_authorized(live, principal, org, &policy)?;
            check_input(&reason, input.minutes, &policy)?;
            if policy.roles.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "the security policy of `{org}` names no emergency roles"
                )));
            }
            let world = live.snapshot.world();
            let catalog = live.snapshot.catalog();
            if let Some(gone) = policy
                .roles
                .iter()
                .find(|role| world.role_id(catalog, role).is_none())
            {
                return Err(ServiceError::Conflict(format!(
                    "emergency role `{gone}` is no longer a role of `{org}`; the security \
                     policy must be updated"
                )));
            }
            let until = now_ms() + i64::from(input.minutes) * MINUTE_MS;
            let mut next = row.clone();
            let before = next.memberships.get(org).cloned().unwrap_or_default();
            let mut access = before.clone();
            for role in &policy.roles {
                if access.roles.contains(role) {
                    match access.expires.get(role) {
                        // Held for good, or for longer: nothing to give.
                        None => continue,
                        Some(&end) if end >= until => continue,
                        Some(_) => {}
                    }
                } else {
                    access.roles.push(role.clone());
                }
                access.expires.insert(role.clone(), until);
            }
            next.memberships.insert(org.to_owned(), access);
            let audit = vec![AuditEntry {
                action: START_ACTION.to_owned(),
                org: Some(org.to_owned()),
                target: format!("user:{}", row.id),
                before: Some(serde_json::json!(AccessView::of(&before))),
                after: Some(serde_json::json!(Started {
                    reason: reason.clone(),
                    roles: policy.roles.clone(),
                    until: format_time(until),
                })),
                ..Default::default()
            }];
            let value = (row.id.clone(), policy.roles.clone(), until);
            Ok(Change::new(vec![Put::User(next)], audit, value))
        })
        .await?;
    let until = format_time(until);
    tracing::warn!(
        %user,
        %org,
        roles = %roles.join(","),
        %until,
        reason = ?reason,
        revision,
        "EMERGENCY ACCESS: the glass was broken"
    );
    Ok(EmergencyGrant {
        roles,
        until,
        revision,
    })
}

/// The acting user, if the policy names them and they belong to `org`.
fn pre_authorized<'a>(
    live: &'a Live,
    principal: &Principal,
    org: &str,
    policy: &EmergencyPolicy,
) -> Result<&'a UserRow, ServiceError> {
    let refused = || {
        ServiceError::Forbidden(format!(
            "you are not pre-authorized for emergency access in `{org}`: the organization's \
             security policy must name you among its emergency users"
        ))
    };
    let user = principal.user().ok_or_else(refused)?;
    if !policy.users.iter().any(|u| u == user) {
        return Err(refused());
    }
    live.model
        .users
        .get(user)
        .filter(|row| row.memberships.contains_key(org))
        .ok_or_else(refused)
}

fn check_input(reason: &str, minutes: u32, policy: &EmergencyPolicy) -> Result<(), ServiceError> {
    let mut fields = Vec::new();
    let length = reason.chars().count();
    if !(MIN_REASON..=MAX_REASON).contains(&length) {
        fields.push(FieldError::new(
            "reason",
            format!(
                "must be {MIN_REASON} to {MAX_REASON} characters, not {length}: say why the \
                 access is needed"
            ),
        ));
    }
    if !(1..=policy.max_minutes).contains(&minutes) {
        fields.push(FieldError::new(
            "minutes",
            format!(
                "must be from 1 to {} (the policy's maximum), not {minutes}",
                policy.max_minutes
            ),
        ));
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid { fields })
    }
}

/// Fails unless the actor may review emergency access in `org`: an auditor
/// or a security administrator.
fn require_reviewer(
    service: &Service,
    principal: &Principal,
    org: &str,
) -> Result<(), ServiceError> {
    let any_of: Vec<&str> = rules::AUDIT_READER
        .iter()
        .chain(rules::SECURITY_ADMIN)
        .copied()
        .collect();
    rules::require(&service.live(), principal, org, &any_of)
}

/// The uses of emergency access in `org`, newest first (at most
/// [`MAX_LISTED`]), each with its review if it has one. Needs
/// `rolecall.view_audit` or `web.manage_security_policies` there.
pub async fn list(
    service: &Service,
    principal: &Principal,
    org: &str,
) -> Result<Vec<EmergencyUse>, ServiceError> {
    require_reviewer(service, principal, org)?;
    let starts = service
        .store()
        .audit(&AuditQuery {
            org: Some(org.to_owned()),
            action: Some(START_ACTION.to_owned()),
            limit: MAX_LISTED,
            ..Default::default()
        })
        .await?;
    let Some(oldest) = starts.iter().map(|r| r.at).min() else {
        return Ok(Vec::new());
    };
    let reviews = service
        .store()
        .audit(&AuditQuery {
            org: Some(org.to_owned()),
            action: Some(REVIEW_ACTION.to_owned()),
            since: Some(oldest.saturating_sub(CLOCK_MARGIN_MS)),
            limit: 10 * MAX_LISTED,
            ..Default::default()
        })
        .await?;
    // Newest first: the first review of a use is the last one inserted.
    let mut reviewed: BTreeMap<&str, &AuditRecord> = BTreeMap::new();
    for record in &reviews {
        reviewed.insert(record.target.as_str(), record);
    }
    let live = service.live();
    let now = now_ms();
    Ok(starts
        .iter()
        .map(|record| {
            let started: Started = parsed(record.after.as_deref());
            let user = record
                .target
                .strip_prefix("user:")
                .unwrap_or(&record.target)
                .to_owned();
            let end = parse_time(&started.until);
            let holds_one = live
                .model
                .users
                .get(&user)
                .and_then(|row| row.memberships.get(org))
                .is_some_and(|access| {
                    started
                        .roles
                        .iter()
                        .any(|role| access.roles.contains(role) && access.current(role, now))
                });
            let review = reviewed.get(format!("audit:{}", record.seq).as_str());
            EmergencyUse {
                seq: record.seq,
                user,
                at: format_time(record.at),
                until: started.until,
                reason: started.reason,
                roles: started.roles,
                active: end.is_some_and(|end| end > now) && holds_one,
                reviewed_by: review.map(|r| r.actor.clone()),
                reviewed_at: review.map(|r| format_time(r.at)),
                note: review.map(|r| parsed::<Reviewed>(r.after.as_deref()).note),
            }
        })
        .collect())
}

/// Stored JSON as `T`; the default when it is missing or not that shape.
fn parsed<T: serde::de::DeserializeOwned + Default>(text: Option<&str>) -> T {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

/// Marks the use recorded as audit record `seq` reviewed, with `note`.
/// Needs `rolecall.view_audit` or `web.manage_security_policies` in `org`;
/// the user who broke the glass may not review it, and a use is reviewed
/// once.
pub async fn review(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    seq: i64,
    note: String,
) -> Result<(), ServiceError> {
    let note = note.trim().to_owned();
    let length = note.chars().count();
    if !(1..=MAX_NOTE).contains(&length) {
        return Err(ServiceError::invalid(
            "note",
            format!("must be 1 to {MAX_NOTE} characters, not {length}"),
        ));
    }
    require_reviewer(service, principal, org)?;
    let not_found = || ServiceError::NotFound(format!("emergency access `{seq}` in `{org}`"));
    let start = match seq.checked_add(1) {
        Some(below) if seq > 0 => service
            .store()
            .audit(&AuditQuery {
                org: Some(org.to_owned()),
                action: Some(START_ACTION.to_owned()),
                before_seq: Some(below),
                limit: 1,
                ..Default::default()
            })
            .await?
            .into_iter()
            .find(|r| r.seq == seq && r.action == START_ACTION)
            .ok_or_else(not_found)?,
        _ => return Err(not_found()),
    };
    let user = start
        .target
        .strip_prefix("user:")
        .unwrap_or(&start.target)
        .to_owned();
    if principal.user() == Some(user.as_str()) {
        return Err(ServiceError::Forbidden(
            "nobody may review their own emergency access; ask another auditor or security \
             administrator"
                .to_owned(),
        ));
    }
    let target = format!("audit:{seq}");
    let earlier = service
        .store()
        .audit(&AuditQuery {
            org: Some(org.to_owned()),
            action: Some(REVIEW_ACTION.to_owned()),
            target: Some(target.clone()),
            limit: 1,
            ..Default::default()
        })
        .await?;
    if let Some(earlier) = earlier.first() {
        return Err(ServiceError::Conflict(format!(
            "emergency access `{seq}` was already reviewed by `{}` at {}",
            earlier.actor,
            format_time(earlier.at)
        )));
    }
    let actor = principal.actor();
    let audit = vec![AuditEntry {
        actor: actor.clone(),
        action: REVIEW_ACTION.to_owned(),
        org: Some(org.to_owned()),
        target,
        before: None,
        after: Some(serde_json::json!(Reviewed { note, user })),
        ..Default::default()
    }];
    service
        .record(&actor, &principal.source(source), audit, vec![], vec![])
        .await
}
