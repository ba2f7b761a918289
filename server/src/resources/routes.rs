//! The resources and search JSON API under `/api/v1`: extract, call the service, answer.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::service::{self, Input};
use super::storage::{self, Spooled};
use super::usage::{self, Use};
use super::{access, lifecycle, vocabulary};
use crate::auth::Principal;
use crate::error::{AppError, ErrorCode};
use crate::http::json::JsonBody;
use crate::search::{self, MAX_QUERY_CHARS, SearchQuery, Sort};
use crate::state::AppState;

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

async fn vocabulary_route(_caller: Principal) -> Json<serde_json::Value> {
    Json(vocabulary())
}

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
        Json(json!({"id": r.id, "state": r.state, "version": v.number})),
    )
        .into_response())
}

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
        Json(json!({"id": r.id, "state": r.state, "version": v.number, "version_state": v.state})),
    )
        .into_response())
}

async fn edit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<Input>,
) -> Result<Response, AppError> {
    let (r, v, _) = service::save(&state, &caller.person, &id, input, None).await?;
    Ok(
        Json(json!({"id": r.id, "state": r.state, "version": v.number, "version_state": v.state}))
            .into_response(),
    )
}

async fn detail(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(service::detail(&state, &caller.person, &id, true).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Submit {
    #[serde(default)]
    pledge: bool,
}

async fn submit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Submit>,
) -> Result<Response, AppError> {
    let (v, findings) = lifecycle::submit(&state, &caller.person, &id, body.pledge).await?;
    Ok(
        Json(json!({"id": id, "version": v.number, "state": v.state, "checks": findings}))
            .into_response(),
    )
}

async fn review(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(verdict): JsonBody<lifecycle::Verdict>,
) -> Result<Response, AppError> {
    let v = lifecycle::review(&state, &caller.person, &id, verdict).await?;
    Ok(
        Json(json!({"id": id, "version": v.number, "state": v.state, "scope": v.scope}))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Retire {
    #[serde(default)]
    reason: String,
}

async fn retire(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Retire>,
) -> Result<Response, AppError> {
    lifecycle::retire(&state, &caller.person, &id, &body.reason).await?;
    Ok(Json(json!({"id": id, "state": "retired"})).into_response())
}

async fn withdraw(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    lifecycle::withdraw(&state, &caller.person, &id).await?;
    Ok(Json(json!({"id": id, "version_state": "draft"})).into_response())
}

#[derive(Deserialize)]
struct FileQuery {
    version: Option<i32>,
}

/// The file of the published version (readers), or of any version (owner, reviewers).
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageBody {
    action: String,
}

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

#[derive(Deserialize)]
struct MineQuery {
    state: Option<String>,
}

async fn mine(
    State(state): State<AppState>,
    caller: Principal,
    Query(q): Query<MineQuery>,
) -> Result<Response, AppError> {
    let items = usage::mine(&state, &caller.person, q.state.as_deref()).await?;
    Ok(Json(json!({"resources": items})).into_response())
}

#[derive(Deserialize)]
struct QueueQuery {
    subject: Option<String>,
    grade: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn queue(
    State(state): State<AppState>,
    caller: Principal,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let items = usage::queue(
        &state,
        &caller.person,
        q.subject.as_deref(),
        q.grade.as_deref(),
        q.kind.as_deref(),
    )
    .await?;
    Ok(Json(json!({"reviews": items})).into_response())
}

async fn following(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    let (follows, resources) = usage::following(&state, &caller.person).await?;
    Ok(Json(json!({"follows": follows, "resources": resources})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowBody {
    kind: String,
    target: String,
}

async fn follow(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(body): JsonBody<FollowBody>,
) -> Result<Response, AppError> {
    let view = usage::follow(&state, &caller.person, &body.kind, &body.target).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn unfollow(
    State(state): State<AppState>,
    caller: Principal,
    Path((kind, target)): Path<(String, String)>,
) -> Result<Response, AppError> {
    usage::unfollow(&state, &caller.person, &kind, &target).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The query string of `GET /api/v1/search`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
    pub subject: Option<String>,
    pub grade: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub edition: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
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

async fn search_route(
    State(state): State<AppState>,
    caller: Principal,
    Query(params): Query<SearchParams>,
) -> Result<Response, AppError> {
    Ok(Json(run_search(&state, &caller.person, &params).await?).into_response())
}

#[derive(Deserialize)]
struct SuggestParams {
    #[serde(default)]
    q: String,
}

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
    let suggestions: Vec<serde_json::Value> = found
        .into_iter()
        .map(|(id, title)| json!({"id": id, "title": title}))
        .collect();
    Ok(Json(json!({"suggestions": suggestions})).into_response())
}
