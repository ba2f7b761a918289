//! `/classes/{sourcedId}/assignments`: a class's assignments, the latest due first — for its
//! staff with counts (never scores) and a link to set a new one, for a pupil with their own
//! status, for a parent with each child's.

use askama::Template;
use axum::extract::{Path, State};

use super::{Words, layout, local, stylesheet};
use crate::assignments::service;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "assignments/list.html")]
struct ListPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    stylesheet: String,
    class: String,
    title: String,
    staff: bool,
    items: Vec<Item>,
}

struct Item {
    id: String,
    title: String,
    due: String,
    past_due: bool,
    scale: String,
    /// (status label, css class, whose) for the pupil or each child.
    statuses: Vec<(String, &'static str, String)>,
    /// For staff: "handed in 3 / 30 · 2 to mark".
    counts: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let list = service::class_assignments(&state, me, &sourced_id).await?;
    let w = Words::new(ctx.tr(&state.i18n));
    let staff = matches!(list.viewer.as_str(), "teacher" | "admin");
    let items = list
        .assignments
        .iter()
        .map(|a| {
            let mut statuses = Vec::new();
            if let Some(s) = a.status {
                statuses.push((w.status(s).to_owned(), s.as_str(), String::new()));
            }
            for c in &a.children {
                statuses.push((
                    w.status(c.status).to_owned(),
                    c.status.as_str(),
                    c.name.clone(),
                ));
            }
            Item {
                id: a.id.clone(),
                title: a.title.clone(),
                due: local(&state, a.due_at),
                past_due: a.past_due,
                scale: w.scale(&a.scale),
                statuses,
                counts: a.counts.map(|c| {
                    format!(
                        "{} {} / {} · {}",
                        w.say("assignments.count.handed_in"),
                        c.handed_in + c.late + c.returned,
                        c.total,
                        w.format(
                            "assignments.count.to_mark",
                            &[("n", c.to_mark().to_string())]
                        )
                    )
                }),
            }
        })
        .collect();
    let template = ListPage {
        page: layout(&ctx, &state, "assignments.list.title"),
        w,
        stylesheet: stylesheet(),
        class: list.class.clone(),
        title: list.title.clone(),
        staff,
        items,
    };
    Ok(render(&template, ctx.lang))
}
