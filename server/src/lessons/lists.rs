//! The lists made from publications: a class's lessons, a teacher's own, colleagues'
//! published ones, and [`visible_in_classes`], the read the spaces call.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::access::{self, Viewer};
use super::entity::{lesson, publication};
use super::service::{self, ClassPublication, PersonName, invalid};
use crate::error::AppError;
use crate::people::relations;
use crate::roster::entity::{class, person};
use crate::state::AppState;

/// One lesson in a class's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassLesson {
    pub id: String,
    pub title: String,
    pub owner: PersonName,
    pub version: i32,
    pub publish_at: DateTime<Utc>,
    /// Still to come (shown only to the class's teachers and its school's administrators).
    pub scheduled: bool,
    pub updated_at: DateTime<Utc>,
}

/// A class as a list names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = lessons::ClassRef)]
pub struct ClassRef {
    pub sourced_id: String,
    pub title: String,
}

/// `GET /api/v1/classes/{sourcedId}/lessons`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassLessons {
    pub class: ClassRef,
    pub lessons: Vec<ClassLesson>,
    /// Pass as `cursor` for the next (older) page.
    pub next_cursor: Option<String>,
}

/// The class's lessons, newest first: what has been published for its pupils and families;
/// scheduled ones too for its teachers and administrators. Anyone else: 404.
pub async fn class_lessons(
    state: &AppState,
    viewer_person: &person::Model,
    sourced_id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ClassLessons, AppError> {
    let c = relations::class_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let viewer = Viewer::load(&state.db, viewer_person).await?;
    let standing = viewer.standing(&state.db, &c).await?;
    if !standing.any() {
        return Err(AppError::not_found());
    }
    let limit = limit.clamp(1, 200);
    let now = state.clock.now();
    let mut query = publication::Entity::find()
        .filter(publication::Column::ClassId.eq(c.id.as_str()))
        .filter(publication::Column::WithdrawnAt.is_null());
    if !standing.staff() {
        query = query.filter(publication::Column::PublishAt.lte(now));
    }
    if let Some(cursor) = cursor.map(str::trim).filter(|s| !s.is_empty()) {
        let (at, pid) = parse_cursor(cursor)?;
        query = query.filter(
            Condition::any()
                .add(publication::Column::PublishAt.lt(at))
                .add(
                    Condition::all()
                        .add(publication::Column::PublishAt.eq(at))
                        .add(publication::Column::Id.lt(pid)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(publication::Column::PublishAt)
        .order_by_desc(publication::Column::Id)
        .limit(limit as u64 + 1)
        .all(&state.db)
        .await?;
    let next_cursor = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last()
            .map(|p| format!("{}_{}", p.publish_at.timestamp_micros(), p.id))
            .unwrap_or_default()
    });
    let lessons = lessons_by_id(&state.db, rows.iter().map(|p| p.lesson_id.clone())).await?;
    let owners = service::names(&state.db, lessons.values().map(|l| l.owner_id.clone())).await?;
    let lessons = rows
        .iter()
        .filter_map(|p| {
            let l = lessons.get(&p.lesson_id)?;
            Some(ClassLesson {
                id: l.id.clone(),
                title: l.title.clone(),
                owner: owners.get(&l.owner_id).cloned().unwrap_or(PersonName {
                    sourced_id: String::new(),
                    name: String::new(),
                }),
                version: l.version,
                publish_at: p.publish_at,
                scheduled: p.publish_at > now,
                updated_at: l.updated_at,
            })
        })
        .collect();
    Ok(ClassLessons {
        class: ClassRef {
            sourced_id: c.sourced_id,
            title: c.title,
        },
        lessons,
        next_cursor,
    })
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), AppError> {
    cursor
        .split_once('_')
        .and_then(|(micros, id)| {
            let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
            Some((at, id.to_owned()))
        })
        .ok_or_else(|| {
            invalid(
                "cursor",
                "无效的翻页游标 / not a cursor from a previous answer",
            )
        })
}

pub async fn lessons_by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<BTreeMap<String, lesson::Model>, DbErr> {
    let ids: Vec<String> = ids.collect::<BTreeSet<_>>().into_iter().collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(400) {
        for l in lesson::Entity::find()
            .filter(lesson::Column::Id.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            out.insert(l.id.clone(), l);
        }
    }
    Ok(out)
}

/// One of the teacher's own lessons with each class's publication.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyLesson {
    pub id: String,
    pub title: String,
    pub version: i32,
    /// `draft`, `scheduled` or `published`.
    pub state: String,
    pub copied_from_id: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub classes: Vec<ClassPublication>,
}

/// `GET /api/v1/me/lessons`: the caller's lessons, most recently changed first.
pub async fn mine(state: &AppState, me: &person::Model) -> Result<Vec<MyLesson>, AppError> {
    let own = lesson::Entity::find()
        .filter(lesson::Column::OwnerId.eq(me.id.as_str()))
        .order_by_desc(lesson::Column::UpdatedAt)
        .all(&state.db)
        .await?;
    let mut pubs: BTreeMap<String, Vec<publication::Model>> = BTreeMap::new();
    let ids: Vec<String> = own.iter().map(|l| l.id.clone()).collect();
    for chunk in ids.chunks(400) {
        for p in publication::Entity::find()
            .filter(publication::Column::LessonId.is_in(chunk.iter().cloned()))
            .order_by_asc(publication::Column::CreatedAt)
            .all(&state.db)
            .await?
        {
            pubs.entry(p.lesson_id.clone()).or_default().push(p);
        }
    }
    let classes = access::classes_by_id(
        &state.db,
        pubs.values().flatten().map(|p| p.class_id.clone()),
    )
    .await?;
    let now = state.clock.now();
    Ok(own
        .into_iter()
        .map(|l| {
            let ps = pubs.remove(&l.id).unwrap_or_default();
            MyLesson {
                state: service::lesson_state(&ps, now).to_owned(),
                classes: ps
                    .iter()
                    .filter_map(|p| {
                        classes
                            .get(&p.class_id)
                            .map(|c| service::class_publication(p, c, now))
                    })
                    .collect(),
                id: l.id,
                title: l.title,
                version: l.version,
                copied_from_id: l.copied_from_id,
                updated_at: l.updated_at,
            }
        })
        .collect())
}

/// A lesson visibly published to a class, as [`visible_in_classes`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VisibleLesson {
    pub lesson_id: String,
    pub title: String,
    /// The class's id (not its sourcedId).
    pub class_id: String,
    pub publish_at: DateTime<Utc>,
    pub owner_name: String,
}

/// The lessons visibly published to any of `class_ids` at `now` (not withdrawn,
/// `publish_at <= now`), newest first, at most `limit` rows; a lesson published to two of the
/// classes appears once per class. The caller has decided that its reader may see these
/// classes (a pupil's own, a parent's child's): this is a read, not an authorization.
pub async fn visible_in_classes(
    db: &impl ConnectionTrait,
    class_ids: &[String],
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<VisibleLesson>, DbErr> {
    if class_ids.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for chunk in class_ids.chunks(400) {
        rows.extend(
            publication::Entity::find()
                .filter(publication::Column::ClassId.is_in(chunk.iter().cloned()))
                .filter(publication::Column::WithdrawnAt.is_null())
                .filter(publication::Column::PublishAt.lte(now))
                .order_by_desc(publication::Column::PublishAt)
                .order_by_desc(publication::Column::Id)
                .limit(limit as u64)
                .all(db)
                .await?,
        );
    }
    rows.sort_by(|a, b| (b.publish_at, &b.id).cmp(&(a.publish_at, &a.id)));
    rows.truncate(limit);
    let lessons = lessons_by_id(db, rows.iter().map(|p| p.lesson_id.clone())).await?;
    let owners = crate::people::store::people_by_id(
        db,
        lessons.values().map(|l| l.owner_id.clone()).collect(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|p| {
            let l = lessons.get(&p.lesson_id)?;
            Some(VisibleLesson {
                lesson_id: l.id.clone(),
                title: l.title.clone(),
                class_id: p.class_id,
                publish_at: p.publish_at,
                owner_name: owners
                    .get(&l.owner_id)
                    .map(|o| o.display_name.clone())
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// A colleague's lesson a teacher may read and copy.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SharedLesson {
    pub id: String,
    pub title: String,
    pub owner: PersonName,
    /// When it was first shown in one of the caller's schools.
    pub published_at: DateTime<Utc>,
    pub classes: Vec<ClassRef>,
}

/// `GET /api/v1/lessons/shared`: lessons others have visibly published to classes of the
/// schools the caller teaches in or administers, newest first — the lessons they may copy.
pub async fn shared(
    state: &AppState,
    me: &person::Model,
    limit: usize,
) -> Result<Vec<SharedLesson>, AppError> {
    let viewer = Viewer::load(&state.db, me).await?;
    if !viewer.writes() {
        return Ok(Vec::new());
    }
    let mut schools = viewer.taught_schools(&state.db).await?;
    schools.extend(viewer.administered_schools(&state.db).await?);
    let schools: Vec<String> = schools.into_iter().collect();
    let mut classes = BTreeMap::new();
    for chunk in schools.chunks(400) {
        for c in class::Entity::find()
            .filter(class::Column::SchoolId.is_in(chunk.iter().cloned()))
            .filter(class::Column::Status.eq(crate::roster::snapshot::ACTIVE))
            .all(&state.db)
            .await?
        {
            classes.insert(c.id.clone(), c);
        }
    }
    let class_ids: Vec<String> = classes.keys().cloned().collect();
    let now = state.clock.now();
    // Enough rows that `limit` lessons remain after the caller's own are left out.
    let rows = visible_in_classes(&state.db, &class_ids, now, limit.clamp(1, 200) * 4).await?;
    let lessons = lessons_by_id(&state.db, rows.iter().map(|r| r.lesson_id.clone())).await?;
    let owners = service::names(&state.db, lessons.values().map(|l| l.owner_id.clone())).await?;
    let mut out: Vec<SharedLesson> = Vec::new();
    for r in rows {
        let Some(l) = lessons.get(&r.lesson_id).filter(|l| l.owner_id != me.id) else {
            continue;
        };
        let class = classes.get(&r.class_id).map(|c| ClassRef {
            sourced_id: c.sourced_id.clone(),
            title: c.title.clone(),
        });
        if let Some(existing) = out.iter_mut().find(|s| s.id == l.id) {
            existing.published_at = existing.published_at.min(r.publish_at);
            existing.classes.extend(class);
            continue;
        }
        if out.len() == limit {
            continue;
        }
        out.push(SharedLesson {
            id: l.id.clone(),
            title: l.title.clone(),
            owner: owners.get(&l.owner_id).cloned().unwrap_or(PersonName {
                sourced_id: String::new(),
                name: String::new(),
            }),
            published_at: r.publish_at,
            classes: class.into_iter().collect(),
        });
    }
    Ok(out)
}
