//! The resource pages (教学资源), server-rendered: `/resources` (search), `/resources/{id}` (a
//! resource, with the lifecycle forms of its owner and reviewers), `/resources/mine`,
//! `/resources/review` (the review queue), `/resources/new` and `/resources/following`.
//!
//! Plain HTML forms that work without JavaScript; every POST carries the CSRF token as the
//! `csrf` field, except the upload form (`multipart/form-data`, which the CSRF layer does not
//! read), whose action carries it as `?csrf=`. `web/static/search.js` adds suggestions as one
//! types. The handlers call the same `service`, `lifecycle`, `usage` and `routes::run_search`
//! functions as the JSON API; the rules live there.

mod actions;
mod detail;
mod following;
mod lists;
mod new;
mod search;
mod text;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::error::{AppError, ErrorCode};
use crate::http::assets;
use crate::http::layout::{Layout, PageContext};
use crate::http::page::{Flash, Page, signed_in, with_status};
use crate::roster::entity::person;
use crate::state::AppState;

use text::Words;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/resources", get(search::page))
        .route("/resources/mine", get(lists::mine))
        .route("/resources/review", get(lists::queue))
        .route(
            "/resources/following",
            get(following::page).post(following::follow),
        )
        .route("/resources/following/remove", post(following::unfollow))
        .route("/resources/new", get(new::page))
        .route("/resources/{id}", get(detail::page))
        .route("/resources/{id}/submit", post(actions::submit))
        .route("/resources/{id}/withdraw", post(actions::withdraw))
        .route("/resources/{id}/review", post(actions::review))
        .route("/resources/{id}/retire", post(actions::retire))
}

/// The upload form's POST: its body streams to disk with the resource size limit, so it sits
/// outside the default body limit (see `http::app`).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/resources/new", post(new::post))
}

/// Failures the pages show inline; any other error is the error page (404, 403 …).
const INLINE: &[ErrorCode] = &[
    ErrorCode::InvalidField,
    ErrorCode::InvalidState,
    ErrorCode::PledgeRequired,
    ErrorCode::FileTypeRefused,
    ErrorCode::FileTooLarge,
    ErrorCode::UnknownPerson,
    ErrorCode::BadRequest,
];

/// The flash for `err` when the page shows it inline, otherwise the error itself.
fn flash(w: Words<'_>, err: AppError) -> Result<Flash, AppError> {
    crate::http::page::flash(w.tr(), err, INLINE)
}

/// The layout of a resource page: its title from [`Words`], and the pages' own stylesheet.
fn layout<'a>(ctx: &PageContext, state: &'a AppState, title_key: &'a str) -> Layout<'a> {
    let mut page = ctx.layout(&state.i18n, title_key);
    page.title = Words::new(page.tr).say(title_key);
    page
}

/// What every resource page links besides the layout: its stylesheet and the pages' tabs.
struct Frame {
    stylesheet: String,
    script: String,
    /// Which tab is this page (`search`, `mine`, `following`, `review`, `new`, or none).
    current: &'static str,
    author: bool,
    reviewer: bool,
}

impl Frame {
    async fn new(
        state: &AppState,
        me: &person::Model,
        current: &'static str,
    ) -> Result<Frame, AppError> {
        Ok(Frame {
            stylesheet: assets::url("resources.css"),
            script: assets::url("search.js"),
            current,
            author: super::access::may_author(&state.db, me).await?,
            reviewer: !super::access::review_orgs(&state.db, me).await?.is_empty(),
        })
    }
}

/// A form or query field that was filled in (trimmed).
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A value for a query string.
fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// When something happened, on the school's clock.
fn when(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// One option of a `<select>` (or one radio button).
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl Choice {
    fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Choice {
        let value = value.into();
        Choice {
            selected: value == current,
            label: label.into(),
            value,
        }
    }
}

/// Subjects, grades (with their stage) and types as options, `current` selected.
fn subject_choices(w: Words<'_>, current: &str) -> Vec<Choice> {
    super::SUBJECTS
        .iter()
        .map(|s| Choice::new(*s, w.term("subject", s), current))
        .collect()
}

fn grade_choices(w: Words<'_>, current: &str) -> Vec<Choice> {
    super::GRADES
        .iter()
        .map(|g| Choice::new(*g, format!("{g} {}", w.grade(g)), current))
        .collect()
}

fn kind_choices(w: Words<'_>, current: &str) -> Vec<Choice> {
    super::KINDS
        .iter()
        .map(|k| Choice::new(*k, w.term("type", k), current))
        .collect()
}

/// A sharing scope as people read it; a class by its title when it still exists.
async fn scope_label(state: &AppState, w: Words<'_>, scope: &str) -> Result<String, AppError> {
    Ok(match scope.strip_prefix("class:") {
        Some(sourced_id) => {
            let title = crate::people::relations::class_by_sourced_id(&state.db, sourced_id)
                .await?
                .map_or_else(|| sourced_id.to_owned(), |c| c.title);
            w.format("resources.scope.class", &[("class", title)])
        }
        None => w.term("scope", scope),
    })
}
