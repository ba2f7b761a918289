//! How a person stands to a class, decided from the roster: its teachers and its school's
//! administrators (staff), its pupils, and their guardians. Assignments, hand-ins and
//! feedback are shown by these relationships and nothing else.

use std::collections::BTreeSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::people::relations;
use crate::roster::entity::{class, enrollment, guardian_link, person, role};
use crate::roster::snapshot::ACTIVE;

/// A viewer's relationships to one class.
#[derive(Debug, Clone)]
pub struct ClassAccess {
    pub class: class::Model,
    pub viewer_id: String,
    /// Teaches the class.
    pub teacher: bool,
    /// Administers the class's school (or the district above it).
    pub admin: bool,
    /// Is a pupil of the class.
    pub student: bool,
    /// The viewer's children who are pupils of the class.
    pub children: BTreeSet<String>,
}

impl ClassAccess {
    /// Teachers and administrators: they set work, and see every pupil's progress.
    pub fn staff(&self) -> bool {
        self.teacher || self.admin
    }

    /// Anyone the class's work is shown to.
    pub fn member(&self) -> bool {
        self.staff() || self.student || !self.children.is_empty()
    }

    /// Whether this viewer may see `student_id`'s hand-ins, status and feedback: staff see
    /// every pupil's; a pupil their own; a parent their own children's.
    pub fn sees_pupil(&self, student_id: &str) -> bool {
        self.staff()
            || (self.student && self.viewer_id == student_id)
            || self.children.contains(student_id)
    }

    /// The pupils this viewer follows in the class: themselves, or their children.
    pub fn own_pupils(&self) -> BTreeSet<String> {
        let mut out = self.children.clone();
        if self.student {
            out.insert(self.viewer_id.clone());
        }
        out
    }

    /// How the viewer is answered: `teacher`, `admin`, `student` or `guardian`.
    pub fn role(&self) -> &'static str {
        if self.teacher {
            "teacher"
        } else if self.admin {
            "admin"
        } else if self.student {
            "student"
        } else {
            "guardian"
        }
    }
}

/// `viewer`'s relationships to `class`.
pub async fn to_class(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    class: class::Model,
) -> Result<ClassAccess, DbErr> {
    let mut access = ClassAccess {
        class,
        viewer_id: viewer.id.clone(),
        teacher: false,
        admin: false,
        student: false,
        children: BTreeSet::new(),
    };
    if viewer.status != ACTIVE {
        return Ok(access);
    }
    for e in enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(viewer.id.as_str()))
        .filter(enrollment::Column::ClassId.eq(access.class.id.as_str()))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
    {
        match e.role.as_str() {
            "teacher" => access.teacher = true,
            "student" => access.student = true,
            _ => {}
        }
    }
    if !access.teacher {
        access.admin = relations::administers_org(db, viewer, &access.class.school_id).await?;
    }
    let children: Vec<String> = guardian_link::Entity::find()
        .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.student_id)
        .collect();
    if !children.is_empty() {
        access.children = enrollment::Entity::find()
            .filter(enrollment::Column::ClassId.eq(access.class.id.as_str()))
            .filter(enrollment::Column::Role.eq("student"))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .filter(enrollment::Column::PersonId.is_in(children))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.person_id)
            .collect();
    }
    Ok(access)
}

/// Whether a viewer who is no member of the class may still know it exists: the people of
/// its school. They are told they may not act on it (403); anyone else learns nothing (404).
pub async fn knows_class(db: &impl ConnectionTrait, access: &ClassAccess) -> Result<bool, DbErr> {
    if access.member() {
        return Ok(true);
    }
    Ok(role::Entity::find()
        .filter(role::Column::PersonId.eq(access.viewer_id.as_str()))
        .filter(role::Column::OrgId.eq(access.class.school_id.as_str()))
        .filter(role::Column::Status.eq(ACTIVE))
        .one(db)
        .await?
        .is_some())
}

/// The active pupils of a class, by id.
pub async fn pupils_of(db: &impl ConnectionTrait, class_id: &str) -> Result<Vec<String>, DbErr> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::ClassId.eq(class_id))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.person_id)
        .collect())
}
