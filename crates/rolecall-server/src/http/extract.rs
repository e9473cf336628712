//! Request extractors: who is asking ([`Auth`]), from where ([`Source`]),
//! and a JSON body whose errors name the wrong field ([`Body`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use rolecall_store::SessionRow;

use crate::accounts::signin;
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::tokens;

/// The authenticated principal: from `Authorization: Bearer <token>`
/// (host applications), or from the console's session cookie (a fully
/// signed-in session; a request that changes something must also carry the
/// session's CSRF token in `X-CSRF-Token`).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            if cookie(parts, signin::COOKIE).is_some() {
                let SessionAuth(session) =
                    <SessionAuth as FromRequestParts<AppState>>::from_request_parts(parts, &state)
                        .await?;
                return signin::principal_of(&session).map(Auth);
            }
            return Err(ServiceError::Unauthenticated(
                "send `Authorization: Bearer <token>` (create one with `rolecall init` or \
                 `rolecall token create`), or sign in (POST /v1/sign-in)"
                    .to_owned(),
            ));
        };
        let header = header.to_str().map_err(|_| {
            ServiceError::Unauthenticated("the Authorization header is not text".to_owned())
        })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                ServiceError::Unauthenticated("use the Bearer authorization scheme".to_owned())
            })?
            .trim();
        let live = state.service.live();
        tokens::authenticate(&live, token).map(Auth)
    }
}

/// The value of one cookie of the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The console session the cookie names, in whatever stage of signing in
/// it is (for the account endpoints: changing the password, MFA).
#[derive(Debug, Clone)]
pub struct SessionAuth(pub SessionRow);

impl<S> FromRequestParts<S> for SessionAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let secret = cookie(parts, signin::COOKIE)
            .ok_or_else(|| {
                ServiceError::Unauthenticated("sign in first (POST /v1/sign-in)".to_owned())
            })?
            .to_owned();
        let Source(address) = Source::from_request_parts(parts, &state)
            .await
            .unwrap_or_else(|never| match never {});
        let csrf = parts
            .headers
            .get(signin::CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        let changes = !signin::is_safe_method(&parts.method);
        signin::session_from_cookie(&state.service, &secret, &address, csrf, changes)
            .await
            .map(SessionAuth)
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone)]
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Source(address))
    }
}

/// A JSON body. A malformed one is a 422 naming the field
/// (`updates[2].roles`), a 415 when it is not JSON at all, a 413 when it is
/// larger than [`MAX_BODY`].
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

/// The largest body accepted (a batch of 10,000 checks fits).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The bytes of a JSON body: 415 unless it says it is JSON, 413 when it is
/// larger than [`MAX_BODY`].
pub async fn json_bytes<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, ServiceError> {
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ServiceError::UnsupportedMediaType(
            "send JSON with `Content-Type: application/json`".to_owned(),
        ));
    }
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ServiceError::TooLarge(MAX_BODY)
            } else {
                ServiceError::invalid("body", e.body_text())
            }
        })
}

/// Parses JSON, borrowing strings from `bytes` where the type lets it; a
/// bad body is a 422 naming the field.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ServiceError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // A missing field is reported at its parent; name the field.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (parent, None) => parent.to_owned(),
        };
        // serde_json appends " at line L column C"; keep it, it helps.
        ServiceError::Invalid {
            fields: vec![FieldError::new(field, message)],
        }
    })
}

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Body(parse_json(&json_bytes(request, state).await?)?))
    }
}
