//! Employees and users as CSV, in and out: `rolecall import users` and
//! `rolecall export users`.
//!
//! # The format
//!
//! A header row, then one row per membership (a user's access in one
//! organization), with exactly these thirteen columns in this order:
//!
//! ```text
//! org,employee_id,first_name,last_name,email,user_id,status,roles,grants,denials,scheduler_type,scheduler_level,tasking_access
//! ```
//!
//! - `org`: the organization of the membership; it must exist.
//! - `employee_id`, `first_name`, `last_name`, `email`: the employee, who
//!   owns the email address. An employee on several rows (a user with
//!   memberships in several organizations) has the same names and email on
//!   each. A new employee is employed by the organization of its first row.
//! - `user_id`: the employee's user. Empty: the employee is imported
//!   without a user, and `status` and every access column must be empty too.
//! - `status`: `invited`, `active` or `disabled`. Empty: `invited` for a new
//!   user, unchanged for an existing one.
//! - `roles`, `grants`, `denials`: lists separated by `;` (`web.biller;analytics.billing_user`);
//!   a grant is `permission` or `permission:own`.
//! - `scheduler_type`, `scheduler_level`, `tasking_access`: one id each, or empty.
//!
//! # Importing
//!
//! All or nothing: every row is parsed and checked against the current
//! state first, and every problem is reported as `line N, column NAME:
//! message`. Only when there is none is everything applied in one write
//! (one transaction, one revision), with one `user.import` audit record per
//! employee and per user created or changed. A row for an existing user
//! replaces that user's access in the row's organization; memberships in
//! organizations the file does not mention are kept. Every membership a row
//! writes gets the creation defaults a user created through the API gets
//! (the derived Analytics role, office-staff tabs, Standard Tasking access),
//! so importing the same file twice changes nothing the second time; to
//! take a derived role away, use the API or the console. Importing
//! crosses organizations and sets account statuses, so only an operator
//! (the command line) may import.
//!
//! # Exporting
//!
//! The same columns, header first, sorted by organization, then user, then
//! employee; employees without a user get one row in their organization.
//! Importing an export into a database with the same organizations gives
//! back the same export.
//!
//! A cell a spreadsheet would run as a formula (beginning with `=`, `+`,
//! `-`, `@`, a tab or a carriage return) is written led by a `'`, and so is
//! one already led by `'`s before such a character; importing takes exactly
//! that `'` away, so any name reads back as it was (see
//! [`crate::safe_csv`]).

mod plan;

use rolecall_model::world::Status;
use rolecall_store::Access;

use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::rules;
use crate::service::{Change, Live, Service};

pub use plan::problems;

/// The columns, in order.
pub const COLUMNS: [&str; 13] = [
    "org",
    "employee_id",
    "first_name",
    "last_name",
    "email",
    "user_id",
    "status",
    "roles",
    "grants",
    "denials",
    "scheduler_type",
    "scheduler_level",
    "tasking_access",
];

/// The format in a few lines, for a file whose header is wrong.
pub const FORMAT: &str = "\
The first line must be the header, exactly:
  org,employee_id,first_name,last_name,email,user_id,status,roles,grants,denials,scheduler_type,scheduler_level,tasking_access
then one row per membership (a user's access in one organization):
  - user_id empty: an employee without a user (status and access columns empty);
  - status: invited, active or disabled (empty: invited for a new user, unchanged otherwise);
  - roles, grants, denials: lists separated by `;`, e.g. `web.biller;analytics.billing_user`;
  - an employee on several rows has the same names and email on each.";

/// The most a name may be, as through the API.
const NAME_MAX: usize = 100;

/// One row of the file: an employee and, when it has a user, that user's
/// access in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The organization of the membership (of the employee, without a user).
    pub org: String,
    /// The employee.
    pub employee_id: String,
    /// The employee's given name.
    pub first_name: String,
    /// The employee's family name.
    pub last_name: String,
    /// The employee's email, which the user's is.
    pub email: String,
    /// The employee's user, if it has one.
    pub user_id: Option<String>,
    /// The user's status; `None` when the column is empty.
    pub status: Option<Status>,
    /// The user's access in `org`.
    pub access: Access,
}

impl UserRecord {
    /// The row's cells, in [`COLUMNS`] order, as they are stored (the
    /// export writes them through [`crate::safe_csv::Writer`]).
    pub fn to_fields(&self) -> [String; 13] {
        let one = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.org.clone(),
            self.employee_id.clone(),
            self.first_name.clone(),
            self.last_name.clone(),
            self.email.clone(),
            one(&self.user_id),
            self.status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            self.access.roles.join(";"),
            self.access.grants.join(";"),
            self.access.denials.join(";"),
            one(&self.access.scheduler_type),
            one(&self.access.scheduler_level),
            one(&self.access.tasking_access),
        ]
    }
}

/// A parsed row with the line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line number (the header is line 1).
    pub line: u64,
    /// What the row says.
    pub record: UserRecord,
}

/// How the problem names a cell: `line 4, column roles`.
pub fn cell(line: u64, column: &str) -> String {
    format!("line {line}, column {column}")
}

/// Checks the header row: exactly [`COLUMNS`], in order. A byte-order
/// mark (spreadsheets write one) is ignored.
pub fn check_header(fields: &[String]) -> Result<(), ServiceError> {
    let found: Vec<&str> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = f.trim();
            if i == 0 {
                f.trim_start_matches('\u{feff}')
            } else {
                f
            }
        })
        .collect();
    if found == COLUMNS {
        return Ok(());
    }
    let message = match COLUMNS
        .iter()
        .zip(&found)
        .position(|(want, got)| want != got)
    {
        Some(i) => format!(
            "column {} is `{}`, expected `{}`",
            i + 1,
            found[i],
            COLUMNS[i]
        ),
        None => format!("found {} columns, expected {}", found.len(), COLUMNS.len()),
    };
    Err(ServiceError::invalid("line 1 (the header)", message))
}

/// Parses the rows after the header: `(line, cells)` each. Returns the
/// rows that parsed and every problem of the others.
pub fn parse_rows(
    records: impl IntoIterator<Item = (u64, Vec<String>)>,
) -> (Vec<ImportRow>, Vec<FieldError>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line, fields) in records {
        match parse_row(line, &fields) {
            Ok(row) => rows.push(row),
            Err(mut found) => problems.append(&mut found),
        }
    }
    (rows, problems)
}

/// Parses one row: ids spelled as ids, names present, the email an email,
/// a known status, and no access without a user. Every cell is first
/// [`unneutralise`](crate::safe_csv::unneutralise)d: the `'` an export put
/// before a formula is taken away.
pub fn parse_row(line: u64, fields: &[String]) -> Result<ImportRow, Vec<FieldError>> {
    if fields.len() != COLUMNS.len() {
        return Err(vec![FieldError::new(
            format!("line {line}"),
            format!("found {} columns, expected {}", fields.len(), COLUMNS.len()),
        )]);
    }
    let fields: Vec<&str> = fields
        .iter()
        .map(|f| crate::safe_csv::unneutralise(f))
        .collect();
    let mut problems = Vec::new();
    let text = |i: usize| fields[i].trim().to_owned();
    let (org, employee_id, user_id) = (text(0), text(1), text(5));
    let mut id = |column: usize, value: &str| {
        if let Err(message) = rolecall_model::catalog::validate_id(value) {
            problems.push(FieldError::new(
                cell(line, COLUMNS[column]),
                format!("id {message}"),
            ));
        }
    };
    id(0, &org);
    id(1, &employee_id);
    if !user_id.is_empty() {
        id(5, &user_id);
    }
    let mut checked = |column: usize, result: Result<String, ServiceError>| match result {
        Ok(value) => value,
        Err(error) => {
            problems.extend(relabel(error, line, COLUMNS[column]));
            String::new()
        }
    };
    let first_name = checked(2, super::check_text("", fields[2], NAME_MAX));
    let last_name = checked(3, super::check_text("", fields[3], NAME_MAX));
    let email = checked(4, super::people::check_email("", fields[4]));
    let status = match text(6).as_str() {
        "" => None,
        "invited" => Some(Status::Invited),
        "active" => Some(Status::Active),
        "disabled" => Some(Status::Disabled),
        other => {
            problems.push(FieldError::new(
                cell(line, "status"),
                format!("`{other}` is not a status; use invited, active or disabled"),
            ));
            None
        }
    };
    let list = |i: usize| -> Vec<String> {
        fields[i]
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let one = |i: usize| Some(text(i)).filter(|s| !s.is_empty());
    let access = Access {
        roles: list(7),
        grants: list(8),
        denials: list(9),
        scheduler_type: one(10),
        scheduler_level: one(11),
        tasking_access: one(12),
        expires: Default::default(),
    };
    if user_id.is_empty() {
        let given = (6..COLUMNS.len()).find(|&i| !fields[i].trim().is_empty());
        if let Some(i) = given {
            problems.push(FieldError::new(
                cell(line, COLUMNS[i]),
                "only a user has a status and access: give a `user_id`, or leave this empty",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ImportRow {
        line,
        record: UserRecord {
            org,
            employee_id,
            first_name,
            last_name,
            email,
            user_id: Some(user_id).filter(|u| !u.is_empty()),
            status,
            access,
        },
    })
}

/// A validation error's fields renamed to a cell of the file.
fn relabel(error: ServiceError, line: u64, column: &str) -> Vec<FieldError> {
    match error {
        ServiceError::Invalid { fields } => fields
            .into_iter()
            .map(|f| FieldError::new(cell(line, column), f.message))
            .collect(),
        other => vec![FieldError::new(cell(line, column), other.to_string())],
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Rows in the file.
    pub rows: usize,
    /// Employees created.
    pub employees_created: usize,
    /// Existing employees whose name or email changed.
    pub employees_updated: usize,
    /// Users created.
    pub users_created: usize,
    /// Existing users whose status or access changed.
    pub users_updated: usize,
    /// The revision of the write; the current one when nothing changed.
    pub revision: i64,
}

/// Where an import is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This many rows are checked against the current state.
    Checked(usize),
    /// Every row is fine; the change is being committed.
    Committing,
}

/// Imports rows: all of them, in one write, or none.
pub async fn users(
    service: &Service,
    principal: &Principal,
    source: &str,
    rows: &[ImportRow],
) -> Result<ImportReport, ServiceError> {
    users_with_progress(service, principal, source, rows, &|_| {}).await
}

/// [`users`], telling `progress` how far it is.
pub async fn users_with_progress(
    service: &Service,
    principal: &Principal,
    source: &str,
    rows: &[ImportRow],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ImportReport, ServiceError> {
    rules::require_operator(principal, "import users")?;
    {
        // Nothing would change: no write, no revision (an import run twice).
        let live = service.live();
        let planned = plan::plan(&live, rows, progress)?;
        if planned.puts.is_empty() {
            return Ok(ImportReport {
                revision: live.revision,
                ..planned.report
            });
        }
    }
    let (revision, report) = service
        .write(principal, source, |live| {
            // Checked again under the writer lock: the state may have moved.
            let planned = plan::plan(live, rows, &|_| {})?;
            progress(Progress::Committing);
            Ok(Change::new(planned.puts, planned.audit, planned.report)
                .guard(rules::administrators_kept))
        })
        .await?;
    Ok(ImportReport { revision, ..report })
}

/// Every employee with its user's memberships as rows, sorted by
/// organization, user and employee; only `org`'s when given.
pub fn export(
    live: &Live,
    principal: &Principal,
    org: Option<&str>,
) -> Result<Vec<UserRecord>, ServiceError> {
    rules::require_operator(principal, "export users")?;
    if let Some(org) = org {
        rules::visible_org(live, principal, org)?;
    }
    let wanted = |o: &str| org.is_none_or(|only| only == o);
    let mut records = Vec::new();
    for employee in live.model.employees.values() {
        let base = UserRecord {
            org: employee.org.clone(),
            employee_id: employee.id.clone(),
            first_name: employee.first_name.clone(),
            last_name: employee.last_name.clone(),
            email: employee.email.clone(),
            user_id: None,
            status: None,
            access: Access::default(),
        };
        let user = live
            .model
            .user_of_employee
            .get(&employee.id)
            .and_then(|u| live.model.users.get(u));
        match user {
            None if wanted(&employee.org) => records.push(base),
            None => {}
            Some(user) => {
                for (member_of, access) in &user.memberships {
                    if wanted(member_of) {
                        records.push(UserRecord {
                            org: member_of.clone(),
                            user_id: Some(user.id.clone()),
                            status: Some(user.status),
                            access: access.clone(),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    records.sort_by(|a, b| {
        (&a.org, &a.user_id, &a.employee_id).cmp(&(&b.org, &b.user_id, &b.employee_id))
    });
    Ok(records)
}
