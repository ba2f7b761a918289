//! The activities and announcements JSON API under `/api/v1`: extract, call the service,
//! answer. Every handler is in the OpenAPI document through [`Api`].

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::announcements::{self, AnnouncementPage, NewAnnouncement};
use super::answers::{self, AnswerInput, Answered, Answers};
use super::create::{self, NewActivity};
use super::service::{self, Detail, Summary};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/activities", post(create))
        .route("/api/v1/activities/{id}", get(detail))
        .route("/api/v1/activities/{id}/answers", get(answers).post(answer))
        .route("/api/v1/activities/{id}/answers.csv", get(answers_csv))
        .route("/api/v1/activities/{id}/cancel", post(cancel))
        .route(
            "/api/v1/classes/{sourced_id}/activities",
            get(class_activities),
        )
        .route(
            "/api/v1/schools/{school}/activities",
            get(school_activities),
        )
        .route(
            "/api/v1/schools/{school}/announcements",
            get(list_announcements).post(post_announcement),
        )
        .route(
            "/api/v1/announcements/{id}/withdraw",
            post(withdraw_announcement),
        )
}

/// The activities and announcements paths of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    detail,
    answer,
    answers,
    answers_csv,
    cancel,
    class_activities,
    school_activities,
    post_announcement,
    list_announcements,
    withdraw_announcement
))]
pub struct Api;

/// What a create answers: the new thing's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = activities::Created)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub activities: Vec<Summary>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CancelBody {
    /// Why, as the families are told.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cancelled {
    pub id: String,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = activities::Withdrawn)]
pub struct Withdrawn {
    pub id: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AnnouncementQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// How many (1–100, 20 by default).
    pub limit: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/activities", tag = "activities",
    request_body = NewActivity,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 403, description = "Not a teacher of the class or an administrator of the school"),
        (status = 422, description = "A field is missing or wrong (the error names it)"),
    ))]
async fn create(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(input): JsonBody<NewActivity>,
) -> Result<Response, AppError> {
    let a = create::create(&state, &caller.person, input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/activities/{}", a.id))],
        Json(Created { id: a.id }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities",
    params(("id" = String, Path, description = "The activity")),
    responses(
        (status = 200, body = Detail),
        (status = 404, description = "No such activity, or not for the caller"),
    ))]
async fn detail(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Detail>, AppError> {
    Ok(Json(service::detail(&state, &caller.person, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/answers", tag = "activities",
    params(("id" = String, Path, description = "The activity")),
    request_body = AnswerInput,
    responses(
        (status = 201, description = "The child's first answer", body = Answered),
        (status = 200, description = "The child's answer changed", body = Answered),
        (status = 404, description = "No such activity or child of the caller's"),
        (status = 409, description = "Answers closed (answers_closed), the sign-up is full (activity_full), or cancelled (activity_cancelled)"),
        (status = 422, description = "A field is missing or wrong"),
    ))]
async fn answer(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AnswerInput>,
) -> Result<Response, AppError> {
    let (answered, created) = answers::answer(&state, &caller.person, &id, &input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(answered)).into_response())
}

#[utoipa::path(get, path = "/api/v1/activities/{id}/answers", tag = "activities",
    params(("id" = String, Path, description = "The activity")),
    responses(
        (status = 200, body = Answers),
        (status = 403, description = "Only the organisers see every answer"),
        (status = 404, description = "No such activity, or not for the caller"),
    ))]
async fn answers(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Answers>, AppError> {
    Ok(Json(answers::list(&state, &caller.person, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}/answers.csv", tag = "activities",
    params(("id" = String, Path, description = "The activity")),
    responses(
        (status = 200, description = "UTF-8 with a byte-order mark; a Chinese header row", content_type = "text/csv", body = String),
        (status = 403, description = "Only the organisers see every answer"),
        (status = 404, description = "No such activity, or not for the caller"),
    ))]
async fn answers_csv(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let view = answers::list(&state, &caller.person, &id).await?;
    let bytes = answers::csv(&state, &view)?;
    let name = format!("{}-回复.csv", view.activity.title);
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"answers.csv\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/cancel", tag = "activities",
    params(("id" = String, Path, description = "The activity")),
    request_body = CancelBody,
    responses(
        (status = 200, description = "Cancelled (again: unchanged)", body = Cancelled),
        (status = 403, description = "Only the organiser or an administrator of the school"),
        (status = 404, description = "No such activity, or not for the caller"),
        (status = 422, description = "The reason is missing"),
    ))]
async fn cancel(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<Cancelled>, AppError> {
    let a = service::cancel(&state, &caller.person, &id, &body.reason).await?;
    Ok(Json(Cancelled {
        id: a.id,
        cancelled_at: a.cancelled_at,
        cancel_reason: a.cancel_reason,
    }))
}

#[utoipa::path(get, path = "/api/v1/classes/{sourced_id}/activities", tag = "activities",
    params(("sourced_id" = String, Path, description = "The class's sourcedId")),
    responses(
        (status = 200, body = ActivityList),
        (status = 404, description = "No such class, or the caller is not one of its people"),
    ))]
async fn class_activities(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<ActivityList>, AppError> {
    let activities = service::for_class(&state, &caller.person, &sourced_id).await?;
    Ok(Json(ActivityList { activities }))
}

#[utoipa::path(get, path = "/api/v1/schools/{school}/activities", tag = "activities",
    params(("school" = String, Path, description = "The school's sourcedId")),
    responses(
        (status = 200, body = ActivityList),
        (status = 404, description = "No such school, or the caller is not one of its people"),
    ))]
async fn school_activities(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
) -> Result<Json<ActivityList>, AppError> {
    let activities = service::for_school(&state, &caller.person, &school).await?;
    Ok(Json(ActivityList { activities }))
}

#[utoipa::path(post, path = "/api/v1/schools/{school}/announcements", tag = "activities",
    params(("school" = String, Path, description = "The school's sourcedId")),
    request_body = NewAnnouncement,
    responses(
        (status = 201, body = Created),
        (status = 403, description = "Only the school's administrators"),
        (status = 404, description = "No such school, or the caller is not one of its people"),
        (status = 422, description = "A field is missing or wrong (script in the Markdown is refused with its line)"),
    ))]
async fn post_announcement(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
    JsonBody(input): JsonBody<NewAnnouncement>,
) -> Result<Response, AppError> {
    let a = announcements::post(&state, &caller.person, &school, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id: a.id })).into_response())
}

#[utoipa::path(get, path = "/api/v1/schools/{school}/announcements", tag = "activities",
    params(("school" = String, Path, description = "The school's sourcedId"), AnnouncementQuery),
    responses(
        (status = 200, body = AnnouncementPage),
        (status = 404, description = "No such school, or the caller is not one of its people"),
    ))]
async fn list_announcements(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
    Query(q): Query<AnnouncementQuery>,
) -> Result<Json<AnnouncementPage>, AppError> {
    let page =
        announcements::list(&state, &caller.person, &school, q.after.as_deref(), q.limit).await?;
    Ok(Json(page))
}

#[utoipa::path(post, path = "/api/v1/announcements/{id}/withdraw", tag = "activities",
    params(("id" = String, Path, description = "The announcement")),
    responses(
        (status = 200, description = "Withdrawn (again: unchanged)", body = Withdrawn),
        (status = 403, description = "Only the school's administrators"),
        (status = 404, description = "No such announcement, or not the caller's school"),
    ))]
async fn withdraw_announcement(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Withdrawn>, AppError> {
    let a = announcements::withdraw(&state, &caller.person, &id).await?;
    Ok(Json(Withdrawn {
        id: a.id,
        withdrawn_at: a.withdrawn_at,
    }))
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// Every `/api/v1` route of this file is in the document, with its schemas.
    #[test]
    fn the_document_lists_every_route() {
        let doc = super::Api::openapi();
        let source = include_str!("routes.rs");
        let routes: Vec<&str> = source
            .split(".route(\n            \"")
            .chain(source.split(".route(\""))
            .skip(1)
            .filter_map(|piece| piece.split('"').next())
            .filter(|path| path.starts_with("/api/v1/"))
            .collect();
        assert!(routes.len() >= 9, "{routes:?}");
        for path in routes {
            assert!(
                doc.paths.paths.contains_key(path),
                "{path} is not in the document"
            );
        }
        let schemas = doc.components.map(|c| c.schemas).unwrap_or_default();
        for name in [
            "Detail",
            "Summary",
            "NewActivity",
            "Answers",
            "AnswerInput",
            "AnnouncementPage",
        ] {
            assert!(schemas.contains_key(name), "{name} is not in the document");
        }
    }
}
