//! The web console: server-rendered pages for clinic administrators,
//! served by `rolecall serve` beside the API. Every form works without
//! JavaScript; every page calls the same operations as the API, so the same
//! rules apply.
//!
//! Sessions are the API's (the `rolecall_session` cookie); forms carry the
//! session's CSRF token in a hidden `csrf` field. A request without a
//! usable session is sent to the sign-in page.

pub mod account;
pub mod audit;
pub mod checker;
pub mod groups;
pub mod layout;
pub mod org;
pub mod review;
pub mod role_management;
pub mod roles;
pub mod users;

use crate::http::{Guard, Route, Table};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::Method;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use rolecall_store::{SessionRow, Stage};
use serde::Deserialize;

use crate::accounts::credentials::{self, ChangePasswordInput};
use crate::accounts::signin::{self, SignInInput};
use crate::console::layout::Viewer;
use crate::error::ServiceError;
use crate::http::extract::Source;
use crate::http::AppState;
use crate::passwords::Password;
use crate::principal::Principal;

/// Every route of the console, with its guard, in the order they are
/// registered. For the console, an organization is the `org` of the query
/// or the form (the session's when there is none); without a session a
/// page sends the browser to sign in.
pub fn route_table() -> Vec<Route> {
    table().routes
}

/// The console's routes and their router, merged into the router at `/`.
pub(crate) fn table() -> Table {
    use Guard::{Credentials, Public};
    use Method as M;
    let t = Table::new()
        .add(M::GET, "/", Public, home)
        .add(M::GET, "/sign-in", Public, sign_in_page)
        .add(M::POST, "/sign-in", Public, sign_in)
        .add(M::POST, "/sign-out", Credentials, sign_out)
        .add(M::GET, "/account/password", Credentials, password_page)
        .add(M::POST, "/account/password", Credentials, change_password);
    [
        account::routes,
        users::routes,
        roles::routes,
        role_management::routes,
        org::routes,
        groups::routes,
        checker::routes,
        audit::routes,
        review::routes,
    ]
    .into_iter()
    .fold(t, |t, routes| routes(t))
}

/// A redirect after a form (303: the browser follows with GET).
pub(crate) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// The lines to show for a refused form.
pub(crate) fn messages(error: &ServiceError) -> Vec<String> {
    match error {
        ServiceError::Invalid { fields } => fields.iter().map(|f| f.message.clone()).collect(),
        other => vec![other
            .storage_message()
            .map_or_else(|| other.to_string(), str::to_owned)],
    }
}

pub(crate) fn html_page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    // Every 401 names a scheme (RFC 9110 §11.6.1), the console's too.
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static(crate::http::problem::CHALLENGE),
        );
    }
    response
}

/// The session of the request, in any stage, or a redirect to sign in.
pub(crate) async fn session(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
) -> Result<SessionRow, Response> {
    let secret = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == signin::COOKIE)
        .map(|(_, value)| value.trim().to_owned());
    let Some(secret) = secret else {
        return Err(see_other("/sign-in"));
    };
    signin::session_from_cookie(&state.service, &secret, address, None, false)
        .await
        .map_err(|_| see_other("/sign-in"))
}

/// The fully signed-in session and its principal, or the page that comes
/// first (sign in, choose a password).
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
) -> Result<(SessionRow, Principal), Response> {
    let session = session(state, headers, address).await?;
    match session.stage {
        Stage::Active => {}
        Stage::ChangePassword => return Err(see_other("/account/password")),
        Stage::Mfa => return Err(see_other("/sign-in/mfa")),
        Stage::MfaEnroll => return Err(see_other("/account/mfa")),
    }
    let principal = signin::principal_of(&session).map_err(|_| see_other("/sign-in"))?;
    Ok((session, principal))
}

/// A submitted form, with its repeated keys (checkbox lists) kept.
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub(crate) fn parse(body: &[u8]) -> FormFields {
        FormFields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or `""`.
    pub(crate) fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    }

    /// Every value of `name`, in order, without repeats or blanks.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        let mut values: Vec<String> = Vec::new();
        for (key, value) in &self.0 {
            if key == name && !value.is_empty() && !values.contains(value) {
                values.push(value.clone());
            }
        }
        values
    }
}

/// A request from a person fully signed in: their session, whom it acts
/// for, and where the request came from (for the audit log). Without one,
/// the request is answered with the page that comes first (sign in, choose
/// a password, the second factor).
pub(crate) struct SignedIn {
    /// The session.
    pub session: SessionRow,
    /// Whom the session acts for.
    pub principal: Principal,
    /// The request's source address.
    pub address: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(Source(address)) = Source::from_request_parts(parts, state).await;
        let (session, principal) = signed_in(state, &parts.headers, &address).await?;
        Ok(SignedIn {
            session,
            principal,
            address,
        })
    }
}

/// A form posted by a person fully signed in, its CSRF token checked; its
/// fields keep repeated keys (checkbox lists). Otherwise the request is
/// answered with the page that comes first, or refused as out of date or
/// from another site.
pub(crate) struct SignedForm {
    /// The session.
    pub session: SessionRow,
    /// Whom the session acts for.
    pub principal: Principal,
    /// The request's source address.
    pub address: String,
    /// The form's fields.
    pub fields: FormFields,
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let SignedIn {
            session,
            principal,
            address,
        } = SignedIn::from_request_parts(&mut parts, state).await?;
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = FormFields::parse(&body);
        if !csrf_ok(&session, fields.one("csrf")) {
            return Err(forbidden_form());
        }
        Ok(SignedForm {
            session,
            principal,
            address,
            fields,
        })
    }
}

/// The session of a form's POST, whatever its stage, with the form's CSRF
/// token checked: otherwise the page to answer with (sign in, or refused).
pub(crate) async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
    csrf: &str,
) -> Result<SessionRow, Response> {
    let session = session(state, headers, address).await?;
    if !csrf_ok(&session, csrf) {
        return Err(forbidden_form());
    }
    Ok(session)
}

/// Whether a form's `csrf` field is the session's token.
pub(crate) fn csrf_ok(session: &SessionRow, sent: &str) -> bool {
    sent.len() == session.csrf.len()
        && sent
            .bytes()
            .zip(session.csrf.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub(crate) fn forbidden_form() -> Response {
    html_page(
        StatusCode::FORBIDDEN,
        layout::page(
            "Refused",
            None,
            html! { p { "This form is out of date or came from another site. Go back, reload the page and try again." } },
        ),
    )
}

/// The first page: the users list for a user manager, else the person's
/// own access.
async fn home(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
) -> Response {
    match signed_in(&state, &headers, &address).await {
        Ok((session, _)) => see_other(&Viewer::of(&state.service.live(), &session).home()),
        Err(redirect) => redirect,
    }
}

/// `GET /sign-in` query: a message to show.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    /// Why the person is here (`signed_out`, `password_changed`).
    #[serde(default)]
    pub done: Option<String>,
}

fn sign_in_form(email: &str, problems: &[String], notice: Option<&str>) -> Markup {
    layout::page(
        "Sign in",
        None,
        html! {
            div.card.narrow {
                (layout::notice(notice))
                (layout::errors(problems))
                form method="post" action="/sign-in" {
                    label for="email" { "Email" }
                    input type="email" id="email" name="email" value=(email) autocomplete="username" required;
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
                p { a href="/forgot-password" { "Forgot your password?" } }
            }
        },
    )
}

async fn sign_in_page(Query(query): Query<SignInQuery>) -> Markup {
    let notice = match query.done.as_deref() {
        Some("signed_out") => Some("You are signed out."),
        Some("password_reset") => Some("Your password is set: sign in with it."),
        _ => None,
    };
    sign_in_form("", &[], notice)
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: Password,
}

async fn sign_in(
    State(state): State<AppState>,
    Source(address): Source,
    Form(form): Form<SignInForm>,
) -> Response {
    let email = form.email.clone();
    let input = SignInInput {
        email: form.email,
        password: form.password,
        org: None,
    };
    match signin::sign_in(&state.service, &address, input).await {
        Ok(signed_in) => {
            let next = match signed_in.view.stage {
                Stage::ChangePassword => "/account/password",
                Stage::Mfa => "/sign-in/mfa",
                Stage::MfaEnroll => "/account/mfa",
                Stage::Active => "/",
            };
            let mut response = see_other(next);
            if let Some(cookie) =
                crate::http::account::session_cookie(&state, &signed_in.secret, false)
            {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => {
            let status = match &error {
                ServiceError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            html_page(status, sign_in_form(&email, &messages(&error), None))
        }
    }
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(error) = signin::sign_out(&state.service, &session, &address).await {
        return html_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            layout::page("Sign out", None, layout::errors(&messages(&error))),
        );
    }
    let mut response = see_other("/sign-in?done=signed_out");
    if let Some(cookie) = crate::http::account::session_cookie(&state, "", true) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

fn password_form(view: &Viewer, problems: &[String]) -> Markup {
    let forced = view.session.stage == Stage::ChangePassword;
    layout::page(
        "Choose a new password",
        (!forced).then_some(view),
        html! {
            div.card.narrow {
                @if forced {
                    p { "Welcome, " (view.session.name) ". Choose a password of your own to continue." }
                }
                (layout::errors(problems))
                form method="post" action="/account/password" {
                    input type="hidden" name="csrf" value=(view.session.csrf_token);
                    @if !forced {
                        label for="current_password" { "Current password" }
                        input type="password" id="current_password" name="current_password" autocomplete="current-password" required;
                    }
                    label for="new_password" { "New password" }
                    input type="password" id="new_password" name="new_password" autocomplete="new-password" required aria-describedby="password-hint";
                    p.hint id="password-hint" { "At least 12 characters; a phrase of several words is easy to remember and hard to guess." }
                    button type="submit" { "Change password" }
                }
            }
        },
    )
}

async fn password_page(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
) -> Response {
    match session(&state, &headers, &address).await {
        Ok(session) => {
            let view = Viewer::of(&state.service.live(), &session);
            password_form(&view, &[]).into_response()
        }
        Err(redirect) => redirect,
    }
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: Option<Password>,
    #[serde(default)]
    new_password: Password,
}

async fn change_password(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let input = ChangePasswordInput {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match credentials::change_password(&state.service, &session, &address, input).await {
        Ok(view) => see_other(match view.stage {
            Stage::Active => "/",
            Stage::Mfa => "/sign-in/mfa",
            Stage::MfaEnroll => "/account/mfa",
            Stage::ChangePassword => "/account/password",
        }),
        Err(error) => {
            let view = Viewer::of(&state.service.live(), &session);
            html_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                password_form(&view, &messages(&error)),
            )
        }
    }
}
