//! `rolecall token`

use std::io::{self, Write};

/// Which kind of token to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An operator token.
    Operator,
    /// A token acting as a user in an organization.
    User {
        /// The organization.
        org: String,
        /// The user.
        user: String,
    },
    /// Neither was asked for.
    Missing,
}

impl Target {
    /// From the command's flags (clap has checked they go together).
    pub fn from_flags(operator: bool, org: Option<String>, user: Option<String>) -> Target {
        match (operator, org, user) {
            (true, _, _) => Target::Operator,
            (false, Some(org), Some(user)) => Target::User { org, user },
            _ => Target::Missing,
        }
    }
}

/// Not yet written.
pub fn create(
    _url: &str,
    _target: Target,
    _name: &str,
    _expires_in_days: Option<u32>,
    _json: bool,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> io::Result<u8> {
    Ok(crate::EXIT_INVALID)
}
