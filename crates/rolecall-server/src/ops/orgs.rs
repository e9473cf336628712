//! Organizations: creation (operators), subscriptions (subscription
//! administrators) and partner links (operators only).

use rolecall_store::{now_ms, AuditEntry, OrgRow, Put};
use serde::{Deserialize, Serialize};

use super::{check_id, check_text, new_id, Created, Updated};
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

/// `POST /v1/orgs`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Stable id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// The company a clinic belongs to.
    #[serde(default)]
    pub parent: Option<String>,
    /// Gated modules and services it subscribes to.
    #[serde(default)]
    pub subscriptions: Vec<String>,
}

/// An organization as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The company a clinic belongs to.
    pub parent: Option<String>,
    /// What it subscribes to.
    pub subscriptions: Vec<String>,
    /// What it manages as a partner.
    pub manages: Vec<String>,
}

impl From<&OrgRow> for OrgView {
    fn from(row: &OrgRow) -> Self {
        OrgView {
            id: row.id.clone(),
            name: row.name.clone(),
            parent: row.parent.clone(),
            subscriptions: row.subscriptions.clone(),
            manages: row.manages.clone(),
        }
    }
}

fn check_subscriptions(live: &Live, subscriptions: &[String]) -> Result<Vec<String>, ServiceError> {
    let catalog = live.snapshot.catalog();
    let mut fields = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for (i, id) in subscriptions.iter().enumerate() {
        if catalog.subscription(id).is_none() {
            fields.push(FieldError::new(
                format!("subscriptions[{i}]"),
                format!("unknown subscription `{id}`"),
            ));
        } else if out.contains(id) {
            fields.push(FieldError::new(
                format!("subscriptions[{i}]"),
                format!("`{id}` is listed twice"),
            ));
        } else {
            out.push(id.clone());
        }
    }
    if fields.is_empty() {
        Ok(out)
    } else {
        Err(ServiceError::Invalid { fields })
    }
}

fn audit_org(action: &str, before: Option<&OrgRow>, after: &OrgRow) -> AuditEntry {
    AuditEntry {
        actor: String::new(),
        action: action.to_owned(),
        org: Some(after.id.clone()),
        target: format!("org:{}", after.id),
        before: before.map(|b| serde_json::json!(OrgView::from(b))),
        after: Some(serde_json::json!(OrgView::from(after))),
        ..Default::default()
    }
}

/// Creates an organization. Operators only.
pub async fn create(
    service: &Service,
    principal: &Principal,
    source: &str,
    input: NewOrg,
) -> Result<Created, ServiceError> {
    rules::require_operator(principal, "create organizations")?;
    let name = check_text("name", &input.name, 200)?;
    if let Some(id) = &input.id {
        check_id("id", id)?;
    }
    let id = input.id.clone().unwrap_or_else(|| new_id("org-"));
    let (revision, id) = service
        .write(principal, source, |live| {
            if live.model.orgs.contains_key(&id) {
                return Err(ServiceError::Conflict(format!(
                    "organization `{id}` already exists"
                )));
            }
            if let Some(parent) = &input.parent {
                if !live.model.orgs.contains_key(parent) {
                    return Err(ServiceError::invalid(
                        "parent",
                        format!("unknown organization `{parent}`"),
                    ));
                }
            }
            let row = OrgRow {
                id: id.clone(),
                name: name.clone(),
                parent: input.parent.clone(),
                subscriptions: check_subscriptions(live, &input.subscriptions)?,
                manages: Vec::new(),
                created_at: now_ms(),
            };
            let audit = vec![audit_org("org.create", None, &row)];
            Ok(Change::new(vec![Put::Org(row)], audit, id.clone()))
        })
        .await?;
    Ok(Created { id, revision })
}

/// Reads an organization the actor reaches.
pub fn get(live: &Live, principal: &Principal, org: &str) -> Result<OrgView, ServiceError> {
    rules::visible_org(live, principal, org)?;
    live.model
        .orgs
        .get(org)
        .map(OrgView::from)
        .ok_or_else(|| ServiceError::NotFound(format!("organization `{org}`")))
}

/// Lists the organizations the actor reaches.
pub fn list(live: &Live, principal: &Principal) -> Vec<OrgView> {
    live.model
        .orgs
        .values()
        .filter(|o| rules::visible_org(live, principal, &o.id).is_ok())
        .map(OrgView::from)
        .collect()
}

/// `PUT /v1/orgs/{org}/subscriptions`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscriptions {
    /// Every gated module and service the organization subscribes to.
    pub subscriptions: Vec<String>,
}

/// Replaces an organization's subscriptions.
pub async fn set_subscriptions(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: Subscriptions,
) -> Result<Updated, ServiceError> {
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::require(live, principal, org, rules::SUBSCRIPTION_ADMIN)?;
            let before = &live.model.orgs[org];
            let mut row = before.clone();
            row.subscriptions = check_subscriptions(live, &input.subscriptions)?;
            let audit = vec![audit_org("org.subscriptions.update", Some(before), &row)];
            Ok(Change::new(vec![Put::Org(row)], audit, ()))
        })
        .await?;
    Ok(Updated { revision })
}

/// `PUT /v1/orgs/{org}/manages`
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manages {
    /// Every organization this partner manages.
    pub orgs: Vec<String>,
}

/// Replaces a partner's links. Operators only ("manually assigned ...
/// during Onboarding").
pub async fn set_manages(
    service: &Service,
    principal: &Principal,
    source: &str,
    org: &str,
    input: Manages,
) -> Result<Updated, ServiceError> {
    rules::require_operator(principal, "set partner links")?;
    let (revision, ()) = service
        .write(principal, source, |live| {
            rules::visible_org(live, principal, org)?;
            let mut fields = Vec::new();
            let mut manages: Vec<String> = Vec::new();
            for (i, id) in input.orgs.iter().enumerate() {
                let field = format!("orgs[{i}]");
                if !live.model.orgs.contains_key(id) {
                    fields.push(FieldError::new(
                        field,
                        format!("unknown organization `{id}`"),
                    ));
                } else if id == org {
                    fields.push(FieldError::new(
                        field,
                        "an organization cannot manage itself",
                    ));
                } else if manages.contains(id) {
                    fields.push(FieldError::new(field, format!("`{id}` is listed twice")));
                } else {
                    manages.push(id.clone());
                }
            }
            if !fields.is_empty() {
                return Err(ServiceError::Invalid { fields });
            }
            let before = &live.model.orgs[org];
            let mut row = before.clone();
            row.manages = manages;
            let audit = vec![audit_org("org.partners.update", Some(before), &row)];
            Ok(Change::new(vec![Put::Org(row)], audit, ()))
        })
        .await?;
    Ok(Updated { revision })
}
