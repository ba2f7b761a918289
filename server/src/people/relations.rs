//! The relationships that decide what a person may see and do, as predicates over the roster.
//!
//! Every feature's authorization is written in terms of these: a parent acts for their own
//! children; a teacher for the classes they teach (and the pupils and families in them); a
//! school administrator for their school; a district administrator for the district.
//! Nothing here is decided by which links a page shows.

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::{service, store};
use crate::roster::entity::{class, enrollment, guardian_link, person};
use crate::roster::snapshot::ACTIVE;

pub const FAMILY_ROLES: [&str; 3] = ["parent", "guardian", "relative"];

/// Whether `viewer` administers `org_id` or an org above it.
pub async fn administers_org(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    org_id: &str,
) -> Result<bool, DbErr> {
    let admin_orgs = service::administered_orgs(db, viewer).await?;
    if admin_orgs.is_empty() {
        return Ok(false);
    }
    Ok(store::ancestry(db, org_id)
        .await?
        .iter()
        .any(|o| admin_orgs.contains(o)))
}

/// Active classes `viewer` teaches, as class ids; `primary_only` keeps the head teacher's.
pub async fn taught_classes(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    primary_only: bool,
) -> Result<BTreeSet<String>, DbErr> {
    let mut query = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(viewer.id.clone()))
        .filter(enrollment::Column::Role.eq("teacher"))
        .filter(enrollment::Column::Status.eq(ACTIVE));
    if primary_only {
        query = query.filter(enrollment::Column::IsPrimary.eq(true));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.class_id)
        .collect())
}

/// Whether `viewer` teaches this class.
pub async fn teaches(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    class_id: &str,
) -> Result<bool, DbErr> {
    Ok(taught_classes(db, viewer, false).await?.contains(class_id))
}

/// Whether `viewer` is the head teacher (班主任, the primary teacher) of this class.
pub async fn heads(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    class_id: &str,
) -> Result<bool, DbErr> {
    Ok(taught_classes(db, viewer, true).await?.contains(class_id))
}

/// Active students' ids enrolled in any of these classes.
pub async fn students_of(
    db: &impl ConnectionTrait,
    class_ids: &BTreeSet<String>,
) -> Result<BTreeSet<String>, DbErr> {
    let mut out = BTreeSet::new();
    let ids: Vec<String> = class_ids.iter().cloned().collect();
    for chunk in ids.chunks(400) {
        out.extend(
            enrollment::Entity::find()
                .filter(enrollment::Column::ClassId.is_in(chunk.iter().cloned()))
                .filter(enrollment::Column::Role.eq("student"))
                .filter(enrollment::Column::Status.eq(ACTIVE))
                .all(db)
                .await?
                .into_iter()
                .map(|e| e.person_id),
        );
    }
    Ok(out)
}

/// Ids of the active guardians of these students.
pub async fn guardians_of(
    db: &impl ConnectionTrait,
    student_ids: &BTreeSet<String>,
) -> Result<BTreeSet<String>, DbErr> {
    let mut out = BTreeSet::new();
    let ids: Vec<String> = student_ids.iter().cloned().collect();
    for chunk in ids.chunks(400) {
        out.extend(
            guardian_link::Entity::find()
                .filter(guardian_link::Column::StudentId.is_in(chunk.iter().cloned()))
                .filter(guardian_link::Column::Status.eq(ACTIVE))
                .all(db)
                .await?
                .into_iter()
                .map(|l| l.guardian_id),
        );
    }
    Ok(out)
}

/// Whether `viewer` is an active guardian of `student_id`.
pub async fn is_guardian_of(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    student_id: &str,
) -> Result<bool, DbErr> {
    Ok(guardian_link::Entity::find()
        .filter(guardian_link::Column::GuardianId.eq(viewer.id.clone()))
        .filter(guardian_link::Column::StudentId.eq(student_id))
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .one(db)
        .await?
        .is_some())
}

/// Whether `viewer` teaches `target` (a pupil in one of their classes) or a child of `target`.
pub async fn teaches_person_or_child(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    target: &person::Model,
) -> Result<bool, DbErr> {
    let classes = taught_classes(db, viewer, false).await?;
    if classes.is_empty() {
        return Ok(false);
    }
    let students = students_of(db, &classes).await?;
    if students.contains(&target.id) {
        return Ok(true);
    }
    Ok(guardians_of(db, &students).await?.contains(&target.id))
}

/// The class a sourcedId names, if active.
pub async fn class_by_sourced_id(
    db: &impl ConnectionTrait,
    sourced_id: &str,
) -> Result<Option<class::Model>, DbErr> {
    class::Entity::find()
        .filter(class::Column::SourcedId.eq(sourced_id))
        .filter(class::Column::Status.eq(ACTIVE))
        .one(db)
        .await
}

/// Whether `viewer` may act on a class's roster (issue codes, see its families): an
/// administrator of its school (or above), or its head teacher.
pub async fn manages_class(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    class: &class::Model,
) -> Result<bool, DbErr> {
    Ok(
        heads(db, viewer, &class.id).await?
            || administers_org(db, viewer, &class.school_id).await?,
    )
}
