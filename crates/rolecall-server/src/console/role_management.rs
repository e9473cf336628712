//! User Role Management: the users of an organization × the roles that may
//! be given there, a grid of checkboxes saved at once with "Update Roles"
//! (the seed's "update 5 or more user roles at once"), through the API's
//! all-or-nothing bulk update, each user's ETag in a hidden field.

use crate::http::{Guard, Table};
use axum::http::Method;
use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::roles::{link, org_picker, PageQuery, STALE};
use super::{csrf_ok, forbidden_form, html_page, layout, messages, see_other};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::access::{self, BulkAccess, BulkItem};
use crate::ops::people::{self, UserView};
use crate::ops::roles;
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    let managers = Guard::Permission(rules::USER_ADMIN);
    t.add(Method::GET, "/role-management", managers, grid_page)
        .add(Method::POST, "/role-management", managers, update_roles)
}

/// A role column of the grid.
struct Column {
    id: String,
    name: String,
    /// Whether the actor may give it (the bulk update's own rule).
    grantable: bool,
}

/// The columns of one application.
struct AppColumns {
    name: String,
    roles: Vec<Column>,
}

/// A user row of the grid.
struct Row {
    user: UserView,
    etag: String,
    /// The actor's own row: nobody changes their own access.
    is_self: bool,
}

/// Everything the grid shows.
struct Grid {
    org_name: String,
    apps: Vec<AppColumns>,
    rows: Vec<Row>,
}

/// Reads the grid of `org`: for user managers only.
fn read_grid(live: &Live, principal: &Principal, org: &str) -> Result<Grid, ServiceError> {
    rules::require(live, principal, org, rules::USER_ADMIN)?;
    let users = people::list_users(live, principal, org)?;
    let roles = roles::list(live, principal, org)?;
    let catalog = live.snapshot.catalog();
    let apps = catalog
        .applications
        .iter()
        .map(|app| AppColumns {
            name: app.name.clone(),
            roles: roles
                .iter()
                .filter(|r| r.application == app.id)
                .map(|r| Column {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    grantable: rules::may_grant_roles(
                        live,
                        principal,
                        org,
                        std::iter::once(&r.id),
                        "roles",
                    )
                    .is_ok(),
                })
                .collect(),
        })
        .filter(|a| !a.roles.is_empty())
        .collect();
    let mut rows = Vec::with_capacity(users.len());
    for user in users {
        rows.push(Row {
            etag: access::user_etag(live, principal, org, &user.id)?,
            is_self: principal.user() == Some(user.id.as_str()),
            user,
        });
    }
    let org_name = live
        .model
        .orgs
        .get(org)
        .map_or_else(|| org.to_owned(), |o| o.name.clone());
    Ok(Grid {
        org_name,
        apps,
        rows,
    })
}

/// The grid form as posted: the users on the page, each with the ETag and
/// the roles read when the page was drawn, and the roles now checked.
#[derive(Debug, Default)]
struct GridForm {
    csrf: String,
    org: String,
    users: Vec<String>,
    etags: BTreeMap<String, String>,
    shown: BTreeMap<String, BTreeSet<String>>,
    checked: BTreeMap<String, BTreeSet<String>>,
}

impl GridForm {
    /// Reads the form: `user` per row, `etag:<user>`, `shown:<user>` (the
    /// roles as drawn, comma-separated) and `role:<user>` per checked box.
    fn parse(body: &[u8]) -> GridForm {
        let mut form = GridForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.split_once(':') {
                None if key == "csrf" => form.csrf = value,
                None if key == "org" => form.org = value,
                None if key == "user" => form.users.push(value),
                Some(("etag", user)) => {
                    form.etags.insert(user.to_owned(), value);
                }
                Some(("shown", user)) => {
                    let roles = value
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .collect();
                    form.shown.insert(user.to_owned(), roles);
                }
                Some(("role", user)) => {
                    form.checked
                        .entry(user.to_owned())
                        .or_default()
                        .insert(value);
                }
                _ => {}
            }
        }
        form
    }

    /// The users whose checked roles differ from the ones drawn, with
    /// their new roles and ETag.
    fn changes(&self) -> Vec<BulkItem> {
        let none = BTreeSet::new();
        self.users
            .iter()
            .filter_map(|user| {
                let checked = self.checked.get(user).unwrap_or(&none);
                let shown = self.shown.get(user).unwrap_or(&none);
                (checked != shown).then(|| BulkItem {
                    user: user.clone(),
                    if_match: self.etags.get(user).cloned(),
                    roles: Some(checked.iter().cloned().collect()),
                    grants: None,
                    denials: None,
                    scheduler_type: None,
                    scheduler_level: None,
                    tasking_access: None,
                    expires: None,
                })
            })
            .collect()
    }
}

fn grid_notice(query: &PageQuery) -> Option<String> {
    match query.done.as_deref() {
        Some("roles_updated") => Some(match query.count {
            Some(1) => "Roles updated for 1 user.".to_owned(),
            Some(n) => format!("Roles updated for {n} users."),
            None => "Roles updated.".to_owned(),
        }),
        Some("no_changes") => Some("Nothing to update: no box was changed.".to_owned()),
        _ => None,
    }
}

/// The grid, checked as stored, or as `posted` after a refused update.
fn grid_form(view: &Viewer, org: &str, grid: &Grid, posted: Option<&GridForm>) -> Markup {
    let column_count: usize = grid.apps.iter().map(|a| a.roles.len()).sum();
    html! {
        form method="post" action="/role-management" {
            input type="hidden" name="csrf" value=(view.session.csrf_token);
            input type="hidden" name="org" value=(org);
            div role="region" aria-label="Users and their roles" tabindex="0" style="overflow-x:auto;margin-bottom:8px" {
                table {
                    caption.hint style="text-align:left;caption-side:top;padding:4px 0" {
                        (grid.rows.len()) " users of " (grid.org_name) " × the " (column_count)
                        " roles that may be given there"
                    }
                    colgroup { col; }
                    @for app in &grid.apps { colgroup span=(app.roles.len()) {} }
                    thead {
                        tr {
                            th scope="col" rowspan="2" style="vertical-align:bottom" { "User" }
                            @for app in &grid.apps {
                                th scope="colgroup" colspan=(app.roles.len()) style="text-align:center;border-left:2px solid #9aa3ae" { (app.name) }
                            }
                        }
                        tr {
                            @for app in &grid.apps {
                                @for (i, role) in app.roles.iter().enumerate() {
                                    th scope="col" style=(column_style(i, "font-size:.85rem;text-align:center;vertical-align:bottom;min-width:4.5em;padding:6px 4px")) {
                                        (role.name)
                                    }
                                }
                            }
                        }
                    }
                    tbody {
                        @for row in &grid.rows {
                            (grid_row(row, grid, posted))
                        }
                    }
                }
            }
            p.hint {
                "Greyed-out boxes cannot be changed here: roles you do not hold yourself "
                "(only a System Admin gives any role), and your own row (nobody changes "
                "their own access). Only the rows you change are saved; if any of them "
                "cannot be saved, none is."
            }
            button type="submit" { "Update Roles" }
        }
    }
}

/// The style of a cell: a heavier line before each application's first.
fn column_style(index_in_app: usize, more: &str) -> String {
    if index_in_app == 0 {
        format!("border-left:2px solid #9aa3ae;{more}")
    } else {
        more.to_owned()
    }
}

fn grid_row(row: &Row, grid: &Grid, posted: Option<&GridForm>) -> Markup {
    let user = &row.user;
    // After a refused update, the boxes as the person left them, with the
    // ETags and roles of the page they started from.
    let posted = posted.filter(|p| p.users.contains(&user.id));
    let stored: BTreeSet<String> = user.access.roles.iter().cloned().collect();
    let checked = posted
        .and_then(|p| p.checked.get(&user.id))
        .cloned()
        .unwrap_or_else(|| {
            if posted.is_some() {
                BTreeSet::new()
            } else {
                stored.clone()
            }
        });
    let shown = posted
        .and_then(|p| p.shown.get(&user.id))
        .unwrap_or(&stored);
    let etag = posted
        .and_then(|p| p.etags.get(&user.id))
        .unwrap_or(&row.etag);
    let columns: BTreeSet<&str> = grid
        .apps
        .iter()
        .flat_map(|a| a.roles.iter().map(|r| r.id.as_str()))
        .collect();
    html! {
        tr {
            th scope="row" {
                (user.name)
                @if row.is_self { " (you)" }
                br;
                span.hint style="font-weight:normal;font-size:.8rem;white-space:nowrap" { (user.email.as_deref().unwrap_or(&user.id)) }
                @if !row.is_self {
                    input type="hidden" name="user" value=(user.id);
                    input type="hidden" name=(format!("etag:{}", user.id)) value=(etag);
                    input type="hidden" name=(format!("shown:{}", user.id)) value=(shown.iter().cloned().collect::<Vec<_>>().join(","));
                    // Roles held that no column shows are kept as they are.
                    @for role in stored.iter().filter(|r| !columns.contains(r.as_str())) {
                        input type="hidden" name=(format!("role:{}", user.id)) value=(role);
                    }
                }
            }
            @for app in &grid.apps {
                @for (i, role) in app.roles.iter().enumerate() {
                    @let is_checked = checked.contains(&role.id);
                    @let locked = row.is_self || !role.grantable;
                    td style=(column_style(i, "text-align:center;padding:8px 4px")) {
                        input type="checkbox"
                            name=(format!("role:{}", user.id))
                            value=(role.id)
                            aria-label=(format!("{}: {}", user.name, role.name))
                            checked[is_checked]
                            disabled[locked]
                            style="width:20px;height:20px";
                        // A disabled box is not sent: keep what it shows.
                        @if locked && is_checked && !row.is_self {
                            input type="hidden" name=(format!("role:{}", user.id)) value=(role.id);
                        }
                    }
                }
            }
        }
    }
}

/// The User Role Management page around `body`.
fn grid_layout(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    notice: Option<&str>,
    body: Markup,
) -> Markup {
    layout::page(
        "User Role Management",
        Some(view),
        html! {
            (org_picker(live, principal, "/role-management", org))
            p { "Users can be assigned to more than one role. Check or uncheck boxes, then use the Update Roles button to save every change at once." }
            (layout::notice(notice))
            (body)
        },
    )
}

async fn grid_page(
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
    let notice = grid_notice(&query);
    match read_grid(&live, &principal, &org) {
        Ok(grid) => grid_layout(
            &live,
            &principal,
            &view,
            &org,
            notice.as_deref(),
            grid_form(&view, &org, &grid, None),
        )
        .into_response(),
        Err(error) => refused(&live, &principal, &view, &org, &error),
    }
}

/// The page for a grid refused as a whole.
fn refused(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    error: &ServiceError,
) -> Response {
    html_page(
        error.status().0,
        grid_layout(
            live,
            principal,
            view,
            org,
            None,
            layout::errors(&messages(error)),
        ),
    )
}

/// The op's messages, with `updates[2].` replaced by the user's name.
fn bulk_messages(live: &Live, error: &ServiceError, items: &[BulkItem]) -> Vec<String> {
    messages(error)
        .into_iter()
        .map(|mut line| {
            for (i, item) in items.iter().enumerate() {
                let name = live
                    .model
                    .users
                    .get(&item.user)
                    .map_or_else(|| item.user.clone(), |u| live.model.user_name(u));
                line = line
                    .replace(&format!("updates[{i}].roles: "), &format!("{name}: "))
                    .replace(&format!("updates[{i}]."), &format!("{name}: "));
            }
            line
        })
        .collect()
}

async fn update_roles(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address,
    }: SignedIn,
    body: Bytes,
) -> Response {
    let mut form = GridForm::parse(&body);
    if !csrf_ok(&session, &form.csrf) {
        return forbidden_form();
    }
    if form.org.is_empty() {
        form.org.clone_from(&session.org);
    }
    let org = form.org.clone();
    let items = form.changes();
    // Who may save comes first: "no changes" must not answer someone who
    // may not change anything, nor about another company.
    if let Err(error) = rules::require(&state.service.live(), &principal, &org, rules::USER_ADMIN) {
        let live = state.service.live();
        return refused(
            &live,
            &principal,
            &Viewer::of(&live, &session),
            &org,
            &error,
        );
    }
    if items.is_empty() {
        return see_other(&link("/role-management", &org, &[("done", "no_changes")]));
    }
    let count = items.len();
    let input = BulkAccess {
        updates: items.clone(),
    };
    let error = match access::bulk(&state.service, &principal, &address, &org, input).await {
        Ok(_) => {
            let count = count.to_string();
            return see_other(&link(
                "/role-management",
                &org,
                &[("done", "roles_updated"), ("count", &count)],
            ));
        }
        Err(error) => error,
    };
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    if matches!(error, ServiceError::Stale) {
        // Nothing was saved; the page must be read again before trying.
        let changed: Vec<String> = items
            .iter()
            .filter(|item| {
                access::user_etag(&live, &principal, &org, &item.user).ok() != item.if_match
            })
            .filter_map(|item| live.model.users.get(&item.user))
            .map(|u| live.model.user_name(u))
            .collect();
        let mut lines = vec![STALE.to_owned()];
        if !changed.is_empty() {
            lines.push(format!("Changed since: {}.", changed.join(", ")));
        }
        lines.push("Nothing was saved.".to_owned());
        return html_page(
            StatusCode::CONFLICT,
            grid_layout(
                &live,
                &principal,
                &view,
                &org,
                None,
                html! {
                    (layout::errors(&lines))
                    p { a href=(link("/role-management", &org, &[])) { "Reload User Role Management" } }
                },
            ),
        );
    }
    let problems = bulk_messages(&live, &error, &items);
    let body = match read_grid(&live, &principal, &org) {
        Ok(grid) => html! {
            (layout::errors(&problems))
            (grid_form(&view, &org, &grid, Some(&form)))
        },
        Err(read_error) => layout::errors(&messages(&read_error)),
    };
    html_page(
        error.status().0,
        grid_layout(&live, &principal, &view, &org, None, body),
    )
}
