//! Passwords: how they are hashed, verified, generated and judged.
//!
//! Not yet wired into the API: this is the foundation that sign-in, password
//! changes and resets build on (HIPAA 164.312(d), ONC 170.315(d)(1)).
//!
//! # Hashing
//!
//! Argon2id (RFC 9106), stored as a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so every stored hash
//! carries the parameters it was made with and older ones keep verifying
//! after the defaults change; [`Verified::needs_rehash`] tells the caller to
//! store a fresh hash while it holds the plaintext.
//!
//! Production parameters ([`HashParams::PRODUCTION`]): m = 19456 KiB
//! (19 MiB), t = 2, p = 1, a 16-byte random salt and a 32-byte output. This is
//! the first of OWASP's equivalent Argon2id configurations (Password Storage
//! Cheat Sheet, 2023) and argon2's own default: it costs an attacker 19 MiB of
//! memory per guess, which is what defeats GPU farms, while keeping one
//! sign-in cheap enough to serve bursts. Measured on the build machine
//! (2 vCPUs, Xeon 2.8 GHz, release build, under load from other builds):
//! 35 to 46 ms per hash or verify (`measure_the_production_cost` in
//! `tests/passwords.rs`), so with the default permits (one per CPU) this
//! machine verifies about 50 sign-ins a second and never holds more than
//! 19 MiB × permits for hashing.
//!
//! # Off the async runtime, bounded
//!
//! A hash is deliberately slow and memory-hard: run on a runtime worker it
//! would stall every request scheduled there. [`Hasher`] runs each one under
//! [`tokio::task::spawn_blocking`] while holding a permit of a semaphore
//! (one per CPU by default), so a burst of sign-ins queues for the permits
//! instead of starving request handling or exhausting memory.
//!
//! # Unknown accounts
//!
//! Comparison is argon2's (constant time). A sign-in for an account that does
//! not exist must still spend a hash, or its quick answer would reveal which
//! accounts exist: call [`Hasher::burn`].

mod common;
mod policy;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use tokio::sync::Semaphore;

pub use policy::{PasswordPolicy, PolicyContext, PolicyProblem, MAX_LENGTH};

/// A password in memory: prints as `***` and is zeroed when dropped.
///
/// It deserializes from a JSON string (a sign-in body) but deliberately does
/// not serialize, so it cannot be echoed into a response by accident.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Wraps a plaintext password.
    pub fn new(plaintext: impl Into<String>) -> Self {
        Self(SecretString::from(plaintext.into()))
    }

    /// The plaintext, for hashing and the policy checks only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// No password: what a form sent without the field holds, refused by
/// whatever checks it.
impl Default for Password {
    fn default() -> Self {
        Password::from(String::new())
    }
}

impl From<String> for Password {
    fn from(plaintext: String) -> Self {
        Self::new(plaintext)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// What went wrong hashing or verifying. No message ever contains the
/// password or the stored hash.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password does not match the stored hash.
    #[error("the password does not match")]
    Mismatch,
    /// The stored hash is not a PHC string argon2 can verify.
    #[error("the stored password hash is malformed")]
    MalformedHash,
    /// Argon2 refused the parameters.
    #[error("invalid hashing parameters: {0}")]
    InvalidParams(String),
    /// Hashing failed for another reason (argon2's message).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The blocking task panicked or was cancelled.
    #[error("the password hashing task did not finish")]
    Worker,
    /// A password policy has a field out of range; nothing was changed.
    #[error("invalid password policy: {field}: {message}")]
    InvalidPolicy {
        /// The policy field, e.g. `min_length`.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// The outcome of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The stored hash was made with other parameters (or another Argon2
    /// variant) than the current ones: hash the password again and store it.
    pub needs_rehash: bool,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory per hash in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over the memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP 2023's first Argon2id configuration; see the module docs.
    pub const PRODUCTION: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };
}

impl Default for HashParams {
    fn default() -> Self {
        Self::PRODUCTION
    }
}

/// Hashes and verifies passwords off the async runtime, at most `permits`
/// at once. Cheap to clone: clones share the permits.
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    /// The parameters new hashes are made with.
    params: Params,
    /// Bounds how many hashes run at once (CPU and memory).
    permits: Semaphore,
    /// A hash of no known password, with the current parameters, so that
    /// [`Hasher::burn`] costs exactly what a real verification costs.
    dummy: String,
    /// Hashes running now, for [`Hasher::peak_concurrency`].
    running: AtomicUsize,
    /// The most that ever ran at once.
    peak: AtomicUsize,
    /// Verifications run so far, real or burnt, for [`Hasher::verifications`].
    verifications: AtomicUsize,
}

impl Hasher {
    /// Production parameters, one permit per CPU.
    pub fn new() -> Self {
        let permits = std::thread::available_parallelism().map_or(1, |n| n.get());
        match Self::with_params(HashParams::PRODUCTION, permits) {
            Ok(hasher) => hasher,
            // The production constants are valid; this arm only keeps the
            // constructor infallible without an `expect`.
            Err(_) => unreachable!("the production Argon2 parameters are valid"),
        }
    }

    /// Chosen parameters (cheaper ones make tests fast) and permits (at
    /// least one).
    pub fn with_params(params: HashParams, permits: usize) -> Result<Self, PasswordError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(Params::DEFAULT_OUTPUT_LEN),
        )
        .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
        let dummy = dummy_hash(&params)?;
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                permits: Semaphore::new(permits.max(1)),
                dummy,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                verifications: AtomicUsize::new(0),
            }),
        })
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        HashParams {
            memory_kib: self.inner.params.m_cost(),
            iterations: self.inner.params.t_cost(),
            parallelism: self.inner.params.p_cost(),
        }
    }

    /// A PHC string of `password` with a fresh random salt.
    pub async fn hash(&self, password: &Password) -> Result<String, PasswordError> {
        let password = password.clone();
        self.run(move |inner| {
            let salt = SaltString::generate(&mut OsRng);
            argon2id(&inner.params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| PasswordError::Hashing(e.to_string()))
        })
        .await
    }

    /// Whether `password` matches the stored PHC string `phc`, made with
    /// these or any older parameters.
    pub async fn verify(&self, password: &Password, phc: &str) -> Result<Verified, PasswordError> {
        let password = password.clone();
        let phc = phc.to_owned();
        self.inner.verifications.fetch_add(1, Ordering::SeqCst);
        self.run(move |inner| verify_blocking(&inner.params, &password, &phc))
            .await
    }

    /// Spends one verification against a hash of no known password, for a
    /// sign-in naming an account that does not exist: the answer then takes
    /// as long as a wrong password for a real account.
    pub async fn burn(&self, password: &Password) {
        let password = password.clone();
        self.inner.verifications.fetch_add(1, Ordering::SeqCst);
        // The outcome is a mismatch (or an error) either way; only the time
        // spent matters.
        let _ = self
            .run(move |inner| verify_blocking(&inner.params, &password, &inner.dummy))
            .await;
    }

    /// The most hashes that ever ran at once: never more than the permits.
    /// For monitoring and for the tests that prove the bound.
    pub fn peak_concurrency(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// How many password verifications ([`Hasher::verify`] and
    /// [`Hasher::burn`], which cost the same) were started so far: what
    /// the tests compare to show that two answers cost the same work.
    pub fn verifications(&self) -> usize {
        self.inner.verifications.load(Ordering::SeqCst)
    }

    /// Runs `work` on the blocking pool while holding a permit.
    async fn run<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, PasswordError> + Send + 'static,
    {
        // The semaphore is never closed, so acquiring fails only if it were;
        // report that like a failed worker rather than panicking.
        let permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Worker)?;
        let inner = Arc::clone(&self.inner);
        let outcome = tokio::task::spawn_blocking(move || {
            let now = inner.running.fetch_add(1, Ordering::SeqCst) + 1;
            inner.peak.fetch_max(now, Ordering::SeqCst);
            let outcome = work(&inner);
            inner.running.fetch_sub(1, Ordering::SeqCst);
            outcome
        })
        .await;
        drop(permit);
        outcome.map_err(|_| PasswordError::Worker)?
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params())
            .field("available_permits", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

fn argon2id(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn verify_blocking(
    current: &Params,
    password: &Password,
    phc: &str,
) -> Result<Verified, PasswordError> {
    let stored = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    let stored_params = Params::try_from(&stored).map_err(|_| PasswordError::MalformedHash)?;
    // Argon2 reads the algorithm, version and costs from the stored hash, so
    // hashes made with older parameters keep verifying.
    match Argon2::default().verify_password(password.expose().as_bytes(), &stored) {
        Ok(()) => {}
        Err(argon2::password_hash::Error::Password) => return Err(PasswordError::Mismatch),
        Err(_) => return Err(PasswordError::MalformedHash),
    }
    let same = stored.algorithm == Algorithm::Argon2id.ident()
        && stored.version == Some(Version::V0x13.into())
        && stored_params.m_cost() == current.m_cost()
        && stored_params.t_cost() == current.t_cost()
        && stored_params.p_cost() == current.p_cost()
        && stored.hash.map(|h| h.len()) == current.output_len();
    Ok(Verified {
        needs_rehash: !same,
    })
}

/// A PHC string with the current parameters, a random salt and a random
/// output: no password hashes to it (short of a 2^-256 chance), and checking
/// one against it costs a full hash.
fn dummy_hash(params: &Params) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut bytes = [0u8; Params::DEFAULT_OUTPUT_LEN];
    OsRng.fill_bytes(&mut bytes);
    let output = Output::new(&bytes).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        output
    ))
}

/// The characters of temporary passwords: no `0`/`O`/`o`, `1`/`l`/`I`, which
/// are misread when a password is read out or copied from paper, and no `=`,
/// which an email's quoted-printable body writes as `=3D` (so the password
/// reads the same in the raw message as in a mail program).
pub const TEMPORARY_ALPHABET: &str =
    "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%+?@";

/// Length of [`temporary_password`]s: 16 characters of a 62-symbol alphabet,
/// about 95 bits.
pub const TEMPORARY_LENGTH: usize = 16;

/// A fresh temporary password from the OS random source: 16 characters of
/// [`TEMPORARY_ALPHABET`] with at least one lowercase letter, uppercase
/// letter, digit and symbol, so it satisfies every policy's character-class
/// rule.
///
/// # Panics
///
/// If the operating system's random source fails: no safe password can be
/// made then.
pub fn temporary_password() -> Password {
    let alphabet = TEMPORARY_ALPHABET.as_bytes();
    // Bytes at or above the largest multiple of the alphabet's length are
    // rejected, so every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    loop {
        let mut candidate = String::with_capacity(TEMPORARY_LENGTH);
        let mut buffer = [0u8; 64];
        while candidate.len() < TEMPORARY_LENGTH {
            OsRng.fill_bytes(&mut buffer);
            for &byte in &buffer {
                if usize::from(byte) < limit && candidate.len() < TEMPORARY_LENGTH {
                    candidate.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
                }
            }
        }
        // Redrawing the whole password when a class is missing keeps the
        // accepted ones uniformly distributed.
        if policy::classes(&candidate) == 4 {
            return Password::new(candidate);
        }
    }
}
