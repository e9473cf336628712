//! The access review: who holds what in an organization, as a grid of
//! permissions by users, each cell marked by how the permission is granted
//! (the engine's explanation of that very decision), and as CSV for
//! periodic reviews.
//!
//! Open to user managers (who may already ask who holds a permission,
//! `GET /v1/orgs/{org}/permissions/{permission}/users`) and to auditors
//! (holders of `rolecall.view_audit`, whose log records every change of
//! access): either may review.

use crate::http::{Guard, Table};
use axum::extract::{Query, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use rolecall_engine::{Reason, Scope, Via};
use serde::Deserialize;

use super::audit::{csv_response, text_error};
use super::checker::{org_select, page_org, users_of};
use super::{html_page, layout, messages};
use crate::console::layout::Viewer;
use crate::console::SignedIn;
use crate::error::ServiceError;
use crate::http::AppState;
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// This module's routes.
pub(crate) fn routes(t: Table) -> Table {
    let reviewers = Guard::Permission(REVIEWERS);
    t.add(Method::GET, "/access-review", reviewers, review_page)
        .add(Method::GET, "/access-review.csv", reviewers, review_csv)
}

/// Who may read the access review: a user manager or an audit reader.
const REVIEWERS: &[&str] = &[
    rules::USER_ADMIN[0],
    rules::USER_ADMIN[1],
    rules::AUDIT_READER[0],
];

/// `GET /access-review` query.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewQuery {
    /// The organization (default: the session's).
    #[serde(default)]
    pub org: Option<String>,
}

/// How a permission is granted, as the grid marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Role,
    Direct,
    Group,
    Setting,
}

impl Kind {
    fn of(via: &Via) -> Kind {
        match via.kind {
            "role" => Kind::Role,
            "direct_grant" => Kind::Direct,
            "group_role" => Kind::Group,
            _ => Kind::Setting,
        }
    }

    const ALL: [Kind; 4] = [Kind::Role, Kind::Direct, Kind::Group, Kind::Setting];

    fn letter(self) -> &'static str {
        match self {
            Kind::Role => "R",
            Kind::Direct => "D",
            Kind::Group => "G",
            Kind::Setting => "T",
        }
    }

    fn meaning(self) -> &'static str {
        match self {
            Kind::Role => "a role",
            Kind::Direct => "a direct grant on the profile",
            Kind::Group => "a role of a member group",
            Kind::Setting => "a user type, access level or access type (setting)",
        }
    }

    /// Background and text colours, at least 4.5:1 apart.
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Kind::Role => ("#dbeafe", "#1e3a8a"),
            Kind::Direct => ("#fef3c7", "#713f12"),
            Kind::Group => ("#dcfce7", "#14532d"),
            Kind::Setting => ("#f3e8ff", "#581c87"),
        }
    }
}

/// One held permission: how, with what scope, and the engine's sentence.
struct Held {
    vias: Vec<Via>,
    scope: Scope,
    sentence: String,
}

impl Held {
    fn kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = Vec::new();
        for via in &self.vias {
            let kind = Kind::of(via);
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        kinds
    }

    fn granted_by(&self) -> String {
        self.vias
            .iter()
            .map(|v| {
                let what = match v.kind {
                    "role" => format!("role {} ({})", v.name, v.id),
                    "group_role" => format!(
                        "role {} ({}) of group {}",
                        v.name,
                        v.id,
                        v.group.as_deref().unwrap_or_default()
                    ),
                    "direct_grant" => "direct grant".to_owned(),
                    "user_type" => format!("user type {}", v.name),
                    "access_level" => format!("access level {}", v.name),
                    _ => format!("access type {}", v.name),
                };
                format!("{what} in {}", v.org)
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The review's data: users (id, name, status), and for each permission of
/// the catalog that someone holds, one cell per user.
struct Review {
    users: Vec<(String, String, &'static str)>,
    rows: Vec<(usize, Vec<Option<Held>>)>,
    unheld: usize,
}

/// Fails unless the actor is a user manager or an auditor in `org`.
fn may_review(live: &Live, principal: &Principal, org: &str) -> Result<(), ServiceError> {
    if rules::require(live, principal, org, rules::USER_ADMIN).is_ok() {
        return Ok(());
    }
    rules::require(live, principal, org, rules::AUDIT_READER).map_err(|error| match error {
        ServiceError::Forbidden(_) => ServiceError::Forbidden(format!(
            "an access review needs `{}` in `{org}`",
            [rules::USER_ADMIN, rules::AUDIT_READER]
                .concat()
                .join("` or `")
        )),
        other => other,
    })
}

fn review(live: &Live, org: &str) -> Review {
    let users: Vec<(String, String, &'static str)> = users_of(live, org)
        .into_iter()
        .map(|(id, name)| {
            let status = live.model.users.get(&id).map_or("", |u| u.status.as_str());
            (id, name, status)
        })
        .collect();
    let catalog = live.snapshot.catalog();
    let mut rows = Vec::new();
    let mut unheld = 0;
    for (ix, permission) in catalog.permissions.iter().enumerate() {
        let cells: Vec<Option<Held>> = users
            .iter()
            .map(|(user, _, _)| {
                let explanation = live.snapshot.explain(user, &permission.id, org, None);
                match (explanation.allowed, explanation.reason) {
                    (true, Reason::Granted { via, .. }) => Some(Held {
                        vias: via,
                        scope: explanation.scope.unwrap_or(Scope::All),
                        sentence: explanation.sentence,
                    }),
                    _ => None,
                }
            })
            .collect();
        if cells.iter().any(Option::is_some) {
            rows.push((ix, cells));
        } else {
            unheld += 1;
        }
    }
    Review {
        users,
        rows,
        unheld,
    }
}

async fn review_page(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<ReviewQuery>,
) -> Response {
    let live = state.service.live();
    let view = Viewer::of(&live, &session);
    let org = match page_org(&live, &principal, &query.org, &session.org)
        .and_then(|org| may_review(&live, &principal, &org).map(|()| org))
    {
        Ok(org) => org,
        Err(error) => {
            return html_page(
                error.status().0,
                layout::page(
                    "Access review",
                    Some(&view),
                    layout::errors(&messages(&error)),
                ),
            )
        }
    };
    let data = review(&live, &org);
    let csv: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("org", &org)
        .finish();
    let body = html! {
        form.card method="get" action="/access-review" {
            label for="org" { "Organization" }
            (org_select(&live, &principal, "org", &org))
            button type="submit" { "Show" }
        }
        p {
            a href={"/access-review.csv?" (csv)} download { "Export CSV" }
            span.hint { " (one line per user and permission held, with how it is granted)" }
        }
        (legend())
        (grid(&live, &data))
        @if data.unheld > 0 {
            p.hint { (data.unheld) " permissions of the catalog are held by nobody here and are left out." }
        }
    };
    html_page(
        StatusCode::OK,
        layout::page("Access review", Some(&view), body),
    )
}

fn legend() -> Markup {
    html! {
        section aria-labelledby="legend" {
            h2 id="legend" style="font-size:1.1rem" { "How to read the grid" }
            ul style="list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px 20px" {
                @for kind in Kind::ALL {
                    @let (background, colour) = kind.colours();
                    li {
                        span style={"display:inline-block;min-width:2em;text-align:center;font-weight:700;border-radius:3px;padding:0 4px;background:" (background) ";color:" (colour)} { (kind.letter()) }
                        " granted by " (kind.meaning())
                    }
                }
                li { strong { "own" } ": for the user's own resources only" }
                li { "blank: not held (not granted, denied, or its module is not subscribed)" }
            }
        }
    }
}

fn grid(live: &Live, data: &Review) -> Markup {
    let catalog = live.snapshot.catalog();
    html! {
        div role="region" aria-label="Permissions by user" tabindex="0" style="overflow-x:auto;margin-top:12px" {
            table style="font-size:.9rem" {
                thead { tr {
                    th scope="col" { "Permission" }
                    @for (id, name, status) in &data.users {
                        th scope="col" style="text-align:center" {
                            (name) br; span.hint { (id) @if *status != "active" { " · " (status) } }
                        }
                    }
                } }
                tbody {
                    @for (ix, cells) in &data.rows {
                        @let permission = &catalog.permissions[*ix];
                        tr {
                            th scope="row" style="font-weight:400" {
                                (permission.name) br;
                                span.hint { (catalog.module_of(rolecall_model::PermissionIx::from_usize(*ix)).name) " · " (permission.id) }
                            }
                            @for cell in cells { (grid_cell(cell.as_ref())) }
                        }
                    }
                }
            }
        }
    }
}

fn grid_cell(held: Option<&Held>) -> Markup {
    let Some(held) = held else {
        return html! { td {} };
    };
    let kinds = held.kinds();
    let (background, colour) = kinds
        .first()
        .map_or(("#ffffff", "#1b1f24"), |k| k.colours());
    let letters: Vec<&str> = kinds.iter().map(|k| k.letter()).collect();
    html! {
        td style={"text-align:center;font-weight:700;background:" (background) ";color:" (colour)} title=(held.sentence) {
            (letters.join(" "))
            @if held.scope == Scope::Own { " " small style="font-weight:400" { "own" } }
        }
    }
}

async fn review_csv(
    State(state): State<AppState>,
    SignedIn {
        session,
        principal,
        address: _,
    }: SignedIn,
    Query(query): Query<ReviewQuery>,
) -> Response {
    let live = state.service.live();
    let org = match page_org(&live, &principal, &query.org, &session.org)
        .and_then(|org| may_review(&live, &principal, &org).map(|()| org))
    {
        Ok(org) => org,
        Err(error) => return text_error(&error),
    };
    let data = review(&live, &org);
    let catalog = live.snapshot.catalog();
    let header = [
        "org",
        "user",
        "name",
        "status",
        "permission",
        "permission name",
        "module",
        "scope",
        "marks",
        "granted by",
        "explanation",
    ];
    let mut rows: Vec<[String; 11]> = Vec::new();
    for (ix, cells) in &data.rows {
        let permission = &catalog.permissions[*ix];
        let module = &catalog
            .module_of(rolecall_model::PermissionIx::from_usize(*ix))
            .id;
        for ((user, name, status), held) in data.users.iter().zip(cells) {
            let Some(held) = held else { continue };
            let marks: Vec<&str> = held.kinds().iter().map(|k| k.letter()).collect();
            let scope = match held.scope {
                Scope::All => "all",
                Scope::Own => "own",
            };
            rows.push([
                org.clone(),
                user.clone(),
                name.clone(),
                (*status).to_owned(),
                permission.id.clone(),
                permission.name.clone(),
                module.to_string(),
                scope.to_owned(),
                marks.join(" "),
                held.granted_by(),
                held.sentence.clone(),
            ]);
        }
    }
    csv_response(&format!("access-review-{org}.csv"), &header, rows)
}
