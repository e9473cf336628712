//! The SQL store: SQLite (embedded, the default) or PostgreSQL, one code path.
//!
//! Every write is one transaction that bumps the revision in `heads` (which
//! serializes writers across processes), writes the rows, appends to the
//! change log and to the audit chain, and commits. On PostgreSQL it also
//! notifies `rolecall_changes`, which other replicas listen on.
//!
//! Both logs are sealed with the audit key ([`crate::key`]): a store
//! without one reads, but refuses every write ([`StoreError::NoAuditKey`]).

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rolecall_model::world::Status;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use crate::accounts::{self, AccountWrite};
use crate::audit::{AuditEntry, AuditRecord, Outcome};
use crate::chain::ChangeRecord;
use crate::fault::{Health, Lease};
use crate::key::AuditKey;
use crate::model::{
    Access, CustomRoleRow, EmployeeRow, GroupRow, Model, OrgRow, PolicyRow, Put, TokenRow,
};
use crate::outbox::{self, OutgoingEmail};

/// The channel PostgreSQL replicas listen on for new revisions.
pub const CHANNEL: &str = "rolecall_changes";

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one rolecall understands.
    #[error("unsupported database URL `{0}`: use `sqlite://PATH` or `postgres://...`")]
    UnsupportedUrl(String),
    /// The database refused or failed in a way that retrying will not fix
    /// (a constraint, a malformed statement).
    #[error("database error: {0}")]
    Sql(#[source] sqlx::Error),
    /// The disk under the database is full: nothing was written. Retrying
    /// helps once space is freed.
    #[error("the database is full: {0}")]
    Full(#[source] sqlx::Error),
    /// The database cannot be reached or cannot read or write its files
    /// (the server is down, an I/O error, no connection free in time):
    /// nothing was acknowledged. Retrying helps once it is back.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not parse.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The write conflicts with what is stored (e.g. a reset link used
    /// twice); nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// The store was opened without the audit key, so it cannot seal
    /// what it would write.
    #[error("no audit key is loaded: rolecall writes nothing it cannot seal")]
    NoAuditKey,
    /// The key given is not the one the database's logs are sealed with.
    #[error("the audit key does not match the one this database's audit log is sealed with")]
    WrongAuditKey,
    /// The logs are damaged, so they are not sealed or checked further.
    #[error("the audit log is damaged: {0}")]
    Damaged(String),
    /// The logs are not sealed with a key yet, and this needs them sealed.
    #[error(
        "the audit log is not sealed with a key yet: start `rolecall serve` (or run any \
         command that writes) once with the audit key"
    )]
    NotSealed,
    /// A database opened read-only does not exist.
    #[error("no database at `{0}`")]
    Missing(String),
    /// Another process committed first; reload and try again.
    #[error("the database is at revision {found}, this process at {expected}")]
    Behind {
        /// The revision this process had applied.
        expected: i64,
        /// The revision the database is at.
        found: i64,
    },
}

/// Which SQL engine is behind the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The database, opened and migrated.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
    /// Whether the database failed lately, for readiness.
    health: Arc<Health>,
    /// What every record and change is sealed with; none: read only.
    key: Option<Arc<AuditKey>>,
}

/// How long a unit of work waits for a connection before the database
/// counts as unavailable: a client is told within about two seconds.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long after a storage failure the store counts as failing even if a
/// probe would pass: only a client's committed write ends it sooner.
pub const FAILURE_HOLD: Duration = Duration::from_secs(5);

/// Everything one write stores, in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch<'a> {
    /// Model rows (replicated through the change log).
    pub puts: &'a [Put],
    /// Audit records.
    pub audit: &'a [AuditEntry],
    /// Emails to queue in the outbox.
    pub emails: &'a [OutgoingEmail],
    /// Credentials, sessions and reset links.
    pub accounts: &'a [AccountWrite],
}

/// A committed write: its revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The new revision.
    pub revision: i64,
}

/// Filters for reading the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only records of this organization.
    pub org: Option<String>,
    /// Only records at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only records before this time (ms since the epoch).
    pub until: Option<i64>,
    /// Only records by this actor.
    pub actor: Option<String>,
    /// Only records about this target.
    pub target: Option<String>,
    /// Only records whose action is this one or starts with it followed by
    /// a dot (`user` matches `user.create`).
    pub action: Option<String>,
    /// Only records with this outcome.
    pub outcome: Option<Outcome>,
    /// How to order the records; newest first when absent.
    pub sort: Option<AuditSort>,
    /// Skip this many records first (paging when sorted by a field).
    pub offset: i64,
    /// Only records with a number below this one (paging backwards).
    pub before_seq: Option<i64>,
    /// At most this many records, newest first.
    pub limit: i64,
}

/// A field the audit report can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditField {
    /// The record's number (its order in time).
    Seq,
    /// Date and time.
    At,
    /// Who did it.
    Actor,
    /// What was done.
    Action,
    /// The organization.
    Org,
    /// What it was done to.
    Target,
    /// Where the request came from.
    Source,
    /// Success or failure.
    Outcome,
}

impl AuditField {
    /// Parses a field's name as the API writes it.
    pub fn parse(name: &str) -> Option<AuditField> {
        Some(match name {
            "seq" => AuditField::Seq,
            "at" => AuditField::At,
            "actor" => AuditField::Actor,
            "action" => AuditField::Action,
            "org" => AuditField::Org,
            "target" => AuditField::Target,
            "source" => AuditField::Source,
            "outcome" => AuditField::Outcome,
            _ => return None,
        })
    }

    /// Every field's name, for error messages.
    pub const NAMES: &'static str = "seq, at, actor, action, org, target, source, outcome";

    fn column(self) -> &'static str {
        match self {
            AuditField::Seq => "seq",
            AuditField::At => "at",
            AuditField::Actor => "actor",
            AuditField::Action => "action",
            // NULL sorts first on SQLite and last on PostgreSQL: compare
            // records without an organization as the empty string on both.
            AuditField::Org => "COALESCE(org_id, '')",
            AuditField::Target => "target",
            AuditField::Source => "source",
            AuditField::Outcome => "outcome",
        }
    }
}

/// The order of an audit report: a field and a direction; ties are broken
/// by the record's number, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSort {
    /// The field.
    pub field: AuditField,
    /// Largest first.
    pub descending: bool,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Turns what a user typed into a database URL: `postgres://...` stays, a
/// `sqlite:` URL or a plain path becomes a SQLite file created if missing.
pub fn normalize_url(url: &str) -> Result<(Backend, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    } else {
        url
    };
    if path.is_empty() {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    }
    let url = if path.contains('?') {
        format!("sqlite://{path}")
    } else {
        format!("sqlite://{path}?mode=rwc")
    };
    Ok((Backend::Sqlite, url))
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    // Every value stored as JSON is made of strings, numbers and options.
    serde_json::to_string(value).unwrap_or_default()
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn parse_status(text: &str) -> Result<Status, StoreError> {
    match text {
        "invited" => Ok(Status::Invited),
        "active" => Ok(Status::Active),
        "disabled" => Ok(Status::Disabled),
        other => Err(StoreError::Corrupt(format!("user status `{other}`"))),
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = normalize_url(url)?;
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // SQLite has one writer; a few readers are plenty.
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL syncs
                        // the log at every commit, so an acknowledged write
                        // survives a crash or a power cut.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        Ok(Store::from_pool(pool, backend, url))
    }

    /// A store over an open pool, without a key.
    pub(crate) fn from_pool(pool: AnyPool, backend: Backend, url: String) -> Store {
        Store {
            pool,
            backend,
            url,
            health: Arc::default(),
            key: None,
        }
    }

    /// The same store, sealing with `key` (checked by
    /// [`Store::with_audit_key`]).
    pub(crate) fn set_key(mut self, key: AuditKey) -> Store {
        self.key = Some(Arc::new(key));
        self
    }

    /// The audit key, if one is loaded.
    pub(crate) fn key(&self) -> Option<&AuditKey> {
        self.key.as_deref()
    }

    /// The pool, for single autocommit statements of the mail outbox: a
    /// failed autocommit statement leaves no transaction behind.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn lease(&self) -> Result<Lease, StoreError> {
        let acquired = self.pool.acquire().await.map_err(StoreError::from);
        self.health.note(&acquired, false);
        acquired.map(Lease::new)
    }

    /// Runs `work` inside one transaction and commits it. On any failure
    /// the connection is closed, never returned to the pool (see
    /// [`crate::fault`]). `writes` says whether success proves the
    /// database can write again.
    pub(crate) async fn transaction<T>(
        &self,
        writes: bool,
        work: impl AsyncFnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.lease().await?;
        let result = async {
            let mut tx = lease.conn().begin().await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            Ok(value)
        }
        .await;
        self.health.note(&result, writes);
        lease.settle(&result);
        result
    }

    /// Runs `work`, one statement or a few in autocommit, on a connection
    /// of its own, which is closed after any failure.
    pub(crate) async fn statement<T>(
        &self,
        writes: bool,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut lease = self.lease().await?;
        let result = work(lease.conn()).await;
        self.health.note(&result, writes);
        lease.settle(&result);
        result
    }

    /// True from a storage failure (a full disk, an I/O error, the server
    /// gone) until a write succeeds again: a readiness probe says "not
    /// ready" at once.
    pub fn failing(&self) -> bool {
        self.health.failing()
    }

    /// While [`Store::failing`], and at least [`FAILURE_HOLD`] after the
    /// last failure, starts a probe in the background (one at a time,
    /// bounded by `limit`), so that a database that answers again is
    /// noticed without waiting for a client's write. The hold keeps a disk
    /// that is nearly full, where a small write may pass while the next
    /// fails, from flapping between ready and not ready.
    pub fn recheck(&self, limit: Duration) {
        let Some(failed_at) = self.health.failed_at() else {
            return;
        };
        let hold = i64::try_from(FAILURE_HOLD.as_millis()).unwrap_or(i64::MAX);
        if now_ms() < failed_at.saturating_add(hold) || !self.health.begin_probe() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            if let Ok(Err(e)) = tokio::time::timeout(limit, store.probe_write()).await {
                tracing::debug!(error = %e, "the database still fails");
            }
            store.health.end_probe();
        });
    }

    /// Proves the database can write: a transaction that rewrites the head
    /// row unchanged. Clears [`Store::failing`] when it commits.
    pub async fn probe_write(&self) -> Result<i64, StoreError> {
        self.transaction(true, async |tx| {
            let row =
                sqlx::query("UPDATE heads SET revision = revision WHERE id = 1 RETURNING revision")
                    .fetch_one(&mut **tx)
                    .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
        .await
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL it was opened with (normalized).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The last committed revision.
    pub async fn head(&self) -> Result<i64, StoreError> {
        self.statement(false, async |conn| {
            let row = sqlx::query("SELECT revision FROM heads WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
        .await
    }

    /// Whether anything was ever written.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.head().await? == 0)
    }

    /// Reads the whole model and the revision it is at, in one transaction
    /// so the two agree.
    pub async fn load(&self) -> Result<(Model, i64), StoreError> {
        self.transaction(false, async |tx| {
            let revision: i64 = sqlx::query("SELECT revision FROM heads WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?
                .try_get(0)?;
            let mut model = Model::default();
            let mut puts = Vec::new();
            for row in sqlx::query(
                "SELECT id, name, parent, subscriptions, manages, created_at FROM orgs ORDER BY id",
            )
            .fetch_all(&mut **tx)
            .await?
            {
                puts.push(Put::Org(OrgRow {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    parent: row.try_get(2)?,
                    subscriptions: parse_json(&row.try_get::<String, _>(3)?, "org subscriptions")?,
                    manages: parse_json(&row.try_get::<String, _>(4)?, "org partner links")?,
                    created_at: row.try_get(5)?,
                }));
            }
            for row in sqlx::query(
                "SELECT id, org_id, first_name, last_name, email, created_at FROM employees",
            )
            .fetch_all(&mut **tx)
            .await?
            {
                puts.push(Put::Employee(EmployeeRow {
                    id: row.try_get(0)?,
                    org: row.try_get(1)?,
                    first_name: row.try_get(2)?,
                    last_name: row.try_get(3)?,
                    email: row.try_get(4)?,
                    created_at: row.try_get(5)?,
                }));
            }
            let memberships = sqlx::query(
                "SELECT user_id, org_id, roles, grants, denials, scheduler_type, scheduler_level, \
                 tasking_access, expires FROM memberships",
            )
            .fetch_all(&mut **tx)
            .await?;
            let mut users = std::collections::BTreeMap::new();
            for row in sqlx::query("SELECT id, employee_id, status, created_at FROM users")
                .fetch_all(&mut **tx)
                .await?
            {
                let id: String = row.try_get(0)?;
                users.insert(
                    id.clone(),
                    crate::model::UserRow {
                        id,
                        employee: row.try_get(1)?,
                        status: parse_status(&row.try_get::<String, _>(2)?)?,
                        memberships: Default::default(),
                        created_at: row.try_get(3)?,
                    },
                );
            }
            for row in memberships {
                let user: String = row.try_get(0)?;
                let access = access_from_row(&row)?;
                let Some(user) = users.get_mut(&user) else {
                    return Err(StoreError::Corrupt(format!(
                        "membership of unknown user `{user}`"
                    )));
                };
                user.memberships.insert(row.try_get(1)?, access);
            }
            puts.extend(users.into_values().map(Put::User));
            for row in sqlx::query(
                "SELECT id, org_id, name, created_by, access, members, roles, created_at \
                 FROM member_groups",
            )
            .fetch_all(&mut **tx)
            .await?
            {
                puts.push(Put::Group(GroupRow {
                    id: row.try_get(0)?,
                    org: row.try_get(1)?,
                    name: row.try_get(2)?,
                    created_by: row.try_get(3)?,
                    access: row.try_get(4)?,
                    members: parse_json(&row.try_get::<String, _>(5)?, "group members")?,
                    roles: parse_json(&row.try_get::<String, _>(6)?, "group roles")?,
                    created_at: row.try_get(7)?,
                }));
            }
            for row in sqlx::query("SELECT id, org_id, name, grants, created_at FROM custom_roles")
                .fetch_all(&mut **tx)
                .await?
            {
                puts.push(Put::CustomRole(CustomRoleRow {
                    id: row.try_get(0)?,
                    org: row.try_get(1)?,
                    name: row.try_get(2)?,
                    grants: parse_json(&row.try_get::<String, _>(3)?, "custom role grants")?,
                    created_at: row.try_get(4)?,
                }));
            }
            for row in sqlx::query(
                "SELECT id, secret_hash, name, operator, org_id, user_id, created_by, created_at, \
                 expires_at, revoked_at FROM api_tokens",
            )
            .fetch_all(&mut **tx)
            .await?
            {
                puts.push(Put::Token(TokenRow {
                    id: row.try_get(0)?,
                    secret_hash: row.try_get(1)?,
                    name: row.try_get(2)?,
                    operator: row.try_get::<i64, _>(3)? != 0,
                    org: row.try_get(4)?,
                    user: row.try_get(5)?,
                    created_by: row.try_get(6)?,
                    created_at: row.try_get(7)?,
                    expires_at: row.try_get(8)?,
                    revoked_at: row.try_get(9)?,
                }));
            }
            for row in sqlx::query("SELECT org_id, policy, updated_at FROM security_policies")
                .fetch_all(&mut **tx)
                .await?
            {
                puts.push(Put::Policy(PolicyRow {
                    org: row.try_get(0)?,
                    policy: parse_json(&row.try_get::<String, _>(1)?, "security policy")?,
                    updated_at: row.try_get(2)?,
                }));
            }
            model.apply_all(&puts);
            Ok((model, revision))
        })
        .await
    }

    /// The changes committed after `revision`, in order. With a key, each
    /// change's MAC is checked first: a change written without the key is
    /// refused ([`StoreError::Damaged`]), never applied.
    pub async fn changes_since(&self, revision: i64) -> Result<Vec<(i64, Vec<Put>)>, StoreError> {
        let rows = self
            .statement(false, async |conn| {
                Ok(sqlx::query(
                    "SELECT revision, at, actor, payload, prev_mac, mac FROM changes \
                     WHERE revision > $1 ORDER BY revision",
                )
                .bind(revision)
                .fetch_all(&mut *conn)
                .await?)
            })
            .await?;
        let changes = rows
            .iter()
            .map(crate::seal::change_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(key) = self.key() {
            crate::chain::check_changes(key, &changes)?;
        }
        changes
            .into_iter()
            .map(|change| {
                Ok((
                    change.revision,
                    parse_json(&change.payload, "change payload")?,
                ))
            })
            .collect()
    }

    /// Commits one write: its rows, its change-log entry, its audit records,
    /// its account writes and the emails it sends (into the outbox), at the
    /// revision after `base`. Fails with [`StoreError::Behind`] (changing
    /// nothing, queueing no email) when another process committed since
    /// `base`.
    pub async fn commit(
        &self,
        base: i64,
        actor: &str,
        source: &str,
        batch: Batch<'_>,
    ) -> Result<Committed, StoreError> {
        self.write(Some(base), actor, source, batch).await
    }

    /// Records an event that changes no model row (a sign-in, a failure, a
    /// password change): its audit records, account writes and emails, in
    /// one transaction, without a new revision (replicas have nothing to
    /// replay). The audit records carry the current revision.
    pub async fn record(
        &self,
        actor: &str,
        source: &str,
        batch: Batch<'_>,
    ) -> Result<Committed, StoreError> {
        debug_assert!(
            batch.puts.is_empty(),
            "model rows need a revision: commit them"
        );
        self.write(None, actor, source, Batch { puts: &[], ..batch })
            .await
    }

    async fn write(
        &self,
        base: Option<i64>,
        actor: &str,
        source: &str,
        batch: Batch<'_>,
    ) -> Result<Committed, StoreError> {
        let key = self.key().ok_or(StoreError::NoAuditKey)?;
        // A 2xx is sent only after this returns Ok, which is only after the
        // commit succeeded; on any failure the connection is closed
        // (`Store::transaction`), so no later write runs inside a
        // transaction that can no longer commit.
        self.transaction(true, async |tx| {
            // Either statement takes the `heads` row's lock: writers and
            // recorders are serialized, so the chains never fork.
            let head = sqlx::query(if base.is_some() {
                "UPDATE heads SET revision = revision + 1 WHERE id = 1 \
                 RETURNING revision, audit_seq, audit_hash, change_mac, key_check"
            } else {
                "UPDATE heads SET audit_seq = audit_seq WHERE id = 1 \
                 RETURNING revision, audit_seq, audit_hash, change_mac, key_check"
            })
            .fetch_one(&mut **tx)
            .await?;
            // The logs must be sealed with this very key (a database replaced
            // or unsealed under a running process is refused, not extended).
            if head.try_get::<Option<String>, _>(4)?.as_deref() != Some(key.check_value()) {
                return Err(StoreError::WrongAuditKey);
            }
            let revision: i64 = head.try_get(0)?;
            if let Some(base) = base {
                if revision != base + 1 {
                    // Rolled back: the lease closes the connection with it.
                    return Err(StoreError::Behind {
                        expected: base,
                        found: revision - 1,
                    });
                }
            }
            let mut seq: i64 = head.try_get(1)?;
            let mut prev: String = head.try_get(2)?;
            let mut change_mac: String = head.try_get(3)?;
            for put in batch.puts {
                write_put(tx, put).await?;
            }
            accounts::apply(tx, batch.accounts).await?;
            let at = now_ms();
            if base.is_some() {
                let change = ChangeRecord {
                    revision,
                    at,
                    actor: actor.to_owned(),
                    payload: json(&batch.puts),
                    prev_mac: None,
                    mac: None,
                };
                let mac = change.seal_with(key, &change_mac, revision);
                sqlx::query(
                    "INSERT INTO changes (revision, at, actor, payload, prev_mac, mac) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(revision)
                .bind(at)
                .bind(actor)
                .bind(&change.payload)
                .bind(&change_mac)
                .bind(&mac)
                .execute(&mut **tx)
                .await?;
                change_mac = mac;
            }
            outbox::insert(tx, batch.emails, at).await?;
            for entry in batch.audit {
                seq += 1;
                let mut record = AuditRecord {
                    seq,
                    at,
                    revision,
                    actor: entry.actor.clone(),
                    action: entry.action.clone(),
                    org: entry.org.clone(),
                    target: entry.target.clone(),
                    before: entry.before.as_ref().map(json),
                    after: entry.after.as_ref().map(json),
                    source: source.to_owned(),
                    outcome: entry.outcome,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                record.hash = record.seal_with(key, &record.prev_hash, seq);
                insert_audit(tx, &record).await?;
                prev = record.hash;
            }
            sqlx::query(
                "UPDATE heads SET audit_seq = $1, audit_hash = $2, change_mac = $3 WHERE id = 1",
            )
            .bind(seq)
            .bind(&prev)
            .bind(&change_mac)
            .execute(&mut **tx)
            .await?;
            if self.backend == Backend::Postgres && base.is_some() {
                // Delivered at commit, to every replica listening.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(revision.to_string())
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(Committed { revision })
        })
        .await
    }

    /// Reads audit records: filtered, in the order asked (newest first by
    /// default), at most `limit` of them after skipping `offset`.
    pub async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let sort = query.sort.unwrap_or(AuditSort {
            field: AuditField::Seq,
            descending: true,
        });
        let direction = if sort.descending { "DESC" } else { "ASC" };
        // The column comes from a closed list, never from the request.
        let order = if sort.field == AuditField::Seq {
            format!("seq {direction}")
        } else {
            format!("{} {direction}, seq {direction}", sort.field.column())
        };
        // Unused filters compare a NULL parameter, so one statement serves
        // every combination.
        let sql = format!(
            "SELECT seq, at, revision, actor, action, org_id, target, before_json, after_json, \
             source, outcome, prev_hash, hash FROM audit \
             WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR at >= $2) \
             AND ($3 IS NULL OR at < $3) AND ($4 IS NULL OR actor = $4) \
             AND ($5 IS NULL OR target = $5) AND ($6 IS NULL OR seq < $6) \
             AND ($7 IS NULL OR action = $7 OR substr(action, 1, length($8)) = $8) \
             AND ($9 IS NULL OR outcome = $9) \
             ORDER BY {order} LIMIT $10 OFFSET $11"
        );
        let prefix = query.action.as_ref().map(|a| format!("{a}."));
        let rows = self
            .statement(false, async |conn| {
                Ok(sqlx::query(&sql)
                    .bind(&query.org)
                    .bind(query.since)
                    .bind(query.until)
                    .bind(&query.actor)
                    .bind(&query.target)
                    .bind(query.before_seq)
                    .bind(&query.action)
                    .bind(prefix)
                    .bind(query.outcome.map(Outcome::as_str))
                    .bind(query.limit)
                    .bind(query.offset)
                    .fetch_all(&mut *conn)
                    .await?)
            })
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// Runs a statement directly; for tests that tamper with the log.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }
}

fn access_from_row(row: &AnyRow) -> Result<Access, StoreError> {
    Ok(Access {
        roles: parse_json(&row.try_get::<String, _>(2)?, "membership roles")?,
        grants: parse_json(&row.try_get::<String, _>(3)?, "membership grants")?,
        denials: parse_json(&row.try_get::<String, _>(4)?, "membership denials")?,
        scheduler_type: row.try_get(5)?,
        scheduler_level: row.try_get(6)?,
        tasking_access: row.try_get(7)?,
        expires: parse_json(&row.try_get::<String, _>(8)?, "membership expiries")?,
    })
}

pub(crate) fn audit_from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        revision: row.try_get(2)?,
        actor: row.try_get(3)?,
        action: row.try_get(4)?,
        org: row.try_get(5)?,
        target: row.try_get(6)?,
        before: row.try_get(7)?,
        after: row.try_get(8)?,
        source: row.try_get(9)?,
        outcome: Outcome::parse(&row.try_get::<String, _>(10)?)?,
        prev_hash: row.try_get(11)?,
        hash: row.try_get(12)?,
    })
}

pub(crate) type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Appends one sealed audit record.
pub(crate) async fn insert_audit(tx: &mut Tx<'_>, record: &AuditRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (seq, at, revision, actor, action, org_id, target, before_json, \
         after_json, source, outcome, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(record.seq)
    .bind(record.at)
    .bind(record.revision)
    .bind(&record.actor)
    .bind(&record.action)
    .bind(&record.org)
    .bind(&record.target)
    .bind(&record.before)
    .bind(&record.after)
    .bind(&record.source)
    .bind(record.outcome.as_str())
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_put(tx: &mut Tx<'_>, put: &Put) -> Result<(), StoreError> {
    match put {
        Put::Org(org) => {
            sqlx::query(
                "INSERT INTO orgs (id, name, parent, subscriptions, manages, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, parent = excluded.parent, \
                 subscriptions = excluded.subscriptions, manages = excluded.manages",
            )
            .bind(&org.id)
            .bind(&org.name)
            .bind(&org.parent)
            .bind(json(&org.subscriptions))
            .bind(json(&org.manages))
            .bind(org.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Put::Employee(e) => {
            sqlx::query(
                "INSERT INTO employees (id, org_id, first_name, last_name, email, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
                 first_name = excluded.first_name, last_name = excluded.last_name, \
                 email = excluded.email",
            )
            .bind(&e.id)
            .bind(&e.org)
            .bind(&e.first_name)
            .bind(&e.last_name)
            .bind(&e.email)
            .bind(e.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Put::User(user) => {
            sqlx::query(
                "INSERT INTO users (id, employee_id, status, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status",
            )
            .bind(&user.id)
            .bind(&user.employee)
            .bind(user.status.as_str())
            .bind(user.created_at)
            .execute(&mut **tx)
            .await?;
            // Memberships are written whole with their user.
            sqlx::query("DELETE FROM memberships WHERE user_id = $1")
                .bind(&user.id)
                .execute(&mut **tx)
                .await?;
            for (org, access) in &user.memberships {
                sqlx::query(
                    "INSERT INTO memberships (user_id, org_id, roles, grants, denials, \
                     scheduler_type, scheduler_level, tasking_access, expires) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&user.id)
                .bind(org)
                .bind(json(&access.roles))
                .bind(json(&access.grants))
                .bind(json(&access.denials))
                .bind(&access.scheduler_type)
                .bind(&access.scheduler_level)
                .bind(&access.tasking_access)
                .bind(json(&access.expires))
                .execute(&mut **tx)
                .await?;
            }
        }
        Put::Group(g) => {
            sqlx::query(
                "INSERT INTO member_groups (id, org_id, name, created_by, access, members, roles, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE \
                 SET name = excluded.name, access = excluded.access, \
                 members = excluded.members, roles = excluded.roles",
            )
            .bind(&g.id)
            .bind(&g.org)
            .bind(&g.name)
            .bind(&g.created_by)
            .bind(&g.access)
            .bind(json(&g.members))
            .bind(json(&g.roles))
            .bind(g.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Put::CustomRole(r) => {
            sqlx::query(
                "INSERT INTO custom_roles (id, org_id, name, grants, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, grants = excluded.grants",
            )
            .bind(&r.id)
            .bind(&r.org)
            .bind(&r.name)
            .bind(json(&r.grants))
            .bind(r.created_at)
            .execute(&mut **tx)
            .await?;
        }
        Put::Token(t) => {
            sqlx::query(
                "INSERT INTO api_tokens (id, secret_hash, name, operator, org_id, user_id, \
                 created_by, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, expires_at = excluded.expires_at, \
                 revoked_at = excluded.revoked_at",
            )
            .bind(&t.id)
            .bind(&t.secret_hash)
            .bind(&t.name)
            .bind(i64::from(t.operator))
            .bind(&t.org)
            .bind(&t.user)
            .bind(&t.created_by)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.revoked_at)
            .execute(&mut **tx)
            .await?;
        }
        Put::Policy(p) => {
            sqlx::query(
                "INSERT INTO security_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, \
                 updated_at = excluded.updated_at",
            )
            .bind(&p.org)
            .bind(json(&p.policy))
            .bind(p.updated_at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
