//! Accounts and sign-in: the life of a user's credentials, from the
//! temporary password emailed when the user is created to sign-in,
//! sessions, lockout, password changes and reset links, MFA, and emergency
//! access.
//!
//! - [`policy`]: each organization's security policy;
//! - [`signin`]: signing in, sessions and their inactivity limit, signing
//!   out, re-authentication, throttling;
//! - [`credentials`]: temporary passwords, password changes and reset links;
//! - [`reset_requests`]: the worker that turns reset requests into links,
//!   off the request path;
//! - [`throttle`]: failed attempts counted per account and address;
//! - [`second_factor`]: TOTP enrolment, the code at sign-in, removal;
//! - [`emergency`]: break-the-glass access, bounded in time and audited;
//! - [`expiry`]: the sweep that ends time-bound roles and grants on time.
//!
//! Credentials and sessions are not part of the replicated model (no access
//! decision reads them): they are written with the audit records of the
//! event, by [`crate::Service::record`] or inside a write's transaction.

pub mod credentials;
pub mod emergency;
pub mod expiry;
pub mod policy;
pub mod reset_requests;
pub mod second_factor;
pub mod signin;
pub mod throttle;

use rolecall_store::{now_ms, AuditEntry, PolicyRow, Put};

pub use policy::{EmergencyPolicy, SecurityPolicy};

use crate::error::ServiceError;
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Service};

/// The security policy of `org`, for whoever may see the organization.
pub fn get_policy(
    service: &Service,
    principal: &Principal,
    org: &str,
) -> Result<SecurityPolicy, ServiceError> {
    let live = service.live();
    rules::visible_org(&live, principal, org)?;
    Ok(SecurityPolicy::of(&live.model, org))
}

/// Replaces the security policy of `org`. Needs
/// `web.manage_security_policies` there and a recent password; the
/// emergency users must be members of the organization and the emergency
/// roles must be ones the actor may grant.
pub async fn set_policy(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    policy: SecurityPolicy,
) -> Result<i64, ServiceError> {
    policy.validate()?;
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::SECURITY_ADMIN)?;
            rules::recent_sign_in(live, principal)?;
            let mut fields = Vec::new();
            for (i, user) in policy.emergency.users.iter().enumerate() {
                let member = live
                    .model
                    .users
                    .get(user)
                    .is_some_and(|u| u.memberships.contains_key(org));
                if !member {
                    fields.push(crate::FieldError::new(
                        format!("emergency.users[{i}]"),
                        format!("`{user}` is not a user of `{org}`"),
                    ));
                }
            }
            let world = live.snapshot.world();
            let catalog = live.snapshot.catalog();
            for (i, role) in policy.emergency.roles.iter().enumerate() {
                if world.role_id(catalog, role).is_none() {
                    fields.push(crate::FieldError::new(
                        format!("emergency.roles[{i}]"),
                        format!("`{role}` is not a role of `{org}`"),
                    ));
                }
            }
            if !fields.is_empty() {
                return Err(ServiceError::Invalid { fields });
            }
            rules::may_grant_roles(
                live,
                principal,
                org,
                &policy.emergency.roles,
                "emergency.roles",
            )?;
            let before = SecurityPolicy::of(&live.model, org);
            let row = PolicyRow {
                org: org.to_owned(),
                policy: serde_json::json!(policy),
                updated_at: now_ms(),
            };
            let audit = vec![AuditEntry {
                action: "security_policy.update".to_owned(),
                org: Some(org.to_owned()),
                target: format!("org:{org}"),
                before: Some(serde_json::json!(before)),
                after: Some(serde_json::json!(policy)),
                ..Default::default()
            }];
            Ok(Change::new(vec![Put::Policy(row)], audit, ()))
        })
        .await?;
    Ok(revision)
}

/// `bytes` random bytes from the operating system's generator, as hex.
pub fn random_hex(bytes: usize) -> String {
    use rand::Rng;
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill(buffer.as_mut_slice());
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}
