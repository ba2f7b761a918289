//! `/messages/new`: start a conversation. A teacher finds the families of their classes, their
//! colleagues and the teachers' group of each class they teach; a parent, their children's
//! teachers. Choosing someone opens the 1:1 conversation (or finds the one there is).

use askama::Template;
use axum::Form;
use axum::extract::State;
use serde::Deserialize;

use super::{Page, given, signed_in};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::messaging::contacts::{self, Group, Heading};
use crate::messaging::conversations;
use crate::roster::entity::class;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "messaging/people.html")]
struct PeoplePage<'a> {
    page: Layout<'a>,
    csrf: String,
    groups: Vec<GroupView>,
    /// The classes whose teachers' group the person may open.
    classes: Vec<class::Model>,
}

struct GroupView {
    heading: String,
    people: Vec<PersonLine>,
}

struct PersonLine {
    sourced_id: String,
    name: String,
    /// "Parent of 李小1", or the classes a teacher teaches the child in.
    about: String,
}

fn group_view(tr: Tr<'_>, group: Group) -> GroupView {
    let heading = match &group.heading {
        Heading::ClassFamilies(class) => tr.format(
            "messaging.people.class_families",
            &[("class", class.clone())],
        ),
        Heading::ChildTeachers(child) => tr.format(
            "messaging.people.child_teachers",
            &[("child", child.clone())],
        ),
        Heading::Colleagues => tr.t("messaging.people.colleagues").to_owned(),
    };
    let families = matches!(group.heading, Heading::ClassFamilies(_));
    let people = group
        .people
        .into_iter()
        .map(|c| PersonLine {
            about: match (families, c.about.is_empty()) {
                (_, true) => String::new(),
                (true, false) => tr.format(
                    "messaging.people.parent_of",
                    &[("children", c.about.join("、"))],
                ),
                (false, false) => c.about.join("、"),
            },
            sourced_id: c.sourced_id,
            name: c.name,
        })
        .collect();
    GroupView { heading, people }
}

pub(super) async fn page(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let tr = ctx.tr(&state.i18n);
    let found = contacts::of(&state.db, me).await?;
    let template = PeoplePage {
        page: ctx.layout(&state.i18n, "messaging.people.title"),
        csrf: ctx.csrf.clone(),
        groups: found
            .groups
            .into_iter()
            .map(|g| group_view(tr, g))
            .collect(),
        classes: found.taught,
    };
    Ok(render(&template, ctx.lang))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Open {
    /// A person's sourcedId: the 1:1 conversation with them.
    with: Option<String>,
    /// A class's sourcedId: the group of its teachers.
    class: Option<String>,
}

/// Open the conversation and go to it (303).
pub(super) async fn open(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(open): Form<Open>,
) -> Page {
    let me = &signed_in(&ctx, "/messages/new")?.person;
    let (view, _) = match (given(&open.with), given(&open.class)) {
        (Some(with), None) => conversations::open_direct(&state, me, with).await?,
        (None, Some(class)) => conversations::open_class_group(&state, me, class).await?,
        _ => {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "with / class")
                .with_arg("hint", "二者给出其一 / give exactly one")
                .into());
        }
    };
    Ok(see_other(&format!("/messages/{}", view.id)))
}
