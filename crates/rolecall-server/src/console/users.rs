//! The users of an organization: the list (search, filters, pages), a
//! user's page ([`page`]), adding a user for an employee ([`create`]) and
//! the employee's profile, where the email is corrected ([`employee`]).

mod create;
mod employee;
mod page;

use crate::http::{Guard, Table};
use crate::rules::PersonAction;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::{html_page, layout, messages};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::{orgs, people, roles};
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// Users shown on one page of the list.
const PER_PAGE: usize = 25;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    use Guard::{Member, Permission, Person};
    use Method as M;
    use PersonAction::{Access, PasswordMail, Profile, Status};
    let managers = Permission(rules::USER_ADMIN);
    t.add(M::GET, "/users", Member, users)
        .add(M::GET, "/users/new", managers, create::new_page)
        .add(M::POST, "/users/new", managers, create::create)
        .add(M::GET, "/users/{user}", Member, page::user_page)
        .add(
            M::POST,
            "/users/{user}/roles",
            Person(Access),
            page::update_roles,
        )
        .add(
            M::POST,
            "/users/{user}/reports",
            Person(Access),
            page::update_reports,
        )
        .add(
            M::POST,
            "/users/{user}/scheduler",
            Person(Access),
            page::update_scheduler,
        )
        .add(
            M::POST,
            "/users/{user}/tasking",
            Person(Access),
            page::update_tasking,
        )
        .add(
            M::POST,
            "/users/{user}/status",
            Person(Status),
            page::update_status,
        )
        .add(
            M::POST,
            "/users/{user}/password-reset",
            Person(PasswordMail),
            page::send_reset,
        )
        .add(
            M::POST,
            "/users/{user}/invitation",
            Person(PasswordMail),
            page::send_invitation,
        )
        .add(
            M::GET,
            "/employees/{employee}",
            managers,
            employee::employee_page,
        )
        .add(
            M::POST,
            "/employees/{employee}",
            Person(Profile),
            employee::update_employee,
        )
}

/// `GET /users` query: search, filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Part of a name or an email.
    #[serde(default)]
    pub q: Option<String>,
    /// A role id the users must hold.
    #[serde(default)]
    pub role: Option<String>,
    /// `invited`, `active` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// The organization; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<String>,
}

/// The organization a page is about: `asked`, or the session's.
pub(crate) fn org_of(asked: Option<&str>, session_org: &str) -> String {
    asked
        .filter(|o| !o.is_empty())
        .unwrap_or(session_org)
        .to_owned()
}

/// A query string of the given pairs, blanks left out.
pub(crate) fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if !value.is_empty() {
            out.append_pair(key, value);
        }
    }
    out.finish()
}

/// The address of a user's page in `org`, with an optional notice.
pub(crate) fn user_path(user: &str, org: &str, done: &str) -> String {
    let user: String = form_urlencoded::byte_serialize(user.as_bytes()).collect();
    format!(
        "/users/{user}?{}",
        query_string(&[("org", org), ("done", done)])
    )
}

/// The status to answer a refused request with.
pub(crate) fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        // An ETag that no longer matches: the page was read before
        // someone else's change.
        ServiceError::Stale => StatusCode::CONFLICT,
        other => other.status().0,
    }
}

/// The lines to show for a refused form, with the stale-page message the
/// console uses everywhere.
pub(crate) fn problems_of(error: &ServiceError) -> Vec<String> {
    match error {
        ServiceError::Stale => vec![
            "This user was changed by someone else since you opened the page. Reload to see \
             the changes."
                .to_owned(),
        ],
        other => messages(other),
    }
}

/// An organization `select` of the organizations the actor reaches.
pub(crate) fn org_select(live: &Live, principal: &Principal, id: &str, chosen: &str) -> Markup {
    let orgs = orgs::list(live, principal);
    html! {
        label for=(id) { "Organization" }
        select id=(id) name="org" {
            @for org in &orgs {
                option value=(org.id) selected[org.id == chosen] { (org.name) " (" (org.id) ")" }
            }
        }
    }
}

/// A role's display name, or its id when unknown.
pub(crate) fn role_name(live: &Live, id: &str) -> String {
    let world = live.snapshot.world();
    let catalog = live.snapshot.catalog();
    world
        .role_id(catalog, id)
        .map(|r| world.role(catalog, r).name.clone())
        .unwrap_or_else(|| id.to_owned())
}

async fn users(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<ListQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = org_of(query.org.as_deref(), &session.org);
    let (status, body) = match people::list_users(&live, &principal, &org) {
        Ok(users) => (
            StatusCode::OK,
            list_body(&live, &principal, &org, &query, users),
        ),
        Err(error) => (
            status_of(&error),
            html! {
                (layout::errors(&problems_of(&error)))
                form method="get" action="/users" {
                    (org_select(&live, &principal, "org", &session.org))
                    button type="submit" { "Show users" }
                }
            },
        ),
    };
    html_page(status, layout::page("Users", Some(&view), body))
}

fn list_body(
    live: &Live,
    principal: &Principal,
    org: &str,
    query: &ListQuery,
    mut users: Vec<people::UserView>,
) -> Markup {
    let q = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    let role = query.role.as_deref().unwrap_or("");
    let status = query.status.as_deref().unwrap_or("");
    users.retain(|u| {
        (q.is_empty()
            || u.name.to_lowercase().contains(&q)
            || u.email.as_deref().unwrap_or("").to_lowercase().contains(&q))
            && (role.is_empty() || u.access.roles.iter().any(|r| r == role))
            && (status.is_empty() || u.status.as_str() == status)
    });
    users.sort_by_key(|u| u.name.to_lowercase());
    let pages = users.len().div_ceil(PER_PAGE).max(1);
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let shown = users.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE);
    let roles = roles::list(live, principal, org).unwrap_or_default();
    let q_raw = query.q.as_deref().unwrap_or("");
    let link = |to: usize| {
        format!(
            "/users?{}",
            query_string(&[
                ("q", q_raw),
                ("role", role),
                ("status", status),
                ("org", org),
                ("page", &to.to_string()),
            ])
        )
    };
    let may_add = rules::require(live, principal, org, rules::USER_ADMIN).is_ok();
    html! {
        @if may_add {
            p { a href={ "/users/new?" (query_string(&[("org", org)])) } { "Add user" } }
        }
        form.card method="get" action="/users" role="search" aria-label="Find users" {
            div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:0 16px" {
                div {
                    label for="q" { "Name or email" }
                    input type="search" id="q" name="q" value=(q_raw);
                }
                div {
                    label for="role" { "Role" }
                    select id="role" name="role" {
                        option value="" { "Any role" }
                        @for r in &roles {
                            option value=(r.id) selected[r.id == role] { (r.name) }
                        }
                    }
                }
                div {
                    label for="status" { "Status" }
                    select id="status" name="status" {
                        option value="" { "Any status" }
                        @for s in ["active", "invited", "disabled"] {
                            option value=(s) selected[s == status] { (capitalized(s)) }
                        }
                    }
                }
                div { (org_select(live, principal, "org", org)) }
            }
            button type="submit" { "Search" }
        }
        div role="region" aria-label="Users" tabindex="0" style="overflow-x:auto" {
            table {
                caption.hint style="text-align:left" { (users.len()) " users in " (org) }
                thead { tr {
                    th scope="col" { "Name" }
                    th scope="col" { "Email" }
                    th scope="col" { "Status" }
                    th scope="col" { "Roles" }
                } }
                tbody {
                    @for user in shown {
                        tr {
                            th scope="row" { a href=(user_path(&user.id, org, "")) { (user.name) } }
                            td { (user.email.as_deref().unwrap_or("")) }
                            td { (capitalized(user.status.as_str())) }
                            td { (user.access.roles.iter().map(|r| role_name(live, r)).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
        }
        nav aria-label="Pages" style="display:flex;gap:16px;align-items:center;margin-top:12px" {
            @if page > 1 { a href=(link(page - 1)) { "Previous" } }
            span { "Page " (page) " of " (pages) }
            @if page < pages { a href=(link(page + 1)) { "Next" } }
        }
    }
}

/// `invited` → `Invited`.
pub(crate) fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
