//! Hand-ins and feedback. A pupil hands in until the due time (each resubmission is a new
//! attempt that supersedes the last); after it, a first hand-in is accepted and marked late
//! only where the assignment accepts late work, and nothing is handed in again. A teacher of
//! the class marks the current hand-in on the assignment's scale, which returns it; marking
//! again adds feedback, and the latest stands.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    SqlErr, TransactionTrait,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::access::ClassAccess;
use super::entity::{assignment, feedback, submission, submission_file};
use super::scale::Scale;
use super::service::{invalid, visible, when};
use super::storage::{self, Spooled};
use super::views::{FeedbackCreated, FeedbackView, FileView, MarkView, SubmissionView};
use super::{HANDED_IN, RETURNED, store};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// The longest text of a hand-in, in characters.
pub const MAX_TEXT: usize = 50_000;
/// The longest comment of a mark, in characters.
pub const MAX_COMMENT: usize = 5_000;

/// What a pupil hands in: text, files, or both.
pub struct HandIn {
    pub text: String,
    pub files: Vec<Spooled>,
}

/// `POST /api/v1/submissions/{id}/feedback`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    #[serde(default)]
    pub comment: String,
    /// Points (a number, or text such as "8.5"), a band (优/良/中/待提高), or none on the
    /// comments scale.
    #[serde(default)]
    pub score: Option<Value>,
}

/// The pupil's current hand-in of an assignment, if any.
async fn current(
    db: &impl sea_orm::ConnectionTrait,
    assignment_id: &str,
    student_id: &str,
) -> Result<Option<submission::Model>, DbErr> {
    submission::Entity::find()
        .filter(submission::Column::AssignmentId.eq(assignment_id))
        .filter(submission::Column::StudentId.eq(student_id))
        .filter(submission::Column::SupersededAt.is_null())
        .one(db)
        .await
}

/// The due-time rule: whether a hand-in at `now` is late, or why it is refused.
fn due_rule(
    state: &AppState,
    a: &assignment::Model,
    handed_in: bool,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if now <= a.due_at {
        return Ok(false);
    }
    let due = when(state, a.due_at);
    if handed_in {
        Err(AppError::new(ErrorCode::ResubmitClosed).with_arg("due", due))
    } else if a.accept_late {
        Ok(true)
    } else {
        Err(AppError::new(ErrorCode::LateRefused).with_arg("due", due))
    }
}

/// Before a hand-in's body is read: the assignment, when `caller` is a pupil of its class who
/// may hand in at `now`. Strangers are told "not found"; the class's staff and parents, who see
/// the assignment, that only its pupils hand in.
pub async fn may_hand_in(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    now: DateTime<Utc>,
) -> Result<assignment::Model, AppError> {
    let (a, access) = visible(state, caller, id).await?;
    if !access.student {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let handed_in = current(&state.db, &a.id, &caller.id).await?.is_some();
    due_rule(state, &a, handed_in, now)?;
    Ok(a)
}

/// Store a hand-in of `caller` made at `now` (checked by [`may_hand_in`]). The files go to the
/// object store first, unreferenced; the rows are written in one transaction that checks the
/// rules again; if it fails, the files are deleted.
pub async fn hand_in(
    state: &AppState,
    caller: &person::Model,
    a: &assignment::Model,
    input: HandIn,
    now: DateTime<Utc>,
) -> Result<(submission::Model, Vec<submission_file::Model>), AppError> {
    let text = input.text.trim().to_owned();
    let chars = text.chars().count();
    if chars > MAX_TEXT {
        return Err(invalid(
            "text",
            format!(
                "最多 {MAX_TEXT} 个字，现在 {chars} 个 / at most {MAX_TEXT} characters, got {chars}"
            ),
        ));
    }
    if text.is_empty() && input.files.is_empty() {
        return Err(invalid(
            "text",
            "提交的内容是空的：请写下作业内容或附上文件 / nothing to hand in: write something or attach a file",
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let mut files = Vec::with_capacity(input.files.len());
    for f in &input.files {
        let file_id = uuid::Uuid::now_v7().to_string();
        let key = format!("submissions/{}/{id}/{file_id}", a.id);
        if let Err(err) = storage::put(state, &f.file, &key).await {
            storage::remove(state, &keys(&files)).await;
            return Err(err);
        }
        files.push(submission_file::Model {
            id: file_id,
            submission_id: id.clone(),
            object_key: key,
            file_name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size as i64,
            created_at: now,
        });
    }
    match record(state, caller, a, &id, text, &files, now).await {
        Ok(s) => Ok((s, files)),
        Err(err) => {
            storage::remove(state, &keys(&files)).await;
            Err(err)
        }
    }
}

fn keys(files: &[submission_file::Model]) -> Vec<String> {
    files.iter().map(|f| f.object_key.clone()).collect()
}

async fn record(
    state: &AppState,
    caller: &person::Model,
    a: &assignment::Model,
    id: &str,
    text: String,
    files: &[submission_file::Model],
    now: DateTime<Utc>,
) -> Result<submission::Model, AppError> {
    let txn = state.db.begin().await?;
    let previous = submission::Entity::find()
        .filter(submission::Column::AssignmentId.eq(a.id.as_str()))
        .filter(submission::Column::StudentId.eq(caller.id.as_str()))
        .order_by_desc(submission::Column::Attempt)
        .all(&txn)
        .await?;
    let standing = previous.iter().find(|s| s.superseded_at.is_none());
    let late = due_rule(state, a, standing.is_some(), now)?;
    if let Some(s) = standing {
        let done = submission::Entity::update_many()
            .col_expr(submission::Column::SupersededAt, Expr::value(now))
            .filter(submission::Column::Id.eq(s.id.as_str()))
            .filter(submission::Column::SupersededAt.is_null())
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(AppError::new(ErrorCode::Conflict));
        }
    }
    let model = submission::Model {
        id: id.to_owned(),
        assignment_id: a.id.clone(),
        student_id: caller.id.clone(),
        attempt: previous.first().map_or(1, |s| s.attempt + 1),
        text,
        submitted_at: now,
        late,
        superseded_at: None,
        state: HANDED_IN.to_owned(),
        returned_at: None,
    };
    // Two hand-ins racing for the same attempt: the unique index lets one in.
    if let Err(err) = model.clone().into_active_model().insert(&txn).await {
        return Err(match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::new(ErrorCode::Conflict),
            _ => err.into(),
        });
    }
    for f in files {
        f.clone().into_active_model().insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// A hand-in, with the assignment and the viewer's standing in its class, for the pupil,
/// their guardians and the class's staff; "not found" for everyone else (classmates too).
pub async fn visible_submission(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<(submission::Model, assignment::Model, ClassAccess), AppError> {
    let s = submission::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (a, access) = visible(state, viewer, &s.assignment_id).await?;
    if !access.sees_pupil(&s.student_id) {
        return Err(AppError::not_found());
    }
    Ok((s, a, access))
}

/// `GET /api/v1/submissions/{id}`.
pub async fn detail(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<SubmissionView, AppError> {
    let (s, a, access) = visible_submission(state, viewer, id).await?;
    view(state, &s, &a, &access).await
}

pub async fn view(
    state: &AppState,
    s: &submission::Model,
    a: &assignment::Model,
    access: &ClassAccess,
) -> Result<SubmissionView, AppError> {
    let scale = Scale::from_row(&a.scale, a.max_points);
    let files = submission_file::Entity::find()
        .filter(submission_file::Column::SubmissionId.eq(s.id.as_str()))
        .order_by_asc(submission_file::Column::CreatedAt)
        .order_by_asc(submission_file::Column::Id)
        .all(&state.db)
        .await?;
    let marks = feedback::Entity::find()
        .filter(feedback::Column::SubmissionId.eq(s.id.as_str()))
        .order_by_asc(feedback::Column::CreatedAt)
        .order_by_asc(feedback::Column::Id)
        .all(&state.db)
        .await?;
    let mut ids: Vec<String> = marks.iter().map(|m| m.teacher_id.clone()).collect();
    ids.push(s.student_id.clone());
    let names = store::names(&state.db, ids).await?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let feedback = (s.state == RETURNED)
        .then(|| marks.last())
        .flatten()
        .map(|f| FeedbackView {
            comment: f.comment.clone(),
            score: scale.score_json(f.score.as_deref()),
            at: f.created_at,
        });
    let (student_name, student) = name(&s.student_id);
    Ok(SubmissionView {
        id: s.id.clone(),
        assignment: a.id.clone(),
        assignment_title: a.title.clone(),
        scale: scale.spelled(),
        student,
        student_name,
        attempt: s.attempt,
        text: s.text.clone(),
        submitted_at: s.submitted_at,
        late: s.late,
        state: s.state.clone(),
        returned_at: s.returned_at,
        superseded_at: s.superseded_at,
        files: files
            .into_iter()
            .map(|f| FileView {
                url: format!("/api/v1/submissions/{}/files/{}", s.id, f.id),
                id: f.id,
                name: f.file_name,
                content_type: f.content_type,
                size: f.size,
            })
            .collect(),
        feedback,
        marks: if access.staff() {
            marks
                .iter()
                .map(|m| MarkView {
                    comment: m.comment.clone(),
                    score: scale.score_json(m.score.as_deref()),
                    at: m.created_at,
                    teacher: name(&m.teacher_id).0,
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// `GET /api/v1/submissions/{id}/files/{fid}`: for whoever may read the hand-in.
pub async fn file(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
    file_id: &str,
) -> Result<(submission_file::Model, object_store::GetResult), AppError> {
    let (s, _, _) = visible_submission(state, viewer, id).await?;
    let f = submission_file::Entity::find_by_id(file_id.to_owned())
        .one(&state.db)
        .await?
        .filter(|f| f.submission_id == s.id)
        .ok_or_else(AppError::not_found)?;
    let got = storage::open(state, &f.object_key).await?;
    Ok((f, got))
}

/// `POST /api/v1/submissions/{id}/feedback`: a teacher of the class marks the current hand-in
/// on the assignment's scale and returns it to the pupil.
pub async fn mark(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    input: Mark,
) -> Result<FeedbackCreated, AppError> {
    let (s, a, access) = visible_submission(state, caller, id).await?;
    if !access.teacher {
        return Err(AppError::new(ErrorCode::NotClassTeacher)
            .with_arg("class", access.class.sourced_id.clone()));
    }
    let comment = input.comment.trim().to_owned();
    let chars = comment.chars().count();
    if chars > MAX_COMMENT {
        return Err(invalid(
            "comment",
            format!(
                "评语最多 {MAX_COMMENT} 个字，现在 {chars} 个 / at most {MAX_COMMENT} characters, got {chars}"
            ),
        ));
    }
    let scale = Scale::from_row(&a.scale, a.max_points);
    let score = scale.check(input.score.as_ref(), &comment)?;
    let superseded = || {
        invalid(
            "submission",
            "这份作业已被更新的一次提交取代，请批改最新的一次 / a later hand-in replaced this one: mark the latest",
        )
    };
    if s.superseded_at.is_some() {
        return Err(superseded());
    }
    let now = state.clock.now();
    let row = feedback::Model {
        id: uuid::Uuid::now_v7().to_string(),
        submission_id: s.id.clone(),
        assignment_id: a.id.clone(),
        student_id: s.student_id.clone(),
        teacher_id: caller.id.clone(),
        comment,
        score,
        created_at: now,
    };
    let txn = state.db.begin().await?;
    let returned = submission::Entity::update_many()
        .col_expr(submission::Column::State, Expr::value(RETURNED))
        .col_expr(submission::Column::ReturnedAt, Expr::value(now))
        .filter(submission::Column::Id.eq(s.id.as_str()))
        .filter(submission::Column::SupersededAt.is_null())
        .exec(&txn)
        .await?;
    if returned.rows_affected != 1 {
        return Err(superseded());
    }
    row.clone().into_active_model().insert(&txn).await?;
    txn.commit().await?;
    Ok(FeedbackCreated {
        id: row.id,
        submission: s.id,
        comment: row.comment,
        score: scale.score_json(row.score.as_deref()),
        state: RETURNED.to_owned(),
        returned_at: now,
    })
}
