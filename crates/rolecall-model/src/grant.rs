//! A permission granted with a scope.

use serde::Serialize;

use crate::PermissionIx;

/// How far a grant of a scoped permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only resources the user owns (their own schedule, their own notes).
    Own,
    /// Every resource in the organization.
    All,
}

impl Scope {
    /// The lowercase name used in files and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Own => "own",
            Scope::All => "all",
        }
    }
}

/// One permission with its scope; unscoped permissions always carry [`Scope::All`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The permission granted.
    pub permission: PermissionIx,
    /// How far it reaches.
    pub scope: Scope,
}

/// Splits a written grant, `id` or `id:own` / `id:all`, into the id and the
/// scope it names, if any.
pub fn split_written(written: &str) -> Result<(&str, Option<Scope>), String> {
    match written.rsplit_once(':') {
        None => Ok((written, None)),
        Some((id, "own")) => Ok((id, Some(Scope::Own))),
        Some((id, "all")) => Ok((id, Some(Scope::All))),
        Some((_, other)) => Err(format!(
            "unknown scope `{other}` in `{written}`: write `own` or `all`"
        )),
    }
}
