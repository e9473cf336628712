//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Header, RefOr, Response};
use utoipa::{Modify, OpenApi};

use super::{account, admin, emergency, routes};
use crate::accounts::signin;

/// Registers the two ways to authenticate: a bearer token, or the
/// console's session cookie (which every operation that takes a token also
/// takes: a request that changes something then needs `X-CSRF-Token`).
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                signin::COOKIE,
                "The console's session, from `POST /v1/sign-in`.",
            ))),
        );
        let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
        for operation in operations(openapi) {
            if let Some(security) = &mut operation.security {
                if security.contains(&bearer) {
                    security.push(SecurityRequirement::new("session", Vec::<String>::new()));
                }
            }
        }
    }
}

/// Every operation of the document, mutably.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Documents the problems that come from what an operation takes rather
/// than from what it does, on every operation of `/v1`, so that no
/// handler has to list them and none forgets one: 401 and 403 where
/// credentials are needed, 404 where the path names something, 413, 415
/// and 422 for a JSON body, 422 for query parameters, 503 everywhere (the
/// database). Problems are `application/problem+json`, whatever a
/// handler's annotation said. A handler still lists the problems of its
/// own (409, 412, 428, 429).
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/v1/") {
                continue;
            }
            let names_something = path.contains('{');
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                common_problems(operation, names_something);
            }
        }
    }
}

fn common_problems(operation: &mut Operation, names_something: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let mut common = vec![(
        "503",
        "The database is unavailable or full, or `min_revision` was not reached in \
         time: nothing was saved; `Retry-After` says when to try again.",
    )];
    if secured {
        common.push((
            "401",
            "No credentials, or credentials that do not work; `WWW-Authenticate` names \
             the scheme.",
        ));
        common.push((
            "403",
            "The caller may not do this (the detail names the permission needed), or a \
             session that is still signing in or sent no CSRF token.",
        ));
    }
    if names_something {
        common.push(("404", "Not found, or not the caller's to see."));
    }
    if has_body {
        common.push(("413", "The body is larger than 4 MiB."));
        common.push(("415", "The body is not `application/json`."));
    }
    if has_body || has_query {
        common.push((
            "422",
            "Bad input: `errors` names every wrong field, and nothing was changed.",
        ));
    }
    let responses = &mut operation.responses.responses;
    // A problem a handler lists without saying when: the usual reason.
    for (status, response) in responses.iter_mut() {
        if let (RefOr::T(response), Some(usual)) = (response, usual_reason(status)) {
            if response.description.is_empty() {
                usual.clone_into(&mut response.description);
            }
        }
    }
    for (status, description) in common {
        let response = responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(Response::new("")));
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                description.clone_into(&mut response.description);
            }
        }
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !status.starts_with('4') && !status.starts_with('5') {
            continue;
        }
        // The body of every 4xx and 5xx answer is a problem document.
        response.content.shift_remove("application/json");
        response
            .content
            .entry(PROBLEM_JSON.to_owned())
            .or_insert_with(|| Content::new(Some(Ref::from_schema_name("Problem"))));
        let header = match status.as_str() {
            "401" => Some((
                "WWW-Authenticate",
                "The scheme to authenticate with: `Bearer`.",
            )),
            "429" | "503" => Some(("Retry-After", "Seconds to wait before trying again.")),
            _ => None,
        };
        if let Some((name, description)) = header {
            let schema = ObjectBuilder::new().schema_type(Type::String).build();
            let mut header = Header::new(schema);
            header.description = Some(description.to_owned());
            response.headers.entry(name.to_owned()).or_insert(header);
        }
    }
}

/// Why an operation usually answers a problem of this status, for
/// annotations that list it without saying.
fn usual_reason(status: &str) -> Option<&'static str> {
    Some(match status {
        "401" => "No credentials, or credentials that do not work (a wrong password).",
        "403" => "The caller may not do this; the detail names the permission needed.",
        "404" => "Not found, or not the caller's to see.",
        "409" => "Conflicts with the current state: an id taken, the last administrator.",
        "412" => "`If-Match` names an older version: read again.",
        "422" => "Bad input: `errors` names every wrong field, and nothing was changed.",
        "428" => "The update needs `If-Match` with the ETag from reading.",
        "429" => {
            "Too many failed attempts from this address or for this account; \
                  `Retry-After` says how long to wait."
        }
        _ => return None,
    })
}

/// The media type of problem documents (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rolecall",
        description = "Who may do what, where, and why: the user-access system of a healthcare practice-management suite. Errors are `application/problem+json` documents naming the wrong field."
    ),
    paths(
        routes::healthz,
        routes::readyz,
        routes::catalog,
        routes::check,
        routes::check_batch,
        routes::create_org,
        routes::list_orgs,
        routes::get_org,
        routes::set_subscriptions,
        routes::set_manages,
        routes::create_employee,
        routes::list_employees,
        routes::update_employee,
        routes::create_user,
        routes::list_users,
        routes::get_user,
        routes::update_access,
        routes::bulk_access,
        routes::set_status,
        routes::remove_membership,
        routes::permissions_of,
        routes::users_with,
        routes::create_token,
        routes::list_tokens,
        routes::revoke_token,
        admin::create_group,
        admin::list_groups,
        admin::get_group,
        admin::update_group,
        admin::list_roles,
        admin::create_role,
        admin::update_role,
        admin::read_audit,
        admin::read_all_audit,
        account::sign_in,
        account::sign_in_mfa,
        account::session,
        account::sign_out,
        account::reauthenticate,
        account::change_password,
        account::enroll_mfa,
        account::confirm_mfa,
        account::remove_mfa,
        account::request_reset,
        account::complete_reset,
        account::send_invitation,
        account::admin_reset,
        account::get_policy,
        account::set_policy,
        emergency::start,
        emergency::list,
        emergency::review,
    ),
    components(schemas(super::problem::Problem, crate::error::FieldError)),
    modifiers(&Credentials, &CommonProblems)
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
