//! rolecall's decision engine: pure, synchronous, no I/O.
//!
//! [`Snapshot::build`] compiles a [`Catalog`](rolecall_model::Catalog) and a
//! [`World`](rolecall_model::World) into an immutable snapshot: dense integer
//! ids, each user's effective permissions in each organization they reach as
//! two bitsets (any scope, and `all` scope), with subscriptions, denials,
//! prerequisites and restrictions already applied. A check is then a few
//! array reads and one bit test, and allocates nothing.
//!
//! - [`snapshot`]: building, [`Snapshot::check`] by string ids, the interned
//!   handle API ([`Snapshot::user_key`] ... [`Snapshot::check_keys`]) for host
//!   applications that check in loops, and the two listings.
//! - [`explain`]: [`Snapshot::explain`], the facts behind a decision as data
//!   and as one plain-English sentence.
//! - [`policy_test`]: policy test files (`rolecall test`), parsed and run.
//! - `reach` (private): which memberships, groups and partner links give a
//!   user access in an organization, and the effective permission sets. The
//!   compiled sets and the explanations both come from it, so they cannot
//!   disagree.
//!
//! The decision rules are those of `DESIGN.md` ("Decision"); `docs/model.md`
//! states them for administrators.

mod bits;
pub mod explain;
pub mod policy_test;
mod reach;
pub mod snapshot;

pub use explain::{Explanation, Reason, Via};
pub use rolecall_model::Scope;
pub use snapshot::{Decision, OrgKey, PermissionKey, Snapshot, UserKey};
