//! `/resources/{id}`: one resource — its metadata, content and usage for every reader; for its
//! owner and its reviewers also the working version's state, the machine check's findings, the
//! reviews and the lifecycle, with the forms that move it on (submit with the pledge, withdraw,
//! review, retire). The data is `service::detail`'s, the actions `lifecycle`'s.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::actions::Fields;
use super::{Choice, Frame, Page, Words, given, layout, scope_label, signed_in, when, with_status};
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::resources::check::Findings;
use crate::resources::service;
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "resources/detail.html")]
struct DetailPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    csrf: String,
    id: String,
    /// The resource's state (`published` …), for the tag's colour, and as people read it.
    state: String,
    state_label: String,
    owner: String,
    owner_sourced_id: String,
    shown: Shown,
    /// No version is in the library: only the owner and the reviewers see this page.
    unpublished: bool,
    usage: Usage,
    working: Option<Working>,
    reviews: Vec<ReviewRow>,
    events: Vec<EventRow>,
    may: Actions,
    /// The review form's choice of scope: as the author chose it, or narrower.
    scopes: Vec<Choice>,
    form: Fields,
    /// What the last action did (`good`) or why it could not.
    message: Option<String>,
    good: bool,
}

/// `service::detail`'s answer.
#[derive(Deserialize)]
struct Detail {
    state: String,
    owner: Owner,
    published: Option<VersionData>,
    usage: Usage,
    may: May,
    #[serde(default)]
    working: Option<VersionData>,
    #[serde(default)]
    reviews: Vec<ReviewData>,
    #[serde(default)]
    events: Vec<EventData>,
}

#[derive(Deserialize)]
struct Owner {
    sourced_id: String,
    name: String,
}

#[derive(Deserialize)]
struct Usage {
    views: i64,
    downloads: i64,
    lessons: i64,
}

#[derive(Deserialize)]
struct May {
    edit: bool,
    review: bool,
    retire: bool,
}

#[derive(Deserialize)]
struct VersionData {
    number: i32,
    state: String,
    title: String,
    description: String,
    subject: String,
    grade: String,
    edition: String,
    chapter: String,
    #[serde(rename = "type")]
    kind: String,
    licence: String,
    keywords: Vec<String>,
    scope: String,
    content: ContentData,
    checks: Option<Findings>,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct ContentData {
    kind: String,
    file_name: Option<String>,
    size: Option<i64>,
    url: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct ReviewData {
    version: i32,
    reviewer: String,
    decision: String,
    political: String,
    scientific: String,
    safety: String,
    comment: String,
    at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct EventData {
    action: String,
    actor: String,
    from_state: Option<String>,
    to_state: String,
    reason: Option<String>,
    at: DateTime<Utc>,
}

/// A version as the page shows it.
struct Shown {
    number: i32,
    /// "第 2 版".
    version: String,
    title: String,
    description: String,
    facts: Vec<(&'static str, String)>,
    keywords: Vec<String>,
    /// `file`, `text` or `link`.
    content: String,
    download: Option<String>,
    download_label: String,
    url: Option<String>,
    text: Option<String>,
}

struct Working {
    /// The working version is another than the one shown above (a new version under review).
    other: Option<Shown>,
    version: String,
    state_label: String,
    checks: Option<Checks>,
}

struct Checks {
    /// "Negative-list words (2)" and the matches: word, field, context.
    negative_label: String,
    negative: Vec<(String, String, String)>,
    /// "Resources with identical content (1)" and them: id, title, state.
    duplicates_label: String,
    duplicates: Vec<(String, String, String)>,
    text_checked: bool,
}

struct ReviewRow {
    version: String,
    reviewer: String,
    decision: String,
    approved: bool,
    dimensions: String,
    comment: String,
    when: String,
}

struct EventRow {
    action: String,
    actor: String,
    states: String,
    reason: String,
    when: String,
}

struct Actions {
    submit: bool,
    withdraw: bool,
    review: bool,
    retire: bool,
    follow: bool,
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
    let key = match given(&done.done) {
        Some("submitted") => Some("resources.done.submitted"),
        Some("withdrawn") => Some("resources.done.withdrawn"),
        Some("reviewed") => Some("resources.done.reviewed"),
        Some("retired") => Some("resources.done.retired"),
        _ => None,
    };
    let outcome = key.map(|k| (w.say(k).to_owned(), StatusCode::OK));
    show(&state, &ctx, me, &id, outcome, Fields::default(), true).await
}

/// The page, with the outcome of an action above it (`OK` for success, else its status).
pub(super) async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
    form: Fields,
    count_view: bool,
) -> Page {
    // Reading a published resource counts as a view, as it does through the API.
    let value = service::detail(state, me, id, count_view).await?;
    let d: Detail = serde_json::from_value(value).map_err(AppError::internal)?;
    let w = Words::new(ctx.tr(&state.i18n));
    let shown_data = d
        .published
        .as_ref()
        .or(d.working.as_ref())
        .ok_or_else(AppError::not_found)?;
    let shown = shown(state, w, id, shown_data, d.published.is_some()).await?;
    let working = match &d.working {
        Some(v) => Some(working(state, w, id, v, shown.number).await?),
        None => None,
    };
    let may = Actions::of(&d, me);
    let scopes = match &d.working {
        Some(v) if d.may.review => review_scopes(state, w, &v.scope, &form.scope).await?,
        _ => Vec::new(),
    };
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = DetailPage {
        page: layout(ctx, state, "resources.detail.title"),
        w,
        frame: Frame::new(state, me, "").await?,
        csrf: ctx.csrf.clone(),
        id: id.to_owned(),
        state_label: w.term("state", &d.state),
        state: d.state,
        owner: d.owner.name,
        owner_sourced_id: d.owner.sourced_id,
        unpublished: d.published.is_none(),
        shown,
        usage: d.usage,
        working,
        reviews: d.reviews.iter().map(|r| review_row(state, w, r)).collect(),
        events: d.events.iter().map(|e| event_row(state, w, e)).collect(),
        may,
        scopes,
        form,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

impl Actions {
    /// The forms to offer; the services decide again when one is sent.
    fn of(d: &Detail, me: &person::Model) -> Actions {
        let working = d.working.as_ref().map_or("", |v| v.state.as_str());
        Actions {
            submit: d.may.edit && matches!(working, "draft" | "rejected"),
            withdraw: d.may.edit && working == "in_review",
            review: d.may.review,
            retire: d.may.retire,
            follow: d.owner.sourced_id != me.sourced_id,
        }
    }
}

/// The working version's panel; its metadata and content too when it is not the version
/// shown above (a new version under review while the old one stays published).
async fn working(
    state: &AppState,
    w: Words<'_>,
    id: &str,
    v: &VersionData,
    shown_number: i32,
) -> Result<Working, AppError> {
    Ok(Working {
        other: if v.number == shown_number {
            None
        } else {
            Some(shown(state, w, id, v, false).await?)
        },
        version: w.format("resources.version", &[("n", v.number.to_string())]),
        state_label: w.term("state", &v.state),
        checks: v.checks.as_ref().map(|c| checks(w, c)),
    })
}

async fn shown(
    state: &AppState,
    w: Words<'_>,
    id: &str,
    v: &VersionData,
    published: bool,
) -> Result<Shown, AppError> {
    let mut facts = vec![
        ("resources.field.subject", w.term("subject", &v.subject)),
        (
            "resources.field.grade",
            format!("{} {}", v.grade, w.grade(&v.grade)),
        ),
        ("resources.field.type", w.term("type", &v.kind)),
    ];
    for (key, value) in [
        ("resources.field.edition", &v.edition),
        ("resources.field.chapter", &v.chapter),
    ] {
        if !value.is_empty() {
            facts.push((key, value.clone()));
        }
    }
    facts.push(("resources.field.licence", v.licence.clone()));
    facts.push((
        "resources.field.scope",
        scope_label(state, w, &v.scope).await?,
    ));
    facts.push(("resources.field.updated", when(state, v.updated_at)));
    // Readers get the published file; the owner and reviewers name the version they look at.
    let download = (v.content.kind == "file").then(|| {
        if published {
            format!("/api/v1/resources/{id}/file")
        } else {
            format!("/api/v1/resources/{id}/file?version={}", v.number)
        }
    });
    let name = v.content.file_name.clone().unwrap_or_default();
    let size = v.content.size.map(size_label).unwrap_or_default();
    Ok(Shown {
        number: v.number,
        version: w.format("resources.version", &[("n", v.number.to_string())]),
        title: v.title.clone(),
        description: v.description.clone(),
        facts,
        keywords: v.keywords.clone(),
        content: v.content.kind.clone(),
        download,
        download_label: format!(
            "{} {size}",
            w.format("resources.detail.download", &[("name", name)])
        ),
        url: v.content.url.clone(),
        text: v.content.text.clone(),
    })
}

fn size_label(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("({:.1} MB)", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("({:.0} KB)", b / 1024.0)
    } else {
        format!("({bytes} B)")
    }
}

fn checks(w: Words<'_>, c: &Findings) -> Checks {
    let field = |f: &str| {
        match f {
            "title" => w.say("resources.field.title"),
            "description" => w.say("resources.field.description"),
            "keywords" => w.say("resources.field.keywords"),
            "text" => w.say("resources.field.text"),
            other => other,
        }
        .to_owned()
    };
    let count = |key, n: usize| w.format(key, &[("n", n.to_string())]);
    Checks {
        negative_label: count("resources.detail.negative", c.negative.len()),
        duplicates_label: count("resources.detail.duplicates", c.duplicates.len()),
        negative: c
            .negative
            .iter()
            .map(|m| (m.word.clone(), field(&m.field), m.context.clone()))
            .collect(),
        duplicates: c
            .duplicates
            .iter()
            .map(|d| (d.id.clone(), d.title.clone(), w.term("state", &d.state)))
            .collect(),
        text_checked: c.text_checked,
    }
}

/// The scopes a reviewer may publish to: the author's choice, or narrower (private; the
/// author's school instead of the district). The service decides again.
async fn review_scopes(
    state: &AppState,
    w: Words<'_>,
    scope: &str,
    chosen: &str,
) -> Result<Vec<Choice>, AppError> {
    let mut scopes = vec![Choice::new(
        "",
        w.format(
            "resources.action.keep_scope",
            &[("scope", scope_label(state, w, scope).await?)],
        ),
        chosen,
    )];
    if scope == "district" {
        scopes.push(Choice::new("school", w.term("scope", "school"), chosen));
    }
    if scope != "private" {
        scopes.push(Choice::new("private", w.term("scope", "private"), chosen));
    }
    Ok(scopes)
}

fn review_row(state: &AppState, w: Words<'_>, r: &ReviewData) -> ReviewRow {
    let verdict = |key: &'static str, value: &str| {
        let mark = match value {
            "pass" => w.say("resources.action.pass"),
            _ => w.say("resources.action.fail"),
        };
        format!("{} {mark}", w.say(key))
    };
    ReviewRow {
        version: w.format("resources.version", &[("n", r.version.to_string())]),
        reviewer: r.reviewer.clone(),
        decision: w.term("decision", &r.decision),
        approved: r.decision == "approve",
        dimensions: [
            verdict("resources.action.political", &r.political),
            verdict("resources.action.scientific", &r.scientific),
            verdict("resources.action.safety", &r.safety),
        ]
        .join(" · "),
        comment: r.comment.clone(),
        when: when(state, r.at),
    }
}

fn event_row(state: &AppState, w: Words<'_>, e: &EventData) -> EventRow {
    let to = w.term("state", &e.to_state);
    EventRow {
        action: w.term("event", &e.action),
        actor: e.actor.clone(),
        states: match &e.from_state {
            Some(from) => format!("{} → {to}", w.term("state", from)),
            None => to,
        },
        reason: e.reason.clone().unwrap_or_default(),
        when: when(state, e.at),
    }
}
