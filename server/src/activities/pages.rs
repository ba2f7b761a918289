//! The activity and announcement pages, server-rendered and phone-first: `/activities/{id}`
//! (the activity; each family's yes/no form per child until the deadline; the organisers'
//! answers with the CSV link and the cancel form), `/classes/{sourcedId}/activities/new` and
//! `/schools/{sourcedId}/activities/new` (the organiser's form), and
//! `/schools/{sourcedId}/announcements` (the school's announcements, with the administrators'
//! form and withdraw buttons).
//!
//! Plain HTML forms with the CSRF token as the `csrf` field. The handlers call the same
//! service functions as the JSON API; the rules live there.

mod announce;
mod detail;
mod new;
pub(crate) mod text;

use axum::Router;
use axum::routing::{get, post};

use crate::error::{AppError, ErrorCode};
use crate::http::assets;
use crate::http::layout::{Layout, PageContext};
use crate::http::page::Flash;
use crate::state::AppState;

use text::Words;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activities/{id}", get(detail::page))
        .route("/activities/{id}/answers", post(detail::answer))
        .route("/activities/{id}/cancel", post(detail::cancel))
        .route(
            "/classes/{sourced_id}/activities/new",
            get(new::class_form).post(new::class_post),
        )
        .route(
            "/schools/{school}/activities/new",
            get(new::school_form).post(new::school_post),
        )
        .route(
            "/schools/{school}/announcements",
            get(announce::page).post(announce::post),
        )
        .route("/announcements/{id}/withdraw", post(announce::withdraw))
}

/// Failures the pages show above the form; any other error is the error page (404, 403 …).
const INLINE: &[ErrorCode] = &[
    ErrorCode::InvalidField,
    ErrorCode::AnswersClosed,
    ErrorCode::ActivityFull,
    ErrorCode::ActivityCancelled,
    ErrorCode::BadRequest,
];

fn words<'a>(ctx: &PageContext, state: &'a AppState) -> Words<'a> {
    Words::new(ctx.tr(&state.i18n), text::TEXT)
}

fn flash(w: Words<'_>, err: AppError) -> Result<Flash, AppError> {
    crate::http::page::flash(w.tr(), err, INLINE)
}

/// The layout with the page's title from [`Words`].
fn layout<'a>(ctx: &PageContext, state: &'a AppState, title_key: &'a str) -> Layout<'a> {
    let mut page = ctx.layout(&state.i18n, title_key);
    page.title = words(ctx, state).say(title_key);
    page
}

/// The pages' own stylesheet (shared with the growth pages).
pub(crate) fn stylesheet() -> String {
    assets::url("activities.css")
}

/// A query string's `done`, as the message above the page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Done {
    pub done: Option<String>,
}
