//! The lesson pages (课程), server-rendered and phone-first: `/lessons` (a teacher's own
//! lessons and colleagues' published ones; for pupils and families the lessons of their
//! classes), `/lessons/new`, `/lessons/{id}` (the lesson with its attachments, the owner's
//! publish form and each class's questions), `/lessons/{id}/edit` and `/lessons/{id}/history`.
//!
//! Plain HTML forms that work without JavaScript; every POST carries the CSRF token as the
//! `csrf` field, except the upload form (`multipart/form-data`), whose action carries it as
//! `?csrf=`. The handlers call the same `service`, `publishing`, `attachments` and `questions`
//! functions as the JSON API; the rules live there.

mod actions;
mod detail;
mod list;
mod text;
mod write;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::error::{AppError, ErrorCode};
use crate::http::assets;
use crate::http::layout::{Layout, PageContext};
use crate::http::page::Flash;
use crate::state::AppState;

use text::Words;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lessons", get(list::page))
        .route("/lessons/new", get(write::new_page).post(write::create))
        .route("/lessons/{id}", get(detail::page))
        .route(
            "/lessons/{id}/edit",
            get(write::edit_page).post(write::save),
        )
        .route("/lessons/{id}/history", get(write::history))
        .route("/lessons/{id}/publish", post(actions::publish))
        .route("/lessons/{id}/unpublish", post(actions::unpublish))
        .route("/lessons/{id}/copy", post(actions::copy))
        .route("/lessons/{id}/questions", post(actions::ask))
        .route(
            "/lessons/{id}/questions/{qid}/answers",
            post(actions::answer),
        )
        .route(
            "/lessons/{id}/attachments/{aid}/remove",
            post(actions::remove),
        )
}

/// The attachment form's POST: an upload streams to disk with the resource size limit, so it
/// sits outside the default body limit (see `http::app`).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/lessons/{id}/attachments", post(actions::attach))
}

/// Failures the pages show inline; any other error is the error page (404, 403 …).
const INLINE: &[ErrorCode] = &[
    ErrorCode::InvalidField,
    ErrorCode::FileTypeRefused,
    ErrorCode::FileTooLarge,
    ErrorCode::TooManyAttachments,
    ErrorCode::Conflict,
    ErrorCode::BadRequest,
    ErrorCode::UnsupportedMediaType,
];

/// The flash for `err` when the page shows it inline, otherwise the error itself.
fn flash(w: Words<'_>, err: AppError) -> Result<Flash, AppError> {
    crate::http::page::flash(w.tr(), err, INLINE)
}

/// The layout of a lesson page, its title from [`Words`].
fn layout<'a>(ctx: &PageContext, state: &'a AppState, title_key: &'a str) -> Layout<'a> {
    let mut page = ctx.layout(&state.i18n, title_key);
    page.title = Words::new(page.tr).say(title_key);
    page
}

/// What every lesson page links besides the layout: its stylesheet and the tabs.
struct Frame {
    stylesheet: String,
    /// Which tab is this page (`list`, `new`, or none).
    current: &'static str,
    writes: bool,
}

impl Frame {
    fn new(writes: bool, current: &'static str) -> Frame {
        Frame {
            stylesheet: assets::url("lessons.css"),
            current,
            writes,
        }
    }
}

/// When something happened, on the school's clock.
fn when(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A form body's fields in order, repeated names kept (checkboxes).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The first value of `name` in a form body.
fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}
