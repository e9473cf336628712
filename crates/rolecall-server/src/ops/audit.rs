//! Reading the audit log: an organization's records, newest first, filtered
//! by time, actor and target, paged backwards by record number. Read from
//! the database (the log is not part of the compiled snapshot); holders of
//! `rolecall.view_audit` read their organization's records only.

use rolecall_store::{AuditQuery, AuditRecord};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::Service;

/// How many records a page holds when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page.
pub const MAX_LIMIT: i64 = 1000;

/// `GET /v1/orgs/{org}/audit` query parameters. Kept as text and parsed
/// here, so a bad value is reported under its own name.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only records at or after this time, RFC 3339 (`2025-01-31T09:00:00Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<String>,
    /// Only records before this time, RFC 3339.
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// Only records by this actor, exactly as recorded (`user:pat`,
    /// `operator:tok-...`, `cli`); the token a user acted through is in
    /// the record's `source`.
    pub actor: Option<String>,
    /// Only records about this target (`user:pat`, `group:front-desk`,
    /// `role:web.front_desk`).
    pub target: Option<String>,
    /// Only records numbered below this one: the `next_before` of the
    /// previous page.
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
    /// At most this many records (default 100, at most 1000).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
}

/// A page of audit records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Records, newest first.
    pub records: Vec<AuditRecordView>,
    /// Pass as `before` to read the next (older) page; none when this page
    /// is the last.
    pub next_before: Option<i64>,
}

/// One audit record as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecordView {
    /// Position in the hash chain, from 1.
    pub seq: i64,
    /// When, RFC 3339.
    pub at: String,
    /// The revision of the change it records.
    pub revision: i64,
    /// Who did it.
    pub actor: String,
    /// What was done, e.g. `group.create`.
    pub action: String,
    /// The organization it happened in.
    pub org: Option<String>,
    /// What it was done to, e.g. `user:pat`.
    pub target: String,
    /// The target before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The target after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Where the request came from: an IP address, or `cli`.
    pub source: String,
    /// This record's chain hash.
    pub hash: String,
}

/// Milliseconds since the epoch as RFC 3339; the number itself if out of
/// range (it never is for a stored record).
fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Stored JSON text as a value; text that is not JSON stays text.
fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

impl From<AuditRecord> for AuditRecordView {
    fn from(record: AuditRecord) -> Self {
        AuditRecordView {
            seq: record.seq,
            at: rfc3339(record.at),
            revision: record.revision,
            actor: record.actor,
            action: record.action,
            org: record.org,
            target: record.target,
            before: json(record.before),
            after: json(record.after),
            source: record.source,
            hash: record.hash,
        }
    }
}

impl AuditParams {
    /// The store query for `org`, naming every bad parameter.
    pub fn parse(&self, org: &str) -> Result<AuditQuery, ServiceError> {
        let mut fields = Vec::new();
        let mut parse_time = |name: &str, value: &Option<String>| {
            let value = value.as_deref()?;
            let parsed = OffsetDateTime::parse(value, &Rfc3339)
                .ok()
                .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok());
            if parsed.is_none() {
                fields.push(FieldError::new(
                    name,
                    format!("`{value}` is not an RFC 3339 time, e.g. `2025-01-31T09:00:00Z`"),
                ));
            }
            parsed
        };
        let since = parse_time("since", &self.since);
        let until = parse_time("until", &self.until);
        let mut number = |name: &str, value: &Option<String>, min: i64, max: i64| {
            let value = value.as_deref()?;
            let parsed = value
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n));
            if parsed.is_none() {
                fields.push(FieldError::new(
                    name,
                    format!("`{value}` is not a whole number from {min} to {max}"),
                ));
            }
            parsed
        };
        let before = number("before", &self.before, 1, i64::MAX);
        let limit = number("limit", &self.limit, 1, MAX_LIMIT);
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                fields.push(FieldError::new("until", "must be later than `since`"));
            }
        }
        if !fields.is_empty() {
            return Err(ServiceError::Invalid { fields });
        }
        Ok(AuditQuery {
            org: Some(org.to_owned()),
            since,
            until,
            actor: self.actor.clone(),
            target: self.target.clone(),
            before_seq: before,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            ..Default::default()
        })
    }
}

/// Reads `org`'s audit records, newest first. Needs `rolecall.view_audit`.
pub async fn read(
    service: &Service,
    principal: &Principal,
    org: &str,
    params: &AuditParams,
) -> Result<AuditPage, ServiceError> {
    rules::require(&service.live(), principal, org, rules::AUDIT_READER)?;
    let mut query = params.parse(org)?;
    let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
    // One more than asked tells whether an older page exists.
    query.limit += 1;
    let mut records = service.store().audit(&query).await?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next_before = if more {
        records.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        records: records.into_iter().map(AuditRecordView::from).collect(),
        next_before,
    })
}
