//! `GET /api/v1/audit`: the audit log, newest first, for administrators.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::service::{self, EventPage, PAGE_SIZE};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::openapi::{ErrorBody, answers};
use crate::state::AppState;

pub fn api_router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(list))]
pub struct Api;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Events older than this id: the `next_before` of the previous page.
    pub before: Option<i64>,
    /// Events per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// 审计日志 / The audit log
///
/// The audit log of the organisations the caller administers (and those below), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(Paging),
    responses(
        (status = 200, description = "一页事件 / one page of events", body = EventPage),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "调用者不是管理员（`forbidden`）/ the caller administers no organisation (`forbidden`)", body = ErrorBody),
    )
)]
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
