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
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
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
    let [value] = read_cookies(headers, [name]);
    value
}

/// Several cookies' values in one pass over the `Cookie` headers (the first of each name).
pub fn read_cookies<'a, const N: usize>(
    headers: &'a HeaderMap,
    names: [&str; N],
) -> [Option<&'a str>; N] {
    let mut found = [None; N];
    let pairs = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='));
    for (name, value) in pairs {
        if let Some(i) = names.iter().position(|n| *n == name)
            && found[i].is_none()
        {
            found[i] = Some(value.trim());
        }
    }
    found
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

/// What the check on the way in leaves for the way out.
pub struct Passed {
    unsafe_method: bool,
    /// The browser has no CSRF cookie yet: give it one with the answer.
    wants_cookie: bool,
    token: Option<String>,
}

/// The check on the way in, decided from the request's head.
pub enum Check {
    /// Go on; the page token is in the request's extensions.
    Pass(Passed),
    /// Refuse with this answer (`csrf_failed`).
    Refuse(Response),
    /// The token can only be in the url-encoded form body: read it (`read_form`), then decide.
    ReadForm(Pending),
}

/// A form post whose token is still in its body.
pub struct Pending {
    expected: String,
    passed: Passed,
}

/// The CSRF rule for one request (see the module's text). Called by `http::guard` for every
/// request, before the session is loaded.
pub fn check(state: &AppState, request: &mut Request) -> Check {
    let headers = request.headers();
    let [cookie_token, session] = read_cookies(headers, [COOKIE, sessions::COOKIE]);
    let cookie_token = cookie_token
        .filter(|t| t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let has_session = session.is_some();
    let bearer = is_bearer(headers);
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let path = request.uri().path();
    let wants_cookie =
        !bearer && cookie_token.is_none() && !path.starts_with("/static/") && path != "/healthz";

    if unsafe_method && !bearer {
        let foreign_origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| {
                origin != "null" && !same_origin(origin, headers, &state.config.base_url())
            });
        if foreign_origin {
            return Check::Refuse(rejected());
        }
        if cookie_token.is_none() && has_session {
            return Check::Refuse(rejected());
        }
        if let Some(expected) = &cookie_token {
            let presented = headers
                .get(HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| presented_in_query(request));
            let is_form = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            match presented {
                None if is_form => {
                    return Check::ReadForm(Pending {
                        expected: expected.clone(),
                        passed: Passed {
                            unsafe_method,
                            wants_cookie,
                            token: cookie_token,
                        },
                    });
                }
                Some(presented) if constant_time_eq(&presented, expected) => {}
                _ => return Check::Refuse(rejected()),
            }
        }
    }

    // Scripts with a bearer token never see a form: no token is drawn for them.
    let token = match cookie_token {
        Some(token) => Some(token),
        None if bearer => None,
        None => Some(generate()),
    };
    let passed = Passed {
        unsafe_method,
        wants_cookie,
        token,
    };
    passed.admit(request);
    Check::Pass(passed)
}

/// Read a form post's body for its `csrf` field, and give the request back with the body put
/// back, or the refusal.
pub async fn read_form(
    state: &AppState,
    request: Request,
    pending: Pending,
) -> Result<(Request, Passed), Response> {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.body_limit).await else {
        return Err(AppError::new(ErrorCode::PayloadTooLarge).into_response());
    };
    let presented = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    if !presented.is_some_and(|p| constant_time_eq(&p, &pending.expected)) {
        return Err(rejected());
    }
    let mut request = Request::from_parts(parts, Body::from(bytes));
    pending.passed.admit(&mut request);
    Ok((request, pending.passed))
}

impl Passed {
    fn admit(&self, request: &mut Request) {
        if let Some(token) = &self.token {
            request.extensions_mut().insert(CsrfToken(token.clone()));
        }
    }

    /// The way out: the browser's first CSRF cookie, and the end of this node's kept spaces
    /// after a request that changed something (spaces::cache).
    pub fn finish<B>(&self, state: &AppState, response: &mut axum::http::Response<B>) {
        let status = response.status();
        if self.unsafe_method && (status.is_success() || status.is_redirection()) {
            state.caches.wrote();
        }
        if !self.wants_cookie {
            return;
        }
        let already_set = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(COOKIE.as_bytes()));
        if !already_set
            && let Some(token) = &self.token
            && let Some(value) = cookie(token, state.config.secure_cookies())
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
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
        assert_eq!(
            read_cookies(&headers, ["kj_session", "missing", COOKIE]),
            [Some("xyz"), None, Some("abc")]
        );
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
