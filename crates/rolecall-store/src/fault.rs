//! Storage failures: how they are recognised, and how a connection that met
//! one is kept from doing harm later.
//!
//! A connection whose statement or commit failed may still be inside a
//! transaction that will never reach the file. sqlx's SQLite driver, for
//! one, counts transaction depth itself: after a `COMMIT` refused with
//! `SQLITE_FULL`, it still counts one open transaction, so the next
//! "transaction" on that connection is only a savepoint inside the dead one
//! and its "commit" writes nothing, while the caller is told it committed.
//! So every unit of work borrows its connection through a [`Lease`], and a
//! lease that is not settled as a success closes its connection instead of
//! returning it to the pool: the pool opens a fresh one.
//!
//! Errors are sorted on the way out ([`classify`]): a full disk, and a
//! database that cannot be reached or cannot read or write its files, are
//! [`StoreError::Full`] and [`StoreError::Unavailable`], which the service
//! answers with 503 and `Retry-After`; the [`Health`] they leave behind is
//! what `/readyz` reports at once.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

use crate::store::StoreError;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        classify(error)
    }
}

/// Sorts a driver error into the store's kinds.
pub fn classify(error: sqlx::Error) -> StoreError {
    match kind_of(&error) {
        Kind::Full => StoreError::Full(error),
        Kind::Unavailable => StoreError::Unavailable(error),
        Kind::Refused => StoreError::Sql(error),
    }
}

enum Kind {
    Full,
    Unavailable,
    Refused,
}

fn kind_of(error: &sqlx::Error) -> Kind {
    match error {
        sqlx::Error::Database(db) => {
            if let Some(sqlite) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                sqlite_kind(sqlite)
            } else if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                postgres_kind(pg.code())
            } else {
                Kind::Refused
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable,
        _ => Kind::Refused,
    }
}

/// SQLite's primary result codes (the low byte of an extended code).
fn sqlite_kind(error: &sqlx::sqlite::SqliteError) -> Kind {
    use sqlx::error::DatabaseError;
    let code = error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .unwrap_or(0);
    match code & 0xff {
        // SQLITE_FULL
        13 => Kind::Full,
        // SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY,
        // SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_PROTOCOL,
        // SQLITE_NOLFS, SQLITE_NOTADB
        3 | 5 | 6 | 8 | 10 | 11 | 14 | 15 | 22 | 26 => Kind::Unavailable,
        _ => Kind::Refused,
    }
}

/// PostgreSQL's SQLSTATE classes.
fn postgres_kind(sqlstate: &str) -> Kind {
    match sqlstate {
        // disk_full
        "53100" => Kind::Full,
        // read_only_sql_transaction (a standby), serialization_failure,
        // deadlock_detected: retrying helps.
        "25006" | "40001" | "40P01" => Kind::Unavailable,
        // connection exception, insufficient resources, operator
        // intervention (shutdown, crash), system error (I/O).
        _ if ["08", "53", "57", "58"]
            .iter()
            .any(|class| sqlstate.starts_with(class)) =>
        {
            Kind::Unavailable
        }
        _ => Kind::Refused,
    }
}

impl StoreError {
    /// True for a full disk or an unreachable or failing database: the
    /// write was not acknowledged, and retrying later may succeed.
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Full(_) | StoreError::Unavailable(_))
    }
}

/// Whether the database failed lately; shared by every clone of a store.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// When the last storage failure happened (ms since the epoch); 0 while
    /// healthy.
    failed_at: AtomicI64,
    /// A probe is running: at most one at a time.
    probing: AtomicBool,
}

impl Health {
    /// True from a storage failure until the next write that succeeds.
    pub(crate) fn failing(&self) -> bool {
        self.failed_at.load(Ordering::Acquire) != 0
    }

    /// When the last failure happened, while failing.
    pub(crate) fn failed_at(&self) -> Option<i64> {
        Some(self.failed_at.load(Ordering::Acquire)).filter(|&at| at != 0)
    }

    /// True when the caller should start a probe (none is running).
    pub(crate) fn begin_probe(&self) -> bool {
        !self.probing.swap(true, Ordering::AcqRel)
    }

    /// The probe started by [`Health::begin_probe`] ended.
    pub(crate) fn end_probe(&self) {
        self.probing.store(false, Ordering::Release);
    }

    /// Notes how a unit of work ended. Only a committed write proves the
    /// database healthy again: on a full disk, reads still succeed.
    pub(crate) fn note<T>(&self, result: &Result<T, StoreError>, wrote: bool) {
        match result {
            Err(e) if e.is_outage() => {
                let now = crate::now_ms().max(1);
                if self.failed_at.swap(now, Ordering::AcqRel) == 0 {
                    tracing::warn!(error = %e, "storage failure: refusing writes until the database answers again");
                }
            }
            Ok(_) if wrote && self.failed_at.swap(0, Ordering::AcqRel) != 0 => {
                tracing::info!("the database answers again");
            }
            _ => {}
        }
    }
}

/// A pooled connection borrowed for one unit of work. Dropped without
/// [`Lease::settle`]ing it as a success (an error, or a future cancelled
/// by a timeout halfway), it closes the connection rather than returning
/// it to the pool.
pub(crate) struct Lease {
    conn: Option<PoolConnection<Any>>,
}

impl Lease {
    pub(crate) fn new(conn: PoolConnection<Any>) -> Lease {
        Lease { conn: Some(conn) }
    }

    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        // Present until the lease is settled or dropped.
        self.conn
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("a lease is used only before it is settled"))
    }

    /// Returns the connection to the pool if the work succeeded; otherwise
    /// closes it.
    pub(crate) fn settle<T>(mut self, result: &Result<T, StoreError>) {
        if result.is_ok() {
            // Back to the pool, unharmed.
            drop(self.conn.take());
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Out of the pool (which may open a replacement); dropping the
            // raw connection closes it, and the database rolls back
            // whatever it had open.
            drop(conn.detach());
        }
    }
}

impl StoreError {
    /// A short, secret-free description of what kind of failure this is,
    /// for a readiness probe's answer.
    pub fn storage_kind(&self) -> &'static str {
        match self {
            StoreError::Full(_) => "the database is full",
            StoreError::Unavailable(_) => "the database is unavailable",
            _ => "the database failed",
        }
    }
}
