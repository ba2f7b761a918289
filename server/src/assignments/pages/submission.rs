//! `/submissions/{id}`: one hand-in — its text, files and the feedback that stands — for the
//! pupil, their family and the class's staff; for the class's teachers also the marking form
//! (comment, and a score on the assignment's scale) and the marking history.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::detail::{Done, Head, head};
use super::{Words, flash, layout, local, score_text, size_label, stylesheet};
use crate::assignments::scale::{BANDS, Scale};
use crate::assignments::submissions::{self, MAX_COMMENT, Mark};
use crate::assignments::{Status, service};
use crate::auth::pages::see_other;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "assignments/submission.html")]
struct SubmissionPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    a: Head,
    id: String,
    student: String,
    status: String,
    status_class: &'static str,
    attempt: String,
    when: String,
    late: bool,
    superseded: bool,
    text: String,
    files: Vec<(String, String, String)>,
    feedback: Option<(String, String)>,
    marks: Vec<(String, String, String, String)>,
    form: Option<MarkForm>,
    message: Option<String>,
    good: bool,
}

struct MarkForm {
    /// `points`, `bands` or `comments`.
    kind: &'static str,
    max: u32,
    points_label: String,
    bands: Vec<(&'static str, bool)>,
    comment: String,
    score: String,
    max_comment: usize,
    again: bool,
}

/// What the marking form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filled {
    comment: String,
    score: String,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let outcome = (done.done.as_deref() == Some("returned")).then(|| {
        (
            w.say("assignments.done.returned").to_owned(),
            StatusCode::OK,
        )
    });
    show(&state, &ctx, me, &id, outcome, Filled::default()).await
}

/// The marking form: back to the hand-in with a note (303), or the form again with the problem.
pub(super) async fn mark(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(filled): Form<Filled>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/submissions/{id}"))?.person;
    let score = filled.score.trim();
    let input = Mark {
        comment: filled.comment.clone(),
        score: (!score.is_empty()).then(|| Value::String(score.to_owned())),
    };
    match submissions::mark(&state, me, &id, input).await {
        Ok(_) => Ok(see_other(&format!("/submissions/{id}?done=returned"))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, me, &id, Some((f.text, f.status)), filled).await
        }
    }
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
    filled: Filled,
) -> Page {
    let (s, a, access) = submissions::visible_submission(state, me, id).await?;
    let v = submissions::view(state, &s, &a, &access).await?;
    let av = service::view(state, &a, &access).await?;
    let w = Words::new(ctx.tr(&state.i18n));
    let status = Status::of(Some(&s));
    let scale = Scale::from_row(&a.scale, a.max_points);
    let form = (access.teacher && v.superseded_at.is_none()).then(|| MarkForm {
        kind: scale.kind(),
        max: match scale {
            Scale::Points(max) => max,
            _ => 0,
        },
        points_label: w.format(
            "assignments.score_points",
            &[("max", scale.max_points().unwrap_or(0).to_string())],
        ),
        bands: BANDS.iter().map(|b| (*b, filled.score == *b)).collect(),
        comment: filled.comment.clone(),
        score: filled.score.clone(),
        max_comment: MAX_COMMENT,
        again: v.feedback.is_some(),
    });
    let code = outcome.as_ref().map_or(StatusCode::OK, |(_, c)| *c);
    let template = SubmissionPage {
        page: layout(ctx, state, "assignments.submission"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        a: head(state, w, &av),
        id: v.id.clone(),
        student: v.student_name.clone(),
        status: w.status(status).to_owned(),
        status_class: status.as_str(),
        attempt: w.format("assignments.attempt", &[("n", v.attempt.to_string())]),
        when: local(state, v.submitted_at),
        late: v.late,
        superseded: v.superseded_at.is_some(),
        text: v.text.clone(),
        files: v
            .files
            .iter()
            .map(|f| (f.url.clone(), f.name.clone(), size_label(f.size)))
            .collect(),
        feedback: v
            .feedback
            .as_ref()
            .map(|f| (f.comment.clone(), score_text(&f.score))),
        marks: v
            .marks
            .iter()
            .map(|m| {
                (
                    local(state, m.at),
                    m.teacher.clone(),
                    score_text(&m.score),
                    m.comment.clone(),
                )
            })
            .collect(),
        form,
        good: code.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(code, render(&template, ctx.lang)))
}
