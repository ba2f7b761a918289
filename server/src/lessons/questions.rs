//! Questions a class asks on a lesson, and the answers of its teachers.
//!
//! One thread per lesson and class. A pupil of the class asks (once the lesson is shown to
//! the class); a teacher of the class, or the lesson's owner, answers; the class's pupils,
//! teachers and administrators read the thread, and the pupils' families read it without
//! writing. Everything is plain text: pages escape it when they show it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, ClassStanding, Standing, Viewer};
use super::entity::question;
use super::lists::ClassRef;
use super::service::{self, Loaded, invalid};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::{class, enrollment, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// A question or an answer is a few paragraphs at most.
pub const MAX_CHARS: usize = 2_000;

/// `POST /api/v1/lessons/{id}/questions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The sourcedId of the asker's class.
    pub class: String,
    pub body: String,
}

/// `POST /api/v1/lessons/{id}/questions/{qid}/answers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub body: String,
}

/// A question or an answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Post {
    pub id: String,
    pub author: String,
    /// Written by the reader.
    pub mine: bool,
    /// Written by a teacher of the class or the lesson's owner.
    pub by_teacher: bool,
    /// Plain text.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A question with its answers, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionView {
    #[serde(flatten)]
    pub question: Post,
    pub answers: Vec<Post>,
}

/// `GET /api/v1/lessons/{id}/questions?class=`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Thread {
    pub lesson_id: String,
    pub class: ClassRef,
    pub questions: Vec<QuestionView>,
    /// The reader may ask here (a pupil of the class).
    pub may_ask: bool,
    /// The reader may answer here (a teacher of the class, or the lesson's owner).
    pub may_answer: bool,
}

/// Where a person stands in one class's thread on one lesson.
pub struct Place {
    pub class: class::Model,
    pub class_standing: ClassStanding,
    pub ask: bool,
    pub answer: bool,
}

/// The reader's place in the thread of `class_sourced_id`; 404 when it is not theirs to read.
pub async fn place(
    state: &AppState,
    viewer: &Viewer,
    loaded: &Loaded,
    standing: &Standing,
    class_sourced_id: &str,
) -> Result<Place, AppError> {
    let now = state.clock.now();
    let found = loaded.publications.iter().find_map(|p| {
        let c = loaded.classes.get(&p.class_id)?;
        (c.sourced_id == class_sourced_id && access::live(p)).then_some((p, c))
    });
    let Some((p, c)) = found else {
        return Err(AppError::not_found());
    };
    let cs = viewer.standing(&state.db, c).await?;
    let shown = access::visible(p, now);
    let teaches = cs.teacher || standing.owner;
    let read = teaches || cs.admin || (shown && (cs.student || cs.guardian));
    if !read {
        return Err(AppError::not_found());
    }
    Ok(Place {
        class: c.clone(),
        class_standing: cs,
        ask: shown && cs.student,
        answer: teaches,
    })
}

fn text(value: &str) -> Result<String, AppError> {
    let clean: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let len = clean.chars().count();
    if len == 0 {
        return Err(invalid("body", "请写下内容 / write something"));
    }
    if len > MAX_CHARS {
        return Err(invalid(
            "body",
            format!(
                "最多 {MAX_CHARS} 个字，现在 {len} 个 / at most {MAX_CHARS} characters, got {len}"
            ),
        ));
    }
    Ok(clean)
}

/// A pupil of the class asks a question on a lesson shown to it.
pub async fn ask(
    state: &AppState,
    asker: &person::Model,
    id: &str,
    input: Ask,
) -> Result<QuestionView, AppError> {
    let viewer = Viewer::load(&state.db, asker).await?;
    let (loaded, standing) = service::open(state, &viewer, id).await?;
    let place = place(state, &viewer, &loaded, &standing, input.class.trim()).await?;
    if !place.ask {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let body = text(&input.body)?;
    let q = question::Model {
        id: uuid::Uuid::now_v7().to_string(),
        lesson_id: id.to_owned(),
        class_id: place.class.id.clone(),
        parent_id: None,
        author_id: asker.id.clone(),
        body,
        created_at: state.clock.now(),
        edited_at: None,
        removed_at: None,
    };
    question::Entity::insert(q.clone().into_active_model())
        .exec_without_returning(&state.db)
        .await?;
    Ok(QuestionView {
        question: post(&q, &asker.display_name, true, false),
        answers: Vec::new(),
    })
}

/// A teacher of the question's class (or the lesson's owner) answers it.
pub async fn answer(
    state: &AppState,
    teacher: &person::Model,
    id: &str,
    question_id: &str,
    input: Answer,
) -> Result<Post, AppError> {
    let viewer = Viewer::load(&state.db, teacher).await?;
    let (loaded, standing) = service::open(state, &viewer, id).await?;
    let q = question::Entity::find_by_id(question_id.to_owned())
        .one(&state.db)
        .await?
        .filter(|q| q.lesson_id == id && q.parent_id.is_none() && q.removed_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let sourced_id = loaded
        .classes
        .get(&q.class_id)
        .map(|c| c.sourced_id.clone())
        .ok_or_else(AppError::not_found)?;
    let place = place(state, &viewer, &loaded, &standing, &sourced_id).await?;
    if !place.answer {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let body = text(&input.body)?;
    let a = question::Model {
        id: uuid::Uuid::now_v7().to_string(),
        lesson_id: id.to_owned(),
        class_id: q.class_id.clone(),
        parent_id: Some(q.id.clone()),
        author_id: teacher.id.clone(),
        body,
        created_at: state.clock.now(),
        edited_at: None,
        removed_at: None,
    };
    question::Entity::insert(a.clone().into_active_model())
        .exec_without_returning(&state.db)
        .await?;
    Ok(post(&a, &teacher.display_name, true, true))
}

fn post(q: &question::Model, author: &str, mine: bool, by_teacher: bool) -> Post {
    Post {
        id: q.id.clone(),
        author: author.to_owned(),
        mine,
        by_teacher,
        body: q.body.clone(),
        created_at: q.created_at,
    }
}

/// The class's thread on the lesson, oldest question first.
pub async fn thread(
    state: &AppState,
    reader: &person::Model,
    id: &str,
    class_sourced_id: &str,
) -> Result<Thread, AppError> {
    let viewer = Viewer::load(&state.db, reader).await?;
    let (loaded, standing) = service::open(state, &viewer, id).await?;
    let place = place(state, &viewer, &loaded, &standing, class_sourced_id.trim()).await?;
    thread_in(state, &viewer, &loaded, &place).await
}

/// The thread of a place already found (pages show one per class).
pub async fn thread_in(
    state: &AppState,
    viewer: &Viewer,
    loaded: &Loaded,
    place: &Place,
) -> Result<Thread, AppError> {
    let rows = question::Entity::find()
        .filter(question::Column::LessonId.eq(loaded.lesson.id.as_str()))
        .filter(question::Column::ClassId.eq(place.class.id.as_str()))
        .filter(question::Column::RemovedAt.is_null())
        .order_by_asc(question::Column::CreatedAt)
        .order_by_asc(question::Column::Id)
        .all(&state.db)
        .await?;
    let people = service::names(&state.db, rows.iter().map(|q| q.author_id.clone())).await?;
    // Answers are marked as the teachers' (the class's teachers and the lesson's owner).
    let staff: BTreeSet<String> = enrollment::Entity::find()
        .filter(enrollment::Column::ClassId.eq(place.class.id.as_str()))
        .filter(enrollment::Column::Role.eq("teacher"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| e.person_id)
        .chain(std::iter::once(loaded.lesson.owner_id.clone()))
        .collect();
    let as_post = |q: &question::Model| {
        post(
            q,
            &people
                .get(&q.author_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            q.author_id == viewer.id(),
            staff.contains(&q.author_id),
        )
    };
    let mut answers: BTreeMap<String, Vec<Post>> = BTreeMap::new();
    for a in rows.iter().filter(|q| q.parent_id.is_some()) {
        if let Some(parent) = &a.parent_id {
            answers.entry(parent.clone()).or_default().push(as_post(a));
        }
    }
    let questions = rows
        .iter()
        .filter(|q| q.parent_id.is_none())
        .map(|q| QuestionView {
            question: as_post(q),
            answers: answers.remove(&q.id).unwrap_or_default(),
        })
        .collect();
    Ok(Thread {
        lesson_id: loaded.lesson.id.clone(),
        class: ClassRef {
            sourced_id: place.class.sourced_id.clone(),
            title: place.class.title.clone(),
        },
        questions,
        may_ask: place.ask,
        may_answer: place.answer,
    })
}
