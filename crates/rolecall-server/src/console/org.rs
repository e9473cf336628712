//! The organization page: its subscriptions (changed by subscription
//! administrators, as `PUT /v1/orgs/{org}/subscriptions`), its partner
//! links (shown; only an operator sets them, and the console never acts as
//! an operator) and its member groups (created as
//! `POST /v1/orgs/{org}/groups`).

use crate::http::{Guard, Table};
use axum::extract::{Query, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use rolecall_store::SessionRow;
use serde::Deserialize;

use super::checker::{org_select, page_org};
use super::{html_page, layout, messages, see_other};
use crate::console::layout::Viewer;
use crate::console::{SignedForm, SignedIn};
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::groups::{self, NewGroup};
use crate::ops::orgs::{self, Subscriptions};
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    use Guard::{Member, Permission};
    use Method as M;
    t.add(M::GET, "/organization", Member, organization)
        .add(
            M::POST,
            "/organization/subscriptions",
            Permission(rules::SUBSCRIPTION_ADMIN),
            save_subscriptions,
        )
        .add(
            M::POST,
            "/organization/groups",
            Permission(rules::GROUP_CREATOR),
            create_group,
        )
}

/// `GET /organization` query.
#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    /// The organization to show (default: the session's).
    #[serde(default)]
    pub org: Option<String>,
    /// What was just done (`subscriptions_updated`, `group_created`).
    #[serde(default)]
    pub done: Option<String>,
}

async fn organization(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<OrgQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("subscriptions_updated") => Some("Subscriptions saved."),
        Some("group_created") => Some("Group created."),
        _ => None,
    };
    let live = state.service.live();
    render(
        &live,
        &session,
        &principal,
        &query.org,
        StatusCode::OK,
        &[],
        notice,
    )
}

/// The page, with problems (from a refused form) or a notice on top.
fn render(
    live: &Live,
    session: &SessionRow,
    principal: &Principal,
    asked: &Option<String>,
    status: StatusCode,
    problems: &[String],
    notice: Option<&str>,
) -> Response {
    let view = Viewer::of(live, session);
    let body = match page_org(live, principal, asked, &session.org) {
        Ok(org) => html! {
            (layout::notice(notice))
            (layout::errors(problems))
            form.card method="get" action="/organization" {
                label for="org" { "Organization" }
                (org_select(live, principal, "org", &org))
                button type="submit" { "Show" }
            }
            (subscriptions(live, principal, &org, &view.session.csrf_token))
            (partners(live, &org))
            (member_groups(live, principal, &org, &view.session.csrf_token))
        },
        Err(error) => {
            return html_page(
                error.status().0,
                layout::page(
                    "Organization",
                    Some(&view),
                    layout::errors(&messages(&error)),
                ),
            )
        }
    };
    html_page(status, layout::page("Organization", Some(&view), body))
}

fn subscriptions(live: &Live, principal: &Principal, org: &str, csrf: &str) -> Markup {
    let catalog = live.snapshot.catalog();
    let held: &[String] = live
        .model
        .orgs
        .get(org)
        .map_or(&[], |o| o.subscriptions.as_slice());
    let may_change = rules::require(live, principal, org, rules::SUBSCRIPTION_ADMIN).is_ok();
    let kind = |is_service: bool| if is_service { "service" } else { "module" };
    html! {
        section.card aria-labelledby="subscriptions" {
            h2 id="subscriptions" { "Subscriptions" }
            p.hint { "A gated module's permissions take effect in an organization only while it subscribes to the module." }
            @if may_change {
                form method="post" action="/organization/subscriptions" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="org" value=(org);
                    fieldset {
                        legend { "Modules and services " (org) " subscribes to" }
                        @for (i, s) in catalog.subscriptions.iter().enumerate() {
                            div {
                                input type="checkbox" id={"subscription-" (i)} name="subscription"
                                    value=(s.id) checked[held.contains(&s.id)];
                                label for={"subscription-" (i)} style="display:inline;font-weight:400;margin-left:6px" {
                                    (s.name) " " span.hint { "(" (kind(s.is_service)) ", " (s.id) ")" }
                                }
                            }
                        }
                    }
                    button type="submit" { "Save subscriptions" }
                }
            } @else {
                @if held.is_empty() { p { "No subscriptions." } }
                ul {
                    @for s in catalog.subscriptions.iter().filter(|s| held.contains(&s.id)) {
                        li { (s.name) " " span.hint { "(" (s.id) ")" } }
                    }
                }
                p.hint { "Changing them needs the permission Manage User Accounts and Subscriptions here." }
            }
        }
    }
}

fn org_name(live: &Live, id: &str) -> String {
    live.model
        .orgs
        .get(id)
        .map_or_else(|| id.to_owned(), |o| format!("{} ({id})", o.name))
}

fn partners(live: &Live, org: &str) -> Markup {
    let manages: Vec<String> = live
        .model
        .orgs
        .get(org)
        .map(|o| o.manages.iter().map(|m| org_name(live, m)).collect())
        .unwrap_or_default();
    let managed_by: Vec<String> = live
        .model
        .orgs
        .values()
        .filter(|o| o.manages.iter().any(|m| m == org))
        .map(|o| org_name(live, &o.id))
        .collect();
    html! {
        section.card aria-labelledby="partners" {
            h2 id="partners" { "Partner links" }
            h3 { "Managed by partners" }
            @if managed_by.is_empty() { p { "No partner manages " (org) "." } }
            ul { @for p in &managed_by { li { (p) } } }
            h3 { "Manages as a partner" }
            @if manages.is_empty() { p { (org) " manages no other organization." } }
            ul { @for m in &manages { li { (m) } } }
            p.hint { "Partner links are set by an operator during onboarding." }
        }
    }
}

/// Users who may be members of `org`'s groups: a membership there or above.
pub(crate) fn possible_members(live: &Live, org: &str) -> Vec<(String, String)> {
    let world = live.snapshot.world();
    let Some(org_ix) = world.org(org) else {
        return Vec::new();
    };
    let mut users: Vec<(String, String)> = live
        .model
        .users
        .values()
        .filter(|u| {
            u.memberships
                .keys()
                .filter_map(|m| world.org(m))
                .any(|m| world.is_at_or_above(m, org_ix))
        })
        .map(|u| (u.id.clone(), live.model.user_name(u)))
        .collect();
    users.sort_by(|a, b| a.1.cmp(&b.1));
    users
}

fn member_groups(live: &Live, principal: &Principal, org: &str, csrf: &str) -> Markup {
    let groups = groups::list(live, principal, org).unwrap_or_default();
    let may_create = rules::require(live, principal, org, rules::GROUP_CREATOR).is_ok();
    let name_of = |id: &str| {
        live.model
            .users
            .get(id)
            .map_or_else(|| id.to_owned(), |u| live.model.user_name(u))
    };
    html! {
        section.card aria-labelledby="groups" {
            h2 id="groups" { "Member groups" }
            @if groups.is_empty() {
                p { (org) " has no member groups." }
            } @else {
                div role="region" aria-label="Table of member groups" tabindex="0" style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th scope="col" { "Group" }
                            th scope="col" { "Access setting" }
                            th scope="col" { "Members" }
                            th scope="col" { "Roles" }
                            th scope="col" { "Created by" }
                        } }
                        tbody {
                            @for g in &groups {
                                tr {
                                    th scope="row" { a href=(super::groups::group_path(&g.id, org, "")) { (g.name) } }
                                    td { (super::groups::access_name(live, g.access.as_deref())) }
                                    td { (g.members.iter().map(|m| name_of(m)).collect::<Vec<_>>().join(", ")) }
                                    td { (g.roles.iter().map(|r| super::users::role_name(live, r)).collect::<Vec<_>>().join(", ")) }
                                    td { (name_of(&g.created_by)) }
                                }
                            }
                        }
                    }
                }
            }
            @if may_create {
                h3 { "Create a member group" }
                p.hint { "The group takes your access type as its access setting." }
                form method="post" action="/organization/groups" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="org" value=(org);
                    label for="group-name" { "Group name" }
                    input type="text" id="group-name" name="name" required;
                    fieldset {
                        legend { "Members" }
                        @for (i, (id, name)) in possible_members(live, org).iter().enumerate() {
                            div {
                                input type="checkbox" id={"member-" (i)} name="member" value=(id);
                                label for={"member-" (i)} style="display:inline;font-weight:400;margin-left:6px" { (name) }
                            }
                        }
                    }
                    button type="submit" { "Create group" }
                }
            }
        }
    }
}

/// After a refused form: the page again, with why.
fn refused(
    state: &AppState,
    session: &SessionRow,
    principal: &Principal,
    org: &str,
    error: &ServiceError,
) -> Response {
    let live = state.service.live();
    render(
        &live,
        session,
        principal,
        &Some(org.to_owned()),
        error.status().0,
        &messages(error),
        None,
    )
}

fn back(org: &str, done: &str) -> Response {
    let org: String = form_urlencoded::byte_serialize(org.as_bytes()).collect();
    see_other(&format!("/organization?org={org}&done={done}"))
}

async fn save_subscriptions(
    State(state): State<AppState>,
    SignedForm {
        session,
        principal,
        address,
        fields,
    }: SignedForm,
) -> Response {
    let org = fields.one("org").to_owned();
    let input = Subscriptions {
        subscriptions: fields.all("subscription"),
    };
    match orgs::set_subscriptions(&state.service, &principal, &address, &org, input).await {
        Ok(_) => back(&org, "subscriptions_updated"),
        Err(error) => refused(&state, &session, &principal, &org, &error),
    }
}

async fn create_group(
    State(state): State<AppState>,
    SignedForm {
        session,
        principal,
        address,
        fields,
    }: SignedForm,
) -> Response {
    let org = fields.one("org").to_owned();
    let input = NewGroup {
        id: None,
        name: fields.one("name").to_owned(),
        members: fields.all("member"),
        roles: Vec::new(),
        created_by: None,
    };
    match groups::create(&state.service, &principal, &address, &org, input).await {
        Ok(_) => back(&org, "group_created"),
        Err(error) => refused(&state, &session, &principal, &org, &error),
    }
}
