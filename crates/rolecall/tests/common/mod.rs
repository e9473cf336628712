//! What the command-line test binaries share: running `rolecall` through the
//! library entry point and capturing what it printed.

use clap::Parser;
use rolecall::cli::Cli;

/// What a run printed, and its exit code.
pub struct Output {
    /// The exit code.
    pub code: u8,
    /// Standard output.
    pub out: String,
    /// Standard error.
    pub err: String,
}

/// Runs `rolecall ARGS...` in this process.
pub fn rolecall(args: &[&str]) -> Output {
    let cli = Cli::try_parse_from(std::iter::once("rolecall").chain(args.iter().copied())).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = rolecall::run(cli, &mut out, &mut err);
    Output {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}
