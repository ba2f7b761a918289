//! Who sees a pupil's growth record and who writes in it.
//!
//! The pupil, their guardians, the teachers of their classes and the administrators of their
//! school see it. The record outlives the pupil's place in the roster: when a pupil is retired
//! their school's administrators still see and export it, and so do the guardians the pupil
//! had when they left (their links are retired together with the pupil), so the record can
//! follow the pupil to another school. A link ended before the pupil left gives nothing.

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::error::AppError;
use crate::people::{relations, service as people, store};
use crate::roster::entity::{enrollment, guardian_link, person, role};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// What one person may do with one pupil's record.
#[derive(Debug, Clone)]
pub struct Standing {
    pub student: person::Model,
    /// The pupil themself.
    pub own: bool,
    pub guardian: bool,
    /// Teaches one of the pupil's classes.
    pub teacher: bool,
    /// Administers the pupil's school (or the district).
    pub admin: bool,
    /// The pupil's active classes the viewer teaches.
    pub taught: BTreeSet<String>,
}

impl Standing {
    pub fn sees(&self) -> bool {
        self.own || self.guardian || self.teacher || self.admin
    }

    /// Takes the record away as an archive: the pupil, their family, their school.
    pub fn exports(&self) -> bool {
        self.own || self.guardian || self.admin
    }

    /// Writes comments and awards.
    pub fn comments(&self) -> bool {
        self.teacher || self.admin
    }
}

/// The pupil a sourcedId names (active or retired); people who were never pupils have no
/// growth record.
pub async fn student_by_sourced_id(
    db: &impl ConnectionTrait,
    sourced_id: &str,
) -> Result<Option<person::Model>, DbErr> {
    let Some(p) = store::find_by_sourced_id(db, sourced_id).await? else {
        return Ok(None);
    };
    let pupil = role::Entity::find()
        .filter(role::Column::PersonId.eq(p.id.as_str()))
        .filter(role::Column::Role.eq("student"))
        .one(db)
        .await?
        .is_some();
    Ok(pupil.then_some(p))
}

/// Whether `viewer` is a guardian of `student` now, or was when the pupil left the roster.
async fn guardian_of_record(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    student: &person::Model,
) -> Result<bool, DbErr> {
    let links = guardian_link::Entity::find()
        .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
        .filter(guardian_link::Column::StudentId.eq(student.id.as_str()))
        .all(db)
        .await?;
    Ok(links.iter().any(|l| {
        l.status == ACTIVE
            || (student.status != ACTIVE
                && student.retired_at.is_some_and(|left| l.updated_at >= left))
    }))
}

/// What `viewer` may do with `student`'s record.
pub async fn standing(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    student: person::Model,
) -> Result<Standing, DbErr> {
    let own = viewer.id == student.id;
    let guardian = !own && guardian_of_record(db, viewer, &student).await?;
    let classes: BTreeSet<String> = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(student.id.as_str()))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.class_id)
        .collect();
    let taught: BTreeSet<String> = if own || classes.is_empty() {
        BTreeSet::new()
    } else {
        relations::taught_classes(db, viewer, false)
            .await?
            .intersection(&classes)
            .cloned()
            .collect()
    };
    let admin = !own && people::administers(db, viewer, &student).await?;
    Ok(Standing {
        own,
        guardian,
        teacher: !taught.is_empty(),
        admin,
        taught,
        student,
    })
}

/// The pupil's record as `viewer` may use it; not found for anyone who may not see it.
pub async fn visible(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<Standing, AppError> {
    let student = student_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let standing = standing(&state.db, viewer, student).await?;
    if !standing.sees() {
        return Err(AppError::not_found());
    }
    Ok(standing)
}
