//! Sign-in, sessions and the signed-in user's own account; password resets;
//! invitations; security policies.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::extract::{Auth, Body, SessionAuth, Source};
use super::AppState;
use crate::accounts::credentials::{
    self, ChangePasswordInput, ResetInput, ResetRequestInput, ResetRequested,
};
use crate::accounts::second_factor::{self, CodeInput, Enrolled, Enrolment};
use crate::accounts::signin::{self, PasswordInput, SessionView, SignInInput};
use crate::accounts::{self, SecurityPolicy};
use crate::error::ServiceError;
use crate::ops::Updated;

/// The `Set-Cookie` value for a session: HttpOnly, SameSite=Strict, and
/// Secure when people reach the console over HTTPS.
pub(crate) fn session_cookie(
    state: &AppState,
    secret: &str,
    max_age_zero: bool,
) -> Option<HeaderValue> {
    let secure = state.service.settings().public_url.starts_with("https://");
    let mut value = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Strict",
        signin::COOKIE
    );
    if secure {
        value.push_str("; Secure");
    }
    if max_age_zero {
        value.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&value).ok()
}

fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Sign in
///
/// Checks the email and password and opens a session: the answer sets the
/// session cookie and gives the CSRF token to send back in `X-CSRF-Token`.
/// The session's `stage` says what is left to do (a new password after a
/// temporary one, a second factor). Repeated failures lock the account
/// (its sign-in then answers as a wrong password does, and its owner is
/// emailed) and throttle the address for that email, or for every email
/// after failures against many (429).
#[utoipa::path(post, path = "/v1/sign-in", tag = "sign-in", request_body = SignInInput,
    responses((status = 200, body = SessionView), (status = 401, body = super::problem::Problem),
              (status = 429, body = super::problem::Problem)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Source(source): Source,
    Body(input): Body<SignInInput>,
) -> Result<Response, ServiceError> {
    let signed_in = signin::sign_in(&state.service, &source, input).await?;
    let cookie = session_cookie(&state, &signed_in.secret, false);
    Ok(with_cookie(Json(signed_in.view).into_response(), cookie))
}

/// Give the second factor
///
/// The second step of signing in when a second factor is enrolled: the
/// app's 6-digit `code`, or one `recovery_code`.
#[utoipa::path(post, path = "/v1/sign-in/mfa", tag = "sign-in", request_body = CodeInput,
    responses((status = 200, body = SessionView), (status = 409, body = super::problem::Problem),
              (status = 422, body = super::problem::Problem), (status = 429, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn sign_in_mfa(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
    Body(input): Body<CodeInput>,
) -> Result<Json<SessionView>, ServiceError> {
    Ok(Json(
        second_factor::verify(&state.service, &session, &source, input).await?,
    ))
}

/// The current session
#[utoipa::path(get, path = "/v1/session", tag = "sign-in",
    responses((status = 200, body = SessionView), (status = 401, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn session(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
) -> Json<SessionView> {
    Json(signin::view(&state.service.live().model, &session))
}

/// Sign out
#[utoipa::path(post, path = "/v1/sign-out", tag = "sign-in",
    responses((status = 204, description = "Signed out; the cookie is cleared")),
    security(("session" = [])))]
pub async fn sign_out(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
) -> Result<Response, ServiceError> {
    signin::sign_out(&state.service, &session, &source).await?;
    let cookie = session_cookie(&state, "", true);
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), cookie))
}

/// Give the password again
///
/// Sensitive actions (granting an administrator permission, changing the
/// security policy, issuing tokens) want the password given within the
/// organization's `reauth_minutes`.
#[utoipa::path(post, path = "/v1/session/reauthenticate", tag = "sign-in",
    request_body = PasswordInput, responses((status = 200, body = SessionView), (status = 429, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn reauthenticate(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
    Body(input): Body<PasswordInput>,
) -> Result<Json<SessionView>, ServiceError> {
    signin::principal_of(&session)?;
    Ok(Json(
        signin::reauthenticate(&state.service, &session, &source, &input.password).await?,
    ))
}

/// Change my password
///
/// Right after signing in with a temporary (or expired) password, only
/// `new_password` is needed; otherwise `current_password` too. Ends the
/// user's other sessions.
#[utoipa::path(post, path = "/v1/account/password", tag = "account",
    request_body = ChangePasswordInput,
    responses((status = 200, body = SessionView), (status = 422, body = super::problem::Problem),
              (status = 429, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
    Body(input): Body<ChangePasswordInput>,
) -> Result<Json<SessionView>, ServiceError> {
    Ok(Json(
        credentials::change_password(&state.service, &session, &source, input).await?,
    ))
}

/// Start enrolling a second factor
///
/// Returns a TOTP secret and its `otpauth://` URI, shown once; confirm with
/// a code.
#[utoipa::path(post, path = "/v1/account/mfa", tag = "account",
    responses((status = 200, body = Enrolment), (status = 409, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn enroll_mfa(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
) -> Result<Json<Enrolment>, ServiceError> {
    Ok(Json(second_factor::enroll(&state.service, &session).await?))
}

/// Confirm the second factor
///
/// With a code from the app; returns ten single-use recovery codes, shown
/// once.
#[utoipa::path(post, path = "/v1/account/mfa/confirm", tag = "account",
    request_body = CodeInput, responses((status = 200, body = Enrolled), (status = 409, body = super::problem::Problem), (status = 429, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn confirm_mfa(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
    Body(input): Body<CodeInput>,
) -> Result<Json<Enrolled>, ServiceError> {
    Ok(Json(
        second_factor::confirm(&state.service, &session, &source, input).await?,
    ))
}

/// Remove my second factor
#[utoipa::path(delete, path = "/v1/account/mfa", tag = "account",
    request_body = PasswordInput, responses((status = 204, description = "Removed"), (status = 409, body = super::problem::Problem), (status = 429, body = super::problem::Problem)),
    security(("session" = [])))]
pub async fn remove_mfa(
    State(state): State<AppState>,
    SessionAuth(session): SessionAuth,
    Source(source): Source,
    Body(input): Body<PasswordInput>,
) -> Result<StatusCode, ServiceError> {
    second_factor::remove(&state.service, &session, &source, &input.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgot my password
///
/// Queues the request and answers at once; shortly after, a single-use,
/// expiring link to choose a new password is emailed when the email has an
/// account. The answer, and the work done before it, is the same either
/// way.
#[utoipa::path(post, path = "/v1/password-reset", tag = "account",
    request_body = ResetRequestInput, responses((status = 202, body = ResetRequested), (status = 429, body = super::problem::Problem)))]
pub async fn request_reset(
    State(state): State<AppState>,
    Source(source): Source,
    Body(input): Body<ResetRequestInput>,
) -> Result<(StatusCode, Json<ResetRequested>), ServiceError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(credentials::request_reset(&state.service, &source, input).await?),
    ))
}

/// Choose a new password with a reset link
#[utoipa::path(post, path = "/v1/password-reset/complete", tag = "account",
    request_body = ResetInput,
    responses((status = 204, description = "Password set; every session of the user ended"),
              (status = 429, body = super::problem::Problem),
              (status = 422, body = super::problem::Problem)))]
pub async fn complete_reset(
    State(state): State<AppState>,
    Source(source): Source,
    Body(input): Body<ResetInput>,
) -> Result<StatusCode, ServiceError> {
    credentials::complete_reset(&state.service, &source, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send the temporary password again
///
/// The seed's "Create / Edit User Permissions" pressed again for a user who
/// has not signed in yet: a new temporary password by email.
#[utoipa::path(post, path = "/v1/orgs/{org}/users/{user}/invitation", tag = "users",
    params(("org" = String, Path), ("user" = String, Path)),
    responses((status = 202, description = "Emailed"), (status = 409, body = super::problem::Problem)),
    security(("bearer" = [])))]
pub async fn send_invitation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, user)): Path<(String, String)>,
) -> Result<StatusCode, ServiceError> {
    credentials::send_invitation(&state.service, &principal, &source, &org, &user).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Send a user a password reset link
///
/// Refused for a user who holds a permission the caller lacks.
#[utoipa::path(post, path = "/v1/orgs/{org}/users/{user}/password-reset", tag = "users",
    params(("org" = String, Path), ("user" = String, Path)),
    responses((status = 202, body = ResetRequested), (status = 403, body = super::problem::Problem), (status = 409, body = super::problem::Problem)),
    security(("bearer" = [])))]
pub async fn admin_reset(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, user)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ResetRequested>), ServiceError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(credentials::admin_reset(&state.service, &principal, &source, &org, &user).await?),
    ))
}

/// An organization's security policy
#[utoipa::path(get, path = "/v1/orgs/{org}/security-policy", tag = "organizations",
    params(("org" = String, Path)), responses((status = 200, body = SecurityPolicy)),
    security(("bearer" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
) -> Result<Json<SecurityPolicy>, ServiceError> {
    Ok(Json(accounts::get_policy(
        &state.service,
        &principal,
        &org,
    )?))
}

/// Replace an organization's security policy
///
/// Needs `web.manage_security_policies` and a recent password.
#[utoipa::path(put, path = "/v1/orgs/{org}/security-policy", tag = "organizations",
    params(("org" = String, Path)), request_body = SecurityPolicy,
    responses((status = 200, body = Updated), (status = 422, body = super::problem::Problem)),
    security(("bearer" = [])))]
pub async fn set_policy(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(policy): Body<SecurityPolicy>,
) -> Result<Json<Updated>, ServiceError> {
    let revision = accounts::set_policy(&state.service, &principal, &source, &org, policy).await?;
    Ok(Json(Updated { revision }))
}
