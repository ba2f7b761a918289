//! `/activities/{id}`: an activity for its people. A family answers yes or no for each of
//! their children until the deadline; the organisers see every answer, who is still to answer,
//! the counts and the CSV link, and may cancel it with a reason.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Done, Words, flash, layout, stylesheet, words};
use crate::activities::answers::{self, AnswerInput};
use crate::activities::service::{self, Detail};
use crate::auth::pages::see_other;
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "activities/detail.html")]
struct DetailPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    id: String,
    title: String,
    /// "三年级1班 · 第一小学", or "全校活动 · 第一小学".
    whose: String,
    when: String,
    place: String,
    organiser: String,
    description_html: String,
    ask: Option<AskView>,
    /// Why answers are not taken (closed, full), or the cancellation.
    notice: Option<String>,
    children: Vec<ChildView>,
    may_answer: bool,
    manage: Option<Manage>,
    may_cancel: bool,
    reason: String,
    message: Option<String>,
    good: bool,
}

struct AskView {
    label: String,
    question: String,
    deadline: String,
    capacity: Option<i32>,
    yes: String,
    no: String,
}

struct ChildView {
    sourced_id: String,
    name: String,
    /// The answer as it stands, in words.
    current: String,
    answer: String,
    note: String,
    by: Option<String>,
}

struct Manage {
    counts: String,
    csv: String,
    rows: Vec<[String; 7]>,
    waiting: Vec<[String; 3]>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AnswerFields {
    student: String,
    answer: String,
    note: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CancelFields {
    reason: String,
}

/// An answer in words: 同意 / 不同意 for a permission slip, 参加 / 不参加 for a sign-up.
fn answer_label(w: Words<'_>, ask: &str, answer: Option<&str>) -> String {
    let key = match (ask, answer) {
        ("permission", Some("yes")) => "activities.answer.yes.permission",
        ("permission", Some("no")) => "activities.answer.no.permission",
        ("signup", Some("yes")) => "activities.answer.yes.signup",
        ("signup", Some("no")) => "activities.answer.no.signup",
        _ => "activities.answer.none",
    };
    w.say(key).to_owned()
}

fn span(state: &AppState, starts: DateTime<Utc>, ends: Option<DateTime<Utc>>) -> String {
    let start = service::local(state, starts);
    match ends.map(|e| service::local(state, e)) {
        Some(end) if end[..10] == start[..10] => format!("{start} – {}", &end[11..]),
        Some(end) => format!("{start} – {end}"),
        None => start,
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = words(&ctx, &state);
    let key = match service::given(&done.done) {
        Some("answered") => Some("activities.done.answered"),
        Some("cancelled") => Some("activities.done.cancelled"),
        _ => None,
    };
    let outcome = key.map(|k| (w.say(k).to_owned(), StatusCode::OK));
    show(&state, &ctx, me, &id, outcome, String::new()).await
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
    reason: String,
) -> Page {
    let d: Detail = service::detail(state, me, id).await?;
    let w = words(ctx, state);
    let s = &d.summary;
    let ask = (s.ask != "none").then(|| AskView {
        label: w
            .say(if s.ask == "signup" {
                "activities.ask.signup"
            } else {
                "activities.ask.permission"
            })
            .to_owned(),
        question: s.question.clone(),
        deadline: service::local(state, s.answers_close_at),
        capacity: s.capacity,
        yes: answer_label(w, &s.ask, Some("yes")),
        no: answer_label(w, &s.ask, Some("no")),
    });
    let notice = match (&s.cancelled_at, d.open, d.full) {
        (Some(at), _, _) => Some(w.format(
            "activities.cancelled",
            &[
                ("at", service::local(state, *at)),
                ("reason", s.cancel_reason.clone().unwrap_or_default()),
            ],
        )),
        (None, false, _) if s.ask != "none" => Some(w.say("activities.closed").to_owned()),
        (None, true, true) => Some(w.say("activities.full").to_owned()),
        _ => None,
    };
    let children = d
        .my_answers
        .iter()
        .map(|a| ChildView {
            sourced_id: a.student.sourced_id.clone(),
            name: a.student.name.clone(),
            current: answer_label(w, &s.ask, a.answer.as_deref()),
            answer: a.answer.clone().unwrap_or_default(),
            note: a.note.clone(),
            by: a.answered_by.as_ref().zip(a.answered_at).map(|(by, at)| {
                w.format(
                    "activities.answer.by",
                    &[("name", by.name.clone()), ("at", service::local(state, at))],
                )
            }),
        })
        .collect();
    let manage = if d.may.manage {
        Some(manage(state, w, me, id, &s.ask).await?)
    } else {
        None
    };
    let whose = match &s.class {
        Some(c) => format!("{} · {}", c.title, s.school.name),
        None => format!("{} · {}", w.say("activities.whole_school"), s.school.name),
    };
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, st)| *st);
    let template = DetailPage {
        page: layout(ctx, state, "activities.detail.title"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        id: id.to_owned(),
        title: s.title.clone(),
        whose,
        when: span(state, s.starts_at, s.ends_at),
        place: s.place.clone(),
        organiser: s.organiser.name.clone(),
        description_html: d.description_html.clone(),
        ask,
        notice,
        children,
        may_answer: d.may.answer,
        manage,
        may_cancel: d.may.cancel,
        reason,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

async fn manage(
    state: &AppState,
    w: Words<'_>,
    me: &person::Model,
    id: &str,
    ask: &str,
) -> Result<Manage, AppError> {
    let list = answers::list(state, me, id).await?;
    let c = &list.counts;
    Ok(Manage {
        counts: w.format(
            "activities.manage.counts",
            &[
                ("yes", c.yes.to_string()),
                ("no", c.no.to_string()),
                ("unanswered", c.unanswered.to_string()),
                ("pupils", c.pupils.to_string()),
            ],
        ),
        csv: format!("/api/v1/activities/{id}/answers.csv"),
        rows: list
            .answers
            .iter()
            .map(|r| {
                [
                    r.name.clone(),
                    r.class.clone(),
                    answer_label(w, ask, Some(&r.answer)),
                    r.answered_by.name.clone(),
                    r.phone.clone(),
                    service::local(state, r.updated_at),
                    r.note.clone(),
                ]
            })
            .collect(),
        waiting: list
            .unanswered
            .iter()
            .map(|r| {
                let contacts: Vec<String> = r
                    .guardians
                    .iter()
                    .map(|g| format!("{} {}", g.name, g.phone).trim().to_owned())
                    .collect();
                [r.name.clone(), r.class.clone(), contacts.join("、")]
            })
            .collect(),
    })
}

/// After a form: back to the page saying what was done, or the page with why not.
async fn after(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    result: Result<(), AppError>,
    done: &str,
    reason: String,
) -> Page {
    match result {
        // The service found the activity by this exact id: a stored UUID, safe in a Location.
        Ok(()) => Ok(see_other(&format!("/activities/{id}?done={done}"))),
        Err(err) => {
            let f = flash(words(ctx, state), err)?;
            show(state, ctx, me, id, Some((f.text, f.status)), reason).await
        }
    }
}

pub(super) async fn answer(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<AnswerFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/activities/{id}"))?.person;
    let input = AnswerInput {
        student: form.student,
        answer: form.answer,
        note: form.note,
    };
    let result = answers::answer(&state, me, &id, &input).await.map(|_| ());
    after(&state, &ctx, me, &id, result, "answered", String::new()).await
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<CancelFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/activities/{id}"))?.person;
    let result = service::cancel(&state, me, &id, &form.reason)
        .await
        .map(|_| ());
    after(&state, &ctx, me, &id, result, "cancelled", form.reason).await
}
