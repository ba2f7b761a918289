//! `/lessons/{id}`: one lesson — its rendered text and attachments for everyone who may see
//! it; for its owner also where it is published (with withdraw buttons), the publish form
//! (classes and an optional time), the attachment forms, edit, history and copy; and each
//! class's questions, with the ask form for the class's pupils and the answer forms for its
//! teachers. The data is `service::view`'s and `questions::thread_in`'s.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{Frame, Words, layout, when};
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::lessons::access::{self, Viewer};
use crate::lessons::questions::{self, Post};
use crate::lessons::service;
use crate::roster::entity::{class, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// How many classes the publish form offers at most (an administrator's school may be large).
const MAX_OFFERED: usize = 200;

#[derive(Template)]
#[template(path = "lessons/detail.html")]
struct DetailPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    csrf: String,
    id: String,
    title: String,
    body_html: String,
    byline: String,
    state: String,
    state_label: String,
    copied: bool,
    owner: bool,
    may_copy: bool,
    may_history: bool,
    publications: Vec<PublicationRow>,
    offered: Vec<(String, String)>,
    attachments: Vec<AttachmentRow>,
    upload_hint: String,
    threads: Vec<ThreadBox>,
    kept: Kept,
    /// What the last action did (`good`) or why it could not.
    message: Option<String>,
    good: bool,
}

struct PublicationRow {
    sourced_id: String,
    title: String,
    state: String,
    state_label: String,
    label: String,
    withdrawable: bool,
}

struct AttachmentRow {
    id: String,
    name: String,
    href: String,
    kind_label: String,
    is_image: bool,
    snippet: Option<String>,
}

struct ThreadBox {
    class: String,
    heading: String,
    questions: Vec<QuestionRow>,
    may_ask: bool,
    may_answer: bool,
    read_only: bool,
}

struct QuestionRow {
    id: String,
    post: PostRow,
    answers: Vec<PostRow>,
}

struct PostRow {
    author: String,
    when: String,
    body: String,
    by_teacher: bool,
}

/// What the forms had typed in, shown again when an action comes back with a problem.
#[derive(Debug, Default)]
pub(super) struct Kept {
    pub(super) at: String,
    pub(super) resource: String,
    /// The class whose ask form, or the question whose answer form, was sent, and its text.
    pub(super) ask_class: String,
    pub(super) answer_to: String,
    pub(super) body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let key = match done.done.as_deref() {
        Some("created") => Some("lessons.done.created"),
        Some("saved") => Some("lessons.done.saved"),
        Some("published") => Some("lessons.done.published"),
        Some("withdrawn") => Some("lessons.done.withdrawn"),
        Some("copied") => Some("lessons.done.copied"),
        Some("attached") => Some("lessons.done.attached"),
        Some("removed") => Some("lessons.done.removed"),
        Some("asked") => Some("lessons.done.asked"),
        Some("answered") => Some("lessons.done.answered"),
        _ => None,
    };
    let outcome = key.map(|k| (w.say(k).to_owned(), StatusCode::OK));
    show(&state, &ctx, me, &id, outcome, Kept::default()).await
}

/// The page, with the outcome of an action above it (`OK` for success, else its status).
pub(super) async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
    kept: Kept,
) -> Page {
    let w = Words::new(ctx.tr(&state.i18n));
    let viewer = Viewer::load(&state.db, me).await?;
    let (loaded, standing) = service::open(state, &viewer, id).await?;
    let view = service::view(state, &viewer, &loaded, &standing).await?;
    let mut threads = Vec::new();
    let mut thread_classes: Vec<&class::Model> = loaded
        .publications
        .iter()
        .filter(|p| access::live(p))
        .filter_map(|p| loaded.classes.get(&p.class_id))
        .collect();
    thread_classes.sort_by(|a, b| (&a.title, &a.sourced_id).cmp(&(&b.title, &b.sourced_id)));
    for c in thread_classes {
        let Ok(place) = questions::place(state, &viewer, &loaded, &standing, &c.sourced_id).await
        else {
            continue;
        };
        let t = questions::thread_in(state, &viewer, &loaded, &place).await?;
        let row = |p: &Post| PostRow {
            author: p.author.clone(),
            when: when(state, p.created_at),
            body: p.body.clone(),
            by_teacher: p.by_teacher,
        };
        threads.push(ThreadBox {
            heading: w.format("lessons.questions.heading", &[("class", c.title.clone())]),
            class: c.sourced_id.clone(),
            questions: t
                .questions
                .iter()
                .map(|q| QuestionRow {
                    id: q.question.id.clone(),
                    post: row(&q.question),
                    answers: q.answers.iter().map(row).collect(),
                })
                .collect(),
            may_ask: t.may_ask,
            may_answer: t.may_answer,
            read_only: place.class_standing.guardian
                && !place.class_standing.student
                && !t.may_answer,
        });
    }
    let publications = view
        .classes
        .iter()
        .map(|c| PublicationRow {
            sourced_id: c.sourced_id.clone(),
            title: c.title.clone(),
            label: match c.state.as_str() {
                "withdrawn" => w.format(
                    "lessons.detail.withdrawn_at",
                    &[(
                        "when",
                        c.withdrawn_at.map(|t| when(state, t)).unwrap_or_default(),
                    )],
                ),
                "scheduled" => w.format(
                    "lessons.detail.scheduled_at",
                    &[("when", when(state, c.publish_at))],
                ),
                _ => w.format("lessons.detail.at", &[("when", when(state, c.publish_at))]),
            },
            withdrawable: view.may.publish && c.state != "withdrawn",
            state_label: w.state(&c.state),
            state: c.state.clone(),
        })
        .collect();
    let attachments = view
        .attachments
        .iter()
        .map(|a| {
            let name = a
                .resource
                .as_ref()
                .map(|r| r.title.clone())
                .or_else(|| a.file_name.clone())
                .unwrap_or_default();
            let is_image = a.kind == "image";
            AttachmentRow {
                id: a.id.clone(),
                href: match &a.resource {
                    Some(r) => format!("/resources/{}", r.id),
                    None => a.url.clone(),
                },
                kind_label: match (&a.resource, a.size) {
                    (Some(_), _) => w.say("lessons.attachments.resource").to_owned(),
                    (None, Some(size)) => size_label(size),
                    (None, None) => String::new(),
                },
                snippet: (is_image && view.may.edit).then(|| format!("![{name}]({})", a.url)),
                is_image,
                name,
            }
        })
        .collect();
    let offered = if view.may.publish {
        offered_classes(state, &viewer).await?
    } else {
        Vec::new()
    };
    let max_mb = state.config.resource_max_size / (1024 * 1024);
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = DetailPage {
        page: layout(ctx, state, "lessons.detail.title"),
        w,
        frame: Frame::new(viewer.writes(), ""),
        csrf: ctx.csrf.clone(),
        id: view.id.clone(),
        byline: format!(
            "{}：{} · {}",
            w.say("lessons.detail.by"),
            view.owner.name,
            w.format("lessons.detail.version", &[("n", view.version.to_string())])
        ),
        state_label: w.state(&view.state),
        state: view.state.clone(),
        copied: view.copied_from_id.is_some(),
        owner: view.may.edit,
        may_copy: view.may.copy,
        may_history: view.may.history,
        title: view.title,
        body_html: view.body_html,
        publications,
        offered,
        attachments,
        upload_hint: w.format(
            "lessons.attachments.upload_hint",
            &[("max_mb", max_mb.to_string())],
        ),
        threads,
        kept,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// The classes the owner may publish to: those they teach and, for an administrator, those
/// of their schools; by title.
async fn offered_classes(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<(String, String)>, AppError> {
    let mut classes: BTreeMap<String, class::Model> =
        access::classes_by_id(&state.db, viewer.taught.iter().cloned()).await?;
    if viewer.administers_anything() {
        let schools: Vec<String> = viewer
            .administered_schools(&state.db)
            .await?
            .into_iter()
            .collect();
        for chunk in schools.chunks(400) {
            for c in class::Entity::find()
                .filter(class::Column::SchoolId.is_in(chunk.iter().cloned()))
                .filter(class::Column::Status.eq(ACTIVE))
                .all(&state.db)
                .await?
            {
                classes.insert(c.id.clone(), c);
            }
        }
    }
    let mut out: Vec<(String, String)> = classes
        .into_values()
        .map(|c| (c.sourced_id, c.title))
        .collect();
    out.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    out.truncate(MAX_OFFERED);
    Ok(out)
}

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
