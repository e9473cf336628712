//! API tokens: `rc_<id>_<secret>`. Only the SHA-256 of the whole token is
//! stored; the token itself is shown once, when it is created. Tokens are
//! listed and revoked one by one by their owner, an operator, or whoever
//! may issue them for their user.

use std::collections::HashMap;

use rand::Rng;
use rolecall_model::world::Status;
use rolecall_store::{now_ms, AuditEntry, Put, TokenRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServiceError;
use crate::ops::people::format_time;
use crate::ops::{check_text, new_id, Updated};
use crate::principal::{Principal, Via};
use crate::rules::{self, PersonAction};
use crate::service::{Change, Live, Service};

/// The hex SHA-256 of a presented token.
pub fn hash_secret(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

fn new_secret(id: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("rc_{id}_{secret}")
}

/// Who a presented token acts as, if it is valid now.
pub fn authenticate(live: &Live, token: &str) -> Result<Principal, ServiceError> {
    let invalid = || ServiceError::Unauthenticated("the token is not valid".to_owned());
    let id = live
        .model
        .token_by_hash
        .get(&hash_secret(token))
        .ok_or_else(invalid)?;
    let row = live.model.tokens.get(id).ok_or_else(invalid)?;
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= now_ms()) {
        return Err(ServiceError::Unauthenticated(
            "the token was revoked or has expired".to_owned(),
        ));
    }
    if row.operator {
        return Ok(Principal::Operator {
            token: row.id.clone(),
        });
    }
    match (&row.user, &row.org) {
        (Some(user), Some(org))
            if !live.model.users.get(user).is_some_and(|u| {
                u.status != Status::Disabled && u.memberships.contains_key(org)
            }) =>
        {
            Err(ServiceError::Unauthenticated(
                "the token's user is disabled or no longer a member of its organization".to_owned(),
            ))
        }
        (Some(user), Some(org)) => Ok(Principal::User {
            user: user.clone(),
            org: org.clone(),
            via: Via::Token(row.id.clone()),
        }),
        _ => Err(invalid()),
    }
}

/// `POST /v1/tokens`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The organization the token acts in.
    pub org: String,
    /// The user it acts as.
    pub user: String,
    /// What it is for, e.g. `scheduler back end`.
    pub name: String,
    /// Days until it expires; never when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A new token: the secret is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token's public id.
    pub id: String,
    /// The bearer token. Store it now: only its hash is kept.
    pub token: String,
    /// The revision that created it.
    pub revision: i64,
}

/// Creates the first operator token of an empty database. Fails when the
/// database already has one.
pub async fn init_operator(service: &Service, source: &str) -> Result<CreatedToken, ServiceError> {
    create_operator(
        service,
        &Principal::Cli,
        source,
        "initial operator token",
        true,
    )
    .await
}

/// Creates an operator token; with `only_if_first`, fails when one exists.
pub async fn create_operator(
    service: &Service,
    principal: &Principal,
    source: &str,
    name: &str,
    only_if_first: bool,
) -> Result<CreatedToken, ServiceError> {
    rules::require_operator(principal, "create operator tokens")?;
    let name = check_text("name", name, 200)?;
    let id = new_id("tok-");
    let secret = new_secret(&id);
    let (revision, ()) = service
        .write(principal, source, |live| {
            if only_if_first && live.model.tokens.values().any(|t| t.operator) {
                return Err(ServiceError::Conflict(
                    "this database is already initialized; create more operator tokens with \
                     `rolecall token create --operator`"
                        .to_owned(),
                ));
            }
            let row = TokenRow {
                id: id.clone(),
                secret_hash: hash_secret(&secret),
                name: name.clone(),
                operator: true,
                org: None,
                user: None,
                created_by: principal.actor(),
                created_at: now_ms(),
                expires_at: None,
                revoked_at: None,
            };
            Ok(Change::new(
                vec![Put::Token(row)],
                vec![token_audit(&id, None, "token.create.operator", &name)],
                (),
            ))
        })
        .await?;
    Ok(CreatedToken {
        id,
        token: secret,
        revision,
    })
}

fn token_audit(id: &str, org: Option<&str>, action: &str, name: &str) -> AuditEntry {
    AuditEntry {
        actor: String::new(),
        action: action.to_owned(),
        org: org.map(str::to_owned),
        target: format!("token:{id}"),
        before: None,
        after: Some(serde_json::json!({ "id": id, "name": name })),
        ..Default::default()
    }
}

/// Creates a token acting as `user` in `org`. Needs
/// `rolecall.manage_api_tokens` there, and (unless a system admin or an
/// operator) every permission the user holds: a token is the user's power.
pub async fn create_user_token(
    service: &Service,
    principal: &Principal,
    source: &str,
    input: NewToken,
) -> Result<CreatedToken, ServiceError> {
    let name = check_text("name", &input.name, 200)?;
    if input.expires_in_days == Some(0) {
        return Err(ServiceError::invalid(
            "expires_in_days",
            "must be at least 1 (leave it out for a token that does not expire)",
        ));
    }
    let id = new_id("tok-");
    let secret = new_secret(&id);
    let org = input.org.as_str();
    let user = input.user.as_str();
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::TOKEN_ADMIN)?;
            rules::recent_sign_in(live, principal)?;
            if !live.model.users.contains_key(user) || !live.snapshot.reaches(user, org) {
                return Err(ServiceError::invalid(
                    "user",
                    format!("`{user}` is not an active user of `{org}`"),
                ));
            }
            // A token acts as its user: issuing one is an action on them.
            rules::may_act_on(live, principal, org, user, PersonAction::Tokens)?;
            let expires_at = input
                .expires_in_days
                .map(|days| now_ms() + i64::from(days) * 86_400_000);
            let row = TokenRow {
                id: id.clone(),
                secret_hash: hash_secret(&secret),
                name: name.clone(),
                operator: false,
                org: Some(org.to_owned()),
                user: Some(user.to_owned()),
                created_by: principal.actor(),
                created_at: now_ms(),
                expires_at,
                revoked_at: None,
            };
            Ok(Change::new(
                vec![Put::Token(row)],
                vec![token_audit(&id, Some(org), "token.create", &name)],
                (),
            ))
        })
        .await?;
    Ok(CreatedToken {
        id,
        token: secret,
        revision,
    })
}

/// One token as a listing shows it: never its secret, nor the secret's
/// hash. When a token was last used is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// The token's public id (`tok-...`), the one to revoke it by.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// An operator token, which may do everything.
    pub operator: bool,
    /// The organization it acts in; none for an operator token.
    pub org: Option<String>,
    /// The user it acts as; none for an operator token.
    pub user: Option<String>,
    /// Who issued it: `user:<id>`, `operator:<token id>` or `cli`.
    pub created_by: String,
    /// When it was issued (RFC 3339).
    pub created_at: String,
    /// When it stops working (RFC 3339); none if never.
    pub expires_at: Option<String>,
    /// When it was revoked (RFC 3339); none if it was not.
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked` (revoked wins over expired).
    pub status: TokenStatus,
}

/// Whether a token still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// It authenticates (if its user is still active and a member).
    Active,
    /// Its time is over.
    Expired,
    /// It was revoked, or its user was disabled or removed.
    Revoked,
}

impl TokenView {
    fn of(row: &TokenRow, now: i64) -> TokenView {
        let status = if row.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if row.expires_at.is_some_and(|at| at <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        };
        TokenView {
            id: row.id.clone(),
            name: row.name.clone(),
            operator: row.operator,
            org: row.org.clone(),
            user: row.user.clone(),
            created_by: row.created_by.clone(),
            created_at: format_time(row.created_at),
            expires_at: row.expires_at.map(format_time),
            revoked_at: row.revoked_at.map(format_time),
            status,
        }
    }
}

/// Which tokens a listing wants, beyond those the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    /// Only the tokens acting in this organization.
    pub org: Option<String>,
    /// Only the tokens acting as this user.
    pub user: Option<String>,
}

/// Whether the actor may see and revoke this token: an operator any token;
/// a user their own, and those of the people on whom the one rule for
/// actions on a person lets them act ([`rules::may_act_on`] with
/// [`PersonAction::Tokens`]) in the token's organization, the same rule as
/// for issuing it. Operator tokens are operators' only.
fn in_reach(live: &Live, principal: &Principal, row: &TokenRow) -> bool {
    let Some(actor) = principal.user() else {
        return true;
    };
    match (&row.user, &row.org) {
        (Some(user), _) if user == actor && !row.operator => true,
        (Some(user), Some(org)) if !row.operator => {
            rules::may_act_on(live, principal, org, user, PersonAction::Tokens).is_ok()
        }
        _ => false,
    }
}

/// The tokens the actor may see (see [`in_reach`]) that match `filter`,
/// oldest first. A filter naming an organization or a user out of reach
/// answers as one naming nobody: an empty list.
pub fn list(live: &Live, principal: &Principal, filter: &TokenFilter) -> Vec<TokenView> {
    let now = now_ms();
    // The rule depends on the person and the organization only.
    let mut decided: HashMap<(Option<&str>, Option<&str>, bool), bool> = HashMap::new();
    let mut rows: Vec<&TokenRow> = live
        .model
        .tokens
        .values()
        .filter(|row| {
            filter
                .org
                .as_ref()
                .is_none_or(|org| row.org.as_ref() == Some(org))
        })
        .filter(|row| {
            filter
                .user
                .as_ref()
                .is_none_or(|user| row.user.as_ref() == Some(user))
        })
        .filter(|row| {
            *decided
                .entry((row.user.as_deref(), row.org.as_deref(), row.operator))
                .or_insert_with(|| in_reach(live, principal, row))
        })
        .collect();
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    rows.into_iter()
        .map(|row| TokenView::of(row, now))
        .collect()
}

/// Revokes one token: it stops working at once, here and on every
/// replica that applies the change. Whoever may not see it (see
/// [`in_reach`]) is told it was not found, word for word as for an id that
/// names nothing. A token already revoked answers with the current
/// revision and writes nothing.
pub async fn revoke(
    service: &Service,
    principal: &Principal,
    source: &str,
    id: &str,
) -> Result<Updated, ServiceError> {
    let (revision, ()) = service
        .write(principal, source, |live| {
            let row = live
                .model
                .tokens
                .get(id)
                .filter(|row| in_reach(live, principal, row))
                .ok_or_else(|| ServiceError::NotFound(format!("token `{id}`")))?;
            if row.revoked_at.is_some() {
                return Ok(Change::nothing(()));
            }
            let mut revoked = row.clone();
            let now = now_ms();
            revoked.revoked_at = Some(now);
            let audit = AuditEntry {
                actor: String::new(),
                action: "token.revoke".to_owned(),
                org: row.org.clone(),
                target: format!("token:{id}"),
                before: Some(serde_json::json!({
                    "id": id, "name": row.name, "user": row.user, "revoked_at": null,
                })),
                after: Some(serde_json::json!({
                    "id": id, "name": row.name, "user": row.user,
                    "revoked_at": format_time(now),
                })),
                ..Default::default()
            };
            Ok(Change::new(vec![Put::Token(revoked)], vec![audit], ()))
        })
        .await?;
    Ok(Updated { revision })
}
