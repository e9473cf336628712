//! The `rolecall` command: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = rolecall::cli::Cli::parse();
    // Not locked for the whole run: `serve` logs from other threads.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    ExitCode::from(rolecall::run(cli, &mut out, &mut err))
}
