//! What the harness needs from each engine under test.

use crate::error::BenchError;
use crate::workload::{Check, Workload};

/// An authorization engine, already built from a [`Workload`].
///
/// A check runs in two steps so that the timed loop measures only the
/// decision: [`Engine::prepare`] turns the workload's checks into the form
/// the engine is called with (string ids, interned keys or dense indices),
/// before timing; [`Engine::allows`] decides one.
pub trait Engine {
    /// A check in the form this engine takes.
    type Query<'w>;

    /// The name printed in the table.
    fn name(&self) -> &'static str;

    /// The checks in this engine's form, in workload order.
    fn prepare<'w>(
        &self,
        workload: &'w Workload,
        checks: &[Check],
    ) -> Result<Vec<Self::Query<'w>>, BenchError>;

    /// The decision, or the engine's error: the recorded pass uses this, so
    /// that an engine failing a check is reported rather than read as a
    /// denial.
    fn decide(&self, query: &Self::Query<'_>) -> Result<bool, BenchError> {
        Ok(self.allows(query))
    }

    /// The decision alone: the timed loop calls this.
    fn allows(&self, query: &Self::Query<'_>) -> bool;
}

/// The string ids of `checks`, for the engines called with strings.
pub fn string_queries<'w>(
    workload: &'w Workload,
    checks: &[Check],
) -> Vec<crate::workload::StrCheck<'w>> {
    checks.iter().map(|check| workload.ids(check)).collect()
}

/// The engines with a structure of their own, as named on the command line
/// of a memory-measuring child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`crate::rolecall::RolecallStrings`] (the keys share its snapshot).
    Rolecall,
    /// [`crate::baseline::Baseline`].
    Baseline,
    /// [`crate::hashmap::HashMapEngine`].
    HashMap,
    /// [`crate::cedar::CedarEngine`].
    Cedar,
    /// [`crate::casbin::CasbinEngine`].
    Casbin,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 5] = [
        Kind::Rolecall,
        Kind::Baseline,
        Kind::HashMap,
        Kind::Cedar,
        Kind::Casbin,
    ];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rolecall => "rolecall",
            Kind::Baseline => "baseline",
            Kind::HashMap => "hashmap",
            Kind::Cedar => "cedar",
            Kind::Casbin => "casbin",
        }
    }

    /// The kind with this command-line name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}
