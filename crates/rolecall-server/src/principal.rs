//! Who is asking: the identity behind a request, established once at the
//! edge (a bearer token, or the local command line).

/// The identity a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An operator token: runs the installation, may do everything.
    Operator {
        /// The token's public id.
        token: String,
    },
    /// The local command line, run by whoever can open the database file or
    /// server: an operator.
    Cli,
    /// A user, acting in one organization (and what it reaches).
    User {
        /// The user's id.
        user: String,
        /// The organization the credentials were issued for.
        org: String,
        /// The credentials presented.
        via: Via,
    },
    /// rolecall itself: the sweep that removes roles and grants when they
    /// end.
    System,
}

/// The credentials a user acts through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// An API token (its public id).
    Token(String),
    /// A console session.
    Session {
        /// The session's public id.
        id: String,
        /// When the user last gave their password (ms since the epoch).
        authenticated_at: i64,
    },
    /// Called in-process (tests, tools), with no credentials.
    Direct,
}

impl Principal {
    /// How the audit log names this actor: `user:<id>`, `operator:<token
    /// id>` or `cli`. A user is named the same whichever credentials they
    /// used, so the log can be filtered by person; the token goes into the
    /// record's source (see [`Principal::source`]).
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator { token } => format!("operator:{token}"),
            Principal::Cli => "cli".to_owned(),
            Principal::User { user, .. } => format!("user:{user}"),
            Principal::System => "system".to_owned(),
        }
    }

    /// Where a request came from, for the audit log: the address, and the
    /// API token a user acted through.
    pub fn source(&self, address: &str) -> String {
        match self {
            Principal::User {
                via: Via::Token(token),
                ..
            } => format!("{address} token:{token}"),
            Principal::User {
                via: Via::Session { id, .. },
                ..
            } => format!("{address} session:{id}"),
            _ => address.to_owned(),
        }
    }

    /// Whether this actor runs the installation.
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Principal::Operator { .. } | Principal::Cli | Principal::System
        )
    }

    /// The acting user, if a user acts.
    pub fn user(&self) -> Option<&str> {
        match self {
            Principal::User { user, .. } => Some(user),
            _ => None,
        }
    }
}
