//! `/classes/{sourcedId}/assignments/new`: a teacher of the class (or an administrator of its
//! school) sets an assignment — title, instructions in Markdown, the due time on the school's
//! clock, the scale, whether late work is accepted, and optionally one of their lessons. The
//! assignment is made by `service::create`, exactly as through the API; a problem brings the
//! form back with the message and everything typed kept.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{NaiveDateTime, TimeZone};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;

use super::{Words, flash, layout, stylesheet};
use crate::assignments::access::ClassAccess;
use crate::assignments::service::{self, MAX_TITLE, NewAssignment};
use crate::auth::pages::see_other;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::lessons::entity::lesson;
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "assignments/new.html")]
struct NewPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    class: String,
    heading: String,
    form: Filled,
    lessons: Vec<(String, String, bool)>,
    due_hint: String,
    max_title: usize,
    error: Option<String>,
}

/// What the form shows filled in, and what it posts.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub(super) struct Filled {
    title: String,
    instructions: String,
    /// `YYYY-MM-DDTHH:MM` on the school's clock (a `datetime-local` input).
    due: String,
    /// `points`, `bands` or `comments`.
    scale: String,
    max_points: String,
    accept_late: Option<String>,
    lesson: String,
}

impl Default for Filled {
    fn default() -> Self {
        Filled {
            title: String::new(),
            instructions: String::new(),
            due: String::new(),
            scale: "points".to_owned(),
            max_points: "100".to_owned(),
            accept_late: None,
            lesson: String::new(),
        }
    }
}

impl Filled {
    /// The service's input: the due time read on the school's clock (left as typed when it is
    /// no time, so the service names the field).
    fn input(&self, state: &AppState, class: &str) -> NewAssignment {
        let due = NaiveDateTime::parse_from_str(self.due.trim(), "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(self.due.trim(), "%Y-%m-%dT%H:%M:%S"))
            .ok()
            .and_then(|t| state.config.time_zone.from_local_datetime(&t).earliest())
            .map_or_else(|| self.due.clone(), |t| t.to_rfc3339());
        let scale = match self.scale.as_str() {
            "points" => format!("points:{}", self.max_points.trim()),
            other => other.to_owned(),
        };
        NewAssignment {
            class: class.to_owned(),
            lesson: Some(self.lesson.clone()).filter(|l| !l.trim().is_empty()),
            title: self.title.clone(),
            instructions: self.instructions.clone(),
            due_at: due,
            scale,
            accept_late: self.accept_late.is_some(),
        }
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let access = service::class_to_set(&state, me, &sourced_id).await?;
    show(&state, &ctx, me, &access, Filled::default(), None).await
}

/// Set the assignment, then to its page (303); or the form again with the problem.
pub(super) async fn post(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
    Form(filled): Form<Filled>,
) -> Page {
    let here = format!("/classes/{sourced_id}/assignments/new");
    let me = &signed_in(&ctx, &here)?.person;
    let access = service::class_to_set(&state, me, &sourced_id).await?;
    match service::create(&state, me, filled.input(&state, &sourced_id)).await {
        Ok(a) => Ok(see_other(&format!("/assignments/{}?done=created", a.id))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, me, &access, filled, Some((f.text, f.status))).await
        }
    }
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    access: &ClassAccess,
    form: Filled,
    problem: Option<(String, StatusCode)>,
) -> Page {
    let w = Words::new(ctx.tr(&state.i18n));
    // The teacher's own lessons, newest first (a lesson published to the class by a colleague
    // can be named through the API).
    let lessons = lesson::Entity::find()
        .filter(lesson::Column::OwnerId.eq(me.id.as_str()))
        .order_by_desc(lesson::Column::UpdatedAt)
        .limit(100)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| {
            let chosen = l.id == form.lesson;
            (l.id, l.title, chosen)
        })
        .collect();
    let status = problem.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = NewPage {
        page: layout(ctx, state, "assignments.new.title"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        class: access.class.sourced_id.clone(),
        heading: w.format(
            "assignments.new.for",
            &[("class", access.class.title.clone())],
        ),
        lessons,
        due_hint: w.format(
            "assignments.field.due_hint",
            &[("zone", state.config.time_zone.name().to_owned())],
        ),
        max_title: MAX_TITLE,
        error: problem.map(|(text, _)| text),
        form,
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}
