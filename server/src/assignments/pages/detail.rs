//! `/assignments/{id}`: the instructions for everyone of the class; for a pupil their status,
//! the hand-in form and their feedback; for a parent each child's status and feedback (read
//! only); for the class's staff the progress table with links to mark.

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Words, flash, layout, local, score_text, stylesheet};
use crate::assignments::views::{AssignmentView, Progress, PupilStatus};
use crate::assignments::{Status, intake, service, submissions};
use crate::auth::pages::see_other;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "assignments/detail.html")]
struct DetailPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    a: Head,
    /// `teacher`, `admin`, `student` or `guardian`.
    role: String,
    pupils: Vec<PupilCard>,
    form: Option<HandInForm>,
    /// A pupil who can no longer hand in.
    closed: bool,
    progress: Option<ProgressPanel>,
    message: Option<String>,
    good: bool,
}

pub(super) struct Head {
    pub id: String,
    pub title: String,
    pub class: String,
    pub class_title: String,
    pub due: String,
    pub past_due: bool,
    pub scale: String,
    pub late_policy: String,
    pub owner: String,
    pub instructions_html: String,
}

struct PupilCard {
    name: String,
    status: String,
    status_class: &'static str,
    overdue: bool,
    submission: Option<(String, String, String, bool)>,
    feedback: Option<(String, String)>,
}

struct HandInForm {
    again: bool,
    late: bool,
    files_hint: String,
}

struct ProgressPanel {
    counts: Vec<(&'static str, String, u32)>,
    to_mark: String,
    rows: Vec<ProgressLine>,
}

struct ProgressLine {
    name: String,
    status: String,
    status_class: &'static str,
    when: String,
    late: bool,
    score: String,
    link: Option<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    pub(super) done: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let outcome = match done.done.as_deref() {
        Some("handed_in") => Some(w.say("assignments.done.handed_in")),
        Some("created") => Some(w.say("assignments.done.created")),
        _ => None,
    };
    let outcome = outcome.map(|text| (text.to_owned(), StatusCode::OK));
    show(&state, &ctx, me, &id, outcome).await
}

/// The hand-in form: to the assignment with a note (303), or the page again with the problem.
pub(super) async fn hand_in(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    request: Request,
) -> Page {
    let me = &signed_in(&ctx, &format!("/assignments/{id}"))?.person;
    let now = state.clock.now();
    let handed = async {
        let a = submissions::may_hand_in(&state, me, &id, now).await?;
        let input = intake::read(&state, request).await?;
        submissions::hand_in(&state, me, &a, input, now).await
    }
    .await;
    match handed {
        Ok(_) => Ok(see_other(&format!("/assignments/{id}?done=handed_in"))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, me, &id, Some((f.text, f.status))).await
        }
    }
}

pub(super) fn head(state: &AppState, w: Words<'_>, v: &AssignmentView) -> Head {
    Head {
        id: v.id.clone(),
        title: v.title.clone(),
        class: v.class.clone(),
        class_title: v.class_title.clone(),
        due: local(state, v.due_at),
        past_due: v.past_due,
        scale: w.scale(&v.scale),
        late_policy: w
            .say(if v.accept_late {
                "assignments.late_accepted"
            } else {
                "assignments.late_refused"
            })
            .to_owned(),
        owner: v.owner.clone(),
        instructions_html: v.instructions_html.clone(),
    }
}

pub(super) fn status_class(status: Status) -> &'static str {
    status.as_str()
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
) -> Page {
    let (a, access) = service::visible(state, me, id).await?;
    let v = service::view(state, &a, &access).await?;
    let w = Words::new(ctx.tr(&state.i18n));
    let pupils = v.students.iter().map(|p| card(state, w, p)).collect();
    let mut form = None;
    let mut closed = false;
    if access.student {
        let handed_in = v.students.iter().any(|p| p.submission.is_some());
        if !v.past_due || (v.accept_late && !handed_in) {
            let max_mb = state.config.submission_max_size / (1024 * 1024);
            form = Some(HandInForm {
                again: handed_in,
                late: v.past_due,
                files_hint: w.format("assignments.files_hint", &[("max_mb", max_mb.to_string())]),
            });
        } else {
            closed = true;
        }
    }
    let progress = if access.staff() {
        let p = service::progress(state, me, id).await?;
        Some(panel(state, w, &p, access.teacher))
    } else {
        None
    };
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = DetailPage {
        page: layout(ctx, state, "assignments.title"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        a: head(state, w, &v),
        role: v.viewer.clone(),
        pupils,
        form,
        closed,
        progress,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

fn card(state: &AppState, w: Words<'_>, p: &PupilStatus) -> PupilCard {
    PupilCard {
        name: p.name.clone(),
        status: w.status(p.status).to_owned(),
        status_class: status_class(p.status),
        overdue: p.overdue,
        submission: p.submission.as_ref().map(|s| {
            (
                s.id.clone(),
                w.format("assignments.attempt", &[("n", s.attempt.to_string())]),
                local(state, s.submitted_at),
                s.late,
            )
        }),
        feedback: p
            .feedback
            .as_ref()
            .map(|f| (f.comment.clone(), score_text(&f.score))),
    }
}

fn panel(state: &AppState, w: Words<'_>, p: &Progress, teacher: bool) -> ProgressPanel {
    let c = p.counts;
    ProgressPanel {
        counts: vec![
            (
                "total",
                w.say("assignments.count.total").to_owned(),
                c.total,
            ),
            (
                "not_started",
                w.say("assignments.count.not_started").to_owned(),
                c.not_started,
            ),
            (
                "handed_in",
                w.say("assignments.count.handed_in").to_owned(),
                c.handed_in,
            ),
            ("late", w.say("assignments.count.late").to_owned(), c.late),
            (
                "returned",
                w.say("assignments.count.returned").to_owned(),
                c.returned,
            ),
        ],
        to_mark: w.format(
            "assignments.count.to_mark",
            &[("n", c.to_mark().to_string())],
        ),
        rows: p
            .students
            .iter()
            .map(|r| ProgressLine {
                name: r.name.clone(),
                status: w.status(r.status).to_owned(),
                status_class: status_class(r.status),
                when: r.submitted_at.map(|t| local(state, t)).unwrap_or_default(),
                late: r.late,
                score: score_text(&r.score),
                link: r.submission.as_ref().map(|s| {
                    let label = if teacher && r.status != Status::Returned {
                        w.say("assignments.mark")
                    } else {
                        w.say("assignments.view")
                    };
                    (format!("/submissions/{s}"), label.to_owned())
                }),
            })
            .collect(),
    }
}
