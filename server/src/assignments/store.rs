//! The queries the assignment views share, each one round trip for a whole list (no query per
//! row): pupils' current hand-ins, the feedback that stands on them, names.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{feedback, submission};
use super::scale::Scale;
use super::views::{FeedbackView, SubmissionBrief};
use super::{RETURNED, Status};
use crate::people::store as people;

/// The current (not superseded) hand-ins of these assignments, optionally only of these
/// pupils, keyed by (assignment, pupil).
pub async fn current(
    db: &impl ConnectionTrait,
    assignment_ids: &[String],
    student_ids: Option<&[String]>,
) -> Result<HashMap<(String, String), submission::Model>, DbErr> {
    let mut out = HashMap::new();
    if assignment_ids.is_empty() || student_ids.is_some_and(<[String]>::is_empty) {
        return Ok(out);
    }
    for chunk in assignment_ids.chunks(500) {
        let mut query = submission::Entity::find()
            .filter(submission::Column::AssignmentId.is_in(chunk.iter().cloned()))
            .filter(submission::Column::SupersededAt.is_null());
        if let Some(students) = student_ids {
            query = query.filter(submission::Column::StudentId.is_in(students.iter().cloned()));
        }
        for s in query.all(db).await? {
            out.insert((s.assignment_id.clone(), s.student_id.clone()), s);
        }
    }
    Ok(out)
}

/// The feedback that stands on each of these hand-ins (the latest row), keyed by submission.
pub async fn latest_feedback<'a>(
    db: &impl ConnectionTrait,
    submissions: impl IntoIterator<Item = &'a submission::Model>,
) -> Result<HashMap<String, feedback::Model>, DbErr> {
    let ids: Vec<String> = submissions
        .into_iter()
        .filter(|s| s.state == RETURNED)
        .map(|s| s.id.clone())
        .collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for f in feedback::Entity::find()
            .filter(feedback::Column::SubmissionId.is_in(chunk.iter().cloned()))
            .order_by_asc(feedback::Column::CreatedAt)
            .order_by_asc(feedback::Column::Id)
            .all(db)
            .await?
        {
            // Oldest first: the last one in stands.
            out.insert(f.submission_id.clone(), f);
        }
    }
    Ok(out)
}

/// People's display names and sourcedIds by id.
pub async fn names(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, (String, String)>, DbErr> {
    Ok(people::people_by_id(db, ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id, (p.display_name, p.sourced_id)))
        .collect())
}

pub fn brief(s: &submission::Model) -> SubmissionBrief {
    SubmissionBrief {
        id: s.id.clone(),
        attempt: s.attempt,
        submitted_at: s.submitted_at,
        late: s.late,
        state: s.state.clone(),
        returned_at: s.returned_at,
    }
}

/// The feedback a returned hand-in shows; none before it is returned.
pub fn feedback_view(
    scale: Scale,
    current: Option<&submission::Model>,
    latest: &HashMap<String, feedback::Model>,
) -> Option<FeedbackView> {
    let s = current.filter(|s| Status::of(Some(s)) == Status::Returned)?;
    latest.get(&s.id).map(|f| FeedbackView {
        comment: f.comment.clone(),
        score: scale.score_json(f.score.as_deref()),
        at: f.created_at,
    })
}
