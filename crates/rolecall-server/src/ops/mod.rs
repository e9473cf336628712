//! What the service does, one function per operation, shared by the HTTP
//! API and the command line. Each takes the acting [`Principal`], checks the
//! rules in [`crate::rules`], and runs one [`Service::write`].

pub mod access;
pub mod audit;
pub mod check;
pub mod groups;
pub mod import;
pub mod migrate;
pub mod orgs;
pub mod people;
pub mod roles;

use rand::Rng;
use rolecall_model::diagnostic::FieldPath;
use rolecall_model::world::{Membership, MembershipSpec};
use rolecall_model::Catalog;
use rolecall_store::Access;
use serde::Serialize;

use crate::error::{FieldError, ServiceError};
use crate::service::Live;

#[cfg(doc)]
use crate::{principal::Principal, service::Service};

/// What a creation returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The new thing's id.
    pub id: String,
    /// The revision that created it.
    pub revision: i64,
}

/// What an update returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Updated {
    /// The revision of the change.
    pub revision: i64,
}

/// A fresh random id: `prefix` and 12 lowercase letters and digits.
pub fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

/// Checks an id given by a client: the catalog's id spelling.
pub fn check_id(field: &str, id: &str) -> Result<(), ServiceError> {
    rolecall_model::catalog::validate_id(id)
        .map_err(|message| ServiceError::invalid(field, format!("id {message}")))
}

/// Checks a required text field: present, trimmed, at most `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Validates a membership against the current world. Problems name the
/// request's fields, under `prefix` (`""` or `updates[3].`).
pub fn validate_membership(
    live: &Live,
    spec: &MembershipSpec,
    prefix: &str,
) -> Result<Membership, ServiceError> {
    let world = live.snapshot.world();
    let catalog = live.snapshot.catalog();
    let mut problems = Vec::new();
    let membership = world.membership(catalog, &mut problems, &FieldPath::root(), spec);
    match membership {
        Some(m) if problems.is_empty() => Ok(m),
        _ => Err(ServiceError::Invalid {
            fields: problems
                .into_iter()
                .map(|p| {
                    let field = p.path.to_string();
                    let field = if field == "org" {
                        "org".to_owned()
                    } else {
                        format!("{prefix}{field}")
                    };
                    FieldError::new(field, p.message)
                })
                .collect(),
        }),
    }
}

/// A resolved membership written back as ids, for storage.
pub fn access_of(catalog: &Catalog, live: &Live, membership: &Membership) -> Access {
    let world = live.snapshot.world();
    Access {
        roles: membership
            .roles
            .iter()
            .map(|r| world.role(catalog, *r).id.clone())
            .collect(),
        grants: membership
            .grants
            .iter()
            .map(|g| catalog.write_grant(g))
            .collect(),
        denials: membership
            .denials
            .iter()
            .map(|p| catalog.perm(*p).id.clone())
            .collect(),
        scheduler_type: membership
            .scheduler_type
            .map(|t| catalog.user_types[t.ix()].id.clone()),
        scheduler_level: membership
            .scheduler_level
            .map(|l| catalog.access_levels[l.ix()].id.clone()),
        tasking_access: membership
            .tasking_access
            .map(|t| catalog.access_types[t.ix()].id.clone()),
        expires: Default::default(),
    }
}

/// The ETag of a JSON representation: a short SHA-256 of it.
pub fn etag_of(value: &impl Serialize) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}
