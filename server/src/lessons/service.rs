//! Writing lessons: create, edit (each saved text is a version), read and history.
//!
//! The Markdown is rendered (and sanitised) once, when it is saved; text that tries to run
//! script is refused with its line and nothing is stored. Publishing lives in
//! [`super::publishing`], the class lists and the read other features call in
//! [`super::lists`], copying in [`super::copying`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Standing, Viewer};
use super::attachments;
use super::entity::{lesson, publication, version};
use crate::error::{AppError, ErrorCode};
use crate::markdown;
use crate::roster::entity::{class, person};
use crate::state::AppState;

/// The read the spaces call (it lives with the lists; named here too, where other features
/// look for it).
pub use super::lists::{VisibleLesson, visible_in_classes};

/// A title is a line, not a paragraph.
pub const MAX_TITLE: usize = 200;

/// `POST /api/v1/lessons`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLesson {
    /// Required, at most 200 characters.
    pub title: String,
    /// Markdown; script is refused with its line.
    #[serde(default)]
    pub body: String,
}

/// `PATCH /api/v1/lessons/{id}`: what changes (at least one).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LessonEdit {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// A person as lessons show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonName {
    pub sourced_id: String,
    pub name: String,
}

/// One class a lesson is (or was) published to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassPublication {
    pub sourced_id: String,
    pub title: String,
    pub publish_at: DateTime<Utc>,
    /// Published for a time still to come.
    pub scheduled: bool,
    /// `published`, `scheduled` or `withdrawn`.
    pub state: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// What the reader may do with the lesson.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct May {
    pub edit: bool,
    pub publish: bool,
    pub copy: bool,
    pub history: bool,
}

/// `GET /api/v1/lessons/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LessonView {
    pub id: String,
    pub title: String,
    /// The Markdown as written.
    pub body: String,
    /// The sanitised HTML rendered from it when it was saved.
    pub body_html: String,
    pub version: i32,
    /// `draft` (published nowhere), `scheduled` or `published`.
    pub state: String,
    pub owner: PersonName,
    pub copied_from_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The classes the reader may know it is published to, with the publish times.
    pub classes: Vec<ClassPublication>,
    pub attachments: Vec<attachments::AttachmentView>,
    pub may: May,
}

/// One saved text of a lesson.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = lessons::VersionView)]
pub struct VersionView {
    pub number: i32,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

/// A title trimmed and checked.
pub fn parse_title(value: &str) -> Result<String, AppError> {
    let title = value.trim();
    let len = title.chars().count();
    if len == 0 {
        return Err(invalid("title", "请填写标题 / a title is required"));
    }
    if len > MAX_TITLE {
        return Err(invalid(
            "title",
            format!(
                "标题最多 {MAX_TITLE} 个字，现在 {len} 个 / at most {MAX_TITLE} characters, got {len}"
            ),
        ));
    }
    Ok(title.to_owned())
}

/// The body rendered, or the refusal naming `body` and the line.
pub fn render_body(body: &str) -> Result<String, AppError> {
    markdown::render(body).map_err(|r| r.into_error("body"))
}

/// The lesson, its publications and their (active) classes.
pub struct Loaded {
    pub lesson: lesson::Model,
    pub publications: Vec<publication::Model>,
    pub classes: BTreeMap<String, class::Model>,
}

pub async fn load(db: &impl ConnectionTrait, id: &str) -> Result<Option<Loaded>, AppError> {
    let Some(l) = lesson::Entity::find_by_id(id.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let publications = publication::Entity::find()
        .filter(publication::Column::LessonId.eq(id))
        .order_by_asc(publication::Column::CreatedAt)
        .all(db)
        .await?;
    let classes =
        access::classes_by_id(db, publications.iter().map(|p| p.class_id.clone())).await?;
    Ok(Some(Loaded {
        lesson: l,
        publications,
        classes,
    }))
}

/// The lesson as `viewer` stands to it; 404 when they may not see it at all.
pub async fn open(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<(Loaded, Standing), AppError> {
    let loaded = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let standing = access::standing(
        &state.db,
        viewer,
        &loaded.lesson,
        &loaded.publications,
        &loaded.classes,
        state.clock.now(),
    )
    .await?;
    if !standing.sees() {
        return Err(AppError::not_found());
    }
    Ok((loaded, standing))
}

/// The lesson for its owner: others who see it are refused (403), the rest get 404.
pub async fn open_own(state: &AppState, viewer: &Viewer, id: &str) -> Result<Loaded, AppError> {
    let (loaded, standing) = open(state, viewer, id).await?;
    if !standing.owner {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok(loaded)
}

/// `POST /api/v1/lessons`: a draft of the caller's.
pub async fn create(
    state: &AppState,
    author: &person::Model,
    input: NewLesson,
) -> Result<lesson::Model, AppError> {
    let viewer = Viewer::load(&state.db, author).await?;
    if !viewer.writes() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let title = parse_title(&input.title)?;
    let body_html = render_body(&input.body)?;
    let org_id = viewer
        .home_org(&state.db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::Forbidden))?;
    let now = state.clock.now();
    let l = lesson::Model {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: author.id.clone(),
        org_id,
        title,
        body: input.body,
        body_html,
        version: 1,
        copied_from_id: None,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    insert_with_first_version(&txn, &l).await?;
    txn.commit().await?;
    Ok(l)
}

pub(crate) async fn insert_with_first_version(
    db: &impl ConnectionTrait,
    l: &lesson::Model,
) -> Result<(), AppError> {
    lesson::Entity::insert(l.clone().into_active_model())
        .exec_without_returning(db)
        .await?;
    version::Entity::insert(
        version::Model {
            id: uuid::Uuid::now_v7().to_string(),
            lesson_id: l.id.clone(),
            number: 1,
            title: l.title.clone(),
            body: l.body.clone(),
            author_id: l.owner_id.clone(),
            created_at: l.created_at,
        }
        .into_active_model(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// `PATCH /api/v1/lessons/{id}`: the owner saves a new text; it becomes the next version and
/// the one everybody reads. An edit that changes nothing saves nothing.
pub async fn edit(
    state: &AppState,
    author: &person::Model,
    id: &str,
    input: LessonEdit,
) -> Result<lesson::Model, AppError> {
    let viewer = Viewer::load(&state.db, author).await?;
    let current = open_own(state, &viewer, id).await?.lesson;
    if input.title.is_none() && input.body.is_none() {
        return Err(invalid(
            "title / body",
            "请给出新的标题或正文 / give a new title or body",
        ));
    }
    let title = match &input.title {
        Some(t) => parse_title(t)?,
        None => current.title.clone(),
    };
    let (body, body_html) = match input.body {
        Some(b) => {
            let html = render_body(&b)?;
            (b, html)
        }
        None => (current.body.clone(), current.body_html.clone()),
    };
    if title == current.title && body == current.body {
        return Ok(current);
    }
    let now = state.clock.now();
    let number = current.version + 1;
    let txn = state.db.begin().await?;
    // Conditional on the version read, so two saves at once cannot both become version n+1.
    let updated = lesson::Entity::update_many()
        .col_expr(lesson::Column::Title, Expr::value(title.clone()))
        .col_expr(lesson::Column::Body, Expr::value(body.clone()))
        .col_expr(lesson::Column::BodyHtml, Expr::value(body_html.clone()))
        .col_expr(lesson::Column::Version, Expr::value(number))
        .col_expr(lesson::Column::UpdatedAt, Expr::value(now))
        .filter(lesson::Column::Id.eq(id))
        .filter(lesson::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::Conflict));
    }
    version::Entity::insert(
        version::Model {
            id: uuid::Uuid::now_v7().to_string(),
            lesson_id: id.to_owned(),
            number,
            title: title.clone(),
            body: body.clone(),
            author_id: author.id.clone(),
            created_at: now,
        }
        .into_active_model(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(lesson::Model {
        title,
        body,
        body_html,
        version: number,
        updated_at: now,
        ..current
    })
}

/// `GET /api/v1/lessons/{id}`.
pub async fn detail(
    state: &AppState,
    viewer_person: &person::Model,
    id: &str,
) -> Result<LessonView, AppError> {
    let viewer = Viewer::load(&state.db, viewer_person).await?;
    let (loaded, standing) = open(state, &viewer, id).await?;
    view(state, &viewer, &loaded, &standing).await
}

/// The lesson as `viewer` may read it: every publication for the owner, else those of the
/// classes they stand in (scheduled ones only for the class's staff) and, for colleagues, the
/// visible ones.
pub async fn view(
    state: &AppState,
    viewer: &Viewer,
    loaded: &Loaded,
    standing: &Standing,
) -> Result<LessonView, AppError> {
    let now = state.clock.now();
    let l = &loaded.lesson;
    let mut classes = Vec::new();
    for p in &loaded.publications {
        let Some(c) = loaded.classes.get(&p.class_id) else {
            continue;
        };
        let shown = standing.owner
            || (access::live(p) && standing.staff_of.contains(&c.id))
            || (access::visible(p, now)
                && (standing.reader_of.contains(&c.id) || standing.colleague));
        if shown {
            classes.push(class_publication(p, c, now));
        }
    }
    let owner = names(&state.db, [l.owner_id.clone()].into_iter()).await?;
    Ok(LessonView {
        id: l.id.clone(),
        title: l.title.clone(),
        body: l.body.clone(),
        body_html: l.body_html.clone(),
        version: l.version,
        state: lesson_state(&loaded.publications, now).to_owned(),
        owner: owner.get(&l.owner_id).cloned().unwrap_or(PersonName {
            sourced_id: String::new(),
            name: String::new(),
        }),
        copied_from_id: l.copied_from_id.clone(),
        created_at: l.created_at,
        updated_at: l.updated_at,
        classes,
        attachments: attachments::list(state, &l.id).await?,
        may: May {
            edit: standing.owner,
            publish: standing.owner,
            copy: standing.may_copy() && viewer.writes(),
            history: standing.sees_history(),
        },
    })
}

pub fn class_publication(
    p: &publication::Model,
    c: &class::Model,
    now: DateTime<Utc>,
) -> ClassPublication {
    let state = if p.withdrawn_at.is_some() {
        "withdrawn"
    } else if p.publish_at > now {
        "scheduled"
    } else {
        "published"
    };
    ClassPublication {
        sourced_id: c.sourced_id.clone(),
        title: c.title.clone(),
        publish_at: p.publish_at,
        scheduled: state == "scheduled",
        state: state.to_owned(),
        withdrawn_at: p.withdrawn_at,
    }
}

/// `draft` when published nowhere, `published` when shown somewhere now, else `scheduled`.
pub fn lesson_state(publications: &[publication::Model], now: DateTime<Utc>) -> &'static str {
    if publications.iter().any(|p| access::visible(p, now)) {
        "published"
    } else if publications.iter().any(access::live) {
        "scheduled"
    } else {
        "draft"
    }
}

/// `GET /api/v1/lessons/{id}/versions`: newest first, for the owner and the staff of the
/// classes it is published to. Others who see the lesson are refused; the rest get 404.
pub async fn versions(
    state: &AppState,
    viewer_person: &person::Model,
    id: &str,
) -> Result<(lesson::Model, Vec<VersionView>), AppError> {
    let viewer = Viewer::load(&state.db, viewer_person).await?;
    let (loaded, standing) = open(state, &viewer, id).await?;
    if !standing.sees_history() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let rows = version::Entity::find()
        .filter(version::Column::LessonId.eq(id))
        .order_by_desc(version::Column::Number)
        .all(&state.db)
        .await?;
    let people = names(&state.db, rows.iter().map(|v| v.author_id.clone())).await?;
    let out = rows
        .into_iter()
        .map(|v| VersionView {
            number: v.number,
            author: people
                .get(&v.author_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            title: v.title,
            body: v.body,
            created_at: v.created_at,
        })
        .collect();
    Ok((loaded.lesson, out))
}

/// Person id → sourcedId and display name.
pub async fn names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, PersonName>, AppError> {
    let ids: Vec<String> = ids.collect();
    Ok(crate::people::store::people_by_id(db, ids)
        .await?
        .into_values()
        .map(|p| {
            (
                p.id.clone(),
                PersonName {
                    sourced_id: p.sourced_id,
                    name: p.display_name,
                },
            )
        })
        .collect())
}
