//! Where a growth entry's content comes from when it records something that happened
//! elsewhere: a hand-in (its text and files are copied, so the record stands on its own) or an
//! activity the pupil took part in.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::access::Standing;
use super::entity::entry;
use super::service::NewEntry;
use crate::activities::entity::{activity, answer};
use crate::activities::service::{self as activities, invalid};
use crate::assignments::entity::{assignment, submission, submission_file};
use crate::error::{AppError, ErrorCode};
use crate::people::relations;
use crate::roster::entity::person;
use crate::state::AppState;

/// What an entry copies from its source.
pub(super) struct Source {
    pub(super) title: String,
    pub(super) body: String,
    pub(super) occurred_at: DateTime<Utc>,
    pub(super) submission: Option<String>,
    pub(super) activity: Option<String>,
    pub(super) files: Vec<submission_file::Model>,
}

/// Selected work: one of the pupil's own hand-ins, picked by the pupil or by a teacher of the
/// class it was handed in to.
pub(super) async fn work(
    state: &AppState,
    caller: &person::Model,
    st: &Standing,
    input: &NewEntry,
    note: &str,
) -> Result<Source, AppError> {
    let Some(id) = activities::given(&input.submission) else {
        return Err(invalid(
            "submission",
            "请选择一份作业 / choose a submission",
        ));
    };
    let s = submission::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|s| s.student_id == st.student.id)
        .ok_or_else(|| {
            invalid(
                "submission",
                format!("{id} 不是该学生提交的作业 / not a submission of this pupil"),
            )
        })?;
    let a = assignment::Entity::find_by_id(s.assignment_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !(st.own || relations::teaches(&state.db, caller, &a.class_id).await?) {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if recorded(
        &state.db,
        &st.student.id,
        entry::Column::SubmissionId,
        &s.id,
    )
    .await?
    {
        return Err(invalid(
            "submission",
            "这份作业已在成长记录中 / this work is already in the record",
        ));
    }
    let files = submission_file::Entity::find()
        .filter(submission_file::Column::SubmissionId.eq(s.id.as_str()))
        .order_by_asc(submission_file::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let body = match (note.is_empty(), s.text.trim().is_empty()) {
        (true, _) => s.text.trim().to_owned(),
        (false, true) => note.to_owned(),
        (false, false) => format!("{note}\n\n---\n\n{}", s.text.trim()),
    };
    Ok(Source {
        title: a.title,
        body,
        occurred_at: s.submitted_at,
        submission: Some(s.id),
        activity: None,
        files,
    })
}

/// An activity the pupil took part in (answered yes): added by the pupil, or by the
/// activity's organisers for a pupil it was for.
pub(super) async fn took_part(
    state: &AppState,
    caller: &person::Model,
    st: &Standing,
    input: &NewEntry,
    note: &str,
) -> Result<Source, AppError> {
    let Some(id) = activities::given(&input.activity) else {
        return Err(invalid("activity", "请选择一项活动 / choose an activity"));
    };
    let missing = || {
        invalid(
            "activity",
            format!("没有编号为 {id} 的活动 / no activity {id}"),
        )
    };
    let a = activity::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(missing)?;
    let said_yes = answer::Entity::find()
        .filter(answer::Column::ActivityId.eq(a.id.as_str()))
        .filter(answer::Column::StudentId.eq(st.student.id.as_str()))
        .filter(answer::Column::Answer.eq("yes"))
        .one(&state.db)
        .await?
        .is_some();
    let organises = crate::activities::access::standing(&state.db, caller, &a).await?;
    if !organises.sees() && !said_yes {
        return Err(missing());
    }
    let allowed = if st.own {
        said_yes
    } else if organises.manages() {
        said_yes || crate::activities::access::is_for_pupil(&state.db, &a, &st.student.id).await?
    } else {
        return Err(AppError::new(ErrorCode::Forbidden));
    };
    if !allowed {
        return Err(invalid(
            "activity",
            "该学生没有报名或获准参加这项活动 / the pupil did not take part in this activity",
        ));
    }
    if let Some(at) = a.cancelled_at {
        return Err(activities::cancelled(state, at, a.cancel_reason.as_deref()));
    }
    if recorded(&state.db, &st.student.id, entry::Column::ActivityId, &a.id).await? {
        return Err(invalid(
            "activity",
            "这项活动已在成长记录中 / this activity is already in the record",
        ));
    }
    let body = if note.is_empty() {
        a.description.clone()
    } else {
        note.to_owned()
    };
    Ok(Source {
        title: a.title,
        body,
        occurred_at: a.starts_at,
        submission: None,
        activity: Some(a.id),
        files: Vec::new(),
    })
}

async fn recorded(
    db: &impl ConnectionTrait,
    student_id: &str,
    column: entry::Column,
    value: &str,
) -> Result<bool, DbErr> {
    Ok(entry::Entity::find()
        .filter(entry::Column::StudentId.eq(student_id))
        .filter(column.eq(value))
        .filter(entry::Column::RemovedAt.is_null())
        .one(db)
        .await?
        .is_some())
}
