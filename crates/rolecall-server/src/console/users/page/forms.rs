//! The forms of a user's page: each POST checks the session and the form's
//! CSRF token, calls the operation the API calls, and answers with the page
//! again (a notice, or why it was refused).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::response::Response;
use rolecall_model::world::Status;
use rolecall_store::Access;

use super::{
    permission_of, render, reports_from_roles, respond, OFFICE_STAFF, REPORT_PREFIX, TAB_PREFIX,
};
use crate::accounts::credentials;
use crate::console::layout::Viewer;
use crate::console::users::{problems_of, status_of, user_path};
use crate::console::FormFields;
use crate::console::{see_other, SignedForm};
use crate::error::ServiceError;
use crate::http::AppState;
use crate::ops::people::{AccessInput, StatusInput};
use crate::ops::{access, people};
use crate::principal::Principal;

/// A posted form of the page, after the session and CSRF checks.
struct Posted {
    view: Viewer,
    principal: Principal,
    address: String,
    org: String,
    fields: FormFields,
}

impl Posted {
    fn of(state: &AppState, form: SignedForm) -> Posted {
        let SignedForm {
            session,
            principal,
            address,
            fields,
        } = form;
        let org = crate::console::users::org_of(Some(fields.one("org")), &session.org);
        let view = Viewer::of(&state.service.live(), &session);
        Posted {
            view,
            principal,
            address,
            org,
            fields,
        }
    }
}

/// After a form: to the page with `done`, or the page again with the
/// operation's refusal.
fn after(
    state: &AppState,
    form: &Posted,
    user: &str,
    result: Result<(), ServiceError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => see_other(&user_path(user, &form.org, done)),
        Err(error) => {
            let live = state.service.live();
            let shown = render(
                &live,
                &form.principal,
                &form.view,
                &form.org,
                user,
                None,
                &problems_of(&error),
            );
            respond(&form.view, status_of(&error), shown)
        }
    }
}

/// The user's access in `org` now, as stored.
fn stored_access(state: &AppState, form: &Posted, user: &str) -> Result<Access, ServiceError> {
    let live = state.service.live();
    let row = people::find_user(&live, &form.principal, &form.org, user)?;
    Ok(row.memberships.get(&form.org).cloned().unwrap_or_default())
}

/// Applies `input` to the user's access with the form's ETag.
async fn update_access(
    state: &AppState,
    form: &Posted,
    user: &str,
    input: AccessInput,
) -> Result<(), ServiceError> {
    let etag = form.fields.one("etag");
    access::update(
        &state.service,
        &form.principal,
        &form.address,
        &form.org,
        user,
        Some(etag),
        input,
    )
    .await
    .map(|_| ())
}

pub(in crate::console::users) async fn update_roles(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let input = AccessInput {
        roles: Some(form.fields.all("roles")),
        ..AccessInput::default()
    };
    let result = update_access(&state, &form, &user, input).await;
    after(&state, &form, &user, result, "roles_updated")
}

pub(in crate::console::users) async fn update_reports(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let result = async {
        let current = stored_access(&state, &form, &user)?;
        let chosen: BTreeSet<String> = form
            .fields
            .all("reports")
            .into_iter()
            .filter(|r| r.starts_with(REPORT_PREFIX))
            .collect();
        let from_roles = reports_from_roles(&state.service.live(), &current.roles);
        // A report the roles give stays theirs (a denial takes it away);
        // any other checked report is granted directly.
        let mut grants: Vec<String> = current
            .grants
            .iter()
            .filter(|g| !permission_of(g).starts_with(REPORT_PREFIX))
            .cloned()
            .collect();
        grants.extend(chosen.iter().filter(|r| !from_roles.contains(*r)).cloned());
        let mut denials: Vec<String> = current
            .denials
            .iter()
            .filter(|d| !d.starts_with(REPORT_PREFIX))
            .cloned()
            .collect();
        denials.extend(from_roles.iter().filter(|r| !chosen.contains(*r)).cloned());
        let input = AccessInput {
            // Named, so that no default role is derived from the grants.
            roles: Some(current.roles.clone()),
            grants: Some(grants),
            denials: Some(denials),
            ..AccessInput::default()
        };
        update_access(&state, &form, &user, input).await
    }
    .await;
    after(&state, &form, &user, result, "reports_updated")
}

pub(in crate::console::users) async fn update_scheduler(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let result = async {
        let current = stored_access(&state, &form, &user)?;
        let kind = form.fields.one("scheduler_type");
        let level = form.fields.one("scheduler_level");
        let mut input = AccessInput {
            roles: Some(current.roles.clone()),
            scheduler_type: (!kind.is_empty()).then(|| kind.to_owned()),
            scheduler_level: (!level.is_empty() && kind != OFFICE_STAFF).then(|| level.to_owned()),
            ..AccessInput::default()
        };
        if kind == OFFICE_STAFF {
            let mut grants: Vec<String> = current
                .grants
                .iter()
                .filter(|g| !permission_of(g).starts_with(TAB_PREFIX))
                .cloned()
                .collect();
            grants.extend(
                form.fields
                    .all("tabs")
                    .into_iter()
                    .filter(|t| t.starts_with(TAB_PREFIX)),
            );
            input.grants = Some(grants);
        }
        update_access(&state, &form, &user, input).await
    }
    .await;
    after(&state, &form, &user, result, "scheduler_updated")
}

pub(in crate::console::users) async fn update_tasking(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let result = async {
        let current = stored_access(&state, &form, &user)?;
        let chosen = form.fields.one("tasking_access");
        let input = AccessInput {
            roles: Some(current.roles.clone()),
            tasking_access: (!chosen.is_empty()).then(|| chosen.to_owned()),
            ..AccessInput::default()
        };
        update_access(&state, &form, &user, input).await
    }
    .await;
    after(&state, &form, &user, result, "tasking_updated")
}

pub(in crate::console::users) async fn update_status(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let (status, done) = match form.fields.one("status") {
        "active" => (Status::Active, "activated"),
        "disabled" => (Status::Disabled, "disabled"),
        other => {
            let error = ServiceError::invalid(
                "status",
                format!("`{other}` is not a status to set: use `active` or `disabled`"),
            );
            return after(&state, &form, &user, Err(error), "");
        }
    };
    let result = people::set_status(
        &state.service,
        &form.principal,
        &form.address,
        &form.org,
        &user,
        StatusInput { status },
    )
    .await
    .map(|_| ());
    after(&state, &form, &user, result, done)
}

pub(in crate::console::users) async fn send_reset(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let result = credentials::admin_reset(
        &state.service,
        &form.principal,
        &form.address,
        &form.org,
        &user,
    )
    .await
    .map(|_| ());
    after(&state, &form, &user, result, "reset_sent")
}

pub(in crate::console::users) async fn send_invitation(
    State(state): State<AppState>,
    Path(user): Path<String>,
    form: SignedForm,
) -> Response {
    let form = Posted::of(&state, form);
    let result = credentials::send_invitation(
        &state.service,
        &form.principal,
        &form.address,
        &form.org,
        &user,
    )
    .await;
    after(&state, &form, &user, result, "invitation_sent")
}
