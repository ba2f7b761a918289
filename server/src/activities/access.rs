//! Who an activity and a school's announcements reach, and what each person may do with them.
//!
//! A class activity belongs to the class's people: its pupils, their guardians, its teachers
//! and the administrators of its school. A school activity or announcement belongs to the
//! school's people: pupils of its classes, their guardians, its teachers and administrators.
//! Everything is decided from the roster as it stands (active rows only); nothing here relies
//! on which links a page shows.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::activity;
use crate::people::relations::{self, FAMILY_ROLES};
use crate::people::store;
use crate::roster::entity::{class, enrollment, guardian_link, org, person, role};
use crate::roster::snapshot::ACTIVE;

/// One active class a person belongs to, and in what role.
#[derive(Debug, Clone)]
struct Membership {
    class_id: String,
    school_id: String,
    role: String,
}

/// A person's ties to classes and schools: their own, and their children's.
#[derive(Debug, Default)]
pub struct Ties {
    own: Vec<Membership>,
    /// Active roles: (org id, role).
    roles: Vec<(String, String)>,
    /// Active children: the child, their classes (as pupils) and the orgs of their roles.
    children: Vec<(person::Model, Vec<Membership>, BTreeSet<String>)>,
}

impl Ties {
    /// Load `viewer`'s ties in a handful of queries.
    pub async fn load(db: &impl ConnectionTrait, viewer: &person::Model) -> Result<Ties, DbErr> {
        let links = guardian_link::Entity::find()
            .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let child_ids: Vec<String> = links.into_iter().map(|l| l.student_id).collect();
        let mut people = vec![viewer.id.clone()];
        people.extend(child_ids.iter().cloned());
        let enrollments = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.is_in(people.iter().cloned()))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let classes: HashMap<String, class::Model> = class::Entity::find()
            .filter(class::Column::Id.is_in(enrollments.iter().map(|e| e.class_id.clone())))
            .filter(class::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        let roles = role::Entity::find()
            .filter(role::Column::PersonId.is_in(people.iter().cloned()))
            .filter(role::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let children = person::Entity::find()
            .filter(person::Column::Id.is_in(child_ids))
            .filter(person::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let memberships = |person_id: &str, pupil_only: bool| -> Vec<Membership> {
            enrollments
                .iter()
                .filter(|e| e.person_id == person_id && (!pupil_only || e.role == "student"))
                .filter_map(|e| {
                    classes.get(&e.class_id).map(|c| Membership {
                        class_id: c.id.clone(),
                        school_id: c.school_id.clone(),
                        role: e.role.clone(),
                    })
                })
                .collect()
        };
        let orgs_of = |person_id: &str| -> BTreeSet<String> {
            roles
                .iter()
                .filter(|r| r.person_id == person_id && r.role == "student")
                .map(|r| r.org_id.clone())
                .collect()
        };
        let mut ties = Ties {
            own: memberships(&viewer.id, false),
            roles: roles
                .iter()
                .filter(|r| r.person_id == viewer.id)
                .map(|r| (r.org_id.clone(), r.role.clone()))
                .collect(),
            children: Vec::new(),
        };
        for child in children {
            let classes = memberships(&child.id, true);
            let orgs = orgs_of(&child.id);
            ties.children.push((child, classes, orgs));
        }
        Ok(ties)
    }

    fn own_in_class(&self, class_id: &str, role: &str) -> bool {
        self.own
            .iter()
            .any(|m| m.class_id == class_id && m.role == role)
    }

    fn own_at_school(&self, school_id: &str, role: &str) -> bool {
        self.own
            .iter()
            .any(|m| m.school_id == school_id && m.role == role)
            || self.roles.iter().any(|(o, r)| o == school_id && r == role)
    }

    /// The person's active children in this class.
    pub fn children_in_class(&self, class_id: &str) -> Vec<person::Model> {
        self.children
            .iter()
            .filter(|(_, classes, _)| classes.iter().any(|m| m.class_id == class_id))
            .map(|(child, _, _)| child.clone())
            .collect()
    }

    /// The person's active children at this school (in one of its classes, or with a role).
    pub fn children_at_school(&self, school_id: &str) -> Vec<person::Model> {
        self.children
            .iter()
            .filter(|(_, classes, orgs)| {
                classes.iter().any(|m| m.school_id == school_id) || orgs.contains(school_id)
            })
            .map(|(child, _, _)| child.clone())
            .collect()
    }

    /// Whether the person belongs to the school (without administering it): a pupil, a
    /// teacher or any other role there, or the guardian of one of its pupils.
    pub fn belongs_to_school(&self, school_id: &str) -> bool {
        self.own.iter().any(|m| m.school_id == school_id)
            || self
                .roles
                .iter()
                .any(|(o, r)| o == school_id && !FAMILY_ROLES.contains(&r.as_str()))
            || !self.children_at_school(school_id).is_empty()
    }
}

/// What one person may do with one activity.
#[derive(Debug, Default)]
pub struct Standing {
    pub organiser: bool,
    pub admin: bool,
    /// A teacher of the class (class activity) or of the school (school activity).
    pub teacher: bool,
    /// A pupil the activity is for.
    pub pupil: bool,
    /// The person's children the activity is for, whom they answer for.
    pub children: Vec<person::Model>,
    class_activity: bool,
}

impl Standing {
    pub fn sees(&self) -> bool {
        self.organiser || self.admin || self.teacher || self.pupil || !self.children.is_empty()
    }

    /// Sees every family's answers, the counts and the export: the organiser, the school's
    /// administrators, and for a class activity the class's teachers.
    pub fn manages(&self) -> bool {
        self.organiser || self.admin || (self.teacher && self.class_activity)
    }

    /// Cancels the activity: the organiser and the school's administrators.
    pub fn cancels(&self) -> bool {
        self.organiser || self.admin
    }
}

/// What `viewer` may do with `a`.
pub async fn standing(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    a: &activity::Model,
) -> Result<Standing, DbErr> {
    let ties = Ties::load(db, viewer).await?;
    let admin = relations::administers_org(db, viewer, &a.org_id).await?;
    let mut s = Standing {
        organiser: a.organiser_id == viewer.id,
        admin,
        class_activity: a.class_id.is_some(),
        ..Standing::default()
    };
    match &a.class_id {
        Some(class_id) => {
            s.teacher = ties.own_in_class(class_id, "teacher");
            s.pupil = ties.own_in_class(class_id, "student");
            s.children = ties.children_in_class(class_id);
        }
        None => {
            s.teacher = ties.own_at_school(&a.org_id, "teacher");
            s.pupil = ties.own_at_school(&a.org_id, "student");
            s.children = ties.children_at_school(&a.org_id);
        }
    }
    Ok(s)
}

/// Whether `viewer` is one of the school's people (or administers it): they see its
/// announcements and school-wide activities.
pub async fn school_member(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    school_id: &str,
) -> Result<bool, DbErr> {
    if relations::administers_org(db, viewer, school_id).await? {
        return Ok(true);
    }
    Ok(Ties::load(db, viewer).await?.belongs_to_school(school_id))
}

/// Whether `viewer` is one of the class's people: its teachers and pupils, their guardians,
/// and the administrators of its school.
pub async fn class_member(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    c: &class::Model,
) -> Result<bool, DbErr> {
    if relations::administers_org(db, viewer, &c.school_id).await? {
        return Ok(true);
    }
    let ties = Ties::load(db, viewer).await?;
    Ok(ties.own.iter().any(|m| m.class_id == c.id) || !ties.children_in_class(&c.id).is_empty())
}

/// The active school a sourcedId names.
pub async fn school_by_sourced_id(
    db: &impl ConnectionTrait,
    sourced_id: &str,
) -> Result<Option<org::Model>, DbErr> {
    org::Entity::find()
        .filter(org::Column::SourcedId.eq(sourced_id))
        .filter(org::Column::Status.eq(ACTIVE))
        .filter(org::Column::OrgType.eq("school"))
        .one(db)
        .await
}

/// A pupil an activity is for, with their class and guardians (for the organiser's list).
#[derive(Debug, Clone)]
pub struct Pupil {
    pub person: person::Model,
    /// The class (or classes, 、-separated) through which the activity reaches them.
    pub class: String,
    pub guardians: Vec<person::Model>,
    /// False for a pupil who answered and then left the class or school.
    pub in_audience: bool,
}

/// The active classes an activity is for: its class, or every class of its school.
pub async fn classes_of(
    db: &impl ConnectionTrait,
    a: &activity::Model,
) -> Result<Vec<class::Model>, DbErr> {
    let mut query = class::Entity::find().filter(class::Column::Status.eq(ACTIVE));
    query = match &a.class_id {
        Some(id) => query.filter(class::Column::Id.eq(id.as_str())),
        None => query.filter(class::Column::SchoolId.eq(a.org_id.as_str())),
    };
    query.all(db).await
}

/// The pupils an activity is for, and also `extra` pupils (who answered, then left the
/// class), ordered by class then sourcedId. Few queries, whatever the school's size.
pub async fn pupils(
    db: &impl ConnectionTrait,
    a: &activity::Model,
    extra: &BTreeSet<String>,
) -> Result<Vec<Pupil>, DbErr> {
    let classes = classes_of(db, a).await?;
    let titles: HashMap<&str, &str> = classes
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    let class_ids: Vec<String> = classes.iter().map(|c| c.id.clone()).collect();
    let mut class_of: HashMap<String, Vec<&str>> = HashMap::new();
    for chunk in class_ids.chunks(400) {
        for e in enrollment::Entity::find()
            .filter(enrollment::Column::ClassId.is_in(chunk.iter().cloned()))
            .filter(enrollment::Column::Role.eq("student"))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
        {
            let title = titles.get(e.class_id.as_str()).copied().unwrap_or("");
            class_of.entry(e.person_id).or_default().push(title);
        }
    }
    let mut ids: BTreeSet<String> = class_of.keys().cloned().collect();
    ids.extend(extra.iter().cloned());
    let people = store::people_by_id(db, ids.iter().cloned().collect()).await?;
    let guardians = guardians_by_pupil(db, &ids).await?;
    let mut out: Vec<Pupil> = people
        .into_values()
        .filter(|p| p.status == ACTIVE || extra.contains(&p.id))
        .map(|p| {
            let mut names = class_of.get(&p.id).cloned().unwrap_or_default();
            names.sort_unstable();
            names.dedup();
            Pupil {
                in_audience: class_of.contains_key(&p.id),
                class: names.join("、"),
                guardians: guardians.get(&p.id).cloned().unwrap_or_default(),
                person: p,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        (x.class.as_str(), x.person.sourced_id.as_str())
            .cmp(&(y.class.as_str(), y.person.sourced_id.as_str()))
    });
    Ok(out)
}

/// Active guardians of these pupils, by pupil id.
async fn guardians_by_pupil(
    db: &impl ConnectionTrait,
    pupils: &BTreeSet<String>,
) -> Result<HashMap<String, Vec<person::Model>>, DbErr> {
    let ids: Vec<String> = pupils.iter().cloned().collect();
    let mut links = Vec::new();
    for chunk in ids.chunks(400) {
        links.extend(
            guardian_link::Entity::find()
                .filter(guardian_link::Column::StudentId.is_in(chunk.iter().cloned()))
                .filter(guardian_link::Column::Status.eq(ACTIVE))
                .all(db)
                .await?,
        );
    }
    let people =
        store::people_by_id(db, links.iter().map(|l| l.guardian_id.clone()).collect()).await?;
    let mut out: HashMap<String, Vec<person::Model>> = HashMap::new();
    for l in links {
        if let Some(g) = people.get(&l.guardian_id).filter(|g| g.status == ACTIVE) {
            out.entry(l.student_id).or_default().push(g.clone());
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.sourced_id.cmp(&b.sourced_id));
    }
    Ok(out)
}

/// Whether the activity is for this pupil (an active pupil of its class or school).
pub async fn is_for_pupil(
    db: &impl ConnectionTrait,
    a: &activity::Model,
    pupil_id: &str,
) -> Result<bool, DbErr> {
    let classes = classes_of(db, a).await?;
    if classes.is_empty() {
        return Ok(false);
    }
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(pupil_id))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .filter(enrollment::Column::ClassId.is_in(classes.into_iter().map(|c| c.id)))
        .one(db)
        .await?
        .is_some())
}
