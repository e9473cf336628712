//! Roles in the console: each application's role × permission table,
//! grouped by module like the seed's, a form to create a custom role by
//! copying one, and the page to edit a custom role.

use crate::http::{Guard, Table};
use axum::http::Method;
use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use rolecall_model::{Scope, SubscriptionIx};
use serde::Deserialize;

use super::{csrf_ok, forbidden_form, html_page, layout, messages, see_other};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::orgs;
use crate::ops::roles::{self, NewRole, RoleUpdate, RoleView};
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// What the console says when a bulk update meets a user changed since the
/// page was opened.
pub(super) const STALE: &str = "This user was changed by someone else since you opened the page. \
                     Reload to see the changes.";

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    use Guard::{Member, Permission};
    use Method as M;
    t.add(M::GET, "/roles", Member, roles_page)
        .add(
            M::POST,
            "/roles",
            Permission(rules::USER_ADMIN),
            create_role,
        )
        .add(
            M::GET,
            "/roles/edit",
            Permission(rules::USER_ADMIN),
            edit_page,
        )
        .add(
            M::POST,
            "/roles/edit",
            Permission(rules::USER_ADMIN),
            save_role,
        )
}

/// The query of both pages: the organization, and what was just done.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The organization shown; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// What the last form did (`roles_updated`, `no_changes`,
    /// `role_created`).
    #[serde(default)]
    pub done: Option<String>,
    /// How many users `roles_updated` changed.
    #[serde(default)]
    pub count: Option<usize>,
    /// The role `role_created` created.
    #[serde(default)]
    pub role: Option<String>,
}

/// A link to a page of this module for `org`, with more query pairs.
pub(super) fn link(path: &str, org: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("org", org);
    for (key, value) in extra {
        query.append_pair(key, value);
    }
    format!("{path}?{}", query.finish())
}

/// A picker of the organizations the actor reaches (a GET form).
pub(super) fn org_picker(live: &Live, principal: &Principal, path: &str, org: &str) -> Markup {
    let reachable = orgs::list(live, principal);
    html! {
        form method="get" action=(path) style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;margin-bottom:16px" {
            div style="min-width:260px" {
                label for="org" { "Organization" }
                select id="org" name="org" {
                    @for o in &reachable {
                        option value=(o.id) selected[o.id == org] { (o.name) " (" (o.id) ")" }
                    }
                }
            }
            button type="submit" style="margin-top:0" { "Show" }
        }
    }
}

// --- Roles: the role × permission tables ------------------------------------

/// The cell of a role and a permission: what the role grants.
fn cell(granted: Option<Scope>) -> Markup {
    match granted {
        Some(Scope::All) => html! { td style="text-align:center" { "Y" } },
        Some(Scope::Own) => html! { td style="text-align:center" { "Own" } },
        None => html! { td style="text-align:center" { "-" } },
    }
}

/// Every application's table: rows the permissions grouped by module (a
/// module `org` does not subscribe to says so), columns the roles.
fn matrix(live: &Live, org: &str, roles: &[RoleView], editable: bool) -> Markup {
    let catalog = live.snapshot.catalog();
    let world = live.snapshot.world();
    let subscribed: Vec<SubscriptionIx> = world
        .org(org)
        .map(|o| world.orgs[o.ix()].subscriptions.clone())
        .unwrap_or_default();
    html! {
        @for (app_ix, app) in catalog.applications.iter().enumerate() {
            @let columns: Vec<(&RoleView, BTreeMap<usize, Scope>)> = roles
                .iter()
                .filter(|r| r.application == app.id)
                .map(|r| {
                    let grants = r
                        .grants
                        .iter()
                        .filter_map(|g| catalog.parse_grant(g).ok())
                        .map(|g| (g.permission.ix(), g.scope))
                        .collect();
                    (r, grants)
                })
                .collect();
            @if !columns.is_empty() {
                section {
                    h2 id=(format!("app-{}", app.id)) { (app.name) " user roles and permissions" }
                    div role="region" aria-labelledby=(format!("app-{}", app.id)) tabindex="0" style="overflow-x:auto;margin-bottom:24px" {
                        table {
                            thead {
                                tr {
                                    th scope="col" { "Permissions" }
                                    @for (role, _) in &columns {
                                        th scope="col" style="text-align:center" {
                                            (role.name)
                                            @if role.custom {
                                                br;
                                                span.hint { "custom" }
                                                @if editable && role.org.as_deref() == Some(org) {
                                                    br;
                                                    a href=(link("/roles/edit", org, &[("role", &role.id)])) aria-label=(format!("Edit {}", role.name)) { "Edit" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            @for (module_ix, module) in catalog.modules.iter().enumerate().filter(|(_, m)| m.application.ix() == app_ix) {
                                @let permissions: Vec<(usize, &rolecall_model::catalog::Permission)> = catalog
                                    .permissions
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, p)| p.module.ix() == module_ix)
                                    .collect();
                                @let off = module.is_gated() && !module.gated_by.iter().any(|s| subscribed.contains(s));
                                @if !permissions.is_empty() {
                                    tbody {
                                        tr {
                                            th scope="rowgroup" colspan=(columns.len() + 1) style="background:#dde3ea" {
                                                (module.name) " Permissions"
                                                @if off {
                                                    " — not subscribed: "
                                                    span style="font-weight:normal" { "these permissions take effect only with a subscription" }
                                                }
                                            }
                                        }
                                        @for (permission_ix, permission) in &permissions {
                                            tr {
                                                th scope="row" style="font-weight:normal;background:#fff" title=(permission.description) { (permission.name) }
                                                @for (_, grants) in &columns {
                                                    (cell(grants.get(permission_ix).copied()))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The create form's fields, kept when it is refused.
#[derive(Debug, Default, Deserialize)]
pub struct CreateRoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    copy_of: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    id: String,
}

fn create_form(
    view: &Viewer,
    org: &str,
    roles: &[RoleView],
    live: &Live,
    sent: &CreateRoleForm,
) -> Markup {
    let catalog = live.snapshot.catalog();
    html! {
        section.card {
            h2 { "Create a custom role by copying one" }
            p.hint { "The new role starts with every permission of the one you copy, and belongs to this organization." }
            form method="post" action="/roles" {
                input type="hidden" name="csrf" value=(view.session.csrf_token);
                input type="hidden" name="org" value=(org);
                label for="copy_of" { "Role to copy" }
                select id="copy_of" name="copy_of" required {
                    @for app in &catalog.applications {
                        @let of_app: Vec<&RoleView> = roles.iter().filter(|r| r.application == app.id).collect();
                        @if !of_app.is_empty() {
                            optgroup label=(app.name) {
                                @for role in of_app {
                                    option value=(role.id) selected[role.id == sent.copy_of] { (role.name) }
                                }
                            }
                        }
                    }
                }
                label for="role_name" { "Name of the new role" }
                input type="text" id="role_name" name="name" value=(sent.name) required maxlength="200";
                label for="role_id" { "Id of the new role" }
                input type="text" id="role_id" name="id" value=(sent.id) required aria-describedby="role-id-hint";
                p.hint id="role-id-hint" {
                    "Lowercase letters, digits, _ and -, such as front_desk. The application of the copied role goes in front (web.front_desk) unless you write it."
                }
                button type="submit" { "Create role" }
            }
        }
    }
}

/// The Roles page's content for `org`.
fn roles_body(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    sent: &CreateRoleForm,
) -> Result<Markup, ServiceError> {
    let roles = roles::list(live, principal, org)?;
    let manager = rules::require(live, principal, org, rules::USER_ADMIN).is_ok();
    Ok(html! {
        p {
            "What each role can see and do, by application. Y: granted; Own: granted for "
            "what the user owns only; -: not granted. Modules an organization does not "
            "subscribe to are marked."
        }
        (matrix(live, org, &roles, manager))
        @if manager {
            (create_form(view, org, &roles, live, sent))
        }
    })
}

fn roles_layout(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    before: Markup,
    body: Markup,
) -> Markup {
    layout::page(
        "Roles",
        Some(view),
        html! {
            (org_picker(live, principal, "/roles", org))
            (before)
            (body)
        },
    )
}

async fn roles_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<PageQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = query.org.clone().unwrap_or_else(|| session.org.clone());
    let notice = match (query.done.as_deref(), query.role.as_deref()) {
        (Some("role_created"), Some(role)) => Some(format!(
            "Role `{role}` was created: it is the last column of its application's table."
        )),
        (Some("role_saved"), Some(role)) => Some(format!("Role `{role}` was saved.")),
        _ => None,
    };
    match roles_body(&live, &principal, &view, &org, &CreateRoleForm::default()) {
        Ok(body) => roles_layout(
            &live,
            &principal,
            &view,
            &org,
            layout::notice(notice.as_deref()),
            body,
        )
        .into_response(),
        Err(error) => html_page(
            error.status().0,
            roles_layout(
                &live,
                &principal,
                &view,
                &org,
                layout::errors(&messages(&error)),
                html! {},
            ),
        ),
    }
}

async fn create_role(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address,
    }: SignedIn,
    Form(mut form): Form<CreateRoleForm>,
) -> Response {
    if !csrf_ok(&session, &form.csrf) {
        return forbidden_form();
    }
    if form.org.is_empty() {
        form.org.clone_from(&session.org);
    }
    let org = form.org.clone();
    let id = form.id.trim();
    // A short id gets the copied role's application in front, as the hint
    // says; the op checks the whole id.
    let id = match form.copy_of.split_once('.') {
        Some((app, _)) if !id.is_empty() && !id.contains('.') => format!("{app}.{id}"),
        _ => id.to_owned(),
    };
    let input = NewRole {
        id,
        name: form.name.clone(),
        grants: None,
        copy_of: Some(form.copy_of.clone()),
    };
    match roles::create(&state.service, &principal, &address, &org, input).await {
        Ok(created) => see_other(&link(
            "/roles",
            &org,
            &[("done", "role_created"), ("role", &created.id)],
        )),
        Err(error) => {
            let live = state.service.live();
            let view = Viewer::of(&live, &session);
            let body = roles_body(&live, &principal, &view, &org, &form)
                .unwrap_or_else(|read_error| layout::errors(&messages(&read_error)));
            html_page(
                error.status().0,
                roles_layout(
                    &live,
                    &principal,
                    &view,
                    &org,
                    layout::errors(&messages(&error)),
                    body,
                ),
            )
        }
    }
}

// --- Editing a custom role ----------------------------------------------------

/// `GET /roles/edit` query.
#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    /// The organization that owns the role; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// The custom role.
    #[serde(default)]
    pub role: String,
}

/// The custom role `role` of `org`, for a user manager.
fn custom_role(
    live: &Live,
    principal: &Principal,
    org: &str,
    role: &str,
) -> Result<RoleView, ServiceError> {
    rules::require(live, principal, org, rules::USER_ADMIN)?;
    roles::list(live, principal, org)?
        .into_iter()
        .find(|r| r.id == role && r.custom && r.org.as_deref() == Some(org))
        .ok_or_else(|| ServiceError::NotFound(format!("custom role `{role}` in `{org}`")))
}

/// The role's name and a checkbox per permission of its application, by
/// module; `grants` are the ones checked.
fn edit_form(
    live: &Live,
    view: &Viewer,
    org: &str,
    role: &RoleView,
    name: &str,
    grants: &BTreeSet<String>,
) -> Markup {
    let catalog = live.snapshot.catalog();
    let app = catalog.application(&role.application);
    // A permission granted for what the user owns keeps that scope.
    let own: BTreeSet<&str> = grants
        .iter()
        .filter_map(|g| g.strip_suffix(":own"))
        .collect();
    html! {
        form.card method="post" action="/roles/edit" {
            input type="hidden" name="csrf" value=(view.session.csrf_token);
            input type="hidden" name="org" value=(org);
            input type="hidden" name="role" value=(role.id);
            label for="role_name" { "Name" }
            input type="text" id="role_name" name="name" value=(name) required maxlength="200";
            @for (module_ix, module) in catalog.modules.iter().enumerate().filter(|(_, m)| Some(m.application) == app) {
                fieldset style="margin-top:16px;border:1px solid #d4d8de;border-radius:4px" {
                    legend style="font-weight:600" { (module.name) " Permissions" }
                    @for (i, permission) in catalog.permissions.iter().enumerate().filter(|(_, p)| p.module.ix() == module_ix) {
                        @let is_own = own.contains(permission.id.as_str());
                        @let value = if is_own { format!("{}:own", permission.id) } else { permission.id.clone() };
                        @let checked = is_own || grants.contains(&permission.id);
                        div style="display:flex;gap:8px;align-items:center;margin:4px 0" {
                            input type="checkbox" id=(format!("perm-{i}")) name="grant" value=(value) checked[checked];
                            label for=(format!("perm-{i}")) style="display:inline;font-weight:normal;margin:0" {
                                (permission.name)
                                @if is_own { " (own only)" }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Save role" }
            " "
            a href=(link("/roles", org, &[])) { "Back to Roles" }
        }
    }
}

fn edit_layout(view: &Viewer, problems: &[String], body: Markup) -> Markup {
    layout::page(
        "Edit custom role",
        Some(view),
        html! {
            (layout::errors(problems))
            (body)
        },
    )
}

async fn edit_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<EditQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = query.org.clone().unwrap_or_else(|| session.org.clone());
    match custom_role(&live, &principal, &org, &query.role) {
        Ok(role) => {
            let grants = role.grants.iter().cloned().collect();
            edit_layout(
                &view,
                &[],
                edit_form(&live, &view, &org, &role, &role.name, &grants),
            )
            .into_response()
        }
        Err(error) => html_page(
            error.status().0,
            edit_layout(&view, &messages(&error), html! {}),
        ),
    }
}

async fn save_role(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address,
    }: SignedIn,
    body: Bytes,
) -> Response {
    let (mut csrf, mut org, mut role, mut name) =
        (String::new(), String::new(), String::new(), String::new());
    let mut grants = BTreeSet::new();
    for (key, value) in form_urlencoded::parse(&body) {
        let value = value.into_owned();
        match key.as_ref() {
            "csrf" => csrf = value,
            "org" => org = value,
            "role" => role = value,
            "name" => name = value,
            "grant" => {
                grants.insert(value);
            }
            _ => {}
        }
    }
    if !csrf_ok(&session, &csrf) {
        return forbidden_form();
    }
    if org.is_empty() {
        org.clone_from(&session.org);
    }
    let input = RoleUpdate {
        name: Some(name.clone()),
        grants: Some(grants.iter().cloned().collect()),
    };
    match roles::update(&state.service, &principal, &address, &org, &role, input).await {
        Ok(_) => see_other(&link(
            "/roles",
            &org,
            &[("done", "role_saved"), ("role", &role)],
        )),
        Err(error) => {
            let live = state.service.live();
            let view = Viewer::of(&live, &session);
            let body = match custom_role(&live, &principal, &org, &role) {
                Ok(found) => edit_form(&live, &view, &org, &found, &name, &grants),
                Err(_) => html! {},
            };
            html_page(
                error.status().0,
                edit_layout(&view, &messages(&error), body),
            )
        }
    }
}
