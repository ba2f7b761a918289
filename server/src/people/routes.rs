//! `/api/v1/me` and `/api/v1/people/{sourcedId}`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::service::{self, PersonView};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/people/{sourced_id}", get(person))
}

async fn me(
    State(state): State<AppState>,
    caller: Principal,
) -> Result<Json<PersonView>, AppError> {
    Ok(Json(service::view(&state.db, &caller.person).await?))
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
