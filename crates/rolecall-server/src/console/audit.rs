//! The audit log of an organization, read with the same operation as
//! `GET /v1/orgs/{org}/audit`: filtered by period, actor, action, target
//! and outcome, sorted by a column (its header is a link), paged, and
//! exported as CSV (`GET /audit.csv` with the same filters).

use crate::http::{Guard, Table};
use crate::rules;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::Method;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use time::{Date, Month};

use super::checker::{given, org_select, page_org};
use super::{html_page, layout, messages};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::{FieldError, ServiceError};
use crate::http::AppState;
use crate::ops::audit::{self, AuditOutcome, AuditParams, AuditRecordView};
use crate::safe_csv;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    let readers = Guard::Permission(rules::AUDIT_READER);
    t.add(Method::GET, "/audit", readers, audit_page).add(
        Method::GET,
        "/audit.csv",
        readers,
        audit_csv,
    )
}

/// Records on one page of the console.
const PAGE_SIZE: &str = "50";

/// `GET /audit` and `GET /audit.csv` query: the filters, the order and
/// the page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    /// The organization (default: the session's).
    #[serde(default)]
    pub org: Option<String>,
    /// The first day, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub since: Option<String>,
    /// The last day, `YYYY-MM-DD` (UTC), included.
    #[serde(default)]
    pub until: Option<String>,
    /// Only records by this actor (`user:bob`).
    #[serde(default)]
    pub actor: Option<String>,
    /// Only records of this action or the actions under it (`org`).
    #[serde(default)]
    pub action: Option<String>,
    /// Only records about this target (`org:acme-south`).
    #[serde(default)]
    pub target: Option<String>,
    /// `success` or `failure`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// A column, largest first after a `-` (`-at`).
    #[serde(default)]
    pub sort: Option<String>,
    /// The page after this record number (newest first only).
    #[serde(default)]
    pub before: Option<String>,
    /// The page after skipping this many records.
    #[serde(default)]
    pub offset: Option<String>,
}

/// The columns, as (field to sort by, header).
const COLUMNS: &[(&str, &str)] = &[
    ("seq", "#"),
    ("at", "When (UTC)"),
    ("actor", "Actor"),
    ("action", "Action"),
    ("target", "Target"),
    ("source", "Source"),
    ("outcome", "Outcome"),
];

/// A day as the RFC 3339 time it starts at; `next` gives the day after's
/// start, so a last day is included.
fn day_start(field: &str, value: &str, next: bool) -> Result<String, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!("`{value}` is not a date: write it as 2025-01-31"),
        )
    };
    let mut parts = value.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = d.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    let mut date = Date::from_calendar_date(year, month, day).map_err(|_| bad())?;
    if next {
        date = date.next_day().ok_or_else(bad)?;
    }
    Ok(format!(
        "{:04}-{:02}-{:02}T00:00:00Z",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

impl AuditQuery {
    /// The operation's parameters; `limit` is the page's size.
    fn params(&self, limit: Option<&str>) -> Result<AuditParams, ServiceError> {
        let mut fields = Vec::new();
        let mut day = |field: &str, value: &Option<String>, next: bool| {
            given(value).and_then(|v| match day_start(field, v, next) {
                Ok(time) => Some(time),
                Err(problem) => {
                    fields.push(problem);
                    None
                }
            })
        };
        let since = day("since", &self.since, false);
        let until = day("until", &self.until, true);
        if !fields.is_empty() {
            return Err(ServiceError::Invalid { fields });
        }
        let text = |value: &Option<String>| given(value).map(str::to_owned);
        Ok(AuditParams {
            org: None,
            since,
            until,
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            outcome: text(&self.outcome),
            sort: text(&self.sort),
            before: text(&self.before),
            offset: text(&self.offset),
            limit: limit.map(str::to_owned),
        })
    }

    /// The filters and the order (not the page) as query pairs.
    fn filters(&self, org: &str) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("org", org.to_owned())];
        let fields: [(&'static str, &Option<String>); 7] = [
            ("since", &self.since),
            ("until", &self.until),
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("outcome", &self.outcome),
            ("sort", &self.sort),
        ];
        for (name, value) in fields {
            if let Some(value) = given(value) {
                pairs.push((name, value.to_owned()));
            }
        }
        pairs
    }
}

/// `path?pairs`, encoded.
fn link(path: &str, pairs: &[(&str, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    format!("{path}?{}", query.finish())
}

async fn audit_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<AuditQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = match page_org(&live, &principal, &query.org, &session.org) {
        Ok(org) => org,
        Err(error) => {
            return html_page(
                error.status().0,
                layout::page("Audit log", Some(&view), layout::errors(&messages(&error))),
            )
        }
    };
    let page = match query.params(Some(PAGE_SIZE)) {
        Ok(params) => audit::read(&state.service, &principal, &org, &params).await,
        Err(error) => Err(error),
    };
    let status = match &page {
        Ok(_) => StatusCode::OK,
        Err(error) => error.status().0,
    };
    let filters = query.filters(&org);
    // Someone refused the log is not offered its filters either.
    let refused = matches!(page, Err(ServiceError::Forbidden(_)));
    let body = html! {
        @if !refused { (filter_form(&live, &principal, &org, &query)) }
        @match &page {
            Ok(page) => {
                p {
                    a href=(link("/audit.csv", &filters)) download { "Export CSV" }
                    span.hint { " (every record these filters match, not only this page)" }
                }
                (records_table(&page.records, &query, &filters))
                nav aria-label="Pages" {
                    @if query.before.is_some() || query.offset.is_some() {
                        a href=(link("/audit", &filters)) { "First page" }
                        " "
                    }
                    @if let Some(before) = page.next_before {
                        a href=(link("/audit", &[filters.as_slice(), &[("before", before.to_string())]].concat())) { "Next page (older)" }
                    } @else if let Some(offset) = page.next_offset {
                        a href=(link("/audit", &[filters.as_slice(), &[("offset", offset.to_string())]].concat())) { "Next page" }
                    }
                }
            }
            Err(error) => (layout::errors(&messages(error))),
        }
    };
    html_page(status, layout::page("Audit log", Some(&view), body))
}

fn filter_form(
    live: &crate::service::Live,
    principal: &crate::principal::Principal,
    org: &str,
    query: &AuditQuery,
) -> Markup {
    let value = |v: &Option<String>| given(v).unwrap_or("").to_owned();
    let outcome = value(&query.outcome);
    html! {
        form.card method="get" action="/audit" {
            div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:0 16px" {
                div {
                    label for="org" { "Organization" }
                    (org_select(live, principal, "org", org))
                }
                div {
                    label for="since" { "From (date, UTC)" }
                    input type="date" id="since" name="since" value=(value(&query.since)) style="width:100%;padding:8px;font:inherit";
                }
                div {
                    label for="until" { "To (date, UTC, included)" }
                    input type="date" id="until" name="until" value=(value(&query.until)) style="width:100%;padding:8px;font:inherit";
                }
                div {
                    label for="actor" { "Actor" }
                    input type="text" id="actor" name="actor" value=(value(&query.actor)) placeholder="user:bob";
                }
                div {
                    label for="action" { "Action" }
                    input type="text" id="action" name="action" value=(value(&query.action)) placeholder="org.subscriptions";
                }
                div {
                    label for="target" { "Target" }
                    input type="text" id="target" name="target" value=(value(&query.target)) placeholder="user:bob";
                }
                div {
                    label for="outcome" { "Outcome" }
                    select id="outcome" name="outcome" {
                        option value="" selected[outcome.is_empty()] { "Any" }
                        option value="success" selected[outcome == "success"] { "Success" }
                        option value="failure" selected[outcome == "failure"] { "Failure" }
                    }
                }
            }
            @if let Some(sort) = given(&query.sort) {
                input type="hidden" name="sort" value=(sort);
            }
            p.hint { "An action matches the actions under it too: " code { "org" } " finds every " code { "org.*" } " record." }
            button type="submit" { "Filter" }
        }
    }
}

/// What changed, one line per field: `name: before → after`.
fn changes(record: &AuditRecordView) -> Vec<String> {
    use serde_json::Value;
    let compact = |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), Value::to_string);
    match (&record.before, &record.after) {
        (Some(Value::Object(before)), Some(Value::Object(after))) => {
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| before.get(*k) != after.get(*k))
                .map(|k| {
                    format!(
                        "{k}: {} → {}",
                        compact(before.get(k)),
                        compact(after.get(k))
                    )
                })
                .collect()
        }
        (None, Some(after)) => vec![format!("created: {after}")],
        (Some(before), None) => vec![format!("removed: {before}")],
        (Some(before), Some(after)) if before != after => {
            vec![format!("{before} → {after}")]
        }
        _ => Vec::new(),
    }
}

fn records_table(
    records: &[AuditRecordView],
    query: &AuditQuery,
    filters: &[(&str, String)],
) -> Markup {
    let current = given(&query.sort).unwrap_or("-seq");
    let header = |field: &str, title: &str| {
        let (next, aria) = if current == field {
            (format!("-{field}"), "ascending")
        } else if current == format!("-{field}") {
            (field.to_owned(), "descending")
        } else if field == "seq" || field == "at" {
            (format!("-{field}"), "none")
        } else {
            (field.to_owned(), "none")
        };
        let mut pairs: Vec<(&str, String)> = filters
            .iter()
            .filter(|(k, _)| *k != "sort")
            .cloned()
            .collect();
        pairs.push(("sort", next));
        let arrow = match aria {
            "ascending" => " ▲",
            "descending" => " ▼",
            _ => "",
        };
        html! {
            th scope="col" aria-sort=(aria) {
                a href=(link("/audit", &pairs)) { (title) (arrow) }
            }
        }
    };
    html! {
        @if records.is_empty() {
            p { "No record matches." }
        } @else {
            div role="region" aria-label="Audit records" tabindex="0" style="overflow-x:auto" {
                table {
                    thead { tr {
                        @for (field, title) in COLUMNS { (header(field, title)) }
                        th scope="col" { "Changes" }
                    } }
                    tbody {
                        @for r in records {
                            tr {
                                td { (r.seq) }
                                td style="white-space:nowrap" {
                                    @let (day, time) = r.at.split_once('T').unwrap_or((r.at.as_str(), ""));
                                    (day) br; (time.split('.').next().unwrap_or(time).trim_end_matches('Z'))
                                }
                                td { (r.actor) }
                                td { code { (r.action) } }
                                td { (r.target) }
                                td { (r.source) }
                                td {
                                    @match r.outcome {
                                        AuditOutcome::Success => "success",
                                        AuditOutcome::Failure => strong style="color:#b3261e" { "failure" },
                                    }
                                }
                                td style="font-size:.9rem;overflow-wrap:anywhere;min-width:14rem" {
                                    @for line in changes(r) { div { (line) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A CSV download named `name`: the `header`, then the `rows`, every cell
/// neutralised (see [`crate::safe_csv`]) and records ended by `\r\n`.
pub(crate) fn csv_response<R, T>(name: &str, header: &[&str], rows: R) -> Response
where
    R: IntoIterator,
    R::Item: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    let mut writer = safe_csv::Writer::crlf(Vec::new());
    let written = writer
        .write_record(header)
        .and_then(|()| {
            rows.into_iter()
                .try_for_each(|row| writer.write_record(row))
        })
        .and_then(|()| writer.into_inner());
    let body = match written {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "writing the CSV download `{name}`");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the download failed").into_response();
        }
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// A refused download: the problems, as plain text.
pub(crate) fn text_error(error: &ServiceError) -> Response {
    (error.status().0, messages(error).join("\n")).into_response()
}

async fn audit_csv(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(mut query): Query<AuditQuery>,
) -> Response {
    let org = match page_org(&state.service.live(), &principal, &query.org, &session.org) {
        Ok(org) => org,
        Err(error) => return text_error(&error),
    };
    // Every matching record: from the first page on, a page at a time.
    query.before = None;
    query.offset = None;
    let limit = audit::MAX_LIMIT.to_string();
    let mut rows: Vec<[String; 11]> = Vec::new();
    loop {
        let page = match query.params(Some(&limit)) {
            Ok(params) => audit::read(&state.service, &principal, &org, &params).await,
            Err(error) => Err(error),
        };
        let page = match page {
            Ok(page) => page,
            Err(error) => return text_error(&error),
        };
        for r in &page.records {
            let json = |v: &Option<serde_json::Value>| {
                v.as_ref().map(ToString::to_string).unwrap_or_default()
            };
            let outcome = match r.outcome {
                AuditOutcome::Success => "success",
                AuditOutcome::Failure => "failure",
            };
            rows.push([
                r.seq.to_string(),
                r.at.clone(),
                r.actor.clone(),
                r.action.clone(),
                r.org.clone().unwrap_or_default(),
                r.target.clone(),
                r.source.clone(),
                outcome.to_owned(),
                json(&r.before),
                json(&r.after),
                r.hash.clone(),
            ]);
        }
        if let Some(before) = page.next_before {
            query.before = Some(before.to_string());
        } else if let Some(offset) = page.next_offset {
            query.offset = Some(offset.to_string());
        } else {
            break;
        }
    }
    csv_response(
        &format!("audit-{org}.csv"),
        &[
            "seq", "at", "actor", "action", "org", "target", "source", "outcome", "before",
            "after", "hash",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_runs_from_the_first_day_to_the_end_of_the_last() {
        assert_eq!(
            day_start("since", "2025-01-31", false).ok().as_deref(),
            Some("2025-01-31T00:00:00Z")
        );
        assert_eq!(
            day_start("until", "2025-01-31", true).ok().as_deref(),
            Some("2025-02-01T00:00:00Z")
        );
        assert!(day_start("since", "31/01/2025", false).is_err());
        assert!(day_start("since", "2025-02-30", false).is_err());
    }
}
