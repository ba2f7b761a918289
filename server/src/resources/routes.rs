//! The resources and search JSON API under `/api/v1`: extract, call the service, answer.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::check::Findings;
use super::service::{self, Input};
use super::storage::{self, Spooled};
use super::usage::{self, FollowView, Item, Use};
use super::{access, lifecycle, vocabulary};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode};
use crate::http::json::JsonBody;
use crate::http::openapi::{Binary, ErrorBody, answers};
use crate::search::{self, MAX_QUERY_CHARS, SearchQuery, Sort};
use crate::state::AppState;

mod schema;
use schema::{ResourceDetail, ResourceForm, SearchResults, Vocabulary};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/resources/vocabulary", get(vocabulary_route))
        .route("/api/v1/resources/{id}", get(detail).patch(edit))
        .route("/api/v1/resources/{id}/submit", post(submit))
        .route("/api/v1/resources/{id}/review", post(review))
        .route("/api/v1/resources/{id}/retire", post(retire))
        .route("/api/v1/resources/{id}/withdraw", post(withdraw))
        .route("/api/v1/resources/{id}/file", get(download))
        .route("/api/v1/resources/{id}/usage", post(record_usage))
        .route("/api/v1/me/resources", get(mine))
        .route("/api/v1/reviews", get(queue))
        .route("/api/v1/me/follows", get(following).post(follow))
        .route("/api/v1/me/follows/{kind}/{target}", delete(unfollow))
        .route("/api/v1/search", get(search_route))
        .route("/api/v1/search/suggest", get(suggest))
}

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    vocabulary_route,
    create,
    new_version,
    edit,
    detail,
    submit,
    review,
    retire,
    withdraw,
    download,
    record_usage,
    mine,
    queue,
    following,
    follow,
    unfollow,
    search_route,
    suggest,
))]
pub struct Api;

/// A resource the caller may not see: it is hidden, whether or not it exists.
const HIDDEN: &str = "不存在，或调用者看不到它（`not_found`）/ no such resource, or the caller may not see it (`not_found`)";
/// A resource the caller sees but may not change.
const NOT_OWNER: &str = "调用者看得到它，但不是作者（`forbidden`）/ the caller sees it but is not its author (`forbidden`)";
/// The metadata of a create or an edit that cannot be used.
const BAD_INPUT: &str = "字段缺失或无效，如空标题、未知的学科、年级、类型或范围（`invalid_field`，点名字段）/ a missing or invalid field, e.g. an empty title or an unknown subject, grade, type or scope (`invalid_field`, naming it)";

/// Routes that take uploads (their body is streamed to disk with its own size limit).
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/resources", post(create))
        .route("/api/v1/resources/{id}/versions", post(new_version))
}

/// JSON bodies of the upload routes (text resources) are bounded separately.
const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// Read a create or edit body: `multipart/form-data` with a `file` part and the metadata as
/// text parts, or JSON with the metadata and `text` or `url`.
async fn read_input(
    state: &AppState,
    request: Request,
) -> Result<(Input, Option<Spooled>), AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| invalid("body", format!("multipart: {}", e.body_text())))?;
        let mut input = Input::default();
        let mut file: Option<Spooled> = None;
        loop {
            let field = multipart
                .next_field()
                .await
                .map_err(|e| invalid("body", format!("multipart: {}", e.body_text())))?;
            let Some(field) = field else { break };
            let name = field.name().unwrap_or("").to_owned();
            if name == "file" {
                if file.is_some() {
                    return Err(invalid("file", "只能上传一个文件 / one file per resource"));
                }
                let file_name = field.file_name().unwrap_or("").to_owned();
                file = Some(storage::spool(state, &file_name, field).await?);
                continue;
            }
            let value = field
                .text()
                .await
                .map_err(|e| invalid(&name, e.body_text()))?;
            if value.len() > JSON_LIMIT {
                return Err(invalid(&name, "内容太长 / too long"));
            }
            if !input.set(&name, value) {
                return Err(invalid(
                    &name,
                    "不认识的字段 / unknown field (title, description, subject, stage, grade, edition, chapter, type, licence, keywords, scope, text, url, file)",
                ));
            }
        }
        Ok((input, file))
    } else if content_type.starts_with("application/json") {
        let bytes = axum::body::to_bytes(request.into_body(), JSON_LIMIT)
            .await
            .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge))?;
        let input: Input =
            serde_json::from_slice(&bytes).map_err(|e| invalid("body", e.to_string()))?;
        Ok((input, None))
    } else {
        Err(AppError::new(ErrorCode::UnsupportedMediaType))
    }
}

fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

/// 资源词表 / The resource vocabulary
///
/// The lists a resource's metadata is chosen from: subjects, grades, types, scopes.
#[utoipa::path(
    get,
    path = "/api/v1/resources/vocabulary",
    tag = "resources",
    responses(
        (status = 200, description = "词表 / the vocabulary", body = Vocabulary),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn vocabulary_route(_caller: Principal) -> Json<serde_json::Value> {
    Json(vocabulary())
}

/// A new resource.
#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: String,
    /// `draft`.
    state: String,
    /// The version's number: 1.
    version: i32,
}

/// A saved working version.
#[derive(Serialize, utoipa::ToSchema)]
struct Saved {
    id: String,
    /// The resource's state in the library.
    state: String,
    /// The working version's number (a published resource gets a new one).
    version: i32,
    /// `draft`.
    version_state: String,
}

/// 上传资源 / Upload a resource
///
/// Upload a new resource, a draft of its author: multipart (a `file` part and the metadata as
/// text parts) or JSON (the metadata with `text` or `url`).
#[utoipa::path(
    post,
    path = "/api/v1/resources",
    tag = "resources",
    request_body(
        description = "资源：multipart（文件 + 元数据）或 JSON（元数据 + `text` 或 `url`）/ the resource: multipart (a file and the metadata) or JSON (the metadata with `text` or `url`)",
        content(
            (ResourceForm = "multipart/form-data"),
            (Input = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "已创建草稿；`Location` 指向它 / the draft is created; `Location` names it", body = Created,
         headers(("Location" = String, description = "/api/v1/resources/{id}"))),
        (status = 400, description = "上传中断（`bad_request`）/ the upload broke off (`bad_request`)", body = ErrorBody),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "只有教师和管理员可以上传（`forbidden`）/ only teachers and administrators upload resources (`forbidden`)", body = ErrorBody),
        (status = 413, description = "文件超过 `KONGJIAN_RESOURCE_MAX_MB`（`file_too_large`），或 JSON 超过 2 MB（`payload_too_large`）/ the file is over `KONGJIAN_RESOURCE_MAX_MB` (`file_too_large`), or the JSON over 2 MB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "不接受的文件类型（`file_type_refused`，按内容判断），或请求体既非 multipart 也非 JSON（`unsupported_media_type`）/ a file type that is not accepted (`file_type_refused`, by its content), or a body neither multipart nor JSON (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = BAD_INPUT, body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Principal,
    request: Request,
) -> Result<Response, AppError> {
    if !access::may_author(&state.db, &caller.person).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let (input, file) = read_input(&state, request).await?;
    let (r, v) = service::create(&state, &caller.person, input, file).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/resources/{}", r.id))],
        Json(Created {
            id: r.id,
            state: r.state,
            version: v.number,
        }),
    )
        .into_response())
}

/// 上传新版本 / Save a new version
///
/// Save the working version with a new file (multipart) or new metadata (JSON); a published
/// resource gets a new version, which goes through review again.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/versions",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body(
        description = "同创建：multipart 或 JSON；给出的字段才会改变 / as for a create: multipart or JSON; only the fields given change",
        content(
            (ResourceForm = "multipart/form-data"),
            (Input = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "已开始新版本 / a new version was started", body = Saved),
        (status = 200, description = "已保存工作版本 / the working version was saved", body = Saved),
        (status = 400, description = "上传中断（`bad_request`）/ the upload broke off (`bad_request`)", body = ErrorBody),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = NOT_OWNER, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "正在审核，须先撤回（`invalid_state`）/ in review: withdraw it first (`invalid_state`)", body = ErrorBody),
        (status = 413, description = "文件或 JSON 过大（`file_too_large`、`payload_too_large`）/ the file or the JSON is too large (`file_too_large`, `payload_too_large`)", body = ErrorBody),
        (status = 415, description = "不接受的文件类型（`file_type_refused`）或请求体类型（`unsupported_media_type`）/ a file type (`file_type_refused`) or body type (`unsupported_media_type`) that is not accepted", body = ErrorBody),
        (status = 422, description = BAD_INPUT, body = ErrorBody),
    )
)]
async fn new_version(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let (input, file) = read_input(&state, request).await?;
    let (r, v, created) = service::save(&state, &caller.person, &id, input, file).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Saved {
            id: r.id,
            state: r.state,
            version: v.number,
            version_state: v.state,
        }),
    )
        .into_response())
}

/// 修改资源 / Edit a resource
///
/// Edit the working version's metadata or text (JSON); a published resource gets a new version.
#[utoipa::path(
    patch,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body = Input,
    responses(
        (status = 200, description = "已保存 / saved", body = Saved),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = NOT_OWNER, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "正在审核，须先撤回（`invalid_state`）/ in review: withdraw it first (`invalid_state`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = BAD_INPUT, body = ErrorBody),
    )
)]
async fn edit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Input>,
) -> Result<Response, AppError> {
    let (r, v, _) = service::save(&state, &caller.person, &id, input, None).await?;
    Ok(Json(Saved {
        id: r.id,
        state: r.state,
        version: v.number,
        version_state: v.state,
    })
    .into_response())
}

/// 一个资源 / One resource
///
/// A resource: readers see the published version (opening it counts a view); the author and
/// the reviewers also see the working version, its checks, the reviews and the history.
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    responses(
        (status = 200, description = "资源 / the resource", body = ResourceDetail),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
    )
)]
async fn detail(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(service::detail(&state, &caller.person, &id, true).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Submit {
    /// The author takes responsibility for the content (责任承诺); required.
    #[serde(default)]
    pledge: bool,
}

/// A submitted version and what the machine check found.
#[derive(Serialize, utoipa::ToSchema)]
struct Submitted {
    id: String,
    version: i32,
    /// `in_review`.
    state: String,
    checks: Findings,
}

/// 提交审核 / Submit for review
///
/// Submit the working version for review: the machine check runs at once, then a reviewer
/// of the organisation decides.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/submit",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body = Submit,
    responses(
        (status = 200, description = "已提交审核，附机审结果 / submitted, with the machine check's findings", body = Submitted),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = NOT_OWNER, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "工作版本不是草稿或已退回（`invalid_state`）/ the working version is neither a draft nor returned (`invalid_state`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "未确认责任承诺（`pledge_required`），或请求体不对（`invalid_field`）/ no pledge (`pledge_required`), or the body is not the JSON asked for (`invalid_field`)", body = ErrorBody),
    )
)]
async fn submit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Submit>,
) -> Result<Response, AppError> {
    let (v, checks) = lifecycle::submit(&state, &caller.person, &id, body.pledge).await?;
    Ok(Json(Submitted {
        id,
        version: v.number,
        state: v.state,
        checks,
    })
    .into_response())
}

/// A reviewed version.
#[derive(Serialize, utoipa::ToSchema)]
struct Reviewed {
    id: String,
    version: i32,
    /// `published` or `rejected`.
    state: String,
    /// The sharing scope, as the review left it.
    scope: String,
}

/// 审核资源 / Review a resource
///
/// A reviewer approves (publishes) or rejects (returns to the author) the version in review.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/review",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body = lifecycle::Verdict,
    responses(
        (status = 200, description = "审核结果 / the verdict recorded", body = Reviewed),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是该组织的审核人（`not_reviewer`）/ not a reviewer of the organisation (`not_reviewer`)", body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "没有待审核的版本（`invalid_state`）/ no version is in review (`invalid_state`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "维度不是 pass/fail、有维度未通过却要通过、退回没写意见、范围只能缩小（`invalid_field`）/ a dimension not pass or fail, approving with a failed dimension, rejecting without a comment, or widening the scope (`invalid_field`)", body = ErrorBody),
    )
)]
async fn review(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(verdict): JsonBody<lifecycle::Verdict>,
) -> Result<Response, AppError> {
    let v = lifecycle::review(&state, &caller.person, &id, verdict).await?;
    Ok(Json(Reviewed {
        id,
        version: v.number,
        state: v.state,
        scope: v.scope,
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Retire {
    /// Why it leaves the library; required.
    #[serde(default)]
    reason: String,
}

/// A resource's new state.
#[derive(Serialize, utoipa::ToSchema)]
struct Retired {
    id: String,
    /// `retired`.
    state: &'static str,
}

/// 资源出库 / Retire a resource
///
/// Take a published resource out of the library (出库), with a reason; nothing is deleted.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/retire",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body = Retire,
    responses(
        (status = 200, description = "已出库 / retired", body = Retired),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "既不是作者也不是审核人（`forbidden`）/ neither its author nor a reviewer (`forbidden`)", body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "未入库（`invalid_state`）/ not published (`invalid_state`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "没写原因（`invalid_field`）/ no reason (`invalid_field`)", body = ErrorBody),
    )
)]
async fn retire(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Retire>,
) -> Result<Response, AppError> {
    lifecycle::retire(&state, &caller.person, &id, &body.reason).await?;
    Ok(Json(Retired {
        id,
        state: "retired",
    })
    .into_response())
}

/// The working version's new state.
#[derive(Serialize, utoipa::ToSchema)]
struct Withdrawn {
    id: String,
    /// `draft`.
    version_state: &'static str,
}

/// 撤回审核 / Withdraw from review
///
/// The author takes the version in review back, to edit it.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/withdraw",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    responses(
        (status = 200, description = "已撤回为草稿 / back to a draft", body = Withdrawn),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = NOT_OWNER, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "没有在审核中（`invalid_state`）/ not in review (`invalid_state`)", body = ErrorBody),
    )
)]
async fn withdraw(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    lifecycle::withdraw(&state, &caller.person, &id).await?;
    Ok(Json(Withdrawn {
        id,
        version_state: "draft",
    })
    .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FileQuery {
    /// A version's number (the author and reviewers); readers get the published version only.
    version: Option<i32>,
}

/// 下载资源文件 / Download a resource's file
///
/// The file of the published version (readers), or of any version (owner, reviewers).
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}/file",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id"), FileQuery),
    responses(
        (status = 200, description = "文件，带其内容类型，作为附件下载；读者下载计数 / the file with its content type, as a download; a reader's download is counted", body = Binary, content_type = "application/octet-stream"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "看不到它、没有此版本或此版本没有文件（`not_found`）/ the caller may not see it, no such version, or the version has no file (`not_found`)", body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
) -> Result<Response, AppError> {
    let (v, blob, got) = service::file(&state, &caller.person, &id, q.version).await?;
    let name = v.file_name.unwrap_or_else(|| "resource".to_owned());
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    Ok((
        [
            (header::CONTENT_TYPE, blob.content_type.clone()),
            (header::CONTENT_LENGTH, blob.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
        ],
        Body::from_stream(got.into_stream()),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UsageBody {
    /// `view`, `download` or `lesson` (used in a lesson).
    action: String,
}

/// 记录使用 / Record a use
///
/// A reader records a use of a published resource.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/usage",
    tag = "resources",
    params(("id" = String, Path, description = "资源 id / the resource's id")),
    request_body = UsageBody,
    responses(
        (status = 204, description = "已记录 / recorded"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = HIDDEN, body = ErrorBody),
        (status = 409, description = "尚未入库：作者和审核人会得到此回答（`invalid_state`）/ not published: its author and reviewers are told so (`invalid_state`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "不是 view、download 或 lesson（`invalid_field`）/ not view, download or lesson (`invalid_field`)", body = ErrorBody),
    )
)]
async fn record_usage(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UsageBody>,
) -> Result<Response, AppError> {
    let what = Use::parse(&body.action).ok_or_else(|| {
        invalid(
            "action",
            "应为 view、download 或 lesson / use view, download or lesson",
        )
    })?;
    usage::record_for_reader(&state, &caller.person, &id, what).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MineQuery {
    /// Only resources in this state (`draft`, `in_review`, `published`, …).
    state: Option<String>,
}

/// The caller's resources.
#[derive(Serialize, utoipa::ToSchema)]
struct MyResources {
    resources: Vec<Item>,
}

/// 我的资源 / My resources
///
/// Everything the caller authored, latest change first, with states.
#[utoipa::path(
    get,
    path = "/api/v1/me/resources",
    tag = "resources",
    params(MineQuery),
    responses(
        (status = 200, description = "调用者的资源 / the caller's resources", body = MyResources),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 422, description = "不是资源状态（`invalid_field`）/ not a resource state (`invalid_field`)", body = ErrorBody),
    )
)]
async fn mine(
    State(state): State<AppState>,
    caller: Principal,
    Query(q): Query<MineQuery>,
) -> Result<Response, AppError> {
    let resources = usage::mine(&state, &caller.person, q.state.as_deref()).await?;
    Ok(Json(MyResources { resources }).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QueueQuery {
    /// A subject's Chinese name.
    subject: Option<String>,
    /// A grade code, `01`–`12`.
    grade: Option<String>,
    /// A resource type's Chinese name.
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The review queue.
#[derive(Serialize, utoipa::ToSchema)]
struct ReviewQueue {
    reviews: Vec<Item>,
}

/// 待审核队列 / The review queue
///
/// Versions waiting for review in the organisations the caller reviews for, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/reviews",
    tag = "resources",
    params(QueueQuery),
    responses(
        (status = 200, description = "待审核队列，含负面词与相同内容计数 / the queue, with negative-list and duplicate counts", body = ReviewQueue),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是审核人（`forbidden`）/ not a reviewer (`forbidden`)", body = ErrorBody),
        (status = 422, description = "未知的学科、年级或类型（`invalid_field`）/ an unknown subject, grade or type (`invalid_field`)", body = ErrorBody),
    )
)]
async fn queue(
    State(state): State<AppState>,
    caller: Principal,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let reviews = usage::queue(
        &state,
        &caller.person,
        q.subject.as_deref(),
        q.grade.as_deref(),
        q.kind.as_deref(),
    )
    .await?;
    Ok(Json(ReviewQueue { reviews }).into_response())
}

/// What the caller follows, and what is new there.
#[derive(Serialize, utoipa::ToSchema)]
struct Following {
    follows: Vec<FollowView>,
    /// The newest published resources of those subjects and teachers the caller may see.
    resources: Vec<Item>,
}

/// 我的关注 / What I follow
///
/// The subjects and teachers the caller follows, and the newest resources there.
#[utoipa::path(
    get,
    path = "/api/v1/me/follows",
    tag = "resources",
    responses(
        (status = 200, description = "关注与其新资源 / the follows and their new resources", body = Following),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn following(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    let (follows, resources) = usage::following(&state, &caller.person).await?;
    Ok(Json(Following { follows, resources }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FollowBody {
    /// `subject` or `teacher`.
    kind: String,
    /// A subject's Chinese name, or a teacher's sourcedId.
    target: String,
}

/// 关注学科或教师 / Follow a subject or a teacher
///
/// Follow a subject or a teacher (again is harmless).
#[utoipa::path(
    post,
    path = "/api/v1/me/follows",
    tag = "resources",
    request_body = FollowBody,
    responses(
        (status = 201, description = "已关注 / followed", body = FollowView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "没有此教师（`unknown_person`），或 kind、学科不对、对象不是教师（`invalid_field`）/ no such teacher (`unknown_person`), or a wrong kind or subject, or the target is not a teacher (`invalid_field`)", body = ErrorBody),
    )
)]
async fn follow(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(body): JsonBody<FollowBody>,
) -> Result<Response, AppError> {
    let view = usage::follow(&state, &caller.person, &body.kind, &body.target).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// 取消关注 / Stop following
///
/// Stop following (not following is not an error).
#[utoipa::path(
    delete,
    path = "/api/v1/me/follows/{kind}/{target}",
    tag = "resources",
    params(
        ("kind" = String, Path, description = "`subject` 或 `teacher` / `subject` or `teacher`"),
        ("target" = String, Path, description = "学科名或教师的 sourcedId / the subject's name or the teacher's sourcedId"),
    ),
    responses(
        (status = 204, description = "已取消关注 / no longer followed"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn unfollow(
    State(state): State<AppState>,
    caller: Principal,
    Path((kind, target)): Path<(String, String)>,
) -> Result<Response, AppError> {
    usage::unfollow(&state, &caller.person, &kind, &target).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The query string of `GET /api/v1/search`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words, read in Chinese (at most 200 characters); empty lists everything visible.
    #[serde(default)]
    pub q: String,
    /// A subject's Chinese name.
    pub subject: Option<String>,
    /// A grade code, `01`–`12`.
    pub grade: Option<String>,
    /// A resource type's Chinese name.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A textbook edition.
    pub edition: Option<String>,
    /// `relevance` (default), `newest` or `used`.
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Hits per page, 1–50.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
}

/// Check the parameters and build the query for `viewer`'s access tokens.
pub fn build_query(params: &SearchParams, access: Vec<String>) -> Result<SearchQuery, AppError> {
    let len = params.q.chars().count();
    if len > MAX_QUERY_CHARS {
        return Err(invalid(
            "q",
            format!(
                "检索词最多 {MAX_QUERY_CHARS} 个字，现在 {len} 个 / at most {MAX_QUERY_CHARS} characters, got {len}"
            ),
        ));
    }
    let pick = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let subject = pick(&params.subject)
        .map(|s| service::parse_subject(&s))
        .transpose()?;
    let grade = pick(&params.grade)
        .map(|g| service::parse_grade(&g))
        .transpose()?;
    let kind = pick(&params.kind)
        .map(|k| service::parse_kind(&k))
        .transpose()?;
    let sort = Sort::parse(params.sort.as_deref().unwrap_or("")).ok_or_else(|| {
        invalid(
            "sort",
            "应为 relevance、newest 或 used / use relevance, newest or used",
        )
    })?;
    let offset = match pick(&params.cursor) {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|o| *o <= search::MAX_OFFSET)
            .ok_or_else(|| {
                invalid(
                    "cursor",
                    "无效的翻页游标 / not a cursor from a previous answer",
                )
            })?,
    };
    Ok(SearchQuery {
        text: params.q.clone(),
        subject,
        grade,
        kind,
        edition: pick(&params.edition),
        sort,
        offset,
        limit: params.limit.unwrap_or(search::PAGE).clamp(1, 50),
        access,
    })
}

/// Run a search for `viewer`, as the API answers it.
pub async fn run_search(
    state: &AppState,
    viewer: &crate::roster::entity::person::Model,
    params: &SearchParams,
) -> Result<serde_json::Value, AppError> {
    let tokens = access::tokens(state, viewer).await?;
    let query = build_query(params, tokens.as_ref().clone())?;
    let index = state.search.index.clone();
    let results = tokio::task::spawn_blocking(move || index.search(&query))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let hits: Vec<serde_json::Value> = results
        .hits
        .iter()
        .map(|h| {
            json!({
                "id": h.id, "title": h.title, "snippet": h.snippet, "subject": h.subject,
                "grade": h.grade, "type": h.kind, "edition": h.edition, "score": h.score,
            })
        })
        .collect();
    Ok(json!({
        "hits": hits,
        "facets": results.facets,
        "total": results.total,
        "next_cursor": results.next_offset.map(|o| o.to_string()),
    }))
}

/// 检索资源 / Search resources
///
/// Search the resources the caller may see, with facet counts.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "resources",
    params(SearchParams),
    responses(
        (status = 200, description = "检索结果 / the results", body = SearchResults),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 422, description = "检索词过长，未知的学科、年级、类型或排序，或游标不对（`invalid_field`）/ a query over 200 characters, an unknown subject, grade, type or sort, or a bad cursor (`invalid_field`)", body = ErrorBody),
    )
)]
async fn search_route(
    State(state): State<AppState>,
    caller: Principal,
    Query(params): Query<SearchParams>,
) -> Result<Response, AppError> {
    Ok(Json(run_search(&state, &caller.person, &params).await?).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SuggestParams {
    /// What has been typed so far.
    #[serde(default)]
    q: String,
}

/// Titles to complete a search box.
#[derive(Serialize, utoipa::ToSchema)]
struct Suggestions {
    /// At most 8.
    suggestions: Vec<Suggestion>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Suggestion {
    id: String,
    title: String,
}

/// 检索建议 / Search suggestions
///
/// Titles of resources the caller may see that match what was typed.
#[utoipa::path(
    get,
    path = "/api/v1/search/suggest",
    tag = "resources",
    params(SuggestParams),
    responses(
        (status = 200, description = "建议 / the suggestions", body = Suggestions),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn suggest(
    State(state): State<AppState>,
    caller: Principal,
    Query(params): Query<SuggestParams>,
) -> Result<Response, AppError> {
    let text: String = params.q.chars().take(MAX_QUERY_CHARS).collect();
    let tokens = access::tokens(&state, &caller.person).await?;
    let index = state.search.index.clone();
    let found = tokio::task::spawn_blocking(move || index.suggest(&text, &tokens, 8))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let suggestions = found
        .into_iter()
        .map(|(id, title)| Suggestion { id, title })
        .collect();
    Ok(Json(Suggestions { suggestions }).into_response())
}
