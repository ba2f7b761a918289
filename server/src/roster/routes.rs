//! `POST /api/v1/roster/imports` (a platform pushes its roster) and
//! `GET /api/v1/roster/imports` (the import log), for district administrators.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use super::diagnostics::DiagnosticJson;
use super::plan::{Counts, MassRetirement, Merge};
use super::service::{self, ImportOptions, Origin, Outcome};
use crate::auth::Principal;
use crate::auth::client::ClientInfo;
use crate::error::{AppError, ErrorCode};
use crate::http::openapi::{Binary, ErrorBody, answers};
use crate::i18n::Lang;
use crate::state::AppState;

/// Rosters are large: a county's zip is tens of megabytes.
pub const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

/// Routes with their own (larger) body limit; merged beside the API by `http::app`.
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/roster/imports", post(create).get(list))
}

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list))]
pub struct Api;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Check and count everything, write nothing.
    #[serde(default)]
    dry_run: bool,
    /// Let the import retire more than 15 % of a school's people (the new school year).
    #[serde(default)]
    allow_mass_retire: bool,
    /// Compare every row even when the zip holds the files of the last import that wrote
    /// anything (otherwise that import's counts are answered at once, `unchanged_since`).
    #[serde(default)]
    recheck: bool,
}

// Documentation only: mirrors `ImportReport::to_json`.
/// What an import did, or would do, in the request's language.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ImportReport {
    /// The import log entry; null for a dry run and for an import that changed nothing.
    id: Option<String>,
    /// When the files are exactly those of the last import that wrote anything, that import's
    /// id: nothing was compared or written, and the counts are what that import left (all
    /// unchanged). Null otherwise.
    unchanged_since: Option<String>,
    outcome: Outcome,
    /// `oneroster-1.1`, `oneroster-1.2` or `cn-roster`; null when the files were not recognised.
    format: Option<String>,
    /// Per entity (`orgs`, `sessions`, `courses`, `classes`, `users`, `roles`, `enrollments`,
    /// `guardian_links`, `spaces`): what was (or would be) created, updated, retired, restored
    /// and left unchanged.
    counts: BTreeMap<String, Counts>,
    /// Guardian records merged because they share a phone number.
    merges: Vec<Merge>,
    /// The schools that stopped a refused import, with their numbers.
    mass_retirements: Vec<MassRetirement>,
    /// Each with the file, line and field to blame; `message` in the request's language.
    warnings: Vec<DiagnosticJson<'static>>,
    /// Defects that stopped the import (outcome `rejected`).
    errors: Vec<DiagnosticJson<'static>>,
}

/// A 422 is the report of a rejected roster, or an error when no file was sent.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Rejected {
    Report(ImportReport),
    Error(ErrorBody),
}

// Documentation only.
/// The roster as a multipart form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RosterForm {
    /// The roster zip: OneRoster 1.1/1.2 CSV, or the Chinese school roster CSV set.
    file: Binary,
}

/// 导入名册 / Import a roster
///
/// Import a roster (a platform pushes the district's roster): the zip as the whole body, or
/// as the `file` part of a multipart form. Nothing is written unless all of it is good.
#[utoipa::path(
    post,
    path = "/api/v1/roster/imports",
    tag = "roster",
    params(ImportQuery),
    request_body(
        description = "名册 zip：整个请求体，或 multipart 表单的 `file` 部分（最大 512 MB）/ the roster zip: the whole body, or the `file` part of a multipart form (up to 512 MB)",
        content(
            (Binary = "application/zip"),
            (RosterForm = "multipart/form-data"),
        )
    ),
    responses(
        (status = 201, description = "已导入并记入导入日志 / imported and logged", body = ImportReport),
        (status = 200, description = "试运行，或名册没有变化（什么都没写）/ a dry run, or nothing changed (nothing written)", body = ImportReport),
        (status = 400, description = "multipart 表单格式错误（`bad_request`）/ a malformed multipart form (`bad_request`)", body = ErrorBody),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是区级或系统管理员（`forbidden`）/ not a district or system administrator (`forbidden`)", body = ErrorBody),
        (status = 409, description = "大批注销保护拦下了导入：`mass_retirements` 列出学校；用 `allow_mass_retire=true` 确认 / the mass-retirement guard stopped it: `mass_retirements` names the schools; confirm with `allow_mass_retire=true`", body = ImportReport),
        (status = 413, description = answers::TOO_LARGE, body = ErrorBody),
        (status = 422, description = "名册有缺陷，什么都没写：报告的 `errors` 逐条指出文件、行和字段；或没有上传文件（错误 `invalid_input`）/ the roster has defects and nothing was written: the report's `errors` name file, line and field; or no file was sent (error `invalid_input`)", body = Rejected),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Principal,
    client: ClientInfo,
    lang: Lang,
    Query(query): Query<ImportQuery>,
    request: Request,
) -> Result<Response, AppError> {
    super::access::require_importer(&state.db, &caller.person).await?;
    let upload = read_upload(request, &state).await?;
    if upload.zip.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidInput).with_arg("field", "body"));
    }
    let options = ImportOptions {
        dry_run: query.dry_run,
        allow_mass_retire: query.allow_mass_retire,
        origin: Origin::Api,
        actor: Some(caller.person.id.clone()),
        client,
        recheck: query.recheck,
    };
    let report =
        service::import_upload(&state.db, &upload.zip, "upload.zip", &options, Utc::now()).await?;
    // People, roles or links may have changed: this node forgets its copies at once.
    state.caches.clear();
    let status = match report.outcome {
        Outcome::Imported if report.id.is_some() => StatusCode::CREATED,
        Outcome::Imported | Outcome::DryRun => StatusCode::OK,
        Outcome::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        Outcome::Refused => StatusCode::CONFLICT,
    };
    Ok((status, Json(report.to_json(lang))).into_response())
}

/// An uploaded roster: the zip, the name the browser gave it, and the form's ticked boxes.
pub(super) struct Upload {
    pub zip: Bytes,
    pub file_name: Option<String>,
    /// Names of the other form fields sent with a value (checkboxes such as `dry_run`).
    pub ticked: BTreeSet<String>,
}

/// The zip: the whole body, or the `file` part of a multipart form (the admin page's form
/// also sends its checkboxes as parts). Empty when no file was sent.
pub(super) async fn read_upload(request: Request, state: &AppState) -> Result<Upload, AppError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let mut upload = Upload {
        zip: Bytes::new(),
        file_name: None,
        ticked: BTreeSet::new(),
    };
    if !is_multipart {
        upload.zip = Bytes::from_request(request, state)
            .await
            .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge))?;
        return Ok(upload);
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::new(ErrorCode::BadRequest))?;
    // 413 when the body limit cut a part off, 400 for a malformed form.
    let unreadable = |e: MultipartError| AppError::new(ErrorCode::from_status(e.status()));
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if name == "file" {
            upload.file_name = field.file_name().map(str::to_owned);
            upload.zip = field.bytes().await.map_err(unreadable)?;
        } else if name.len() <= 64 {
            // A checkbox: only whether it has a value matters, never buffer the rest.
            let first = field.chunk().await.map_err(unreadable)?;
            if first.is_some_and(|c| !c.is_empty()) {
                upload.ticked.insert(name);
            }
        }
    }
    Ok(upload)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entries per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

// Documentation only: mirrors `log::page`.
/// One page of the import log.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ImportLog {
    imports: Vec<ImportLogEntry>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: Option<String>,
}

/// One logged import.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ImportLogEntry {
    id: String,
    /// `cli`, `api`, `page` or `demo`.
    origin: String,
    /// The file name shown for the upload.
    source_name: String,
    format: Option<String>,
    outcome: Outcome,
    started_at: chrono::DateTime<Utc>,
    finished_at: chrono::DateTime<Utc>,
    /// The report as stored: Chinese messages, each diagnostic with `message_en` beside it;
    /// null if unreadable.
    report: Option<LoggedReport>,
}

// Mirrors `ImportReport::to_stored_json` with `log::stored_report`'s `id`.
/// An import report as the log keeps it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct LoggedReport {
    id: String,
    outcome: Outcome,
    format: Option<String>,
    counts: BTreeMap<String, Counts>,
    merges: Vec<Merge>,
    mass_retirements: Vec<MassRetirement>,
    warnings: Vec<LoggedDiagnostic>,
    errors: Vec<LoggedDiagnostic>,
}

/// A diagnostic as the log keeps it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct LoggedDiagnostic {
    file: String,
    line: Option<u64>,
    field: Option<String>,
    /// In Chinese.
    message: String,
    message_en: String,
}

/// 名册导入日志 / The roster import log
///
/// The import log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/roster/imports",
    tag = "roster",
    params(ListQuery),
    responses(
        (status = 200, description = "一页导入日志 / one page of the import log", body = ImportLog),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是区级或系统管理员（`forbidden`）/ not a district or system administrator (`forbidden`)", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    super::access::require_importer(&state.db, &caller.person).await?;
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let page = super::log::page(&state.db, query.cursor.as_deref(), limit).await?;
    Ok(Json(page))
}
