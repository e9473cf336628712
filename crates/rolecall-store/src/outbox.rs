//! The email outbox: messages written in the same transaction as the change
//! that causes them, and delivered later by a sender.
//!
//! A write passes its [`OutgoingEmail`]s to [`Store::commit`]; they become
//! rows of `outbox` only if the write commits. A sender then reads what is
//! due ([`Store::due_emails`]), claims each message ([`Store::claim_email`])
//! so that no other replica sends it too, and records the outcome
//! ([`Store::mark_sent`] or [`Store::mark_failed`]). Nothing is ever dropped:
//! a failed message is retried until it is delivered.
//!
//! A claim is a lease: it moves the message's due time to the end of the
//! claim, so a claim held by a sender that died simply runs out. How long a
//! lease lasts, and why that is safe, is the sender's to say
//! (`rolecall_server::mail`). Every time here comes from the caller, so
//! tests can move the clock.
//!
//! Bodies may carry a temporary password or a reset link, so the `Debug`
//! forms here leave them out, and no error made here contains one.

use std::fmt;

use rand::Rng;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::store::{Store, StoreError};

/// An email a write wants sent, once it commits.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body. May hold a secret: never log it.
    pub body_text: String,
}

impl fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body_text", &"<redacted>")
            .finish()
    }
}

/// A message in the outbox, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    /// Random id; also the name of the message in the folder transport and
    /// the left part of its `Message-ID`, the same on every attempt.
    pub id: String,
    /// When the write that made it committed (ms since the epoch).
    pub created_at: i64,
    /// The recipient's address.
    pub recipient: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body. May hold a secret: never log it.
    pub body_text: String,
    /// Failed delivery attempts so far.
    pub attempts: i64,
    /// Not to be tried before this time (ms since the epoch).
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered; `None` until then.
    pub sent_at: Option<i64>,
}

impl fmt::Debug for QueuedEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueuedEmail")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .field("recipient", &self.recipient)
            .field("subject", &self.subject)
            .field("body_text", &"<redacted>")
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("last_error", &self.last_error)
            .field("sent_at", &self.sent_at)
            .finish()
    }
}

const COLUMNS: &str =
    "id, created_at, recipient, subject, body_text, attempts, next_attempt_at, last_error, sent_at";

fn from_row(row: &AnyRow) -> Result<QueuedEmail, StoreError> {
    Ok(QueuedEmail {
        id: row.try_get(0)?,
        created_at: row.try_get(1)?,
        recipient: row.try_get(2)?,
        subject: row.try_get(3)?,
        body_text: row.try_get(4)?,
        attempts: row.try_get(5)?,
        next_attempt_at: row.try_get(6)?,
        last_error: row.try_get(7)?,
        sent_at: row.try_get(8)?,
    })
}

/// A fresh random message id: `mail_` and 20 lowercase letters and digits,
/// safe as a file name.
fn new_email_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("mail_{tail}")
}

/// Inserts a write's emails inside its transaction, due at once.
pub(crate) async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    emails: &[OutgoingEmail],
    at: i64,
) -> Result<(), StoreError> {
    for email in emails {
        sqlx::query(
            "INSERT INTO outbox (id, created_at, recipient, subject, body_text, attempts, \
             next_attempt_at, last_error, sent_at) VALUES ($1, $2, $3, $4, $5, 0, $6, NULL, NULL)",
        )
        .bind(new_email_id())
        .bind(at)
        .bind(&email.to)
        .bind(&email.subject)
        .bind(&email.body_text)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Up to `limit` unsent messages due at `now`, the longest waiting first.
    pub async fn due_emails(&self, now: i64, limit: i64) -> Result<Vec<QueuedEmail>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, created_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// One message, sent or not.
    pub async fn email(&self, id: &str) -> Result<Option<QueuedEmail>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every unsent message, due or not, oldest first.
    pub async fn unsent_emails(&self) -> Result<Vec<QueuedEmail>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY created_at, id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Claims `email` (as read by [`Store::due_emails`]) for one sender by
    /// moving its due time to `lease_until`. True when this caller won: the
    /// update only matches while the due time is still the one it read, so
    /// of several senders (replicas sharing a database) exactly one wins and
    /// only the winner sends. Should the winner die, the message is due
    /// again when the lease ends.
    pub async fn claim_email(
        &self,
        email: &QueuedEmail,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE id = $2 AND next_attempt_at = $3 AND sent_at IS NULL",
        )
        .bind(lease_until)
        .bind(&email.id)
        .bind(email.next_attempt_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the message was delivered at `at`.
    pub async fn mark_sent(&self, id: &str, at: i64) -> Result<(), StoreError> {
        // The body may hold a temporary password or a reset link: once
        // delivered it is not kept.
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, last_error = NULL, body_text = '' WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: one more attempt, why it failed (never the
    /// body), and when to try again.
    pub async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
             WHERE id = $3 AND sent_at IS NULL",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
