//! The running service: the database, and the compiled snapshot that every
//! check reads.
//!
//! Checks load the current [`Live`] state through an [`ArcSwap`]: no lock, so
//! a writer never holds up a check. A write runs under the writer mutex:
//! it computes its rows from the current state, builds and validates the next
//! world and snapshot, commits to the database and only then swaps the new
//! state in. When another process committed first, the write catches up from
//! the change log and runs again, so its rules always see the latest state.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rolecall_engine::Snapshot;
use rolecall_model::world::{Defaults, World};
use rolecall_model::Catalog;
use rolecall_store::{
    now_ms, AccountWrite, AuditEntry, Batch, Model, OutgoingEmail, Put, Store, StoreError,
};
use tokio::sync::{watch, Mutex, Notify};

use crate::accounts::throttle::Throttle;
use crate::error::{FieldError, ServiceError};
use crate::passwords::Hasher;
use crate::principal::Principal;

/// One consistent state: the rows, the compiled snapshot, the revision.
#[derive(Debug)]
pub struct Live {
    /// Every stored row.
    pub model: Model,
    /// The compiled decisions.
    pub snapshot: Snapshot,
    /// The last revision applied.
    pub revision: i64,
}

/// A check run on the next snapshot before it is committed, e.g. "the
/// organization still has an administrator".
pub type Guard = Box<dyn FnOnce(&Live, &Live) -> Result<(), ServiceError> + Send>;

/// What a write does: the rows it puts, its audit records, and a value for
/// the caller.
pub struct Change<T> {
    /// Rows to write.
    pub puts: Vec<Put>,
    /// Audit records; the actor and source are the write's.
    pub audit: Vec<AuditEntry>,
    /// Checks on the state after the change (given before and after).
    pub guards: Vec<Guard>,
    /// Emails to send, queued in the outbox by the same transaction.
    pub emails: Vec<OutgoingEmail>,
    /// Credentials, sessions and reset links written by the same
    /// transaction (ending a disabled user's sessions, say).
    pub accounts: Vec<AccountWrite>,
    /// What the caller gets back.
    pub value: T,
}

impl<T> Change<T> {
    /// A change with rows and audit records.
    pub fn new(puts: Vec<Put>, audit: Vec<AuditEntry>, value: T) -> Change<T> {
        Change {
            puts,
            audit,
            guards: Vec::new(),
            emails: Vec::new(),
            accounts: Vec::new(),
            value,
        }
    }

    /// A change that writes nothing: the write commits nothing and answers
    /// the current revision (revoking a token that was already revoked).
    pub fn nothing(value: T) -> Change<T> {
        Change::new(Vec::new(), Vec::new(), value)
    }

    /// Whether it writes nothing at all.
    fn is_empty(&self) -> bool {
        self.puts.is_empty()
            && self.audit.is_empty()
            && self.emails.is_empty()
            && self.accounts.is_empty()
    }

    /// Adds a write to credentials, sessions or reset links.
    pub fn account(mut self, write: AccountWrite) -> Change<T> {
        self.accounts.push(write);
        self
    }

    /// Adds an email, sent only if the change commits.
    pub fn email(mut self, email: OutgoingEmail) -> Change<T> {
        self.emails.push(email);
        self
    }

    /// Adds a check on the resulting state.
    pub fn guard(
        mut self,
        guard: impl FnOnce(&Live, &Live) -> Result<(), ServiceError> + Send + 'static,
    ) -> Change<T> {
        self.guards.push(Box::new(guard));
        self
    }
}

/// How accounts behave in this process.
#[derive(Clone)]
pub struct Settings {
    /// Where people reach the console, for links in emails
    /// (`https://access.example.com`). Cookies are marked `Secure` when it
    /// is `https`.
    pub public_url: String,
    /// Password hashing.
    pub hasher: Hasher,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8080".to_owned(),
            hasher: Hasher::new(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// The service: shared by the HTTP handlers, the CLI and the follower.
#[derive(Debug)]
pub struct Service {
    settings: Settings,
    throttle: Throttle,
    store: Store,
    catalog: Arc<Catalog>,
    live: ArcSwap<Live>,
    writer: Mutex<()>,
    revision: watch::Sender<i64>,
    mail: Arc<Notify>,
    /// Signalled when a reset request is queued.
    reset: Arc<Notify>,
}

/// How long a read or check waits for `min_revision` before giving up.
pub const MAX_REVISION_WAIT: Duration = Duration::from_secs(5);

impl Service {
    /// Loads the database into a compiled snapshot, with default settings.
    pub async fn open(store: Store, catalog: Arc<Catalog>) -> Result<Arc<Service>, ServiceError> {
        Service::open_with(store, catalog, Settings::default()).await
    }

    /// Loads the database into a compiled snapshot.
    pub async fn open_with(
        store: Store,
        catalog: Arc<Catalog>,
        settings: Settings,
    ) -> Result<Arc<Service>, ServiceError> {
        let live = load(&store, &catalog).await?;
        let (revision, _) = watch::channel(live.revision);
        Ok(Arc::new(Service {
            settings,
            throttle: Throttle::default(),
            store,
            catalog,
            live: ArcSwap::from_pointee(live),
            writer: Mutex::new(()),
            revision,
            mail: Arc::new(Notify::new()),
            reset: Arc::new(Notify::new()),
        }))
    }

    /// How accounts behave.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Password hashing, bounded in concurrency.
    pub fn hasher(&self) -> &Hasher {
        &self.settings.hasher
    }

    /// Failed sign-ins per account and source address.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// The catalog decisions are made against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Signalled after a write that queued email, so the mail sender
    /// (`mail::run_sender`) delivers it without waiting for its next poll.
    pub fn mail_wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.mail)
    }

    /// Signalled after a reset request is queued, so the worker
    /// (`accounts::reset_requests::run_reset_requests`) handles it without
    /// waiting for its next poll.
    pub fn reset_wakeup(&self) -> Arc<Notify> {
        Arc::clone(&self.reset)
    }

    /// The current state. Lock-free; hold it only for one request.
    pub fn live(&self) -> arc_swap::Guard<Arc<Live>> {
        self.live.load()
    }

    /// The current state, owned.
    pub fn live_full(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// The last revision this process has applied.
    pub fn revision(&self) -> i64 {
        *self.revision.borrow()
    }

    /// Follows the revision this process has applied: background tasks (the
    /// expiry sweep) wake when the state changes.
    pub fn subscribe_revision(&self) -> watch::Receiver<i64> {
        self.revision.subscribe()
    }

    /// Waits until this process has applied `revision`, for at most
    /// [`MAX_REVISION_WAIT`]. A revision the database has not committed
    /// was never given to anyone: it is refused at once (422 naming
    /// `min_revision`) instead of waited for.
    pub async fn wait_for(&self, revision: Option<i64>) -> Result<(), ServiceError> {
        let Some(wanted) = revision else {
            return Ok(());
        };
        if wanted > self.revision() {
            let head = self.store.head().await?;
            if wanted > head {
                return Err(ServiceError::invalid(
                    "min_revision",
                    format!("revision {wanted} does not exist: the newest is {head}"),
                ));
            }
        }
        let mut rx = self.revision.subscribe();
        let reached = tokio::time::timeout(MAX_REVISION_WAIT, rx.wait_for(|r| *r >= wanted)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ServiceError::RevisionNotReached {
                wanted,
                at: self.revision(),
            }),
        }
    }

    /// Runs one write: `plan` computes the change from the current state;
    /// the result is validated, committed and published. Returns the new
    /// revision and the plan's value. Changes nothing when anything fails.
    /// A plan that writes nothing ([`Change::nothing`]) commits nothing and
    /// answers the current revision.
    pub async fn write<T>(
        &self,
        principal: &Principal,
        source: &str,
        plan: impl Fn(&Live) -> Result<Change<T>, ServiceError>,
    ) -> Result<(i64, T), ServiceError> {
        let _writing = self.writer.lock().await;
        loop {
            let current = self.live.load_full();
            let planned = match plan(&current) {
                Ok(change) if change.is_empty() => {
                    // Nothing to write, judged like a refusal: on the
                    // newest state only.
                    if self.store.head().await? > current.revision {
                        self.catch_up_locked().await?;
                        continue;
                    }
                    return Ok((current.revision, change.value));
                }
                planned => planned,
            };
            let planned = planned.and_then(|change| {
                let mut model = current.model.clone();
                model.apply_all(&change.puts);
                let next = compile(&self.catalog, model, current.revision + 1)?;
                Ok((change, next))
            });
            let planned = planned.and_then(|(mut change, next)| {
                for guard in std::mem::take(&mut change.guards) {
                    guard(&current, &next)?;
                }
                Ok((change, next))
            });
            let (change, next) = match planned {
                Ok(planned) => planned,
                Err(refused) => {
                    // A refusal judged on a stale state is no refusal: if
                    // another replica wrote since, catch up and plan again.
                    if self.store.head().await? > current.revision {
                        self.catch_up_locked().await?;
                        continue;
                    }
                    return Err(refused);
                }
            };
            let actor = principal.actor();
            let audit: Vec<AuditEntry> = change
                .audit
                .into_iter()
                .map(|mut entry| {
                    entry.actor.clone_from(&actor);
                    entry
                })
                .collect();
            match self
                .store
                .commit(
                    current.revision,
                    &actor,
                    &principal.source(source),
                    Batch {
                        puts: &change.puts,
                        audit: &audit,
                        emails: &change.emails,
                        accounts: &change.accounts,
                    },
                )
                .await
            {
                Ok(committed) => {
                    debug_assert_eq!(committed.revision, next.revision);
                    self.publish(next);
                    if !change.emails.is_empty() {
                        self.mail.notify_one();
                    }
                    return Ok((committed.revision, change.value));
                }
                Err(StoreError::Behind { .. }) => {
                    // Another replica wrote first: apply its changes and plan again.
                    self.catch_up_locked().await?;
                }
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Records an event that changes no access (a sign-in, a failed one, a
    /// password change): its audit records, account writes and emails, in
    /// one transaction and without a new revision.
    pub async fn record(
        &self,
        principal_actor: &str,
        source: &str,
        audit: Vec<AuditEntry>,
        accounts: Vec<AccountWrite>,
        emails: Vec<OutgoingEmail>,
    ) -> Result<(), ServiceError> {
        let audit: Vec<AuditEntry> = audit
            .into_iter()
            .map(|mut entry| {
                if entry.actor.is_empty() {
                    principal_actor.clone_into(&mut entry.actor);
                }
                entry
            })
            .collect();
        self.store
            .record(
                principal_actor,
                source,
                Batch {
                    puts: &[],
                    audit: &audit,
                    emails: &emails,
                    accounts: &accounts,
                },
            )
            .await?;
        if !emails.is_empty() {
            self.mail.notify_one();
        }
        Ok(())
    }

    /// Compiles the current model again for the current time, so roles and
    /// grants that have just ended stop counting. No database write: every
    /// replica does the same at the same time.
    pub async fn recompile(&self) -> Result<(), ServiceError> {
        let _writing = self.writer.lock().await;
        let current = self.live.load_full();
        let next = compile(&self.catalog, current.model.clone(), current.revision)?;
        self.live.store(Arc::new(next));
        Ok(())
    }

    /// Applies every change other processes committed since this one's
    /// revision. Called by the follower and after losing a write race.
    pub async fn catch_up(&self) -> Result<i64, ServiceError> {
        // Look first without the writer lock: a poll that waits for a
        // connection while the database is away must not hold up writes,
        // which are to be refused within seconds.
        if self.store.head().await? <= self.revision() {
            return Ok(self.revision());
        }
        let _writing = self.writer.lock().await;
        self.catch_up_locked().await
    }

    async fn catch_up_locked(&self) -> Result<i64, ServiceError> {
        let current = self.live.load_full();
        let changes = self.store.changes_since(current.revision).await?;
        let Some(&(last, _)) = changes.last() else {
            return Ok(current.revision);
        };
        let contiguous = changes
            .iter()
            .enumerate()
            .all(|(i, (revision, _))| *revision == current.revision + 1 + i as i64);
        let next = if contiguous {
            let mut model = current.model.clone();
            for (_, puts) in &changes {
                model.apply_all(puts);
            }
            compile(&self.catalog, model, last)?
        } else {
            // A gap can only come from a rolled-back sequence; reload whole.
            load(&self.store, &self.catalog).await?
        };
        let revision = next.revision;
        self.publish(next);
        Ok(revision)
    }

    fn publish(&self, next: Live) {
        let revision = next.revision;
        self.live.store(Arc::new(next));
        self.revision.send_replace(revision);
    }
}

async fn load(store: &Store, catalog: &Arc<Catalog>) -> Result<Live, ServiceError> {
    let (model, revision) = store.load().await?;
    compile(catalog, model, revision)
}

/// Validates the model as a world and compiles it, for the current time
/// (roles and grants that have ended are left out).
pub fn compile(catalog: &Arc<Catalog>, model: Model, revision: i64) -> Result<Live, ServiceError> {
    let world = World::build(
        catalog,
        &model.world_spec(now_ms()),
        Defaults::AlreadyApplied,
    )
    .map_err(|problems| ServiceError::Invalid {
        fields: problems
            .into_iter()
            .map(|p| FieldError::new(p.path.to_string(), p.message))
            .collect(),
    })?;
    let snapshot = Snapshot::build(Arc::clone(catalog), world);
    Ok(Live {
        model,
        snapshot,
        revision,
    })
}
