//! Console pages (being written).

use axum::Router;

use crate::http::AppState;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
