//! Handlers for groups, custom roles and the audit log: each parses the
//! request at the edge, calls one operation in [`crate::ops`], and shapes
//! the response. No rule lives here.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use super::extract::{Auth, Body, Source};
use super::routes::{wait, ReadParams};
use super::AppState;
use crate::error::ServiceError;
use crate::ops::audit::{self, AuditPage, AuditParams};
use crate::ops::groups::{self, GroupUpdate, GroupView, NewGroup};
use crate::ops::roles::{self, NewRole, RoleUpdate, RoleView};
use crate::ops::{Created, Updated};

/// Creates a member group; it takes its creator's access type.
#[utoipa::path(post, path = "/v1/orgs/{org}/groups", params(("org" = String, Path)), request_body = NewGroup, responses((status = 201, body = Created), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_group(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<NewGroup>,
) -> Result<(StatusCode, Json<Created>), ServiceError> {
    let created = groups::create(&state.service, &principal, &source, &org, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The groups of an organization.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups", params(("org" = String, Path), ReadParams), responses((status = 200, body = [GroupView]), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn list_groups(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<GroupView>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(groups::list(&state.service.live(), &principal, &org)?))
}

/// One group.
#[utoipa::path(get, path = "/v1/orgs/{org}/groups/{group}", params(("org" = String, Path), ("group" = String, Path), ReadParams), responses((status = 200, body = GroupView), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn get_group(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((org, group)): Path<(String, String)>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<GroupView>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(groups::get(
        &state.service.live(),
        &principal,
        &org,
        &group,
    )?))
}

/// Changes a group's name, members or roles; fields left out keep their
/// value, and the access setting never changes.
#[utoipa::path(put, path = "/v1/orgs/{org}/groups/{group}", params(("org" = String, Path), ("group" = String, Path)), request_body = GroupUpdate, responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn update_group(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, group)): Path<(String, String)>,
    Body(input): Body<GroupUpdate>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        groups::update(&state.service, &principal, &source, &org, &group, input).await?,
    ))
}

/// The roles that may be held in an organization: built-in and custom.
#[utoipa::path(get, path = "/v1/orgs/{org}/roles", params(("org" = String, Path), ReadParams), responses((status = 200, body = [RoleView]), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn list_roles(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<RoleView>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(roles::list(&state.service.live(), &principal, &org)?))
}

/// Creates a custom role, from grants or by copying a role.
#[utoipa::path(post, path = "/v1/orgs/{org}/roles", params(("org" = String, Path)), request_body = NewRole, responses((status = 201, body = Created), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_role(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<NewRole>,
) -> Result<(StatusCode, Json<Created>), ServiceError> {
    let created = roles::create(&state.service, &principal, &source, &org, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes a custom role of this organization; built-in roles cannot be
/// changed.
#[utoipa::path(put, path = "/v1/orgs/{org}/roles/{role}", params(("org" = String, Path), ("role" = String, Path)), request_body = RoleUpdate, responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn update_role(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, role)): Path<(String, String)>,
    Body(input): Body<RoleUpdate>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        roles::update(&state.service, &principal, &source, &org, &role, input).await?,
    ))
}

/// An organization's audit records: filtered by period, actor, action,
/// target and outcome, sorted by any field (newest first by default).
#[utoipa::path(get, path = "/v1/orgs/{org}/audit", params(("org" = String, Path), AuditParams), responses((status = 200, body = AuditPage), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn read_audit(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditPage>, ServiceError> {
    let params = query
        .map(|Query(q)| q)
        .map_err(|e| super::routes::rejected_param(&e))?;
    Ok(Json(
        audit::read(&state.service, &principal, &org, &params).await?,
    ))
}

/// Every audit record, of every organization and of none (a failed sign-in
/// for an unknown email), with the same filters and order as an
/// organization's report. Operators only.
#[utoipa::path(get, path = "/v1/audit", params(("org" = Option<String>, Query, description = "Only records of this organization."), AuditParams), responses((status = 200, body = AuditPage), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn read_all_audit(
    State(state): State<AppState>,
    Auth(principal): Auth,
    query: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditPage>, ServiceError> {
    let params = query
        .map(|Query(q)| q)
        .map_err(|e| super::routes::rejected_param(&e))?;
    Ok(Json(
        audit::read_all(&state.service, &principal, &params).await?,
    ))
}
