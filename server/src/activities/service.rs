//! Activities: creating one, what each person sees of one, the class's and the school's
//! lists, cancelling, and the reads the spaces pages use. Answers are in `answers`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::access::{self, Standing};
use super::entity::{activity, answer};
use crate::error::{AppError, ErrorCode};
use crate::markdown;
use crate::people::{relations, store};
use crate::roster::entity::{class, person};
use crate::state::AppState;

pub const MAX_REASON: usize = 500;
/// The most activities a list answers with (newest start first).
pub const LIST_LIMIT: u64 = 200;

/// What families answer per child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    None,
    Signup,
    Permission,
}

impl Ask {
    pub fn parse(value: &str) -> Option<Ask> {
        Some(match value.trim() {
            "" | "none" => Ask::None,
            "signup" => Ask::Signup,
            "permission" => Ask::Permission,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ask::None => "none",
            Ask::Signup => "signup",
            Ask::Permission => "permission",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = activities::PersonRef)]
pub struct PersonRef {
    pub sourced_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = activities::ClassRef)]
pub struct ClassRef {
    pub sourced_id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchoolRef {
    pub sourced_id: String,
    pub name: String,
}

/// An activity as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub capacity: Option<i32>,
    pub ask: String,
    pub question: String,
    pub deadline: Option<DateTime<Utc>>,
    /// Answers are taken until then: the deadline, or else the start.
    pub answers_close_at: DateTime<Utc>,
    pub class: Option<ClassRef>,
    pub school: SchoolRef,
    pub organiser: PersonRef,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
}

/// One child's answer as their family sees it (`answer` is null until given).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildAnswer {
    pub student: PersonRef,
    pub answer: Option<String>,
    pub note: String,
    pub answered_by: Option<PersonRef>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Yes and no, for the organisers only.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(as = activities::Counts)]
pub struct Counts {
    pub yes: u64,
    pub no: u64,
    pub unanswered: u64,
    /// Pupils the activity is for.
    pub pupils: u64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(as = activities::May)]
pub struct May {
    /// Answer for a child now.
    pub answer: bool,
    /// See every answer, the counts and the CSV.
    pub manage: bool,
    pub cancel: bool,
}

/// `GET /api/v1/activities/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub description: String,
    /// The description rendered and sanitised.
    pub description_html: String,
    /// Answers are taken now.
    pub open: bool,
    /// A sign-up whose places are all taken.
    pub full: bool,
    /// The caller's children's answers (a parent), or their own (a pupil).
    pub my_answers: Vec<ChildAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    pub may: May,
}

pub(crate) fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

/// A trimmed text of at most `max` characters; `required` refuses an empty one.
pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, AppError> {
    let v = value.trim();
    let len = v.chars().count();
    if required && len == 0 {
        return Err(invalid(field, "不能为空 / must not be empty"));
    }
    if len > max {
        return Err(invalid(
            field,
            format!("最多 {max} 个字，现在 {len} 个 / at most {max} characters, got {len}"),
        ));
    }
    Ok(v.to_owned())
}

/// A value that was given (a form's empty field is not).
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A time in RFC 3339, or a local time of the school's zone.
pub fn parse_time(
    field: &str,
    value: &str,
    zone: chrono_tz::Tz,
) -> Result<DateTime<Utc>, AppError> {
    let v = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(v, format)
            && let Some(t) = zone.from_local_datetime(&naive).earliest()
        {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(invalid(
        field,
        format!(
            "“{value}”不是时间，请写成 2026-12-10T08:30:00+08:00 或 2026-12-10 08:30 / \"{value}\" is not a time: use RFC 3339 or a local time such as 2026-12-10 08:30"
        ),
    ))
}

/// A time as the school reads it.
pub fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Markdown rendered and sanitised; text that cannot be rendered is shown escaped.
pub(crate) fn render(source: &str) -> String {
    markdown::render(source)
        .unwrap_or_else(|_| format!("<pre>{}</pre>", crate::search::escape(source)))
}

/// The last moment families may answer.
pub fn answers_close_at(a: &activity::Model) -> DateTime<Utc> {
    a.deadline.unwrap_or(a.starts_at)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<activity::Model, AppError> {
    activity::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)
}

/// The activity and what `viewer` may do with it; 404 for those it is not for.
pub async fn visible(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<(activity::Model, Standing), AppError> {
    let a = find(&state.db, id).await?;
    let standing = access::standing(&state.db, viewer, &a).await?;
    if !standing.sees() {
        return Err(AppError::not_found());
    }
    Ok((a, standing))
}

/// Summaries of these activities, with names looked up in three queries.
pub async fn summaries(
    db: &impl ConnectionTrait,
    list: &[activity::Model],
) -> Result<Vec<Summary>, DbErr> {
    let people =
        store::people_by_id(db, list.iter().map(|a| a.organiser_id.clone()).collect()).await?;
    let class_ids: BTreeSet<String> = list.iter().filter_map(|a| a.class_id.clone()).collect();
    let classes: HashMap<String, class::Model> = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let orgs = store::orgs_by_id(db, list.iter().map(|a| a.org_id.clone()).collect()).await?;
    Ok(list
        .iter()
        .map(|a| Summary {
            id: a.id.clone(),
            title: a.title.clone(),
            place: a.place.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            capacity: a.capacity,
            ask: a.ask.clone(),
            question: a.question.clone(),
            deadline: a.deadline,
            answers_close_at: answers_close_at(a),
            class: a
                .class_id
                .as_ref()
                .and_then(|id| classes.get(id))
                .map(|c| ClassRef {
                    sourced_id: c.sourced_id.clone(),
                    title: c.title.clone(),
                }),
            school: orgs.get(&a.org_id).map_or_else(
                || SchoolRef {
                    sourced_id: String::new(),
                    name: String::new(),
                },
                |o| SchoolRef {
                    sourced_id: o.sourced_id.clone(),
                    name: o.name.clone(),
                },
            ),
            organiser: person_ref(people.get(&a.organiser_id)),
            cancelled_at: a.cancelled_at,
            cancel_reason: a.cancel_reason.clone(),
        })
        .collect())
}

pub(crate) fn person_ref(p: Option<&person::Model>) -> PersonRef {
    p.map_or_else(
        || PersonRef {
            sourced_id: String::new(),
            name: String::new(),
        },
        |p| PersonRef {
            sourced_id: p.sourced_id.clone(),
            name: p.display_name.clone(),
        },
    )
}

/// Whether answers are taken now.
pub fn open(a: &activity::Model, now: DateTime<Utc>) -> bool {
    a.cancelled_at.is_none() && a.ask != Ask::None.as_str() && now <= answers_close_at(a)
}

async fn yes_count(db: &impl ConnectionTrait, activity_id: &str) -> Result<u64, DbErr> {
    answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(activity_id))
        .filter(answer::Column::Answer.eq("yes"))
        .count(db)
        .await
}

/// `GET /api/v1/activities/{id}`: the activity for one of its people; the caller's
/// children's answers; the counts for its organisers.
pub async fn detail(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<Detail, AppError> {
    let (a, st) = visible(state, viewer, id).await?;
    let db = &state.db;
    let summary = summaries(db, std::slice::from_ref(&a)).await?.remove(0);
    let mut mine: Vec<person::Model> = st.children.clone();
    if st.pupil {
        mine.push(viewer.clone());
    }
    let rows: HashMap<String, answer::Model> = answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(a.id.as_str()))
        .filter(answer::Column::StudentId.is_in(mine.iter().map(|p| p.id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.student_id.clone(), r))
        .collect();
    let by =
        store::people_by_id(db, rows.values().map(|r| r.answered_by.clone()).collect()).await?;
    let my_answers = mine
        .iter()
        .map(|child| {
            let row = rows.get(&child.id);
            ChildAnswer {
                student: person_ref(Some(child)),
                answer: row.map(|r| r.answer.clone()),
                note: row.map(|r| r.note.clone()).unwrap_or_default(),
                answered_by: row.map(|r| person_ref(by.get(&r.answered_by))),
                answered_at: row.map(|r| r.updated_at),
            }
        })
        .collect();
    let counts = if st.manages() {
        Some(super::answers::counts(db, &a).await?)
    } else {
        None
    };
    let full = match a.capacity {
        Some(c) if a.ask == Ask::Signup.as_str() => yes_count(db, &a.id).await? >= c as u64,
        _ => false,
    };
    let is_open = open(&a, state.clock.now());
    Ok(Detail {
        summary,
        description_html: render(&a.description),
        description: a.description.clone(),
        open: is_open,
        full,
        my_answers,
        counts,
        may: May {
            answer: is_open && !st.children.is_empty(),
            manage: st.manages(),
            cancel: st.cancels() && a.cancelled_at.is_none(),
        },
    })
}

/// `GET /api/v1/classes/{sourcedId}/activities`: the class's activities, for its people.
pub async fn for_class(
    state: &AppState,
    viewer: &person::Model,
    class: &str,
) -> Result<Vec<Summary>, AppError> {
    let c = relations::class_by_sourced_id(&state.db, class)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !access::class_member(&state.db, viewer, &c).await? {
        return Err(AppError::not_found());
    }
    let list = activity::Entity::find()
        .filter(activity::Column::ClassId.eq(c.id.as_str()))
        .order_by_desc(activity::Column::StartsAt)
        .limit(LIST_LIMIT)
        .all(&state.db)
        .await?;
    Ok(summaries(&state.db, &list).await?)
}

/// `GET /api/v1/schools/{sourcedId}/activities`: the school-wide activities, for its people.
pub async fn for_school(
    state: &AppState,
    viewer: &person::Model,
    school: &str,
) -> Result<Vec<Summary>, AppError> {
    let org = access::school_by_sourced_id(&state.db, school)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !access::school_member(&state.db, viewer, &org.id).await? {
        return Err(AppError::not_found());
    }
    let list = activity::Entity::find()
        .filter(activity::Column::OrgId.eq(org.id.as_str()))
        .filter(activity::Column::ClassId.is_null())
        .order_by_desc(activity::Column::StartsAt)
        .limit(LIST_LIMIT)
        .all(&state.db)
        .await?;
    Ok(summaries(&state.db, &list).await?)
}

/// `POST /api/v1/activities/{id}/cancel`: the organiser or an administrator of the school,
/// with the reason the families are told. Nothing is deleted; answers stay. Cancelling a
/// cancelled activity changes nothing and succeeds.
pub async fn cancel(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    reason: &str,
) -> Result<activity::Model, AppError> {
    let (a, st) = visible(state, caller, id).await?;
    if !st.cancels() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    // Cancelling again (a retry, a second organiser) keeps the first time and reason.
    if a.cancelled_at.is_some() {
        return Ok(a);
    }
    let reason = text("reason", reason, MAX_REASON, true)?;
    let now = state.clock.now();
    let mut active = a.into_active_model();
    active.cancelled_at = sea_orm::Set(Some(now));
    active.cancel_reason = sea_orm::Set(Some(reason));
    active.updated_at = sea_orm::Set(now);
    Ok(active.update(&state.db).await?)
}

/// The error for acting on a cancelled activity.
pub(crate) fn cancelled(state: &AppState, at: DateTime<Utc>, reason: Option<&str>) -> AppError {
    AppError::new(ErrorCode::ActivityCancelled)
        .with_arg("at", local(state, at))
        .with_arg("reason", reason.unwrap_or("").to_owned())
}

/// For the spaces pages: activities of these classes, and school-wide ones of these schools,
/// that have not ended, soonest first; cancelled ones left out. One query. The caller has
/// decided the viewer belongs to these classes and schools.
pub async fn upcoming_for_classes(
    db: &impl ConnectionTrait,
    class_ids: &BTreeSet<String>,
    org_ids: &BTreeSet<String>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<activity::Model>, DbErr> {
    if class_ids.is_empty() && org_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut whose = Condition::any();
    if !class_ids.is_empty() {
        whose = whose.add(activity::Column::ClassId.is_in(class_ids.iter().cloned()));
    }
    if !org_ids.is_empty() {
        whose = whose.add(
            Condition::all()
                .add(activity::Column::ClassId.is_null())
                .add(activity::Column::OrgId.is_in(org_ids.iter().cloned())),
        );
    }
    let not_ended = Condition::any().add(activity::Column::EndsAt.gte(now)).add(
        Condition::all()
            .add(activity::Column::EndsAt.is_null())
            .add(activity::Column::StartsAt.gte(now)),
    );
    activity::Entity::find()
        .filter(whose)
        .filter(not_ended)
        .filter(activity::Column::CancelledAt.is_null())
        .order_by_asc(activity::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await
}

/// Take the activity's row lock (PostgreSQL) or the write lock (SQLite) first in a
/// transaction, so answers that count places are decided one at a time.
pub(crate) async fn lock(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    activity::Entity::update_many()
        .col_expr(activity::Column::Id, Expr::col(activity::Column::Id))
        .filter(activity::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
