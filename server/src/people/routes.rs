//! `/api/v1/me` and `/api/v1/people/{sourcedId}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::service::{self, PersonView};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/people/{sourced_id}", get(person))
}

/// The caller as the roster knows them; the answer is kept per person for a few seconds (see
/// `crate::cache`), since a page asks for it on every load.
async fn me(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    let body = match state.caches.views.get(&caller.person.id) {
        Some(body) => body,
        None => {
            let view = service::view(&state.db, &caller.person).await?;
            let body = Bytes::from(serde_json::to_vec(&view).map_err(AppError::internal)?);
            state
                .caches
                .views
                .insert(caller.person.id.clone(), body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn person(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<PersonView>, AppError> {
    Ok(Json(
        service::person_for(&state.db, &caller.person, &sourced_id).await?,
    ))
}
