//! `/schools/{sourcedId}/announcements`: the school's announcements, newest first, for its
//! people; its administrators post and withdraw them here.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Words, flash, layout, stylesheet, words};
use crate::activities::access;
use crate::activities::announcements::{self, NewAnnouncement};
use crate::activities::service;
use crate::auth::pages::see_other;
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in, with_status};
use crate::people::{relations, store};
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "activities/announcements.html")]
struct AnnouncementsPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    csrf: String,
    school: String,
    school_name: String,
    items: Vec<Item>,
    more: Option<String>,
    admin: bool,
    form: Fields,
    message: Option<String>,
    good: bool,
}

struct Item {
    id: String,
    title: String,
    byline: String,
    body_html: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    title: String,
    body: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    after: Option<String>,
    done: Option<String>,
}

fn back(school: &str, done: &str) -> String {
    format!(
        "/schools/{}/announcements?done={done}",
        crate::growth::export::href_segment(school)
    )
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(school): Path<String>,
    Query(q): Query<ListQuery>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let w = words(&ctx, &state);
    let key = match service::given(&q.done) {
        Some("posted") => Some("announcements.done.posted"),
        Some("withdrawn") => Some("announcements.done.withdrawn"),
        _ => None,
    };
    let outcome = key.map(|k| (w.say(k).to_owned(), StatusCode::OK));
    show(
        &state,
        &ctx,
        me,
        &school,
        q.after.as_deref(),
        Fields::default(),
        outcome,
    )
    .await
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    school: &str,
    after: Option<&str>,
    form: Fields,
    outcome: Option<(String, StatusCode)>,
) -> Page {
    let list = announcements::list(state, me, school, after, None).await?;
    let org = access::school_by_sourced_id(&state.db, school)
        .await?
        .ok_or_else(AppError::not_found)?;
    let w = words(ctx, state);
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = AnnouncementsPage {
        page: layout(ctx, state, "announcements.title"),
        w,
        stylesheet: stylesheet(),
        csrf: ctx.csrf.clone(),
        school: school.to_owned(),
        admin: relations::administers_org(&state.db, me, &org.id).await?,
        school_name: org.name,
        more: list.next.map(|n| format!("?after={n}")),
        items: list
            .announcements
            .into_iter()
            .map(|a| Item {
                byline: w.format(
                    "announcements.by",
                    &[
                        ("name", a.author.name),
                        ("at", service::local(state, a.published_at)),
                    ],
                ),
                id: a.id,
                title: a.title,
                body_html: a.body_html,
            })
            .collect(),
        form,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

pub(super) async fn post(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(school): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &back(&school, ""))?.person;
    let input = NewAnnouncement {
        title: form.title.clone(),
        body: form.body.clone(),
    };
    match announcements::post(&state, me, &school, &input).await {
        Ok(_) => Ok(see_other(&back(&school, "posted"))),
        Err(err) => {
            let f = flash(words(&ctx, &state), err)?;
            show(
                &state,
                &ctx,
                me,
                &school,
                None,
                form,
                Some((f.text, f.status)),
            )
            .await
        }
    }
}

pub(super) async fn withdraw(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, "/")?.person;
    let a = announcements::withdraw(&state, me, &id).await?;
    let org = store::orgs_by_id(&state.db, vec![a.org_id.clone()])
        .await?
        .remove(&a.org_id)
        .ok_or_else(AppError::not_found)?;
    Ok(see_other(&back(&org.sourced_id, "withdrawn")))
}
