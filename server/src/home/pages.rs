//! Landing page and language switch handlers.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::{Catalogues, LANG_COOKIE, Lang};

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing<'a> {
    page: Layout<'a>,
    signed_in: bool,
}

pub async fn landing(State(i18n): State<Catalogues>, ctx: PageContext) -> Response {
    render(
        &Landing {
            page: ctx.layout(&i18n, "landing.title"),
            signed_in: ctx.viewer.is_some(),
        },
        ctx.lang,
    )
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// Remember the chosen language in a cookie for a year and go back where the person was.
pub async fn switch_language(
    Path(code): Path<String>,
    Query(query): Query<SwitchQuery>,
) -> Response {
    let Some(lang) = Lang::from_code(&code) else {
        return AppError::not_found().into_response();
    };
    let next = query
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Only paths on this site, so the switch cannot be used as an open redirect.
pub(crate) fn is_local_path(next: &str) -> bool {
    // Browsers drop tabs and newlines from URLs, so "/\t/evil.example" would become
    // "//evil.example": no control characters at all.
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn the_switch_only_returns_to_this_site() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/spaces?x=1"));
        assert!(!is_local_path("//evil.example"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example"));
        assert!(!is_local_path("/\t/evil.example"));
    }
}
