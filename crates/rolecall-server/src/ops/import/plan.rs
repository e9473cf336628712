//! Checking parsed rows against each other and against the current state,
//! and turning them into one change.

use std::collections::{BTreeMap, HashMap};

use rolecall_model::defaults;
use rolecall_model::world::Status;
use rolecall_store::{now_ms, Access, AuditEntry, EmployeeRow, Put, UserRow};

use super::{cell, ImportReport, ImportRow, Progress};
use crate::error::{FieldError, ServiceError};
use crate::ops::{access_of, validate_membership};
use crate::service::Live;

/// The rows and audit records of an import, and its counts.
pub(super) struct Planned {
    pub(super) puts: Vec<Put>,
    pub(super) audit: Vec<AuditEntry>,
    pub(super) report: ImportReport,
}

/// One problem, kept with its line so they print in file order.
struct Problem {
    line: u64,
    field: FieldError,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, line: u64, column: &str, message: impl Into<String>) {
        self.0.push(Problem {
            line,
            field: FieldError::new(cell(line, column), message),
        });
    }

    fn into_fields(mut self) -> Vec<FieldError> {
        // Stable: the problems of one line keep their column order.
        self.0.sort_by_key(|p| p.line);
        self.0.into_iter().map(|p| p.field).collect()
    }
}

/// Every problem the rows have against each other and against `live`
/// (none: the import would succeed, guards aside).
pub fn problems(live: &Live, rows: &[ImportRow]) -> Vec<FieldError> {
    match plan(live, rows, &|_| {}) {
        Ok(_) => Vec::new(),
        Err(ServiceError::Invalid { fields }) => fields,
        Err(other) => vec![FieldError::new("import", other.to_string())],
    }
}

/// Checks every row, then builds the change. Fails with every problem.
pub(super) fn plan(
    live: &Live,
    rows: &[ImportRow],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Planned, ServiceError> {
    let mut problems = Problems::default();
    // The first row of each employee and of each user: what later rows must agree with.
    let mut employees: BTreeMap<&str, &ImportRow> = BTreeMap::new();
    let mut employee_order: Vec<&str> = Vec::new();
    let mut users: BTreeMap<&str, &ImportRow> = BTreeMap::new();
    let mut user_order: Vec<&str> = Vec::new();
    // Where each (is a user, user or employee, org) was first listed.
    let mut listed: HashMap<(bool, &str, &str), u64> = HashMap::new();
    let mut memberships: HashMap<&str, Vec<(String, Access)>> = HashMap::new();

    for (done, row) in rows.iter().enumerate() {
        let (line, r) = (row.line, &row.record);
        let org_known = live.model.orgs.contains_key(&r.org);
        if !org_known {
            problems.add(line, "org", format!("unknown organization `{}`", r.org));
        }
        match employees.get(r.employee_id.as_str()) {
            Some(first) => agree_with_first(&mut problems, row, first),
            None => {
                employees.insert(&r.employee_id, row);
                employee_order.push(&r.employee_id);
            }
        }
        let existing_user = live.model.user_of_employee.get(&r.employee_id);
        let key = r.user_id.as_deref().unwrap_or(&r.employee_id);
        let pair = (r.user_id.is_some(), key, r.org.as_str());
        if let Some(&first) = listed.get(&pair) {
            problems.add(
                line,
                "org",
                format!("`{key}` in `{}` is listed at line {first} already", r.org),
            );
        } else {
            listed.insert(pair, line);
        }
        let Some(user) = r.user_id.as_deref() else {
            progress(Progress::Checked(done + 1));
            continue;
        };
        if let Some(other) = existing_user.filter(|u| *u != user) {
            problems.add(
                line,
                "user_id",
                format!("employee `{}` already has user `{other}`", r.employee_id),
            );
        }
        let stored = live.model.users.get(user);
        if let Some(stored) = stored.filter(|s| s.employee != r.employee_id) {
            problems.add(
                line,
                "user_id",
                format!("user `{user}` belongs to employee `{}`", stored.employee),
            );
        }
        if let (Some(Status::Invited), Some(stored)) = (r.status, stored) {
            if stored.status != Status::Invited {
                problems.add(
                    line,
                    "status",
                    format!(
                        "user `{user}` is `{}` and cannot be made `invited` again",
                        stored.status.as_str()
                    ),
                );
            }
        }
        match users.get(user) {
            Some(first) => {
                if first.record.employee_id != r.employee_id {
                    problems.add(
                        line,
                        "employee_id",
                        format!(
                            "user `{user}` is employee `{}` at line {}",
                            first.record.employee_id, first.line
                        ),
                    );
                }
                if first.record.status != r.status {
                    problems.add(
                        line,
                        "status",
                        format!("user `{user}` has another status at line {}", first.line),
                    );
                }
            }
            None => {
                users.insert(user, row);
                user_order.push(user);
            }
        }
        if org_known {
            match membership_access(live, &r.access, &r.org) {
                Ok(access) => memberships
                    .entry(user)
                    .or_default()
                    .push((r.org.clone(), access)),
                Err(fields) => {
                    for field in fields {
                        problems.add(line, &field.field, field.message);
                    }
                }
            }
        }
        progress(Progress::Checked(done + 1));
    }
    if !problems.0.is_empty() {
        return Err(ServiceError::Invalid {
            fields: problems.into_fields(),
        });
    }

    let mut planned = Planned {
        puts: Vec::new(),
        audit: Vec::new(),
        report: ImportReport {
            rows: rows.len(),
            ..ImportReport::default()
        },
    };
    for id in employee_order {
        let r = &employees[id].record;
        let stored = live.model.employees.get(id);
        let next = EmployeeRow {
            id: id.to_owned(),
            org: stored.map_or_else(|| r.org.clone(), |s| s.org.clone()),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: r.email.clone(),
            created_at: stored.map_or_else(now_ms, |s| s.created_at),
        };
        if stored == Some(&next) {
            continue;
        }
        match stored {
            None => planned.report.employees_created += 1,
            Some(_) => planned.report.employees_updated += 1,
        }
        planned.audit.push(entry(
            &next.org,
            format!("employee:{id}"),
            stored.map(|s| serde_json::json!(s)),
            serde_json::json!(next),
        ));
        planned.puts.push(Put::Employee(next));
    }
    for id in user_order {
        let r = &users[id].record;
        let stored = live.model.users.get(id);
        let mut next = stored.cloned().unwrap_or_else(|| UserRow {
            id: id.to_owned(),
            employee: r.employee_id.clone(),
            status: Status::Invited,
            memberships: BTreeMap::new(),
            created_at: now_ms(),
        });
        if let Some(status) = r.status {
            next.status = status;
        }
        for (org, access) in memberships.remove(id).unwrap_or_default() {
            next.memberships.insert(org, access);
        }
        if stored == Some(&next) {
            continue;
        }
        match stored {
            None => planned.report.users_created += 1,
            Some(_) => planned.report.users_updated += 1,
        }
        // Filed under the employee's organization, like the user.
        let home = live
            .model
            .employees
            .get(&r.employee_id)
            .map_or_else(|| r.org.clone(), |e| e.org.clone());
        planned.audit.push(entry(
            &home,
            format!("user:{id}"),
            stored.map(|s| serde_json::json!(s)),
            serde_json::json!(next),
        ));
        planned.puts.push(Put::User(next));
    }
    Ok(planned)
}

/// A later row of an employee must repeat its first row's employee and
/// user.
fn agree_with_first(problems: &mut Problems, row: &ImportRow, first: &ImportRow) {
    let (r, f) = (&row.record, &first.record);
    let pairs = [
        ("first_name", &r.first_name, &f.first_name),
        ("last_name", &r.last_name, &f.last_name),
        ("email", &r.email, &f.email),
    ];
    for (column, here, there) in pairs {
        if here != there {
            problems.add(
                row.line,
                column,
                format!(
                    "employee `{}` has `{there}` at line {}",
                    r.employee_id, first.line
                ),
            );
        }
    }
    if r.user_id != f.user_id {
        let there = f
            .user_id
            .as_deref()
            .map_or_else(|| "no user".to_owned(), |u| format!("user `{u}`"));
        problems.add(
            row.line,
            "user_id",
            format!(
                "employee `{}` has {there} at line {}",
                r.employee_id, first.line
            ),
        );
    }
}

/// The access a row gives, validated, with the creation defaults, and
/// stored as ids. Problems name the row's columns.
///
/// The defaults are applied to a replaced membership too, so what a row
/// means depends on the file alone: importing the same file twice changes
/// nothing the second time, rather than taking away the derived Analytics
/// role, the office-staff tabs and Standard Tasking access the first run
/// gave. An export already holds its defaults, so it imports unchanged.
fn membership_access(live: &Live, access: &Access, org: &str) -> Result<Access, Vec<FieldError>> {
    let spec = access.to_full_spec(org);
    let mut membership = validate_membership(live, &spec, "").map_err(|error| match error {
        ServiceError::Invalid { fields } => fields
            .into_iter()
            .map(|f| {
                // `roles[1]` is the second item of the `roles` column.
                let column = f.field.split(['[', '.']).next().unwrap_or_default();
                FieldError::new(column, f.message)
            })
            .collect(),
        other => vec![FieldError::new("org", other.to_string())],
    })?;
    let catalog = live.snapshot.catalog();
    defaults::apply_on_create(catalog, live.snapshot.world(), &mut membership);
    Ok(access_of(catalog, live, &membership))
}

fn entry(
    org: &str,
    target: String,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor: String::new(),
        action: "user.import".to_owned(),
        org: Some(org.to_owned()),
        target,
        before,
        after: Some(after),
        ..Default::default()
    }
}
