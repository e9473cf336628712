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

/// The audit key the commands use for the SQLite database at `database`:
/// the file beside it, created as `rolecall init` would when missing.
#[allow(dead_code, reason = "not every test binary opens a database itself")]
pub fn audit_key(database: &str) -> rolecall_store::AuditKey {
    let path = std::path::PathBuf::from(format!("{database}.audit-key"));
    if path.exists() {
        rolecall_store::AuditKey::read_file(&path).unwrap()
    } else {
        rolecall_store::AuditKey::create_file(&path).unwrap()
    }
}
