//! What a space shows, read in a handful of queries per page (never one per line): the
//! student's, the teacher's and the parent's own spaces, a class's space and a school's.
//!
//! Who may see what is decided here too, by relationship: a parent reads their own children's
//! spaces and nothing of anyone else's; a class space is for the class's pupils, their families,
//! its teachers and its school's administrators; numbers that identify a family (学籍号, phone
//! numbers) are shown in full only to the class's teachers and the school's administrators.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use crate::activities::{
    self,
    entity::{activity, announcement, answer as activity_answer},
};
use crate::assignments;
use crate::growth::entity::entry as growth_entry;
use crate::http::display::mask_phone;
use crate::lessons::entity::{lesson, publication};
use crate::messaging::entity::{notice, notice_confirmation};
use crate::people::{relations, store};
use crate::resources::entity::{resource, version as resource_version};
use crate::roster::entity::{class, enrollment, guardian_link, org, person, role};
use crate::roster::snapshot::ACTIVE;

/// How many lines each list of a space shows.
pub const LINES: u64 = 20;
/// The roster's type for the national student number (全国学籍号) in `userIds`.
const NATIONAL_STUDENT_NO: &str = "CN-XJH";

#[derive(Debug, Clone, Serialize)]
pub struct ClassCard {
    #[serde(skip)]
    pub id: String,
    pub sourced_id: String,
    pub title: String,
    pub subjects: String,
    /// The viewer's (or the child's) role in the class: student or teacher.
    pub role: String,
    pub teachers: Vec<String>,
    /// For a teacher's card: the class's pupils.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub students: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LessonLine {
    pub id: String,
    pub title: String,
    pub class: String,
    pub class_title: String,
    pub teacher: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedbackLine {
    pub comment: String,
    pub score: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssignmentLine {
    pub id: String,
    pub title: String,
    pub class: String,
    pub class_title: String,
    pub due_at: DateTime<Utc>,
    /// not_started | handed_in | late | returned
    pub status: &'static str,
    /// Due time passed without a hand-in.
    pub overdue: bool,
    pub feedback: Option<FeedbackLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrowthLine {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeLine {
    pub id: String,
    pub title: String,
    pub sent_at: DateTime<Utc>,
}

/// A pupil's space: theirs, or one card of their parent's space.
#[derive(Debug, Clone, Serialize)]
pub struct StudentSpace {
    pub sourced_id: String,
    pub name: String,
    pub classes: Vec<ClassCard>,
    pub lessons: Vec<LessonLine>,
    pub assignments: Vec<AssignmentLine>,
    pub growth: Vec<GrowthLine>,
    /// For a parent's card: class notices waiting for this parent's confirmation for this child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_confirm: Option<Vec<NoticeLine>>,
    /// For a parent's card: activities asking the family (a sign-up, a permission slip) that
    /// are still open and have no answer for this child yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_answer: Option<Vec<ActivityLine>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MyLesson {
    pub id: String,
    pub title: String,
    /// draft | scheduled | published
    pub state: &'static str,
    pub classes: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToMark {
    pub id: String,
    pub title: String,
    pub class: String,
    pub class_title: String,
    pub due_at: DateTime<Utc>,
    /// Hand-ins waiting for marking.
    pub waiting: usize,
    /// Pupils who handed in (current hand-ins).
    pub handed_in: usize,
    pub students: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceLine {
    pub id: String,
    pub title: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeacherSpace {
    pub classes: Vec<ClassCard>,
    pub lessons: Vec<MyLesson>,
    pub to_mark: Vec<ToMark>,
    pub resources: Vec<ResourceLine>,
}

/// Everything the person's own space shows, by the roles they have.
#[derive(Debug, Clone, Serialize)]
pub struct MySpace {
    pub sourced_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentSpace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher: Option<TeacherSpace>,
    /// One card per child.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<StudentSpace>>,
    /// The schools the person belongs to, for links to their spaces.
    pub schools: Vec<OrgLine>,
    /// The next moment this space changes by itself, with no write: a scheduled lesson
    /// appears, or an assignment falls due.
    #[serde(skip)]
    pub next_change: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgLine {
    pub sourced_id: String,
    pub name: String,
}

/// The person's own space.
pub async fn my_space(
    db: &impl ConnectionTrait,
    me: &person::Model,
    now: DateTime<Utc>,
) -> Result<MySpace, DbErr> {
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(me.id.as_str()))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let roles = store::active_roles(db, &me.id).await?;
    let studies = enrollments.iter().any(|e| e.role == "student")
        || roles.iter().any(|r| r.role == "student");
    let teaches = enrollments.iter().any(|e| e.role == "teacher");
    let children = store::linked(db, &me.id, true).await?;

    let student = if studies {
        let class_ids = ids(enrollments.iter().filter(|e| e.role == "student"), |e| {
            &e.class_id
        });
        Some(student_space(db, me, &class_ids, now, None).await?)
    } else {
        None
    };
    let teacher = if teaches {
        let class_ids = ids(enrollments.iter().filter(|e| e.role == "teacher"), |e| {
            &e.class_id
        });
        Some(teacher_space(db, me, &class_ids, now).await?)
    } else {
        None
    };
    let children = if children.is_empty() {
        None
    } else {
        let child_ids: Vec<String> = children.iter().map(|(_, c)| c.id.clone()).collect();
        let child_classes = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.is_in(child_ids))
            .filter(enrollment::Column::Role.eq("student"))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let mut cards = Vec::new();
        for (_, child) in &children {
            let class_ids = ids(
                child_classes.iter().filter(|e| e.person_id == child.id),
                |e| &e.class_id,
            );
            cards.push(student_space(db, child, &class_ids, now, Some(me)).await?);
        }
        Some(cards)
    };

    let mut classes: Vec<String> = enrollments.iter().map(|e| e.class_id.clone()).collect();
    let mut next_change = None;
    for s in student.iter().chain(children.iter().flatten()) {
        classes.extend(s.classes.iter().map(|c| c.id.clone()));
        next_change = earliest(
            next_change,
            s.assignments
                .iter()
                .map(|a| a.due_at)
                .filter(|due| *due > now)
                .min(),
        );
    }
    next_change = earliest(next_change, next_publication(db, classes, now).await?);

    let mut school_ids: BTreeSet<String> = roles.iter().map(|r| r.org_id.clone()).collect();
    school_ids.extend(enrollments.iter().map(|e| e.school_id.clone()));
    let schools = org::Entity::find()
        .filter(org::Column::Id.is_in(school_ids))
        .filter(org::Column::OrgType.eq("school"))
        .filter(org::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|o| OrgLine {
            sourced_id: o.sourced_id,
            name: o.name,
        })
        .collect();
    Ok(MySpace {
        sourced_id: me.sourced_id.clone(),
        name: me.display_name.clone(),
        student,
        teacher,
        children,
        schools,
        next_change,
    })
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// When the next lesson scheduled for one of these classes appears.
async fn next_publication(
    db: &impl ConnectionTrait,
    class_ids: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    if class_ids.is_empty() {
        return Ok(None);
    }
    let class_ids: BTreeSet<String> = class_ids.into_iter().collect();
    Ok(publication::Entity::find()
        .filter(publication::Column::ClassId.is_in(class_ids))
        .filter(publication::Column::PublishAt.gt(now))
        .filter(publication::Column::WithdrawnAt.is_null())
        .order_by_asc(publication::Column::PublishAt)
        .one(db)
        .await?
        .map(|p| p.publish_at))
}

fn ids<'a, T: 'a>(items: impl Iterator<Item = &'a T>, id: impl Fn(&T) -> &String) -> Vec<String> {
    let set: BTreeSet<String> = items.map(|i| id(i).clone()).collect();
    set.into_iter().collect()
}

/// The classes, with their teachers' names (and, for `with_students`, their pupils').
async fn class_cards(
    db: &impl ConnectionTrait,
    class_ids: &[String],
    role: &str,
    with_students: bool,
) -> Result<(Vec<ClassCard>, HashMap<String, String>), DbErr> {
    if class_ids.is_empty() {
        return Ok((Vec::new(), HashMap::new()));
    }
    let classes = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids.iter().cloned()))
        .filter(class::Column::Status.eq(ACTIVE))
        .order_by_asc(class::Column::Title)
        .all(db)
        .await?;
    let mut members = enrollment::Entity::find()
        .filter(enrollment::Column::ClassId.is_in(class_ids.iter().cloned()))
        .filter(enrollment::Column::Status.eq(ACTIVE));
    if !with_students {
        members = members.filter(enrollment::Column::Role.eq("teacher"));
    }
    let members = members.all(db).await?;
    let names = names_of(db, members.iter().map(|e| e.person_id.clone())).await?;
    let cards = classes
        .iter()
        .map(|c| {
            let of = |r: &str| -> Vec<String> {
                let mut v: Vec<(bool, String)> = members
                    .iter()
                    .filter(|e| e.class_id == c.id && e.role == r)
                    .filter_map(|e| names.get(&e.person_id).map(|n| (!e.is_primary, n.clone())))
                    .collect();
                v.sort();
                v.into_iter().map(|(_, n)| n).collect()
            };
            ClassCard {
                id: c.id.clone(),
                sourced_id: c.sourced_id.clone(),
                title: c.title.clone(),
                subjects: c.subjects.clone(),
                role: role.to_owned(),
                teachers: of("teacher"),
                students: if with_students {
                    of("student")
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let titles = classes
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect::<HashMap<_, _>>();
    Ok((cards, titles))
}

async fn names_of(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, DbErr> {
    let ids: BTreeSet<String> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store::people_by_id(db, ids.into_iter().collect())
        .await?
        .into_iter()
        .map(|(id, p)| (id, p.display_name))
        .collect())
}

/// Lessons visibly published to these classes (`publish_at` reached, not withdrawn), newest
/// first; a lesson published to several of them is listed once. The read is the lessons
/// module's ([`crate::lessons::visible_in_classes`]); this shapes it for a space.
pub async fn lessons_in(
    db: &impl ConnectionTrait,
    class_ids: &[String],
    class_titles: &HashMap<String, String>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<LessonLine>, DbErr> {
    let limit = limit as usize;
    // One row per class a lesson went to: enough rows for `limit` distinct lessons.
    let rows =
        crate::lessons::visible_in_classes(db, class_ids, now, limit * class_ids.len()).await?;
    let mut seen = BTreeSet::new();
    Ok(rows
        .into_iter()
        .filter(|l| seen.insert(l.lesson_id.clone()))
        .take(limit)
        .map(|l| LessonLine {
            id: l.lesson_id,
            title: l.title,
            class_title: class_titles.get(&l.class_id).cloned().unwrap_or_default(),
            class: l.class_id,
            teacher: l.owner_name,
            published_at: l.publish_at,
        })
        .collect())
}

/// A pupil's assignments in these classes with their status and, once returned, the feedback
/// that stands — the assignments module's read ([`assignments::list_for_student`]),
/// ordered for a space: what is still due first (soonest first), then the rest (most recent
/// first).
pub async fn assignments_of(
    db: &impl ConnectionTrait,
    student_id: &str,
    class_ids: &[String],
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<AssignmentLine>, DbErr> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    let within: BTreeSet<String> = class_ids.iter().cloned().collect();
    let mut list = assignments::list_for_student(db, student_id, Some(&within), now).await?;
    // Still due (soonest first), then past ones (latest first).
    list.sort_by(|a, b| {
        let (fa, fb) = (a.due_at >= now, b.due_at >= now);
        fb.cmp(&fa).then_with(|| {
            if fa {
                a.due_at.cmp(&b.due_at)
            } else {
                b.due_at.cmp(&a.due_at)
            }
        })
    });
    list.truncate(limit as usize);
    Ok(list
        .into_iter()
        .map(|a| AssignmentLine {
            id: a.id,
            title: a.title,
            class: a.class_id,
            class_title: a.class_title,
            due_at: a.due_at,
            status: a.status.as_str(),
            overdue: a.overdue,
            feedback: a.feedback.map(|f| FeedbackLine {
                comment: f.comment,
                score: match f.score {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s),
                    other => Some(other.to_string()),
                },
            }),
        })
        .collect())
}

async fn growth_of(
    db: &impl ConnectionTrait,
    student_id: &str,
    limit: u64,
) -> Result<Vec<GrowthLine>, DbErr> {
    Ok(growth_entry::Entity::find()
        .filter(growth_entry::Column::StudentId.eq(student_id))
        .filter(growth_entry::Column::RemovedAt.is_null())
        .order_by_desc(growth_entry::Column::OccurredAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|e| GrowthLine {
            id: e.id,
            kind: e.kind,
            title: e.title,
            occurred_at: e.occurred_at,
        })
        .collect())
}

/// A pupil's space; `for_parent` adds the notices waiting for that parent's confirmation.
async fn student_space(
    db: &impl ConnectionTrait,
    student: &person::Model,
    class_ids: &[String],
    now: DateTime<Utc>,
    for_parent: Option<&person::Model>,
) -> Result<StudentSpace, DbErr> {
    let (mut classes, titles) = class_cards(db, class_ids, "student", false).await?;
    // Class ids that are still active (a retired class shows nothing).
    let active: Vec<String> = titles.keys().cloned().collect();
    let lessons = lessons_in(db, &active, &titles, now, LINES).await?;
    let assignments = assignments_of(db, &student.id, &active, now, LINES).await?;
    let growth = growth_of(db, &student.id, 5).await?;
    let (to_confirm, to_answer) = match for_parent {
        Some(parent) => (
            Some(waiting_confirmation(db, parent, student, &active, now).await?),
            Some(waiting_answer(db, student, &active, now).await?),
        ),
        None => (None, None),
    };
    for c in &mut classes {
        c.students.clear();
    }
    Ok(StudentSpace {
        sourced_id: student.sourced_id.clone(),
        name: student.display_name.clone(),
        classes,
        lessons,
        assignments,
        growth,
        to_confirm,
        to_answer,
    })
}

/// Delivered notices asking for confirmation that reach this child's family (by class, grade
/// or school) and that this parent has not yet confirmed for this child.
async fn waiting_confirmation(
    db: &impl ConnectionTrait,
    parent: &person::Model,
    child: &person::Model,
    class_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<NoticeLine>, DbErr> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    let classes = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids.iter().cloned()))
        .all(db)
        .await?;
    let mut reach = Condition::any().add(
        Condition::all()
            .add(notice::Column::AudienceKind.eq("class"))
            .add(notice::Column::AudienceId.is_in(class_ids.iter().cloned())),
    );
    let schools: BTreeSet<&String> = classes.iter().map(|c| &c.school_id).collect();
    for school in schools {
        reach = reach.add(
            Condition::all()
                .add(notice::Column::AudienceKind.eq("school"))
                .add(notice::Column::AudienceId.eq(school.as_str())),
        );
    }
    for c in &classes {
        for grade in c.grades.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            reach = reach.add(
                Condition::all()
                    .add(notice::Column::AudienceKind.eq("grade"))
                    .add(notice::Column::AudienceId.eq(c.school_id.as_str()))
                    .add(notice::Column::Grade.eq(grade)),
            );
        }
    }
    let notices = notice::Entity::find()
        .filter(notice::Column::RequiresConfirmation.eq(true))
        .filter(notice::Column::Held.eq(false))
        .filter(notice::Column::DeliverAt.lte(now))
        .filter(reach)
        .order_by_desc(notice::Column::DeliverAt)
        .limit(LINES)
        .all(db)
        .await?;
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let confirmed: BTreeSet<String> = notice_confirmation::Entity::find()
        .filter(notice_confirmation::Column::GuardianId.eq(parent.id.as_str()))
        .filter(notice_confirmation::Column::StudentId.eq(child.id.as_str()))
        .filter(notice_confirmation::Column::NoticeId.is_in(notices.iter().map(|n| n.id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.notice_id)
        .collect();
    Ok(notices
        .into_iter()
        .filter(|n| !confirmed.contains(&n.id))
        .map(|n| NoticeLine {
            id: n.id,
            title: n.title,
            sent_at: n.deliver_at,
        })
        .collect())
}

/// Activities of this child's classes and schools that ask the family something (a sign-up, a
/// permission slip), still take answers, and have no answer for this child yet.
async fn waiting_answer(
    db: &impl ConnectionTrait,
    child: &person::Model,
    class_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<ActivityLine>, DbErr> {
    if class_ids.is_empty() {
        return Ok(Vec::new());
    }
    let classes: BTreeSet<String> = class_ids.iter().cloned().collect();
    let schools: BTreeSet<String> = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.school_id)
        .collect();
    let open: Vec<activity::Model> =
        activities::service::upcoming_for_classes(db, &classes, &schools, now, LINES)
            .await?
            .into_iter()
            .filter(|a| a.ask != "none" && now <= activities::service::answers_close_at(a))
            .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let answered: BTreeSet<String> = activity_answer::Entity::find()
        .filter(activity_answer::Column::StudentId.eq(child.id.as_str()))
        .filter(activity_answer::Column::ActivityId.is_in(open.iter().map(|a| a.id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    Ok(open
        .into_iter()
        .filter(|a| !answered.contains(&a.id))
        .map(activity_line)
        .collect())
}

async fn teacher_space(
    db: &impl ConnectionTrait,
    me: &person::Model,
    class_ids: &[String],
    now: DateTime<Utc>,
) -> Result<TeacherSpace, DbErr> {
    let (classes, _) = class_cards(db, class_ids, "teacher", true).await?;

    let lessons = lesson::Entity::find()
        .filter(lesson::Column::OwnerId.eq(me.id.as_str()))
        .order_by_desc(lesson::Column::UpdatedAt)
        .limit(LINES)
        .all(db)
        .await?;
    let publications = publication::Entity::find()
        .filter(publication::Column::LessonId.is_in(lessons.iter().map(|l| l.id.clone())))
        .filter(publication::Column::WithdrawnAt.is_null())
        .all(db)
        .await?;
    let class_names = class_titles(db, publications.iter().map(|p| p.class_id.clone())).await?;
    let lessons = lessons
        .into_iter()
        .map(|l| {
            let mine: Vec<&publication::Model> = publications
                .iter()
                .filter(|p| p.lesson_id == l.id)
                .collect();
            let state = if mine.is_empty() {
                "draft"
            } else if mine.iter().any(|p| p.publish_at <= now) {
                "published"
            } else {
                "scheduled"
            };
            MyLesson {
                id: l.id,
                title: l.title,
                state,
                classes: mine
                    .iter()
                    .filter_map(|p| class_names.get(&p.class_id).cloned())
                    .collect(),
                updated_at: l.updated_at,
            }
        })
        .collect();

    // What waits to be marked: the assignments module's counts, the latest due first.
    let mut set = assignments::for_teacher(db, me).await?;
    set.sort_by(|a, b| (b.due_at, &b.id).cmp(&(a.due_at, &a.id)));
    set.truncate(LINES as usize);
    let to_mark = set
        .into_iter()
        .map(|a| ToMark {
            waiting: a.counts.to_mark() as usize,
            handed_in: (a.counts.total - a.counts.not_started) as usize,
            students: a.counts.total as usize,
            title: a.title,
            class_title: a.class_title,
            class: a.class_id,
            due_at: a.due_at,
            id: a.id,
        })
        .collect();

    let resources = resource::Entity::find()
        .filter(resource::Column::OwnerId.eq(me.id.as_str()))
        .order_by_desc(resource::Column::UpdatedAt)
        .limit(5)
        .all(db)
        .await?;
    let versions: HashMap<String, String> = resource_version::Entity::find()
        .filter(
            resource_version::Column::Id
                .is_in(resources.iter().map(|r| r.latest_version_id.clone())),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v.title))
        .collect();
    let resources = resources
        .into_iter()
        .map(|r| ResourceLine {
            title: versions
                .get(&r.latest_version_id)
                .cloned()
                .unwrap_or_default(),
            id: r.id,
            state: r.state,
        })
        .collect();
    Ok(TeacherSpace {
        classes,
        lessons,
        to_mark,
        resources,
    })
}

async fn class_titles(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, DbErr> {
    let ids: BTreeSet<String> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(class::Entity::find()
        .filter(class::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect())
}

// ── The class space ─────────────────────────────────────────────────────────────────────────

/// How the viewer stands to a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Teacher,
    Administrator,
    Student,
    Family,
}

impl Standing {
    /// Teachers and administrators see the roster's numbers in full.
    pub fn sees_numbers(self) -> bool {
        matches!(self, Standing::Teacher | Standing::Administrator)
    }
}

/// How `viewer` stands to `class`, or `None` when they have nothing to do with it.
pub async fn standing(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    class: &class::Model,
) -> Result<Option<Standing>, DbErr> {
    let mine = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(viewer.id.as_str()))
        .filter(enrollment::Column::ClassId.eq(class.id.as_str()))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    if mine.iter().any(|e| e.role == "teacher") {
        return Ok(Some(Standing::Teacher));
    }
    if relations::administers_org(db, viewer, &class.school_id).await? {
        return Ok(Some(Standing::Administrator));
    }
    if mine.iter().any(|e| e.role == "student") {
        return Ok(Some(Standing::Student));
    }
    let pupils = relations::students_of(db, &BTreeSet::from([class.id.clone()])).await?;
    let children = guardian_link::Entity::find()
        .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    if children.iter().any(|l| pupils.contains(&l.student_id)) {
        return Ok(Some(Standing::Family));
    }
    Ok(None)
}

#[derive(Debug, Clone, Serialize)]
pub struct GuardianLine {
    pub name: String,
    pub relation: String,
    /// In full for the class's teachers and administrators, masked for everyone else.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PupilLine {
    pub sourced_id: String,
    pub name: String,
    /// 全国学籍号: in full for the class's teachers and administrators, masked otherwise.
    pub national_student_no: Option<String>,
    pub guardians: Vec<GuardianLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityLine {
    pub id: String,
    pub title: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    /// none | signup | permission
    pub ask: String,
    pub deadline: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassSpace {
    pub sourced_id: String,
    pub title: String,
    pub subjects: String,
    pub school: OrgLine,
    /// Whether the numbers in the roster are shown in full.
    pub full_numbers: bool,
    pub viewer_teaches: bool,
    pub teachers: Vec<String>,
    pub lessons: Vec<LessonLine>,
    pub activities: Vec<ActivityLine>,
    pub notices: Vec<NoticeLine>,
    pub roster: Vec<PupilLine>,
}

/// The class space as `standing` sees it.
pub async fn class_space(
    db: &impl ConnectionTrait,
    class: &class::Model,
    standing: Standing,
    now: DateTime<Utc>,
) -> Result<ClassSpace, DbErr> {
    let ids = vec![class.id.clone()];
    let (cards, titles) = class_cards(db, &ids, "", true).await?;
    let lessons = lessons_in(db, &ids, &titles, now, LINES).await?;
    let activities = activity::Entity::find()
        .filter(
            Condition::any()
                .add(activity::Column::ClassId.eq(class.id.as_str()))
                .add(
                    Condition::all()
                        .add(activity::Column::ClassId.is_null())
                        .add(activity::Column::OrgId.eq(class.school_id.as_str())),
                ),
        )
        .filter(activity::Column::CancelledAt.is_null())
        .order_by_desc(activity::Column::StartsAt)
        .limit(LINES)
        .all(db)
        .await?
        .into_iter()
        .map(activity_line)
        .collect();
    let mut notices = notice::Entity::find()
        .filter(notice::Column::AudienceKind.eq("class"))
        .filter(notice::Column::AudienceId.eq(class.id.as_str()))
        .filter(notice::Column::Held.eq(false))
        .filter(notice::Column::DeliverAt.lte(now));
    if standing == Standing::Student {
        notices = notices.filter(notice::Column::IncludeStudents.eq(true));
    }
    let notices = notices
        .order_by_desc(notice::Column::DeliverAt)
        .limit(10)
        .all(db)
        .await?
        .into_iter()
        .map(|n| NoticeLine {
            id: n.id,
            title: n.title,
            sent_at: n.deliver_at,
        })
        .collect();
    let roster = roster(db, class, standing.sees_numbers()).await?;
    let school = org::Entity::find_by_id(class.school_id.clone())
        .one(db)
        .await?
        .map(|o| OrgLine {
            sourced_id: o.sourced_id,
            name: o.name,
        })
        .unwrap_or(OrgLine {
            sourced_id: String::new(),
            name: String::new(),
        });
    Ok(ClassSpace {
        sourced_id: class.sourced_id.clone(),
        title: class.title.clone(),
        subjects: class.subjects.clone(),
        school,
        full_numbers: standing.sees_numbers(),
        viewer_teaches: standing == Standing::Teacher,
        teachers: cards
            .into_iter()
            .next()
            .map(|c| c.teachers)
            .unwrap_or_default(),
        lessons,
        activities,
        notices,
        roster,
    })
}

fn activity_line(a: activity::Model) -> ActivityLine {
    ActivityLine {
        id: a.id,
        title: a.title,
        place: a.place,
        starts_at: a.starts_at,
        ask: a.ask,
        deadline: a.deadline,
    }
}

async fn roster(
    db: &impl ConnectionTrait,
    class: &class::Model,
    full: bool,
) -> Result<Vec<PupilLine>, DbErr> {
    let pupils = relations::students_of(db, &BTreeSet::from([class.id.clone()])).await?;
    let links = guardian_link::Entity::find()
        .filter(guardian_link::Column::StudentId.is_in(pupils.iter().cloned()))
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let people = store::people_by_id(
        db,
        pupils
            .iter()
            .cloned()
            .chain(links.iter().map(|l| l.guardian_id.clone()))
            .collect(),
    )
    .await?;
    let mut lines: Vec<PupilLine> = pupils
        .iter()
        .filter_map(|id| people.get(id))
        .map(|p| PupilLine {
            sourced_id: p.sourced_id.clone(),
            name: p.display_name.clone(),
            national_student_no: user_id(&p.user_ids, NATIONAL_STUDENT_NO)
                .map(|n| if full { n.to_owned() } else { mask(n, 3, 4) }),
            guardians: links
                .iter()
                .filter(|l| l.student_id == p.id)
                .filter_map(|l| {
                    let g = people.get(&l.guardian_id)?;
                    Some(GuardianLine {
                        name: g.display_name.clone(),
                        relation: l.relation.clone(),
                        phone: g
                            .phone
                            .as_deref()
                            .map(|n| if full { n.to_owned() } else { mask_phone(n) }),
                    })
                })
                .collect(),
        })
        .collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(lines)
}

/// The value of one `{type:value}` in a roster `userIds` field.
fn user_id<'a>(user_ids: &'a str, kind: &str) -> Option<&'a str> {
    user_ids.split(',').find_map(|part| {
        let inner = part.trim().strip_prefix('{')?.strip_suffix('}')?;
        let (k, v) = inner.split_once(':')?;
        (k.trim() == kind).then(|| v.trim())
    })
}

/// `keep_start` characters, stars, `keep_end` characters: 138****5678. Short values are
/// starred whole.
pub fn mask(value: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= keep_start + keep_end + 2 {
        return "*".repeat(chars.len().max(4));
    }
    let mut out: String = chars[..keep_start].iter().collect();
    out.push_str(&"*".repeat(chars.len() - keep_start - keep_end));
    out.extend(&chars[chars.len() - keep_end..]);
    out
}

// ── The school space ────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, Serialize)]
pub struct AnnouncementLine {
    pub id: String,
    pub title: String,
    pub body_html: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchoolSpace {
    pub sourced_id: String,
    pub name: String,
    pub announcements: Vec<AnnouncementLine>,
    pub activities: Vec<ActivityLine>,
    pub administers: bool,
}

/// Whether `viewer` belongs to `school`: a role there (or above it), a class there, or a child
/// in one of its classes.
pub async fn belongs_to_school(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    school: &org::Model,
) -> Result<bool, DbErr> {
    if role::Entity::find()
        .filter(role::Column::PersonId.eq(viewer.id.as_str()))
        .filter(role::Column::OrgId.eq(school.id.as_str()))
        .filter(role::Column::Status.eq(ACTIVE))
        .one(db)
        .await?
        .is_some()
        || relations::administers_org(db, viewer, &school.id).await?
    {
        return Ok(true);
    }
    let mut people = vec![viewer.id.clone()];
    people.extend(
        guardian_link::Entity::find()
            .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.student_id),
    );
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.is_in(people))
        .filter(enrollment::Column::SchoolId.eq(school.id.as_str()))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .one(db)
        .await?
        .is_some())
}

pub async fn school_space(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    school: &org::Model,
) -> Result<SchoolSpace, DbErr> {
    let announcements = announcement::Entity::find()
        .filter(announcement::Column::OrgId.eq(school.id.as_str()))
        .filter(announcement::Column::WithdrawnAt.is_null())
        .order_by_desc(announcement::Column::PublishedAt)
        .limit(LINES)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AnnouncementLine {
            id: a.id,
            title: a.title,
            body_html: a.body_html,
            published_at: a.published_at,
        })
        .collect();
    let activities = activity::Entity::find()
        .filter(activity::Column::OrgId.eq(school.id.as_str()))
        .filter(activity::Column::ClassId.is_null())
        .filter(activity::Column::CancelledAt.is_null())
        .order_by_desc(activity::Column::StartsAt)
        .limit(LINES)
        .all(db)
        .await?
        .into_iter()
        .map(activity_line)
        .collect();
    Ok(SchoolSpace {
        sourced_id: school.sourced_id.clone(),
        name: school.name.clone(),
        announcements,
        activities,
        administers: relations::administers_org(db, viewer, &school.id).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_numbers() {
        assert_eq!(mask("13812345678", 3, 4), "138****5678");
        assert_eq!(mask("G44010620150101001X", 3, 4), "G44************001X");
        assert_eq!(mask("12345", 3, 4), "*****");
        assert_eq!(mask("", 3, 4), "****");
    }

    #[test]
    fn finds_a_user_id_by_type() {
        let ids = "{CN-XJH:G44010620150101001X},{CN-SEAT:12}";
        assert_eq!(user_id(ids, "CN-XJH"), Some("G44010620150101001X"));
        assert_eq!(user_id(ids, "CN-SEAT"), Some("12"));
        assert_eq!(user_id(ids, "LDAP"), None);
        assert_eq!(user_id("", "CN-XJH"), None);
    }
}
