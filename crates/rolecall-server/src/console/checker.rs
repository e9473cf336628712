//! The access checker: "may this user do this here?", answered by the same
//! operation as `POST /v1/check` with `explain: true`, with the engine's
//! plain sentence. The form is a GET, so a result's address can be shared.

use crate::http::{Guard, Table};
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::{html_page, layout, messages};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::check::{self, CheckRequest, CheckResponse};
use crate::ops::orgs;
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    t.add(Method::GET, "/access-checker", Guard::Member, checker)
}

/// `GET /access-checker` query: the question, when asked.
#[derive(Debug, Default, Deserialize)]
pub struct CheckerQuery {
    /// The organization the action happens in (default: the session's).
    #[serde(default)]
    pub org: Option<String>,
    /// The user acting.
    #[serde(default)]
    pub user: Option<String>,
    /// The permission, e.g. `web.manage_charge_entries`.
    #[serde(default)]
    pub permission: Option<String>,
    /// The owner of the resource, when it has one.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A query value, trimmed; an empty field counts as not given.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The organization a page shows: the one asked for, else the session's;
/// "not found" unless the actor reaches it.
pub(crate) fn page_org(
    live: &Live,
    principal: &Principal,
    asked: &Option<String>,
    session_org: &str,
) -> Result<String, ServiceError> {
    let org = given(asked).unwrap_or(session_org).to_owned();
    rules::visible_org(live, principal, &org)?;
    Ok(org)
}

/// The users who belong to `org` (a membership there or above it) or reach
/// it as partners, as (id, name), by name. Invited and disabled users are
/// listed too: checking them explains why they are denied.
pub(crate) fn users_of(live: &Live, org: &str) -> Vec<(String, String)> {
    let world = live.snapshot.world();
    let Some(org_ix) = world.org(org) else {
        return Vec::new();
    };
    let above: Vec<&str> = world
        .ancestors_and_self(org_ix)
        .map(|o| world.orgs[o.ix()].id.as_str())
        .collect();
    let mut users: Vec<(String, String)> = live
        .model
        .users
        .values()
        .filter(|u| {
            u.memberships.keys().any(|m| above.contains(&m.as_str()))
                || live.snapshot.reaches(&u.id, org)
        })
        .map(|u| (u.id.clone(), live.model.user_name(u)))
        .collect();
    users.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    users
}

/// The organizations the actor reaches, as an organization `<select>`.
pub(crate) fn org_select(live: &Live, principal: &Principal, id: &str, selected: &str) -> Markup {
    let orgs = orgs::list(live, principal);
    html! {
        select id=(id) name="org" {
            @for org in &orgs {
                option value=(org.id) selected[org.id == selected] { (org.name) " (" (org.id) ")" }
            }
        }
    }
}

async fn checker(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<CheckerQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = match page_org(&live, &principal, &query.org, &session.org) {
        Ok(org) => org,
        Err(error) => {
            return html_page(
                error.status().0,
                layout::page(
                    "Access checker",
                    Some(&view),
                    layout::errors(&messages(&error)),
                ),
            )
        }
    };
    let user = given(&query.user);
    let permission = given(&query.permission);
    let owner = given(&query.owner);
    let answer = match (user, permission) {
        (Some(user), Some(permission)) => {
            let request = CheckRequest {
                org: org.as_str().into(),
                user: user.into(),
                permission: permission.into(),
                owner: owner.map(Into::into),
                explain: true,
                min_revision: None,
            };
            Some(check::check(&live, &principal, &request, None))
        }
        _ => None,
    };
    let status = match &answer {
        Some(Err(error)) => error.status().0,
        _ => axum::http::StatusCode::OK,
    };
    let body = html! {
        div.card {
            form method="get" action="/access-checker" {
                label for="org" { "Organization" }
                (org_select(&live, &principal, "org", &org))
                label for="user" { "User" }
                (user_select(&live, &principal, &org, user))
                p.hint { "The users of the organization shown; after choosing another organization, press Check to list its users." }
                label for="permission" { "Permission" }
                input type="text" id="permission" name="permission" list="permissions"
                    value=(permission.unwrap_or("")) required aria-describedby="permission-hint";
                p.hint id="permission-hint" { "A permission id, e.g. web.manage_charge_entries; type to see suggestions." }
                datalist id="permissions" {
                    @for p in &live.snapshot.catalog().permissions {
                        option value=(p.id) { (p.name) }
                    }
                }
                label for="owner" { "Owner of the resource (optional)" }
                input type="text" id="owner" name="owner" value=(owner.unwrap_or("")) aria-describedby="owner-hint";
                p.hint id="owner-hint" { "For permissions some users hold for their own resources only: the user who owns the schedule, note or task." }
                button type="submit" { "Check" }
            }
        }
        @match &answer {
            Some(Ok(answer)) => (result(answer, user.unwrap_or(""), permission.unwrap_or(""), &org)),
            Some(Err(error)) => (layout::errors(&messages(error))),
            None => {}
        }
    };
    html_page(status, layout::page("Access checker", Some(&view), body))
}

/// The users to choose from: every user of `org` for a user manager there
/// (who may list them, as `GET /v1/orgs/{org}/users`), else the actor only.
fn user_select(live: &Live, principal: &Principal, org: &str, selected: Option<&str>) -> Markup {
    let mut users = users_of(live, org);
    if rules::require(live, principal, org, rules::USER_ADMIN).is_err() {
        users.retain(|(id, _)| principal.user() == Some(id.as_str()));
    }
    let known = selected.is_none_or(|s| users.iter().any(|(id, _)| id == s));
    html! {
        select id="user" name="user" required {
            option value="" { "Choose a user" }
            @if !known {
                @if let Some(other) = selected {
                    option value=(other) selected { (other) }
                }
            }
            @for (id, name) in &users {
                option value=(id) selected[selected == Some(id.as_str())] { (name) " (" (id) ")" }
            }
        }
    }
}

fn result(answer: &CheckResponse, user: &str, permission: &str, org: &str) -> Markup {
    let (word, colour, background) = if answer.allowed {
        ("Allowed", "#146c2e", "#e6f4ea")
    } else {
        ("Denied", "#b3261e", "#fdecea")
    };
    let scope = match answer.scope {
        Some(rolecall_engine::Scope::Own) => Some("for their own resources only"),
        Some(rolecall_engine::Scope::All) => Some("for every resource"),
        None => None,
    };
    html! {
        section.card aria-labelledby="decision" style={"border-left:6px solid " (colour) ";background:" (background)} {
            h2 id="decision" style={"margin:0;font-size:2rem;color:" (colour)} { (word) }
            p { code { (user) } " · " code { (permission) } " · " code { (org) } }
            @if let Some(scope) = scope { p { (scope) } }
            @if let Some(reason) = &answer.reason {
                p style="font-size:1.1rem" { (reason.sentence) }
            }
        }
    }
}
