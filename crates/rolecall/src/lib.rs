//! The `rolecall` command line, as a library so tests call it directly.
//!
//! - [`cli`]: the arguments (clap).
//! - `commands::policy_test`: `rolecall test FILE...`.
//! - `commands::catalog`: `rolecall catalog show|validate`.
//!
//! Every command writes to the writers it is given and returns the process
//! exit code: 0 success, 1 a policy test failed, 2 bad input.

pub mod cli;
mod commands;

/// The HTTP API on a bound listener until a shutdown future resolves: what
/// `rolecall serve` runs, for tests and embedders.
pub use commands::serve::serve;

use std::io::Write;

use cli::{
    AuditCommand, CatalogCommand, Cli, Command, ExportCommand, ImportCommand, MigrateCommand,
    TokenCommand,
};

/// Exit code: everything worked.
pub const EXIT_OK: u8 = 0;
/// Exit code: a policy test expectation failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: a file or argument is invalid.
pub const EXIT_INVALID: u8 = 2;

/// Runs one command; returns the exit code.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let result = match cli.command {
        Command::Test { files, verbose } => commands::policy_test::run(&files, verbose, out, err),
        Command::Catalog {
            command: CatalogCommand::Show { json, file },
        } => commands::catalog::show(file.as_deref(), json, out, err),
        Command::Catalog {
            command: CatalogCommand::Validate { file },
        } => commands::catalog::validate(&file, out, err),
        Command::Init { db, json } => commands::init::run(&db, json, out, err),
        Command::Serve {
            db,
            listen,
            demo,
            public_url,
            allow_broken_audit,
        } => commands::serve::run(
            &db,
            &commands::serve::Options {
                listen: &listen,
                demo,
                public_url: public_url.as_deref(),
                allow_broken_audit,
            },
            out,
            err,
        ),
        Command::Check {
            db,
            user,
            permission,
            org,
            owner,
            json,
        } => commands::check::run(
            &db,
            &user,
            &permission,
            &org,
            owner.as_deref(),
            json,
            out,
            err,
        ),
        Command::Import {
            command: ImportCommand::Users { db, file },
        } => commands::import::users(&db, &file, out, err),
        Command::Export {
            command: ExportCommand::Users { db, org },
        } => commands::export::users(&db, org.as_deref(), out, err),
        Command::Token {
            command:
                TokenCommand::Create {
                    db,
                    operator,
                    org,
                    user,
                    name,
                    expires_in_days,
                    json,
                },
        } => commands::token::create(
            &db,
            commands::token::Target::from_flags(operator, org, user),
            &name,
            expires_in_days,
            json,
            out,
            err,
        ),
        Command::Token {
            command:
                TokenCommand::List {
                    db,
                    org,
                    user,
                    json,
                },
        } => commands::token::list(&db, org, user, json, out, err),
        Command::Token {
            command: TokenCommand::Revoke { db, id },
        } => commands::token::revoke(&db, &id, out, err),
        Command::Migrate {
            command: MigrateCommand::AnalyticsAccess { db, dry_run },
        } => commands::migrate::analytics_access(&db, dry_run, out, err),
        Command::Audit {
            command: AuditCommand::Verify { db, checkpoints },
        } => commands::audit::verify(&db, &checkpoints, out, err),
        Command::Audit {
            command: AuditCommand::Checkpoint { db, out: file },
        } => commands::audit::checkpoint(&db, file.as_deref(), out, err),
    };
    // A closed pipe (`rolecall catalog show | head`) is not an error worth reporting.
    result.unwrap_or(EXIT_OK)
}
