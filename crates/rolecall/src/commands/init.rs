//! `rolecall init`: prepares the database and prints the first operator
//! token, the credential everything else is set up with, and creates the
//! audit key when there is none (saying where it is).

use std::io::{self, Write};

use rolecall_server::{tokens, ServiceError};

use super::{block_on, open_service, print_notes, Access};
use crate::cli::Database;
use crate::{EXIT_INVALID, EXIT_OK};

/// The address the printed example calls: `serve`'s default.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Opens (and migrates) the database, creates the audit key if there is
/// none, and creates the first operator token. An initialized database is
/// refused and left unchanged.
pub fn run(db: &Database, json: bool, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    let mut notes = Vec::new();
    let created = block_on(async {
        let opened = open_service(db, Access::Write).await?;
        notes = opened.notes;
        let service = opened.service;
        tokens::init_operator(&service, "cli")
            .await
            .map_err(|e| match e {
                // The conflict's message says what to do instead.
                ServiceError::Conflict(message) => message,
                other => other.to_string(),
            })
    })?;
    match created {
        Ok(token) if json => {
            // Standard output stays one JSON object for scripts.
            print_notes(err, &notes)?;
            let body = serde_json::json!({ "operator_token": token.token });
            writeln!(out, "{body}")?;
            Ok(EXIT_OK)
        }
        Ok(token) => {
            print_operator_token(out, &token.token, DEFAULT_URL)?;
            print_notes(out, &notes)?;
            Ok(EXIT_OK)
        }
        Err(message) => {
            print_notes(err, &notes)?;
            writeln!(err, "rolecall init: {message}")?;
            Ok(EXIT_INVALID)
        }
    }
}

/// Prints a new operator token: what it is, that it is shown once, and how
/// to use it against the API at `base`.
pub(crate) fn print_operator_token(out: &mut dyn Write, token: &str, base: &str) -> io::Result<()> {
    writeln!(
        out,
        "Operator token (may do everything; shown only this once, store it now):\n\
         \n    {token}\n\
         \nUse it as a bearer token, for example:\n\
         \n    curl -H \"Authorization: Bearer {token}\" {base}/v1/orgs\n"
    )
}
