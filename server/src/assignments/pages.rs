//! The assignment pages (作业), server-rendered and phone-first: `/assignments/{id}` (a pupil's
//! instructions, status, hand-in form and feedback; a parent's read-only view of their child's;
//! the class's progress for its teachers), `/submissions/{id}` (a hand-in, and the teacher's
//! marking form), `/classes/{sourcedId}/assignments` and `/classes/{sourcedId}/assignments/new`.
//!
//! Plain HTML forms: the marking and setting forms carry the CSRF token as the `csrf` field;
//! the hand-in form is `multipart/form-data` (files), so its action carries it as `?csrf=`. The
//! handlers call the same `service` and `submissions` functions as the JSON API.

mod detail;
mod list;
mod new;
mod submission;
mod text;

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
        .route("/assignments/{id}", get(detail::page))
        .route("/submissions/{id}", get(submission::page))
        .route("/submissions/{id}/feedback", post(submission::mark))
        .route("/classes/{sourced_id}/assignments", get(list::page))
        .route(
            "/classes/{sourced_id}/assignments/new",
            get(new::page).post(new::post),
        )
}

/// The hand-in form's POST: its files stream to disk with the hand-in limits, so it sits
/// outside the default body limit (see `http::app`).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/assignments/{id}/hand-in", post(detail::hand_in))
}

/// Failures the pages show above the form; any other error is the error page (404, 403 …).
const INLINE: &[ErrorCode] = &[
    ErrorCode::InvalidField,
    ErrorCode::FileTypeRefused,
    ErrorCode::SubmissionFileTooLarge,
    ErrorCode::SubmissionTooLarge,
    ErrorCode::TooManyAttachments,
    ErrorCode::LateRefused,
    ErrorCode::ResubmitClosed,
    ErrorCode::Conflict,
    ErrorCode::BadRequest,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::PayloadTooLarge,
];

fn flash(w: Words<'_>, err: AppError) -> Result<Flash, AppError> {
    crate::http::page::flash(w.tr(), err, INLINE)
}

/// The layout of an assignment page, titled from [`Words`].
fn layout<'a>(ctx: &PageContext, state: &'a AppState, title_key: &'a str) -> Layout<'a> {
    let mut page = ctx.layout(&state.i18n, title_key);
    page.title = Words::new(page.tr).say(title_key);
    page
}

fn stylesheet() -> String {
    assets::url("assignments.css")
}

/// When something happens, on the schools' clock.
fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A score as the page shows it (points, a band, or nothing).
fn score_text(score: &serde_json::Value) -> String {
    match score {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A byte count for people: "1.2 MB", "34 KB".
fn size_label(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}
