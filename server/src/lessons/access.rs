//! Who may do what with a lesson, decided from the roster.
//!
//! A lesson is its owner's until it is published. Published to a class, it is seen by the
//! class's pupils and their families once its time has come (`publish_at <= now`, not
//! withdrawn), and by the class's teachers and the administrators of its school from the
//! moment it is scheduled. A lesson visibly published in a school is also open to that
//! school's teachers and administrators (colleagues), who may read and copy it. Everyone else
//! learns nothing: the lesson answers 404.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::{lesson, publication};
use crate::people::{service as people, store};
use crate::roster::entity::{class, enrollment, guardian_link, person};
use crate::roster::snapshot::ACTIVE;

/// How a person is related to the classes of the roster, loaded once per request.
pub struct Viewer {
    pub person: person::Model,
    /// Classes they teach.
    pub taught: BTreeSet<String>,
    /// Classes they are a pupil in.
    pub studies: BTreeSet<String>,
    /// Classes their children are pupils in.
    pub children_in: BTreeSet<String>,
    /// Organisations they administer (each also administers everything below it).
    admin_orgs: Vec<String>,
    /// School id → whether they administer it (memoised ancestry look-ups).
    administered: std::sync::Mutex<HashMap<String, bool>>,
}

/// How a person stands to one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassStanding {
    pub teacher: bool,
    pub admin: bool,
    pub student: bool,
    pub guardian: bool,
}

impl ClassStanding {
    /// Teaches the class or administers its school: sees scheduled lessons too.
    pub fn staff(&self) -> bool {
        self.teacher || self.admin
    }

    /// May see the class at all (its lessons list).
    pub fn any(&self) -> bool {
        self.staff() || self.student || self.guardian
    }
}

impl Viewer {
    pub async fn load(db: &impl ConnectionTrait, person: &person::Model) -> Result<Viewer, DbErr> {
        let mut viewer = Viewer {
            person: person.clone(),
            taught: BTreeSet::new(),
            studies: BTreeSet::new(),
            children_in: BTreeSet::new(),
            admin_orgs: Vec::new(),
            administered: Default::default(),
        };
        if person.status != ACTIVE {
            return Ok(viewer);
        }
        for e in enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(person.id.as_str()))
            .filter(enrollment::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
        {
            match e.role.as_str() {
                "teacher" => viewer.taught.insert(e.class_id),
                "student" => viewer.studies.insert(e.class_id),
                _ => false,
            };
        }
        let children: Vec<String> = guardian_link::Entity::find()
            .filter(guardian_link::Column::GuardianId.eq(person.id.as_str()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.student_id)
            .collect();
        if !children.is_empty() {
            viewer.children_in = enrollment::Entity::find()
                .filter(enrollment::Column::PersonId.is_in(children))
                .filter(enrollment::Column::Role.eq("student"))
                .filter(enrollment::Column::Status.eq(ACTIVE))
                .all(db)
                .await?
                .into_iter()
                .map(|e| e.class_id)
                .collect();
        }
        viewer.admin_orgs = people::administered_orgs(db, person).await?;
        Ok(viewer)
    }

    pub fn id(&self) -> &str {
        &self.person.id
    }

    /// Whether they may write lessons: they teach a class, or administer a school (or more).
    pub fn writes(&self) -> bool {
        !self.taught.is_empty() || !self.admin_orgs.is_empty()
    }

    pub fn administers_anything(&self) -> bool {
        !self.admin_orgs.is_empty()
    }

    /// Whether they administer `school_id` (or an organisation above it).
    pub async fn administers(
        &self,
        db: &impl ConnectionTrait,
        school_id: &str,
    ) -> Result<bool, DbErr> {
        if self.admin_orgs.is_empty() {
            return Ok(false);
        }
        if let Some(known) = self.memo().get(school_id) {
            return Ok(*known);
        }
        let answer = store::ancestry(db, school_id)
            .await?
            .iter()
            .any(|o| self.admin_orgs.contains(o));
        self.memo().insert(school_id.to_owned(), answer);
        Ok(answer)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.administered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub async fn standing(
        &self,
        db: &impl ConnectionTrait,
        class: &class::Model,
    ) -> Result<ClassStanding, DbErr> {
        Ok(ClassStanding {
            teacher: self.taught.contains(&class.id),
            admin: self.administers(db, &class.school_id).await?,
            student: self.studies.contains(&class.id),
            guardian: self.children_in.contains(&class.id),
        })
    }

    /// May publish to `class`: they teach it, or administer its school.
    pub async fn may_publish_to(
        &self,
        db: &impl ConnectionTrait,
        class: &class::Model,
    ) -> Result<bool, DbErr> {
        Ok(self.taught.contains(&class.id) || self.administers(db, &class.school_id).await?)
    }

    /// Whether `school_id` is a school they teach in (a class of theirs is there) or administer.
    pub async fn colleague_in(
        &self,
        db: &impl ConnectionTrait,
        school_id: &str,
        taught_schools: &BTreeSet<String>,
    ) -> Result<bool, DbErr> {
        Ok(taught_schools.contains(school_id) || self.administers(db, school_id).await?)
    }

    /// The schools of the classes they teach.
    pub async fn taught_schools(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<BTreeSet<String>, DbErr> {
        Ok(classes_by_id(db, self.taught.iter().cloned())
            .await?
            .into_values()
            .map(|c| c.school_id)
            .collect())
    }

    /// The school a new lesson of theirs belongs to: that of a class they teach, else the
    /// organisation they administer.
    pub async fn home_org(&self, db: &impl ConnectionTrait) -> Result<Option<String>, DbErr> {
        if let Some(school) = self.taught_schools(db).await?.into_iter().next() {
            return Ok(Some(school));
        }
        let mut orgs = self.admin_orgs.clone();
        orgs.sort();
        Ok(orgs.into_iter().next())
    }

    /// Every school they administer (an administered district's schools included).
    pub async fn administered_schools(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<BTreeSet<String>, DbErr> {
        if self.admin_orgs.is_empty() {
            return Ok(BTreeSet::new());
        }
        let orgs = crate::roster::entity::org::Entity::find()
            .filter(crate::roster::entity::org::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        let parent: HashMap<&str, Option<&str>> = orgs
            .iter()
            .map(|o| (o.id.as_str(), o.parent_id.as_deref()))
            .collect();
        let mut out = BTreeSet::new();
        for o in &orgs {
            let mut current = Some(o.id.as_str());
            let mut steps = 0;
            while let Some(id) = current {
                if self.admin_orgs.iter().any(|a| a == id) {
                    out.insert(o.id.clone());
                    break;
                }
                steps += 1;
                if steps > 16 {
                    break;
                }
                current = parent.get(id).copied().flatten();
            }
        }
        Ok(out)
    }
}

/// Active classes by id.
pub async fn classes_by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<BTreeMap<String, class::Model>, DbErr> {
    let ids: Vec<String> = ids.collect::<BTreeSet<_>>().into_iter().collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(400) {
        for c in class::Entity::find()
            .filter(class::Column::Id.is_in(chunk.iter().cloned()))
            .filter(class::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
        {
            out.insert(c.id.clone(), c);
        }
    }
    Ok(out)
}

/// A publication shows the lesson to the class's pupils and families at this moment.
pub fn visible(p: &publication::Model, now: DateTime<Utc>) -> bool {
    p.withdrawn_at.is_none() && p.publish_at <= now
}

/// A publication not withdrawn (shown now, or scheduled).
pub fn live(p: &publication::Model) -> bool {
    p.withdrawn_at.is_none()
}

/// How a person stands to one lesson.
#[derive(Debug, Default)]
pub struct Standing {
    pub owner: bool,
    /// Classes with a live publication that they teach or whose school they administer.
    pub staff_of: BTreeSet<String>,
    /// Classes with a visible publication where they are a pupil or a pupil's family.
    pub reader_of: BTreeSet<String>,
    /// The lesson is visibly published in a school they teach in or administer.
    pub colleague: bool,
}

impl Standing {
    pub fn sees(&self) -> bool {
        self.owner || !self.staff_of.is_empty() || !self.reader_of.is_empty() || self.colleague
    }

    /// The owner and the staff of the classes it is published to see its history.
    pub fn sees_history(&self) -> bool {
        self.owner || !self.staff_of.is_empty()
    }

    /// One's own lesson, or a colleague's published one.
    pub fn may_copy(&self) -> bool {
        self.owner || self.colleague
    }
}

/// How `viewer` stands to `l`, given its publications and their classes.
pub async fn standing(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    l: &lesson::Model,
    publications: &[publication::Model],
    classes: &BTreeMap<String, class::Model>,
    now: DateTime<Utc>,
) -> Result<Standing, DbErr> {
    let mut s = Standing {
        owner: l.owner_id == viewer.id(),
        ..Standing::default()
    };
    let mut taught_schools: Option<BTreeSet<String>> = None;
    for p in publications.iter().filter(|p| live(p)) {
        let Some(class) = classes.get(&p.class_id) else {
            continue;
        };
        let cs = viewer.standing(db, class).await?;
        if cs.staff() {
            s.staff_of.insert(class.id.clone());
        }
        if !visible(p, now) {
            continue;
        }
        if cs.student || cs.guardian {
            s.reader_of.insert(class.id.clone());
        }
        if !s.colleague && viewer.writes() {
            if taught_schools.is_none() {
                taught_schools = Some(viewer.taught_schools(db).await?);
            }
            let schools = taught_schools.as_ref().map_or(&EMPTY, |t| t);
            s.colleague = viewer.colleague_in(db, &class.school_id, schools).await?;
        }
    }
    Ok(s)
}

static EMPTY: BTreeSet<String> = BTreeSet::new();
