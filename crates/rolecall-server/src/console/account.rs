//! The signed-in person's own account in the console: a forgotten
//! password, the reset link's page, the second factor at sign-in, and
//! enrolling one.

use crate::http::{Guard, Table};
use axum::extract::{Query, State};
use axum::http::Method;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup, PreEscaped};
use qrcode::render::svg;
use qrcode::QrCode;
use rolecall_store::{SessionRow, Stage};
use serde::Deserialize;

use super::{form_session, html_page, layout, messages, see_other, session};
use crate::accounts::credentials::{self, ResetInput, ResetRequestInput};
use crate::accounts::second_factor::{self, CodeInput, Enrolment};
use crate::console::layout::Viewer;
use crate::error::ServiceError;
use crate::http::extract::Source;
use crate::http::AppState;
use crate::passwords::Password;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    use Guard::{Credentials, Public};
    use Method as M;
    t.add(M::GET, "/forgot-password", Public, forgot_page)
        .add(M::POST, "/forgot-password", Public, forgot)
        .add(M::GET, "/reset-password", Public, reset_page)
        .add(M::POST, "/reset-password", Public, reset)
        .add(M::GET, "/sign-in/mfa", Credentials, mfa_page)
        .add(M::POST, "/sign-in/mfa", Credentials, mfa_verify)
        .add(M::GET, "/account/mfa", Credentials, enrol_page)
        .add(M::POST, "/account/mfa", Credentials, enrol_start)
        .add(M::POST, "/account/mfa/confirm", Credentials, enrol_confirm)
        .add(M::POST, "/account/mfa/remove", Credentials, remove)
}

fn forgot_form(problems: &[String], sent: Option<&str>) -> Markup {
    layout::page(
        "Forgot your password?",
        None,
        html! {
            div.card.narrow {
                (layout::notice(sent))
                (layout::errors(problems))
                p { "Give the email you sign in with; we send a link to choose a new password." }
                form method="post" action="/forgot-password" {
                    label for="email" { "Email" }
                    input type="email" id="email" name="email" autocomplete="username" required;
                    button type="submit" { "Send reset link" }
                }
                p { a href="/sign-in" { "Back to sign in" } }
            }
        },
    )
}

async fn forgot_page() -> Markup {
    forgot_form(&[], None)
}

/// The forgotten-password form.
#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
}

async fn forgot(
    State(state): State<AppState>,
    Source(address): Source,
    Form(form): Form<ForgotForm>,
) -> Response {
    match credentials::request_reset(
        &state.service,
        &address,
        ResetRequestInput { email: form.email },
    )
    .await
    {
        Ok(answer) => forgot_form(&[], Some(&answer.message)).into_response(),
        Err(error) => html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            forgot_form(&messages(&error), None),
        ),
    }
}

/// `GET /reset-password?token=`: the token from the emailed link.
#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn reset_form(token: &str, problems: &[String]) -> Markup {
    layout::page(
        "Choose a new password",
        None,
        html! {
            div.card.narrow {
                (layout::errors(problems))
                form method="post" action="/reset-password" {
                    input type="hidden" name="token" value=(token);
                    label for="new_password" { "New password" }
                    input type="password" id="new_password" name="new_password" autocomplete="new-password" required aria-describedby="password-hint";
                    p.hint id="password-hint" { "At least 12 characters; a phrase of several words is easy to remember and hard to guess." }
                    button type="submit" { "Set password" }
                }
            }
        },
    )
}

async fn reset_page(Query(query): Query<TokenQuery>) -> Markup {
    reset_form(&query.token, &[])
}

/// The reset form.
#[derive(Deserialize)]
pub struct ResetForm {
    token: Password,
    new_password: Password,
}

async fn reset(
    State(state): State<AppState>,
    Source(address): Source,
    Form(form): Form<ResetForm>,
) -> Response {
    let token = form.token.expose().to_owned();
    let input = ResetInput {
        token: form.token,
        new_password: form.new_password,
    };
    match credentials::complete_reset(&state.service, &address, input).await {
        Ok(()) => see_other("/sign-in?done=password_reset"),
        Err(error) => html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            reset_form(&token, &messages(&error)),
        ),
    }
}

fn mfa_form(csrf: &str, problems: &[String]) -> Markup {
    layout::page(
        "Second factor",
        None,
        html! {
            div.card.narrow {
                (layout::errors(problems))
                form method="post" action="/sign-in/mfa" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="code" { "Code from your authenticator app" }
                    input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code";
                    label for="recovery_code" { "Or a recovery code" }
                    input type="text" id="recovery_code" name="recovery_code" autocomplete="off";
                    button type="submit" { "Verify" }
                }
                (layout::sign_out_form(csrf, "Cancel and sign out"))
            }
        },
    )
}

async fn mfa_page(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
) -> Response {
    match session(&state, &headers, &address).await {
        Ok(session) if session.stage == Stage::Mfa => mfa_form(&session.csrf, &[]).into_response(),
        Ok(_) => see_other("/"),
        Err(redirect) => redirect,
    }
}

/// The second-factor form.
#[derive(Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
}

async fn mfa_verify(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<MfaForm>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let code = Some(form.code.trim().to_owned()).filter(|c| !c.is_empty());
    let recovery_code = Some(form.recovery_code.trim().to_owned()).filter(|c| !c.is_empty());
    let wrong_fields = match (&code, &recovery_code) {
        (None, None) => {
            Some("Type the code your authenticator app shows, or one of your recovery codes.")
        }
        (Some(_), Some(_)) => {
            Some("Type either the code from your app or a recovery code, not both.")
        }
        _ => None,
    };
    if let Some(problem) = wrong_fields {
        return html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            mfa_form(&session.csrf, &[problem.to_owned()]),
        );
    }
    let input = CodeInput {
        code,
        recovery_code: recovery_code.map(Password::new),
    };
    match second_factor::verify(&state.service, &session, &address, input).await {
        Ok(_) => see_other("/"),
        Err(error) => html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            mfa_form(&session.csrf, &messages(&error)),
        ),
    }
}

async fn enrol_page(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Query(query): Query<EnrolQuery>,
) -> Response {
    let session = match session(&state, &headers, &address).await {
        Ok(session) => session,
        Err(redirect) => return redirect,
    };
    let enrolled = match recovery_codes_left(&state, &session.user).await {
        Ok(enrolled) => enrolled,
        Err(error) => return store_failed(&error),
    };
    let view = Viewer::of(&state.service.live(), &session);
    let notice = match query.done.as_deref() {
        Some("removed") => Some("The second factor is off: your password alone signs you in."),
        _ => None,
    };
    enrol_form(&view, enrolled, notice, &[]).into_response()
}

/// How many recovery codes `user` has left, when a second factor is on.
async fn recovery_codes_left(state: &AppState, user: &str) -> Result<Option<usize>, ServiceError> {
    let credential = state.service.store().credential(user).await?;
    Ok(credential
        .filter(|c| c.totp_secret.is_some())
        .map(|c| c.recovery_codes.len()))
}

/// `GET /account/mfa` query: a message to show.
#[derive(Debug, Default, Deserialize)]
pub struct EnrolQuery {
    /// What was just done (`removed`).
    #[serde(default)]
    pub done: Option<String>,
}

/// The second-factor page; `enrolled` is how many recovery codes are left
/// when one is on.
fn enrol_form(
    view: &Viewer,
    enrolled: Option<usize>,
    notice: Option<&str>,
    problems: &[String],
) -> Markup {
    let required = view.session.stage == Stage::MfaEnroll;
    layout::page(
        "Second factor",
        (!required).then_some(view),
        html! {
            div.card.narrow {
                (layout::notice(notice))
                (layout::errors(problems))
                @if let Some(left) = enrolled {
                    p { "Your sign-in asks for a code from your authenticator app after your password." }
                    p { (left) " of your recovery codes are left unused." }
                    form method="post" action="/account/mfa/remove" {
                        input type="hidden" name="csrf" value=(view.session.csrf_token);
                        label for="password" { "Your password, to turn it off" }
                        input type="password" id="password" name="password" autocomplete="current-password" required;
                        button type="submit" { "Turn off the second factor" }
                    }
                } @else {
                    @if required {
                        p { "Your organization requires a second factor. Set up an authenticator app to continue." }
                    } @else {
                        p { "A second factor protects your account even if your password leaks." }
                    }
                    form method="post" action="/account/mfa" {
                        input type="hidden" name="csrf" value=(view.session.csrf_token);
                        button type="submit" { "Set up an authenticator app" }
                    }
                    @if required {
                        (layout::sign_out_form(&view.session.csrf_token, "Cancel and sign out"))
                    }
                }
            }
        },
    )
}

fn store_failed(error: &ServiceError) -> Response {
    html_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        layout::page("Second factor", None, layout::errors(&messages(error))),
    )
}

/// The form that turns the second factor off.
#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: Password,
}

async fn remove(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match second_factor::remove(&state.service, &session, &address, &form.password).await {
        Ok(()) => see_other("/account/mfa?done=removed"),
        Err(error) => {
            let view = Viewer::of(&state.service.live(), &session);
            let status = super::users::status_of(&error);
            let left = recovery_codes_left(&state, &session.user)
                .await
                .unwrap_or_default();
            html_page(status, enrol_form(&view, left, None, &messages(&error)))
        }
    }
}

/// A form carrying only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn enrol_start(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    match second_factor::enroll(&state.service, &session).await {
        Ok(enrolment) => key_page(&state, &session, &enrolment, &[]).into_response(),
        Err(error) => html_page(
            StatusCode::CONFLICT,
            layout::page("Second factor", None, layout::errors(&messages(&error))),
        ),
    }
}

/// The page with the key to add to an authenticator app (as a QR code, as
/// text and as a link) and the code to confirm it with.
fn key_page(
    state: &AppState,
    session: &SessionRow,
    enrolment: &Enrolment,
    problems: &[String],
) -> Markup {
    let viewer = Viewer::of(&state.service.live(), session);
    let signed_in = session.stage == Stage::Active;
    layout::page(
        "Set up your authenticator app",
        signed_in.then_some(&viewer),
        html! {
            div.card.narrow {
                (layout::errors(problems))
                p { "Scan this code with your authenticator app, or type the key into it; then type the code the app shows." }
                @if let Some(qr) = qr_svg(&enrolment.otpauth_url) {
                    div role="img" aria-label="QR code of the key, for your authenticator app" style="max-width:240px" {
                        (PreEscaped(qr))
                    }
                }
                p { "Key: " code { (enrolment.secret) } }
                p { a href=(enrolment.otpauth_url) { "Open in an authenticator app" } " (on the phone that has it)" }
                form method="post" action="/account/mfa/confirm" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for="code" { "Code from your authenticator app" }
                    input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required;
                    button type="submit" { "Confirm" }
                }
                @if !signed_in {
                    (layout::sign_out_form(&session.csrf, "Cancel and sign out"))
                }
            }
        },
    )
}

/// The `otpauth://` URI as an SVG QR code, without the XML declaration so
/// that it sits inside the page; `None` if it is too long for one.
fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

/// The enrolment confirmation form.
#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

async fn enrol_confirm(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let session = match form_session(&state, &headers, &address, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let input = CodeInput {
        code: Some(form.code),
        recovery_code: None,
    };
    match second_factor::confirm(&state.service, &session, &address, input).await {
        Ok(enrolled) => {
            // The session as it is now (an enrolment at sign-in made it
            // active).
            let viewer = match super::session(&state, &headers, &address).await {
                Ok(now) => Viewer::of(&state.service.live(), &now),
                Err(redirect) => return redirect,
            };
            layout::page(
            "Second factor is on",
            Some(&viewer),
            html! {
                div.card.narrow {
                    p { "Keep these recovery codes somewhere safe. Each works once, if you lose your authenticator app. They are not shown again." }
                    ul { @for code in &enrolled.recovery_codes { li { code { (code) } } } }
                    p { a href="/" { "Continue" } }
                }
            },
        )
        .into_response()
        }
        Err(error) => {
            // A mistyped code: the same key again, with why; nothing to
            // confirm (set up already, or never started): say so.
            match second_factor::pending(&state.service, &session).await {
                Ok(Some(enrolment)) => html_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    key_page(&state, &session, &enrolment, &messages(&error)),
                ),
                Ok(None) => html_page(
                    StatusCode::CONFLICT,
                    layout::page(
                        "Set up your authenticator app",
                        None,
                        html! {
                            div.card.narrow {
                                p { "There is no set-up to confirm: it is finished already, or was never started." }
                                p { a href="/account/mfa" { "Your second factor" } }
                            }
                        },
                    ),
                ),
                Err(error) => html_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    layout::page("Second factor", None, layout::errors(&messages(&error))),
                ),
            }
        }
    }
}
