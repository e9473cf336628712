//! Signing in, sessions, signing out and re-authentication.
//!
//! A sign-in checks the password (Argon2id, off the runtime), then opens a
//! session in the stage the account needs: `change_password` after a
//! temporary or expired password, `mfa` when a second factor is enrolled,
//! `mfa_enroll` when the organization requires one and there is none yet,
//! otherwise `active`. Only an active session acts for the user; the other
//! stages may do only their step.
//!
//! Failures are audited and counted: per account in the database (the
//! account locks after the policy's threshold), and per account and source
//! address together in memory ([`super::throttle`]). An unknown email and a
//! locked account cost the same time as a wrong password (one password
//! verification each) and get the same answer; the owner of a locked
//! account is told by email when the lock begins.

use rolecall_model::world::Status;
use rolecall_store::{
    now_ms, AccountWrite, AuditEntry, CredentialRow, Model, Outcome, OutgoingEmail, SessionRow,
    Stage,
};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::throttle::{Blocked, Reached};
use super::{random_hex, SecurityPolicy};
use crate::error::ServiceError;
use crate::ops::new_id;
use crate::passwords::{Password, PasswordError};
use crate::principal::{Principal, Via};
use crate::service::Service;
use crate::tokens::hash_secret;

/// The session cookie's name.
pub const COOKIE: &str = "rolecall_session";
/// The header that state-changing requests of a session must carry, with
/// the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How often a session's activity time is written (ms): often enough for
/// an inactivity limit counted in minutes, rarely enough to spare the
/// database a write per request.
const TOUCH_EVERY_MS: i64 = 10_000;

const WRONG: &str = "the email or password is wrong";

/// `POST /v1/sign-in`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInInput {
    /// The email address of the user's employee profile.
    pub email: String,
    /// The password (or the temporary password from the email).
    #[schema(value_type = String, format = Password)]
    pub password: Password,
    /// The organization to act in; by default the user's only one, or their
    /// employer.
    #[serde(default)]
    pub org: Option<String>,
}

/// A password given again (`POST /v1/session/reauthenticate`) or to
/// confirm removing a second factor.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The current password.
    #[schema(value_type = String, format = Password)]
    pub password: Password,
}

/// A session as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session's public id (in the audit log).
    pub session: String,
    /// The user.
    pub user: String,
    /// Their name, from the employee profile.
    pub name: String,
    /// Their email, from the employee profile.
    pub email: String,
    /// The organization the session acts in.
    pub org: String,
    /// `active`, or the step still to do: `change_password`, `mfa`,
    /// `mfa_enroll`.
    #[schema(value_type = String)]
    pub stage: Stage,
    /// What to do next, when the stage is not `active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Send it back in the `X-CSRF-Token` header of every request that
    /// changes something.
    pub csrf_token: String,
    /// When the password was last given (RFC 3339).
    pub authenticated_at: String,
    /// The session ends after this many minutes without a request.
    pub inactivity_limit_minutes: u32,
}

/// A new session: its cookie secret (set it as the cookie, show it nowhere
/// else) and what its owner may see of it.
pub struct SignedIn {
    /// The cookie's value.
    pub secret: String,
    /// The session.
    pub view: SessionView,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("view", &self.view)
            .finish_non_exhaustive()
    }
}

/// RFC 3339 text of a time in ms.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The user whose employee profile has this email (case-insensitive).
pub fn user_by_email<'a>(model: &'a Model, email: &str) -> Option<&'a rolecall_store::UserRow> {
    model.users.values().find(|u| {
        model
            .user_email(u)
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

/// What the owner of a session sees of it.
pub fn view(model: &Model, session: &SessionRow) -> SessionView {
    let user = model.users.get(&session.user);
    let policy = SecurityPolicy::of(model, &session.org);
    SessionView {
        session: session.id.clone(),
        user: session.user.clone(),
        name: user
            .map(|u| model.user_name(u))
            .unwrap_or_else(|| session.user.clone()),
        email: user
            .and_then(|u| model.user_email(u))
            .unwrap_or_default()
            .to_owned(),
        org: session.org.clone(),
        stage: session.stage,
        next: next_step(session.stage),
        csrf_token: session.csrf.clone(),
        authenticated_at: rfc3339(session.authenticated_at),
        inactivity_limit_minutes: policy.session_timeout_minutes,
    }
}

fn next_step(stage: Stage) -> Option<String> {
    match stage {
        Stage::Active => None,
        Stage::ChangePassword => {
            Some("choose a new password: POST /v1/account/password".to_owned())
        }
        Stage::Mfa => Some(
            "give the code from your authenticator app (or a recovery code): POST /v1/sign-in/mfa"
                .to_owned(),
        ),
        Stage::MfaEnroll => Some(
            "your organization requires a second factor: POST /v1/account/mfa, then \
             POST /v1/account/mfa/confirm"
                .to_owned(),
        ),
    }
}

/// The audit target naming what someone typed as an email, without
/// echoing text that is not an email (a password typed in the wrong field).
fn typed_target(email: &str) -> String {
    let looks_like_email = email.len() <= 254
        && email.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if looks_like_email {
        format!("email:{email}")
    } else {
        "email:(not an email address)".to_owned()
    }
}

fn failure(action: &str, org: Option<&str>, target: String, reason: &str) -> AuditEntry {
    AuditEntry {
        actor: "anonymous".to_owned(),
        action: action.to_owned(),
        org: org.map(str::to_owned),
        target,
        before: None,
        after: Some(serde_json::json!({ "reason": reason })),
        outcome: Outcome::Failure,
    }
}

fn minutes_until(ms: i64) -> i64 {
    (ms.max(0) + 59_999) / 60_000
}

fn throttled(blocked: Blocked) -> ServiceError {
    let wait_ms = blocked.wait_ms();
    let whose = match blocked {
        Blocked::Account { .. } => "for this email from this address",
        Blocked::Address { .. } => "from this address",
    };
    ServiceError::TooManyAttempts {
        message: format!(
            "too many failed attempts {whose}: try again in {} minute(s)",
            minutes_until(wait_ms)
        ),
        retry_after: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1),
    }
}

fn locked(until: i64, now: i64) -> ServiceError {
    ServiceError::TooManyAttempts {
        message: format!(
            "this account is locked after repeated failed sign-ins: try again in {} minute(s), \
             or reset the password",
            minutes_until(until - now)
        ),
        retry_after: u64::try_from((until - now + 999) / 1000).unwrap_or(1),
    }
}

/// What failures against `user` are counted under by the throttle: their
/// sign-in email, so that failures at sign-in and within a session count
/// together.
pub fn account_of(model: &Model, user: &str) -> String {
    model
        .users
        .get(user)
        .and_then(|u| model.user_email(u))
        .map_or_else(|| format!("user:{user}"), str::to_owned)
}

/// Refuses an attempt on `account` (the email it names) from a source
/// address that failed too often against it, or against too many accounts.
pub fn check_throttle(
    service: &Service,
    address: &str,
    account: &str,
    now: i64,
) -> Result<(), ServiceError> {
    match service.throttle().blocked_for(address, account, now) {
        Some(blocked) => Err(throttled(blocked)),
        None => Ok(()),
    }
}

/// [`check_throttle`] for the user of a session.
pub fn check_session_throttle(
    service: &Service,
    session: &SessionRow,
    address: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let account = account_of(&service.live().model, &session.user);
    check_throttle(service, address, &account, now)
}

/// Counts a failure from `address` against `account`; when it reaches a
/// limit, adds an audit record saying what is now throttled.
pub fn count_failure(
    service: &Service,
    address: &str,
    account: &str,
    now: i64,
    org: Option<&str>,
    audit: &mut Vec<AuditEntry>,
) {
    let limits = service.throttle().limits();
    let minutes = limits.window_ms / 60_000;
    let (reason, after) = match service.throttle().fail(address, account, now) {
        None => return,
        Some(Reached::Account) => (
            format!(
                "{} failed attempts against one account from this address within {minutes} \
                 minutes",
                limits.per_account
            ),
            serde_json::json!({ "account": typed_target(account) }),
        ),
        Some(Reached::Address) => (
            format!(
                "failed attempts against {} accounts from this address within {minutes} minutes",
                limits.accounts_per_address
            ),
            serde_json::json!({}),
        ),
    };
    let mut record = failure(
        "sign_in.throttled",
        org,
        format!("address:{address}"),
        &reason,
    );
    if let (Some(serde_json::Value::Object(into)), serde_json::Value::Object(more)) =
        (record.after.as_mut(), after)
    {
        into.extend(more);
    }
    audit.push(record);
}

/// The email telling `to` that their account is locked: when, until when,
/// and what to do. No link in it: it answers nobody's request, so it must
/// be nothing an attacker could have someone click.
fn lockout_email(to: &str, name: &str, failures: i64, until: i64) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_owned(),
        subject: "Your rolecall account is locked".to_owned(),
        body_text: format!(
            "Hello {name},\n\n\
             After {failures} failed sign-ins in a row, your account is locked until {until}.\n\
             Until then it cannot be signed in to, even with the right password. You may\n\
             also choose a new password with \"Forgot your password?\" on the sign-in page.\n\n\
             If these attempts were not yours, someone may be guessing your password:\n\
             tell your administrator.\n",
            until = rfc3339(until),
        ),
    }
}

/// A failed password (or second factor) for a known account: counted, and
/// the account locked at the policy's threshold, with an email to its
/// owner queued in the same transaction. `in_session` when the user is
/// already signed in (the record then names them as the actor, and the
/// answer may say the account is locked: they have shown the password).
/// Returns the error to answer with: at sign-in, a lockout reads exactly as
/// a wrong password does, so that it does not tell the account exists.
#[allow(clippy::too_many_arguments)]
pub async fn fail_password(
    service: &Service,
    address: &str,
    in_session: bool,
    user: &str,
    org: Option<&str>,
    credential: Option<&CredentialRow>,
    action: &str,
    reason: &str,
) -> Result<ServiceError, ServiceError> {
    let now = now_ms();
    let (policy, account, owner) = {
        let live = service.live();
        let owner = live.model.users.get(user).and_then(|u| {
            live.model
                .user_email(u)
                .map(|email| (email.to_owned(), live.model.user_name(u)))
        });
        (
            SecurityPolicy::of_user(&live.model, user),
            account_of(&live.model, user),
            owner,
        )
    };
    let count = credential.map_or(0, |c| c.failed_count) + 1;
    let lock_until = (credential.is_some() && count >= i64::from(policy.lockout_threshold))
        .then(|| now + policy.lockout_ms());
    let actor = if in_session {
        format!("user:{user}")
    } else {
        "anonymous".to_owned()
    };
    let mut first = failure(action, org, format!("user:{user}"), reason);
    first.actor.clone_from(&actor);
    let mut audit = vec![first];
    let mut emails = Vec::new();
    if let Some(until) = lock_until {
        audit.push(AuditEntry {
            actor: "system".to_owned(),
            action: "account.locked".to_owned(),
            org: org.map(str::to_owned),
            target: format!("user:{user}"),
            before: None,
            after: Some(serde_json::json!({
                "failed_attempts": count,
                "locked_until": rfc3339(until),
                "owner_told": owner.is_some(),
            })),
            outcome: Outcome::Failure,
        });
        if let Some((to, name)) = &owner {
            emails.push(lockout_email(to, name, count, until));
        }
    }
    count_failure(service, address, &account, now, org, &mut audit);
    let accounts = if credential.is_some() {
        vec![AccountWrite::SignInFailed {
            user: user.to_owned(),
            lock_until,
        }]
    } else {
        Vec::new()
    };
    service
        .record(&actor, address, audit, accounts, emails)
        .await?;
    Ok(match lock_until {
        Some(until) if in_session => locked(until, now),
        _ => ServiceError::Unauthenticated(WRONG.to_owned()),
    })
}

/// Whether `password` is the current password in `credential`. No password
/// at all costs the same time as a wrong one.
pub async fn password_matches(
    service: &Service,
    credential: Option<&CredentialRow>,
    password: &Password,
) -> Result<bool, ServiceError> {
    match credential.and_then(|c| c.password_hash.as_deref()) {
        Some(hash) => match service.hasher().verify(password, hash).await {
            Ok(_) => Ok(true),
            Err(PasswordError::Mismatch) => Ok(false),
            Err(other) => Err(password_failure(other)),
        },
        None => {
            service.hasher().burn(password).await;
            Ok(false)
        }
    }
}

/// A wrong password or code from someone already signed in: counted like a
/// failed sign-in, and answered as a wrong `field` (they stay signed in)
/// unless it locked the account.
#[allow(clippy::too_many_arguments)]
pub async fn refuse_in_session(
    service: &Service,
    session: &SessionRow,
    address: &str,
    credential: Option<&CredentialRow>,
    action: &str,
    reason: &str,
    field: &str,
    message: &str,
) -> ServiceError {
    let refused = fail_password(
        service,
        address,
        true,
        &session.user,
        Some(&session.org),
        credential,
        action,
        reason,
    )
    .await;
    match refused {
        Ok(ServiceError::Unauthenticated(_)) => ServiceError::invalid(field, message),
        Ok(other) | Err(other) => other,
    }
}

/// Signs in with an email and password, from `address`.
pub async fn sign_in(
    service: &Service,
    address: &str,
    input: SignInInput,
) -> Result<SignedIn, ServiceError> {
    let now = now_ms();
    let email = input.email.trim().to_owned();
    check_throttle(service, address, &email, now)?;
    let live = service.live_full();
    let user = user_by_email(&live.model, &email).cloned();
    let Some(user) = user.filter(|u| u.status != Status::Disabled && !u.memberships.is_empty())
    else {
        // Unknown, disabled or without any organization: the same answer,
        // after the same work, as a wrong password.
        service.hasher().burn(&input.password).await;
        let mut audit = vec![failure(
            "sign_in.failed",
            None,
            typed_target(&email),
            "no active account has this email",
        )];
        count_failure(service, address, &email, now, None, &mut audit);
        service
            .record("anonymous", address, audit, Vec::new(), Vec::new())
            .await?;
        return Err(ServiceError::Unauthenticated(WRONG.to_owned()));
    };
    let home = live
        .model
        .employees
        .get(&user.employee)
        .map(|e| e.org.clone());
    let audit_org = home.as_deref();
    let credential = service.store().credential(&user.id).await?;
    let locked_now = credential
        .as_ref()
        .and_then(|c| c.locked_until)
        .is_some_and(|until| until > now);
    if locked_now {
        // The same work and the same answer as for an unknown email or a
        // wrong password: a lockout does not tell that the account exists,
        // and the password, right or not, is not even looked at. The owner
        // was told by email when the lock began.
        service.hasher().burn(&input.password).await;
        let mut audit = vec![failure(
            "sign_in.refused",
            audit_org,
            format!("user:{}", user.id),
            "the account is locked",
        )];
        count_failure(service, address, &email, now, audit_org, &mut audit);
        service
            .record("anonymous", address, audit, Vec::new(), Vec::new())
            .await?;
        return Err(ServiceError::Unauthenticated(WRONG.to_owned()));
    }
    let Some(hash) = credential.as_ref().and_then(|c| c.password_hash.clone()) else {
        service.hasher().burn(&input.password).await;
        return Err(fail_password(
            service,
            address,
            false,
            &user.id,
            audit_org,
            credential.as_ref(),
            "sign_in.failed",
            "the account has no usable password",
        )
        .await?);
    };
    let verified = match service.hasher().verify(&input.password, &hash).await {
        Ok(verified) => verified,
        Err(PasswordError::Mismatch) => {
            return Err(fail_password(
                service,
                address,
                false,
                &user.id,
                audit_org,
                credential.as_ref(),
                "sign_in.failed",
                "wrong password",
            )
            .await?);
        }
        Err(other) => return Err(password_failure(other)),
    };
    let Some(mut credential) = credential else {
        return Err(ServiceError::Unauthenticated(WRONG.to_owned()));
    };
    if credential.temporary && credential.temporary_expires_at.is_some_and(|at| at <= now) {
        service
            .record(
                "anonymous",
                address,
                vec![failure(
                    "sign_in.refused",
                    audit_org,
                    format!("user:{}", user.id),
                    "the temporary password has expired",
                )],
                Vec::new(),
                Vec::new(),
            )
            .await?;
        return Err(ServiceError::Unauthenticated(
            "this temporary password has expired: ask your administrator to send a new one"
                .to_owned(),
        ));
    }
    let org = match &input.org {
        Some(org) if user.memberships.contains_key(org) => org.clone(),
        Some(org) => {
            return Err(ServiceError::invalid(
                "org",
                format!("you are not a member of `{org}`"),
            ))
        }
        None => home
            .clone()
            .filter(|h| user.memberships.contains_key(h))
            .or_else(|| user.memberships.keys().next().cloned())
            .unwrap_or_default(),
    };
    let policy = SecurityPolicy::of_user(&live.model, &user.id);
    let password_expired = credential.password_set_at.is_some_and(|set| {
        match (
            OffsetDateTime::from_unix_timestamp(set / 1000),
            OffsetDateTime::from_unix_timestamp(now / 1000),
        ) {
            (Ok(set), Ok(now)) => policy.password.is_expired(set, now),
            _ => false,
        }
    });
    let stage = if credential.temporary || password_expired {
        Stage::ChangePassword
    } else if credential.totp_secret.is_some() {
        Stage::Mfa
    } else if policy.mfa_required {
        Stage::MfaEnroll
    } else {
        Stage::Active
    };
    if credential.temporary {
        // A temporary password works once.
        credential.password_hash = None;
    } else if verified.needs_rehash {
        credential.password_hash = Some(
            service
                .hasher()
                .hash(&input.password)
                .await
                .map_err(password_failure)?,
        );
    }
    credential.failed_count = 0;
    credential.locked_until = None;
    credential.updated_at = now;
    let secret = random_hex(32);
    let session = SessionRow {
        id: new_id("ses-"),
        secret_hash: hash_secret(&secret),
        user: user.id.clone(),
        org: org.clone(),
        stage,
        csrf: random_hex(16),
        created_at: now,
        authenticated_at: now,
        last_seen_at: now,
        ended_at: None,
        end_reason: None,
    };
    let audit = vec![AuditEntry {
        actor: format!("user:{}", user.id),
        action: "sign_in".to_owned(),
        org: Some(org.clone()),
        target: format!("user:{}", user.id),
        before: None,
        after: Some(serde_json::json!({
            "session": session.id,
            "stage": stage,
            "temporary_password": credential.temporary,
        })),
        outcome: Outcome::Success,
    }];
    service
        .record(
            &format!("user:{}", user.id),
            &format!("{address} session:{}", session.id),
            audit,
            vec![
                AccountWrite::Credential(credential),
                AccountWrite::Session(session.clone()),
            ],
            Vec::new(),
        )
        .await?;
    Ok(SignedIn {
        secret,
        view: view(&live.model, &session),
    })
}

/// Maps a hashing failure (never a mismatch) to a server error.
pub fn password_failure(error: PasswordError) -> ServiceError {
    match error {
        PasswordError::Mismatch => ServiceError::Unauthenticated(WRONG.to_owned()),
        other => ServiceError::Store(rolecall_store::StoreError::Corrupt(other.to_string())),
    }
}

/// Whether a request method changes nothing (and so needs no CSRF token).
pub fn is_safe_method(method: &axum::http::Method) -> bool {
    matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    )
}

/// Compares two strings in time that depends only on their lengths.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The open session a cookie names, in any stage: ended when it has been
/// idle past its organization's limit or its user may no longer sign in.
/// A request that changes something must echo the session's CSRF token.
pub async fn session_from_cookie(
    service: &Service,
    secret: &str,
    address: &str,
    csrf: Option<&str>,
    changes_something: bool,
) -> Result<SessionRow, ServiceError> {
    let now = now_ms();
    let Some(mut session) = service
        .store()
        .session_by_secret(&hash_secret(secret))
        .await?
    else {
        return Err(ServiceError::Unauthenticated(
            "the session is not valid: sign in again".to_owned(),
        ));
    };
    if session.ended_at.is_some() {
        let why = match session.end_reason.as_deref() {
            Some("inactivity") => "after a period without activity",
            Some("sign_out") => "by signing out",
            Some("disabled") => "because the account was disabled",
            Some("membership_removed") => "because the account lost its access",
            Some("password_changed") | Some("password_reset") => "because the password was changed",
            _ => "",
        };
        return Err(ServiceError::Unauthenticated(format!(
            "the session ended {why}: sign in again"
        )));
    }
    let live = service.live();
    let allowed =
        live.model.users.get(&session.user).is_some_and(|u| {
            u.status != Status::Disabled && u.memberships.contains_key(&session.org)
        });
    if !allowed {
        end_session(service, &session, address, "membership_removed", "system").await?;
        return Err(ServiceError::Unauthenticated(
            "the session ended because the account lost its access: sign in again".to_owned(),
        ));
    }
    let policy = SecurityPolicy::of(&live.model, &session.org);
    drop(live);
    if now - session.last_seen_at > policy.session_timeout_ms() {
        end_session(service, &session, address, "inactivity", "system").await?;
        return Err(ServiceError::Unauthenticated(format!(
            "signed out after {} minutes without activity: sign in again",
            policy.session_timeout_minutes
        )));
    }
    if changes_something && !csrf.is_some_and(|token| same(token, &session.csrf)) {
        return Err(ServiceError::Forbidden(format!(
            "a request that changes something needs the session's CSRF token in the \
             `{CSRF_HEADER}` header (from the sign-in answer or GET /v1/session)"
        )));
    }
    if now - session.last_seen_at > TOUCH_EVERY_MS {
        service.store().touch_session(&session.id, now).await?;
        session.last_seen_at = now;
    }
    Ok(session)
}

/// The principal an active session acts as; the other stages may only do
/// their step.
pub fn principal_of(session: &SessionRow) -> Result<Principal, ServiceError> {
    if session.stage != Stage::Active {
        return Err(ServiceError::Forbidden(format!(
            "finish signing in first: {}",
            next_step(session.stage).unwrap_or_default()
        )));
    }
    Ok(Principal::User {
        user: session.user.clone(),
        org: session.org.clone(),
        via: Via::Session {
            id: session.id.clone(),
            authenticated_at: session.authenticated_at,
        },
    })
}

/// Ends one session, with an audit record.
pub async fn end_session(
    service: &Service,
    session: &SessionRow,
    address: &str,
    reason: &str,
    actor: &str,
) -> Result<(), ServiceError> {
    let action = if reason == "sign_out" {
        "sign_out"
    } else {
        "session.end"
    };
    service
        .record(
            actor,
            &format!("{address} session:{}", session.id),
            vec![AuditEntry {
                actor: actor.to_owned(),
                action: action.to_owned(),
                org: Some(session.org.clone()),
                target: format!("user:{}", session.user),
                before: None,
                after: Some(serde_json::json!({ "session": session.id, "reason": reason })),
                outcome: Outcome::Success,
            }],
            vec![AccountWrite::EndSession {
                id: session.id.clone(),
                at: now_ms(),
                reason: reason.to_owned(),
            }],
            Vec::new(),
        )
        .await
}

/// Signs out.
pub async fn sign_out(
    service: &Service,
    session: &SessionRow,
    address: &str,
) -> Result<(), ServiceError> {
    end_session(
        service,
        session,
        address,
        "sign_out",
        &format!("user:{}", session.user),
    )
    .await
}

/// Gives the password again, so that sensitive actions are allowed for
/// the organization's re-authentication window.
pub async fn reauthenticate(
    service: &Service,
    session: &SessionRow,
    address: &str,
    password: &Password,
) -> Result<SessionView, ServiceError> {
    let now = now_ms();
    check_session_throttle(service, session, address, now)?;
    let credential = service.store().credential(&session.user).await?;
    if !password_matches(service, credential.as_ref(), password).await? {
        return Err(refuse_in_session(
            service,
            session,
            address,
            credential.as_ref(),
            "session.reauthenticate",
            "wrong password",
            "password",
            "the password is wrong",
        )
        .await);
    }
    let mut next = session.clone();
    next.authenticated_at = now;
    next.last_seen_at = now;
    let actor = format!("user:{}", session.user);
    let mut writes = vec![AccountWrite::Session(next.clone())];
    if let Some(mut credential) = credential.filter(|c| c.failed_count > 0) {
        credential.failed_count = 0;
        credential.updated_at = now;
        writes.push(AccountWrite::Credential(credential));
    }
    service
        .record(
            &actor,
            &format!("{address} session:{}", session.id),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "session.reauthenticate".to_owned(),
                org: Some(session.org.clone()),
                target: format!("user:{}", session.user),
                ..Default::default()
            }],
            writes,
            Vec::new(),
        )
        .await?;
    Ok(view(&service.live().model, &next))
}
