//! `POST /api/v1/roster/imports` (a platform pushes its roster) and
//! `GET /api/v1/roster/imports` (the import log), for district administrators.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use super::service::{self, ImportOptions, Origin, Outcome};
use crate::auth::Principal;
use crate::auth::client::ClientInfo;
use crate::error::{AppError, ErrorCode};
use crate::i18n::Lang;
use crate::state::AppState;

/// Rosters are large: a county's zip is tens of megabytes.
pub const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

/// Routes with their own (larger) body limit; merged beside the API by `http::app`.
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/roster/imports", post(create).get(list))
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    allow_mass_retire: bool,
}

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

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<u64>,
}

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
