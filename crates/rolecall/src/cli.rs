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
