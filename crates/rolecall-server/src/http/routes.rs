//! The handlers: each parses the request at the edge, calls one operation
//! in [`crate::ops`], and shapes the response. No rule lives here.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::extract::{Auth, Body, Source};
use super::AppState;
use crate::error::ServiceError;
use crate::ops::access::{self, BulkAccess};
use crate::ops::check::{self, BatchRequest, BatchResponse, CheckRequest, CheckResponse};
use crate::ops::orgs::{self, Manages, NewOrg, OrgView, Subscriptions};
use crate::ops::people::{
    self, AccessInput, CreatedUser, EmployeeView, NewEmployee, NewUser, StatusInput, UserView,
};
use crate::ops::{check::ScopedPermission, check::ScopedUser, etag_of, Created, Updated};
use crate::tokens::{self, CreatedToken, NewToken, TokenFilter, TokenView};

/// Query parameters every read accepts.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Wait (at most 5 s) until this replica has applied this revision.
    pub min_revision: Option<i64>,
}

/// Parses query parameters, naming the bad one.
pub fn params<T: Default>(query: Result<Query<T>, QueryRejection>) -> Result<T, ServiceError> {
    query.map(|Query(q)| q).map_err(|e| rejected_param(&e))
}

/// A query rejection as a 422 naming the parameter: serde names it in
/// "unknown field `x`" and "duplicate field `x`", and prefixes a bad value
/// with `x: `.
pub fn rejected_param(rejection: &QueryRejection) -> ServiceError {
    let message = rejection.body_text();
    let detail = message
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(&message);
    let named = ["unknown field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| detail.split_once(prefix))
        .and_then(|(_, rest)| rest.split('`').next())
        .or_else(|| {
            detail
                .split_once(": ")
                .map(|(name, _)| name)
                .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
        .unwrap_or("query");
    ServiceError::invalid(named, detail.to_owned())
}

/// A method the path does not serve.
pub async fn method_not_allowed() -> ServiceError {
    ServiceError::MethodNotAllowed("this path does not serve that method".to_owned())
}

/// Waits for the `min_revision` a read asks for.
pub(crate) async fn wait(
    state: &AppState,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<(), ServiceError> {
    let params = params(query)?;
    state.service.wait_for(params.min_revision).await
}

/// Anything not routed.
pub async fn not_found() -> ServiceError {
    ServiceError::NotFound("this path".to_owned())
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the database answers, and can write. After a storage failure
/// (a full disk, an I/O error, the server gone) it says "not ready" at once,
/// without waiting on the database, and starts a write that changes
/// nothing in the background: the first write that commits, that one or a
/// client's, makes it ready again. Checks keep answering from memory
/// meanwhile.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready", body = String, content_type = "text/plain"), (status = 503, description = "the database does not answer or cannot write", body = String, content_type = "text/plain", headers(("Retry-After" = String, description = "Seconds to wait before asking again.")))))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.service.store();
    if store.failing() {
        store.recheck(READY_PROBE_TIMEOUT);
        return not_ready("the database failed; checking it again");
    }
    match tokio::time::timeout(READY_PROBE_TIMEOUT, store.head()).await {
        Ok(Ok(revision)) => {
            (StatusCode::OK, format!("ready at revision {revision}\n")).into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            not_ready(e.storage_kind())
        }
        Err(_) => not_ready("the database did not answer in time"),
    }
}

/// How long a readiness probe waits for the database.
const READY_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

fn not_ready(why: &str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready: {why}\n"),
    )
        .into_response();
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("2"),
    );
    response
}

/// The catalog: applications, modules, permissions, roles, reports.
#[utoipa::path(get, path = "/v1/catalog", responses((status = 200, description = "the catalog", body = rolecall_model::catalog::view::CatalogView)), security(("bearer" = [])))]
pub async fn catalog(State(state): State<AppState>, Auth(_): Auth) -> Response {
    Json(state.service.catalog().view()).into_response()
}

/// May this user do this here?
#[utoipa::path(post, path = "/v1/check", request_body = CheckRequest, responses((status = 200, body = CheckResponse), (status = 404, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn check(
    State(state): State<AppState>,
    Auth(principal): Auth,
    request: axum::extract::Request,
) -> Result<Json<CheckResponse>, ServiceError> {
    let bytes = super::extract::json_bytes(request, &state).await?;
    let request: CheckRequest<'_> = super::extract::parse_json(&bytes)?;
    state.service.wait_for(request.min_revision).await?;
    let live = state.service.live();
    let answer = check::check(&live, &principal, &request, None)?;
    state.metrics.record_checks(1, u64::from(answer.allowed));
    Ok(Json(answer))
}

/// Many checks at once, answered in order.
#[utoipa::path(post, path = "/v1/check/batch", request_body = BatchRequest, responses((status = 200, body = BatchResponse), (status = 404, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn check_batch(
    State(state): State<AppState>,
    Auth(principal): Auth,
    request: axum::extract::Request,
) -> Result<Json<BatchResponse>, ServiceError> {
    // Parsed in place: the checks' ids borrow from the body's bytes.
    let bytes = super::extract::json_bytes(request, &state).await?;
    let request: BatchRequest<'_> = super::extract::parse_json(&bytes)?;
    let wanted = request
        .checks
        .iter()
        .filter_map(|c| c.min_revision)
        .chain(request.min_revision)
        .max();
    state.service.wait_for(wanted).await?;
    let live = state.service.live();
    let answer = check::batch(&live, &principal, &request)?;
    let allowed = answer.results.iter().filter(|r| r.allowed).count();
    state
        .metrics
        .record_checks(answer.results.len() as u64, allowed as u64);
    Ok(Json(answer))
}

/// Creates an organization (operators).
#[utoipa::path(post, path = "/v1/orgs", request_body = NewOrg, responses((status = 201, body = Created), (status = 403, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_org(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Body(input): Body<NewOrg>,
) -> Result<(StatusCode, Json<Created>), ServiceError> {
    let created = orgs::create(&state.service, &principal, &source, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The organizations the caller reaches.
#[utoipa::path(get, path = "/v1/orgs", params(ReadParams), responses((status = 200, body = [OrgView])), security(("bearer" = [])))]
pub async fn list_orgs(
    State(state): State<AppState>,
    Auth(principal): Auth,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<OrgView>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(orgs::list(&state.service.live(), &principal)))
}

/// One organization.
#[utoipa::path(get, path = "/v1/orgs/{org}", params(("org" = String, Path), ReadParams), responses((status = 200, body = OrgView), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn get_org(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<OrgView>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(orgs::get(&state.service.live(), &principal, &org)?))
}

/// Replaces an organization's subscriptions.
#[utoipa::path(put, path = "/v1/orgs/{org}/subscriptions", params(("org" = String, Path)), request_body = Subscriptions, responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn set_subscriptions(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<Subscriptions>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        orgs::set_subscriptions(&state.service, &principal, &source, &org, input).await?,
    ))
}

/// Replaces a partner organization's links (operators).
#[utoipa::path(put, path = "/v1/orgs/{org}/manages", params(("org" = String, Path)), request_body = Manages, responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn set_manages(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<Manages>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        orgs::set_manages(&state.service, &principal, &source, &org, input).await?,
    ))
}

/// Adds an employee.
#[utoipa::path(post, path = "/v1/orgs/{org}/employees", params(("org" = String, Path)), request_body = NewEmployee, responses((status = 201, body = Created), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_employee(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<NewEmployee>,
) -> Result<(StatusCode, Json<Created>), ServiceError> {
    let created = people::create_employee(&state.service, &principal, &source, &org, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Changes an employee's profile (name, email); the user's email follows.
#[utoipa::path(put, path = "/v1/orgs/{org}/employees/{employee}", params(("org" = String, Path), ("employee" = String, Path)), request_body = people::EmployeeUpdate, responses((status = 200, body = crate::ops::Updated), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn update_employee(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, employee)): Path<(String, String)>,
    Body(input): Body<people::EmployeeUpdate>,
) -> Result<Json<crate::ops::Updated>, ServiceError> {
    Ok(Json(
        people::update_employee(&state.service, &principal, &source, &org, &employee, input)
            .await?,
    ))
}

/// An organization's employees.
#[utoipa::path(get, path = "/v1/orgs/{org}/employees", params(("org" = String, Path), ReadParams), responses((status = 200, body = [EmployeeView])), security(("bearer" = [])))]
pub async fn list_employees(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<EmployeeView>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(people::list_employees(
        &state.service.live(),
        &principal,
        &org,
    )?))
}

/// Creates the user of an existing employee.
#[utoipa::path(post, path = "/v1/orgs/{org}/users", params(("org" = String, Path)), request_body = NewUser, responses((status = 201, body = CreatedUser), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<NewUser>,
) -> Result<(StatusCode, Json<CreatedUser>), ServiceError> {
    let created = people::create_user(&state.service, &principal, &source, &org, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The users of an organization.
#[utoipa::path(get, path = "/v1/orgs/{org}/users", params(("org" = String, Path), ReadParams), responses((status = 200, body = [UserView])), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(org): Path<String>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<UserView>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(people::list_users(
        &state.service.live(),
        &principal,
        &org,
    )?))
}

/// One user, with an `ETag` for updating their access.
#[utoipa::path(get, path = "/v1/orgs/{org}/users/{user}", params(("org" = String, Path), ("user" = String, Path), ReadParams), responses((status = 200, body = UserView, headers(("ETag" = String))), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((org, user)): Path<(String, String)>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Response, ServiceError> {
    wait(&state, query).await?;
    let view = people::get_user(&state.service.live(), &principal, &org, &user)?;
    let etag = etag_of(&view);
    Ok(([(ETAG, etag)], Json(view)).into_response())
}

/// Changes one user's access; fields left out keep their value. Needs
/// `If-Match` with the ETag from reading the user.
#[utoipa::path(put, path = "/v1/orgs/{org}/users/{user}/access", params(("org" = String, Path), ("user" = String, Path), ("If-Match" = String, Header)), request_body = AccessInput, responses((status = 200, body = Updated, headers(("ETag" = String))), (status = 403, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 412, body = super::problem::Problem), (status = 428, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn update_access(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, user)): Path<(String, String)>,
    headers: HeaderMap,
    Body(input): Body<AccessInput>,
) -> Result<Response, ServiceError> {
    let if_match = headers.get(IF_MATCH).and_then(|v| v.to_str().ok());
    let (updated, etag) = access::update(
        &state.service,
        &principal,
        &source,
        &org,
        &user,
        if_match,
        input,
    )
    .await?;
    Ok(([(ETAG, etag)], Json(updated)).into_response())
}

/// Changes many users' access at once: all or nothing.
#[utoipa::path(post, path = "/v1/orgs/{org}/users/bulk-access", params(("org" = String, Path)), request_body = BulkAccess, responses((status = 200, body = Updated), (status = 412, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn bulk_access(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(org): Path<String>,
    Body(input): Body<BulkAccess>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        access::bulk(&state.service, &principal, &source, &org, input).await?,
    ))
}

/// Removes a user from the organization: their access there and their place
/// in its groups. Their last membership: sessions end and tokens are revoked.
#[utoipa::path(delete, path = "/v1/orgs/{org}/users/{user}", params(("org" = String, Path), ("user" = String, Path)), responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn remove_membership(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, user)): Path<(String, String)>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        people::remove_membership(&state.service, &principal, &source, &org, &user).await?,
    ))
}

/// Activates or disables a user.
#[utoipa::path(put, path = "/v1/orgs/{org}/users/{user}/status", params(("org" = String, Path), ("user" = String, Path)), request_body = StatusInput, responses((status = 200, body = Updated), (status = 403, body = super::problem::Problem), (status = 409, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn set_status(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path((org, user)): Path<(String, String)>,
    Body(input): Body<StatusInput>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        people::set_status(&state.service, &principal, &source, &org, &user, input).await?,
    ))
}

/// What may this user do here?
#[utoipa::path(get, path = "/v1/orgs/{org}/users/{user}/permissions", params(("org" = String, Path), ("user" = String, Path), ReadParams), responses((status = 200, body = [ScopedPermission])), security(("bearer" = [])))]
pub async fn permissions_of(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((org, user)): Path<(String, String)>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<ScopedPermission>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(check::permissions_of(
        &state.service.live(),
        &principal,
        &org,
        &user,
    )?))
}

/// Who may do this here?
#[utoipa::path(get, path = "/v1/orgs/{org}/permissions/{permission}/users", params(("org" = String, Path), ("permission" = String, Path), ReadParams), responses((status = 200, body = [ScopedUser])), security(("bearer" = [])))]
pub async fn users_with(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((org, permission)): Path<(String, String)>,
    query: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Vec<ScopedUser>>, ServiceError> {
    wait(&state, query).await?;
    Ok(Json(check::users_with(
        &state.service.live(),
        &principal,
        &org,
        &permission,
    )?))
}

/// Issues a token acting as a user in an organization.
#[utoipa::path(post, path = "/v1/tokens", request_body = NewToken, responses((status = 201, body = CreatedToken), (status = 403, body = super::problem::Problem), (status = 404, body = super::problem::Problem), (status = 409, body = super::problem::Problem), (status = 422, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Body(input): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ServiceError> {
    let created = tokens::create_user_token(&state.service, &principal, &source, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Query parameters of `GET /v1/tokens`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenParams {
    /// Only the tokens acting in this organization.
    pub org: Option<String>,
    /// Only the tokens acting as this user.
    pub user: Option<String>,
    /// Wait (at most 5 s) until this replica has applied this revision.
    pub min_revision: Option<i64>,
}

/// The API tokens the caller may see: an operator every one; a user their
/// own, and those of the people they may issue tokens for. Never a secret
/// nor its hash.
#[utoipa::path(get, path = "/v1/tokens", params(TokenParams), responses((status = 200, body = [TokenView])), security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Auth(principal): Auth,
    query: Result<Query<TokenParams>, QueryRejection>,
) -> Result<Json<Vec<TokenView>>, ServiceError> {
    let params = params(query)?;
    state.service.wait_for(params.min_revision).await?;
    let filter = TokenFilter {
        org: params.org,
        user: params.user,
    };
    Ok(Json(tokens::list(
        &state.service.live(),
        &principal,
        &filter,
    )))
}

/// Revokes one API token: it stops working at once. A token the caller may
/// not see is not found, as an id that names nothing; one already revoked
/// answers 200 again and writes nothing.
#[utoipa::path(delete, path = "/v1/tokens/{token}", params(("token" = String, Path, description = "The token's public id (`tok-...`), not the secret.")), responses((status = 200, body = Updated), (status = 404, body = super::problem::Problem)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Json<Updated>, ServiceError> {
    Ok(Json(
        tokens::revoke(&state.service, &principal, &source, &id).await?,
    ))
}
