//! Adding a user for an existing employee (the seed: "Employee's Profile
//! must already be created ... in order to create user access"). The email
//! is the employee's, shown read-only; creating the user emails them a
//! temporary password.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::page::{OFFICE_STAFF, TAB_PREFIX};
use super::{org_select, problems_of, query_string, status_of, user_path};
use crate::console::layout::Viewer;
use crate::console::{html_page, layout, see_other};
use crate::console::{SignedForm, SignedIn};
use crate::http::AppState;
use crate::ops::people::{self, AccessInput, EmployeeView, NewUser};
use crate::ops::roles;
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// The page's title.
const TITLE: &str = "Add user";

/// `GET /users/new` query.
#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// The organization; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// The employee chosen.
    #[serde(default)]
    pub employee: Option<String>,
}

/// What the form shows: the choices made so far.
#[derive(Default)]
struct Chosen {
    employee: String,
    scheduler_type: String,
    scheduler_level: String,
    tabs: Vec<String>,
    roles: Vec<String>,
}

pub(super) async fn new_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<NewQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = super::org_of(query.org.as_deref(), &session.org);
    let chosen = Chosen {
        employee: query.employee.unwrap_or_default(),
        // "By default, the Office Staff user type will have access to the
        // Dashboard and Reports section."
        tabs: vec![
            format!("{TAB_PREFIX}dashboard"),
            format!("{TAB_PREFIX}reports"),
        ],
        ..Chosen::default()
    };
    respond(&live, &principal, &view, &org, &chosen, StatusCode::OK, &[])
}

fn respond(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    chosen: &Chosen,
    status: StatusCode,
    problems: &[String],
) -> Response {
    let body = match people::list_employees(live, principal, org) {
        Ok(employees) => form(live, principal, view, org, &employees, chosen, problems),
        Err(error) => {
            return html_page(
                status_of(&error),
                layout::page(TITLE, Some(view), layout::errors(&problems_of(&error))),
            )
        }
    };
    html_page(status, layout::page(TITLE, Some(view), body))
}

fn form(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    employees: &[EmployeeView],
    chosen: &Chosen,
    problems: &[String],
) -> Markup {
    let mut free: Vec<&EmployeeView> = employees.iter().filter(|e| e.user.is_none()).collect();
    free.sort_by(|a, b| (&a.last_name, &a.first_name).cmp(&(&b.last_name, &b.first_name)));
    let employee = free.iter().find(|e| e.id == chosen.employee);
    html! {
        (layout::errors(problems))
        p { a href={ "/users?" (query_string(&[("org", org)])) } { "Back to the users of " (org) } }
        form.card method="get" action="/users/new" {
            (org_select(live, principal, "org", org))
            @if free.is_empty() {
                p { "Every employee of " (org) " has a user. The employee's profile must be created first; then come back here." }
            } @else {
                label for="employee" { "Employee" }
                select id="employee" name="employee" {
                    @if employee.is_none() { option value="" selected { "Choose an employee" } }
                    @for e in &free {
                        option value=(e.id) selected[e.id == chosen.employee] { (e.first_name) " " (e.last_name) }
                    }
                }
                p.hint { "Only employees without a user are listed." }
            }
            button type="submit" { "Choose employee" }
        }
        @if let Some(employee) = employee {
            (details(live, principal, view, org, employee, chosen))
        }
    }
}

fn details(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    employee: &EmployeeView,
    chosen: &Chosen,
) -> Markup {
    let catalog = live.snapshot.catalog();
    let scheduler = catalog.application("scheduler");
    let types: Vec<_> = catalog
        .user_types
        .iter()
        .filter(|t| Some(t.application) == scheduler)
        .collect();
    let levels: Vec<_> = catalog
        .access_levels
        .iter()
        .filter(|l| Some(l.application) == scheduler)
        .collect();
    let tabs: Vec<_> = catalog
        .permissions
        .iter()
        .filter(|p| p.id.starts_with(TAB_PREFIX))
        .collect();
    let analytics_admin = rules::require(live, principal, org, rules::ANALYTICS_ADMIN).is_ok();
    let offered: Vec<roles::RoleView> = roles::list(live, principal, org)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.application != "analytics" || analytics_admin)
        .filter(|r| rules::may_grant_roles(live, principal, org, [&r.id], "roles").is_ok())
        .collect();
    html! {
        form.card method="post" action="/users/new" {
            input type="hidden" name="csrf" value=(view.session.csrf_token);
            input type="hidden" name="org" value=(org);
            input type="hidden" name="employee" value=(employee.id);
            h2 { "User for " (employee.first_name) " " (employee.last_name) }
            label for="new-email" { "Email" }
            input type="email" id="new-email" value=(employee.email) readonly aria-describedby="new-email-hint";
            p.hint id="new-email-hint" {
                "Confirm that the email is correct. If it is not, do not correct it here: change it on "
                a href=(super::employee::employee_path(&employee.id, org, "")) { "the employee's profile" }
                ", then come back and reload this page."
            }
            fieldset {
                legend { "Scheduler user type" }
                @for t in &types {
                    @let id = format!("type-{}", t.id);
                    div {
                        input type="radio" id=(id) name="scheduler_type" value=(t.id) checked[t.id == chosen.scheduler_type];
                        " "
                        label for=(id) style="display:inline;font-weight:normal" { (t.name) }
                    }
                }
                div {
                    input type="radio" id="type-none" name="scheduler_type" value="" checked[chosen.scheduler_type.is_empty()];
                    " "
                    label for="type-none" style="display:inline;font-weight:normal" { "No Scheduler access" }
                }
            }
            label for="scheduler_level" { "Access level (Provider/Therapist)" }
            select id="scheduler_level" name="scheduler_level" {
                option value="" selected[chosen.scheduler_level.is_empty()] { "Default (A)" }
                @for l in &levels {
                    option value=(l.id) selected[l.id == chosen.scheduler_level] { (l.label) ". " (l.name) }
                }
            }
            fieldset {
                legend { "Tabs (Office Staff)" }
                @for tab in &tabs {
                    @let id = format!("tab-{}", tab.id);
                    div {
                        input type="checkbox" id=(id) name="tabs" value=(tab.id) checked[chosen.tabs.contains(&tab.id)];
                        " "
                        label for=(id) style="display:inline;font-weight:normal" { (tab.name) }
                    }
                }
            }
            fieldset {
                legend { "Roles" }
                @for role in &offered {
                    @let id = format!("role-{}", role.id);
                    div {
                        input type="checkbox" id=(id) name="roles" value=(role.id) checked[chosen.roles.contains(&role.id)];
                        " "
                        label for=(id) style="display:inline;font-weight:normal" { (role.name) }
                    }
                }
            }
            p.hint { "Creating the user sends them an email with a temporary password, so that they can choose their own." }
            button type="submit" { "Create / Edit User Permissions" }
        }
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    SignedForm {
        session,
        principal,
        address,
        fields,
    }: SignedForm,
) -> Response {
    let org = super::org_of(Some(fields.one("org")), &session.org);
    let chosen = Chosen {
        employee: fields.one("employee").to_owned(),
        scheduler_type: fields.one("scheduler_type").to_owned(),
        scheduler_level: fields.one("scheduler_level").to_owned(),
        tabs: fields.all("tabs"),
        roles: fields.all("roles"),
    };
    let input = NewUser::new(None, chosen.employee.clone(), access_of(&chosen));
    match people::create_user(&state.service, &principal, &address, &org, input).await {
        Ok(created) => see_other(&user_path(&created.id, &org, "created")),
        Err(error) => {
            let live = state.service.live();
            let view = Viewer::of(&live, &session);
            respond(
                &live,
                &principal,
                &view,
                &org,
                &chosen,
                status_of(&error),
                &problems_of(&error),
            )
        }
    }
}

/// The access the form asks for.
fn access_of(chosen: &Chosen) -> AccessInput {
    let kind = chosen.scheduler_type.as_str();
    let office = kind == OFFICE_STAFF;
    AccessInput {
        roles: Some(chosen.roles.clone()),
        // Office Staff's tabs are direct grants; nothing else is granted here.
        grants: office.then(|| {
            chosen
                .tabs
                .iter()
                .filter(|t| t.starts_with(TAB_PREFIX))
                .cloned()
                .collect()
        }),
        scheduler_type: (!kind.is_empty()).then(|| kind.to_owned()),
        scheduler_level: (!office && !kind.is_empty() && !chosen.scheduler_level.is_empty())
            .then(|| chosen.scheduler_level.clone()),
        ..AccessInput::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_staff_get_the_checked_tabs_and_no_level() {
        let chosen = Chosen {
            employee: "emp-x".to_owned(),
            scheduler_type: OFFICE_STAFF.to_owned(),
            scheduler_level: "view_edit_all".to_owned(),
            tabs: vec!["scheduler.tab.billing".to_owned()],
            roles: vec![],
        };

        let access = access_of(&chosen);

        assert_eq!(
            access.grants,
            Some(vec!["scheduler.tab.billing".to_owned()])
        );
        assert_eq!(access.scheduler_level, None);
    }

    #[test]
    fn providers_get_their_level_and_no_tabs() {
        let chosen = Chosen {
            employee: "emp-x".to_owned(),
            scheduler_type: "provider".to_owned(),
            scheduler_level: "edit_own".to_owned(),
            tabs: vec!["scheduler.tab.billing".to_owned()],
            roles: vec!["web.provider".to_owned()],
        };

        let access = access_of(&chosen);

        assert_eq!(access.grants, None);
        assert_eq!(access.scheduler_level.as_deref(), Some("edit_own"));
        assert_eq!(access.roles, Some(vec!["web.provider".to_owned()]));
    }
}
