//! The HTTP API: JSON under `/v1`, errors as problem+json, the OpenAPI
//! document at `/v1/openapi.json`, health and Prometheus metrics.

pub mod account;
pub mod admin;
pub mod emergency;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod routes;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::service::Service;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service.
    pub service: Arc<Service>,
    /// Counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

/// The whole API.
pub fn router(service: Arc<Service>) -> Router {
    let state = AppState {
        service,
        metrics: Arc::new(metrics::Metrics::default()),
    };
    let v1 = Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/catalog", get(routes::catalog))
        .route("/check", post(routes::check))
        .route("/check/batch", post(routes::check_batch))
        .route("/orgs", post(routes::create_org).get(routes::list_orgs))
        .route("/orgs/{org}", get(routes::get_org))
        .route("/orgs/{org}/subscriptions", put(routes::set_subscriptions))
        .route("/orgs/{org}/manages", put(routes::set_manages))
        .route(
            "/orgs/{org}/employees",
            post(routes::create_employee).get(routes::list_employees),
        )
        .route(
            "/orgs/{org}/users",
            post(routes::create_user).get(routes::list_users),
        )
        .route(
            "/orgs/{org}/employees/{employee}",
            put(routes::update_employee),
        )
        .route("/orgs/{org}/users/bulk-access", post(routes::bulk_access))
        .route(
            "/orgs/{org}/users/{user}",
            get(routes::get_user).delete(routes::remove_membership),
        )
        .route(
            "/orgs/{org}/users/{user}/access",
            put(routes::update_access),
        )
        .route("/orgs/{org}/users/{user}/status", put(routes::set_status))
        .route(
            "/orgs/{org}/users/{user}/permissions",
            get(routes::permissions_of),
        )
        .route(
            "/orgs/{org}/permissions/{permission}/users",
            get(routes::users_with),
        )
        .route(
            "/orgs/{org}/groups",
            post(admin::create_group).get(admin::list_groups),
        )
        .route(
            "/orgs/{org}/groups/{group}",
            get(admin::get_group).put(admin::update_group),
        )
        .route(
            "/orgs/{org}/roles",
            post(admin::create_role).get(admin::list_roles),
        )
        .route("/orgs/{org}/roles/{role}", put(admin::update_role))
        .route("/orgs/{org}/audit", get(admin::read_audit))
        .route("/audit", get(admin::read_all_audit))
        .route(
            "/orgs/{org}/security-policy",
            get(account::get_policy).put(account::set_policy),
        )
        .route(
            "/orgs/{org}/users/{user}/invitation",
            post(account::send_invitation),
        )
        .route(
            "/orgs/{org}/users/{user}/password-reset",
            post(account::admin_reset),
        )
        .route(
            "/orgs/{org}/emergency-access",
            post(emergency::start).get(emergency::list),
        )
        .route(
            "/orgs/{org}/emergency-access/{seq}/review",
            post(emergency::review),
        )
        .route("/sign-in", post(account::sign_in))
        .route("/sign-in/mfa", post(account::sign_in_mfa))
        .route("/sign-out", post(account::sign_out))
        .route("/session", get(account::session))
        .route("/session/reauthenticate", post(account::reauthenticate))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/mfa",
            post(account::enroll_mfa).delete(account::remove_mfa),
        )
        .route("/account/mfa/confirm", post(account::confirm_mfa))
        .route("/password-reset", post(account::request_reset))
        .route("/password-reset/complete", post(account::complete_reset))
        .route("/tokens", post(routes::create_token));
    Router::new()
        .nest("/v1", v1)
        .merge(crate::console::routes())
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(metrics::render))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY))
        // One span per request: method and path only, never headers (they
        // carry tokens and cookies) nor the query string (a link's token
        // could ride there); logged with RUST_LOG=tower_http=debug.
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                },
            ),
        )
        .with_state(state)
}
