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
use crate::http::openapi::{ErrorBody, answers};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/people/{sourced_id}", get(person))
}

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(me, person))]
pub struct Api;

/// 我 / The caller
///
/// The caller as the roster knows them. The answer is kept for a few seconds (a page asks for
/// it on every load), so a change may take that long to show.
// Kept per person in `crate::cache` (`caches.views`).
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "people",
    responses(
        (status = 200, description = "调用者本人 / the caller", body = PersonView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
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

/// 一个人 / One person
///
/// A person, for themselves, their guardians, their (or their child's) teachers and the
/// administrators of their school or district.
#[utoipa::path(
    get,
    path = "/api/v1/people/{sourced_id}",
    tag = "people",
    params(("sourced_id" = String, Path, description = "名册中的 sourcedId / the person's roster sourcedId")),
    responses(
        (status = 200, description = "此人 / the person", body = PersonView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "与此人无关系；对非管理员，不存在的 sourcedId 也是 403 / no relationship to the person; for anyone but an administrator an unknown sourcedId is 403 too (`forbidden`)", body = ErrorBody),
        (status = 404, description = "没有此人（仅管理员会得到）/ nobody has this sourcedId (administrators only) (`not_found`)", body = ErrorBody),
    )
)]
async fn person(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<PersonView>, AppError> {
    Ok(Json(
        service::person_for(&state.db, &caller.person, &sourced_id).await?,
    ))
}
