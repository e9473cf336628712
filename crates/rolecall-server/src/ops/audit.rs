//! Reading the audit log: an organization's records, or every record for an
//! operator, filtered by period, actor, action, target and outcome, sorted
//! by any field (newest first by default), and paged. Read from the
//! database (the log is not part of the compiled snapshot); holders of
//! `rolecall.view_audit` read their organization's records only, and only
//! operators read the whole log, where records of no organization (a failed
//! sign-in for an unknown email) are.

use rolecall_store::{AuditField, AuditQuery, AuditRecord, AuditSort, Outcome};
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
/// The most records a page may skip: deeper pages cost a scan of every
/// record skipped, so a longer report is narrowed by period instead.
pub const MAX_OFFSET: i64 = 1_000_000;

/// `GET /v1/orgs/{org}/audit` and `GET /v1/audit` query parameters. Kept as
/// text and parsed here, so every bad value is reported under its own name.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only records of this organization: for the operator-wide report only
    /// (an organization's report takes its organization from the path).
    /// Documented on `GET /v1/audit` by hand.
    #[param(ignore)]
    pub org: Option<String>,
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
    /// Only records of this action, or of the actions under it: `sign_in`
    /// matches `sign_in` and `sign_in.failed`, `group` every `group.*`.
    pub action: Option<String>,
    /// Only records about this target (`user:pat`, `group:front-desk`,
    /// `role:web.front_desk`).
    pub target: Option<String>,
    /// Only records with this outcome: `success` or `failure`.
    #[param(value_type = Option<AuditOutcome>, inline)]
    pub outcome: Option<String>,
    /// The order: a field (`seq`, `at`, `actor`, `action`, `org`, `target`,
    /// `source`, `outcome`), smallest first, or largest first after a `-`
    /// (`-at`); ties go by record number in the same direction. Newest first
    /// (`-seq`) when not given. A sorted report pages with `offset`.
    #[param(example = "-at")]
    pub sort: Option<String>,
    /// Only records numbered below this one: the `next_before` of the
    /// previous page, newest first only (not with another `sort`).
    #[param(value_type = Option<i64>)]
    pub before: Option<String>,
    /// Skip this many records first (0 to 1,000,000): the `next_offset` of
    /// the previous page.
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
    /// At most this many records (default 100, at most 1000).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
}

/// A page of audit records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Records, in the order asked (newest first by default).
    pub records: Vec<AuditRecordView>,
    /// In the default order (newest first), pass as `before` to read the
    /// next (older) page; none when this page is the last or the report is
    /// sorted otherwise.
    pub next_before: Option<i64>,
    /// Pass as `offset` (with the same filters and `sort`) to read the next
    /// page; none when this page is the last.
    pub next_offset: Option<i64>,
}

/// Whether an audited event succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It happened.
    Success,
    /// It was attempted and refused or failed (a wrong password, a
    /// lockout).
    Failure,
}

impl From<Outcome> for AuditOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => AuditOutcome::Success,
            Outcome::Failure => AuditOutcome::Failure,
        }
    }
}

/// One audit record as the API shows it: when, who, what, to what, from
/// where, and with what outcome.
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
    /// Whether it succeeded.
    pub outcome: AuditOutcome,
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
            outcome: record.outcome.into(),
            hash: record.hash,
        }
    }
}

/// The default order: newest first.
const NEWEST_FIRST: AuditSort = AuditSort {
    field: AuditField::Seq,
    descending: true,
};

impl AuditParams {
    /// The store query for `org`'s report, naming every bad parameter; an
    /// `org` parameter is refused (the path names the organization).
    pub fn parse(&self, org: &str) -> Result<AuditQuery, ServiceError> {
        let mut fields = Vec::new();
        if self.org.is_some() {
            fields.push(FieldError::new(
                "org",
                "the path names the organization; `org` filters only the report of every organization, `GET /v1/audit`",
            ));
        }
        self.query(Some(org.to_owned()), fields)
    }

    /// The store query for the report of every organization (only those of
    /// `org` when given), naming every bad parameter.
    pub fn parse_all(&self) -> Result<AuditQuery, ServiceError> {
        self.query(self.org.clone(), Vec::new())
    }

    fn query(
        &self,
        org: Option<String>,
        mut fields: Vec<FieldError>,
    ) -> Result<AuditQuery, ServiceError> {
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
        let offset = number("offset", &self.offset, 0, MAX_OFFSET);
        let limit = number("limit", &self.limit, 1, MAX_LIMIT);
        if let (Some(since), Some(until)) = (since, until) {
            if until <= since {
                fields.push(FieldError::new("until", "must be later than `since`"));
            }
        }
        let outcome = self.outcome.as_deref().and_then(|value| match value {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            other => {
                fields.push(FieldError::new(
                    "outcome",
                    format!("`{other}` is not an outcome: `success` or `failure`"),
                ));
                None
            }
        });
        let sort = self.sort.as_deref().and_then(|value| {
            let (name, descending) = match value.strip_prefix('-') {
                Some(name) => (name, true),
                None => (value, false),
            };
            let field = AuditField::parse(name);
            if field.is_none() {
                fields.push(FieldError::new(
                    "sort",
                    format!(
                        "`{value}` is not a field to sort by: one of {}, after a `-` for largest first",
                        AuditField::NAMES
                    ),
                ));
            }
            field.map(|field| AuditSort { field, descending })
        });
        // `before` counts down record numbers: it pages the default order
        // only; any other order pages by position.
        if let (Some(_), Some(sort)) = (before, sort) {
            if sort != NEWEST_FIRST {
                fields.push(FieldError::new(
                    "before",
                    "pages only the default order (newest first); page a sorted report with `offset`, the `next_offset` of the previous page",
                ));
            }
        }
        if !fields.is_empty() {
            return Err(ServiceError::Invalid { fields });
        }
        Ok(AuditQuery {
            org,
            since,
            until,
            actor: self.actor.clone(),
            target: self.target.clone(),
            action: self.action.clone(),
            outcome,
            sort,
            offset: offset.unwrap_or(0),
            before_seq: before,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
        })
    }
}

/// Reads `org`'s audit records, in the order asked. Needs
/// `rolecall.view_audit` there.
pub async fn read(
    service: &Service,
    principal: &Principal,
    org: &str,
    params: &AuditParams,
) -> Result<AuditPage, ServiceError> {
    rules::require(&service.live(), principal, org, rules::AUDIT_READER)?;
    page(service, params.parse(org)?).await
}

/// Reads the audit records of every organization, and those of none (a
/// failed sign-in for an unknown email), in the order asked. Operators only.
pub async fn read_all(
    service: &Service,
    principal: &Principal,
    params: &AuditParams,
) -> Result<AuditPage, ServiceError> {
    rules::require_operator(principal, "read the audit log of every organization")?;
    page(service, params.parse_all()?).await
}

async fn page(service: &Service, mut query: AuditQuery) -> Result<AuditPage, ServiceError> {
    let asked = query.limit;
    let limit = usize::try_from(asked).unwrap_or(usize::MAX);
    let default_order = query.sort.is_none_or(|sort| sort == NEWEST_FIRST);
    // One more than asked tells whether another page exists.
    query.limit += 1;
    let mut records = service.store().audit(&query).await?;
    let more = records.len() > limit;
    records.truncate(limit);
    let next_before = match records.last() {
        Some(last) if more && default_order => Some(last.seq),
        _ => None,
    };
    let next_offset = more.then_some(query.offset + asked);
    Ok(AuditPage {
        records: records.into_iter().map(AuditRecordView::from).collect(),
        next_before,
        next_offset,
    })
}
