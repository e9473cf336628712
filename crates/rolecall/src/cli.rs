//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// rolecall: who may do what, where, and why.
#[derive(Debug, Parser)]
#[command(name = "rolecall", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run policy test files: a catalog, a world and expected decisions.
    ///
    /// Prints one line per failed expectation with its explanation and ends
    /// with `N passed, M failed`. Exits 1 when an expectation failed, 2 when
    /// a file is invalid.
    Test {
        /// Policy test files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print every passing check with its explanation.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Show or validate a catalog.
    Catalog {
        /// What to do with it.
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Prepare an empty database and print the first operator token.
    Init {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// Print `{"operator_token": ...}` instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the HTTP API.
    Serve {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load demo organizations and users (into an empty database) and
        /// print their ids and a token to try the API with.
        #[arg(long)]
        demo: bool,
        /// Where people reach rolecall, for the links in emails (reset
        /// links, sign-in); session cookies are `Secure` when it is https.
        /// Default: `http://` and the listen address.
        #[arg(long, env = "ROLECALL_PUBLIC_URL")]
        public_url: Option<String>,
        /// Start even when the newest audit records or changes fail
        /// verification (logged as errors, with a loud warning). Without
        /// it, a damaged audit log stops the start.
        #[arg(long)]
        allow_broken_audit: bool,
    },
    /// Ask the database's current state: may USER do PERMISSION in ORG?
    Check {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// The user.
        #[arg(long)]
        user: String,
        /// The permission, e.g. `web.manage_charge_entries`.
        #[arg(long)]
        permission: String,
        /// The organization.
        #[arg(long)]
        org: String,
        /// The owner of the resource, if it has one.
        #[arg(long)]
        owner: Option<String>,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import from a CSV file, all or nothing.
    Import {
        /// What to import.
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export as CSV.
    Export {
        /// What to export.
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Manage API tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// One-off data migrations.
    Migrate {
        /// Which migration.
        #[command(subcommand)]
        command: MigrateCommand,
    },
    /// Read and verify the audit log.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// The database option every stateful command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Database {
    /// The database: a SQLite file path or `sqlite://PATH` (the default), or
    /// a `postgres://` URL.
    #[arg(
        long = "database",
        env = "ROLECALL_DATABASE_URL",
        default_value = "sqlite://rolecall.db"
    )]
    pub url: String,
    /// The audit key file (64 hexadecimal digits), kept apart from the
    /// database. Default: `<database file>.audit-key` beside a SQLite
    /// database, `rolecall-audit.key` in the current directory for
    /// PostgreSQL; created there for a new database. `ROLECALL_AUDIT_KEY`
    /// may hold the key itself (hex) instead.
    #[arg(
        long = "audit-key",
        env = "ROLECALL_AUDIT_KEY_FILE",
        value_name = "FILE"
    )]
    pub audit_key: Option<PathBuf>,
}

/// `rolecall import ...`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import employees and users from a CSV file (see `export users` for
    /// the columns). One bad row reports its line and changes nothing.
    Users {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// The CSV file.
        file: PathBuf,
    },
}

/// `rolecall export ...`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export users with their employee and access, one row per membership.
    Users {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// Only this organization's users.
        #[arg(long)]
        org: Option<String>,
    },
}

/// `rolecall token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (it is shown only once).
    Create {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// An operator token, which may do everything.
        #[arg(long, conflicts_with_all = ["org", "user"])]
        operator: bool,
        /// The organization a user token acts in.
        #[arg(long, requires = "user")]
        org: Option<String>,
        /// The user a token acts as.
        #[arg(long, requires = "org")]
        user: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
        /// Days until it expires; never when absent.
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List API tokens (never their secrets), oldest first.
    List {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// Only the tokens acting in this organization.
        #[arg(long)]
        org: Option<String>,
        /// Only the tokens acting as this user.
        #[arg(long)]
        user: Option<String>,
        /// Print JSON: an array of tokens.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one API token: it stops working at once. Revoking a revoked
    /// token changes nothing.
    Revoke {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// The token's public id (`tok-...`), as `token list` shows it.
        id: String,
    },
}

/// `rolecall migrate ...`
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Analytics 2.0: give every existing admin the Analytics Access
    /// permission. Safe to run twice.
    AnalyticsAccess {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// List who would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `rolecall audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log and the change log with the audit key, and the
    /// state tables against the change log; exit 1 naming every record
    /// edited, inserted, reordered or deleted, every head moved, every
    /// checkpoint no longer contained and every row that differs, 2 when
    /// the database or the key cannot be read. Opens the database
    /// read-only.
    Verify {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// A file of checkpoints (`rolecall audit checkpoint`): the
        /// database must still hold each checkpointed head. May be given
        /// more than once.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
    },
    /// Write the signed heads of the audit log and the change log as one
    /// JSON line, to keep outside the database (a log shipper, another
    /// host); `audit verify --checkpoint` then catches the newest records
    /// deleted and the heads moved back.
    Checkpoint {
        /// Where the data lives.
        #[command(flatten)]
        db: Database,
        /// Append the line to this file instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `rolecall catalog ...`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Print a catalog: applications, modules, permissions and the role matrix.
    Show {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// A catalog file; the shipped default catalog when absent.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Check a catalog file; prints every problem with its line and field.
    Validate {
        /// The catalog file (TOML).
        file: PathBuf,
    },
}
