//! API tokens: `rc_<id>_<secret>`. Only the SHA-256 of the whole token is
//! stored; the token itself is shown once, when it is created.

use rand::Rng;
use rolecall_model::world::Status;
use rolecall_store::{now_ms, AuditEntry, Put, TokenRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServiceError;
use crate::ops::{check_text, new_id};
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
