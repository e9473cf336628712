//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{account, admin, emergency, routes};

/// Registers the bearer token scheme.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

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
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
