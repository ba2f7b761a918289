//! `/students/{sourcedId}/growth`: a pupil's growth record as a timeline, with the add form
//! for those who may write in it (the kinds, hand-ins and activities each may add), a remove
//! button on one's own entries, and the export link for the pupil, their family and school.
//! The handlers call the same service functions as the JSON API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Router};
use sea_orm::EntityTrait;
use serde::Deserialize;

use super::access;
use super::choices::{self, Choice};
use super::service::{self, Kind, NewEntry};
use crate::activities::pages::text::{Table, Words};
use crate::activities::pages::{Done, stylesheet};
use crate::activities::service::{given, local};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::growth::export::href_segment;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::roster::entity::person;
use crate::state::AppState;

const TEXT: Table = &[
    ("growth.title", "成长记录", "Growth record"),
    (
        "growth.heading",
        "{name} 的成长记录",
        "{name}'s growth record",
    ),
    (
        "growth.retired",
        "该学生已离开名册，记录完整保留。",
        "The pupil has left the roster; the record is kept in full.",
    ),
    (
        "growth.export",
        "导出成长记录（zip：网页和全部文件）",
        "Export the record (zip: a web page and every file)",
    ),
    ("growth.none", "还没有记录。", "Nothing recorded yet."),
    ("growth.by", "{name} · {at}", "{name} · {at}"),
    ("growth.remove", "移除", "Remove"),
    ("growth.add.heading", "添加记录", "Add an entry"),
    ("growth.field.kind", "类型", "Kind"),
    ("growth.kind.work", "作品", "Work"),
    ("growth.kind.comment", "评语", "Comment"),
    ("growth.kind.award", "奖项", "Award"),
    ("growth.kind.activity", "活动", "Activity"),
    ("growth.field.title", "标题", "Title"),
    (
        "growth.field.title_hint",
        "作品和活动可不填，默认使用作业或活动的名称。",
        "Work and activities take the assignment's or the activity's title when left empty.",
    ),
    (
        "growth.field.body",
        "内容（支持 Markdown）",
        "Text (Markdown)",
    ),
    (
        "growth.field.occurred_at",
        "日期（可选）",
        "Date (optional)",
    ),
    ("growth.field.submission", "作业（作品）", "Hand-in (work)"),
    ("growth.field.activity", "活动", "Activity"),
    ("growth.choose", "请选择", "Choose…"),
    ("growth.add.submit", "添加", "Add"),
    (
        "growth.done.added",
        "已添加到成长记录。",
        "Added to the record.",
    ),
    (
        "growth.done.removed",
        "已移除（原记录保留备查）。",
        "Removed (kept on file).",
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/students/{sourced_id}/growth", get(page).post(add))
        .route("/growth/{id}/remove", post(remove))
}

#[derive(Template)]
#[template(path = "growth/timeline.html")]
struct TimelinePage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    action: String,
    heading: String,
    retired: bool,
    export: Option<String>,
    entries: Vec<EntryRow>,
    kinds: Vec<(&'static str, &'a str)>,
    works: Vec<Choice>,
    activities: Vec<Choice>,
    form: Fields,
    message: Option<String>,
    good: bool,
}

struct EntryRow {
    id: String,
    kind: String,
    title: String,
    byline: String,
    body_html: String,
    files: Vec<(String, String)>,
    may_remove: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Fields {
    kind: String,
    title: String,
    body: String,
    occurred_at: String,
    submission: String,
    activity: String,
}

fn words<'a>(ctx: &PageContext, state: &'a AppState) -> Words<'a> {
    Words::new(ctx.tr(&state.i18n), TEXT)
}

fn kind_key(kind: &str) -> &'static str {
    match Kind::parse(kind) {
        Some(Kind::Work) => "growth.kind.work",
        Some(Kind::Comment) => "growth.kind.comment",
        Some(Kind::Award) => "growth.kind.award",
        _ => "growth.kind.activity",
    }
}

fn path_of(sourced_id: &str) -> String {
    format!("/students/{}/growth", href_segment(sourced_id))
}

async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = words(&ctx, &state);
    let key = match given(&done.done) {
        Some("added") => Some("growth.done.added"),
        Some("removed") => Some("growth.done.removed"),
        _ => None,
    };
    let outcome = key.map(|k| (w.say(k).to_owned(), StatusCode::OK));
    show(&state, &ctx, me, &sourced_id, Fields::default(), outcome).await
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    sourced_id: &str,
    form: Fields,
    outcome: Option<(String, StatusCode)>,
) -> Page {
    let st = access::visible(state, me, sourced_id).await?;
    let timeline = service::view(state, me, sourced_id).await?;
    let w = words(ctx, state);
    let kinds: Vec<(&'static str, &str)> = service::addable(&st)
        .into_iter()
        .map(|k| (k.as_str(), w.say(kind_key(k.as_str()))))
        .collect();
    let works = choices::work(state, me, &st).await?;
    let activities = choices::activities(state, me, &st).await?;
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let mut page = ctx.layout(&state.i18n, "growth.title");
    page.title = w.say("growth.title");
    let template = TimelinePage {
        page,
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        action: path_of(sourced_id),
        heading: w.format("growth.heading", &[("name", timeline.student.name.clone())]),
        retired: timeline.student.status != "active",
        export: timeline
            .may
            .export
            .then(|| format!("/api/v1{}/export", path_of(sourced_id))),
        entries: timeline
            .entries
            .into_iter()
            .map(|e| EntryRow {
                kind: w.say(kind_key(&e.kind)).to_owned(),
                byline: w.format(
                    "growth.by",
                    &[
                        ("name", e.author.name.clone()),
                        ("at", local(state, e.occurred_at)),
                    ],
                ),
                files: e.files.into_iter().map(|f| (f.url, f.name)).collect(),
                id: e.id,
                title: e.title,
                body_html: e.body_html,
                may_remove: e.may_remove,
            })
            .collect(),
        kinds,
        works,
        activities,
        form,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

async fn add(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &path_of(&sourced_id))?.person;
    let optional = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
    let input = NewEntry {
        kind: form.kind.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
        occurred_at: optional(&form.occurred_at),
        submission: optional(&form.submission),
        activity: optional(&form.activity),
    };
    match service::add(&state, me, &sourced_id, &input).await {
        Ok(_) => Ok(see_other(&format!("{}?done=added", path_of(&sourced_id)))),
        Err(err) => {
            let inline = [ErrorCode::InvalidField, ErrorCode::ActivityCancelled];
            let f = crate::http::page::flash(words(&ctx, &state).tr(), err, &inline)?;
            show(
                &state,
                &ctx,
                me,
                &sourced_id,
                form,
                Some((f.text, f.status)),
            )
            .await
        }
    }
}

async fn remove(State(state): State<AppState>, ctx: PageContext, Path(id): Path<String>) -> Page {
    let me = &signed_in(&ctx, "/")?.person;
    let e = service::remove(&state, me, &id).await?;
    let student = person::Entity::find_by_id(e.student_id)
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(see_other(&format!(
        "{}?done=removed",
        path_of(&student.sourced_id)
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_there_once_in_both_languages() {
        crate::i18n::check_table(super::TEXT, &["growth."], "growth");
    }
}
