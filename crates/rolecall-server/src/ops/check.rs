//! Decisions: "may this user do this here?", "what may they do?", "who may
//! do this?". Answered from the compiled snapshot, never by SQL.

use std::borrow::Cow;

use rolecall_engine::{Explanation, Reason, Scope};
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// `POST /v1/check`, and one entry of a batch. The ids borrow from the
/// request body when they can (no escapes), so a batch of checks is parsed
/// without an allocation per id.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest<'a> {
    /// The organization the action happens in.
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub org: Cow<'a, str>,
    /// The user acting.
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub user: Cow<'a, str>,
    /// The permission, e.g. `web.manage_charge_entries`.
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub permission: Cow<'a, str>,
    /// The owner of the resource, when it has one.
    #[serde(default, borrow)]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Cow<'a, str>>,
    /// Also return why.
    #[serde(default)]
    pub explain: bool,
    /// Wait until this replica has applied this revision (from a write).
    #[serde(default)]
    pub min_revision: Option<i64>,
}

/// A decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckResponse {
    /// Whether the user may.
    pub allowed: bool,
    /// `all`, or `own` when only the user's own resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub scope: Option<Scope>,
    /// Why, when asked: the facts and one plain sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub reason: Option<Why>,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    /// When denied: which of the four conditions of a decision failed
    /// first (1 to 4; see docs/model.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_condition: Option<u8>,
    /// The deciding facts, tagged by `kind`.
    #[serde(flatten)]
    pub facts: Reason,
    /// The same, as one plain-English sentence.
    pub sentence: String,
}

impl From<Explanation> for Why {
    fn from(explanation: Explanation) -> Why {
        Why {
            failed_condition: explanation.failed_condition,
            facts: explanation.reason,
            sentence: explanation.sentence,
        }
    }
}

/// `POST /v1/check/batch`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest<'a> {
    /// The checks, answered in order.
    #[serde(borrow)]
    pub checks: Vec<CheckRequest<'a>>,
    /// Wait until this replica has applied this revision.
    #[serde(default)]
    pub min_revision: Option<i64>,
}

/// The answers of a batch, in the order asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchResponse {
    /// One decision per check.
    pub results: Vec<CheckResponse>,
}

/// The largest batch accepted.
pub const MAX_BATCH: usize = 10_000;

/// Answers one check. `index` is its place in a batch, to name the field
/// of a bad entry (`checks[3].permission`); that name is only formatted on
/// the error path, so a batch allocates nothing per check but its answer.
pub fn check(
    live: &Live,
    principal: &Principal,
    request: &CheckRequest<'_>,
    index: Option<usize>,
) -> Result<CheckResponse, ServiceError> {
    rules::visible_org(live, principal, &request.org)?;
    if live
        .snapshot
        .catalog()
        .permission(&request.permission)
        .is_none()
    {
        let field = match index {
            Some(i) => format!("checks[{i}].permission"),
            None => "permission".to_owned(),
        };
        return Err(ServiceError::Invalid {
            fields: vec![FieldError::new(
                field,
                format!("unknown permission `{}`", request.permission),
            )],
        });
    }
    let owner = request.owner.as_deref();
    if request.explain {
        // An explanation names the user and their status: about someone the
        // actor does not reach, it reads as about nobody.
        let explanation = if rules::sees_user(live, principal, &request.user, &request.org) {
            live.snapshot
                .explain(&request.user, &request.permission, &request.org, owner)
        } else {
            rolecall_engine::Explanation::unknown_user(&request.user)
        };
        return Ok(CheckResponse {
            allowed: explanation.allowed,
            scope: explanation.scope,
            reason: Some(explanation.into()),
        });
    }
    let decision = live
        .snapshot
        .check(&request.user, &request.permission, &request.org, owner);
    Ok(CheckResponse {
        allowed: decision.allowed,
        scope: decision.scope,
        reason: None,
    })
}

/// Answers a batch in order; one bad entry fails the batch, naming it.
pub fn batch(
    live: &Live,
    principal: &Principal,
    request: &BatchRequest<'_>,
) -> Result<BatchResponse, ServiceError> {
    if request.checks.len() > MAX_BATCH {
        return Err(ServiceError::invalid(
            "checks",
            format!("at most {MAX_BATCH} checks per batch"),
        ));
    }
    let results = request
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| check(live, principal, c, Some(i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BatchResponse { results })
}

/// A permission with its scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScopedPermission {
    /// The permission id.
    pub permission: String,
    /// `all` or `own`.
    #[schema(value_type = String)]
    pub scope: Scope,
}

/// A user with a scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScopedUser {
    /// The user id.
    pub user: String,
    /// `all` or `own`.
    #[schema(value_type = String)]
    pub scope: Scope,
}

/// What may `user` do in `org`. The user themself, and user managers, may
/// ask.
pub fn permissions_of(
    live: &Live,
    principal: &Principal,
    org: &str,
    user: &str,
) -> Result<Vec<ScopedPermission>, ServiceError> {
    rules::visible_org(live, principal, org)?;
    if principal.user() != Some(user) {
        rules::require(live, principal, org, rules::USER_ADMIN)?;
    }
    if !live.model.users.contains_key(user) || !rules::sees_user(live, principal, user, org) {
        return Err(ServiceError::NotFound(format!("user `{user}`")));
    }
    Ok(live
        .snapshot
        .permissions_of(user, org)
        .into_iter()
        .map(|(p, scope)| ScopedPermission {
            permission: p.to_owned(),
            scope,
        })
        .collect())
}

/// Who may do `permission` in `org`. User managers may ask.
pub fn users_with(
    live: &Live,
    principal: &Principal,
    org: &str,
    permission: &str,
) -> Result<Vec<ScopedUser>, ServiceError> {
    rules::require(live, principal, org, rules::USER_ADMIN)?;
    if live.snapshot.catalog().permission(permission).is_none() {
        return Err(ServiceError::NotFound(format!("permission `{permission}`")));
    }
    Ok(live
        .snapshot
        .users_with(permission, org)
        .into_iter()
        .map(|(u, scope)| ScopedUser {
            user: u.to_owned(),
            scope,
        })
        .collect())
}
