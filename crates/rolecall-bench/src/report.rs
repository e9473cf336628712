//! The printed table.

use std::fmt;
use std::time::Duration;

use crate::run::{Report, Row};

const MIB: f64 = 1024.0 * 1024.0;

/// A duration in the unit that reads best.
fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 10.0 {
        format!("{secs:.1} s")
    } else if secs >= 1.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.1} ms", secs * 1e3)
    }
}

/// Nanoseconds with three significant-ish digits.
fn nanos(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{ns:.0}")
    } else if ns >= 10.0 {
        format!("{ns:.1}")
    } else {
        format!("{ns:.2}")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / MIB)
}

/// A cell of the build columns: "shared" for an engine without a
/// structure of its own, "-" when not measured.
fn shared_or(value: Option<String>, row: &Row) -> String {
    match (value, row.kind) {
        (Some(value), _) => value,
        (None, None) => "shared".to_owned(),
        (None, Some(_)) => "-".to_owned(),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = self.settings.size;
        let Some(reference) = self.rows.first() else {
            return writeln!(f, "no engine ran");
        };
        writeln!(
            f,
            "workload: web matrix of the default catalog, {} users, {} organizations, {} checks \
             (80% in the user's own organization), generated in {}",
            size.users,
            size.orgs,
            size.checks,
            duration(self.workload_time)
        )?;
        writeln!(
            f,
            "allowed: {} of {} checks ({:.1}%)",
            reference.allowed,
            reference.checks,
            100.0 * reference.allowed as f64 / reference.checks.max(1) as f64
        )?;
        writeln!(f)?;
        let header = [
            "engine",
            "checks timed",
            "passes",
            "set-up",
            "ns/check (median)",
            "build: RSS kept (MiB)",
            "build: peak RSS rise (MiB)",
            "x rolecall (string ids)",
            "allowed (checksum)",
        ];
        let cells: Vec<[String; 9]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.engine.to_owned(),
                    row.checks.to_string(),
                    row.passes.to_string(),
                    shared_or(row.setup.map(duration), row),
                    nanos(row.ns_per_check),
                    shared_or(row.memory.map(|m| mib(m.kept)), row),
                    shared_or(row.memory.map(|m| mib(m.peak_rise)), row),
                    format!("{:.2}x", row.ns_per_check / reference.ns_per_check),
                    row.allowed.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            write!(f, "|")?;
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if i == 0 {
                    write!(f, " {cell:<width$} |")?;
                } else {
                    write!(f, " {cell:>width$} |")?;
                }
            }
            writeln!(f)
        };
        line(f, &header.map(str::to_owned))?;
        line(f, &widths.map(|w| "-".repeat(w)))?;
        for row in &cells {
            line(f, row)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "verified: every engine gave rolecall's decision on each check it ran \
             ({} checks compared)",
            self.verified
        )?;
        for row in self.rows.iter().filter(|r| r.checks < reference.checks) {
            writeln!(
                f,
                "note: {} is timed on the first {} checks only (it is too slow for all {}); \
                 its decisions are verified on that subset",
                row.engine, row.checks, reference.checks
            )?;
        }
        writeln!(
            f,
            "note: set-up is building the engine from the workload; \"shared\" means the \
             engine uses rolecall's snapshot (resolving the keys of all checks took {})",
            self.rows
                .iter()
                .find(|r| r.setup.is_none())
                .map_or_else(|| "-".to_owned(), |r| duration(r.prepare))
        )?;
        writeln!(
            f,
            "note: memory is measured per engine in a fresh child process that first \
             generates the workload (without checks), then builds the engine: \"RSS kept\" is \
             VmRSS after the build minus before it, with the engine alive; \"peak RSS rise\" \
             is the rise of VmHWM during the build (temporaries included). Both count \
             allocator slack. rolecall's figures include its validated world and the \
             catalog; its compiled check structures alone are {} MiB by its own count",
            mib(self.rolecall_compiled_bytes as u64)
        )?;
        writeln!(
            f,
            "note: Cedar builds a Request from the string ids per check; the HashMap design \
             allocates its (String, String) key per check"
        )?;
        if let Some(peak) = self.peak_rss {
            writeln!(
                f,
                "peak resident memory of the run (VmHWM): {} MiB",
                mib(peak)
            )?;
        }
        Ok(())
    }
}
