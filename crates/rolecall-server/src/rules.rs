//! The administrative rules, decided by the engine itself against the
//! catalog's admin permissions:
//!
//! - who may manage users and access (`emr.edit_users`, the seed's user
//!   manager, or `web.manage_user_accounts_subscriptions`), subscriptions
//!   (`web.manage_user_accounts_subscriptions`), Analytics roles and reports
//!   (also `analytics.management`), groups (`tasking.group.create` /
//!   `tasking.group.edit`), tokens (`rolecall.manage_api_tokens`) and the
//!   audit log (`rolecall.view_audit`);
//! - nobody grants a role or permission they do not hold, unless they are a
//!   system admin (`web.system_admin`) or an operator;
//! - nobody edits their own access;
//! - an organization that has an administrator keeps one;
//! - organizations are isolated: anything outside what the actor reaches is
//!   "not found", not "forbidden", so its existence does not leak;
//! - partner links and Partner RCM access are set by an operator only;
//! - sensitive actions (granting an administrator permission, changing the
//!   security policy, issuing tokens) from a console session want a
//!   password given within the organization's re-authentication window;
//! - one rule for every action on a person ([`may_act_on`]): editing their
//!   employee profile, their access, their status, removing them, mailing
//!   them a password link and issuing, listing and revoking their tokens
//!   is allowed only to someone who holds every permission they hold (or a
//!   system admin, or an operator), so a user manager cannot take over,
//!   demote or push out a more privileged account;
//! - facts about people the actor does not reach answer as if those people
//!   did not exist ([`sees_user`]).

use std::collections::BTreeSet;

use crate::accounts::SecurityPolicy;
use crate::error::ServiceError;
use crate::principal::{Principal, Via};
use crate::service::Live;

/// Either makes a user manager: may manage users and their access.
pub const USER_ADMIN: &[&str] = &["emr.edit_users", "web.manage_user_accounts_subscriptions"];
/// May change the organization's subscriptions.
pub const SUBSCRIPTION_ADMIN: &[&str] = &["web.manage_user_accounts_subscriptions"];
/// Also needed to change Analytics roles and reports.
pub const ANALYTICS_ADMIN: &[&str] = &["analytics.management"];
/// May create groups.
pub const GROUP_CREATOR: &[&str] = &["tasking.group.create"];
/// May edit groups.
pub const GROUP_EDITOR: &[&str] = &["tasking.group.edit"];
/// May issue API tokens.
pub const TOKEN_ADMIN: &[&str] = &["rolecall.manage_api_tokens"];
/// May read the audit log.
pub const AUDIT_READER: &[&str] = &["rolecall.view_audit"];
/// May change the organization's security policy.
pub const SECURITY_ADMIN: &[&str] = &["web.manage_security_policies"];
/// The permissions that make an administrator: granting any of them is a
/// sensitive action that wants a recent password.
pub const ADMIN_PERMISSIONS: &[&str] = &[
    "emr.edit_users",
    "web.manage_user_accounts_subscriptions",
    "web.manage_security_policies",
    "analytics.management",
    "rolecall.manage_api_tokens",
    "rolecall.view_audit",
];
/// The role that may grant what it does not hold.
pub const SYSTEM_ADMIN_ROLE: &str = "web.system_admin";
/// The access type only an operator assigns ("manually assigned to specific
/// users during Onboarding").
pub const PARTNER_ACCESS: &str = "partner_rcm";

/// Fails with "not found" unless the organization exists and the actor
/// reaches it.
pub fn visible_org(live: &Live, principal: &Principal, org: &str) -> Result<(), ServiceError> {
    let not_found = || ServiceError::NotFound(format!("organization `{org}`"));
    if !live.model.orgs.contains_key(org) {
        return Err(not_found());
    }
    match principal {
        Principal::Operator { .. } | Principal::Cli | Principal::System => Ok(()),
        Principal::User {
            user, org: home, ..
        } => {
            if in_token_scope(live, home, org) && live.snapshot.reaches(user, org) {
                Ok(())
            } else {
                Err(not_found())
            }
        }
    }
}

/// A token issued for `home` acts there, in its clinics, and in what it
/// manages as a partner (and their clinics).
fn in_token_scope(live: &Live, home: &str, org: &str) -> bool {
    let world = live.snapshot.world();
    let (Some(home_ix), Some(org_ix)) = (world.org(home), world.org(org)) else {
        return false;
    };
    world
        .ancestors_and_self(org_ix)
        .any(|above| above == home_ix || world.orgs[home_ix.ix()].manages.contains(&above))
}

/// Fails unless the actor may do one of `any_of` in `org` (operators may
/// do everything). Checks visibility first.
pub fn require(
    live: &Live,
    principal: &Principal,
    org: &str,
    any_of: &[&str],
) -> Result<(), ServiceError> {
    visible_org(live, principal, org)?;
    let Some(user) = principal.user() else {
        return Ok(());
    };
    if any_of
        .iter()
        .any(|p| live.snapshot.check(user, p, org, None).allowed)
    {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "this needs `{}` in `{org}`",
        any_of.join("` or `")
    )))
}

/// Fails unless an operator acts.
pub fn require_operator(principal: &Principal, what: &str) -> Result<(), ServiceError> {
    if principal.is_operator() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "only an operator may {what}"
        )))
    }
}

/// The roles `user` holds in `org`: by memberships there or above, and by
/// groups there or above.
pub fn roles_held(live: &Live, user: &str, org: &str) -> BTreeSet<String> {
    let world = live.snapshot.world();
    let mut roles = BTreeSet::new();
    let (Some(row), Some(org_ix)) = (live.model.users.get(user), world.org(org)) else {
        return roles;
    };
    for above in world.ancestors_and_self(org_ix) {
        let above = world.orgs[above.ix()].id.as_str();
        if let Some(access) = row.memberships.get(above) {
            roles.extend(access.roles.iter().cloned());
        }
        for group in live.model.groups.values() {
            if group.org == above && group.members.iter().any(|m| m == user) {
                roles.extend(group.roles.iter().cloned());
            }
        }
    }
    roles
}

/// Whether the actor may grant anything: an operator, or an active system
/// admin of `org`.
pub fn grants_anything(live: &Live, principal: &Principal, org: &str) -> bool {
    match principal.user() {
        None => true,
        Some(user) => {
            live.snapshot.reaches(user, org)
                && roles_held(live, user, org).contains(SYSTEM_ADMIN_ROLE)
        }
    }
}

/// Fails when a user would change their own access.
pub fn not_self(principal: &Principal, target: &str) -> Result<(), ServiceError> {
    if principal.user() == Some(target) {
        return Err(ServiceError::Forbidden(
            "nobody may change their own access; ask another administrator".to_owned(),
        ));
    }
    Ok(())
}

/// Fails unless the actor holds every role in `added` (roles they grant).
pub fn may_grant_roles<'a>(
    live: &Live,
    principal: &Principal,
    org: &str,
    added: impl IntoIterator<Item = &'a String>,
    field: &str,
) -> Result<(), ServiceError> {
    let Some(user) = principal.user() else {
        return Ok(());
    };
    if grants_anything(live, principal, org) {
        return Ok(());
    }
    let held = roles_held(live, user, org);
    for role in added {
        if !held.contains(role) {
            return Err(ServiceError::Forbidden(format!(
                "{field}: you cannot grant role `{role}`, which you do not hold"
            )));
        }
    }
    Ok(())
}

/// After the change, `target` must not hold in `org` any permission it did
/// not hold before and the actor does not hold: nobody hands out more than
/// they have (through roles, grants, removed denials, groups or levels).
/// Taking away is judged like giving: a target who loses any permission,
/// through whatever it was held by (a group, a group's roles, a custom
/// role), must hold nothing the actor does not, as for a direct change of
/// their access ([`may_act_on`]).
pub fn no_escalation(
    principal: &Principal,
    org: &str,
    targets: &[String],
    before: &Live,
    after: &Live,
) -> Result<(), ServiceError> {
    let Some(actor) = principal.user() else {
        return Ok(());
    };
    if grants_anything(before, principal, org) {
        return Ok(());
    }
    let world = after.snapshot.world();
    // The organization and every clinic below it: a grant at a company
    // reaches its clinics.
    let orgs: Vec<&str> = match world.org(org) {
        Some(top) => world
            .orgs
            .iter()
            .enumerate()
            .filter(|(i, _)| world.is_at_or_above(top, rolecall_model::OrgIx::from_usize(*i)))
            .map(|(_, o)| o.id.as_str())
            .collect(),
        None => vec![org],
    };
    for target in targets {
        if target != actor && loses_anything(target, &orgs, before, after) {
            not_more_privileged(before, principal, target)?;
        }
        for o in &orgs {
            let had: BTreeSet<(&str, _)> = before
                .snapshot
                .permissions_of(target, o)
                .into_iter()
                .collect();
            let mine: BTreeSet<(&str, _)> = before
                .snapshot
                .permissions_of(actor, o)
                .into_iter()
                .collect();
            for gained in after.snapshot.permissions_of(target, o) {
                if had.contains(&gained) {
                    continue;
                }
                let (permission, scope) = gained;
                let actor_has = mine.contains(&gained)
                    || (scope == rolecall_engine::Scope::Own
                        && mine.contains(&(permission, rolecall_engine::Scope::All)));
                if !actor_has {
                    return Err(ServiceError::Forbidden(format!(
                        "this would give `{target}` `{permission}` in `{o}`, which you do not hold"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether `target` holds in any of `orgs` after the change less than
/// before.
fn loses_anything(target: &str, orgs: &[&str], before: &Live, after: &Live) -> bool {
    orgs.iter().any(|o| {
        let kept: BTreeSet<(&str, _)> = after
            .snapshot
            .permissions_of(target, o)
            .into_iter()
            .collect();
        before
            .snapshot
            .permissions_of(target, o)
            .into_iter()
            .any(|held| !kept.contains(&held))
    })
}

/// Every organization that had an administrator (an active user manager)
/// still has one.
pub fn administrators_kept(before: &Live, after: &Live) -> Result<(), ServiceError> {
    for org in before.model.orgs.keys() {
        let had = USER_ADMIN
            .iter()
            .any(|p| !before.snapshot.users_with(p, org).is_empty());
        let has = USER_ADMIN
            .iter()
            .any(|p| !after.snapshot.users_with(p, org).is_empty());
        if had && !has {
            return Err(ServiceError::Conflict(format!(
                "this would leave `{org}` without an administrator (a holder of `{}`)",
                USER_ADMIN.join("` or `")
            )));
        }
    }
    Ok(())
}

/// A sensitive action from a console session needs the password given
/// within the re-authentication window of the session's organization.
/// API tokens and operators pass: a token's issue was itself such an action.
pub fn recent_sign_in(live: &Live, principal: &Principal) -> Result<(), ServiceError> {
    let Principal::User {
        org,
        via: Via::Session {
            authenticated_at, ..
        },
        ..
    } = principal
    else {
        return Ok(());
    };
    let policy = SecurityPolicy::of(&live.model, org);
    if rolecall_store::now_ms() - authenticated_at > policy.reauth_ms() {
        return Err(ServiceError::ReauthenticationRequired {
            minutes: policy.reauth_minutes,
        });
    }
    Ok(())
}

/// When the change gives any of `targets` an administrator permission
/// they did not hold, the actor must have signed in recently.
pub fn admin_grant_reauthenticated(
    principal: &Principal,
    org: &str,
    targets: &[String],
    before: &Live,
    after: &Live,
) -> Result<(), ServiceError> {
    let gains_admin = targets.iter().any(|target| {
        ADMIN_PERMISSIONS.iter().any(|p| {
            !before.snapshot.check(target, p, org, None).allowed
                && after.snapshot.check(target, p, org, None).allowed
        })
    });
    if gains_admin {
        recent_sign_in(before, principal)?;
    }
    Ok(())
}

/// What an actor does to a person. Every operation on a person names
/// one, and [`may_act_on`] decides it: a new operation cannot forget the
/// rule without leaving this list, which the route-table test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonAction {
    /// Editing the employee profile of their user: the name, and the email
    /// they sign in with and receive password links at.
    Profile,
    /// Changing their roles, grants, denials, types and levels.
    Access,
    /// Activating or disabling them.
    Status,
    /// Removing them from the organization.
    Removal,
    /// Mailing them an invitation or a password reset link.
    PasswordMail,
    /// Issuing or revoking an API token that acts as them.
    Tokens,
}

impl PersonAction {
    /// The permissions of which the actor needs one in the organization.
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            PersonAction::Tokens => TOKEN_ADMIN,
            PersonAction::Profile
            | PersonAction::Access
            | PersonAction::Status
            | PersonAction::Removal
            | PersonAction::PasswordMail => USER_ADMIN,
        }
    }

    /// Whether someone may do it to themself: nobody changes their own
    /// access, status or membership, nor mails themself a password link
    /// (they change their password instead).
    fn on_self(self) -> bool {
        matches!(self, PersonAction::Profile | PersonAction::Tokens)
    }
}

/// The one rule for every action on a person: the actor may do `action` in
/// `org` (one of [`PersonAction::needs`]), `person` exists, it is not the
/// actor themself where that is refused, and the actor holds every
/// permission `person` holds in every organization they belong to (or is
/// a system admin there, or an operator).
pub fn may_act_on(
    live: &Live,
    principal: &Principal,
    org: &str,
    person: &str,
    action: PersonAction,
) -> Result<(), ServiceError> {
    require(live, principal, org, action.needs())?;
    if !live.model.users.contains_key(person) || !sees_user(live, principal, person, org) {
        return Err(ServiceError::NotFound(format!(
            "user `{person}` in `{org}`"
        )));
    }
    if !action.on_self() {
        not_self(principal, person)?;
    }
    not_more_privileged(live, principal, person)
}

/// Whether the actor may learn facts about `user` (a name, a status, an
/// explanation) while acting in `org`: operators see everyone; a user sees
/// the people who reach `org`, and those with a membership in an
/// organization the actor reaches. Anyone else answers as if they did not
/// exist.
pub fn sees_user(live: &Live, principal: &Principal, user: &str, org: &str) -> bool {
    if principal.user().is_none() {
        return true;
    }
    if live.snapshot.reaches(user, org) {
        return true;
    }
    live.model.users.get(user).is_some_and(|row| {
        row.memberships
            .keys()
            .any(|theirs| visible_org(live, principal, theirs).is_ok())
    })
}

/// Fails unless the actor holds every permission `target` holds in every
/// organization `target` belongs to (or is a system admin there, who may
/// grant anything). The refusal names a permission only where the actor
/// reaches the organization.
fn not_more_privileged(
    live: &Live,
    principal: &Principal,
    target: &str,
) -> Result<(), ServiceError> {
    let Some(actor) = principal.user() else {
        return Ok(());
    };
    let Some(row) = live.model.users.get(target) else {
        return Err(ServiceError::NotFound(format!("user `{target}`")));
    };
    for org in row.memberships.keys() {
        // A system admin may grant anything there, so holds "more" already.
        if grants_anything(live, principal, org) {
            continue;
        }
        let mine: BTreeSet<(&str, _)> = live
            .snapshot
            .permissions_of(actor, org)
            .into_iter()
            .collect();
        for held in live.snapshot.permissions_of(target, org) {
            let (permission, scope) = held;
            let covered = mine.contains(&held)
                || (scope == rolecall_engine::Scope::Own
                    && mine.contains(&(permission, rolecall_engine::Scope::All)));
            if covered {
                continue;
            }
            let what = if visible_org(live, principal, org).is_ok() {
                format!("`{target}` holds `{permission}` in `{org}`, which you do not")
            } else {
                format!("`{target}` holds access you do not hold")
            };
            return Err(ServiceError::Forbidden(format!(
                "{what}: only someone who holds everything they hold may do this"
            )));
        }
    }
    Ok(())
}
