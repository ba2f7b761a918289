//! Writing a lesson: `/lessons/new` (a draft), `/lessons/{id}/edit` (a new version) and
//! `/lessons/{id}/history` (every saved text). A problem — a missing title, script in the
//! Markdown — brings the form back with the message and everything typed kept.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Frame, Words, flash, layout, when};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::lessons::access::Viewer;
use crate::lessons::service::{self, LessonEdit, MAX_TITLE, NewLesson};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "lessons/write.html")]
struct WritePage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    csrf: String,
    heading: &'a str,
    action: String,
    submit: &'a str,
    after: &'a str,
    back: String,
    form: Fields,
    max_title: usize,
    error: Option<String>,
}

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    title: String,
    body: String,
}

pub(super) async fn new_page(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, "/lessons/new")?.person;
    if !Viewer::load(&state.db, me).await?.writes() {
        return Err(AppError::new(ErrorCode::Forbidden).into());
    }
    show(&state, &ctx, None, Fields::default(), None)
}

/// Save a draft, then to its page (303); or the form again with the problem.
pub(super) async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, "/lessons/new")?.person;
    let input = NewLesson {
        title: form.title.clone(),
        body: form.body.clone(),
    };
    match service::create(&state, me, input).await {
        Ok(l) => Ok(see_other(&format!("/lessons/{}?done=created", l.id))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, None, form, Some((f.text, f.status)))
        }
    }
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let viewer = Viewer::load(&state.db, me).await?;
    let l = service::open_own(&state, &viewer, &id).await?.lesson;
    let form = Fields {
        title: l.title,
        body: l.body,
    };
    show(&state, &ctx, Some(&id), form, None)
}

/// Save a new version, then back to the lesson (303); or the form again with the problem.
pub(super) async fn save(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}/edit"))?.person;
    let input = LessonEdit {
        title: Some(form.title.clone()),
        body: Some(form.body.clone()),
    };
    match service::edit(&state, me, &id, input).await {
        // The service found the lesson by this exact id: a stored UUID, safe in a Location.
        Ok(l) => Ok(see_other(&format!("/lessons/{}?done=saved", l.id))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, Some(&id), form, Some((f.text, f.status)))
        }
    }
}

fn show(
    state: &AppState,
    ctx: &PageContext,
    id: Option<&str>,
    form: Fields,
    problem: Option<(String, StatusCode)>,
) -> Page {
    let w = Words::new(ctx.tr(&state.i18n));
    let status = problem.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let (title_key, action, submit, after, back, current) = match id {
        None => (
            "lessons.new.title",
            "/lessons/new".to_owned(),
            "lessons.new.save",
            "lessons.new.after",
            "/lessons".to_owned(),
            "new",
        ),
        Some(id) => (
            "lessons.edit.title",
            format!("/lessons/{id}/edit"),
            "lessons.edit.save",
            "lessons.edit.after",
            format!("/lessons/{id}"),
            "",
        ),
    };
    let template = WritePage {
        page: layout(ctx, state, title_key),
        w,
        frame: Frame::new(true, current),
        csrf: ctx.csrf.clone(),
        heading: w.say(title_key),
        action,
        submit: w.say(submit),
        after: w.say(after),
        back,
        form,
        max_title: MAX_TITLE,
        error: problem.map(|(t, _)| t),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

#[derive(Template)]
#[template(path = "lessons/history.html")]
struct HistoryPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    id: String,
    title: String,
    versions: Vec<VersionRow>,
}

struct VersionRow {
    label: String,
    title: String,
    author: String,
    when: String,
    body: String,
}

pub(super) async fn history(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let (l, versions) = service::versions(&state, me, &id).await?;
    let writes = Viewer::load(&state.db, me).await?.writes();
    let template = HistoryPage {
        page: layout(&ctx, &state, "lessons.history.title"),
        w,
        frame: Frame::new(writes, ""),
        id: l.id,
        title: l.title,
        versions: versions
            .into_iter()
            .map(|v| VersionRow {
                label: w.format("lessons.detail.version", &[("n", v.number.to_string())]),
                when: when(&state, v.created_at),
                title: v.title,
                author: v.author,
                body: v.body,
            })
            .collect(),
    };
    Ok(render(&template, ctx.lang))
}
