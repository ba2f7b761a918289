//! Who a notice reaches, resolved against the roster when it is needed: the pupils of a class,
//! of a grade of a school, or of a whole school, and their guardians. And the reverse: which
//! notices reach a person (as a guardian of pupils, or as a pupil when students are included).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::people::relations::{self, FAMILY_ROLES};
use crate::people::store;
use crate::roster::entity::{class, enrollment, guardian_link, person};
use crate::roster::snapshot::ACTIVE;

/// What a notice names as its audience.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Class(String),
    Grade { school: String, grade: String },
    School(String),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Class(_) => "class",
            Target::Grade { .. } => "grade",
            Target::School(_) => "school",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Target::Class(id) | Target::School(id) | Target::Grade { school: id, .. } => id,
        }
    }

    pub fn from_stored(kind: &str, id: &str, grade: Option<&str>) -> Target {
        match (kind, grade) {
            ("grade", Some(grade)) => Target::Grade {
                school: id.to_owned(),
                grade: grade.to_owned(),
            },
            ("school", _) => Target::School(id.to_owned()),
            _ => Target::Class(id.to_owned()),
        }
    }

    fn cache_key(&self) -> String {
        match self {
            Target::Class(id) => format!("c:{id}"),
            Target::Grade { school, grade } => format!("g:{school}:{grade}"),
            Target::School(id) => format!("s:{id}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pupil {
    pub id: String,
    pub sourced_id: String,
    pub name: String,
    pub given_name: String,
}

/// The pupils a target names and their active guardians.
#[derive(Debug, Default)]
pub struct Audience {
    pub pupils: Vec<Pupil>,
    /// Guardian id → indexes into `pupils`.
    pub guardians: HashMap<String, Vec<usize>>,
}

impl Audience {
    /// The pupils of this audience `guardian_id` is a guardian of.
    pub fn children_of(&self, guardian_id: &str) -> impl Iterator<Item = &Pupil> {
        self.guardians
            .get(guardian_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.pupils[i])
    }

    pub fn has_pupil(&self, pupil_id: &str) -> bool {
        self.pupils.iter().any(|p| p.id == pupil_id)
    }

    /// The pupils whose names appear in `text`: a full name, or a given name of two or more
    /// Chinese characters (小明). A flag for the sender, not a verdict.
    pub fn named_in(&self, text: &str) -> Vec<&Pupil> {
        let mut found: Vec<&Pupil> = self
            .pupils
            .iter()
            .filter(|p| {
                let full = !p.name.trim().is_empty() && text.contains(p.name.trim());
                let given = p.given_name.chars().count() >= 2
                    && p.given_name.chars().all(is_cjk)
                    && text.contains(&p.given_name);
                full || given
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        found.dedup_by(|a, b| a.id == b.id);
        found
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{20000}'..='\u{3134F}')
}

/// Active classes a target covers.
async fn classes_of(db: &impl ConnectionTrait, target: &Target) -> Result<Vec<String>, DbErr> {
    Ok(match target {
        Target::Class(id) => vec![id.clone()],
        Target::School(school) => class::Entity::find()
            .filter(class::Column::SchoolId.eq(school.as_str()))
            .filter(class::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
        Target::Grade { school, grade } => class::Entity::find()
            .filter(class::Column::SchoolId.eq(school.as_str()))
            .filter(class::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
            .into_iter()
            .filter(|c| c.grades.split(',').any(|g| g.trim() == grade))
            .map(|c| c.id)
            .collect(),
    })
}

/// Resolve a target against the roster, through the per-node cache (emptied with the others
/// when the roster changes).
pub async fn resolve(
    db: &impl ConnectionTrait,
    cache: &crate::cache::Memo<String, Arc<Audience>>,
    target: &Target,
) -> Result<Arc<Audience>, DbErr> {
    let key = target.cache_key();
    if let Some(found) = cache.get(&key) {
        return Ok(found);
    }
    let classes: BTreeSet<String> = classes_of(db, target).await?.into_iter().collect();
    let pupil_ids = relations::students_of(db, &classes).await?;
    let people = store::people_by_id(db, pupil_ids.iter().cloned().collect()).await?;
    let mut pupils: Vec<Pupil> = people
        .into_values()
        .filter(|p| p.status == ACTIVE)
        .map(|p| Pupil {
            id: p.id,
            sourced_id: p.sourced_id,
            name: p.display_name,
            given_name: p.given_name,
        })
        .collect();
    pupils.sort_by(|a, b| a.sourced_id.cmp(&b.sourced_id));
    let index: HashMap<&str, usize> = pupils
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut guardians: HashMap<String, Vec<usize>> = HashMap::new();
    let ids: Vec<String> = pupils.iter().map(|p| p.id.clone()).collect();
    for chunk in ids.chunks(400) {
        for link in guardian_link::Entity::find()
            .filter(guardian_link::Column::StudentId.is_in(chunk.iter().cloned()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
        {
            if let Some(&i) = index.get(link.student_id.as_str()) {
                guardians.entry(link.guardian_id).or_default().push(i);
            }
        }
    }
    let audience = Arc::new(Audience { pupils, guardians });
    cache.insert(key, audience.clone());
    Ok(audience)
}

/// What a person belongs to, for finding the notices that reach them.
#[derive(Debug, Default, Clone)]
pub struct Keys {
    /// Through their children: classes, schools, and (school, grade) pairs.
    pub family: KeySet,
    /// As a pupil themselves (notices that include students).
    pub own: KeySet,
    /// The person's children (ids), for confirmations.
    pub children: BTreeSet<String>,
}

#[derive(Debug, Default, Clone)]
pub struct KeySet {
    pub classes: BTreeSet<String>,
    pub schools: BTreeSet<String>,
    pub grades: BTreeSet<(String, String)>,
}

impl KeySet {
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.schools.is_empty()
    }

    pub fn covers(&self, target: &Target) -> bool {
        match target {
            Target::Class(id) => self.classes.contains(id),
            Target::School(id) => self.schools.contains(id),
            Target::Grade { school, grade } => {
                self.grades.contains(&(school.clone(), grade.clone()))
            }
        }
    }

    /// A filter on `notices` for the audiences in this set.
    pub fn condition(&self) -> Condition {
        use super::entity::notice::Column;
        let mut any = Condition::any();
        if !self.classes.is_empty() {
            any = any.add(
                Condition::all()
                    .add(Column::AudienceKind.eq("class"))
                    .add(Column::AudienceId.is_in(self.classes.iter().cloned())),
            );
        }
        if !self.schools.is_empty() {
            any = any.add(
                Condition::all()
                    .add(Column::AudienceKind.eq("school"))
                    .add(Column::AudienceId.is_in(self.schools.iter().cloned())),
            );
        }
        for (school, grade) in &self.grades {
            any = any.add(
                Condition::all()
                    .add(Column::AudienceKind.eq("grade"))
                    .add(Column::AudienceId.eq(school.as_str()))
                    .add(Column::Grade.eq(grade.as_str())),
            );
        }
        any
    }
}

/// The classes, schools and grades of these pupils' active enrollments.
async fn keys_of_pupils(
    db: &impl ConnectionTrait,
    pupils: &BTreeSet<String>,
) -> Result<KeySet, DbErr> {
    let mut set = KeySet::default();
    if pupils.is_empty() {
        return Ok(set);
    }
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.is_in(pupils.iter().cloned()))
        .filter(enrollment::Column::Role.eq("student"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let class_ids: Vec<String> = enrollments.iter().map(|e| e.class_id.clone()).collect();
    let classes = class::Entity::find()
        .filter(class::Column::Id.is_in(class_ids))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    for c in classes {
        for grade in c.grades.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            set.grades.insert((c.school_id.clone(), grade.to_owned()));
        }
        set.schools.insert(c.school_id.clone());
        set.classes.insert(c.id);
    }
    Ok(set)
}

/// The audiences `viewer` belongs to.
pub async fn keys_for(db: &impl ConnectionTrait, viewer: &person::Model) -> Result<Keys, DbErr> {
    let roles = store::active_roles(db, &viewer.id).await?;
    let mut keys = Keys::default();
    if roles
        .iter()
        .any(|r| FAMILY_ROLES.contains(&r.role.as_str()))
    {
        let links = guardian_link::Entity::find()
            .filter(guardian_link::Column::GuardianId.eq(viewer.id.as_str()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        keys.children = links.into_iter().map(|l| l.student_id).collect();
        keys.family = keys_of_pupils(db, &keys.children).await?;
    }
    if roles.iter().any(|r| r.role == "student") {
        keys.own = keys_of_pupils(db, &BTreeSet::from([viewer.id.clone()])).await?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pupil(id: &str, name: &str, given: &str) -> Pupil {
        Pupil {
            id: id.to_owned(),
            sourced_id: id.to_owned(),
            name: name.to_owned(),
            given_name: given.to_owned(),
        }
    }

    #[test]
    fn finds_pupils_named_in_a_notice() {
        let audience = Audience {
            pupils: vec![
                pupil("1", "王小明", "小明"),
                pupil("2", "李华", "华"),
                pupil("3", "Tom Lee", "Tom"),
            ],
            guardians: HashMap::new(),
        };
        let names = |text: &str| -> Vec<String> {
            audience
                .named_in(text)
                .iter()
                .map(|p| p.name.clone())
                .collect()
        };
        assert_eq!(names("请王小明同学的家长到校一趟"), ["王小明"]);
        assert_eq!(names("小明今天没交作业"), ["王小明"]);
        // A one-character given name is too common to flag on its own.
        assert!(names("中华文化周活动").is_empty());
        assert_eq!(names("李华的作业"), ["李华"]);
        assert!(names("Tomorrow we go").is_empty());
        assert!(names("明天春游，请带水").is_empty());
    }
}
