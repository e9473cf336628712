//! `rolecall token create`: issues an API token and shows it once.
//! `rolecall token list` and `rolecall token revoke`: lists tokens (never
//! their secrets) and revokes one, as an operator.

use std::io::{self, Write};

use rolecall_server::tokens::{self, CreatedToken, NewToken, TokenFilter, TokenStatus, TokenView};
use rolecall_server::Principal;

use super::{block_on, open_service, print_notes, Access};
use crate::cli::Database;
use crate::{EXIT_INVALID, EXIT_OK};

/// The audit log's `source` of tokens created here.
const SOURCE: &str = "cli";

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

/// Creates an operator token or a user's token and prints it (text, or
/// `{"id": ..., "token": ...}`). Exit 2 with the reason when refused.
pub fn create(
    db: &Database,
    target: Target,
    name: &str,
    expires_in_days: Option<u32>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let refuse = |err: &mut dyn Write, message: &str| -> io::Result<u8> {
        writeln!(err, "rolecall token create: {message}")?;
        Ok(EXIT_INVALID)
    };
    match (&target, expires_in_days) {
        (Target::Missing, _) => {
            return refuse(err, "say `--operator`, or `--org ORG --user USER`");
        }
        (Target::Operator, Some(_)) => {
            return refuse(err, "`--expires-in-days` applies to user tokens only");
        }
        _ => {}
    }
    let mut notes = Vec::new();
    let created = block_on(async {
        let opened = open_service(db, Access::Write).await?;
        notes = opened.notes;
        let service = opened.service;
        let created = match target {
            Target::User { org, user } => {
                let input = NewToken {
                    org,
                    user,
                    name: name.to_owned(),
                    expires_in_days,
                };
                tokens::create_user_token(&service, &Principal::Cli, SOURCE, input).await
            }
            Target::Operator | Target::Missing => {
                tokens::create_operator(&service, &Principal::Cli, SOURCE, name, false).await
            }
        };
        created.map_err(|e| e.to_string())
    })?;
    print_notes(err, &notes)?;
    match created {
        Ok(token) => {
            print_token(out, &token, json)?;
            Ok(EXIT_OK)
        }
        Err(message) => refuse(err, &message),
    }
}

fn print_token(out: &mut dyn Write, token: &CreatedToken, json: bool) -> io::Result<()> {
    if json {
        let body = serde_json::json!({ "id": token.id, "token": token.token });
        writeln!(out, "{body}")
    } else {
        writeln!(
            out,
            "Created token `{}`. It is shown only this once; store it now:\n\n    {}",
            token.id, token.token
        )
    }
}

/// Lists the tokens, of `org` and of `user` when given, oldest first: a
/// table, or a JSON array of `GET /v1/tokens`'s items. Reads only.
pub fn list(
    db: &Database,
    org: Option<String>,
    user: Option<String>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let filter = TokenFilter { org, user };
    let listed = block_on(async {
        let service = open_service(db, Access::Read).await?.service;
        let live = service.live();
        Ok::<_, String>(tokens::list(&live, &Principal::Cli, &filter))
    })?;
    let views = match listed {
        Ok(views) => views,
        Err(message) => {
            writeln!(err, "rolecall token list: {message}")?;
            return Ok(EXIT_INVALID);
        }
    };
    if json {
        let body = serde_json::to_string(&views).map_err(io::Error::other)?;
        writeln!(out, "{body}")?;
    } else {
        print_table(out, &views)?;
    }
    Ok(EXIT_OK)
}

fn print_table(out: &mut dyn Write, views: &[TokenView]) -> io::Result<()> {
    if views.is_empty() {
        return writeln!(out, "No tokens.");
    }
    let rows: Vec<[String; 6]> = views
        .iter()
        .map(|t| {
            let acts_as = match (&t.org, &t.user) {
                (Some(org), Some(user)) => format!("{user} in {org}"),
                _ => "operator".to_owned(),
            };
            let status = match t.status {
                TokenStatus::Active => "active",
                TokenStatus::Expired => "expired",
                TokenStatus::Revoked => "revoked",
            };
            [
                t.id.clone(),
                status.to_owned(),
                acts_as,
                t.created_at.clone(),
                t.expires_at.clone().unwrap_or_else(|| "never".to_owned()),
                t.name.clone(),
            ]
        })
        .collect();
    let header = ["ID", "STATUS", "ACTS AS", "CREATED", "EXPIRES", "NAME"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// Revokes one token by its public id. Exit 2 when no token has it.
pub fn revoke(db: &Database, id: &str, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    let mut notes = Vec::new();
    let revoked = block_on(async {
        let opened = open_service(db, Access::Write).await?;
        notes = opened.notes;
        tokens::revoke(&opened.service, &Principal::Cli, SOURCE, id)
            .await
            .map_err(|e| e.to_string())
    })?;
    print_notes(err, &notes)?;
    match revoked {
        Ok(updated) => {
            writeln!(
                out,
                "Token `{id}` is revoked (revision {}).",
                updated.revision
            )?;
            Ok(EXIT_OK)
        }
        Err(message) => {
            writeln!(err, "rolecall token revoke: {message}")?;
            Ok(EXIT_INVALID)
        }
    }
}
