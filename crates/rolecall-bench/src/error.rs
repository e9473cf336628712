//! What can stop a benchmark run.

use std::fmt;

/// Why a run stopped before printing its table.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The catalog lacks what the workload is built from.
    #[error("the catalog cannot give the web matrix: {0}")]
    Catalog(String),
    /// rolecall rejected the generated world.
    #[error("the workload is not a valid rolecall world: {0}")]
    World(String),
    /// A check names an id the engine does not know.
    #[error("unknown id `{0}`")]
    UnknownId(String),
    /// Cedar rejected the policies, the entities or a request.
    #[error("cedar: {0}")]
    Cedar(String),
    /// Casbin rejected the model or the policies, or failed a check.
    #[error("casbin: {0}")]
    Casbin(String),
    /// Memory could not be measured.
    #[error("memory: {0}")]
    Memory(String),
    /// An engine counted a different number of allowed checks while timed
    /// than while its decisions were recorded.
    #[error("{engine} allowed {timed} checks while timed but {recorded} while recorded")]
    Unstable {
        /// The engine.
        engine: String,
        /// Allowed checks in a timed pass.
        timed: usize,
        /// Allowed checks in the recorded pass.
        recorded: usize,
    },
    /// Two engines decided one check differently.
    #[error("{0}")]
    Disagreement(Box<Disagreement>),
}

/// The first check on which the engines did not all agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// Position of the check in the workload.
    pub index: usize,
    /// The user id.
    pub user: String,
    /// The permission id.
    pub permission: String,
    /// The organization id.
    pub org: String,
    /// Each engine that ran the check, with its decision.
    pub decisions: Vec<(String, bool)>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "engines disagree on check #{}: user `{}`, permission `{}`, organization `{}`:",
            self.index, self.user, self.permission, self.org
        )?;
        for (engine, allowed) in &self.decisions {
            let decision = if *allowed { "allow" } else { "deny" };
            write!(f, " {engine}={decision};")?;
        }
        Ok(())
    }
}
