//! Static files (CSS, ES modules, icons), embedded in the binary so it runs from any directory.
//!
//! Pages link to `/static/NAME?v=HASH`; a request whose `v` matches the content hash is cached
//! for a year as immutable, any other for five minutes, and every response carries an `ETag`
//! so a revalidation costs a 304.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use serde::Deserialize;

use crate::error::AppError;

#[derive(Embed)]
#[folder = "../web/static"]
struct Static;

/// The versioned URL of a static file, for templates.
pub fn url(name: &str) -> String {
    match Static::get(name) {
        Some(file) => format!("/static/{name}?v={}", version(&file.metadata.sha256_hash())),
        None => format!("/static/{name}"),
    }
}

fn version(hash: &[u8; 32]) -> String {
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[derive(Deserialize)]
pub struct AssetQuery {
    v: Option<String>,
}

pub async fn serve(
    Path(path): Path<String>,
    Query(query): Query<AssetQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(file) = Static::get(&path) else {
        return AppError::not_found().into_response();
    };
    let version = version(&file.metadata.sha256_hash());
    let etag = format!("\"{version}\"");
    let cache_control = if query.v.as_deref() == Some(version.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.metadata.mimetype().to_owned())],
            file.data.into_owned(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}
