//! The mail sender: delivers the outbox (see [`rolecall_store::outbox`]) by
//! SMTP, or into a folder when no SMTP server is configured.
//!
//! A write queues its emails in its own transaction; this sender delivers
//! them afterwards, so a change never commits without its email and an
//! email is not lost while the SMTP server is down: a failed message is
//! retried with exponential backoff (5 s doubling to 15 min), forever.
//!
//! # Claims: one sender at a time, and soon another if it dies
//!
//! Several replicas may run a sender on one database. A sender claims a
//! message before it sends it, by moving the message's due time a lease of
//! 30 s ahead ([`Store::claim_email`]): of senders racing for a message
//! exactly one wins, and the others leave it alone until the lease ends.
//! The lease is short so that a sender that dies holding messages (killed,
//! crashed, its machine gone) delays them by half a minute and no more:
//! when the lease ends the next sender to look (the same process restarted,
//! or any replica, each looks every second) sends them.
//!
//! A short lease is safe because a live sender is always done with a
//! message before its lease ends: one attempt is cut off after 15 s however
//! slowly the SMTP server answers, and a batch claims messages only during
//! its first 10 s, so every attempt ends at least 5 s before its lease.
//! Those 5 s are the margin for recording the outcome and for the clocks of
//! replicas, which compare leases in wall-clock time and so must agree to
//! within a few seconds (NTP).
//!
//! Senders carry no identity: a restarted process is one more sender, and
//! its predecessor's claims run out within the lease like anyone's. An
//! identity that let it take them back at once would save at most 30 s, and
//! would need a name per replica that operators keep unique, since two
//! processes under one name would both send.
//!
//! # At least once, and recognisably so
//!
//! When the SMTP server took a message but the sender never heard so (the
//! connection dropped before the reply, the attempt was cut off at the last
//! moment), or the database failed before [`Store::mark_sent`], the message
//! is sent again. Every attempt at one outbox row carries the same
//! `Message-ID`, `<row id@domain of the From address>`, so the receiving
//! side can recognise the second as a duplicate; in the folder it replaces
//! the same `<row id>.eml`.
//!
//! Message bodies may hold temporary passwords or reset links: they are
//! never logged and never part of an error; an SMTP password in the
//! configured URL is never shown either ([`MailConfig`]'s `Display` and
//! `Debug` redact it).

mod transport;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use rolecall_store::{now_ms, Store, StoreError};
use tokio::sync::Notify;
use tokio::time::Instant;

use transport::{Transport, ATTEMPT_TIMEOUT};

/// The variable naming the SMTP server: `smtp://host:port` (no TLS, for
/// loopback), `smtp://user:pass@host?tls=required` (STARTTLS) or
/// `smtps://user:pass@host` (TLS from the start).
pub const SMTP_URL_VAR: &str = "ROLECALL_SMTP_URL";
/// The variable naming the From address.
pub const FROM_VAR: &str = "ROLECALL_MAIL_FROM";
/// The From address when [`FROM_VAR`] is not set.
pub const DEFAULT_FROM: &str = "rolecall <no-reply@rolecall.invalid>";
/// The folder, next to the database, that takes the mail when no SMTP
/// server is configured.
pub const DEFAULT_FOLDER: &str = "rolecall-mail";

/// How many messages one [`deliver_due`] sends at most.
const BATCH: i64 = 50;
/// How long a claim keeps other senders off a message.
const LEASE: Duration = Duration::from_secs(30);
/// How long after its start a batch still claims messages: a message
/// claimed later could not be done with before its lease ends.
const CLAIM_WINDOW: Duration = Duration::from_secs(10);
/// What a claim leaves to spare after its attempt: time to record the
/// outcome, and for the clocks of replicas to disagree.
const MARGIN: Duration = Duration::from_secs(5);
const _: () = assert!(
    CLAIM_WINDOW.as_millis() + ATTEMPT_TIMEOUT.as_millis() + MARGIN.as_millis()
        <= LEASE.as_millis(),
    "an attempt must end before its lease does"
);
/// The first retry delay; each further failure doubles it...
const FIRST_RETRY_MS: i64 = 5_000;
/// ...up to this.
const MAX_RETRY_MS: i64 = 15 * 60 * 1000;
/// How often [`run_sender`] looks for due mail without being woken.
const POLL: Duration = Duration::from_secs(1);
/// The longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 500;

/// Where mail goes.
#[derive(Clone, PartialEq, Eq)]
pub enum MailConfig {
    /// An SMTP server.
    Smtp {
        /// Its URL, as lettre's `AsyncSmtpTransport::from_url` reads it. May
        /// hold a password.
        url: String,
    },
    /// A folder: each message becomes `<id>.eml` in it.
    Folder {
        /// The folder, created when the first message is written.
        path: PathBuf,
    },
}

impl MailConfig {
    /// SMTP when [`SMTP_URL_VAR`] is set, otherwise the folder `default_folder`.
    pub fn from_env(default_folder: PathBuf) -> MailConfig {
        match std::env::var(SMTP_URL_VAR) {
            Ok(url) if !url.trim().is_empty() => MailConfig::Smtp {
                url: url.trim().to_owned(),
            },
            _ => MailConfig::Folder {
                path: default_folder,
            },
        }
    }

    /// The folder used without SMTP for the database at `database_url`:
    /// [`DEFAULT_FOLDER`] beside a SQLite file, or in the working directory
    /// for PostgreSQL.
    pub fn default_folder(database_url: &str) -> PathBuf {
        let path = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .or(if database_url.contains("://") {
                None
            } else {
                Some(database_url)
            });
        let dir = path
            .map(|p| p.split('?').next().unwrap_or(p))
            .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
            .unwrap_or_default();
        dir.join(DEFAULT_FOLDER)
    }
}

impl fmt::Display for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailConfig::Smtp { url } => write!(f, "SMTP {}", redact(url)),
            MailConfig::Folder { path } => write!(f, "folder {}", path.display()),
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `url` with the password (if any) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// What stops the sender (a failed message is no error: it is retried).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The configuration cannot work (a bad From address or SMTP URL).
    #[error("mail configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The delay before the next attempt after `attempts` failures (at least 1).
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_MS)
}

/// The From address: [`FROM_VAR`] or [`DEFAULT_FROM`].
fn from_address() -> Result<Mailbox, MailError> {
    let from = std::env::var(FROM_VAR).unwrap_or_else(|_| DEFAULT_FROM.to_owned());
    from.parse()
        .map_err(|e| MailError::Config(format!("{FROM_VAR} `{from}` is not an address: {e}")))
}

fn truncate(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_CHARS) {
        text.truncate(cut);
    }
    text
}

/// Sends one batch of the mail due at `now`: claims each message, sends it,
/// records the outcome. Returns how many were delivered. A message that
/// fails is kept, with its attempts counted and its next try pushed back.
///
/// `now` is the current time (ms since the epoch; a parameter so that tests
/// can move it). Every claim lasts until `now` plus the lease, so the batch
/// claims messages only in its first seconds, by the monotonic clock, and
/// leaves the rest to the next batch (see the module docs).
pub async fn deliver_due(store: &Store, config: &MailConfig, now: i64) -> Result<usize, MailError> {
    let started = Instant::now();
    let due = store.due_emails(now, BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let from = from_address()?;
    let transport = Transport::new(config)?;
    let lease_until = now.saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX));
    let mut sent = 0;
    for email in due {
        if started.elapsed() > CLAIM_WINDOW {
            break;
        }
        if !store.claim_email(&email, lease_until).await? {
            // Another sender has it.
            continue;
        }
        match transport.attempt(&email, &from).await {
            Ok(()) => {
                store.mark_sent(&email.id, now).await?;
                sent += 1;
            }
            Err(why) => {
                let attempts = email.attempts + 1;
                let next = now + backoff_ms(attempts);
                let why = truncate(why);
                tracing::warn!(id = %email.id, attempts, retry_at_ms = next, error = %why, "email not delivered; will retry");
                store.mark_failed(&email.id, &why, next).await?;
            }
        }
    }
    Ok(sent)
}

/// Delivers the outbox until `shutdown` completes: a batch every second, and
/// at once when `wake` is notified (the service does after a write that
/// queued email). Errors are logged and the loop goes on.
pub async fn run_sender(
    store: Store,
    config: MailConfig,
    wake: Arc<Notify>,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(mail = %config, "mail sender started");
    tokio::pin!(shutdown);
    loop {
        let more = match deliver_due(&store, &config, now_ms()).await {
            Ok(sent) => sent as i64 >= BATCH,
            Err(e) => {
                tracing::warn!(error = %e, "mail sender");
                false
            }
        };
        if more {
            // A full batch: more may be waiting, go on at once.
            continue;
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
    tracing::info!("mail sender stopped");
}
