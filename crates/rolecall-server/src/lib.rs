//! rolecall's service: the write path, replication, the administrative
//! rules and the HTTP API.
//!
//! - [`service`]: the compiled snapshot every check reads (lock-free), and
//!   the write path that validates, commits and publishes a change;
//! - [`follow`]: how a replica follows the change log of a shared database;
//! - [`rules`]: who may do what, decided by the engine against the catalog's
//!   admin permissions;
//! - [`ops`]: every operation, shared by the HTTP API and the command line;
//! - [`console`]: the web console's pages, over the same operations;
//! - [`http`]: the axum router under `/v1`, problem+json errors, OpenAPI;
//! - [`accounts`]: security policies, sign-in and sessions, passwords and
//!   reset links, MFA, emergency access and time-bound grants;
//! - [`passwords`]: Argon2id hashing off the runtime, temporary passwords
//!   and password policies;
//! - [`mfa`]: TOTP second factors and recovery codes;
//! - [`mail`]: the sender that delivers the email outbox by SMTP (or into a
//!   folder when no SMTP server is configured);
//! - [`demo`]: the demo organizations and users of `serve --demo`;
//! - [`safe_csv`]: the CSV every export writes, with no cell a spreadsheet
//!   would run as a formula, and how an import reads it back.

pub mod accounts;
pub mod console;
pub mod demo;
pub mod error;
pub mod follow;
pub mod http;
pub mod mail;
pub mod mfa;
pub mod ops;
pub mod passwords;
pub mod principal;
pub mod rules;
pub mod safe_csv;
pub mod service;
pub mod tokens;

pub use error::{FieldError, ServiceError};
pub use principal::Principal;
pub use service::{Live, Service};
