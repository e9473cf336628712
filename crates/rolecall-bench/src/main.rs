//! `rolecall-bench`: times rolecall's checks against Cedar, Casbin, a
//! string-keyed HashMap design and a bitmask floor on one workload, after
//! verifying that they all decide alike.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use rolecall_bench::engine::Kind;
use rolecall_bench::{memory, BenchError, Settings, Size};

/// Benchmarks rolecall against other authorization engines on one
/// deterministic workload of the web matrix.
#[derive(Debug, Parser)]
#[command(name = "rolecall-bench", version)]
struct Args {
    /// Users, each holding one or two web roles in one organization.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Organizations, each subscribing at random to the gated web modules.
    #[arg(long, default_value_t = 1_000)]
    orgs: usize,
    /// Checks, 80% in the user's own organization.
    #[arg(long, default_value_t = 1_000_000)]
    checks: usize,
    /// Timed passes of rolecall, the floor and the HashMap design.
    #[arg(long, default_value_t = 5)]
    passes: usize,
    /// Timed passes of Cedar and Casbin.
    #[arg(long, default_value_t = 3)]
    slow_passes: usize,
    /// Checks Cedar runs, the first of the workload [default: all].
    #[arg(long)]
    cedar_checks: Option<usize>,
    /// Checks Casbin runs, the first of the workload.
    #[arg(long, default_value_t = 50_000)]
    casbin_checks: usize,
    /// Builds only this engine and prints what the build added to memory
    /// (the parent run starts one such child per engine).
    #[arg(long, hide = true, value_parser = parse_kind)]
    measure_build: Option<Kind>,
}

fn parse_kind(name: &str) -> Result<Kind, String> {
    Kind::parse(name).ok_or_else(|| format!("unknown engine `{name}`"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let size = Size {
        users: args.users,
        orgs: args.orgs,
        checks: args.checks,
    };
    let outcome = match args.measure_build {
        Some(kind) => {
            memory::measure_build(kind, size).map(|m| println!("{}", memory::child_line(m)))
        }
        None => bench(&args, size).map(|report| {
            print!("{report}");
            println!("whole run: {:.1} s", started.elapsed().as_secs_f64());
        }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Times and verifies every engine, then measures their builds' memory.
fn bench(args: &Args, size: Size) -> Result<rolecall_bench::Report, BenchError> {
    let settings = Settings {
        size,
        passes: args.passes,
        slow_passes: args.slow_passes,
        cedar_checks: args.cedar_checks.unwrap_or(args.checks),
        casbin_checks: args.casbin_checks,
    };
    let mut report = rolecall_bench::run(&settings)?;
    let exe = std::env::current_exe()
        .map_err(|e| BenchError::Memory(format!("cannot find this program: {e}")))?;
    report.measure_memory(&exe)?;
    Ok(report)
}
