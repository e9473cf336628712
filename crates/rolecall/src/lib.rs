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

use std::io::Write;

use cli::{CatalogCommand, Cli, Command};

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
    };
    // A closed pipe (`rolecall catalog show | head`) is not an error worth reporting.
    result.unwrap_or(EXIT_OK)
}
