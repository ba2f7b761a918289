//! The sign-in pages: `/login`, `/activate` (first visit with a code), `/account`, `/logout`,
//! and the activation-code sheets head teachers and administrators print for their classes.
//!
//! Plain HTML forms that work without JavaScript; every POST carries the CSRF token as the
//! `csrf` field. The handlers call the same `auth::service` functions as the JSON API.

mod account;
mod codes;
mod sign_in;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::csrf;
use crate::error::{AppError, ErrorCode};
use crate::home::is_local_path;
use crate::i18n::Tr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(sign_in::login_page).post(sign_in::login))
        .route(
            "/activate",
            get(sign_in::activate_page).post(sign_in::activate),
        )
        .route("/logout", post(sign_in::logout))
        .route("/account", get(account::page))
        .route(
            "/account/sign-out-everywhere",
            post(account::sign_out_everywhere),
        )
        .route("/classes/codes", get(codes::classes))
        .route(
            "/classes/{sourced_id}/codes",
            get(codes::class_page).post(codes::issue),
        )
}

/// A 303 to `location` (always a local path we built or checked).
pub(crate) fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

/// Send someone who is not signed in to the sign-in page, coming back to `here` afterwards.
pub(crate) fn to_login(here: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    see_other(&format!("/login?next={next}"))
}

/// Where to go after signing in: `next` when it is a path on this site (other than the
/// sign-in pages, which would send a signed-in person in circles), else the home page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    next.map(str::trim)
        .filter(|n| is_local_path(n))
        .filter(|n| {
            let path = n.split(['?', '#']).next().unwrap_or_default();
            !matches!(path, "/login" | "/activate" | "/logout")
        })
        .map_or_else(|| "/".to_owned(), str::to_owned)
}

/// A 303 that also replaces the CSRF token, as at every sign-in (the session id changes too).
pub(crate) fn signed_in_redirect(state: &AppState, location: &str) -> Response {
    let mut response = see_other(location);
    csrf::rotate(&mut response, state.config.secure_cookies());
    response
}

/// A sign-in failure the form shows inline instead of the error page.
pub(crate) struct Inline {
    pub message: String,
    status: StatusCode,
    /// For `too_many_attempts`: seconds to wait, also sent as `Retry-After`.
    retry_after: Option<HeaderValue>,
}

impl Inline {
    /// The form page answered with this failure's status.
    pub fn respond(self, page: Response) -> Response {
        let mut response = (self.status, page).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

/// The failures a sign-in form shows itself (wrong credentials, too many attempts, a weak
/// password); any other error goes on to the error page.
pub(crate) fn inline_error(tr: Tr<'_>, err: AppError) -> Result<Inline, AppError> {
    match err.code() {
        ErrorCode::SignInFailed | ErrorCode::TooManyAttempts | ErrorCode::WeakPassword => {
            let retry_after = err
                .args()
                .iter()
                .find(|(name, _)| *name == "seconds")
                .and_then(|(_, seconds)| HeaderValue::from_str(seconds).ok());
            Ok(Inline {
                message: tr.format(&err.code().message_key(), err.args()),
                status: err.code().status(),
                retry_after,
            })
        }
        _ => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account")), "/account");
        assert_eq!(
            safe_next(Some("/classes/k1/codes?x=1")),
            "/classes/k1/codes?x=1"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\r\nSet-Cookie: x=1")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/login?next=/login")), "/", "no circles");
    }
}
