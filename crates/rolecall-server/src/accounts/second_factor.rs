//! The second factor: TOTP enrolment with recovery codes, the code asked
//! at sign-in, and removal. Optional per user; required for everyone of an
//! organization whose policy says so (they enrol at their next sign-in).

use rolecall_store::{now_ms, AccountWrite, AuditEntry, Outcome, SessionRow, Stage};
use serde::{Deserialize, Serialize};

use super::signin::{self, check_session_throttle, SessionView};
use super::SecurityPolicy;
use crate::error::ServiceError;
use crate::mfa::{self, MfaError, TotpSecret};
use crate::passwords::Password;
use crate::service::Service;

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "rolecall";

/// A secret to add to an authenticator app, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret, base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://` URI, for a QR code.
    pub otpauth_url: String,
    /// What to do next.
    pub next: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(***)")
    }
}

/// `POST /v1/account/mfa/confirm` and `POST /v1/sign-in/mfa`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// The 6-digit code from the authenticator app.
    #[serde(default)]
    #[schema(format = Password)]
    pub code: Option<String>,
    /// Or, at sign-in, one of the recovery codes (each works once).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub recovery_code: Option<Password>,
}

/// The answer to a confirmed enrolment: recovery codes, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    /// Ten single-use codes for when the authenticator is lost. Keep them
    /// somewhere safe: they are not shown again.
    pub recovery_codes: Vec<String>,
    /// The session, now past its enrolment step.
    pub session: SessionView,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn unix_seconds(ms: i64) -> u64 {
    u64::try_from(ms / 1000).unwrap_or(0)
}

fn code_error(error: MfaError) -> ServiceError {
    ServiceError::invalid("code", error.to_string())
}

/// Starts enrolment: a new secret, kept pending until a code confirms it.
pub async fn enroll(service: &Service, session: &SessionRow) -> Result<Enrolment, ServiceError> {
    if !matches!(session.stage, Stage::Active | Stage::MfaEnroll) {
        return Err(signin::principal_of(session)
            .err()
            .unwrap_or_else(|| ServiceError::Forbidden("finish signing in first".to_owned())));
    }
    let mut credential = service
        .store()
        .credential(&session.user)
        .await?
        .ok_or_else(|| ServiceError::Conflict("the account has no password yet".to_owned()))?;
    if credential.totp_secret.is_some() {
        return Err(ServiceError::Conflict(
            "a second factor is already enrolled: remove it first to enrol another".to_owned(),
        ));
    }
    let secret = TotpSecret::generate();
    credential.totp_pending = Some(secret.base32().to_owned());
    credential.updated_at = now_ms();
    service
        .record(
            &format!("user:{}", session.user),
            &format!("session:{}", session.id),
            Vec::new(),
            vec![AccountWrite::Credential(credential)],
            Vec::new(),
        )
        .await?;
    Ok(enrolment(service, &session.user, &secret))
}

/// The enrolment `session`'s user started and has not confirmed yet, to
/// show its key again (after a mistyped code), if there is one.
pub async fn pending(
    service: &Service,
    session: &SessionRow,
) -> Result<Option<Enrolment>, ServiceError> {
    let credential = service.store().credential(&session.user).await?;
    let Some(pending) = credential.and_then(|c| c.totp_pending) else {
        return Ok(None);
    };
    // A pending key that does not decode is as good as none: start again.
    Ok(TotpSecret::from_base32(&pending)
        .ok()
        .map(|secret| enrolment(service, &session.user, &secret)))
}

fn enrolment(service: &Service, user: &str, secret: &TotpSecret) -> Enrolment {
    let email = {
        let live = service.live();
        live.model
            .users
            .get(user)
            .and_then(|u| live.model.user_email(u))
            .unwrap_or(user)
            .to_owned()
    };
    Enrolment {
        secret: secret.base32().to_owned(),
        otpauth_url: mfa::otpauth_url(secret, ISSUER, &email),
        next: "add it to your authenticator app, then POST /v1/account/mfa/confirm with a code"
            .to_owned(),
    }
}

/// Confirms enrolment with a code from the new secret; returns the
/// recovery codes.
pub async fn confirm(
    service: &Service,
    session: &SessionRow,
    address: &str,
    input: CodeInput,
) -> Result<Enrolled, ServiceError> {
    let now = now_ms();
    check_session_throttle(service, session, address, now)?;
    if !matches!(session.stage, Stage::Active | Stage::MfaEnroll) {
        return Err(ServiceError::Forbidden(
            "finish signing in first".to_owned(),
        ));
    }
    let mut credential = service
        .store()
        .credential(&session.user)
        .await?
        .ok_or_else(|| ServiceError::Conflict("start with POST /v1/account/mfa".to_owned()))?;
    let pending = credential
        .totp_pending
        .as_deref()
        .ok_or_else(|| ServiceError::Conflict("start with POST /v1/account/mfa".to_owned()))?;
    let secret = TotpSecret::from_base32(pending).map_err(code_error)?;
    let code = input
        .code
        .ok_or_else(|| ServiceError::invalid("code", "give the 6-digit code the app shows"))?;
    let step = match mfa::verify_code(&secret, &code, unix_seconds(now), None) {
        Ok(step) => step,
        Err(error) => {
            let account = signin::account_of(&service.live().model, &session.user);
            service.throttle().fail(address, &account, now);
            return Err(code_error(error));
        }
    };
    let (codes, hashes) = mfa::generate_recovery_codes();
    credential.totp_secret = credential.totp_pending.take();
    credential.totp_last_step = Some(step);
    credential.recovery_codes = hashes;
    credential.updated_at = now;
    let mut next = session.clone();
    if next.stage == Stage::MfaEnroll {
        next.stage = Stage::Active;
    }
    next.last_seen_at = now;
    let actor = format!("user:{}", session.user);
    service
        .record(
            &actor,
            &format!("{address} session:{}", session.id),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "mfa.enroll".to_owned(),
                org: Some(session.org.clone()),
                target: actor.clone(),
                after: Some(serde_json::json!({ "method": "totp", "recovery_codes": codes.len() })),
                ..Default::default()
            }],
            vec![
                AccountWrite::Credential(credential),
                AccountWrite::Session(next.clone()),
            ],
            Vec::new(),
        )
        .await?;
    Ok(Enrolled {
        recovery_codes: codes,
        session: signin::view(&service.live().model, &next),
    })
}

/// The second step of signing in: a code from the app, or a recovery code.
/// Wrong codes count towards the account's lockout.
pub async fn verify(
    service: &Service,
    session: &SessionRow,
    address: &str,
    input: CodeInput,
) -> Result<SessionView, ServiceError> {
    let now = now_ms();
    check_session_throttle(service, session, address, now)?;
    if session.stage != Stage::Mfa {
        return Err(ServiceError::Conflict(
            "this session is not waiting for a second factor".to_owned(),
        ));
    }
    let credential = service.store().credential(&session.user).await?;
    let Some(mut credential) = credential.filter(|c| c.totp_secret.is_some()) else {
        return Err(ServiceError::Conflict(
            "no second factor is enrolled".to_owned(),
        ));
    };
    let secret = TotpSecret::from_base32(credential.totp_secret.as_deref().unwrap_or_default())
        .map_err(code_error)?;
    let mut used_recovery = false;
    let outcome = match (&input.code, &input.recovery_code) {
        (Some(code), None) => {
            mfa::verify_code(&secret, code, unix_seconds(now), credential.totp_last_step)
                .map(|step| credential.totp_last_step = Some(step))
        }
        (None, Some(recovery)) => {
            match mfa::use_recovery_code(&credential.recovery_codes, recovery.expose()) {
                Some(remaining) => {
                    credential.recovery_codes = remaining;
                    used_recovery = true;
                    Ok(())
                }
                None => Err(MfaError::Wrong),
            }
        }
        _ => {
            return Err(ServiceError::invalid(
                "code",
                "give either `code` (from the app) or `recovery_code`",
            ))
        }
    };
    if let Err(error) = outcome {
        let refused = signin::fail_password(
            service,
            address,
            true,
            &session.user,
            Some(&session.org),
            Some(&credential),
            "sign_in.mfa",
            "wrong second factor",
        )
        .await?;
        return Err(match refused {
            ServiceError::Unauthenticated(_) => code_error(error),
            locked => locked,
        });
    }
    credential.failed_count = 0;
    credential.updated_at = now;
    let mut next = session.clone();
    next.stage = Stage::Active;
    next.last_seen_at = now;
    let actor = format!("user:{}", session.user);
    service
        .record(
            &actor,
            &format!("{address} session:{}", session.id),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "sign_in.mfa".to_owned(),
                org: Some(session.org.clone()),
                target: actor.clone(),
                after: Some(serde_json::json!({
                    "method": if used_recovery { "recovery_code" } else { "totp" },
                    "recovery_codes_left": credential.recovery_codes.len(),
                })),
                outcome: Outcome::Success,
                ..Default::default()
            }],
            vec![
                AccountWrite::Credential(credential),
                AccountWrite::Session(next.clone()),
            ],
            Vec::new(),
        )
        .await?;
    Ok(signin::view(&service.live().model, &next))
}

/// Removes the signed-in user's second factor, with their password.
/// Refused where the organization requires one.
pub async fn remove(
    service: &Service,
    session: &SessionRow,
    address: &str,
    password: &Password,
) -> Result<(), ServiceError> {
    let now = now_ms();
    check_session_throttle(service, session, address, now)?;
    signin::principal_of(session)?;
    if SecurityPolicy::of_user(&service.live().model, &session.user).mfa_required {
        return Err(ServiceError::Forbidden(
            "your organization requires a second factor: it cannot be removed".to_owned(),
        ));
    }
    let credential = service.store().credential(&session.user).await?;
    let Some(mut credential) = credential.filter(|c| c.totp_secret.is_some()) else {
        return Err(ServiceError::Conflict(
            "no second factor is enrolled".to_owned(),
        ));
    };
    if !signin::password_matches(service, Some(&credential), password).await? {
        return Err(signin::refuse_in_session(
            service,
            session,
            address,
            Some(&credential),
            "mfa.remove",
            "wrong password",
            "password",
            "the password is wrong",
        )
        .await);
    }
    credential.totp_secret = None;
    credential.totp_pending = None;
    credential.totp_last_step = None;
    credential.recovery_codes = Vec::new();
    credential.updated_at = now;
    let actor = format!("user:{}", session.user);
    service
        .record(
            &actor,
            &format!("{address} session:{}", session.id),
            vec![AuditEntry {
                actor: actor.clone(),
                action: "mfa.remove".to_owned(),
                org: Some(session.org.clone()),
                target: actor.clone(),
                ..Default::default()
            }],
            vec![AccountWrite::Credential(credential)],
            Vec::new(),
        )
        .await
}
