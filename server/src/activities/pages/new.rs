//! `/classes/{sourcedId}/activities/new` and `/schools/{sourcedId}/activities/new`: the
//! organiser's form. A class's teachers and its school's administrators organise for a class;
//! a school's administrators for the whole school. Others see the error page: 403 for the
//! class's (or school's) own people, 404 for anyone else.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Words, flash, layout, stylesheet, words};
use crate::activities::access;
use crate::activities::create::{self as organise, Count, NewActivity};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::people::relations;
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "activities/new.html")]
struct NewPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    action: String,
    /// "面向：三年级1班".
    target: String,
    form: Fields,
    asks: Vec<(&'static str, &'a str)>,
    error: Option<String>,
}

/// The form's fields, kept when it comes back with a problem.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    title: String,
    description: String,
    place: String,
    starts_at: String,
    ends_at: String,
    ask: String,
    question: String,
    capacity: String,
    deadline: String,
}

/// Where the activity goes: the class or school, its name, and the form's action.
enum Target {
    Class(String),
    School(String),
}

impl Target {
    fn action(&self) -> String {
        match self {
            Target::Class(sid) => format!("/classes/{}/activities/new", href(sid)),
            Target::School(sid) => format!("/schools/{}/activities/new", href(sid)),
        }
    }
}

fn href(value: &str) -> String {
    crate::growth::export::href_segment(value)
}

/// The target's name, if the caller may organise there.
async fn check(state: &AppState, me: &person::Model, target: &Target) -> Result<String, AppError> {
    match target {
        Target::Class(sid) => {
            let c = relations::class_by_sourced_id(&state.db, sid)
                .await?
                .ok_or_else(AppError::not_found)?;
            if relations::teaches(&state.db, me, &c.id).await?
                || relations::administers_org(&state.db, me, &c.school_id).await?
            {
                return Ok(c.title);
            }
            Err(if access::class_member(&state.db, me, &c).await? {
                AppError::new(ErrorCode::Forbidden)
            } else {
                AppError::not_found()
            })
        }
        Target::School(sid) => {
            let org = access::school_by_sourced_id(&state.db, sid)
                .await?
                .ok_or_else(AppError::not_found)?;
            if relations::administers_org(&state.db, me, &org.id).await? {
                return Ok(org.name);
            }
            Err(if access::school_member(&state.db, me, &org.id).await? {
                AppError::new(ErrorCode::Forbidden)
            } else {
                AppError::not_found()
            })
        }
    }
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    target: Target,
    form: Fields,
    error: Option<(String, StatusCode)>,
) -> Page {
    let name = check(state, me, &target).await?;
    let w = words(ctx, state);
    let status = error.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = NewPage {
        page: layout(ctx, state, "activities.new.title"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        action: target.action(),
        target: w.format("activities.new.for", &[("name", name)]),
        form,
        asks: vec![
            ("none", w.say("activities.field.ask_none")),
            ("permission", w.say("activities.field.ask_permission")),
            ("signup", w.say("activities.field.ask_signup")),
        ],
        error: error.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

async fn create(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    target: Target,
    form: Fields,
) -> Page {
    // Only those who may organise here get as far as the service (which decides again).
    check(state, me, &target).await?;
    let optional = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
    let (class, school) = match &target {
        Target::Class(sid) => (Some(sid.clone()), None),
        Target::School(sid) => (None, Some(sid.clone())),
    };
    let input = NewActivity {
        class,
        school,
        title: form.title.clone(),
        description: form.description.clone(),
        place: form.place.clone(),
        starts_at: form.starts_at.clone(),
        ends_at: optional(&form.ends_at),
        capacity: optional(&form.capacity).map(Count::Text),
        ask: form.ask.clone(),
        question: form.question.clone(),
        deadline: optional(&form.deadline),
    };
    match organise::create(state, me, input).await {
        Ok(a) => Ok(see_other(&format!("/activities/{}", a.id))),
        Err(err) => {
            let f = flash(words(ctx, state), err)?;
            show(state, ctx, me, target, form, Some((f.text, f.status))).await
        }
    }
}

pub(super) async fn class_form(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sid): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let form = Fields {
        ask: "permission".to_owned(),
        ..Fields::default()
    };
    show(&state, &ctx, me, Target::Class(sid), form, None).await
}

pub(super) async fn class_post(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sid): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/classes/{}/activities/new", href(&sid)))?.person;
    create(&state, &ctx, me, Target::Class(sid), form).await
}

pub(super) async fn school_form(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sid): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let form = Fields {
        ask: "signup".to_owned(),
        ..Fields::default()
    };
    show(&state, &ctx, me, Target::School(sid), form, None).await
}

pub(super) async fn school_post(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sid): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/schools/{}/activities/new", href(&sid)))?.person;
    create(&state, &ctx, me, Target::School(sid), form).await
}
