//! `/resources/following`: the subjects and teachers a person follows (chosen by them, never
//! pushed), forms to follow a subject and to unfollow, and the newest published resources
//! there that they may see — `usage::following`, `usage::follow`, `usage::unfollow`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Choice, Frame, Page, Words, flash, layout, signed_in, when, with_status};
use crate::auth::pages::see_other;
use crate::http::layout::{Layout, PageContext, render};
use crate::resources::usage;
use crate::roster::entity::person;
use crate::state::AppState;

const HOME: &str = "/resources/following";

#[derive(Template)]
#[template(path = "resources/following.html")]
struct FollowingPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    csrf: String,
    follows: Vec<FollowRow>,
    /// The subjects not followed yet.
    subjects: Vec<Choice>,
    resources: Vec<ResourceRow>,
    error: Option<String>,
}

struct FollowRow {
    kind: String,
    kind_label: String,
    target: String,
    label: String,
    /// "Unfollow Mathematics", for screen readers.
    unfollow: String,
}

struct ResourceRow {
    id: String,
    title: String,
    meta: String,
    owner: String,
    when: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Target {
    kind: String,
    target: String,
}

pub(super) async fn page(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    show(&state, &ctx, me, None).await
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    problem: Option<(String, StatusCode)>,
) -> Page {
    let w = Words::new(ctx.tr(&state.i18n));
    let (follows, items) = usage::following(state, me).await?;
    let followed = |s: &str| follows.iter().any(|f| f.kind == "subject" && f.target == s);
    let subjects = super::subject_choices(w, "")
        .into_iter()
        .filter(|c| !followed(&c.value))
        .collect();
    let follows = follows
        .into_iter()
        .map(|f| {
            let label = if f.kind == "subject" {
                w.term("subject", &f.label)
            } else {
                f.label
            };
            FollowRow {
                kind_label: w.term("following", &f.kind),
                unfollow: w.format(
                    "resources.following.unfollow_label",
                    &[("what", label.clone())],
                ),
                kind: f.kind,
                target: f.target,
                label,
            }
        })
        .collect();
    let resources = items
        .into_iter()
        .map(|i| ResourceRow {
            meta: [
                w.term("subject", &i.subject),
                w.grade(&i.grade),
                w.term("type", &i.kind),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
            when: when(state, i.published_at.unwrap_or(i.updated_at)),
            id: i.id,
            title: i.title,
            owner: i.owner,
        })
        .collect();
    let status = problem.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = FollowingPage {
        page: layout(ctx, state, "resources.following.title"),
        w,
        frame: Frame::new(state, me, "following").await?,
        csrf: ctx.csrf.clone(),
        follows,
        subjects,
        resources,
        error: problem.map(|(text, _)| text),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// Follow a subject (or, from a resource's page, its author), then back to the list.
pub(super) async fn follow(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(target): Form<Target>,
) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    match usage::follow(&state, me, &target.kind, &target.target).await {
        Ok(_) => Ok(see_other(HOME)),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, me, Some((f.text, f.status))).await
        }
    }
}

pub(super) async fn unfollow(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(target): Form<Target>,
) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    usage::unfollow(&state, me, &target.kind, &target.target).await?;
    Ok(see_other(HOME))
}
