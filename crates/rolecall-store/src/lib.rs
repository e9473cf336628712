//! rolecall's storage: the source of truth behind the in-memory snapshot.
//!
//! - [`model`]: every stored row in memory, and [`model::Put`], the unit of
//!   change that the writer, the database and the replicas all apply alike;
//! - [`store`]: the SQL store (SQLite by default, PostgreSQL for replicas),
//!   with migrations, the change log and transactions that serialize writers;
//! - [`audit`]: the append-only audit log and its records;
//! - [`key`]: the audit key, kept outside the database, that both logs are
//!   sealed with;
//! - [`chain`]: the keyed chains over the audit log and the change log, and
//!   what their verification names;
//! - [`seal`]: loading the key into a store, and sealing logs written
//!   before keys;
//! - [`state`]: the state tables compared with a replay of the change log;
//! - [`checkpoint`]: signed heads kept outside the database, which catch
//!   the newest records deleted and the heads moved back;
//! - [`verify`]: read-only verification of all of it, and the cheap check
//!   of each chain's tail at start-up;
//! - [`accounts`]: credentials, sessions and reset links, written with the
//!   audit records of the sign-in events that change them;
//! - [`outbox`]: emails queued in the transaction of the change that sends
//!   them, for the mail sender to deliver.

pub mod accounts;
pub mod audit;
pub mod chain;
pub mod checkpoint;
pub mod fault;
pub mod key;
pub mod model;
pub mod outbox;
pub mod seal;
pub mod state;
pub mod store;
pub mod verify;

pub use accounts::{
    AccountWrite, CredentialRow, ResetRequestRow, ResetTokenRow, SessionRow, Stage,
};
pub use audit::{AuditEntry, AuditRecord, Outcome};
pub use chain::{Chain, ChainProblem, ChangeRecord};
pub use checkpoint::{Checkpoint, CheckpointProblem};
pub use key::{AuditKey, KeyError};
pub use model::{
    Access, CustomRoleRow, EmployeeRow, GroupRow, Model, OrgRow, PolicyRow, Put, TokenRow, UserRow,
};
pub use outbox::{OutgoingEmail, QueuedEmail};
pub use seal::{OnDamage, SealState, Sealing};
pub use state::{Disagreement, StateProblem};
pub use store::{
    now_ms, AuditField, AuditQuery, AuditSort, Backend, Batch, Committed, Store, StoreError,
};
pub use verify::{Checkpointed, Problem, Verification};
