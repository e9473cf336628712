//! Where the audit key comes from, and creating it for a new database.
//!
//! In order: `--audit-key FILE` (or `ROLECALL_AUDIT_KEY_FILE`), else
//! `ROLECALL_AUDIT_KEY` (the key itself, 64 hexadecimal digits), else the
//! default file: `<database file>.audit-key` beside a SQLite database,
//! `rolecall-audit.key` in the current directory for PostgreSQL (which
//! has no file to sit beside). Giving both a file and the variable is
//! refused, so it is never unclear which key is in use.
//!
//! The key itself is never printed; messages name only where it is.

use std::path::{Path, PathBuf};

use rolecall_store::store::normalize_url;
use rolecall_store::{AuditKey, Backend, SealState, Store};

use crate::cli::Database;

/// The environment variable that may hold the key itself, in hex.
pub(crate) const KEY_VARIABLE: &str = "ROLECALL_AUDIT_KEY";

/// The file PostgreSQL databases use when no key is named.
const POSTGRES_KEY_FILE: &str = "rolecall-audit.key";

/// Where the key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// In a file (which may not exist yet).
    File(PathBuf),
    /// In [`KEY_VARIABLE`].
    Variable,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "`{}`", path.display()),
            Location::Variable => write!(f, "`{KEY_VARIABLE}`"),
        }
    }
}

/// Where `db`'s key is, as the options and the environment say.
pub(crate) fn location(db: &Database) -> Result<Location, String> {
    let variable = std::env::var_os(KEY_VARIABLE).is_some_and(|v| !v.is_empty());
    match (&db.audit_key, variable) {
        (Some(_), true) => Err(format!(
            "both `--audit-key` (or `ROLECALL_AUDIT_KEY_FILE`) and `{KEY_VARIABLE}` are set: \
             give the audit key one way"
        )),
        (Some(path), false) => Ok(Location::File(path.clone())),
        (None, true) => Ok(Location::Variable),
        (None, false) => default_file(&db.url).map(Location::File),
    }
}

/// The key file used when none is named.
fn default_file(url: &str) -> Result<PathBuf, String> {
    let (backend, normalized) = normalize_url(url).map_err(|e| e.to_string())?;
    Ok(match backend {
        Backend::Sqlite => {
            let path = normalized.strip_prefix("sqlite://").unwrap_or(&normalized);
            let path = path.split_once('?').map_or(path, |(path, _)| path);
            PathBuf::from(format!("{path}.audit-key"))
        }
        Backend::Postgres => PathBuf::from(POSTGRES_KEY_FILE),
    })
}

/// Reads the key; `None` when it is to be in a file that does not exist.
pub(crate) fn read(location: &Location) -> Result<Option<AuditKey>, String> {
    match location {
        Location::Variable => {
            let text = std::env::var(KEY_VARIABLE)
                .map_err(|_| format!("`{KEY_VARIABLE}` is not valid text"))?;
            AuditKey::from_hex(&text, &format!("`{KEY_VARIABLE}`"))
                .map(Some)
                .map_err(|e| e.to_string())
        }
        Location::File(path) if !path.exists() => Ok(None),
        Location::File(path) => AuditKey::read_file(path)
            .map(Some)
            .map_err(|e| e.to_string()),
    }
}

/// Reads `db`'s key, or creates the key file when the database holds
/// nothing sealed yet (a new database, or one written before keys).
/// Returns the key and, when one was created, a note saying where.
pub(crate) async fn read_or_create(
    db: &Database,
    store: &Store,
) -> Result<(AuditKey, Option<String>), String> {
    let location = location(db)?;
    if let Some(key) = read(&location)? {
        return Ok((key, None));
    }
    let Location::File(path) = location else {
        return Err(format!("`{KEY_VARIABLE}` is empty"));
    };
    let state = store
        .seal_state()
        .await
        .map_err(|e| format!("cannot read the database {}: {e}", super::redact(&db.url)))?;
    if state == SealState::Sealed {
        return Err(missing(db, &path));
    }
    let key = AuditKey::create_file(&path).map_err(|e| e.to_string())?;
    Ok((key, Some(created(&path))))
}

/// The refusal when a sealed database's key is not where it should be.
pub(crate) fn missing(db: &Database, path: &Path) -> String {
    format!(
        "the database {} is sealed with an audit key, and there is none at `{}`: give it with \
         `--audit-key FILE`, `ROLECALL_AUDIT_KEY_FILE` or `{KEY_VARIABLE}`",
        super::redact(&db.url),
        path.display()
    )
}

/// What to tell the operator about a key file just created.
fn created(path: &Path) -> String {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    format!(
        "Created the audit key {} (readable by its owner only). It seals the audit log and the \
         change log, so that someone who can write the database cannot alter them unnoticed: \
         keep it apart from the database (move it to another volume or owner, or into a \
         secrets manager) and give its place with `--audit-key FILE` (or \
         `ROLECALL_AUDIT_KEY_FILE`, or the key itself in `{KEY_VARIABLE}`). Back it up: \
         without it the audit log cannot be verified, and rolecall writes nothing.",
        shown.display()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_default_key_sits_beside_a_sqlite_file_and_in_the_current_directory_otherwise() {
        assert_eq!(
            default_file("sqlite://data/rolecall.db").unwrap(),
            PathBuf::from("data/rolecall.db.audit-key")
        );
        assert_eq!(
            default_file("rolecall.db").unwrap(),
            PathBuf::from("rolecall.db.audit-key")
        );
        assert_eq!(
            default_file("postgres://u@h/db").unwrap(),
            PathBuf::from("rolecall-audit.key")
        );
    }
}
