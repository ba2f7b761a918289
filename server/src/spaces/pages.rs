//! `/space` (my space, by the roles I have), `/classes/{sourcedId}` (a class's space) and
//! `/schools/{sourcedId}` (a school's space).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::cache::PageKey;
use super::read::{ClassSpace, MySpace, SchoolSpace, ToMark};
use crate::error::AppError;
use crate::http::display::{local_date, local_time};
use crate::http::layout::{Layout, PageContext, html, render};
use crate::http::page::{Page, signed_in};
use crate::i18n::Tr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/space", get(mine))
        .route("/classes/{sourced_id}", get(class_page))
        .route("/schools/{sourced_id}", get(school_page))
}

/// Formatting the templates share: times in Beijing time, vocabularies in the reader's language.
pub(crate) struct Fmt<'a> {
    tr: Tr<'a>,
}

impl Fmt<'_> {
    pub fn when(&self, at: &DateTime<Utc>) -> String {
        local_time(*at)
    }

    pub fn day(&self, at: &DateTime<Utc>) -> String {
        local_date(*at)
    }

    pub fn due(&self, at: &DateTime<Utc>) -> String {
        self.tr.format("spaces.due", &[("at", local_time(*at))])
    }

    pub fn starts(&self, at: &DateTime<Utc>) -> String {
        self.tr.format("spaces.starts", &[("at", local_time(*at))])
    }

    pub fn answer_by(&self, at: &DateTime<Utc>) -> String {
        self.tr
            .format("spaces.answer_by", &[("at", local_time(*at))])
    }

    pub fn place(&self, place: &str) -> String {
        self.tr
            .format("spaces.place", &[("place", place.to_owned())])
    }

    pub fn students(&self, n: usize) -> String {
        self.tr.format("spaces.students", &[("n", n.to_string())])
    }

    pub fn counts(&self, a: &ToMark) -> String {
        self.tr.format(
            "spaces.to_mark_counts",
            &[
                ("handed_in", a.handed_in.to_string()),
                ("students", a.students.to_string()),
                ("waiting", a.waiting.to_string()),
            ],
        )
    }

    pub fn status(&self, status: &str) -> &str {
        match status {
            "handed_in" => self.tr.t("spaces.status_handed_in"),
            "late" => self.tr.t("spaces.status_late"),
            "returned" => self.tr.t("spaces.status_returned"),
            _ => self.tr.t("spaces.status_not_started"),
        }
    }

    pub fn lesson_state(&self, state: &str) -> &str {
        match state {
            "published" => self.tr.t("spaces.state_published"),
            "scheduled" => self.tr.t("spaces.state_scheduled"),
            _ => self.tr.t("spaces.state_draft"),
        }
    }

    pub fn kind(&self, kind: &str) -> &str {
        match kind {
            "work" => self.tr.t("spaces.kind_work"),
            "award" => self.tr.t("spaces.kind_award"),
            "activity" => self.tr.t("spaces.kind_activity"),
            _ => self.tr.t("spaces.kind_comment"),
        }
    }

    pub fn ask(&self, ask: &str) -> &str {
        match ask {
            "signup" => self.tr.t("spaces.ask_signup"),
            _ => self.tr.t("spaces.ask_permission"),
        }
    }
}

#[derive(Template)]
#[template(path = "spaces/mine.html")]
struct MinePage<'a> {
    page: Layout<'a>,
    f: Fmt<'a>,
    heading: String,
    space: std::sync::Arc<MySpace>,
}

/// `/space`: the signed-in person's own space. The page is made once per version of the space
/// (and language, address and token) and then served as made.
async fn mine(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let cached = super::cache::entry(&state, me).await?;
    if let Some(body) = cached.page(ctx.lang, &ctx.here, &ctx.csrf) {
        return Ok(html(body, ctx.lang));
    }
    let space = cached.space.clone();
    let tr = ctx.tr(&state.i18n);
    let heading = tr.format("spaces.welcome", &[("name", space.name.clone())]);
    let made = MinePage {
        page: ctx.layout(&state.i18n, "spaces.title"),
        f: Fmt { tr },
        heading,
        space,
    }
    .render()
    .map_err(AppError::internal)?;
    let body = Bytes::from(made);
    let key = PageKey {
        lang: ctx.lang,
        here: ctx.here.clone(),
        csrf: ctx.csrf.clone(),
    };
    cached.keep_page(key, body.clone());
    Ok(html(body, ctx.lang))
}

#[derive(Template)]
#[template(path = "spaces/class.html")]
struct ClassPage<'a> {
    page: Layout<'a>,
    f: Fmt<'a>,
    c: ClassSpace,
}

/// `/classes/{sourcedId}`: for the class's pupils, families, teachers and administrators.
async fn class_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let c = super::routes::class_space_for(&state, me, &sourced_id).await?;
    Ok(render(
        &ClassPage {
            page: ctx.layout(&state.i18n, "spaces.class_title"),
            f: Fmt {
                tr: ctx.tr(&state.i18n),
            },
            c,
        },
        ctx.lang,
    ))
}

#[derive(Template)]
#[template(path = "spaces/school.html")]
struct SchoolPage<'a> {
    page: Layout<'a>,
    f: Fmt<'a>,
    s: SchoolSpace,
}

/// `/schools/{sourcedId}`: the school's page for its people.
async fn school_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let s = super::routes::school_space_for(&state, me, &sourced_id).await?;
    Ok(render(
        &SchoolPage {
            page: ctx.layout(&state.i18n, "spaces.school_title"),
            f: Fmt {
                tr: ctx.tr(&state.i18n),
            },
            s,
        },
        ctx.lang,
    ))
}
