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
///
/// One query, driven from the target's side: the target's (or their children's) active
/// enrolments as a student, joined to `viewer`'s teaching enrolment in the same class. (Going
/// from the teacher's side read every pupil of every class they teach, then every guardian of
/// those pupils: thousands of rows to decide one yes or no, and a first message to each of
/// 10,000 parents kept the database busy for seconds.)
pub async fn teaches_person_or_child(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    target: &person::Model,
) -> Result<bool, DbErr> {
    use enrollment::Column as E;
    use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
    let children = Query::select()
        .column(guardian_link::Column::StudentId)
        .from(guardian_link::Entity)
        .and_where(guardian_link::Column::GuardianId.eq(target.id.as_str()))
        .and_where(guardian_link::Column::Status.eq(ACTIVE))
        .to_owned();
    let query = Query::select()
        .expr(Expr::val(1))
        .from_as(enrollment::Entity, "s")
        // A cross join, so that SQLite keeps this order (PostgreSQL plans it freely).
        .join_as(
            JoinType::CrossJoin,
            enrollment::Entity,
            "t",
            sea_orm::sea_query::Condition::all(),
        )
        .and_where(Expr::col(("t", E::ClassId)).equals(("s", E::ClassId)))
        .and_where(Expr::col(("t", E::PersonId)).eq(viewer.id.as_str()))
        .and_where(Expr::col(("t", E::Role)).eq("teacher"))
        .and_where(Expr::col(("t", E::Status)).eq(ACTIVE))
        .and_where(Expr::col(("s", E::Role)).eq("student"))
        .and_where(Expr::col(("s", E::Status)).eq(ACTIVE))
        .and_where(
            Expr::col(("s", E::PersonId))
                .eq(target.id.as_str())
                .or(Expr::col(("s", E::PersonId)).in_subquery(children)),
        )
        .limit(1)
        .to_owned();
    let statement = db.get_database_backend().build(&query);
    Ok(db.query_one_raw(statement).await?.is_some())
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
