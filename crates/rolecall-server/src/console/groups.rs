//! A member group's page (`/organization/groups/{group}?org=`): its name,
//! access setting, creator, members and roles, and, for those who may edit
//! member groups (`tasking.group.edit`), a form that changes its name,
//! members and roles, as `PUT /v1/orgs/{org}/groups/{group}`. The access
//! setting stays: it is the creator's access type ("if you are a standard
//! user, any Member Groups you create will be assigned the standard access
//! setting").

use crate::http::{Guard, Table};
use axum::http::Method;
use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::checker::page_org;
use super::org::possible_members;
use super::users::{org_of, query_string, role_name, status_of};
use super::{html_page, layout, messages, see_other};
use crate::console::layout::Viewer;
use crate::console::{SignedForm, SignedIn};
use crate::http::AppState;
use crate::ops::groups::{self, GroupUpdate, GroupView};
use crate::ops::roles::{self, RoleView};
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    let path = "/organization/groups/{group}";
    t.add(Method::GET, path, Guard::Member, group_page).add(
        Method::POST,
        path,
        Guard::Permission(rules::GROUP_EDITOR),
        save_group,
    )
}

/// `GET /organization/groups/{group}` query.
#[derive(Debug, Default, Deserialize)]
pub struct GroupQuery {
    /// The organization the group belongs to (default: the session's).
    #[serde(default)]
    pub org: Option<String>,
    /// What was just done (`group_updated`).
    #[serde(default)]
    pub done: Option<String>,
}

/// The address of `group`'s page in `org`, with an optional notice.
pub(crate) fn group_path(group: &str, org: &str, done: &str) -> String {
    let group: String = form_urlencoded::byte_serialize(group.as_bytes()).collect();
    format!(
        "/organization/groups/{group}?{}",
        query_string(&[("org", org), ("done", done)])
    )
}

async fn group_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Path(group): Path<String>,
    Query(query): Query<GroupQuery>,
) -> Response {
    let notice = match query.done.as_deref() {
        Some("group_updated") => Some("Group saved."),
        _ => None,
    };
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let shown = Shown {
        live: &live,
        principal: &principal,
        view: &view,
    };
    shown.render(&query.org, &group, StatusCode::OK, &[], notice)
}

/// What the page is rendered for: the state it reads and who looks.
struct Shown<'a> {
    live: &'a Live,
    principal: &'a Principal,
    view: &'a Viewer,
}

impl Shown<'_> {
    /// The page, with problems (from a refused form) or a notice on top;
    /// "not found" for a group or an organization out of reach.
    fn render(
        &self,
        asked: &Option<String>,
        group: &str,
        status: StatusCode,
        problems: &[String],
        notice: Option<&str>,
    ) -> Response {
        let found = page_org(self.live, self.principal, asked, &self.view.session.org)
            .and_then(|org| groups::get(self.live, self.principal, &org, group).map(|g| (org, g)));
        match found {
            Ok((org, shown)) => {
                let org_name = self
                    .live
                    .model
                    .orgs
                    .get(&org)
                    .map_or_else(|| org.clone(), |o| o.name.clone());
                // The same rule as the operation: the form is offered only
                // to those it would not refuse for want of the permission.
                let may_edit =
                    rules::require(self.live, self.principal, &org, rules::GROUP_EDITOR).is_ok();
                let body = html! {
                    (layout::notice(notice))
                    (layout::errors(problems))
                    p { a href={ "/organization?" (query_string(&[("org", &org)])) } { "Back to " (org_name) } }
                    (self.about(&shown, &org_name, may_edit))
                    @if may_edit { (self.edit(&org, &shown)) }
                };
                html_page(status, layout::page(&shown.name, Some(self.view), body))
            }
            Err(error) => html_page(
                status_of(&error),
                layout::page(
                    "Member group",
                    Some(self.view),
                    layout::errors(&messages(&error)),
                ),
            ),
        }
    }

    fn user_name(&self, id: &str) -> String {
        self.live
            .model
            .users
            .get(id)
            .map_or_else(|| id.to_owned(), |u| self.live.model.user_name(u))
    }

    fn about(&self, shown: &GroupView, org_name: &str, may_edit: bool) -> Markup {
        let members: Vec<String> = shown.members.iter().map(|m| self.user_name(m)).collect();
        let roles: Vec<String> = shown
            .roles
            .iter()
            .map(|r| role_name(self.live, r))
            .collect();
        let none = |list: &[String]| {
            if list.is_empty() {
                "None".to_owned()
            } else {
                list.join(", ")
            }
        };
        html! {
            section.card aria-labelledby="about" {
                h2 id="about" { "Member group of " (org_name) " " span.hint { "(" (shown.org) ")" } }
                dl style="display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0" {
                    dt style="font-weight:600" { "Name" }
                    dd style="margin:0" { (shown.name) }
                    dt style="font-weight:600" { "Access setting" }
                    dd style="margin:0" { (access_name(self.live, shown.access.as_deref())) }
                    dt style="font-weight:600" { "Created by" }
                    dd style="margin:0" { (self.user_name(&shown.created_by)) }
                    dt style="font-weight:600" { "Members" }
                    dd style="margin:0" { (none(&members)) }
                    dt style="font-weight:600" { "Roles" }
                    dd style="margin:0" { (none(&roles)) }
                }
                p.hint { "The access setting is the Tasking access type of the group's creator; it does not change. Members hold the group's roles in " (org_name) " and in any organization below it." }
                @if !may_edit {
                    p.hint { "Changing member groups needs the permission Edit member groups in " (shown.org) "." }
                }
            }
        }
    }

    /// The form, for a viewer who may edit member groups here.
    fn edit(&self, org: &str, shown: &GroupView) -> Markup {
        let live = self.live;
        let catalog = live.snapshot.catalog();
        let all = roles::list(live, self.principal, org).unwrap_or_default();
        let mut by_app: BTreeMap<usize, Vec<&RoleView>> = BTreeMap::new();
        for role in &all {
            let app = catalog
                .application(&role.application)
                .map_or(usize::MAX, |a| a.ix());
            by_app.entry(app).or_default().push(role);
        }
        let held = |id: &str| shown.roles.iter().any(|r| r == id);
        // A role the viewer does not hold cannot be given; one the group
        // holds already stays, sent as a hidden field.
        let grantable =
            |id: &String| rules::may_grant_roles(live, self.principal, org, [id], "roles").is_ok();
        let grid =
            "display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:2px 16px";
        let inline = "display:inline;font-weight:400;margin-left:6px";
        html! {
            section.card aria-labelledby="edit" {
                h2 id="edit" { "Edit the group" }
                form method="post" action=(group_path(&shown.id, org, "")) {
                    input type="hidden" name="csrf" value=(self.view.session.csrf_token);
                    input type="hidden" name="org" value=(org);
                    label for="group-name" { "Group name" }
                    input type="text" id="group-name" name="name" value=(shown.name) maxlength="200" required;
                    fieldset style="margin-top:16px" {
                        legend { "Members" }
                        div style=(grid) {
                            @for (i, (id, name)) in possible_members(live, org).iter().enumerate() {
                                div {
                                    input type="checkbox" id={ "member-" (i) } name="member" value=(id)
                                        checked[shown.members.contains(id)];
                                    label for={ "member-" (i) } style=(inline) { (name) }
                                }
                            }
                        }
                    }
                    fieldset style="margin-top:16px" {
                        legend { "Roles" }
                        p.hint style="margin-top:0" { "Every member holds the group's roles. A role you do not hold yourself cannot be given." }
                        @for (app, roles) in &by_app {
                            fieldset {
                                legend { (catalog.applications.get(*app).map_or("Custom", |a| a.name.as_str())) }
                                div style=(grid) {
                                    @for role in roles {
                                        @let id = format!("role-{}", role.id);
                                        @let on = held(&role.id);
                                        @let change = grantable(&role.id);
                                        div {
                                            input type="checkbox" id=(id) name="role" value=(role.id) checked[on] disabled[!change];
                                            @if on && !change { input type="hidden" name="role" value=(role.id); }
                                            label for=(id) style=(inline) { (role.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" { "Save group" }
                }
            }
        }
    }
}

async fn save_group(
    State(state): State<AppState>,
    Path(group): Path<String>,
    SignedForm {
        session,
        principal,
        address,
        fields,
    }: SignedForm,
) -> Response {
    let org = org_of(Some(fields.one("org")), &session.org);
    // The form shows every field: an unchecked list is an empty one.
    let input = GroupUpdate {
        name: Some(fields.one("name").to_owned()),
        members: Some(fields.all("member")),
        roles: Some(fields.all("role")),
    };
    match groups::update(&state.service, &principal, &address, &org, &group, input).await {
        Ok(_) => see_other(&group_path(&group, &org, "group_updated")),
        Err(error) => {
            let live = state.service.live();
            let view = Viewer::of(&live, &session);
            let shown = Shown {
                live: &live,
                principal: &principal,
                view: &view,
            };
            shown.render(
                &Some(org),
                &group,
                status_of(&error),
                &messages(&error),
                None,
            )
        }
    }
}

/// A group's access setting by its name ("Standard Access"), or its id when
/// the catalog does not know it.
pub(crate) fn access_name(live: &Live, access: Option<&str>) -> String {
    let Some(access) = access else {
        return "None".to_owned();
    };
    live.snapshot
        .catalog()
        .access_types
        .iter()
        .find(|t| t.id == access)
        .map_or_else(|| access.to_owned(), |t| t.name.clone())
}
