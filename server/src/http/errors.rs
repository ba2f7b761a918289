//! Turning errors into responses a reader understands: JSON under `/api/`, a page elsewhere,
//! always in the request's language.

use std::any::Any;

use askama::Template;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{AppError, ErrorCode, ErrorInfo};
use crate::http::layout::{Layout, render};
use crate::i18n::Lang;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Layout<'a>,
    status: u16,
    code: &'static str,
    message: String,
}

/// Middleware: give every error response its body. Errors from our handlers carry
/// [`ErrorInfo`]; bare error statuses from layers and extractors (405, 408, 413 …) are mapped by
/// status, keeping their headers (`Allow`, `Retry-After`). Bodies that are already JSON or HTML
/// are left alone.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let lang = Lang::negotiate(request.headers());
    let is_api = request.uri().path().starts_with("/api/");
    let here = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None if has_own_body(&response) => return response,
        None => ErrorInfo {
            code: ErrorCode::from_status(status),
            args: Vec::new(),
        },
    };
    let tr = state.i18n.for_lang(lang);
    let key = info.code.message_key();
    let message = tr.format(&key, &info.args);
    let (mut parts, _) = response.into_parts();
    let rendered = if is_api {
        Json(json!({"error": {"code": info.code.as_str(), "message": message}})).into_response()
    } else {
        let page = ErrorPage {
            page: Layout::new(&state.i18n, lang, "error.title", &here),
            status: status.as_u16(),
            code: info.code.as_str(),
            message,
        };
        render(&page, lang)
    };
    let (rendered_parts, body) = rendered.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for name in [header::CONTENT_TYPE, header::CONTENT_LANGUAGE] {
        if let Some(value) = rendered_parts.headers.get(&name) {
            parts.headers.insert(name, value.clone());
        }
    }
    if !parts.headers.contains_key(header::CONTENT_LANGUAGE) {
        parts.headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
    }
    Response::from_parts(parts, body)
}

fn has_own_body(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"))
}

/// A handler panicked: log it and answer `internal`, never the panic text.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    AppError::internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}
