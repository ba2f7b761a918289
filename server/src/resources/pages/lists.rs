//! The lists people work from: `/resources/mine` (what I authored, by state) and
//! `/resources/review` (what waits for me to review, oldest first, with the machine check's
//! counts). Both are `usage`'s lists, as the API gives them.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    Choice, Flash, Frame, Page, Words, flash, given, grade_choices, kind_choices, layout,
    scope_label, signed_in, subject_choices, when, with_status,
};
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::resources::usage::{self, Item};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "resources/list.html")]
struct ListPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    heading: &'a str,
    empty: &'a str,
    /// Where the filter form goes.
    action: &'static str,
    /// Filters: `(name, label, options)`, the first option "any".
    filters: Vec<(&'static str, &'a str, Vec<Choice>)>,
    rows: Vec<Row>,
    /// The review queue shows the machine check's counts.
    queue: bool,
    error: Option<String>,
}

struct Row {
    id: String,
    title: String,
    state: String,
    state_label: String,
    /// "第 2 版 · 待审核".
    version: String,
    meta: String,
    scope: String,
    owner: String,
    when: String,
    /// The machine check's counts (review queue), each with whether it found anything.
    findings: Vec<(String, bool)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filters {
    state: Option<String>,
    subject: Option<String>,
    grade: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

const STATES: [&str; 6] = [
    "draft",
    "in_review",
    "rejected",
    "published",
    "superseded",
    "retired",
];

/// `/resources/mine`: "我的资源", newest change first, filtered by state.
pub(super) async fn mine(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(filters): Query<Filters>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let chosen = given(&filters.state).unwrap_or("");
    let (items, problem) = split(w, usage::mine(&state, me, Some(chosen)).await)?;
    let mut options = vec![Choice::new("", w.say("resources.any"), chosen)];
    options.extend(
        STATES
            .iter()
            .map(|s| Choice::new(*s, w.term("state", s), chosen)),
    );
    let template = ListPage {
        page: layout(&ctx, &state, "resources.mine.title"),
        w,
        frame: Frame::new(&state, me, "mine").await?,
        heading: w.say("resources.mine.title"),
        empty: w.say("resources.mine.empty"),
        action: "/resources/mine",
        filters: vec![("state", w.say("resources.field.state"), options)],
        rows: rows(&state, w, items, false).await?,
        queue: false,
        error: problem.as_ref().map(|f| f.text.clone()),
    };
    let status = problem.map_or(StatusCode::OK, |f| f.status);
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// `/resources/review`: the review queue of the organisations the person reviews for; anyone
/// else is refused (403), as the API refuses them.
pub(super) async fn queue(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(filters): Query<Filters>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let (subject, grade, kind) = (
        given(&filters.subject).unwrap_or(""),
        given(&filters.grade).unwrap_or(""),
        given(&filters.kind).unwrap_or(""),
    );
    let answer = usage::queue(&state, me, Some(subject), Some(grade), Some(kind)).await;
    let (items, problem) = split(w, answer)?;
    let any = |current| Choice::new("", w.say("resources.any"), current);
    let with_any = |current, rest: Vec<Choice>| {
        let mut all = vec![any(current)];
        all.extend(rest);
        all
    };
    let template = ListPage {
        page: layout(&ctx, &state, "resources.review.title"),
        w,
        frame: Frame::new(&state, me, "review").await?,
        heading: w.say("resources.review.title"),
        empty: w.say("resources.review.empty"),
        action: "/resources/review",
        filters: vec![
            (
                "subject",
                w.say("resources.field.subject"),
                with_any(subject, subject_choices(w, subject)),
            ),
            (
                "grade",
                w.say("resources.field.grade"),
                with_any(grade, grade_choices(w, grade)),
            ),
            (
                "type",
                w.say("resources.field.type"),
                with_any(kind, kind_choices(w, kind)),
            ),
        ],
        rows: rows(&state, w, items, true).await?,
        queue: true,
        error: problem.as_ref().map(|f| f.text.clone()),
    };
    let status = problem.map_or(StatusCode::OK, |f| f.status);
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// The list, or an empty one and the problem with the filters (anything else is an error page).
fn split(
    w: Words<'_>,
    answer: Result<Vec<Item>, AppError>,
) -> Result<(Vec<Item>, Option<Flash>), AppError> {
    match answer {
        Ok(items) => Ok((items, None)),
        Err(err) => Ok((Vec::new(), Some(flash(w, err)?))),
    }
}

async fn rows(
    state: &AppState,
    w: Words<'_>,
    items: Vec<Item>,
    queue: bool,
) -> Result<Vec<Row>, AppError> {
    // Scopes repeat (most are "school"); a class's title is looked up once.
    let mut scopes: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !scopes.contains_key(&item.scope) {
            let label = scope_label(state, w, &item.scope).await?;
            scopes.insert(item.scope.clone(), label);
        }
        let meta: Vec<String> = [
            w.term("subject", &item.subject),
            w.grade(&item.grade),
            w.term("type", &item.kind),
            item.edition.clone(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        let negative = item.negative_matches.unwrap_or(0);
        let duplicates = item.duplicates.unwrap_or(0);
        let findings = if !queue {
            Vec::new()
        } else if negative + duplicates == 0 {
            vec![(w.say("resources.review.clean").to_owned(), false)]
        } else {
            let count = |key, n: usize| (w.format(key, &[("n", n.to_string())]), n > 0);
            vec![
                count("resources.review.negative", negative),
                count("resources.review.duplicates", duplicates),
            ]
        };
        out.push(Row {
            version: format!(
                "{} · {}",
                w.format("resources.version", &[("n", item.version.to_string())]),
                w.term("state", &item.version_state)
            ),
            state_label: w.term("state", &item.state),
            scope: scopes.get(&item.scope).cloned().unwrap_or_default(),
            meta: meta.join(" · "),
            when: when(state, item.updated_at),
            findings,
            id: item.id,
            title: item.title,
            state: item.state,
            owner: item.owner,
        });
    }
    Ok(out)
}
