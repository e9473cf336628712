//! The behaviours the seed documents specify, one module per application,
//! plus the decision rules of `DESIGN.md` ("Decision") that the seeds leave
//! to the project.
//!
//! Every test builds a small world against the shipped default catalog with
//! creation defaults applied (`Defaults::Apply`, the path the service and
//! policy test files share), compiles a snapshot, and asks it. Tests that
//! come from a seed quote the sentence they prove.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analytics;
mod decision;
mod scheduler;
mod support;
mod tasking;
mod web_matrix;
