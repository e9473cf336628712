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
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{get, on, MethodFilter};
use axum::Router;

use crate::rules::{self, PersonAction};
use crate::service::Service;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service.
    pub service: Arc<Service>,
    /// Counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

/// Who may call a route, as the route table declares it. Every route of
/// `/v1` is registered with one, and a test walks the table calling each
/// route as each kind of caller: a route cannot be added unclassified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone, without credentials (signing in, asking for a reset link,
    /// the OpenAPI document).
    Public,
    /// Any valid credentials; the operation narrows what they see.
    Credentials,
    /// An operator only.
    Operator,
    /// Someone who reaches the path's organization; anyone else gets 404.
    /// What more is needed is the operation's (a policy, a role's holder).
    Member,
    /// One of these permissions in the path's organization.
    Permission(&'static [&'static str]),
    /// An action on the person the path (or the body) names, decided by
    /// [`crate::rules::may_act_on`].
    Person(PersonAction),
    /// An action on the person who owns what the path names (an API
    /// token): allowed to that person, to an operator, and to whoever
    /// [`crate::rules::may_act_on`] lets act on them; anyone else is told
    /// it was not found, word for word as for an id that names nothing.
    Owner(PersonAction),
}

/// One route of the table: its method, its path under `/v1`, its guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path under `/v1`, with `{org}`-style parameters.
    pub path: &'static str,
    /// Who may call it.
    pub guard: Guard,
}

/// Routes and the router they make, built together: the API's under
/// `/v1`, and the console's.
pub(crate) struct Table {
    pub(crate) router: Router<AppState>,
    pub(crate) routes: Vec<Route>,
}

impl Table {
    /// No routes yet.
    pub(crate) fn new() -> Table {
        Table {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    /// Serves `method path` with `handler`, for the callers `guard` names.
    pub(crate) fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        guard: Guard,
        handler: H,
    ) -> Table
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            _ => unreachable!("the table serves GET, POST, PUT and DELETE"),
        };
        self.router = self.router.route(path, on(filter, handler));
        self.routes.push(Route {
            method,
            path,
            guard,
        });
        self
    }
}

/// Every route of `/v1`, with its guard, in the order they are registered.
pub fn route_table() -> Vec<Route> {
    table().routes
}

fn table() -> Table {
    use rules::{
        AUDIT_READER, GROUP_CREATOR, GROUP_EDITOR, SECURITY_ADMIN, SUBSCRIPTION_ADMIN, USER_ADMIN,
    };
    use Guard::{Credentials, Member, Operator, Owner, Permission, Person, Public};
    use Method as M;
    Table::new()
        .add(M::GET, "/openapi.json", Public, openapi::document)
        .add(M::GET, "/catalog", Credentials, routes::catalog)
        .add(M::POST, "/check", Credentials, routes::check)
        .add(M::POST, "/check/batch", Credentials, routes::check_batch)
        .add(M::POST, "/orgs", Operator, routes::create_org)
        .add(M::GET, "/orgs", Credentials, routes::list_orgs)
        .add(M::GET, "/orgs/{org}", Member, routes::get_org)
        .add(
            M::PUT,
            "/orgs/{org}/subscriptions",
            Permission(SUBSCRIPTION_ADMIN),
            routes::set_subscriptions,
        )
        .add(M::PUT, "/orgs/{org}/manages", Operator, routes::set_manages)
        .add(
            M::POST,
            "/orgs/{org}/employees",
            Permission(USER_ADMIN),
            routes::create_employee,
        )
        .add(
            M::GET,
            "/orgs/{org}/employees",
            Permission(USER_ADMIN),
            routes::list_employees,
        )
        .add(
            M::POST,
            "/orgs/{org}/users",
            Permission(USER_ADMIN),
            routes::create_user,
        )
        .add(
            M::GET,
            "/orgs/{org}/users",
            Permission(USER_ADMIN),
            routes::list_users,
        )
        .add(
            M::PUT,
            "/orgs/{org}/employees/{employee}",
            Person(PersonAction::Profile),
            routes::update_employee,
        )
        .add(
            M::POST,
            "/orgs/{org}/users/bulk-access",
            Person(PersonAction::Access),
            routes::bulk_access,
        )
        .add(
            M::GET,
            "/orgs/{org}/users/{user}",
            Permission(USER_ADMIN),
            routes::get_user,
        )
        .add(
            M::DELETE,
            "/orgs/{org}/users/{user}",
            Person(PersonAction::Removal),
            routes::remove_membership,
        )
        .add(
            M::PUT,
            "/orgs/{org}/users/{user}/access",
            Person(PersonAction::Access),
            routes::update_access,
        )
        .add(
            M::PUT,
            "/orgs/{org}/users/{user}/status",
            Person(PersonAction::Status),
            routes::set_status,
        )
        .add(
            M::GET,
            "/orgs/{org}/users/{user}/permissions",
            Permission(USER_ADMIN),
            routes::permissions_of,
        )
        .add(
            M::GET,
            "/orgs/{org}/permissions/{permission}/users",
            Permission(USER_ADMIN),
            routes::users_with,
        )
        .add(
            M::POST,
            "/orgs/{org}/groups",
            Permission(GROUP_CREATOR),
            admin::create_group,
        )
        .add(M::GET, "/orgs/{org}/groups", Member, admin::list_groups)
        .add(
            M::GET,
            "/orgs/{org}/groups/{group}",
            Member,
            admin::get_group,
        )
        .add(
            M::PUT,
            "/orgs/{org}/groups/{group}",
            Permission(GROUP_EDITOR),
            admin::update_group,
        )
        .add(
            M::POST,
            "/orgs/{org}/roles",
            Permission(USER_ADMIN),
            admin::create_role,
        )
        .add(M::GET, "/orgs/{org}/roles", Member, admin::list_roles)
        .add(
            M::PUT,
            "/orgs/{org}/roles/{role}",
            Permission(USER_ADMIN),
            admin::update_role,
        )
        .add(
            M::GET,
            "/orgs/{org}/audit",
            Permission(AUDIT_READER),
            admin::read_audit,
        )
        .add(M::GET, "/audit", Operator, admin::read_all_audit)
        .add(
            M::GET,
            "/orgs/{org}/security-policy",
            Member,
            account::get_policy,
        )
        .add(
            M::PUT,
            "/orgs/{org}/security-policy",
            Permission(SECURITY_ADMIN),
            account::set_policy,
        )
        .add(
            M::POST,
            "/orgs/{org}/users/{user}/invitation",
            Person(PersonAction::PasswordMail),
            account::send_invitation,
        )
        .add(
            M::POST,
            "/orgs/{org}/users/{user}/password-reset",
            Person(PersonAction::PasswordMail),
            account::admin_reset,
        )
        .add(
            M::POST,
            "/orgs/{org}/emergency-access",
            Member,
            emergency::start,
        )
        .add(
            M::GET,
            "/orgs/{org}/emergency-access",
            Member,
            emergency::list,
        )
        .add(
            M::POST,
            "/orgs/{org}/emergency-access/{seq}/review",
            Member,
            emergency::review,
        )
        .add(M::POST, "/sign-in", Public, account::sign_in)
        .add(M::POST, "/sign-in/mfa", Public, account::sign_in_mfa)
        .add(M::POST, "/sign-out", Credentials, account::sign_out)
        .add(M::GET, "/session", Credentials, account::session)
        .add(
            M::POST,
            "/session/reauthenticate",
            Credentials,
            account::reauthenticate,
        )
        .add(
            M::POST,
            "/account/password",
            Credentials,
            account::change_password,
        )
        .add(M::POST, "/account/mfa", Credentials, account::enroll_mfa)
        .add(M::DELETE, "/account/mfa", Credentials, account::remove_mfa)
        .add(
            M::POST,
            "/account/mfa/confirm",
            Credentials,
            account::confirm_mfa,
        )
        .add(M::POST, "/password-reset", Public, account::request_reset)
        .add(
            M::POST,
            "/password-reset/complete",
            Public,
            account::complete_reset,
        )
        .add(
            M::POST,
            "/tokens",
            Person(PersonAction::Tokens),
            routes::create_token,
        )
        .add(M::GET, "/tokens", Credentials, routes::list_tokens)
        .add(
            M::DELETE,
            "/tokens/{token}",
            Owner(PersonAction::Tokens),
            routes::revoke_token,
        )
}

/// The whole API.
pub fn router(service: Arc<Service>) -> Router {
    let state = AppState {
        service,
        metrics: Arc::new(metrics::Metrics::default()),
    };
    let v1 = table().router;
    Router::new()
        .nest("/v1", v1)
        .merge(crate::console::table().router)
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
