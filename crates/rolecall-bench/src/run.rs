//! The harness: build each engine from the workload, record its decisions,
//! time it, and check that every engine decided every check alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::baseline::Baseline;
use crate::casbin::CasbinEngine;
use crate::cedar::CedarEngine;
use crate::engine::{Engine, Kind};
use crate::error::{BenchError, Disagreement};
use crate::hashmap::HashMapEngine;
use crate::memory::{self, BuildMemory};
use crate::rolecall::{RolecallKeys, RolecallStrings};
use crate::workload::{Check, Size, Workload};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Workload size.
    pub size: Size,
    /// Timed passes of the fast engines (rolecall, the floor, the HashMap design).
    pub passes: usize,
    /// Timed passes of Cedar and Casbin.
    pub slow_passes: usize,
    /// How many of the checks, from the first, Cedar runs.
    pub cedar_checks: usize,
    /// How many of the checks, from the first, Casbin runs.
    pub casbin_checks: usize,
}

impl Default for Settings {
    fn default() -> Self {
        let size = Size::default();
        Self {
            size,
            passes: 5,
            slow_passes: 3,
            cedar_checks: size.checks,
            casbin_checks: 50_000,
        }
    }
}

/// One engine's line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The engine.
    pub engine: &'static str,
    /// The engine's own structure; `None` when it shares another's.
    pub kind: Option<Kind>,
    /// Building the engine from the workload; `None` when it shares
    /// another engine's structure.
    pub setup: Option<Duration>,
    /// What the build adds to a fresh process; `None` until measured
    /// ([`Report::measure_memory`]), and for a shared structure.
    pub memory: Option<BuildMemory>,
    /// Preparing its queries (string ids, keys, indices), untimed in checks.
    pub prepare: Duration,
    /// Checks run, the first of the workload.
    pub checks: usize,
    /// Timed passes over them.
    pub passes: usize,
    /// Median nanoseconds per check over the passes.
    pub ns_per_check: f64,
    /// Checks allowed, the checksum every pass must reproduce.
    pub allowed: usize,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The settings it ran with.
    pub settings: Settings,
    /// Generating the workload.
    pub workload_time: Duration,
    /// One row per engine, rolecall by string ids first.
    pub rows: Vec<Row>,
    /// Checks on which every engine that ran them agreed: all of them.
    pub verified: usize,
    /// Bytes of rolecall's compiled check structures, by its own count.
    pub rolecall_compiled_bytes: usize,
    /// The process's peak resident memory.
    pub peak_rss: Option<u64>,
}

/// One engine's decisions, in workload order, for [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The engine.
    pub engine: &'static str,
    /// Its decision on each check it ran.
    pub decisions: Vec<bool>,
}

/// Runs the whole benchmark.
pub fn run(settings: &Settings) -> Result<Report, BenchError> {
    let started = Instant::now();
    let workload = Workload::web(settings.size)?;
    let workload_time = started.elapsed();
    let all = workload.checks.as_slice();
    let cedar_checks = &all[..settings.cedar_checks.min(all.len())];
    let casbin_checks = &all[..settings.casbin_checks.min(all.len())];
    let (fast, slow) = (settings.passes, settings.slow_passes);
    let mut table = Table::default();

    let (rolecall, setup) = timed(|| RolecallStrings::build(&workload))?;
    table.bench(&rolecall, &workload, all, fast)?;
    table.built(Kind::Rolecall, setup);
    let keys = RolecallKeys {
        snapshot: &rolecall.snapshot,
    };
    table.bench(&keys, &workload, all, fast)?;

    // Each peer is dropped once measured: memory is measured elsewhere, in
    // a fresh process per engine (see `memory`).
    let (baseline, setup) = timed(|| Ok(Baseline::build(&workload)))?;
    table.bench(&baseline, &workload, all, fast)?;
    table.built(Kind::Baseline, setup);
    drop(baseline);

    let (hashmap, setup) = timed(|| Ok(HashMapEngine::build(&workload)))?;
    table.bench(&hashmap, &workload, all, fast)?;
    table.built(Kind::HashMap, setup);
    drop(hashmap);

    let (cedar, setup) = timed(|| CedarEngine::build(&workload))?;
    table.bench(&cedar, &workload, cedar_checks, slow)?;
    table.built(Kind::Cedar, setup);
    drop(cedar);

    let (casbin, setup) = timed(|| CasbinEngine::build(&workload))?;
    table.bench(&casbin, &workload, casbin_checks, slow)?;
    table.built(Kind::Casbin, setup);
    drop(casbin);

    let verified = verify(&workload, &table.recorded)?;
    Ok(Report {
        settings: *settings,
        workload_time,
        rows: table.rows,
        verified,
        rolecall_compiled_bytes: rolecall.snapshot.compiled_bytes(),
        peak_rss: memory::peak_bytes(),
    })
}

/// Runs `make`, timing it.
fn timed<E>(make: impl FnOnce() -> Result<E, BenchError>) -> Result<(E, Duration), BenchError> {
    let started = Instant::now();
    let engine = make()?;
    Ok((engine, started.elapsed()))
}

impl Report {
    /// Measures each engine's build in a fresh child process running `exe`
    /// (this benchmark's binary), and fills in the memory columns.
    pub fn measure_memory(&mut self, exe: &std::path::Path) -> Result<(), BenchError> {
        for row in &mut self.rows {
            if let Some(kind) = row.kind {
                row.memory = Some(memory::measure_in_child(exe, kind, self.settings.size)?);
            }
        }
        Ok(())
    }
}

/// The rows so far, and the decisions behind them.
#[derive(Debug, Default)]
pub struct Table {
    /// One per engine benched.
    pub rows: Vec<Row>,
    /// Each engine's decisions, for [`verify`].
    pub recorded: Vec<Recorded>,
}

impl Table {
    /// Records that the engine of the last row has a structure of its own,
    /// built in `setup`.
    fn built(&mut self, kind: Kind, setup: Duration) {
        if let Some(row) = self.rows.last_mut() {
            row.kind = Some(kind);
            row.setup = Some(setup);
        }
    }

    /// Prepares an engine's queries, records its decisions (which also warms
    /// it up), then times `passes` passes and keeps the median.
    pub fn bench<E: Engine>(
        &mut self,
        engine: &E,
        workload: &Workload,
        checks: &[Check],
        passes: usize,
    ) -> Result<(), BenchError> {
        let started = Instant::now();
        let queries = engine.prepare(workload, checks)?;
        let prepare = started.elapsed();
        let decisions = queries
            .iter()
            .map(|q| engine.decide(q))
            .collect::<Result<Vec<bool>, _>>()?;
        let allowed = decisions.iter().filter(|d| **d).count();
        let mut times = Vec::with_capacity(passes);
        for _ in 0..passes.max(1) {
            let started = Instant::now();
            let mut timed_allowed = 0usize;
            for query in &queries {
                if engine.allows(black_box(query)) {
                    timed_allowed += 1;
                }
            }
            times.push(started.elapsed());
            let timed_allowed = black_box(timed_allowed);
            if timed_allowed != allowed {
                return Err(BenchError::Unstable {
                    engine: engine.name().to_owned(),
                    timed: timed_allowed,
                    recorded: allowed,
                });
            }
        }
        times.sort_unstable();
        let median = times[times.len() / 2];
        self.rows.push(Row {
            engine: engine.name(),
            kind: None,
            setup: None,
            memory: None,
            prepare,
            checks: queries.len(),
            passes: times.len(),
            ns_per_check: median.as_secs_f64() * 1e9 / queries.len().max(1) as f64,
            allowed,
        });
        self.recorded.push(Recorded {
            engine: engine.name(),
            decisions,
        });
        Ok(())
    }
}

/// Checks that every engine decided every check it ran as the first engine
/// did; returns how many checks were compared, or the first disagreement.
pub fn verify(workload: &Workload, recorded: &[Recorded]) -> Result<usize, BenchError> {
    let Some((reference, others)) = recorded.split_first() else {
        return Ok(0);
    };
    for (index, expected) in reference.decisions.iter().enumerate() {
        let agree = others
            .iter()
            .all(|o| o.decisions.get(index).is_none_or(|d| d == expected));
        if !agree {
            let ids = workload.ids(&workload.checks[index]);
            return Err(BenchError::Disagreement(Box::new(Disagreement {
                index,
                user: ids.user.to_string(),
                permission: ids.permission.to_string(),
                org: ids.org.to_string(),
                decisions: recorded
                    .iter()
                    .filter_map(|r| Some((r.engine.to_owned(), *r.decisions.get(index)?)))
                    .collect(),
            })));
        }
    }
    Ok(reference.decisions.len())
}
