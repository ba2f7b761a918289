//! Lists of assignments: a class's (counts for its staff, one's own status for a pupil or a
//! parent, never a score), and a pupil's across their classes — which backs the spaces pages,
//! so it is a handful of queries however many assignments there are.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::Status;
use super::access;
use super::entity::assignment;
use super::scale::Scale;
use super::store;
use super::views::{
    ChildStatus, ClassAssignmentItem, ClassAssignments, Counts, StudentAssignment,
    StudentAssignments, TeacherAssignment,
};
use crate::error::{AppError, ErrorCode};
use crate::people::{relations, service as people, store as people_store};
use crate::roster::entity::{class, enrollment, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// The assignments (not withdrawn) of these classes, by due time.
async fn of_classes(
    db: &impl ConnectionTrait,
    class_ids: Vec<String>,
) -> Result<Vec<assignment::Model>, DbErr> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    assignment::Entity::find()
        .filter(assignment::Column::ClassId.is_in(class_ids))
        .filter(assignment::Column::WithdrawnAt.is_null())
        .order_by_asc(assignment::Column::DueAt)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await
}

/// `GET /api/v1/classes/{sourcedId}/assignments`: for the class's members; "no such class"
/// for anyone else.
pub async fn class_assignments(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<ClassAssignments, AppError> {
    let unknown = || AppError::new(ErrorCode::UnknownClass).with_arg("class", sourced_id);
    let class = relations::class_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(unknown)?;
    let access = access::to_class(&state.db, viewer, class).await?;
    if !access.member() {
        return Err(unknown());
    }
    let now = state.clock.now();
    let mut list = of_classes(&state.db, vec![access.class.id.clone()]).await?;
    // The latest due first: what is coming, then what is past.
    list.reverse();
    let ids: Vec<String> = list.iter().map(|a| a.id.clone()).collect();
    let (pupils, current) = if access.staff() {
        let pupils = access::pupils_of(&state.db, &access.class.id).await?;
        let current = store::current(&state.db, &ids, Some(&pupils)).await?;
        (pupils, current)
    } else {
        let own: Vec<String> = access.own_pupils().into_iter().collect();
        let current = store::current(&state.db, &ids, Some(&own)).await?;
        (own, current)
    };
    let names = if access.children.is_empty() {
        HashMap::new()
    } else {
        store::names(&state.db, access.children.iter().cloned().collect()).await?
    };
    let status_of = |a: &str, p: &str| Status::of(current.get(&(a.to_owned(), p.to_owned())));
    let assignments = list
        .iter()
        .map(|a| {
            let counts = access.staff().then(|| {
                let mut counts = Counts::default();
                for p in &pupils {
                    counts.add(status_of(&a.id, p));
                }
                counts
            });
            let children = access
                .children
                .iter()
                .map(|c| {
                    let (name, student) = names.get(c).cloned().unwrap_or_default();
                    ChildStatus {
                        student,
                        name,
                        status: status_of(&a.id, c),
                    }
                })
                .collect();
            ClassAssignmentItem {
                id: a.id.clone(),
                title: a.title.clone(),
                due_at: a.due_at,
                past_due: now > a.due_at,
                accept_late: a.accept_late,
                scale: Scale::from_row(&a.scale, a.max_points).spelled(),
                lesson: a.lesson_id.clone(),
                status: access.student.then(|| status_of(&a.id, &access.viewer_id)),
                children,
                counts,
            }
        })
        .collect();
    Ok(ClassAssignments {
        class: access.class.sourced_id.clone(),
        title: access.class.title.clone(),
        viewer: access.role().to_owned(),
        assignments,
    })
}

/// A pupil's assignments in their classes (all of them, or only `within`), with their status
/// and the feedback that stands once returned: five queries, whatever the number of classes
/// and assignments.
pub async fn list_for_student(
    db: &impl ConnectionTrait,
    student_id: &str,
    within: Option<&BTreeSet<String>>,
    now: DateTime<Utc>,
) -> Result<Vec<StudentAssignment>, DbErr> {
    let class_ids: Vec<String> = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(student_id))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.class_id)
        .filter(|c| within.is_none_or(|w| w.contains(c)))
        .collect();
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    let classes: HashMap<String, class::Model> = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let list = of_classes(db, classes.keys().cloned().collect()).await?;
    let ids: Vec<String> = list.iter().map(|a| a.id.clone()).collect();
    let me = [student_id.to_owned()];
    let current = store::current(db, &ids, Some(&me)).await?;
    let latest = store::latest_feedback(db, current.values()).await?;
    Ok(list
        .into_iter()
        .filter_map(|a| {
            let class = classes.get(&a.class_id)?;
            let s = current.get(&(a.id.clone(), student_id.to_owned()));
            let status = Status::of(s);
            let scale = Scale::from_row(&a.scale, a.max_points);
            Some(StudentAssignment {
                overdue: status == Status::NotStarted && now > a.due_at,
                feedback: store::feedback_view(scale, s, &latest),
                status,
                id: a.id,
                title: a.title,
                class_id: class.id.clone(),
                class: class.sourced_id.clone(),
                class_title: class.title.clone(),
                due_at: a.due_at,
            })
        })
        .collect())
}

/// A pupil's assignments in all their classes, for the spaces pages (the pupil's own space
/// and each child's card on a parent's): status, due time and the feedback that stands.
/// The caller has decided the viewer may see this pupil.
pub async fn for_student(
    db: &impl ConnectionTrait,
    student_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<StudentAssignment>, DbErr> {
    list_for_student(db, student_id, None, now).await
}

/// The assignments of the classes a teacher teaches, with how many pupils stand where (no
/// scores), for the teacher's space ("to mark: 3"): five queries, whatever the number.
pub async fn for_teacher(
    db: &impl ConnectionTrait,
    teacher: &person::Model,
) -> Result<Vec<TeacherAssignment>, DbErr> {
    let taught = relations::taught_classes(db, teacher, false).await?;
    if taught.is_empty() {
        return Ok(Vec::new());
    }
    let classes: HashMap<String, class::Model> = class::Entity::find()
        .filter(class::Column::Id.is_in(taught.iter().cloned()))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let list = of_classes(db, classes.keys().cloned().collect()).await?;
    let mut pupils: HashMap<String, Vec<String>> = HashMap::new();
    for e in enrollment::Entity::find()
        .filter(enrollment::Column::ClassId.is_in(classes.keys().cloned()))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
    {
        pupils.entry(e.class_id).or_default().push(e.person_id);
    }
    let ids: Vec<String> = list.iter().map(|a| a.id.clone()).collect();
    let current = store::current(db, &ids, None).await?;
    Ok(list
        .into_iter()
        .filter_map(|a| {
            let class = classes.get(&a.class_id)?;
            let mut counts = Counts::default();
            for p in pupils.get(&a.class_id).into_iter().flatten() {
                counts.add(Status::of(current.get(&(a.id.clone(), p.clone()))));
            }
            Some(TeacherAssignment {
                id: a.id,
                title: a.title,
                class_id: class.id.clone(),
                class: class.sourced_id.clone(),
                class_title: class.title.clone(),
                due_at: a.due_at,
                counts,
            })
        })
        .collect())
}

/// `GET /api/v1/students/{sourcedId}/assignments`: the pupil, their guardians and the
/// administrators of their school see all their assignments; a teacher those of the classes
/// they teach the pupil in. Anyone else is told "not found".
pub async fn student_assignments(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<StudentAssignments, AppError> {
    let db = &state.db;
    let pupil = people_store::find_by_sourced_id(db, sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let whole = pupil.id == viewer.id
        || relations::is_guardian_of(db, viewer, &pupil.id).await?
        || people::administers(db, viewer, &pupil).await?;
    let within = if whole {
        None
    } else {
        let taught = relations::taught_classes(db, viewer, false).await?;
        let shared: BTreeSet<String> = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(pupil.id.as_str()))
            .filter(enrollment::Column::Role.eq("student"))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.class_id)
            .filter(|c| taught.contains(c))
            .collect();
        if shared.is_empty() {
            return Err(AppError::not_found());
        }
        Some(shared)
    };
    let assignments = list_for_student(db, &pupil.id, within.as_ref(), state.clock.now()).await?;
    Ok(StudentAssignments {
        student: pupil.sourced_id,
        name: pupil.display_name,
        assignments,
    })
}
