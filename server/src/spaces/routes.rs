//! The spaces as JSON: `GET /api/v1/me/space`, `GET /api/v1/classes/{sourcedId}/space` and
//! `GET /api/v1/schools/{sourcedId}/space`, the same data the pages show.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::read::{self, ClassSpace, MySpace, SchoolSpace};
use crate::auth::Principal;
use crate::error::AppError;
use crate::people::relations;
use crate::roster::entity::{org, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/space", get(my_space))
        .route("/api/v1/classes/{sourced_id}/space", get(class_space))
        .route("/api/v1/schools/{sourced_id}/space", get(school_space))
}

#[utoipa::path(get, path = "/api/v1/me/space", tag = "spaces",
    responses((status = 200, description = "我的空间 / the caller's own space: as a pupil (classes, lessons, assignments with status and feedback, growth record), as a teacher (classes with pupils, lessons, assignments to mark, resources), and one card per child for a parent, with the notices waiting for their confirmation and the activities waiting for their answer", body = Object),
        (status = 401, description = "未登录 / not signed in")))]
async fn my_space(
    State(state): State<AppState>,
    caller: Principal,
) -> Result<Json<std::sync::Arc<MySpace>>, AppError> {
    Ok(Json(super::cache::my_space(&state, &caller.person).await?))
}

#[utoipa::path(get, path = "/api/v1/classes/{sourced_id}/space", tag = "spaces",
    params(("sourced_id" = String, Path, description = "班级 sourcedId / the class's sourcedId")),
    responses((status = 200, description = "班级空间 / the class space: teachers, lessons, activities, notices and roster (学籍号 and parents' phone numbers masked except for the class's teachers and the school's administrators)", body = Object),
        (status = 401, description = "未登录 / not signed in"),
        (status = 404, description = "没有这个班级，或与你无关 / no such class, or not yours to see")))]
async fn class_space(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<ClassSpace>, AppError> {
    Ok(Json(
        class_space_for(&state, &caller.person, &sourced_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/schools/{sourced_id}/space", tag = "spaces",
    params(("sourced_id" = String, Path, description = "学校 sourcedId / the school's sourcedId")),
    responses((status = 200, description = "学校空间 / the school space: announcements and school activities", body = Object),
        (status = 401, description = "未登录 / not signed in"),
        (status = 404, description = "没有这所学校，或你不属于它 / no such school, or not yours")))]
async fn school_space(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<SchoolSpace>, AppError> {
    Ok(Json(
        school_space_for(&state, &caller.person, &sourced_id).await?,
    ))
}

/// The class space `viewer` may see, or 404 (the same answer whether the class does not exist
/// or is not theirs).
pub(crate) async fn class_space_for(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<ClassSpace, AppError> {
    let class = relations::class_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let standing = read::standing(&state.db, viewer, &class)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(read::class_space(&state.db, &class, standing, state.clock.now()).await?)
}

/// The school space for one of its people, or 404.
pub(crate) async fn school_space_for(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<SchoolSpace, AppError> {
    let school = org::Entity::find()
        .filter(org::Column::SourcedId.eq(sourced_id))
        .filter(org::Column::OrgType.eq("school"))
        .filter(org::Column::Status.eq(ACTIVE))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !read::belongs_to_school(&state.db, viewer, &school).await? {
        return Err(AppError::not_found());
    }
    Ok(read::school_space(&state.db, viewer, &school).await?)
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(my_space, class_space, school_space))]
pub struct Api;
