//! The users list (and, as it grows, each user's page).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::html;

use super::{layout, messages, signed_in};
use crate::accounts::signin;
use crate::http::extract::Source;
use crate::http::AppState;
use crate::ops::people;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/users", get(users))
}

async fn users(
    State(state): State<AppState>,
    Source(address): Source,
    headers: HeaderMap,
) -> Response {
    let (session, principal) = match signed_in(&state, &headers, &address).await {
        Ok(signed_in) => signed_in,
        Err(redirect) => return redirect,
    };
    let live = state.service.live();
    let view = signin::view(&live.model, &session);
    let body = match people::list_users(&live, &principal, &session.org) {
        Ok(users) => html! {
            table {
                caption.hint { (users.len()) " users in " (session.org) }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Status" } th scope="col" { "Roles" } } }
                tbody {
                    @for user in &users {
                        tr {
                            td { (user.name) }
                            td { (user.email.as_deref().unwrap_or("")) }
                            td { (user.status.as_str()) }
                            td { (user.access.roles.join(", ")) }
                        }
                    }
                }
            }
        },
        Err(error) => layout::errors(&messages(&error)),
    };
    layout::page("Users", Some(&view), body).into_response()
}
