//! rolecall's storage: the source of truth behind the in-memory snapshot.
//!
//! - [`model`]: every stored row in memory, and [`model::Put`], the unit of
//!   change that the writer, the database and the replicas all apply alike;
//! - [`store`]: the SQL store (SQLite by default, PostgreSQL for replicas),
//!   with migrations, the change log and transactions that serialize writers;
//! - [`audit`]: the append-only, hash-chained audit log and its verification;
//! - [`key`]: the audit key, kept outside the database;
//! - [`accounts`]: credentials, sessions and reset links, written with the
//!   audit records of the sign-in events that change them;
//! - [`outbox`]: emails queued in the transaction of the change that sends
//!   them, for the mail sender to deliver.

pub mod accounts;
pub mod audit;
pub mod key;
pub mod model;
pub mod outbox;
pub mod store;

pub use accounts::{AccountWrite, CredentialRow, ResetTokenRow, SessionRow, Stage};
pub use audit::{AuditEntry, AuditRecord, ChainProblem, Outcome};
pub use key::{AuditKey, KeyError};
pub use model::{
    Access, CustomRoleRow, EmployeeRow, GroupRow, Model, OrgRow, PolicyRow, Put, TokenRow, UserRow,
};
pub use outbox::{OutgoingEmail, QueuedEmail};
pub use store::{
    now_ms, AuditField, AuditQuery, AuditSort, Backend, Batch, Committed, Store, StoreError,
};
