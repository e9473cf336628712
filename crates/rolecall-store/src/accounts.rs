//! Credentials, sessions, password reset links and the reset requests
//! waiting to be handled.
//!
//! These rows are not part of the replicated [`crate::Model`]: they change
//! at every sign-in and no access decision reads them. They are written by
//! [`AccountWrite`]s, inside the same transaction as the audit records of
//! the event (see [`crate::Store::record`] and [`crate::Batch`]), and read
//! straight from the database, so every replica sees the same sessions and
//! lockouts.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::store::{json, parse_json, Store, StoreError, Tx};

/// A user's password and second factor: hashes only.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CredentialRow {
    /// The user.
    pub user: String,
    /// The current password's Argon2id PHC string; none when there is no
    /// usable password (a temporary one already used, or never set).
    pub password_hash: Option<String>,
    /// The hash is of a temporary password: it works once, and only to
    /// set a new one.
    pub temporary: bool,
    /// When the temporary password stops working (ms since the epoch).
    pub temporary_expires_at: Option<i64>,
    /// When the password was set (ms since the epoch).
    pub password_set_at: Option<i64>,
    /// Previous password hashes, newest first.
    pub history: Vec<String>,
    /// Consecutive failed sign-ins.
    pub failed_count: i64,
    /// The end of the lockout the failures caused (ms since the epoch).
    pub locked_until: Option<i64>,
    /// The confirmed TOTP secret (base32); none when not enrolled.
    pub totp_secret: Option<String>,
    /// A TOTP secret shown for enrolment, not yet confirmed by a code.
    pub totp_pending: Option<String>,
    /// The last TOTP time step used: a code works once.
    pub totp_last_step: Option<i64>,
    /// SHA-256 hashes of the unused recovery codes.
    pub recovery_codes: Vec<String>,
    /// When the row last changed (ms since the epoch).
    pub updated_at: i64,
}

impl std::fmt::Debug for CredentialRow {
    // Hashes and secrets stay out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRow")
            .field("user", &self.user)
            .field("has_password", &self.password_hash.is_some())
            .field("temporary", &self.temporary)
            .field("failed_count", &self.failed_count)
            .field("locked_until", &self.locked_until)
            .field("mfa", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a session is in signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Signed in: may do what the user may do.
    Active,
    /// Signed in with a temporary password (or an expired one): may only
    /// set a new password.
    ChangePassword,
    /// The password was right; a second factor is still due.
    Mfa,
    /// The organization requires MFA and the user has none yet: may only
    /// enrol.
    MfaEnroll,
}

impl Stage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Active => "active",
            Stage::ChangePassword => "change_password",
            Stage::Mfa => "mfa",
            Stage::MfaEnroll => "mfa_enroll",
        }
    }

    fn parse(text: &str) -> Result<Stage, StoreError> {
        match text {
            "active" => Ok(Stage::Active),
            "change_password" => Ok(Stage::ChangePassword),
            "mfa" => Ok(Stage::Mfa),
            "mfa_enroll" => Ok(Stage::MfaEnroll),
            other => Err(StoreError::Corrupt(format!("session stage `{other}`"))),
        }
    }
}

/// A console session. The cookie carries a secret; only its hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Public id, named in the audit log.
    pub id: String,
    /// Hex SHA-256 of the cookie's secret.
    pub secret_hash: String,
    /// The user signed in.
    pub user: String,
    /// The organization the session acts in.
    pub org: String,
    /// What is left to do before the session is fully signed in.
    pub stage: Stage,
    /// The anti-CSRF token that state-changing requests must echo.
    pub csrf: String,
    /// When it began (ms since the epoch).
    pub created_at: i64,
    /// When the password was last given (ms since the epoch).
    pub authenticated_at: i64,
    /// The last request (ms since the epoch), for the inactivity limit.
    pub last_seen_at: i64,
    /// When it ended, if it did.
    pub ended_at: Option<i64>,
    /// Why it ended: `sign_out`, `inactivity`, `disabled`, `password_reset`...
    pub end_reason: Option<String>,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("org", &self.org)
            .field("stage", &self.stage)
            .field("ended_at", &self.ended_at)
            .finish_non_exhaustive()
    }
}

/// A password reset link's token, stored hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetTokenRow {
    /// Hex SHA-256 of the token.
    pub secret_hash: String,
    /// Whose password it resets.
    pub user: String,
    /// When it was issued (ms since the epoch).
    pub created_at: i64,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
    /// When it was used; it works once.
    pub used_at: Option<i64>,
}

impl std::fmt::Debug for ResetTokenRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetTokenRow")
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// A request for a reset link, waiting for the worker that handles it off
/// the request path. It holds what the request gave (an email that may
/// have no account) and no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRequestRow {
    /// Random id.
    pub id: String,
    /// The email as the request gave it (trimmed).
    pub email: String,
    /// The client's address, for the audit record.
    pub source: String,
    /// When it was asked for (ms since the epoch).
    pub requested_at: i64,
}

/// One change to credentials, sessions or reset links, applied inside a
/// write's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountWrite {
    /// Create or replace a user's credentials.
    Credential(CredentialRow),
    /// Count a failed sign-in (atomically) and, when given, lock the
    /// account until then.
    SignInFailed {
        /// The user.
        user: String,
        /// The end of the lockout this failure starts, if it starts one.
        lock_until: Option<i64>,
    },
    /// Create or replace a session.
    Session(SessionRow),
    /// End every open session of a user.
    EndSessions {
        /// The user.
        user: String,
        /// When.
        at: i64,
        /// Why.
        reason: String,
    },
    /// End one session.
    EndSession {
        /// The session's id.
        id: String,
        /// When.
        at: i64,
        /// Why.
        reason: String,
    },
    /// Store a new reset token.
    ResetToken(ResetTokenRow),
    /// Void every unused reset link of a user (their email changed: links
    /// sent to the old address must not work).
    EndResetTokens {
        /// The user.
        user: String,
        /// When.
        at: i64,
    },
    /// Queue a reset request for the worker.
    ResetRequest(ResetRequestRow),
    /// Delete a handled reset request; the transaction fails with
    /// [`StoreError::Conflict`] if it is gone already (another replica
    /// handled it), so its link is not made twice.
    TakeResetRequest {
        /// The request's id.
        id: String,
    },
    /// Mark a reset token used; the transaction fails with
    /// [`StoreError::Conflict`] if it was used already (two tabs racing).
    UseResetToken {
        /// Hex SHA-256 of the token.
        secret_hash: String,
        /// When.
        at: i64,
    },
}

impl Store {
    /// A user's credentials, if any were ever set.
    pub async fn credential(&self, user: &str) -> Result<Option<CredentialRow>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, password_hash, temporary, temporary_expires_at, password_set_at, \
             history, failed_count, locked_until, totp_secret, totp_pending, totp_last_step, \
             recovery_codes, updated_at FROM credentials WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(credential_from_row).transpose()
    }

    /// The session whose cookie secret hashes to `secret_hash`.
    pub async fn session_by_secret(
        &self,
        secret_hash: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(&format!("{SESSION_COLUMNS} WHERE secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Every open session of a user, newest first.
    pub async fn open_sessions(&self, user: &str) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SESSION_COLUMNS} WHERE user_id = $1 AND ended_at IS NULL ORDER BY created_at DESC"
        ))
        .bind(user)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Records activity on an open session (no audit record: this is not
    /// an event, only the clock the inactivity limit runs on).
    pub async fn touch_session(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The reset token whose hash is `secret_hash`.
    pub async fn reset_token(
        &self,
        secret_hash: &str,
    ) -> Result<Option<ResetTokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT secret_hash, user_id, created_at, expires_at, used_at FROM reset_tokens \
             WHERE secret_hash = $1",
        )
        .bind(secret_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(ResetTokenRow {
                secret_hash: row.try_get(0)?,
                user: row.try_get(1)?,
                created_at: row.try_get(2)?,
                expires_at: row.try_get(3)?,
                used_at: row.try_get(4)?,
            })
        })
        .transpose()
    }
}

impl Store {
    /// Up to `limit` reset requests waiting, the oldest first.
    pub async fn reset_requests(&self, limit: i64) -> Result<Vec<ResetRequestRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, source, requested_at FROM reset_requests \
             ORDER BY requested_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ResetRequestRow {
                    id: row.try_get(0)?,
                    email: row.try_get(1)?,
                    source: row.try_get(2)?,
                    requested_at: row.try_get(3)?,
                })
            })
            .collect()
    }
}

const SESSION_COLUMNS: &str = "SELECT id, secret_hash, user_id, org_id, stage, csrf, created_at, \
     authenticated_at, last_seen_at, ended_at, end_reason FROM sessions";

fn session_from_row(row: &AnyRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id: row.try_get(0)?,
        secret_hash: row.try_get(1)?,
        user: row.try_get(2)?,
        org: row.try_get(3)?,
        stage: Stage::parse(&row.try_get::<String, _>(4)?)?,
        csrf: row.try_get(5)?,
        created_at: row.try_get(6)?,
        authenticated_at: row.try_get(7)?,
        last_seen_at: row.try_get(8)?,
        ended_at: row.try_get(9)?,
        end_reason: row.try_get(10)?,
    })
}

fn credential_from_row(row: &AnyRow) -> Result<CredentialRow, StoreError> {
    Ok(CredentialRow {
        user: row.try_get(0)?,
        password_hash: row.try_get(1)?,
        temporary: row.try_get::<i64, _>(2)? != 0,
        temporary_expires_at: row.try_get(3)?,
        password_set_at: row.try_get(4)?,
        history: parse_json(&row.try_get::<String, _>(5)?, "password history")?,
        failed_count: row.try_get(6)?,
        locked_until: row.try_get(7)?,
        totp_secret: row.try_get(8)?,
        totp_pending: row.try_get(9)?,
        totp_last_step: row.try_get(10)?,
        recovery_codes: parse_json(&row.try_get::<String, _>(11)?, "recovery codes")?,
        updated_at: row.try_get(12)?,
    })
}

/// Applies account writes inside a transaction.
pub(crate) async fn apply(tx: &mut Tx<'_>, writes: &[AccountWrite]) -> Result<(), StoreError> {
    for write in writes {
        match write {
            AccountWrite::Credential(c) => {
                sqlx::query(
                    "INSERT INTO credentials (user_id, password_hash, temporary, \
                     temporary_expires_at, password_set_at, history, failed_count, locked_until, \
                     totp_secret, totp_pending, totp_last_step, recovery_codes, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, \
                     temporary = excluded.temporary, \
                     temporary_expires_at = excluded.temporary_expires_at, \
                     password_set_at = excluded.password_set_at, history = excluded.history, \
                     failed_count = excluded.failed_count, locked_until = excluded.locked_until, \
                     totp_secret = excluded.totp_secret, totp_pending = excluded.totp_pending, \
                     totp_last_step = excluded.totp_last_step, \
                     recovery_codes = excluded.recovery_codes, updated_at = excluded.updated_at",
                )
                .bind(&c.user)
                .bind(&c.password_hash)
                .bind(i64::from(c.temporary))
                .bind(c.temporary_expires_at)
                .bind(c.password_set_at)
                .bind(json(&c.history))
                .bind(c.failed_count)
                .bind(c.locked_until)
                .bind(&c.totp_secret)
                .bind(&c.totp_pending)
                .bind(c.totp_last_step)
                .bind(json(&c.recovery_codes))
                .bind(c.updated_at)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::SignInFailed { user, lock_until } => {
                sqlx::query(
                    "UPDATE credentials SET failed_count = failed_count + 1, \
                     locked_until = COALESCE($1, locked_until) WHERE user_id = $2",
                )
                .bind(*lock_until)
                .bind(user)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::Session(s) => {
                sqlx::query(
                    "INSERT INTO sessions (id, secret_hash, user_id, org_id, stage, csrf, \
                     created_at, authenticated_at, last_seen_at, ended_at, end_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (id) DO UPDATE SET stage = excluded.stage, \
                     authenticated_at = excluded.authenticated_at, \
                     last_seen_at = excluded.last_seen_at, ended_at = excluded.ended_at, \
                     end_reason = excluded.end_reason",
                )
                .bind(&s.id)
                .bind(&s.secret_hash)
                .bind(&s.user)
                .bind(&s.org)
                .bind(s.stage.as_str())
                .bind(&s.csrf)
                .bind(s.created_at)
                .bind(s.authenticated_at)
                .bind(s.last_seen_at)
                .bind(s.ended_at)
                .bind(&s.end_reason)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::EndSessions { user, at, reason } => {
                sqlx::query(
                    "UPDATE sessions SET ended_at = $1, end_reason = $2 \
                     WHERE user_id = $3 AND ended_at IS NULL",
                )
                .bind(*at)
                .bind(reason)
                .bind(user)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::EndSession { id, at, reason } => {
                sqlx::query(
                    "UPDATE sessions SET ended_at = $1, end_reason = $2 \
                     WHERE id = $3 AND ended_at IS NULL",
                )
                .bind(*at)
                .bind(reason)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::ResetToken(r) => {
                sqlx::query(
                    "INSERT INTO reset_tokens (secret_hash, user_id, created_at, expires_at, \
                     used_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&r.secret_hash)
                .bind(&r.user)
                .bind(r.created_at)
                .bind(r.expires_at)
                .bind(r.used_at)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::EndResetTokens { user, at } => {
                sqlx::query(
                    "UPDATE reset_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
                )
                .bind(*at)
                .bind(user)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::ResetRequest(r) => {
                sqlx::query(
                    "INSERT INTO reset_requests (id, email, source, requested_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&r.id)
                .bind(&r.email)
                .bind(&r.source)
                .bind(r.requested_at)
                .execute(&mut **tx)
                .await?;
            }
            AccountWrite::TakeResetRequest { id } => {
                let taken = sqlx::query("DELETE FROM reset_requests WHERE id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                if taken != 1 {
                    return Err(StoreError::Conflict(
                        "the reset request was already handled".to_owned(),
                    ));
                }
            }
            AccountWrite::UseResetToken { secret_hash, at } => {
                let used = sqlx::query(
                    "UPDATE reset_tokens SET used_at = $1 \
                     WHERE secret_hash = $2 AND used_at IS NULL",
                )
                .bind(*at)
                .bind(secret_hash)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if used != 1 {
                    return Err(StoreError::Conflict(
                        "the reset link was already used".to_owned(),
                    ));
                }
            }
        }
    }
    Ok(())
}
