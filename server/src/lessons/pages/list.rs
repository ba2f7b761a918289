//! `/lessons`: for a teacher, the lessons they wrote (drafts, scheduled, published, with each
//! class's state) and colleagues' published lessons they may copy; for a pupil or a parent (a
//! teacher who is a parent too), the lessons published to their (children's) classes, newest
//! first.

use askama::Template;
use axum::extract::State;

use super::{Frame, Words, layout, when};
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::http::page::{Page, signed_in};
use crate::lessons::access::{self, Viewer};
use crate::lessons::lists;
use crate::state::AppState;

/// How many lessons of one's classes the page lists.
const CLASS_LESSONS: usize = 50;

#[derive(Template)]
#[template(path = "lessons/list.html")]
struct ListPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    mine: Vec<Line>,
    shared: Vec<Line>,
    classes: Vec<Line>,
}

/// One lesson in a list.
struct Line {
    id: String,
    title: String,
    meta: String,
    /// State for the tag's colour, and as people read it.
    tags: Vec<(String, String)>,
}

pub(super) async fn page(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, "/lessons")?.person;
    let w = Words::new(ctx.tr(&state.i18n));
    let viewer = Viewer::load(&state.db, me).await?;
    let (mut mine, mut shared) = (Vec::new(), Vec::new());
    if viewer.writes() {
        for l in lists::mine(&state, me).await? {
            let mut meta = vec![
                w.format("lessons.list.version", &[("n", l.version.to_string())]),
                w.format(
                    "lessons.list.updated",
                    &[("when", when(&state, l.updated_at))],
                ),
            ];
            meta.extend(
                l.classes
                    .iter()
                    .filter(|c| c.state != "withdrawn")
                    .map(|c| format!("{}（{}）", c.title, w.state(&c.state))),
            );
            mine.push(Line {
                tags: vec![(l.state.clone(), w.state(&l.state))],
                id: l.id,
                title: l.title,
                meta: meta.join(" · "),
            });
        }
        for s in lists::shared(&state, me, 20).await? {
            let class_titles: Vec<String> = s.classes.iter().map(|c| c.title.clone()).collect();
            shared.push(Line {
                meta: format!(
                    "{} · {}",
                    w.format(
                        "lessons.list.by",
                        &[
                            ("name", s.owner.name),
                            ("when", when(&state, s.published_at))
                        ]
                    ),
                    class_titles.join("、")
                ),
                id: s.id,
                title: s.title,
                tags: Vec::new(),
            });
        }
    }
    // Pupils and families (a teacher may be a parent too): the lessons of their classes.
    let classes = class_lines(&state, w, &viewer).await?;
    let template = ListPage {
        page: layout(&ctx, &state, "lessons.list.title"),
        w,
        frame: Frame::new(viewer.writes(), "list"),
        mine,
        shared,
        classes,
    };
    Ok(render(&template, ctx.lang))
}

/// The lessons shown to the classes the viewer is a pupil in, or their children are.
async fn class_lines(
    state: &AppState,
    w: Words<'_>,
    viewer: &Viewer,
) -> Result<Vec<Line>, AppError> {
    let mut classes = Vec::new();
    let class_ids: Vec<String> = viewer
        .studies
        .iter()
        .chain(viewer.children_in.iter())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let titles = access::classes_by_id(&state.db, class_ids.iter().cloned()).await?;
    let rows = lists::visible_in_classes(&state.db, &class_ids, state.clock.now(), CLASS_LESSONS)
        .await
        .map_err(AppError::from)?;
    for r in rows {
        let class = titles.get(&r.class_id).map(|c| c.title.clone());
        classes.push(Line {
            meta: format!(
                "{}{}",
                w.format(
                    "lessons.list.by",
                    &[("name", r.owner_name), ("when", when(state, r.publish_at))]
                ),
                class.map(|c| format!(" · {c}")).unwrap_or_default()
            ),
            id: r.lesson_id,
            title: r.title,
            tags: Vec::new(),
        });
    }
    Ok(classes)
}
