//! The service's one error type. Every variant is mapped to an HTTP status
//! on purpose in [`crate::http::problem`]; the CLI prints the message.

use rolecall_store::StoreError;

/// One wrong field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, as a path into the request body: `roles[1]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A problem with one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What can go wrong serving a request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No credentials, or credentials that do not work.
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    /// A bearer token was given and does not work (unknown, revoked,
    /// expired, or its user lost their access): RFC 6750's `invalid_token`.
    #[error("authentication required: {0}")]
    InvalidToken(String),
    /// A sensitive action, and the user gave their password too long ago:
    /// they must give it again (`POST /v1/session/reauthenticate`).
    #[error("this action needs your password again: your last sign-in was more than {minutes} minutes ago")]
    ReauthenticationRequired {
        /// The organization's re-authentication window.
        minutes: u32,
    },
    /// Too many failed attempts from this address or for this account.
    #[error("{message}")]
    TooManyAttempts {
        /// What is throttled and until when.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The actor may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The thing does not exist, or is not the actor's to see.
    #[error("{0} not found")]
    NotFound(String),
    /// The request is wrong; nothing was changed.
    #[error("invalid request: {}", fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Every wrong field.
        fields: Vec<FieldError>,
    },
    /// The body is not JSON (`Content-Type` names something else).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the API accepts.
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// The path exists, the method does not.
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// The request conflicts with the current state (an id taken, the last
    /// administrator).
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` names an older version.
    #[error("the user was changed by someone else since it was read; read it again")]
    Stale,
    /// An update of a user's access came without `If-Match`.
    #[error("this update needs an `If-Match` header with the ETag from reading the user")]
    PreconditionRequired,
    /// This replica did not reach the requested revision in time.
    #[error("revision {wanted} not reached (this replica is at {at}); try again")]
    RevisionNotReached {
        /// What the client asked for.
        wanted: i64,
        /// Where this replica is.
        at: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person is told when the database is full.
pub const FULL_MESSAGE: &str =
    "the database is full: nothing was saved; try again once the server has disk space";
/// What a person is told when the database is unavailable.
pub const UNAVAILABLE_MESSAGE: &str =
    "the database is unavailable: nothing was saved; try again shortly";
/// What a person is told of any other storage failure.
pub const INTERNAL_MESSAGE: &str = "the server failed; the error is in its log";

impl ServiceError {
    /// For a storage failure, what the person asking is told: that
    /// nothing was saved and when to try again, never the cause, which is
    /// logged here.
    pub fn storage_message(&self) -> Option<&'static str> {
        let ServiceError::Store(cause) = self else {
            return None;
        };
        tracing::error!(error = %cause, "request failed in the database");
        Some(match cause {
            StoreError::Full(_) => FULL_MESSAGE,
            StoreError::Unavailable(_) => UNAVAILABLE_MESSAGE,
            _ => INTERNAL_MESSAGE,
        })
    }

    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid {
            fields: vec![FieldError::new(field, message)],
        }
    }
}
