//! Multi-factor authentication: time-based one-time codes (TOTP) from an
//! authenticator app, and recovery codes for when the phone is lost.
//!
//! Pure functions with no I/O: the caller stores the secret, the last step
//! used and the recovery-code hashes, and passes them back in. Not yet wired
//! into the API.
//!
//! # Codes
//!
//! RFC 6238 with the parameters every authenticator app supports and most
//! support only: HMAC-SHA-1, 6 digits, a 30-second step, and a 160-bit random
//! secret (the length RFC 4226 recommends), shown to the user once as base32
//! and in an `otpauth://` URI for a QR code ([`otpauth_url`]). SHA-1's
//! collision weaknesses do not affect HMAC-SHA-1 (RFC 4226 appendix B.2).
//!
//! [`verify_code`] accepts the code of the current step or of one step either
//! side, the drift RFC 6238 section 5.2 recommends tolerating: a phone's clock
//! a little off, or a code typed just as it rolled over. It compares every
//! candidate in full, without stopping at the first differing byte or at the
//! first match, so the time it takes does not tell how close a guess was.
//!
//! # Replay
//!
//! A code works once: [`verify_code`] returns the step it matched, the caller
//! stores it, and a later code whose step is not after the stored one is
//! refused as reused (RFC 6238 section 5.2). Someone who watches a code being
//! typed therefore cannot sign in with it, even within its 30 seconds.
//!
//! # Throttling is the caller's job
//!
//! With three steps accepted, one guess of a 6-digit code succeeds with a
//! probability of 3 in a million. That is safe only if attempts are limited
//! (for example a lockout after a handful of failures); nothing here counts
//! them.
//!
//! # Recovery codes
//!
//! [`generate_recovery_codes`] makes ten codes like `k7qrm-x2fha`, ten
//! characters of a 31-symbol lowercase alphabet without the easily confused
//! `0`, `o`, `1`, `l` and `i`: about 49.5 bits each. The user sees them once;
//! only their SHA-256 hashes are stored, and [`use_recovery_code`] removes the
//! hash it matches, so each code works once.
//!
//! A fast hash rather than Argon2 is the usual practice here, and enough: the
//! codes are random, not chosen by a person, so there is no dictionary to try
//! first. Someone who steals the stored hashes must search about 2^49 codes
//! for each, and someone guessing online is stopped long before by the
//! attempt limit the caller enforces. Argon2 protects low-entropy passwords;
//! it adds little to a uniformly random 50-bit code.

use std::fmt;

use rand::Rng;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

/// Digits of a code (RFC 6238's default, the one every app shows).
pub const DIGITS: usize = 6;

/// Seconds per step: a code is valid for one step.
pub const STEP_SECONDS: u64 = 30;

/// Steps accepted either side of the current one, for clock drift.
pub const DRIFT_STEPS: i64 = 1;

/// Bytes of a new secret: 160 bits, RFC 4226's recommended length.
pub const SECRET_BYTES: usize = 20;

/// The shortest secret [`TotpSecret::from_base32`] accepts, in bytes
/// (128 bits, RFC 4226's minimum).
pub const MIN_SECRET_BYTES: usize = 16;

/// How many recovery codes [`generate_recovery_codes`] makes.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The characters of recovery codes: lowercase letters and digits without
/// `0`, `o`, `1`, `l` and `i`, which are misread on paper.
pub const RECOVERY_ALPHABET: &str = "abcdefghjkmnpqrstuvwxyz23456789";

/// Characters of a recovery code, not counting the dash after the fifth.
pub const RECOVERY_CODE_LENGTH: usize = 10;

/// What is wrong with a code or a stored secret. No message contains the
/// code or the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    /// The typed code is not six digits (spaces aside).
    #[error("the code must be 6 digits")]
    Malformed,
    /// The code matches none of the accepted steps.
    #[error("the code is not valid")]
    Wrong,
    /// The code is right but its step was already used.
    #[error("this code was already used; wait for the next one")]
    Reused,
    /// The stored secret is not base32, or is shorter than 128 bits.
    #[error("the stored authenticator secret is not base32 of at least 128 bits")]
    BadSecret,
}

/// A user's TOTP secret: base32 (RFC 4648, no padding) for storing and for
/// showing once at enrolment. Prints as `TotpSecret(***)` and is zeroed when
/// dropped.
#[derive(Clone)]
pub struct TotpSecret(Keys);

/// The two forms of the secret, both held so neither has to be decoded (and
/// fail) at each use.
#[derive(Clone)]
struct Keys {
    /// Canonical uppercase base32 without padding.
    base32: SecretString,
    /// The decoded key HMAC uses.
    raw: SecretSlice<u8>,
}

impl TotpSecret {
    /// A fresh 160-bit secret from the thread's cryptographically secure
    /// generator (seeded from the operating system).
    pub fn generate() -> Self {
        let mut raw = vec![0u8; SECRET_BYTES];
        rand::rng().fill(raw.as_mut_slice());
        Self::from_raw(raw)
    }

    /// The secret as stored. Accepts lowercase, surrounding whitespace and
    /// `=` padding; refuses anything that is not base32 of at least
    /// 128 bits.
    pub fn from_base32(encoded: &str) -> Result<Self, MfaError> {
        let normalized: String = encoded
            .trim()
            .trim_end_matches('=')
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if normalized.is_empty() {
            return Err(MfaError::BadSecret);
        }
        let raw = Secret::Encoded(normalized)
            .to_bytes()
            .map_err(|_| MfaError::BadSecret)?;
        if raw.len() < MIN_SECRET_BYTES {
            return Err(MfaError::BadSecret);
        }
        Ok(Self::from_raw(raw))
    }

    /// The base32 form, for storing and for showing once at enrolment.
    pub fn base32(&self) -> &str {
        self.0.base32.expose_secret()
    }

    fn from_raw(raw: Vec<u8>) -> Self {
        // Re-encoding makes the stored form canonical whatever was typed
        // (an encoded `Secret` displays as its base32 text).
        let base32 = Secret::Raw(raw.clone()).to_encoded().to_string();
        Self(Keys {
            base32: SecretString::from(base32),
            raw: SecretSlice::from(raw),
        })
    }

    /// The generator for this secret, labelled for an `otpauth://` URI.
    fn totp(&self, issuer: Option<String>, account: String) -> TOTP {
        // The length was checked when the secret was made; the other
        // parameters are RFC 6238's, which `TOTP::new` would accept.
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECONDS,
            self.0.raw.expose_secret().to_vec(),
            issuer,
            account,
        )
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

/// The `otpauth://totp/...` URI an authenticator app reads from a QR code:
/// `issuer` is the product's name (`rolecall`), `account` the user's email.
/// Both are percent-encoded; the parameters left out (SHA-1, 6 digits,
/// 30 seconds) are the format's defaults. The URI contains the secret: show
/// it once, never log it.
pub fn otpauth_url(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    // `TOTP::new` refuses a `:` in either name because the label joins them
    // with one; the unchecked constructor keeps this infallible, and a colon
    // is percent-encoded in the URI anyway.
    secret
        .totp(Some(issuer.to_owned()), account.to_owned())
        .get_url()
}

/// The code an authenticator shows at `now_unix_seconds`, for tests and
/// simulated authenticators.
pub fn current_code(secret: &TotpSecret, now_unix_seconds: u64) -> String {
    let totp = secret.totp(None, String::new());
    code_at_step(&totp, now_unix_seconds / STEP_SECONDS)
}

/// Checks a typed code at `now_unix_seconds` against the current step and
/// one step either side, and returns the step it matched: store it and pass
/// it back as `last_used_step` next time, so the code works only once.
///
/// Spaces (and tabs or line breaks) in the typed code are ignored, since
/// apps show codes as `123 456`.
pub fn verify_code(
    secret: &TotpSecret,
    code: &str,
    now_unix_seconds: u64,
    last_used_step: Option<i64>,
) -> Result<i64, MfaError> {
    let typed: Vec<u8> = code
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if typed.len() != DIGITS || !typed.iter().all(u8::is_ascii_digit) {
        return Err(MfaError::Malformed);
    }

    let totp = secret.totp(None, String::new());
    let current = i64::try_from(now_unix_seconds / STEP_SECONDS).unwrap_or(i64::MAX);
    // Every candidate is computed and compared in full; the latest match
    // wins, so an older step that happens to share the code cannot make a
    // fresh code look reused.
    let mut matched: Option<i64> = None;
    for step in current.saturating_sub(DRIFT_STEPS)..=current.saturating_add(DRIFT_STEPS) {
        let Ok(unsigned) = u64::try_from(step) else {
            // Before the epoch: no such step.
            continue;
        };
        let expected = code_at_step(&totp, unsigned);
        if same_bytes(expected.as_bytes(), &typed) {
            matched = Some(step);
        }
    }

    match (matched, last_used_step) {
        (None, _) => Err(MfaError::Wrong),
        (Some(step), Some(last)) if step <= last => Err(MfaError::Reused),
        (Some(step), _) => Ok(step),
    }
}

/// Ten fresh recovery codes to show the user once (`xxxxx-xxxxx`, see
/// [`RECOVERY_ALPHABET`]), and their hashes ([`hash_recovery_code`]) in the
/// same order, which is what to store.
pub fn generate_recovery_codes() -> (Vec<String>, Vec<String>) {
    let alphabet = RECOVERY_ALPHABET.as_bytes();
    let mut rng = rand::rng();
    let mut codes: Vec<String> = Vec::with_capacity(RECOVERY_CODE_COUNT);
    while codes.len() < RECOVERY_CODE_COUNT {
        let mut code = String::with_capacity(RECOVERY_CODE_LENGTH + 1);
        for position in 0..RECOVERY_CODE_LENGTH {
            if position == RECOVERY_CODE_LENGTH / 2 {
                code.push('-');
            }
            // `random_range` is unbiased: every character equally likely.
            code.push(char::from(alphabet[rng.random_range(0..alphabet.len())]));
        }
        // A repeat has odds of about 2^-43, but two equal codes would leave
        // the user one fewer than promised.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let hashes = codes.iter().map(|code| hash_recovery_code(code)).collect();
    (codes, hashes)
}

/// The lowercase hex SHA-256 of a recovery code, after trimming, lowercasing
/// and dropping spaces and dashes, so `K7QRM X2FHA` and `k7qrm-x2fha` hash
/// alike.
pub fn hash_recovery_code(code: &str) -> String {
    let normalized: String = code
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    format!("{:x}", Sha256::digest(normalized.as_bytes()))
}

/// When `typed` matches one of `stored_hashes`, the hashes that remain
/// (store them: the code is spent); `None` when it matches none.
pub fn use_recovery_code(stored_hashes: &[String], typed: &str) -> Option<Vec<String>> {
    let typed_hash = hash_recovery_code(typed);
    // Compare with every stored hash in full, so the time taken does not
    // tell which one, if any, shares a prefix with the guess.
    let mut matched: Option<usize> = None;
    for (index, stored) in stored_hashes.iter().enumerate() {
        if same_bytes(stored.as_bytes(), typed_hash.as_bytes()) && matched.is_none() {
            matched = Some(index);
        }
    }
    let matched = matched?;
    Some(
        stored_hashes
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != matched)
            .map(|(_, hash)| hash.clone())
            .collect(),
    )
}

/// The code of one step.
fn code_at_step(totp: &TOTP, step: u64) -> String {
    totp.generate(step.saturating_mul(STEP_SECONDS))
}

/// Whether two byte strings are equal, looking at every byte whatever the
/// first difference (the lengths are not secret).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the optimizer from turning the fold back into an early exit.
    std::hint::black_box(difference) == 0
}
