//! A user's page: the profile (from the employee), roles ("Update Roles"),
//! Analytics reports ("Update Reports"), Scheduler and Tasking access,
//! status, and password mail. Each form is shown only to a viewer who may
//! use it; the operations refuse the rest anyway.
//!
//! Access forms carry the user's ETag, read with the page: a change made by
//! someone else in between makes the update fail, changing nothing.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use rolecall_model::world::Status;
use rolecall_store::Access;
use serde::Deserialize;

use super::{capitalized, problems_of, status_of};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::console::{html_page, layout};
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::people::UserView;
use crate::ops::{access, people, roles};
use crate::principal::Principal;
use crate::rules::{self, PersonAction};
use crate::service::Live;

mod forms;

pub(super) use forms::{
    send_invitation, send_reset, update_reports, update_roles, update_scheduler, update_status,
    update_tasking,
};

/// The permissions that are Analytics reports: the catalog's
/// `analytics.report.*` (what "Update Reports" grants or removes).
pub(super) const REPORT_PREFIX: &str = "analytics.report.";
/// The Scheduler's tab permissions (Office Staff choose them one by one).
pub(super) const TAB_PREFIX: &str = "scheduler.tab.";
/// The user type whose tabs are chosen one by one.
pub(super) const OFFICE_STAFF: &str = "office_staff";
/// The application whose roles also need `analytics.management`.
const ANALYTICS_APP: &str = "analytics";

/// `GET /users/{user}` query.
#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    /// The organization; the session's when absent.
    #[serde(default)]
    pub org: Option<String>,
    /// What was just done, to confirm.
    #[serde(default)]
    pub done: Option<String>,
}

/// What the viewer may do on the page.
struct Allowed {
    /// Manage this user's access and account: the one rule for actions
    /// on a person allows it (a user manager who holds everything the user
    /// holds, not the user themself).
    manage: bool,
    /// Change Analytics roles and reports too.
    analytics: bool,
    /// Send mail that opens the account (the viewer holds everything the
    /// user holds).
    mail: bool,
    /// Why the viewer may not manage this user, as saving would say it.
    why_not: Option<String>,
}

fn allowed(live: &Live, principal: &Principal, org: &str, user: &str) -> Allowed {
    let may = |action| rules::may_act_on(live, principal, org, user, action);
    let access = may(PersonAction::Access);
    let manage = access.is_ok();
    Allowed {
        manage,
        analytics: manage && rules::require(live, principal, org, rules::ANALYTICS_ADMIN).is_ok(),
        mail: may(PersonAction::PasswordMail).is_ok(),
        why_not: access
            .err()
            .and_then(|e| crate::console::messages(&e).into_iter().next()),
    }
}

pub(super) async fn user_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Path(user): Path<String>,
    Query(query): Query<UserQuery>,
) -> Response {
    let org = super::org_of(query.org.as_deref(), &session.org);
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let shown = render(
        &live,
        &principal,
        &view,
        &org,
        &user,
        query.done.as_deref(),
        &[],
    );
    respond(&view, StatusCode::OK, shown)
}

fn respond(
    view: &Viewer,
    status: StatusCode,
    shown: Result<(String, Markup), ServiceError>,
) -> Response {
    match shown {
        Ok((name, body)) => html_page(status, layout::page(&name, Some(view), body)),
        Err(error) => html_page(
            status_of(&error),
            layout::page("User", Some(view), layout::errors(&problems_of(&error))),
        ),
    }
}

fn notice_of(done: &str, email: &str) -> Option<String> {
    Some(match done {
        "created" => format!("Created; an email with a temporary password was sent to {email}."),
        "roles_updated" => "Roles updated.".to_owned(),
        "reports_updated" => "Reports updated.".to_owned(),
        "scheduler_updated" => "Scheduler access updated.".to_owned(),
        "tasking_updated" => "Tasking access updated.".to_owned(),
        "activated" => "The user is active.".to_owned(),
        "disabled" => "The user is disabled: their sessions and API tokens have ended.".to_owned(),
        "reset_sent" => format!("A password reset link was sent to {email}."),
        "invitation_sent" => format!("A new temporary password was sent to {email}."),
        _ => return None,
    })
}

/// The page's title (the user's name) and body.
fn render(
    live: &Live,
    principal: &Principal,
    view: &Viewer,
    org: &str,
    user: &str,
    done: Option<&str>,
    problems: &[String],
) -> Result<(String, Markup), ServiceError> {
    let shown = people::get_user(live, principal, org, user)?;
    let etag = access::user_etag(live, principal, org, user)?;
    let may = allowed(live, principal, org, user);
    let email = shown.email.clone().unwrap_or_default();
    let notice = done.and_then(|d| notice_of(d, &email));
    let membership = live
        .model
        .users
        .get(user)
        .and_then(|u| u.memberships.get(org))
        .cloned()
        .unwrap_or_default();
    let page = Page {
        live,
        principal,
        org,
        user,
        etag: &etag,
        csrf: &view.session.csrf_token,
        may: &may,
        membership: &membership,
    };
    let body = html! {
        (layout::notice(notice.as_deref()))
        (layout::errors(problems))
        @if view.areas.users {
            p { a href={ "/users?" (super::query_string(&[("org", org)])) } { "Back to the users of " (org) } }
        }
        (page.profile(&shown, &email))
        (page.roles())
        (page.reports())
        (page.scheduler())
        (page.tasking())
        (page.account(&shown))
    };
    Ok((shown.name.clone(), body))
}

/// Everything the page's sections need.
struct Page<'a> {
    live: &'a Live,
    principal: &'a Principal,
    org: &'a str,
    user: &'a str,
    etag: &'a str,
    csrf: &'a str,
    may: &'a Allowed,
    membership: &'a Access,
}

/// The permission id of a written grant (`id` or `id:own`).
fn permission_of(grant: &str) -> &str {
    grant.split_once(':').map_or(grant, |(id, _)| id)
}

impl Page<'_> {
    /// The hidden fields every form of the page carries.
    fn hidden(&self, with_etag: bool) -> Markup {
        html! {
            input type="hidden" name="csrf" value=(self.csrf);
            input type="hidden" name="org" value=(self.org);
            @if with_etag { input type="hidden" name="etag" value=(self.etag); }
        }
    }

    fn action(&self, what: &str) -> String {
        let user: String = form_urlencoded::byte_serialize(self.user.as_bytes()).collect();
        format!("/users/{user}/{what}")
    }

    fn profile(&self, shown: &UserView, email: &str) -> Markup {
        html! {
            section.card aria-labelledby="profile" {
                h2 id="profile" { "Profile" }
                p { "Name: " strong { (shown.name) } }
                label for="email" { "Email" }
                input type="email" id="email" value=(email) readonly aria-describedby="email-hint";
                p.hint id="email-hint" {
                    "The email comes from the employee profile (employee " code { (shown.employee_id) } "): "
                    "to correct it, change it on the employee's profile, not here. "
                    @if rules::require(self.live, self.principal, self.org, rules::USER_ADMIN).is_ok() {
                        a href=(super::employee::employee_path(&shown.employee_id, self.org, "")) { "The employee's profile" }
                    }
                }
                p { "Status: " strong { (capitalized(shown.status.as_str())) } }
                @if self.principal.user() == Some(self.user) {
                    p.hint { "This is you: nobody changes their own access; ask another administrator." }
                }
            }
        }
    }

    fn roles(&self) -> Markup {
        let live = self.live;
        let catalog = live.snapshot.catalog();
        let all = roles::list(live, self.principal, self.org).unwrap_or_default();
        let mut by_app: BTreeMap<usize, Vec<&roles::RoleView>> = BTreeMap::new();
        for role in &all {
            let app = catalog
                .application(&role.application)
                .map_or(usize::MAX, |a| a.ix());
            by_app.entry(app).or_default().push(role);
        }
        let held = |id: &str| self.membership.roles.iter().any(|r| r == id);
        let changeable = |role: &roles::RoleView| {
            self.may.manage
                && (role.application != ANALYTICS_APP || self.may.analytics)
                && (held(&role.id)
                    || rules::may_grant_roles(live, self.principal, self.org, [&role.id], "roles")
                        .is_ok())
        };
        html! {
            section.card aria-labelledby="roles" {
                h2 id="roles" { "Roles" }
                @if let (false, Some(why)) = (self.may.manage, &self.may.why_not) {
                    p.hint { (why) }
                }
                @if self.may.manage {
                    p.hint { "Users can hold more than one role. Check or uncheck a box and use Update Roles to save your changes. A role you do not hold yourself cannot be given." }
                }
                form method="post" action=(self.action("roles")) {
                    (self.hidden(true))
                    @for (app, roles) in &by_app {
                        fieldset {
                            legend { (catalog.applications.get(*app).map_or("Custom", |a| a.name.as_str())) }
                            @for role in roles {
                                @let id = format!("role-{}", role.id);
                                @let on = held(&role.id);
                                @let change = changeable(role);
                                div {
                                    input type="checkbox" id=(id) name="roles" value=(role.id) checked[on] disabled[!change];
                                    @if on && !change { input type="hidden" name="roles" value=(role.id); }
                                    " "
                                    label for=(id) style="display:inline;font-weight:normal" { (role.name) }
                                }
                            }
                        }
                    }
                    @if self.may.manage { button type="submit" { "Update Roles" } }
                }
            }
        }
    }

    /// The reports the user's roles in this membership grant.
    fn reports_from_roles(&self) -> BTreeSet<String> {
        reports_from_roles(self.live, &self.membership.roles)
    }

    fn reports(&self) -> Markup {
        let catalog = self.live.snapshot.catalog();
        let from_roles = self.reports_from_roles();
        let held = held_reports(self.membership, &from_roles);
        let change = self.may.analytics;
        let mut by_module: BTreeMap<usize, Vec<&rolecall_model::catalog::Permission>> =
            BTreeMap::new();
        for p in catalog
            .permissions
            .iter()
            .filter(|p| p.id.starts_with(REPORT_PREFIX))
        {
            by_module.entry(p.module.ix()).or_default().push(p);
        }
        html! {
            section.card aria-labelledby="reports" {
                h2 id="reports" { "Analytics reports" }
                p.hint {
                    "The reports this user may open in Analytics: those of their Analytics roles, changed one by one here. "
                    "Reports need the EMR permission Analytics Access."
                    @if self.may.manage && !change { " Changing reports needs Analytics Management." }
                }
                form method="post" action=(self.action("reports")) {
                    (self.hidden(true))
                    @for (module, reports) in &by_module {
                        fieldset {
                            legend { (catalog.modules[*module].name) }
                            @for report in reports {
                                @let id = format!("report-{}", report.id);
                                div {
                                    input type="checkbox" id=(id) name="reports" value=(report.id) checked[held.contains(&report.id)] disabled[!change];
                                    " "
                                    label for=(id) style="display:inline;font-weight:normal" { (report.name) }
                                    @if from_roles.contains(&report.id) { span.hint { " (from a role)" } }
                                }
                            }
                        }
                    }
                    @if change { button type="submit" { "Update Reports" } }
                }
            }
        }
    }

    fn scheduler(&self) -> Markup {
        let catalog = self.live.snapshot.catalog();
        let Some(app) = catalog.application("scheduler") else {
            return html! {};
        };
        let current_type = self.membership.scheduler_type.as_deref().unwrap_or("");
        let current_level = self.membership.scheduler_level.as_deref().unwrap_or("");
        let types: Vec<_> = catalog
            .user_types
            .iter()
            .filter(|t| t.application == app)
            .collect();
        let levels: Vec<_> = catalog
            .access_levels
            .iter()
            .filter(|l| l.application == app)
            .collect();
        let tabs: Vec<_> = catalog
            .permissions
            .iter()
            .filter(|p| p.id.starts_with(TAB_PREFIX))
            .collect();
        let has_tab = |id: &str| {
            self.membership
                .grants
                .iter()
                .any(|g| permission_of(g) == id)
        };
        let off = !self.may.manage;
        html! {
            section.card aria-labelledby="scheduler" {
                h2 id="scheduler" { "Scheduler" }
                form method="post" action=(self.action("scheduler")) {
                    (self.hidden(true))
                    label for="scheduler_type" { "User type" }
                    select id="scheduler_type" name="scheduler_type" disabled[off] {
                        @if current_type.is_empty() { option value="" selected { "No Scheduler access" } }
                        @for t in &types { option value=(t.id) selected[t.id == current_type] { (t.name) } }
                    }
                    label for="scheduler_level" { "Access level (Provider/Therapist)" }
                    select id="scheduler_level" name="scheduler_level" disabled[off] {
                        option value="" selected[current_level.is_empty()] { "Default or none" }
                        @for l in &levels {
                            option value=(l.id) selected[l.id == current_level] { (l.label) ". " (l.name) }
                        }
                    }
                    fieldset {
                        legend { "Tabs (Office Staff)" }
                        @for tab in &tabs {
                            @let id = format!("tab-{}", tab.id);
                            div {
                                input type="checkbox" id=(id) name="tabs" value=(tab.id) checked[has_tab(&tab.id)] disabled[off];
                                " "
                                label for=(id) style="display:inline;font-weight:normal" { (tab.name) }
                            }
                        }
                    }
                    p.hint { "Providers get the tabs of their access level; Office Staff get the tabs checked here." }
                    @if !off { button type="submit" { "Update Scheduler Access" } }
                }
            }
        }
    }

    fn tasking(&self) -> Markup {
        let catalog = self.live.snapshot.catalog();
        let Some(app) = catalog.application("tasking") else {
            return html! {};
        };
        let current = self.membership.tasking_access.as_deref().unwrap_or("");
        let operator = self.principal.is_operator();
        // Partner RCM access is an operator's to give or take away.
        let locked = current == rules::PARTNER_ACCESS && !operator;
        let choices: Vec<_> = catalog
            .access_types
            .iter()
            .filter(|t| t.application == app && (operator || t.id != rules::PARTNER_ACCESS))
            .collect();
        let off = !self.may.manage || locked;
        html! {
            section.card aria-labelledby="tasking" {
                h2 id="tasking" { "Tasking" }
                form method="post" action=(self.action("tasking")) {
                    (self.hidden(true))
                    label for="tasking_access" { "Access type" }
                    select id="tasking_access" name="tasking_access" disabled[off] {
                        @if current.is_empty() { option value="" selected { "No Tasking access" } }
                        @if locked { option value=(current) selected { "Partner RCM Access" } }
                        @for t in &choices { option value=(t.id) selected[t.id == current] { (t.name) } }
                    }
                    @if locked { p.hint { "Partner RCM access is assigned by an operator only." } }
                    @if !off { button type="submit" { "Update Tasking Access" } }
                }
            }
        }
    }

    fn account(&self, shown: &UserView) -> Markup {
        if !self.may.manage {
            return html! {};
        }
        let (next, label) = match shown.status {
            Status::Disabled => ("active", "Activate user"),
            Status::Active | Status::Invited => ("disabled", "Disable user"),
        };
        html! {
            section.card aria-labelledby="account" {
                h2 id="account" { "Account" }
                form method="post" action=(self.action("status")) {
                    (self.hidden(false))
                    input type="hidden" name="status" value=(next);
                    p.hint { @if next == "disabled" { "Disabling ends the user's sessions and API tokens at once." } @else { "The user may sign in again." } }
                    button type="submit" { (label) }
                }
                @if self.may.mail && shown.status != Status::Disabled {
                    form method="post" action=(self.action("password-reset")) {
                        (self.hidden(false))
                        button type="submit" { "Send a password reset link" }
                    }
                    @if shown.status == Status::Invited {
                        form method="post" action=(self.action("invitation")) {
                            (self.hidden(false))
                            button type="submit" { "Send the temporary password again" }
                        }
                    }
                }
            }
        }
    }
}

/// The reports `roles` grant (by permission id).
pub(super) fn reports_from_roles(live: &Live, roles: &[String]) -> BTreeSet<String> {
    let world = live.snapshot.world();
    let catalog = live.snapshot.catalog();
    roles
        .iter()
        .filter_map(|id| world.role_id(catalog, id))
        .flat_map(|r| world.role(catalog, r).grants.iter())
        .map(|g| catalog.perm(g.permission).id.clone())
        .filter(|id| id.starts_with(REPORT_PREFIX))
        .collect()
}

/// The reports a membership holds: its roles', less its denials, with its
/// direct grants.
fn held_reports(access: &Access, from_roles: &BTreeSet<String>) -> BTreeSet<String> {
    let mut held: BTreeSet<String> = from_roles
        .iter()
        .filter(|r| !access.denials.contains(r))
        .cloned()
        .collect();
    held.extend(
        access
            .grants
            .iter()
            .map(|g| permission_of(g))
            .filter(|p| p.starts_with(REPORT_PREFIX))
            .map(str::to_owned),
    );
    held
}
