//! Protection against cross-site request forgery for everything done with a cookie.
//!
//! Double-submit token: every browser gets a random `kj_csrf` cookie (HttpOnly, SameSite=Lax);
//! pages put the same value in their forms (`csrf` field) and in `<meta name="csrf-token">` for
//! scripts, which send it as `X-CSRF-Token`. A state-changing request (POST, PUT, PATCH,
//! DELETE) that carries our cookies must present the token, by header, form field or `csrf`
//! query parameter (multipart forms); a request whose `Origin` is another site is refused
//! outright. Requests with a bearer token, or with no cookies at all (scripts calling
//! `/api/v1/auth/login`), carry no ambient authority and need no token. The token is rotated at
//! sign-in, together with the session id.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::sessions;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub const COOKIE: &str = "kj_csrf";
pub const HEADER: &str = "x-csrf-token";
pub const FIELD: &str = "csrf";

/// This request's CSRF token, for pages to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub fn generate() -> String {
    let bytes: [u8; 24] = rand::random();
    hex::encode(bytes)
}

/// The `Set-Cookie` value for a token.
pub fn cookie(token: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// Set `token` as the browser's CSRF cookie on `response`.
pub fn set_cookie(response: &mut Response, token: &str, secure: bool) {
    if let Some(value) = cookie(token, secure) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Give `response` a fresh token (at every sign-in, with the new session id).
pub fn rotate(response: &mut Response, secure: bool) {
    set_cookie(response, &generate(), secure);
}

/// A cookie's value from the request's `Cookie` headers.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Compare secrets without letting the time taken tell how much of them matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn is_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// Whether `origin` is this site: the public URL's origin or the request's own host.
fn same_origin(origin: &str, headers: &HeaderMap, base_url: &str) -> bool {
    if origin == base_url {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

fn rejected() -> Response {
    AppError::new(ErrorCode::CsrfFailed).into_response()
}

fn presented_in_query(request: &Request) -> Option<String> {
    request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v.into_owned())
    })
}

pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let cookie_token = read_cookie(headers, COOKIE)
        .filter(|t| t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let has_session = read_cookie(headers, sessions::COOKIE).is_some();
    let bearer = is_bearer(headers);
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let path = request.uri().path();
    let wants_cookie =
        !bearer && cookie_token.is_none() && !path.starts_with("/static/") && path != "/healthz";

    let foreign_origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| {
            origin != "null" && !same_origin(origin, headers, &state.config.base_url())
        });

    let mut request = request;
    if unsafe_method && !bearer {
        if foreign_origin {
            return rejected();
        }
        if cookie_token.is_some() || has_session {
            let Some(expected) = cookie_token.as_deref() else {
                return rejected();
            };
            let mut presented = request
                .headers()
                .get(HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| presented_in_query(&request));
            let is_form = request
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if presented.is_none() && is_form {
                let (parts, body) = request.into_parts();
                let Ok(bytes) = axum::body::to_bytes(body, state.config.body_limit).await else {
                    return AppError::new(ErrorCode::PayloadTooLarge).into_response();
                };
                presented = url::form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == FIELD)
                    .map(|(_, v)| v.into_owned());
                request = Request::from_parts(parts, Body::from(bytes));
            }
            if !presented.is_some_and(|p| constant_time_eq(&p, expected)) {
                return rejected();
            }
        }
    }

    // Scripts with a bearer token never see a form: no token is drawn for them.
    let token = match cookie_token {
        Some(token) => Some(token),
        None if bearer => None,
        None => Some(generate()),
    };
    if let Some(token) = &token {
        request.extensions_mut().insert(CsrfToken(token.clone()));
    }
    let mut response = next.run(request).await;
    // A request that changed something ends every cached space on this node (spaces::cache).
    if unsafe_method && (response.status().is_success() || response.status().is_redirection()) {
        state.caches.wrote();
    }
    let already_set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(COOKIE.as_bytes()));
    if wants_cookie
        && !already_set
        && let Some(token) = &token
    {
        set_cookie(&mut response, token, state.config.secure_cookies());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("kj_lang=en; kj_csrf=abc; kj_session=xyz"),
        );
        assert_eq!(read_cookie(&headers, COOKIE), Some("abc"));
        assert_eq!(read_cookie(&headers, "kj_session"), Some("xyz"));
        assert_eq!(read_cookie(&headers, "missing"), None);
    }

    #[test]
    fn origins_match_the_public_url_or_the_host() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(
            "http://127.0.0.1:8080",
            &headers,
            "https://kj.example.cn"
        ));
        assert!(same_origin(
            "https://kj.example.cn",
            &headers,
            "https://kj.example.cn"
        ));
        assert!(!same_origin(
            "https://evil.example",
            &headers,
            "https://kj.example.cn"
        ));
    }
}
