//! The audit key: the 256-bit secret that the audit chain and the change
//! log are sealed with (HMAC-SHA256).
//!
//! It lives outside the database — in a file of its own (64 hexadecimal
//! digits), or in an environment variable — so that someone who can write
//! the database file still cannot compute a record's MAC. It is never
//! printed, logged or stored in the database: the database holds only a
//! check value (a MAC of a fixed text), which tells a wrong key from the
//! right one without revealing either.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

/// What the check value stored in `heads.key_check` is the MAC of.
const CHECK_TEXT: &[u8] = b"rolecall audit key check v1";

/// What can go wrong reading or creating a key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read.
    #[error("cannot read the audit key `{path}`: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file cannot be created or written.
    #[error("cannot create the audit key `{path}`: {source}")]
    Uncreatable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a key. The text itself is never repeated.
    #[error("{what} does not hold an audit key: expected 64 hexadecimal digits (256 bits)")]
    Malformed {
        /// Where the text came from, e.g. "`/etc/rolecall/audit.key`".
        what: String,
    },
}

/// A 256-bit key for the audit chains. Its `Debug` shows no secret.
pub struct AuditKey {
    secret: SecretBox<[u8; 32]>,
    /// The MAC of [`CHECK_TEXT`], computed once: every write compares it
    /// with the database's.
    check: String,
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        let secret = SecretBox::new(Box::new(bytes));
        let check = mac_hex(secret.expose_secret(), &[CHECK_TEXT]);
        AuditKey { secret, check }
    }

    /// A new random key.
    pub fn generate() -> AuditKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        AuditKey::from_bytes(bytes)
    }

    /// Parses 64 hexadecimal digits (surrounding white space ignored);
    /// `what` names the source in the error, e.g. "`ROLECALL_AUDIT_KEY`".
    pub fn from_hex(text: &str, what: &str) -> Result<AuditKey, KeyError> {
        let malformed = || KeyError::Malformed {
            what: what.to_owned(),
        };
        let digits = text.trim().as_bytes();
        if digits.len() != 64 {
            return Err(malformed());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or_else(malformed)?;
            let low = hex_value(pair[1]).ok_or_else(malformed)?;
            *byte = high << 4 | low;
        }
        Ok(AuditKey::from_bytes(bytes))
    }

    /// Reads a key file.
    pub fn read_file(path: &Path) -> Result<AuditKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
            path: path.to_owned(),
            source,
        })?;
        AuditKey::from_hex(&text, &format!("`{}`", path.display()))
    }

    /// Creates a new key file holding a new random key, readable and
    /// writable by its owner only (mode 0600 on Unix). Refuses to replace
    /// an existing file.
    pub fn create_file(path: &Path) -> Result<AuditKey, KeyError> {
        let uncreatable = |source| KeyError::Uncreatable {
            path: path.to_owned(),
            source,
        };
        let key = AuditKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(uncreatable)?;
        let mut text = String::with_capacity(65);
        for byte in key.secret.expose_secret() {
            text.push_str(&format!("{byte:02x}"));
        }
        text.push('\n');
        file.write_all(text.as_bytes()).map_err(uncreatable)?;
        file.sync_all().map_err(uncreatable)?;
        Ok(key)
    }

    /// The check value the database keeps: the MAC of a fixed text.
    pub(crate) fn check_value(&self) -> &str {
        &self.check
    }

    /// The HMAC-SHA256 of the concatenated parts, in lowercase hex.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> String {
        mac_hex(self.secret.expose_secret(), parts)
    }
}

fn mac_hex(key: &[u8; 32], parts: &[&[u8]]) -> String {
    // HMAC takes a key of any length; 32 bytes never fails.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    for part in parts {
        mac.update(part);
    }
    let digest = mac.finalize().into_bytes();
    let mut text = String::with_capacity(64);
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_key_file_reads_back_the_same_key_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");

        let created = AuditKey::create_file(&path).unwrap();
        let read = AuditKey::read_file(&path).unwrap();

        assert_eq!(created.check_value(), read.check_value());
        assert!(AuditKey::create_file(&path).is_err(), "never replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn malformed_text_is_refused_without_repeating_it() {
        let error = AuditKey::from_hex("secret-ish", "`ROLECALL_AUDIT_KEY`").unwrap_err();

        let message = error.to_string();
        assert!(message.contains("`ROLECALL_AUDIT_KEY`"), "{message}");
        assert!(!message.contains("secret-ish"), "{message}");
        assert_eq!(format!("{:?}", AuditKey::generate()), "AuditKey(..)");
    }

    #[test]
    fn different_keys_have_different_check_values() {
        let one = AuditKey::from_bytes([1; 32]);
        let two = AuditKey::from_bytes([2; 32]);

        assert_ne!(one.check_value(), two.check_value());
        assert_eq!(one.mac(&[b"a", b"b"]), one.mac(&[b"ab"]));
    }
}
