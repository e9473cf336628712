//! An organization's security policy: passwords, sign-in throttling,
//! automatic logoff, re-authentication, MFA and emergency access. Set under
//! `web.manage_security_policies`; an organization without one uses the
//! defaults below.

use rolecall_store::Model;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ServiceError};
use crate::passwords::PasswordPolicy;

/// The policy of one organization. Every field has a default; the JSON
/// form refuses unknown fields and values out of range, naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityPolicy {
    /// How passwords must look (length, character classes, reuse, expiry).
    #[schema(value_type = Object)]
    pub password: PasswordPolicy,
    /// Minutes without a request after which a console session ends
    /// (HIPAA 164.312(a)(2)(iii) automatic logoff), 1 to 1440. Default 15.
    pub session_timeout_minutes: u32,
    /// Consecutive failed sign-ins that lock the account, 3 to 20.
    /// Default 5.
    pub lockout_threshold: u32,
    /// Minutes a locked account stays locked, 1 to 1440. Default 15.
    pub lockout_minutes: u32,
    /// Minutes after giving their password within which a user may take a
    /// sensitive action (grant an administrator role, change this policy,
    /// issue a token) without giving it again, 1 to 60. Default 5.
    pub reauth_minutes: u32,
    /// Minutes a temporary password works, 10 to 43200 (30 days). Default
    /// 10080 (7 days).
    pub temporary_password_minutes: u32,
    /// Minutes a password reset link works, 5 to 1440. Default 60.
    pub reset_link_minutes: u32,
    /// Every user of the organization must use a second factor (TOTP).
    /// Default false: optional per user.
    pub mfa_required: bool,
    /// Who may break the glass, and what they get.
    pub emergency: EmergencyPolicy,
}

/// Emergency access ("break the glass"): users named here may give
/// themselves `roles` in the organization for at most `max_minutes`, by
/// stating a reason; every use is audited and listed for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EmergencyPolicy {
    /// The pre-authorized users (ids).
    pub users: Vec<String>,
    /// The roles they receive (ids).
    pub roles: Vec<String>,
    /// The longest an emergency access may last, 5 to 1440 minutes.
    /// Default 60.
    pub max_minutes: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            password: PasswordPolicy::default(),
            session_timeout_minutes: 15,
            lockout_threshold: 5,
            lockout_minutes: 15,
            reauth_minutes: 5,
            temporary_password_minutes: 7 * 24 * 60,
            reset_link_minutes: 60,
            mfa_required: false,
            emergency: EmergencyPolicy::default(),
        }
    }
}

const MINUTE_MS: i64 = 60_000;

impl SecurityPolicy {
    /// The policy of `org`: the stored one, or the defaults.
    pub fn of(model: &Model, org: &str) -> SecurityPolicy {
        model
            .policies
            .get(org)
            .and_then(|row| serde_json::from_value(row.policy.clone()).ok())
            .unwrap_or_default()
    }

    /// The policy that governs a user's password, lockout and MFA: their
    /// employer's (the organization of their employee profile).
    pub fn of_user(model: &Model, user: &str) -> SecurityPolicy {
        let org = model
            .users
            .get(user)
            .and_then(|u| model.employees.get(&u.employee))
            .map(|e| e.org.as_str());
        org.map(|org| SecurityPolicy::of(model, org))
            .unwrap_or_default()
    }

    /// Checks every range, reporting every field out of range.
    pub fn validate(&self) -> Result<(), ServiceError> {
        let mut fields = Vec::new();
        let mut range = |field: &str, value: u32, low: u32, high: u32| {
            if !(low..=high).contains(&value) {
                fields.push(FieldError::new(
                    field,
                    format!("must be between {low} and {high}, not {value}"),
                ));
            }
        };
        range(
            "session_timeout_minutes",
            self.session_timeout_minutes,
            1,
            1440,
        );
        range("lockout_threshold", self.lockout_threshold, 3, 20);
        range("lockout_minutes", self.lockout_minutes, 1, 1440);
        range("reauth_minutes", self.reauth_minutes, 1, 60);
        range(
            "temporary_password_minutes",
            self.temporary_password_minutes,
            10,
            43_200,
        );
        range("reset_link_minutes", self.reset_link_minutes, 5, 1440);
        range("emergency.max_minutes", self.emergency.max_minutes, 5, 1440);
        if let Err(crate::passwords::PasswordError::InvalidPolicy { field, message }) =
            self.password.validate()
        {
            fields.push(FieldError::new(format!("password.{field}"), message));
        }
        if fields.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid { fields })
        }
    }

    /// Session inactivity limit, in ms.
    pub fn session_timeout_ms(&self) -> i64 {
        i64::from(self.session_timeout_minutes) * MINUTE_MS
    }

    /// Lockout length, in ms.
    pub fn lockout_ms(&self) -> i64 {
        i64::from(self.lockout_minutes) * MINUTE_MS
    }

    /// Re-authentication window, in ms.
    pub fn reauth_ms(&self) -> i64 {
        i64::from(self.reauth_minutes) * MINUTE_MS
    }

    /// Temporary password lifetime, in ms.
    pub fn temporary_password_ms(&self) -> i64 {
        i64::from(self.temporary_password_minutes) * MINUTE_MS
    }

    /// Reset link lifetime, in ms.
    pub fn reset_link_ms(&self) -> i64 {
        i64::from(self.reset_link_minutes) * MINUTE_MS
    }
}

impl Default for EmergencyPolicy {
    fn default() -> Self {
        EmergencyPolicy {
            users: Vec::new(),
            roles: Vec::new(),
            max_minutes: 60,
        }
    }
}
