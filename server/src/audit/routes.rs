//! `GET /api/v1/audit`: the audit log, newest first, for administrators.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::service::{self, EventPage, PAGE_SIZE};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

pub fn api_router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    pub before: Option<i64>,
    pub limit: Option<u64>,
}

async fn list(
    State(state): State<AppState>,
    caller: Principal,
    Query(paging): Query<Paging>,
) -> Result<Json<EventPage>, AppError> {
    Ok(Json(
        service::list_for(
            &state.db,
            &caller.person,
            paging.before,
            paging.limit.unwrap_or(PAGE_SIZE),
        )
        .await?,
    ))
}
