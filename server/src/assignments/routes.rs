//! The assignments JSON API under `/api/v1`: extract, call the service, answer.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::intake::{self, HandInForm, HandInText};
use super::service::{self, NewAssignment};
use super::submissions::{self, Mark};
use super::views::{
    AssignmentView, ClassAssignments, FeedbackCreated, Progress, StudentAssignments, SubmissionView,
};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assignments", post(create))
        .route("/api/v1/assignments/{id}", get(detail))
        .route("/api/v1/assignments/{id}/progress", get(progress))
        .route(
            "/api/v1/classes/{sourced_id}/assignments",
            get(class_assignments),
        )
        .route(
            "/api/v1/students/{sourced_id}/assignments",
            get(student_assignments),
        )
        .route("/api/v1/submissions/{id}", get(submission))
        .route("/api/v1/submissions/{id}/files/{file_id}", get(download))
        .route("/api/v1/submissions/{id}/feedback", post(feedback))
}

/// Hand-ins stream their files to disk and enforce `KONGJIAN_SUBMISSION_MAX_MB` and
/// `KONGJIAN_SUBMISSION_TOTAL_MB` themselves, outside the default body limit.
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/assignments/{id}/submissions", post(hand_in))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    detail,
    progress,
    class_assignments,
    student_assignments,
    hand_in,
    submission,
    download,
    feedback
))]
pub struct Api;

/// Set an assignment for a class.
#[utoipa::path(
    post,
    path = "/api/v1/assignments",
    tag = "assignments",
    request_body = NewAssignment,
    responses(
        (status = 201, description = "Set; the answer carries its `id`", body = AssignmentView),
        (status = 403, description = "`not_class_teacher`: the caller is of the class's school but does not teach it"),
        (status = 404, description = "`unknown_class`: no such class the caller can see"),
        (status = 422, description = "`invalid_field` naming the field: title, due_at, scale, instructions (script), lesson")
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(input): JsonBody<NewAssignment>,
) -> Result<Response, AppError> {
    let a = service::create(&state, &caller.person, input).await?;
    let view = service::detail(&state, &caller.person, &a.id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/assignments/{}", a.id))],
        Json(view),
    )
        .into_response())
}

/// An assignment, with the caller's own (or their children's) status and feedback.
#[utoipa::path(
    get,
    path = "/api/v1/assignments/{id}",
    tag = "assignments",
    params(("id" = String, Path, description = "The assignment's id")),
    responses(
        (status = 200, body = AssignmentView),
        (status = 404, description = "Not a teacher, pupil or parent of the class")
    )
)]
async fn detail(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<AssignmentView>, AppError> {
    Ok(Json(service::detail(&state, &caller.person, &id).await?))
}

/// The class's progress at a glance: counts per status and a row per pupil.
#[utoipa::path(
    get,
    path = "/api/v1/assignments/{id}/progress",
    tag = "assignments",
    params(("id" = String, Path, description = "The assignment's id")),
    responses(
        (status = 200, body = Progress),
        (status = 404, description = "Not a teacher of the class or an administrator of its school")
    )
)]
async fn progress(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Progress>, AppError> {
    Ok(Json(service::progress(&state, &caller.person, &id).await?))
}

/// A class's assignments: counts for its staff, one's own status for pupils and parents.
#[utoipa::path(
    get,
    path = "/api/v1/classes/{sourced_id}/assignments",
    tag = "assignments",
    params(("sourced_id" = String, Path, description = "The class's sourcedId")),
    responses(
        (status = 200, body = ClassAssignments),
        (status = 404, description = "`unknown_class`: not a member of the class")
    )
)]
async fn class_assignments(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<ClassAssignments>, AppError> {
    Ok(Json(
        service::class_assignments(&state, &caller.person, &sourced_id).await?,
    ))
}

/// A pupil's assignments with status, and feedback once returned.
#[utoipa::path(
    get,
    path = "/api/v1/students/{sourced_id}/assignments",
    tag = "assignments",
    params(("sourced_id" = String, Path, description = "The pupil's sourcedId")),
    responses(
        (status = 200, body = StudentAssignments),
        (status = 404, description = "Not the pupil, their guardian, their teacher or an administrator of their school")
    )
)]
async fn student_assignments(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<StudentAssignments>, AppError> {
    Ok(Json(
        service::student_assignments(&state, &caller.person, &sourced_id).await?,
    ))
}

/// Hand in work: text, files, or both.
#[utoipa::path(
    post,
    path = "/api/v1/assignments/{id}/submissions",
    tag = "assignments",
    params(("id" = String, Path, description = "The assignment's id")),
    request_body(content(
        (HandInText = "application/json"),
        (HandInForm = "multipart/form-data")
    )),
    responses(
        (status = 201, description = "Handed in; the answer carries its `id`", body = SubmissionView),
        (status = 403, description = "Only the class's pupils hand in"),
        (status = 404, description = "Not a member of the class"),
        (status = 409, description = "`late_refused` or `resubmit_closed`, naming the due time"),
        (status = 413, description = "`submission_file_too_large` (naming the file) or `submission_too_large`"),
        (status = 415, description = "`file_type_refused`, naming the file"),
        (status = 422, description = "Nothing handed in, or a field is wrong")
    )
)]
async fn hand_in(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    // The time the hand-in began decides the due-time rule, however long the upload takes.
    let now = state.clock.now();
    let a = submissions::may_hand_in(&state, &caller.person, &id, now).await?;
    let input = intake::read(&state, request).await?;
    let (s, _) = submissions::hand_in(&state, &caller.person, &a, input, now).await?;
    let view = submissions::detail(&state, &caller.person, &s.id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/submissions/{}", s.id))],
        Json(view),
    )
        .into_response())
}

/// A hand-in with its files and the feedback that stands.
#[utoipa::path(
    get,
    path = "/api/v1/submissions/{id}",
    tag = "assignments",
    params(("id" = String, Path, description = "The submission's id")),
    responses(
        (status = 200, body = SubmissionView),
        (status = 404, description = "Not the pupil, their guardian or the class's staff")
    )
)]
async fn submission(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<SubmissionView>, AppError> {
    Ok(Json(
        submissions::detail(&state, &caller.person, &id).await?,
    ))
}

/// A file of a hand-in.
#[utoipa::path(
    get,
    path = "/api/v1/submissions/{id}/files/{file_id}",
    tag = "assignments",
    params(
        ("id" = String, Path, description = "The submission's id"),
        ("file_id" = String, Path, description = "The file's id")
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content_type = "application/octet-stream"),
        (status = 404, description = "Not the pupil, their guardian or the class's staff")
    )
)]
async fn download(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, file_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (f, got) = submissions::file(&state, &caller.person, &id, &file_id).await?;
    let encoded: String = url::form_urlencoded::byte_serialize(f.file_name.as_bytes()).collect();
    Ok((
        [
            (header::CONTENT_TYPE, f.content_type),
            (header::CONTENT_LENGTH, f.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
        ],
        Body::from_stream(got.into_stream()),
    )
        .into_response())
}

/// Mark a hand-in and return it to the pupil.
#[utoipa::path(
    post,
    path = "/api/v1/submissions/{id}/feedback",
    tag = "assignments",
    params(("id" = String, Path, description = "The submission's id")),
    request_body = Mark,
    responses(
        (status = 201, body = FeedbackCreated),
        (status = 403, description = "`not_class_teacher`: only the class's teachers mark"),
        (status = 404, description = "Not related to the hand-in"),
        (status = 422, description = "`invalid_field` naming `score` (and the allowed range) or `comment`")
    )
)]
async fn feedback(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Mark>,
) -> Result<Response, AppError> {
    let created = submissions::mark(&state, &caller.person, &id, input).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn every_route_is_in_the_openapi_document() -> Result<(), serde_json::Error> {
        let doc = serde_json::to_value(super::Api::openapi())?;
        for (path, method) in [
            ("/api/v1/assignments", "post"),
            ("/api/v1/assignments/{id}", "get"),
            ("/api/v1/assignments/{id}/progress", "get"),
            ("/api/v1/assignments/{id}/submissions", "post"),
            ("/api/v1/classes/{sourced_id}/assignments", "get"),
            ("/api/v1/students/{sourced_id}/assignments", "get"),
            ("/api/v1/submissions/{id}", "get"),
            ("/api/v1/submissions/{id}/files/{file_id}", "get"),
            ("/api/v1/submissions/{id}/feedback", "post"),
        ] {
            let operation = &doc["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is missing");
            assert_eq!(operation["tags"][0], "assignments", "{path}");
        }
        assert_eq!(doc["paths"].as_object().map(|p| p.len()), Some(9));
        let schemas = &doc["components"]["schemas"];
        for schema in [
            "NewAssignment",
            "AssignmentView",
            "Mark",
            "StudentAssignments",
            "Progress",
        ] {
            assert!(schema_named(schemas, schema), "{schema} is not described");
        }
        Ok(())
    }

    fn schema_named(schemas: &serde_json::Value, name: &str) -> bool {
        schemas.get(name).is_some()
    }
}
