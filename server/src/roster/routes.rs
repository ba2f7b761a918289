//! `POST /api/v1/roster/imports` (a platform pushes its roster) and
//! `GET /api/v1/roster/imports` (the import log), for district administrators.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::diagnostics::Diagnostics;
use super::service::{self, ImportOptions, Origin, Outcome, Quiet};
use super::source::Source;
use crate::auth::Principal;
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
    lang: Lang,
    Query(query): Query<ImportQuery>,
    request: Request,
) -> Result<Response, AppError> {
    super::access::require_importer(&state.db, &caller.person).await?;
    let bytes = zip_from(request, &state).await?;
    let mut diags = Diagnostics::default();
    let source = Source::from_zip(&bytes, "upload.zip", &mut diags);
    let options = ImportOptions {
        dry_run: query.dry_run,
        allow_mass_retire: query.allow_mass_retire,
        origin: Origin::Api,
        actor: Some(caller.person.id.clone()),
    };
    let report = service::import_source(
        &state.db,
        "upload.zip",
        source,
        diags,
        &options,
        &Quiet,
        chrono::Utc::now(),
    )
    .await?;
    let status = match report.outcome {
        Outcome::Imported if report.id.is_some() => StatusCode::CREATED,
        Outcome::Imported | Outcome::DryRun => StatusCode::OK,
        Outcome::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        Outcome::Refused => StatusCode::CONFLICT,
    };
    Ok((status, Json(report.to_json(lang))).into_response())
}

/// The zip: the whole body, or the `file` part of a multipart form.
async fn zip_from(request: Request, state: &AppState) -> Result<Bytes, AppError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let too_large = |_| AppError::new(ErrorCode::PayloadTooLarge);
    if !is_multipart {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(too_large)?;
        if bytes.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput).with_arg("field", "body"));
        }
        return Ok(bytes);
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::new(ErrorCode::BadRequest))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::new(ErrorCode::BadRequest))?
    {
        if field.name() == Some("file") {
            return field
                .bytes()
                .await
                .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge));
        }
    }
    Err(AppError::new(ErrorCode::InvalidInput).with_arg("field", "file"))
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
