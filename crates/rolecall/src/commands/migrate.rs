//! `rolecall migrate`: one-off data migrations.

use std::io::{self, Write};

use rolecall_server::ops::migrate::{self, MigrationChange, MigrationReport};
use rolecall_server::Principal;

use super::{block_on, open_service, print_notes, Access};
use crate::cli::Database;
use crate::{EXIT_INVALID, EXIT_OK};

/// The audit log's `source` of migrations.
const SOURCE: &str = "cli migrate";

/// `migrate analytics-access`: gives every existing admin Analytics Access
/// (see `rolecall_server::ops::migrate`). Prints one line per membership
/// changed (or, with `dry_run`, to change) and per admin skipped. Exit 2
/// when the database cannot be read or the write is refused.
pub fn analytics_access(
    db: &Database,
    dry_run: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let mut notes = Vec::new();
    let report = block_on(async {
        let opened = open_service(db, Access::Write).await?;
        notes = opened.notes;
        let service = opened.service;
        migrate::analytics_access(&service, &Principal::Cli, SOURCE, dry_run)
            .await
            .map_err(|e| e.to_string())
    })?;
    print_notes(err, &notes)?;
    let report = match report {
        Ok(report) => report,
        Err(message) => {
            writeln!(err, "rolecall migrate analytics-access: {message}")?;
            return Ok(EXIT_INVALID);
        }
    };
    print_report(out, &report, dry_run)?;
    Ok(EXIT_OK)
}

fn print_report(out: &mut dyn Write, report: &MigrationReport, dry_run: bool) -> io::Result<()> {
    let verb = if dry_run { "would grant" } else { "granted" };
    for change in &report.changes {
        writeln!(out, "{}", change_line(change, verb))?;
    }
    for skip in &report.skipped {
        writeln!(out, "{} {}: skipped, {}", skip.user, skip.org, skip.reason)?;
    }
    let users = report.users();
    let noun = if users == 1 { "user" } else { "users" };
    match report.revision {
        Some(revision) => writeln!(out, "changed {users} {noun}; revision {revision}"),
        None if dry_run && users > 0 => {
            writeln!(out, "{users} {noun} to change (dry run: nothing written)")
        }
        None => writeln!(out, "{users} {noun} to change"),
    }
}

fn change_line(change: &MigrationChange, verb: &str) -> String {
    let roles: String = change
        .roles_added
        .iter()
        .map(|r| format!(" (+ role {r})"))
        .collect();
    format!(
        "{} {}: {verb} {}{roles}",
        change.user,
        change.org,
        migrate::ANALYTICS_ACCESS
    )
}
