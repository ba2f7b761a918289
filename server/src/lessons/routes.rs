//! The lessons JSON API under `/api/v1`: extract, call the service, answer.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::attachments::{self, AttachResource, AttachmentView, Download, StoredFile, UploadForm};
use super::lists::{self, ClassLessons, MyLesson, SharedLesson};
use super::publishing::{self, Publications, Publish, Unpublish};
use super::questions::{self, Answer, Ask, Post, QuestionView, Thread};
use super::service::{self, LessonEdit, LessonView, NewLesson, VersionView, invalid};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode};
use crate::http::json::JsonBody;
use crate::resources::storage::{self, Spooled};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lessons", post(create))
        .route("/api/v1/lessons/shared", get(shared))
        .route("/api/v1/lessons/{id}", get(detail).patch(edit))
        .route("/api/v1/lessons/{id}/versions", get(versions))
        .route("/api/v1/lessons/{id}/publish", post(publish))
        .route("/api/v1/lessons/{id}/unpublish", post(unpublish))
        .route("/api/v1/lessons/{id}/copy", post(copy))
        .route(
            "/api/v1/lessons/{id}/attachments/{aid}",
            get(download).delete(remove),
        )
        .route("/api/v1/lessons/{id}/questions", get(thread).post(ask))
        .route("/api/v1/lessons/{id}/questions/{qid}/answers", post(answer))
        .route("/api/v1/classes/{sourced_id}/lessons", get(class_lessons))
        .route("/api/v1/me/lessons", get(mine))
}

/// The attachment upload: its body streams to disk with the resource size limit
/// (`KONGJIAN_RESOURCE_MAX_MB`), so it sits outside the default body limit (see `http::app`).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/lessons/{id}/attachments", post(add_attachment))
}

/// Every lessons handler, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    shared,
    detail,
    edit,
    versions,
    publish,
    unpublish,
    copy,
    add_attachment,
    download,
    remove,
    ask,
    thread,
    answer,
    class_lessons,
    mine
))]
pub struct Api;

/// JSON bodies of the upload route (a resource reference) are small.
const JSON_LIMIT: usize = 64 * 1024;

fn created(location: String, body: impl Serialize) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

#[utoipa::path(post, path = "/api/v1/lessons", tag = "lessons",
    request_body = NewLesson,
    responses(
        (status = 201, description = "A draft, published nowhere yet", body = LessonView),
        (status = 403, description = "The caller teaches no class and administers no school"),
        (status = 422, description = "A missing or over-long title, or script in the body (its line named)"),
    ))]
async fn create(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(input): JsonBody<NewLesson>,
) -> Result<Response, AppError> {
    let l = service::create(&state, &caller.person, input).await?;
    let view = service::detail(&state, &caller.person, &l.id).await?;
    Ok(created(format!("/api/v1/lessons/{}", l.id), view))
}

#[utoipa::path(get, path = "/api/v1/lessons/{id}", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    responses(
        (status = 200, body = LessonView),
        (status = 404, description = "No such lesson, or not one the caller may see"),
    ))]
async fn detail(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<LessonView>, AppError> {
    Ok(Json(service::detail(&state, &caller.person, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/lessons/{id}", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    request_body = LessonEdit,
    responses(
        (status = 200, description = "Saved as the next version", body = LessonView),
        (status = 403, description = "Not the owner"),
        (status = 404),
        (status = 409, description = "Saved by another request meanwhile"),
        (status = 422, description = "A bad title, or script in the body"),
    ))]
async fn edit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<LessonEdit>,
) -> Result<Json<LessonView>, AppError> {
    service::edit(&state, &caller.person, &id, input).await?;
    Ok(Json(service::detail(&state, &caller.person, &id).await?))
}

/// `GET /api/v1/lessons/{id}/versions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Versions {
    pub id: String,
    pub title: String,
    /// Newest first.
    pub versions: Vec<VersionView>,
}

#[utoipa::path(get, path = "/api/v1/lessons/{id}/versions", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    responses(
        (status = 200, body = Versions),
        (status = 403, description = "Neither the owner nor a teacher of a class it is published to"),
        (status = 404),
    ))]
async fn versions(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Versions>, AppError> {
    let (l, versions) = service::versions(&state, &caller.person, &id).await?;
    Ok(Json(Versions {
        id: l.id,
        title: l.title,
        versions,
    }))
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/publish", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    request_body = Publish,
    responses(
        (status = 200, body = Publications),
        (status = 403, description = "Not the owner"),
        (status = 404),
        (status = 422, description = "A class the owner does not teach (named), an unknown class, or a bad time: nothing is published"),
    ))]
async fn publish(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Publish>,
) -> Result<Json<Publications>, AppError> {
    Ok(Json(
        publishing::publish(&state, &caller.person, &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/unpublish", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    request_body = Unpublish,
    responses(
        (status = 200, body = Publications),
        (status = 403, description = "Not the owner"),
        (status = 404),
        (status = 422, description = "A class it is not published to (named): nothing is withdrawn"),
    ))]
async fn unpublish(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Unpublish>,
) -> Result<Json<Publications>, AppError> {
    Ok(Json(
        publishing::unpublish(&state, &caller.person, &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/copy", tag = "lessons",
    params(("id" = String, Path, description = "The lesson to copy")),
    responses(
        (status = 201, description = "A new draft of the caller's", body = LessonView),
        (status = 404, description = "Neither the caller's own lesson nor a colleague's published one"),
    ))]
async fn copy(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let l = super::copying::copy(&state, &caller.person, &id).await?;
    let view = service::detail(&state, &caller.person, &l.id).await?;
    Ok(created(format!("/api/v1/lessons/{}", l.id), view))
}

/// What an attachment upload carries.
enum Incoming {
    File(Spooled),
    Resource(String),
}

/// Read an attachment body: `multipart/form-data` with one `file` part, or JSON naming a
/// resource.
async fn read_attachment(state: &AppState, request: Request) -> Result<Incoming, AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(request.into_body(), JSON_LIMIT)
            .await
            .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge))?;
        let input: AttachResource =
            serde_json::from_slice(&bytes).map_err(|e| invalid("body", e.to_string()))?;
        return Ok(Incoming::Resource(input.resource));
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(AppError::new(ErrorCode::UnsupportedMediaType));
    }
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        invalid("body", format!("multipart: {}", e.body_text()))
    };
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| invalid("body", format!("multipart: {}", e.body_text())))?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if name != "file" {
            return Err(invalid(
                &name,
                "只接受一个 file 部分 / only one part, named file",
            ));
        }
        if file.is_some() {
            return Err(invalid("file", "一次上传一个文件 / one file at a time"));
        }
        let file_name = field.file_name().unwrap_or("").to_owned();
        file = Some(storage::spool(state, &file_name, field).await?);
    }
    file.map(Incoming::File)
        .ok_or_else(|| invalid("file", "没有收到文件 / no file was sent"))
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/attachments", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (AttachResource = "application/json"),
    )),
    responses(
        (status = 201, body = AttachmentView),
        (status = 403, description = "Not the owner"),
        (status = 404),
        (status = 413, description = "Larger than the upload limit"),
        (status = 415, description = "Not a picture or a document (typed by its bytes; the file is named)"),
        (status = 422, description = "No file, too many attachments, or a resource the caller may not see"),
    ))]
async fn add_attachment(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    // Only the owner's upload is read at all.
    attachments::may_add(&state, &caller.person, &id).await?;
    let view = match read_attachment(&state, request).await? {
        Incoming::File(file) => attachments::add_file(&state, &caller.person, &id, file).await?,
        Incoming::Resource(rid) => {
            attachments::add_resource(&state, &caller.person, &id, &rid).await?
        }
    };
    Ok(created(view.url.clone(), view))
}

#[utoipa::path(get, path = "/api/v1/lessons/{id}/attachments/{aid}", tag = "lessons",
    params(
        ("id" = String, Path, description = "The lesson's id"),
        ("aid" = String, Path, description = "The attachment's id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 303, description = "A resource attached by reference: see the resource"),
        (status = 404),
    ))]
async fn download(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, AppError> {
    Ok(file_response(
        attachments::download(&state, &caller.person, &id, &aid).await?,
        "/api/v1/resources/",
    ))
}

/// A download as a response; a resource reference is a redirect to `resource_base` + its id.
pub(super) fn file_response(download: Download, resource_base: &str) -> Response {
    match download {
        Download::Resource(rid) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("{resource_base}{rid}"))],
        )
            .into_response(),
        Download::File(file) => {
            let StoredFile { attachment, got } = *file;
            let name = attachment.file_name.unwrap_or_else(|| "附件".to_owned());
            let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
            let content_type = attachment
                .content_type
                .unwrap_or_else(|| "application/octet-stream".to_owned());
            // Pictures show in the lesson's text; everything else downloads.
            let disposition = if attachment.kind == "image" {
                "inline"
            } else {
                "attachment"
            };
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CONTENT_LENGTH, got.meta.size.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("{disposition}; filename*=UTF-8''{encoded}"),
                    ),
                    (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
                ],
                Body::from_stream(got.into_stream()),
            )
                .into_response()
        }
    }
}

#[utoipa::path(delete, path = "/api/v1/lessons/{id}/attachments/{aid}", tag = "lessons",
    params(
        ("id" = String, Path, description = "The lesson's id"),
        ("aid" = String, Path, description = "The attachment's id"),
    ),
    responses(
        (status = 204, description = "Removed (kept, marked removed)"),
        (status = 403, description = "Not the owner"),
        (status = 404),
    ))]
async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, aid)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    attachments::remove(&state, &caller.person, &id, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/questions", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id")),
    request_body = Ask,
    responses(
        (status = 201, body = QuestionView),
        (status = 403, description = "Not a pupil of the class (families and teachers read only)"),
        (status = 404, description = "The lesson is not shown to that class, or not to the caller"),
        (status = 422, description = "An empty or over-long question"),
    ))]
async fn ask(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Ask>,
) -> Result<Response, AppError> {
    let q = questions::ask(&state, &caller.person, &id, input).await?;
    Ok(created(
        format!("/api/v1/lessons/{id}/questions/{}", q.question.id),
        q,
    ))
}

#[utoipa::path(post, path = "/api/v1/lessons/{id}/questions/{qid}/answers", tag = "lessons",
    params(
        ("id" = String, Path, description = "The lesson's id"),
        ("qid" = String, Path, description = "The question's id"),
    ),
    request_body = Answer,
    responses(
        (status = 201, body = Post),
        (status = 403, description = "Not a teacher of the question's class nor the lesson's owner"),
        (status = 404),
        (status = 422, description = "An empty or over-long answer"),
    ))]
async fn answer(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, qid)): Path<(String, String)>,
    JsonBody(input): JsonBody<Answer>,
) -> Result<Response, AppError> {
    let a = questions::answer(&state, &caller.person, &id, &qid, input).await?;
    Ok(created(format!("/api/v1/lessons/{id}/questions/{qid}"), a))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ThreadQuery {
    /// The class's sourcedId.
    pub class: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/lessons/{id}/questions", tag = "lessons",
    params(("id" = String, Path, description = "The lesson's id"), ThreadQuery),
    responses(
        (status = 200, body = Thread),
        (status = 404, description = "Not a thread the caller may read"),
        (status = 422, description = "No class named"),
    ))]
async fn thread(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    Query(q): Query<ThreadQuery>,
) -> Result<Json<Thread>, AppError> {
    let class = q.class.filter(|c| !c.trim().is_empty()).ok_or_else(|| {
        invalid(
            "class",
            "请给出班级编号 ?class=<sourcedId> / name the class",
        )
    })?;
    Ok(Json(
        questions::thread(&state, &caller.person, &id, &class).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// At most this many (default 50, at most 200).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/classes/{sourced_id}/lessons", tag = "lessons",
    params(("sourced_id" = String, Path, description = "The class's sourcedId"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = ClassLessons),
        (status = 404, description = "No such class, or not one the caller may see"),
    ))]
async fn class_lessons(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ClassLessons>, AppError> {
    Ok(Json(
        lists::class_lessons(
            &state,
            &caller.person,
            &sourced_id,
            q.limit.unwrap_or(50),
            q.cursor.as_deref(),
        )
        .await?,
    ))
}

/// `GET /api/v1/me/lessons`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyLessons {
    pub lessons: Vec<MyLesson>,
}

#[utoipa::path(get, path = "/api/v1/me/lessons", tag = "lessons",
    responses((status = 200, description = "The caller's lessons, drafts and published", body = MyLessons)))]
async fn mine(
    State(state): State<AppState>,
    caller: Principal,
) -> Result<Json<MyLessons>, AppError> {
    Ok(Json(MyLessons {
        lessons: lists::mine(&state, &caller.person).await?,
    }))
}

/// `GET /api/v1/lessons/shared`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedLessons {
    pub lessons: Vec<SharedLesson>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LimitQuery {
    /// At most this many (default 50, at most 200).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/lessons/shared", tag = "lessons",
    params(LimitQuery),
    responses((status = 200, description = "Colleagues' lessons published in the caller's schools, which the caller may copy", body = SharedLessons)))]
async fn shared(
    State(state): State<AppState>,
    caller: Principal,
    Query(q): Query<LimitQuery>,
) -> Result<Json<SharedLessons>, AppError> {
    Ok(Json(SharedLessons {
        lessons: lists::shared(&state, &caller.person, q.limit.unwrap_or(50).clamp(1, 200)).await?,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn the_document_lists_every_lessons_route_with_its_methods() {
        let doc = serde_json::to_value(super::Api::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let expected = [
            ("/api/v1/lessons", "post"),
            ("/api/v1/lessons/shared", "get"),
            ("/api/v1/lessons/{id}", "get"),
            ("/api/v1/lessons/{id}", "patch"),
            ("/api/v1/lessons/{id}/versions", "get"),
            ("/api/v1/lessons/{id}/publish", "post"),
            ("/api/v1/lessons/{id}/unpublish", "post"),
            ("/api/v1/lessons/{id}/copy", "post"),
            ("/api/v1/lessons/{id}/attachments", "post"),
            ("/api/v1/lessons/{id}/attachments/{aid}", "get"),
            ("/api/v1/lessons/{id}/attachments/{aid}", "delete"),
            ("/api/v1/lessons/{id}/questions", "get"),
            ("/api/v1/lessons/{id}/questions", "post"),
            ("/api/v1/lessons/{id}/questions/{qid}/answers", "post"),
            ("/api/v1/classes/{sourced_id}/lessons", "get"),
            ("/api/v1/me/lessons", "get"),
        ];
        for (path, method) in expected {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path}"
            );
        }
        let methods: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(
            methods,
            expected.len(),
            "no route is documented twice or missing"
        );
        // The request bodies scripts rely on are described.
        let schemas = &doc["components"]["schemas"];
        assert!(
            schemas["NewLesson"]["properties"]["title"].is_object(),
            "{schemas}"
        );
        assert!(
            schemas["Publish"]["properties"]["classes"].is_object(),
            "{schemas}"
        );
    }
}
