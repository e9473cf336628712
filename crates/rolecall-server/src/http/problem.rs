//! Errors as `application/problem+json` (RFC 9457), with a stable `type`
//! and, for bad input, every wrong field named.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use rolecall_store::StoreError;

use crate::error::{FieldError, ServiceError};

/// A problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g.
    /// `https://rolecall.dev/problems/invalid`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, human-readable summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// For bad input: every wrong field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

const BASE: &str = "https://rolecall.dev/problems/";

/// The challenge every 401 carries (RFC 9110 §11.6.1): the API takes bearer
/// tokens.
pub const CHALLENGE: &str = "Bearer realm=\"rolecall\"";
/// The challenge of a 401 for a bearer token that was given and does not
/// work (RFC 6750 §3.1).
pub const INVALID_TOKEN_CHALLENGE: &str = "Bearer realm=\"rolecall\", error=\"invalid_token\"";

/// When to retry after a full disk: someone has to free space first.
const RETRY_FULL_SECS: u64 = 30;
/// When to retry while the database is unreachable: a restart or a
/// fail-over takes seconds.
const RETRY_UNAVAILABLE_SECS: u64 = 2;

impl ServiceError {
    /// The status, the problem type's last segment and its title.
    pub fn status(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ServiceError::Unauthenticated(_) | ServiceError::InvalidToken(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ServiceError::ReauthenticationRequired { .. } => (
                StatusCode::FORBIDDEN,
                "reauthentication-required",
                "Password needed again",
            ),
            ServiceError::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
            ),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ServiceError::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request is invalid",
            ),
            ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ServiceError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ServiceError::TooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Body too large")
            }
            ServiceError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ServiceError::Stale => (
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "Changed by someone else",
            ),
            ServiceError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "if-match-required",
                "If-Match required",
            ),
            ServiceError::RevisionNotReached { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "revision-not-reached",
                "Revision not reached yet",
            ),
            ServiceError::Store(StoreError::Full(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database-full",
                "The database is full",
            ),
            ServiceError::Store(StoreError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "The database is unavailable",
            ),
            ServiceError::Store(
                StoreError::UnsupportedUrl(_)
                | StoreError::Sql(_)
                | StoreError::Migrate(_)
                | StoreError::Corrupt(_)
                | StoreError::Conflict(_)
                | StoreError::Behind { .. }
                | StoreError::NoAuditKey
                | StoreError::WrongAuditKey
                | StoreError::Damaged(_)
                | StoreError::NotSealed
                | StoreError::Missing(_),
            ) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.status();
        let detail = match self.storage_message() {
            Some(message) => message.to_owned(),
            None => self.to_string(),
        };
        let retry_after = match &self {
            ServiceError::TooManyAttempts { retry_after, .. } => Some(*retry_after),
            ServiceError::Store(StoreError::Full(_)) => Some(RETRY_FULL_SECS),
            ServiceError::Store(StoreError::Unavailable(_)) => Some(RETRY_UNAVAILABLE_SECS),
            _ => None,
        };
        let challenge = match &self {
            ServiceError::Unauthenticated(_) => Some(CHALLENGE),
            ServiceError::InvalidToken(_) => Some(INVALID_TOKEN_CHALLENGE),
            _ => None,
        };
        let errors = match self {
            ServiceError::Invalid { fields } => fields,
            _ => Vec::new(),
        };
        let mut response = problem_response(status, kind, title, detail, errors);
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

/// Builds a problem response.
pub fn problem_response(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: String,
    errors: Vec<FieldError>,
) -> Response {
    let body = Problem {
        kind: format!("{BASE}{kind}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
