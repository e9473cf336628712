//! Benchmarks rolecall's checks against other ways of answering them.
//!
//! One deterministic workload ([`workload`]) is built into every engine, each
//! engine answers the same checks, and the harness ([`run`]) verifies that
//! they all decide alike before printing their costs ([`report`]).
//!
//! Engines, one module each:
//! - [`rolecall`]: rolecall's snapshot, by string ids and by keys;
//! - [`baseline`]: a hand-written bitmask floor for this workload's shape;
//! - [`hashmap`]: a naive design of string-keyed maps and sets;
//! - [`cedar`]: Cedar with entity groups per organization and role;
//! - [`casbin`]: Casbin's RBAC with domains.
//!
//! [`engine::Engine`] is what the harness asks of each; [`memory`] measures
//! what each engine's build adds to a fresh process.

pub mod baseline;
pub mod casbin;
pub mod cedar;
pub mod engine;
pub mod error;
pub mod hashmap;
pub mod memory;
pub mod report;
pub mod rolecall;
pub mod run;
pub mod stored;
pub mod workload;

pub use error::BenchError;
pub use run::{run, Report, Settings};
pub use workload::{Size, Workload};
