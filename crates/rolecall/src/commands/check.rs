//! `rolecall check`: one decision against the database's current state,
//! with its explanation; the same function answers `POST /v1/check`.

use std::io::{self, Write};

use rolecall_server::ops::check::{self, CheckRequest, CheckResponse};
use rolecall_server::Principal;

use super::{block_on, open_service, Access};
use crate::cli::Database;
use crate::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};

/// Asks whether `user` may do `permission` in `org` (on a resource of
/// `owner`). Exit 0 when allowed, 1 when denied, 2 when the organization
/// or permission does not exist or the database cannot be read.
#[allow(clippy::too_many_arguments)]
pub fn run(
    db: &Database,
    user: &str,
    permission: &str,
    org: &str,
    owner: Option<&str>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let request = CheckRequest {
        org: org.into(),
        user: user.into(),
        permission: permission.into(),
        owner: owner.map(Into::into),
        explain: true,
        min_revision: None,
    };
    let answer = block_on(async {
        let service = open_service(db, Access::Read).await?.service;
        let live = service.live();
        check::check(&live, &Principal::Cli, &request, None).map_err(|e| e.to_string())
    })?;
    let answer = match answer {
        Ok(answer) => answer,
        Err(message) => {
            writeln!(err, "rolecall check: {message}")?;
            return Ok(EXIT_INVALID);
        }
    };
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        print_text(out, &answer)?;
    }
    Ok(if answer.allowed { EXIT_OK } else { EXIT_FAILED })
}

fn print_text(out: &mut dyn Write, answer: &CheckResponse) -> io::Result<()> {
    match (answer.allowed, answer.scope) {
        (true, Some(scope)) => writeln!(out, "allowed (scope: {})", scope.as_str())?,
        (true, None) => writeln!(out, "allowed")?,
        (false, _) => writeln!(out, "denied")?,
    }
    if let Some(reason) = &answer.reason {
        writeln!(out, "{}", reason.sentence)?;
    }
    Ok(())
}
