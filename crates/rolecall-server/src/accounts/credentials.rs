//! Temporary passwords, password changes and reset links.
//!
//! - A new user (or an invited one whose administrator presses "Create /
//!   Edit User Permissions" again) gets an email with a temporary password.
//!   It works once, until the policy's deadline, and only to choose a new
//!   password; choosing it activates an invited account.
//! - A password change checks the organization's policy (length, classes,
//!   common and personal passwords, the last N not reused) and ends the
//!   user's other sessions.
//! - A reset link carries a random token of which only the SHA-256 is
//!   kept; it expires and works once. Asking for one never tells whether
//!   the email has an account, by the answer or its timing: the request is
//!   queued, and the link made off the request path
//!   ([`super::reset_requests`]). A user manager may send one to a user who
//!   holds nothing they lack.
//!
//! No password, token or link is logged or put in an error: they exist in
//! the email body only.

use rolecall_model::world::Status;
use rolecall_store::{
    now_ms, AccountWrite, AuditEntry, CredentialRow, Model, OutgoingEmail, Put, ResetRequestRow,
    ResetTokenRow, SessionRow, Stage, UserRow,
};
use serde::{Deserialize, Serialize};

use super::signin::{self, check_session_throttle, check_throttle, password_failure, rfc3339};
use super::{random_hex, SecurityPolicy};
use crate::error::{FieldError, ServiceError};
use crate::passwords::{temporary_password, Password, PolicyContext};
use crate::principal::{Principal, Via};
use crate::rules::{self, PersonAction};
use crate::service::{Change, Service};
use crate::tokens::hash_secret;

/// How many previous password hashes are kept, whatever the policy: its
/// largest `reuse_last`.
const HISTORY_KEPT: usize = 24;

/// A temporary password for a user, hashed, with the email that carries it.
pub struct Temporary {
    /// The credentials to store.
    pub credential: CredentialRow,
    password: Password,
    expires_at: i64,
}

impl std::fmt::Debug for Temporary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temporary")
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

impl Temporary {
    /// Makes a new temporary password for `user`, valid for `valid_ms`,
    /// keeping what `previous` holds besides the password (history, MFA).
    pub async fn new(
        service: &Service,
        user: &str,
        previous: Option<CredentialRow>,
        valid_ms: i64,
    ) -> Result<Temporary, ServiceError> {
        let now = now_ms();
        let password = temporary_password();
        let hash = service
            .hasher()
            .hash(&password)
            .await
            .map_err(password_failure)?;
        let mut credential = previous.unwrap_or_else(|| CredentialRow {
            user: user.to_owned(),
            ..Default::default()
        });
        credential.password_hash = Some(hash);
        credential.temporary = true;
        credential.temporary_expires_at = Some(now + valid_ms);
        credential.failed_count = 0;
        credential.locked_until = None;
        credential.updated_at = now;
        Ok(Temporary {
            credential,
            password,
            expires_at: now + valid_ms,
        })
    }

    /// The email to the user: the password, where to use it, until when.
    pub fn email(&self, service: &Service, to: &str, name: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: to.to_owned(),
            subject: "Your rolecall account: temporary password".to_owned(),
            body_text: format!(
                "Hello {name},\n\n\
                 An account was set up for you. Sign in at\n\n    {url}/sign-in\n\n\
                 with this email address and this temporary password:\n\n    {password}\n\n\
                 It works once, and only to choose your own password. It expires at {until}.\n\
                 If you did not expect this email, tell your administrator.\n",
                url = service.settings().public_url.trim_end_matches('/'),
                password = self.password.expose(),
                until = rfc3339(self.expires_at),
            ),
        }
    }
}

/// The policy check, naming every rule broken under `field`.
fn policy_problems(
    policy: &SecurityPolicy,
    model: &Model,
    user: &UserRow,
    password: &Password,
    field: &str,
) -> Result<(), ServiceError> {
    let name = model.user_name(user);
    let context = PolicyContext {
        email: model.user_email(user),
        name: Some(&name),
    };
    policy
        .password
        .check(password, &context)
        .map_err(|problems| ServiceError::Invalid {
            fields: problems
                .into_iter()
                .map(|p| FieldError::new(field, p.to_string()))
                .collect(),
        })
}

/// The credential with `password` set as the user's own: checked against
/// the policy and the last passwords, hashed, the old hash moved to the
/// history, lockout cleared.
async fn with_new_password(
    service: &Service,
    user: &UserRow,
    previous: Option<CredentialRow>,
    password: &Password,
    field: &str,
) -> Result<CredentialRow, ServiceError> {
    let (policy, problems) = {
        let live = service.live();
        let policy = SecurityPolicy::of_user(&live.model, &user.id);
        let problems = policy_problems(&policy, &live.model, user, password, field);
        (policy, problems)
    };
    problems?;
    let mut credential = previous.unwrap_or_else(|| CredentialRow {
        user: user.id.clone(),
        ..Default::default()
    });
    let mut history = credential.history.clone();
    if let (Some(current), false) = (&credential.password_hash, credential.temporary) {
        history.insert(0, current.clone());
    }
    let reused = !policy
        .password
        .not_reused(service.hasher(), password, &history)
        .await
        .map_err(password_failure)?;
    if reused {
        return Err(ServiceError::invalid(
            field,
            crate::passwords::PolicyProblem::Reused {
                last: policy.password.reuse_last,
            }
            .to_string(),
        ));
    }
    history.truncate(HISTORY_KEPT);
    let now = now_ms();
    credential.password_hash = Some(
        service
            .hasher()
            .hash(password)
            .await
            .map_err(password_failure)?,
    );
    credential.temporary = false;
    credential.temporary_expires_at = None;
    credential.password_set_at = Some(now);
    credential.history = history;
    credential.failed_count = 0;
    credential.locked_until = None;
    credential.updated_at = now;
    Ok(credential)
}

/// Stores a new password with its audit records: a plain record, or, for
/// an invited user, a write that also activates the account.
async fn store_password(
    service: &Service,
    user: &UserRow,
    actor: &str,
    source: &str,
    mut audit: Vec<AuditEntry>,
    accounts: Vec<AccountWrite>,
) -> Result<(), ServiceError> {
    if user.status != Status::Invited {
        return service
            .record(actor, source, audit, accounts, Vec::new())
            .await;
    }
    let principal = Principal::User {
        user: user.id.clone(),
        org: user.memberships.keys().next().cloned().unwrap_or_default(),
        via: Via::Direct,
    };
    let id = user.id.clone();
    let first = audit.first().and_then(|a| a.org.clone());
    audit.push(AuditEntry {
        action: "user.activate".to_owned(),
        org: first,
        target: format!("user:{id}"),
        before: Some(serde_json::json!({ "status": Status::Invited })),
        after: Some(serde_json::json!({ "status": Status::Active })),
        ..Default::default()
    });
    // The plan is re-run if another replica wrote first; the audit and
    // account writes do not depend on the state.
    service
        .write(
            &principal,
            source.split(' ').next().unwrap_or(source),
            |live| {
                let mut row = live
                    .model
                    .users
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| ServiceError::NotFound(format!("user `{id}`")))?;
                let puts = if row.status == Status::Invited {
                    row.status = Status::Active;
                    vec![Put::User(row)]
                } else {
                    Vec::new()
                };
                let mut change = Change::new(puts, audit.clone(), ());
                change.accounts.clone_from(&accounts);
                Ok(change)
            },
        )
        .await?;
    Ok(())
}

/// `POST /v1/account/password`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordInput {
    /// The current password; not needed right after signing in with a
    /// temporary or expired password.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub current_password: Option<Password>,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
}

/// Changes the signed-in user's password. Ends their other sessions; a
/// session that was only allowed to change the password moves on to its
/// next stage.
pub async fn change_password(
    service: &Service,
    session: &SessionRow,
    address: &str,
    input: ChangePasswordInput,
) -> Result<signin::SessionView, ServiceError> {
    let now = now_ms();
    check_session_throttle(service, session, address, now)?;
    let user = service
        .live()
        .model
        .users
        .get(&session.user)
        .cloned()
        .ok_or_else(|| ServiceError::NotFound(format!("user `{}`", session.user)))?;
    let credential = service.store().credential(&user.id).await?;
    if session.stage != Stage::ChangePassword {
        if session.stage != Stage::Active {
            return Err(signin::principal_of(session)
                .err()
                .unwrap_or_else(|| ServiceError::Forbidden("finish signing in first".to_owned())));
        }
        let Some(current) = &input.current_password else {
            return Err(ServiceError::invalid(
                "current_password",
                "give your current password to choose a new one",
            ));
        };
        if !signin::password_matches(service, credential.as_ref(), current).await? {
            return Err(signin::refuse_in_session(
                service,
                session,
                address,
                credential.as_ref(),
                "password.change",
                "wrong current password",
                "current_password",
                "the current password is wrong",
            )
            .await);
        }
    }
    let has_mfa = credential.as_ref().is_some_and(|c| c.totp_secret.is_some());
    let credential = with_new_password(
        service,
        &user,
        credential,
        &input.new_password,
        "new_password",
    )
    .await?;
    let policy = SecurityPolicy::of_user(&service.live().model, &user.id);
    let mut next = session.clone();
    next.stage = match session.stage {
        Stage::ChangePassword if has_mfa => Stage::Mfa,
        Stage::ChangePassword if policy.mfa_required => Stage::MfaEnroll,
        Stage::ChangePassword => Stage::Active,
        other => other,
    };
    next.last_seen_at = now;
    next.authenticated_at = now;
    let actor = format!("user:{}", user.id);
    let source = format!("{address} session:{}", session.id);
    let audit = vec![AuditEntry {
        actor: actor.clone(),
        action: "password.change".to_owned(),
        org: Some(session.org.clone()),
        target: actor.clone(),
        after: Some(serde_json::json!({
            "from_temporary": session.stage == Stage::ChangePassword,
            "other_sessions_ended": true,
        })),
        ..Default::default()
    }];
    let accounts = vec![
        AccountWrite::Credential(credential),
        AccountWrite::EndSessions {
            user: user.id.clone(),
            at: now,
            reason: "password_changed".to_owned(),
        },
        // Written after ending every session: this one stays open.
        AccountWrite::Session(next.clone()),
    ];
    store_password(service, &user, &actor, &source, audit, accounts).await?;
    Ok(signin::view(&service.live().model, &next))
}

/// Sends (again) the temporary password of an invited user: the seed's
/// "Create / Edit User Permissions" pressed for a user who has not signed
/// in yet. Needs a user manager of `org` who holds everything the user
/// holds.
pub async fn send_invitation(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    user: &str,
) -> Result<(), ServiceError> {
    let row = {
        let live = service.live();
        rules::may_act_on(&live, principal, org, user, PersonAction::PasswordMail)?;
        let row = crate::ops::people::find_user(&live, principal, org, user)?.clone();
        if row.status != Status::Invited {
            return Err(ServiceError::Conflict(format!(
                "`{user}` has already chosen a password (status `{}`): send a password reset instead",
                row.status.as_str()
            )));
        }
        row
    };
    let previous = service.store().credential(user).await?;
    let (policy, email, name) = {
        let live = service.live();
        (
            SecurityPolicy::of_user(&live.model, user),
            live.model.user_email(&row).unwrap_or_default().to_owned(),
            live.model.user_name(&row),
        )
    };
    let temporary = Temporary::new(service, user, previous, policy.temporary_password_ms()).await?;
    let mail = temporary.email(service, &email, &name);
    let actor = principal.actor();
    service
        .record(
            &actor,
            &principal.source(source),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "user.invitation.send".to_owned(),
                org: Some(org.to_owned()),
                target: format!("user:{user}"),
                after: Some(
                    serde_json::json!({ "to": email, "expires_at": rfc3339(temporary.expires_at) }),
                ),
                ..Default::default()
            }],
            vec![AccountWrite::Credential(temporary.credential)],
            vec![mail],
        )
        .await
}

/// `POST /v1/password-reset`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestInput {
    /// The email address of the account.
    pub email: String,
}

/// What a reset request answers, whether or not the email has an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResetRequested {
    /// What happens next.
    pub message: String,
}

fn reset_email(service: &Service, to: &str, name: &str, token: &str, until: i64) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        subject: "Reset your rolecall password".to_owned(),
        body_text: format!(
            "Hello {name},\n\n\
             Someone asked to reset the password of your account. To choose a new one, open\n\n    \
             {url}/reset-password?token={token}\n\n\
             The link works once, until {until}. If you did not ask for it, ignore this email:\n\
             your password stays as it is.\n",
            url = service.settings().public_url.trim_end_matches('/'),
            until = rfc3339(until),
        ),
    }
}

/// Issues a reset link for `user` and records it, with `also` (more
/// account writes) in the same transaction.
pub(super) async fn issue_reset(
    service: &Service,
    user: &UserRow,
    actor: &str,
    source: &str,
    org: Option<String>,
    also: Vec<AccountWrite>,
) -> Result<(), ServiceError> {
    let now = now_ms();
    let (policy, email, name) = {
        let live = service.live();
        (
            SecurityPolicy::of_user(&live.model, &user.id),
            live.model.user_email(user).unwrap_or_default().to_owned(),
            live.model.user_name(user),
        )
    };
    let token = random_hex(32);
    let until = now + policy.reset_link_ms();
    let mail = reset_email(service, &email, &name, &token, until);
    let mut accounts = vec![AccountWrite::ResetToken(ResetTokenRow {
        secret_hash: hash_secret(&token),
        user: user.id.clone(),
        created_at: now,
        expires_at: until,
        used_at: None,
    })];
    accounts.extend(also);
    service
        .record(
            actor,
            source,
            vec![AuditEntry {
                actor: actor.to_owned(),
                action: "password.reset.request".to_owned(),
                org,
                target: format!("user:{}", user.id),
                after: Some(serde_json::json!({ "to": email, "expires_at": rfc3339(until) })),
                ..Default::default()
            }],
            accounts,
            vec![mail],
        )
        .await
}

const RESET_ANSWER: &str =
    "if an account has this email, a link to choose a new password is on its way";

/// A forgotten password: queues the request, and answers the same whether
/// or not an account has the email. The request path does the same work
/// for every well-formed email (the throttle, one stored request) and
/// looks nothing up: the link is made, and emailed, off the request path
/// by [`super::reset_requests`], for an account that may sign in.
pub async fn request_reset(
    service: &Service,
    address: &str,
    input: ResetRequestInput,
) -> Result<ResetRequested, ServiceError> {
    let now = now_ms();
    let email = input.email.trim();
    check_throttle(service, address, email, now)?;
    // Every request counts against the address and the email, so nobody
    // floods an inbox or probes many addresses from one place.
    service.throttle().fail(address, email, now);
    crate::ops::people::check_email("email", email)?;
    let request = ResetRequestRow {
        id: crate::ops::new_id("rrq-"),
        email: email.to_owned(),
        source: address.to_owned(),
        requested_at: now,
    };
    service
        .record(
            "anonymous",
            address,
            Vec::new(),
            vec![AccountWrite::ResetRequest(request)],
            Vec::new(),
        )
        .await?;
    service.reset_wakeup().notify_one();
    Ok(ResetRequested {
        message: RESET_ANSWER.to_owned(),
    })
}

/// A user manager sends a reset link to a user of `org` (who gets it by
/// email; the manager never sees it). Refused for a user who holds a
/// permission the manager lacks.
pub async fn admin_reset(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    user: &str,
) -> Result<ResetRequested, ServiceError> {
    let row = {
        let live = service.live();
        if principal.user() == Some(user) {
            return Err(ServiceError::Forbidden(
                "change your own password with POST /v1/account/password".to_owned(),
            ));
        }
        rules::may_act_on(&live, principal, org, user, PersonAction::PasswordMail)?;
        let row = crate::ops::people::find_user(&live, principal, org, user)?.clone();
        if row.status == Status::Disabled {
            return Err(ServiceError::Conflict(format!(
                "`{user}` is disabled: activate the account first"
            )));
        }
        row
    };
    issue_reset(
        service,
        &row,
        &principal.actor(),
        &principal.source(source),
        Some(org.to_owned()),
        Vec::new(),
    )
    .await?;
    Ok(ResetRequested {
        message: format!("a link to choose a new password was emailed to `{user}`"),
    })
}

/// What the throttle counts wrong reset tokens against: one account of its
/// own, so that guessing at links from an address holds up no sign-in.
const RESET_LINKS: &str = "(reset links)";

/// `POST /v1/password-reset/complete`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetInput {
    /// The token from the link.
    #[schema(value_type = String, format = Password)]
    pub token: Password,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    pub new_password: Password,
}

/// Sets a new password with a reset link's token: once, before it
/// expires. Unlocks the account and ends every session of the user.
pub async fn complete_reset(
    service: &Service,
    address: &str,
    input: ResetInput,
) -> Result<(), ServiceError> {
    let now = now_ms();
    check_throttle(service, address, RESET_LINKS, now)?;
    let invalid = || {
        ServiceError::invalid(
            "token",
            "the reset link is not valid: it was already used, has expired, or was copied \
             incompletely; ask for a new one",
        )
    };
    let secret_hash = hash_secret(input.token.expose());
    let token = service.store().reset_token(&secret_hash).await?;
    let Some(token) = token.filter(|t| t.used_at.is_none() && t.expires_at > now) else {
        service.throttle().fail(address, RESET_LINKS, now);
        return Err(invalid());
    };
    let user = service
        .live()
        .model
        .users
        .get(&token.user)
        .filter(|u| u.status != Status::Disabled)
        .cloned()
        .ok_or_else(invalid)?;
    let credential = service.store().credential(&user.id).await?;
    let credential = with_new_password(
        service,
        &user,
        credential,
        &input.new_password,
        "new_password",
    )
    .await?;
    let actor = format!("user:{}", user.id);
    let org = service
        .live()
        .model
        .employees
        .get(&user.employee)
        .map(|e| e.org.clone());
    let audit = vec![AuditEntry {
        actor: actor.clone(),
        action: "password.reset".to_owned(),
        org,
        target: actor.clone(),
        after: Some(serde_json::json!({ "sessions_ended": true, "unlocked": true })),
        ..Default::default()
    }];
    let accounts = vec![
        AccountWrite::UseResetToken {
            secret_hash,
            at: now,
        },
        AccountWrite::Credential(credential),
        AccountWrite::EndSessions {
            user: user.id.clone(),
            at: now,
            reason: "password_reset".to_owned(),
        },
    ];
    match store_password(service, &user, &actor, address, audit, accounts).await {
        Err(ServiceError::Store(rolecall_store::StoreError::Conflict(_))) => Err(invalid()),
        other => other,
    }
}

/// Issues a temporary password and returns it instead of emailing it: for
/// operators (the command line, the demo), who hand it over themselves.
pub async fn issue_temporary_to_operator(
    service: &Service,
    principal: &Principal,
    source: &str,
    user: &str,
) -> Result<Password, ServiceError> {
    rules::require_operator(principal, "issuing a temporary password to show")?;
    let policy = SecurityPolicy::of_user(&service.live().model, user);
    if !service.live().model.users.contains_key(user) {
        return Err(ServiceError::NotFound(format!("user `{user}`")));
    }
    let previous = service.store().credential(user).await?;
    let temporary = Temporary::new(service, user, previous, policy.temporary_password_ms()).await?;
    let actor = principal.actor();
    service
        .record(
            &actor,
            &principal.source(source),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "user.temporary_password.issue".to_owned(),
                target: format!("user:{user}"),
                after: Some(serde_json::json!({ "expires_at": rfc3339(temporary.expires_at) })),
                ..Default::default()
            }],
            vec![AccountWrite::Credential(temporary.credential)],
            Vec::new(),
        )
        .await?;
    Ok(temporary.password)
}
