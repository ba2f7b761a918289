//! The growth record's JSON API under `/api/v1`: extract, call the service, answer. Every
//! handler is in the OpenAPI document through [`Api`].

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::export;
use super::service::{self, NewEntry, Timeline};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::json::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/students/{sourced_id}/growth",
            get(timeline).post(add),
        )
        .route(
            "/api/v1/students/{sourced_id}/growth/export",
            get(export_archive),
        )
        .route("/api/v1/growth/{id}/remove", post(remove))
        .route("/api/v1/growth/{id}/files/{file}", get(file))
}

/// The growth record's paths of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(timeline, add, export_archive, remove, file))]
pub struct Api;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = growth::Created)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    pub id: String,
    pub removed_at: Option<DateTime<Utc>>,
}

fn attachment(name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename*=UTF-8''{encoded}")
}

#[utoipa::path(get, path = "/api/v1/students/{sourced_id}/growth", tag = "growth",
    params(("sourced_id" = String, Path, description = "The pupil's sourcedId")),
    responses(
        (status = 200, description = "Newest first", body = Timeline),
        (status = 404, description = "No such pupil, or not the caller's to see"),
    ))]
async fn timeline(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<Timeline>, AppError> {
    Ok(Json(
        service::view(&state, &caller.person, &sourced_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/students/{sourced_id}/growth", tag = "growth",
    params(("sourced_id" = String, Path, description = "The pupil's sourcedId")),
    request_body = NewEntry,
    responses(
        (status = 201, body = Created),
        (status = 403, description = "The caller may read the record but not add this (parents read only)"),
        (status = 404, description = "No such pupil, or not the caller's to see"),
        (status = 409, description = "The activity was cancelled"),
        (status = 422, description = "A field is missing or wrong (the error names it)"),
    ))]
async fn add(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
    JsonBody(input): JsonBody<NewEntry>,
) -> Result<Response, AppError> {
    let e = service::add(&state, &caller.person, &sourced_id, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id: e.id })).into_response())
}

#[utoipa::path(get, path = "/api/v1/students/{sourced_id}/growth/export", tag = "growth",
    params(("sourced_id" = String, Path, description = "The pupil's sourcedId")),
    responses(
        (status = 200, description = "A zip: index.html, files/<entry>/<name>, record.json", content_type = "application/zip", body = Vec<u8>),
        (status = 403, description = "Teachers read the record but do not export it"),
        (status = 404, description = "No such pupil, or not the caller's to see"),
    ))]
async fn export_archive(
    State(state): State<AppState>,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Response, AppError> {
    let (name, len, body) = export::export(&state, &caller.person, &sourced_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, attachment(&name)),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/growth/{id}/remove", tag = "growth",
    params(("id" = String, Path, description = "The entry")),
    responses(
        (status = 200, body = Removed),
        (status = 403, description = "Only its author removes an entry"),
        (status = 404, description = "No such entry, or not the caller's to see"),
    ))]
async fn remove(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<Removed>, AppError> {
    let e = service::remove(&state, &caller.person, &id).await?;
    Ok(Json(Removed {
        id: e.id,
        removed_at: e.removed_at,
    }))
}

#[utoipa::path(get, path = "/api/v1/growth/{id}/files/{file}", tag = "growth",
    params(
        ("id" = String, Path, description = "The entry"),
        ("file" = String, Path, description = "The file"),
    ),
    responses(
        (status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such file, or not the caller's to see"),
    ))]
async fn file(
    State(state): State<AppState>,
    caller: Principal,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (f, got) = service::file(&state, &caller.person, &id, &file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, f.content_type.clone()),
            (header::CONTENT_LENGTH, got.meta.size.to_string()),
            (header::CONTENT_DISPOSITION, attachment(&f.file_name)),
        ],
        Body::from_stream(got.into_stream()),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[test]
    fn the_document_lists_every_route() {
        let doc = super::Api::openapi();
        for path in [
            "/api/v1/students/{sourced_id}/growth",
            "/api/v1/students/{sourced_id}/growth/export",
            "/api/v1/growth/{id}/remove",
            "/api/v1/growth/{id}/files/{file}",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
        let get_post = &doc.paths.paths["/api/v1/students/{sourced_id}/growth"];
        assert!(get_post.get.is_some() && get_post.post.is_some());
        let schemas = doc.components.map(|c| c.schemas).unwrap_or_default();
        for name in ["Timeline", "EntryView", "NewEntry"] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
