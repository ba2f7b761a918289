//! Turning errors into responses a reader understands: JSON under `/api/`, a page elsewhere,
//! always in the request's language.

use std::any::Any;

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::Either;
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

/// What giving an error its body needs of the request, taken before the request goes on: the
/// headers that choose the language (read only when there is an error), the path, and the id.
pub struct Asked {
    /// `Cookie` (for `kj_lang`) and `Accept-Language`.
    language: [Option<HeaderValue>; 2],
    uri: Uri,
    request_id: Option<HeaderValue>,
}

impl Asked {
    pub fn of<B>(request: &Request<B>) -> Self {
        let headers = request.headers();
        Asked {
            language: [
                headers.get(header::COOKIE).cloned(),
                headers.get(header::ACCEPT_LANGUAGE).cloned(),
            ],
            uri: request.uri().clone(),
            request_id: headers.get(crate::http::headers::REQUEST_ID).cloned(),
        }
    }

    fn lang(&self) -> Lang {
        let mut headers = HeaderMap::new();
        for (name, value) in [header::COOKIE, header::ACCEPT_LANGUAGE]
            .into_iter()
            .zip(&self.language)
        {
            if let Some(value) = value {
                headers.insert(name, value.clone());
            }
        }
        Lang::negotiate(&headers)
    }
}

/// A failure's cause, carried from `AppError` to the layer that logs it with the request's id.
#[derive(Clone)]
pub struct Failure(pub String);

/// Give every error response its body (called by `http::guard` on the way out). Errors from our
/// handlers carry [`ErrorInfo`]; bare error statuses from layers and extractors (405, 408, 413
/// …) are mapped by status, keeping their headers (`Allow`, `Retry-After`). Bodies that are
/// already JSON or HTML are left alone.
pub fn render_errors<B>(
    state: &AppState,
    asked: &Asked,
    response: http::Response<B>,
) -> http::Response<Either<B, Body>> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response.map(Either::Left);
    }
    if let Some(Failure(cause)) = response.extensions().get::<Failure>() {
        let request_id = asked.request_id.as_ref().and_then(|v| v.to_str().ok());
        let code = response
            .extensions()
            .get::<ErrorInfo>()
            .map(|i| i.code.as_str());
        tracing::error!(request_id, code, path = asked.uri.path(), error = %cause, "request failed");
    }
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None if has_own_body(&response) => return response.map(Either::Left),
        None => ErrorInfo {
            code: ErrorCode::from_status(status),
            args: Vec::new(),
        },
    };
    let lang = asked.lang();
    let tr = state.i18n.for_lang(lang);
    let key = info.code.message_key();
    let message = tr.format(&key, &info.args);
    let (mut parts, _) = response.into_parts();
    let rendered = if asked.uri.path().starts_with("/api/") {
        Json(json!({"error": {"code": info.code.as_str(), "message": message}})).into_response()
    } else {
        let here = asked.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let page = ErrorPage {
            page: Layout::new(&state.i18n, lang, "error.title", here),
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
    http::Response::from_parts(parts, Either::Right(body))
}

/// A bare error status from a layer, with an empty body: [`render_errors`] gives it its body
/// on the way out.
pub fn bare<B: Default>(status: http::StatusCode) -> http::Response<B> {
    let mut response = http::Response::new(B::default());
    *response.status_mut() = status;
    response
}

fn has_own_body<B>(response: &http::Response<B>) -> bool {
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
