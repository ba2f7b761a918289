//! Setting assignments, and what each person sees of one: the assignment with their own (or
//! their child's) standing, and — for the class's staff only — the class's progress.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;

use super::Status;
use super::access::{self, ClassAccess};
use super::entity::assignment;
use super::scale::Scale;
use super::store;
use super::views::{AssignmentView, Counts, Progress, ProgressRow, PupilStatus};
use crate::error::{AppError, ErrorCode};
use crate::lessons::entity::{lesson, publication};
use crate::people::relations;
use crate::roster::entity::{class, person};
use crate::state::AppState;

pub use super::lists::{class_assignments, for_student, for_teacher, student_assignments};

pub const MAX_TITLE: usize = 200;

/// `POST /api/v1/assignments`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignment {
    /// The class's sourcedId.
    pub class: String,
    /// A lesson of the caller's, or one published to the class.
    #[serde(default)]
    pub lesson: Option<String>,
    pub title: String,
    /// Markdown; script is refused.
    #[serde(default)]
    pub instructions: String,
    /// RFC 3339, e.g. `2026-12-10T18:00:00+08:00`; must be in the future.
    pub due_at: String,
    /// `points:<max>` (1–1000), `bands` (优/良/中/待提高) or `comments`.
    pub scale: String,
    /// Whether work handed in after the due time is accepted (and marked late).
    #[serde(default)]
    pub accept_late: bool,
}

pub(super) fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

/// A due time (or any time a rule names) as people read it, on the schools' clock.
pub fn when(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%Y-%m-%d %H:%M (UTC%:z)")
        .to_string()
}

/// The class a teacher sets work for: its teachers and its school's administrators may; the
/// school's other people are told they may not (403); anyone else that there is no such class.
pub async fn class_to_set(
    state: &AppState,
    caller: &person::Model,
    sourced_id: &str,
) -> Result<ClassAccess, AppError> {
    let sourced_id = sourced_id.trim();
    if sourced_id.is_empty() {
        return Err(invalid(
            "class",
            "请指明班级编号 / name the class (its sourcedId)",
        ));
    }
    let unknown = || AppError::new(ErrorCode::UnknownClass).with_arg("class", sourced_id);
    let class = relations::class_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(unknown)?;
    let access = access::to_class(&state.db, caller, class).await?;
    if access.staff() {
        return Ok(access);
    }
    if access::knows_class(&state.db, &access).await? {
        Err(AppError::new(ErrorCode::NotClassTeacher).with_arg("class", sourced_id))
    } else {
        Err(unknown())
    }
}

fn parse_due(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    let due = DateTime::parse_from_rfc3339(value.trim())
        .map_err(|_| {
            invalid(
                "due_at",
                format!(
                    "“{value}”不是 RFC 3339 时间，例如 2026-12-10T18:00:00+08:00 / \"{value}\" is not an RFC 3339 time such as 2026-12-10T18:00:00+08:00"
                ),
            )
        })?
        .with_timezone(&Utc);
    if due <= now {
        return Err(invalid(
            "due_at",
            format!("截止时间 {value} 已经过去 / the due time {value} is in the past"),
        ));
    }
    Ok(due)
}

/// A lesson an assignment may be set on: the caller's own, or one published to the class.
async fn check_lesson(
    state: &AppState,
    caller: &person::Model,
    class: &class::Model,
    id: &str,
) -> Result<String, AppError> {
    let id = id.trim();
    let found = lesson::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?;
    let ok = match &found {
        None => false,
        Some(l) if l.owner_id == caller.id => true,
        Some(l) => publication::Entity::find()
            .filter(publication::Column::LessonId.eq(l.id.as_str()))
            .filter(publication::Column::ClassId.eq(class.id.as_str()))
            .filter(publication::Column::WithdrawnAt.is_null())
            .one(&state.db)
            .await?
            .is_some(),
    };
    if !ok {
        return Err(invalid(
            "lesson",
            format!(
                "没有编号为 {id} 的课，或它既不是您的，也没有发布给班级 {} / no lesson {id} of yours or published to class {}",
                class.sourced_id, class.sourced_id
            ),
        ));
    }
    Ok(id.to_owned())
}

/// `POST /api/v1/assignments`: a teacher of the class (or an administrator of its school)
/// sets an assignment. Who may comes first, so a stranger learns nothing from the fields.
pub async fn create(
    state: &AppState,
    caller: &person::Model,
    input: NewAssignment,
) -> Result<assignment::Model, AppError> {
    let access = class_to_set(state, caller, &input.class).await?;
    let now = state.clock.now();
    let title = input.title.trim();
    let len = title.chars().count();
    if title.is_empty() || len > MAX_TITLE {
        return Err(invalid(
            "title",
            format!(
                "标题应为 1–{MAX_TITLE} 个字，现在 {len} 个 / 1–{MAX_TITLE} characters, got {len}"
            ),
        ));
    }
    let due_at = parse_due(&input.due_at, now)?;
    let scale = Scale::parse(&input.scale)?;
    let instructions_html =
        crate::markdown::render(&input.instructions).map_err(|r| r.into_error("instructions"))?;
    let lesson_id = match input.lesson.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(check_lesson(state, caller, &access.class, id).await?),
        _ => None,
    };
    let model = assignment::Model {
        id: uuid::Uuid::now_v7().to_string(),
        class_id: access.class.id.clone(),
        lesson_id,
        owner_id: caller.id.clone(),
        title: title.to_owned(),
        instructions: input.instructions,
        instructions_html,
        due_at,
        accept_late: input.accept_late,
        scale: scale.kind().to_owned(),
        max_points: scale.max_points(),
        created_at: now,
        updated_at: now,
        withdrawn_at: None,
    };
    model.clone().into_active_model().insert(&state.db).await?;
    Ok(model)
}

/// The assignment and the viewer's standing in its class, when the viewer is a member of the
/// class (its staff, pupils, or their guardians); "not found" for everyone else.
pub async fn visible(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<(assignment::Model, ClassAccess), AppError> {
    let a = assignment::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|a| a.withdrawn_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let class = class::Entity::find_by_id(a.class_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let access = access::to_class(&state.db, viewer, class).await?;
    if !access.member() {
        return Err(AppError::not_found());
    }
    Ok((a, access))
}

/// The standing of these pupils with `a`, for the pupils themselves, their family or staff.
pub async fn pupil_statuses(
    state: &AppState,
    a: &assignment::Model,
    pupils: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Vec<PupilStatus>, AppError> {
    if pupils.is_empty() {
        return Ok(Vec::new());
    }
    let scale = Scale::from_row(&a.scale, a.max_points);
    let current = store::current(&state.db, std::slice::from_ref(&a.id), Some(&pupils)).await?;
    let latest = store::latest_feedback(&state.db, current.values()).await?;
    let names = store::names(&state.db, pupils.clone()).await?;
    let mut out: Vec<PupilStatus> = pupils
        .iter()
        .map(|p| {
            let s = current.get(&(a.id.clone(), p.clone()));
            let status = Status::of(s);
            let (name, sourced_id) = names.get(p).cloned().unwrap_or_default();
            PupilStatus {
                student: sourced_id,
                name,
                status,
                overdue: status == Status::NotStarted && now > a.due_at,
                submission: s.map(store::brief),
                feedback: store::feedback_view(scale, s, &latest),
            }
        })
        .collect();
    out.sort_by(|x, y| (&x.name, &x.student).cmp(&(&y.name, &y.student)));
    Ok(out)
}

/// `GET /api/v1/assignments/{id}`.
pub async fn detail(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<AssignmentView, AppError> {
    let (a, access) = visible(state, viewer, id).await?;
    view(state, &a, &access).await
}

pub async fn view(
    state: &AppState,
    a: &assignment::Model,
    access: &ClassAccess,
) -> Result<AssignmentView, AppError> {
    let now = state.clock.now();
    let pupils = if access.staff() {
        Vec::new()
    } else {
        access.own_pupils().into_iter().collect()
    };
    let students = pupil_statuses(state, a, pupils, now).await?;
    let owner = store::names(&state.db, vec![a.owner_id.clone()])
        .await?
        .remove(&a.owner_id)
        .map(|(name, _)| name)
        .unwrap_or_default();
    let scale = Scale::from_row(&a.scale, a.max_points);
    Ok(AssignmentView {
        id: a.id.clone(),
        class: access.class.sourced_id.clone(),
        class_title: access.class.title.clone(),
        lesson: a.lesson_id.clone(),
        title: a.title.clone(),
        instructions: a.instructions.clone(),
        instructions_html: a.instructions_html.clone(),
        due_at: a.due_at,
        past_due: now > a.due_at,
        accept_late: a.accept_late,
        scale: scale.spelled(),
        max_points: scale.max_points(),
        owner,
        created_at: a.created_at,
        viewer: access.role().to_owned(),
        students,
    })
}

/// `GET /api/v1/assignments/{id}/progress`: every pupil of the class with their status, for the
/// class's teachers and its school's administrators. Pupils and parents are told "not found".
pub async fn progress(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<Progress, AppError> {
    let (a, access) = visible(state, viewer, id).await?;
    if !access.staff() {
        return Err(AppError::not_found());
    }
    let pupils = access::pupils_of(&state.db, &access.class.id).await?;
    let scale = Scale::from_row(&a.scale, a.max_points);
    let current = store::current(&state.db, std::slice::from_ref(&a.id), Some(&pupils)).await?;
    let latest = store::latest_feedback(&state.db, current.values()).await?;
    let names = store::names(&state.db, pupils.clone()).await?;
    let mut counts = Counts::default();
    let mut students: Vec<ProgressRow> = pupils
        .iter()
        .map(|p| {
            let s = current.get(&(a.id.clone(), p.clone()));
            let status = Status::of(s);
            counts.add(status);
            let (name, sourced_id) = names.get(p).cloned().unwrap_or_default();
            ProgressRow {
                student: sourced_id,
                name,
                status,
                submission: s.map(|s| s.id.clone()),
                attempt: s.map(|s| s.attempt),
                submitted_at: s.map(|s| s.submitted_at),
                late: s.is_some_and(|s| s.late),
                score: store::feedback_view(scale, s, &latest)
                    .map_or(serde_json::Value::Null, |f| f.score),
            }
        })
        .collect();
    students.sort_by(|x, y| (&x.name, &x.student).cmp(&(&y.name, &y.student)));
    Ok(Progress {
        assignment: a.id.clone(),
        title: a.title.clone(),
        class: access.class.sourced_id.clone(),
        due_at: a.due_at,
        scale: scale.spelled(),
        counts,
        students,
    })
}
