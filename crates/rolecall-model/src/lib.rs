//! rolecall's model: everything an application can decide on, as data.
//!
//! - [`catalog`]: applications, modules, permissions, roles, derivation rules,
//!   user types, access levels and access types, parsed from TOML and validated
//!   ([`Catalog::from_toml`]); [`Catalog::default_catalog`] is the shipped one.
//! - [`world`]: organizations, users, memberships, groups and custom roles,
//!   validated against a catalog ([`World::build`]).
//! - [`defaults`]: the defaults a membership gets when it is created (the
//!   Analytics default role, office-staff tabs, Tasking Standard access). The
//!   service and policy test files both call this one code path.
//! - [`grant`]: a permission with its scope, and how it is written (`id` or `id:own`).
//! - [`diagnostic`]: errors that name the file, line and field that is wrong.
//!
//! The crate does no I/O: callers hand it source text and get values or
//! diagnostics back.

pub mod catalog;
pub mod defaults;
pub mod diagnostic;
pub mod grant;
mod index;
pub mod world;

pub use catalog::Catalog;
pub use diagnostic::{Diagnostic, Diagnostics, FieldPath};
pub use grant::{Grant, Scope};
pub use index::*;
pub use world::World;
