//! Handlers for emergency access ("break the glass"): starting it, listing
//! the uses for review, and reviewing one. Each calls one operation in
//! [`crate::accounts::emergency`]; no rule lives here.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::extract::{Auth, Body, Source};
use super::AppState;
use crate::accounts::emergency::{self, EmergencyGrant, EmergencyInput, EmergencyUse, ReviewInput};
use crate::error::ServiceError;

/// Breaks the glass: gives the acting user the organization's emergency
/// roles for `minutes`, for the stated reason. Only users the security
/// policy names may; every use is audited and listed for review.
#[utoipa::path(post, path = "/v1/orgs/{org}/emergency-access", params(("org" = String, Path)), request_body = EmergencyInput, responses((status = 201, body = EmergencyGrant), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<EmergencyInput>,
) -> Result<(StatusCode, Json<EmergencyGrant>), ServiceError> {
    let grant = emergency::start(&state.service, &principal, &source, &org, input).await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// The uses of emergency access in an organization, newest first, with
/// their reviews. For auditors and security administrators.
#[utoipa::path(get, path = "/v1/orgs/{org}/emergency-access", params(("org" = String, Path)), responses((status = 200, body = [EmergencyUse]), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
) -> Result<Json<Vec<EmergencyUse>>, ServiceError> {
    Ok(Json(
        emergency::list(&state.service, &principal, &org).await?,
    ))
}

/// Marks one use of emergency access reviewed, with a note. Not by the
/// user who broke the glass; once per use.
#[utoipa::path(post, path = "/v1/orgs/{org}/emergency-access/{seq}/review", params(("org" = String, Path), ("seq" = i64, Path, description = "The use's audit record number, as listed.")), request_body = ReviewInput, responses((status = 204, description = "reviewed"), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn review(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, seq)): Path<(String, String)>,
    Body(input): Body<ReviewInput>,
) -> Result<StatusCode, ServiceError> {
    // Taken as text so that a malformed number is a problem+json 404 like
    // any other unknown use, not the router's plain-text rejection.
    let seq: i64 = seq
        .parse()
        .map_err(|_| ServiceError::NotFound(format!("emergency access `{seq}` in `{org}`")))?;
    emergency::review(&state.service, &principal, &source, &org, seq, input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}
