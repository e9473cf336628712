//! An organization's password policy.
//!
//! The defaults follow NIST SP 800-63B (section 5.1.1.2): a minimum length of
//! 12 (NIST's floor is 8; 12 is today's common recommendation for accounts
//! that reach health records), no composition rule, no periodic expiry, and a
//! check against common passwords and the account's own email and name. NIST
//! discourages composition rules and expiry because they push people to
//! predictable patterns (`Summer2024!`) without adding strength; many HIPAA
//! organizations still require them by internal policy, so each is
//! configurable. Reuse of the last 5 passwords is refused by default, which
//! costs nothing when nobody is forced to rotate and matters when an
//! organization turns expiry on.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{common, Hasher, Password, PasswordError};

/// The longest password accepted, in characters: NIST asks for at least 64;
/// a bound keeps a request from making us hash a megabyte.
pub const MAX_LENGTH: usize = 128;

/// How an organization's passwords must look. (De)serializes as JSON;
/// deserializing validates every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyFields")]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values), 8 to 128. Default 12.
    pub min_length: usize,
    /// How many of the classes lowercase, uppercase, digit and symbol a
    /// password must use, 0 to 4. Default 0 (NIST: no composition rules).
    pub require_classes: u8,
    /// How many previous passwords may not be used again, 0 to 24. Default 5.
    pub reuse_last: usize,
    /// Days after which a password must be changed, 1 to 3650; never when
    /// absent. Default none (NIST: no periodic expiry).
    pub expires_after_days: Option<u32>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            require_classes: 0,
            reuse_last: 5,
            expires_after_days: None,
        }
    }
}

/// The wire form: every field optional (the default then applies), unknown
/// fields refused, then validated into a [`PasswordPolicy`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    min_length: Option<usize>,
    require_classes: Option<u8>,
    reuse_last: Option<usize>,
    #[serde(default)]
    expires_after_days: Option<u32>,
}

impl TryFrom<PolicyFields> for PasswordPolicy {
    type Error = PasswordError;

    fn try_from(fields: PolicyFields) -> Result<Self, Self::Error> {
        let defaults = Self::default();
        let policy = Self {
            min_length: fields.min_length.unwrap_or(defaults.min_length),
            require_classes: fields.require_classes.unwrap_or(defaults.require_classes),
            reuse_last: fields.reuse_last.unwrap_or(defaults.reuse_last),
            expires_after_days: fields.expires_after_days,
        };
        policy.validate()?;
        Ok(policy)
    }
}

/// Who the password is for: it may not be their email or name.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyContext<'a> {
    /// The account's email address.
    pub email: Option<&'a str>,
    /// The person's display name.
    pub name: Option<&'a str>,
}

/// One rule a candidate password breaks. Messages name the rule and never
/// repeat the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyProblem {
    /// Fewer characters than `min_length`.
    #[error("the password is too short: it needs at least {min} characters (rule `min_length`)")]
    TooShort {
        /// The policy's minimum.
        min: usize,
    },
    /// More than [`MAX_LENGTH`] characters.
    #[error("the password is too long: at most {max} characters (rule `max_length`)")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Too few character classes.
    #[error("the password uses {found} of the character classes lowercase, uppercase, digit and symbol; it needs {required} (rule `require_classes`)")]
    MissingClasses {
        /// The policy's requirement.
        required: u8,
        /// What the candidate uses.
        found: u8,
    },
    /// Equals the account's email (or its part before `@`) or name.
    #[error("the password must not be your email address or name (rule `personal_information`)")]
    Personal,
    /// One of the most commonly used passwords.
    #[error("the password is one of the most commonly used passwords (rule `common_passwords`)")]
    Common,
    /// One of the account's last passwords.
    #[error(
        "the password was used recently: it must differ from the last {last} (rule `reuse_last`)"
    )]
    Reused {
        /// The policy's `reuse_last`.
        last: usize,
    },
}

impl PasswordPolicy {
    /// Checks every field's range, naming the first field out of range.
    pub fn validate(&self) -> Result<(), PasswordError> {
        let invalid = |field, message: &str| {
            Err(PasswordError::InvalidPolicy {
                field,
                message: message.to_owned(),
            })
        };
        if !(8..=MAX_LENGTH).contains(&self.min_length) {
            return invalid("min_length", "must be between 8 and 128");
        }
        if self.require_classes > 4 {
            return invalid("require_classes", "must be between 0 and 4");
        }
        if self.reuse_last > 24 {
            return invalid("reuse_last", "must be between 0 and 24");
        }
        if self
            .expires_after_days
            .is_some_and(|days| !(1..=3650).contains(&days))
        {
            return invalid(
                "expires_after_days",
                "must be between 1 and 3650, or absent",
            );
        }
        Ok(())
    }

    /// Every rule `candidate` breaks (all of them, so a person can fix them
    /// in one go), or `Ok` when it may be used. Reuse needs the stored hashes:
    /// see [`PasswordPolicy::not_reused`].
    pub fn check(
        &self,
        candidate: &Password,
        context: &PolicyContext<'_>,
    ) -> Result<(), Vec<PolicyProblem>> {
        let plain = candidate.expose();
        let length = plain.chars().count();
        let mut problems = Vec::new();
        if length < self.min_length {
            problems.push(PolicyProblem::TooShort {
                min: self.min_length,
            });
        }
        if length > MAX_LENGTH {
            problems.push(PolicyProblem::TooLong { max: MAX_LENGTH });
        }
        let found = classes(plain);
        if found < self.require_classes {
            problems.push(PolicyProblem::MissingClasses {
                required: self.require_classes,
                found,
            });
        }
        if is_personal(plain, context) {
            problems.push(PolicyProblem::Personal);
        }
        if common::is_common(plain) {
            problems.push(PolicyProblem::Common);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether `candidate` differs from the newest `reuse_last` of
    /// `previous_hashes` (newest first), verified one at a time so a change
    /// of password holds one permit, not five.
    pub async fn not_reused(
        &self,
        hasher: &Hasher,
        candidate: &Password,
        previous_hashes: &[String],
    ) -> Result<bool, PasswordError> {
        for phc in previous_hashes.iter().take(self.reuse_last) {
            match hasher.verify(candidate, phc).await {
                Ok(_) => return Ok(false),
                Err(PasswordError::Mismatch) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(true)
    }

    /// Whether a password set at `changed_at` must be changed at `now`.
    pub fn is_expired(&self, changed_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        self.expires_after_days
            .is_some_and(|days| now - changed_at >= Duration::days(i64::from(days)))
    }
}

/// How many of lowercase, uppercase, digit and symbol (anything else) `text`
/// uses.
pub(super) fn classes(text: &str) -> u8 {
    let mut seen = [false; 4];
    for c in text.chars() {
        let class = if c.is_lowercase() {
            0
        } else if c.is_uppercase() {
            1
        } else if c.is_numeric() {
            2
        } else {
            3
        };
        seen[class] = true;
    }
    seen.iter().map(|&s| u8::from(s)).sum()
}

fn is_personal(plain: &str, context: &PolicyContext<'_>) -> bool {
    let candidate = plain.to_lowercase();
    let mut personal = Vec::new();
    if let Some(email) = context.email {
        personal.push(email.to_lowercase());
        if let Some((local, _)) = email.split_once('@') {
            personal.push(local.to_lowercase());
        }
    }
    if let Some(name) = context.name {
        personal.push(name.to_lowercase());
        // "Jane Doe" typed as "janedoe".
        personal.push(name.split_whitespace().collect::<String>().to_lowercase());
    }
    personal
        .iter()
        .any(|word| !word.is_empty() && *word == candidate)
}
