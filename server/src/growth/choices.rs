//! What the growth page's add form offers: the hand-ins and activities its viewer may put in
//! the pupil's record. The service decides again when the form is sent; this only keeps the
//! form from offering what would be refused. A few queries each, whatever the record's size.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::access::Standing;
use super::entity::entry;
use crate::activities::entity::{activity, answer};
use crate::activities::service::local;
use crate::assignments::entity::{assignment, submission};
use crate::error::AppError;
use crate::people::relations;
use crate::roster::entity::{class, enrollment, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// How many of each the form offers (the newest).
const OFFER: u64 = 100;

/// One option: the id to send and what the viewer reads.
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// Ids already in the record (not removed), of hand-ins or of activities.
async fn recorded(
    state: &AppState,
    st: &Standing,
    column: entry::Column,
) -> Result<BTreeSet<String>, AppError> {
    Ok(entry::Entity::find()
        .filter(entry::Column::StudentId.eq(st.student.id.as_str()))
        .filter(entry::Column::RemovedAt.is_null())
        .filter(column.is_not_null())
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|e| match column {
            entry::Column::SubmissionId => e.submission_id,
            _ => e.activity_id,
        })
        .collect())
}

/// The pupil's latest hand-ins not yet in the record: all of them for the pupil, those
/// handed in to the viewer's classes for a teacher.
pub async fn work(
    state: &AppState,
    viewer: &person::Model,
    st: &Standing,
) -> Result<Vec<Choice>, AppError> {
    if !(st.own || st.teacher) {
        return Ok(Vec::new());
    }
    let subs = submission::Entity::find()
        .filter(submission::Column::StudentId.eq(st.student.id.as_str()))
        .filter(submission::Column::SupersededAt.is_null())
        .order_by_desc(submission::Column::SubmittedAt)
        .limit(OFFER)
        .all(&state.db)
        .await?;
    let assignments: HashMap<String, assignment::Model> = assignment::Entity::find()
        .filter(assignment::Column::Id.is_in(subs.iter().map(|s| s.assignment_id.clone())))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let taught = if st.own {
        BTreeSet::new()
    } else {
        relations::taught_classes(&state.db, viewer, false).await?
    };
    let done = recorded(state, st, entry::Column::SubmissionId).await?;
    Ok(subs
        .into_iter()
        .filter(|s| !done.contains(&s.id))
        .filter_map(|s| {
            let a = assignments.get(&s.assignment_id)?;
            (st.own || taught.contains(&a.class_id)).then(|| Choice {
                label: format!("{}（{}）", a.title, local(state, s.submitted_at)),
                id: s.id,
            })
        })
        .collect())
}

/// Activities the viewer may record for the pupil: for the pupil, those their family said
/// yes to; for organisers, also the activities they run for the pupil's classes and school.
pub async fn activities(
    state: &AppState,
    viewer: &person::Model,
    st: &Standing,
) -> Result<Vec<Choice>, AppError> {
    if !(st.own || st.teacher || st.admin) {
        return Ok(Vec::new());
    }
    let db = &state.db;
    let said_yes: BTreeSet<String> = answer::Entity::find()
        .filter(answer::Column::StudentId.eq(st.student.id.as_str()))
        .filter(answer::Column::Answer.eq("yes"))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let enrolled = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(st.student.id.as_str()))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let classes: Vec<class::Model> = class::Entity::find()
        .filter(class::Column::Id.is_in(enrolled.into_iter().map(|e| e.class_id)))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let class_ids: BTreeSet<String> = classes.iter().map(|c| c.id.clone()).collect();
    let schools: BTreeSet<String> = classes.iter().map(|c| c.school_id.clone()).collect();
    let mut which = Condition::any().add(activity::Column::Id.is_in(said_yes.iter().cloned()));
    if !st.own {
        which = which
            .add(activity::Column::ClassId.is_in(class_ids.iter().cloned()))
            .add(
                Condition::all()
                    .add(activity::Column::ClassId.is_null())
                    .add(activity::Column::OrgId.is_in(schools.iter().cloned())),
            );
    }
    let found = activity::Entity::find()
        .filter(which)
        .filter(activity::Column::CancelledAt.is_null())
        .order_by_desc(activity::Column::StartsAt)
        .limit(OFFER)
        .all(db)
        .await?;
    let done = recorded(state, st, entry::Column::ActivityId).await?;
    let taught = if st.own {
        BTreeSet::new()
    } else {
        relations::taught_classes(db, viewer, false).await?
    };
    let mut admin_of: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for a in found.into_iter().filter(|a| !done.contains(&a.id)) {
        let allowed = if st.own {
            said_yes.contains(&a.id)
        } else {
            let admin = match admin_of.get(&a.org_id) {
                Some(known) => *known,
                None => {
                    let known = relations::administers_org(db, viewer, &a.org_id).await?;
                    admin_of.insert(a.org_id.clone(), known);
                    known
                }
            };
            a.organiser_id == viewer.id
                || admin
                || a.class_id.as_ref().is_some_and(|c| taught.contains(c))
        };
        if allowed {
            out.push(Choice {
                label: format!("{}（{}）", a.title, local(state, a.starts_at)),
                id: a.id,
            });
        }
    }
    Ok(out)
}
