//! The memory each engine's build takes, as Linux reports it in
//! `/proc/self/status`.
//!
//! Measured in a fresh child process per engine: in one process, a build
//! reuses memory that an earlier one freed, and its growth reads as nothing.
//! The child generates the workload, then builds one engine; the figures are
//! what the build added to the process: resident memory kept with the engine
//! alive (`VmRSS`), and the rise of the peak (`VmHWM`) during the build. Both
//! count allocator slack and, for the peak, temporaries of the build.

use std::path::Path;
use std::process::Command;

use crate::baseline::Baseline;
use crate::casbin::CasbinEngine;
use crate::cedar::CedarEngine;
use crate::engine::Kind;
use crate::error::BenchError;
use crate::hashmap::HashMapEngine;
use crate::rolecall::RolecallStrings;
use crate::workload::{Size, Workload};

/// What building one engine added to a fresh process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildMemory {
    /// Resident bytes after the build minus before it, the engine alive.
    pub kept: u64,
    /// Peak resident bytes after the build minus before it.
    pub peak_rise: u64,
}

/// Resident memory now (`VmRSS`), in bytes; `None` off Linux.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The most resident memory so far (`VmHWM`), in bytes; `None` off Linux.
pub fn peak_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Builds one engine in this process and measures what the build added.
/// Meant for a fresh child process (see [`measure_in_child`]).
pub fn measure_build(kind: Kind, size: Size) -> Result<BuildMemory, BenchError> {
    let workload = Workload::web(size)?;
    let unknown = || BenchError::Memory("/proc/self/status is unreadable".to_owned());
    let rss = resident_bytes().ok_or_else(unknown)?;
    let peak = peak_bytes().ok_or_else(unknown)?;
    // Each engine is dropped only after the second reading.
    let measured = match kind {
        Kind::Rolecall => after(rss, peak, RolecallStrings::build(&workload)?),
        Kind::Baseline => after(rss, peak, Baseline::build(&workload)),
        Kind::HashMap => after(rss, peak, HashMapEngine::build(&workload)),
        Kind::Cedar => after(rss, peak, CedarEngine::build(&workload)?),
        Kind::Casbin => after(rss, peak, CasbinEngine::build(&workload)?),
    };
    measured.ok_or_else(unknown)
}

/// The growth since `rss` and `peak`, read while `engine` is alive.
fn after<E>(rss: u64, peak: u64, engine: E) -> Option<BuildMemory> {
    let measured = BuildMemory {
        kept: resident_bytes()?.saturating_sub(rss),
        peak_rise: peak_bytes()?.saturating_sub(peak),
    };
    drop(engine);
    Some(measured)
}

/// The line a child prints for its parent.
pub fn child_line(memory: BuildMemory) -> String {
    format!("kept={} peak_rise={}", memory.kept, memory.peak_rise)
}

/// Runs `exe --measure-build KIND --users .. --orgs ..` and reads its
/// [`child_line`].
pub fn measure_in_child(exe: &Path, kind: Kind, size: Size) -> Result<BuildMemory, BenchError> {
    let output = Command::new(exe)
        .arg("--measure-build")
        .arg(kind.as_str())
        .arg("--users")
        .arg(size.users.to_string())
        .arg("--orgs")
        .arg(size.orgs.to_string())
        .arg("--checks")
        .arg("0")
        .output()
        .map_err(|e| BenchError::Memory(format!("cannot run `{}`: {e}", exe.display())))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        stdout
            .split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.parse::<u64>().ok())
    };
    match (output.status.success(), field("kept="), field("peak_rise=")) {
        (true, Some(kept), Some(peak_rise)) => Ok(BuildMemory { kept, peak_rise }),
        _ => Err(BenchError::Memory(format!(
            "measuring {} failed: {}",
            kind.as_str(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
    }
}
