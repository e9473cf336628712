//! An employee's profile: where a user's email is corrected ("If not
//! correct, DO NOT correct in this section, Go to the Employee's Profile").
//! The user's email follows the employee's at once.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{problems_of, query_string, status_of, user_path};
use crate::console::layout::Viewer;
use crate::console::{html_page, layout, see_other};
use crate::console::{SignedForm, SignedIn};
use crate::http::AppState;
use crate::ops::people::{self, EmployeeUpdate};
use crate::principal::Principal;
use crate::service::Live;

/// `GET /employees/{employee}` query.
#[derive(Debug, Default, Deserialize)]
pub struct EmployeeQuery {
    /// The employing organization; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// What was just done, to confirm.
    #[serde(default)]
    pub done: Option<String>,
}

/// The address of an employee's page.
pub(super) fn employee_path(employee: &str, org: &str, done: &str) -> String {
    let employee: String = form_urlencoded::byte_serialize(employee.as_bytes()).collect();
    format!(
        "/employees/{employee}?{}",
        query_string(&[("org", org), ("done", done)])
    )
}

/// What the form shows when it comes back refused.
struct Typed<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page with what was typed, its status, problems and notice"
)]
fn respond(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    employee: &str,
    typed: Option<Typed<'_>>,
    status: StatusCode,
    problems: &[String],
    notice: Option<&str>,
) -> Response {
    let found = people::list_employees(live, principal, org).and_then(|all| {
        all.into_iter().find(|e| e.id == employee).ok_or_else(|| {
            crate::error::ServiceError::NotFound(format!("employee `{employee}` in `{org}`"))
        })
    });
    let row = match found {
        Ok(row) => row,
        Err(error) => {
            return html_page(
                status_of(&error),
                layout::page("Employee", Some(view), layout::errors(&problems_of(&error))),
            )
        }
    };
    let typed = typed.unwrap_or(Typed {
        first_name: &row.first_name,
        last_name: &row.last_name,
        email: &row.email,
    });
    let title = format!("{} {}", row.first_name, row.last_name);
    let body = html! {
        (layout::notice(notice))
        (layout::errors(problems))
        @if let Some(user) = &row.user {
            p { a href=(user_path(user, org, "")) { "The user of " (title) } }
        } @else {
            p { a href={ "/users/new?" (query_string(&[("org", org), ("employee", &row.id)])) } { "Add a user for " (title) } }
        }
        form.card method="post" action=(employee_path(&row.id, org, "")) {
            input type="hidden" name="csrf" value=(view.session.csrf_token);
            input type="hidden" name="org" value=(org);
            label for="first_name" { "First name" }
            input type="text" id="first_name" name="first_name" value=(typed.first_name) required;
            label for="last_name" { "Last name" }
            input type="text" id="last_name" name="last_name" value=(typed.last_name) required;
            label for="employee_email" { "Email" }
            input type="email" id="employee_email" name="email" value=(typed.email) required aria-describedby="employee-email-hint";
            p.hint id="employee-email-hint" { "The employee's user signs in with, and receives mail at, this address from the moment it is saved." }
            button type="submit" { "Save employee" }
        }
    };
    html_page(status, layout::page(&title, Some(view), body))
}

pub(super) async fn employee_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Path(employee): Path<String>,
    Query(query): Query<EmployeeQuery>,
) -> Response {
    let org = super::org_of(query.org.as_deref(), &session.org);
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let notice = (query.done.as_deref() == Some("saved")).then_some("Saved.");
    respond(
        &live,
        &principal,
        &view,
        &org,
        &employee,
        None,
        StatusCode::OK,
        &[],
        notice,
    )
}

pub(super) async fn update_employee(
    State(state): State<AppState>,
    Path(employee): Path<String>,
    SignedForm {
        session,
        principal,
        address,
        fields,
    }: SignedForm,
) -> Response {
    let org = super::org_of(Some(fields.one("org")), &session.org);
    let input = EmployeeUpdate {
        first_name: Some(fields.one("first_name").to_owned()),
        last_name: Some(fields.one("last_name").to_owned()),
        email: Some(fields.one("email").to_owned()),
    };
    match people::update_employee(&state.service, &principal, &address, &org, &employee, input)
        .await
    {
        Ok(_) => see_other(&employee_path(&employee, &org, "saved")),
        Err(error) => {
            let live = state.service.live();
            let view = Viewer::of(&live, &session);
            let typed = Typed {
                first_name: fields.one("first_name"),
                last_name: fields.one("last_name"),
                email: fields.one("email"),
            };
            respond(
                &live,
                &principal,
                &view,
                &org,
                &employee,
                Some(typed),
                status_of(&error),
                &problems_of(&error),
                None,
            )
        }
    }
}
