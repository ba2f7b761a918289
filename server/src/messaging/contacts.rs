//! Whom a person may start a 1:1 conversation with, as the "start a conversation" page lists
//! them: a teacher, the families of their classes' pupils and their colleagues; a parent, the
//! teachers of their children. A list to choose from, not a permission:
//! [`conversations::may_message`](super::conversations::may_message) still decides when the
//! conversation is opened.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::people::relations::{self, FAMILY_ROLES};
use crate::people::service::ADMIN_ROLES;
use crate::people::store;
use crate::roster::entity::{class, enrollment, guardian_link, person, role};
use crate::roster::snapshot::ACTIVE;

/// Someone to write to.
#[derive(Debug, Clone)]
pub struct Contact {
    pub sourced_id: String,
    pub name: String,
    /// What relates them: a parent's children in the class, or the classes a teacher teaches
    /// the child in. Empty for colleagues.
    pub about: Vec<String>,
}

/// Why the people of a group are listed.
#[derive(Debug, Clone)]
pub enum Heading {
    /// The families of a class the person teaches (its title).
    ClassFamilies(String),
    /// The teachers of one of the person's children (the child's name).
    ChildTeachers(String),
    /// Staff of the person's own schools.
    Colleagues,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub heading: Heading,
    pub people: Vec<Contact>,
}

/// The person's contacts, and the classes they teach (whose teachers' group they may open).
#[derive(Debug, Default)]
pub struct Contacts {
    pub groups: Vec<Group>,
    pub taught: Vec<class::Model>,
}

fn reachable(p: &person::Model, me: &person::Model) -> bool {
    p.status == ACTIVE && p.enabled && p.id != me.id
}

fn by_name(people: &mut [Contact]) {
    people.sort_by(|a, b| (&a.name, &a.sourced_id).cmp(&(&b.name, &b.sourced_id)));
}

pub async fn of(db: &impl ConnectionTrait, me: &person::Model) -> Result<Contacts, DbErr> {
    let roles = store::active_roles(db, &me.id).await?;
    let staff_orgs: BTreeSet<String> = roles
        .iter()
        .filter(|r| r.role == "teacher" || ADMIN_ROLES.contains(&r.role.as_str()))
        .map(|r| r.org_id.clone())
        .collect();
    let family = roles
        .iter()
        .any(|r| FAMILY_ROLES.contains(&r.role.as_str()));
    let mut out = Contacts::default();
    let taught = relations::taught_classes(db, me, false).await?;
    if !taught.is_empty() {
        let mut classes = class::Entity::find()
            .filter(class::Column::Id.is_in(taught))
            .filter(class::Column::Status.eq(ACTIVE))
            .all(db)
            .await?;
        classes.sort_by(|a, b| (&a.grades, &a.title).cmp(&(&b.grades, &b.title)));
        for c in &classes {
            let people = class_families(db, me, c).await?;
            if !people.is_empty() {
                out.groups.push(Group {
                    heading: Heading::ClassFamilies(c.title.clone()),
                    people,
                });
            }
        }
        out.taught = classes;
    }
    if family {
        for (_, child) in store::linked(db, &me.id, true).await? {
            if child.status != ACTIVE {
                continue;
            }
            let people = child_teachers(db, me, &child).await?;
            if !people.is_empty() {
                out.groups.push(Group {
                    heading: Heading::ChildTeachers(child.display_name.clone()),
                    people,
                });
            }
        }
    }
    if !staff_orgs.is_empty() {
        let people = colleagues(db, me, staff_orgs).await?;
        if !people.is_empty() {
            out.groups.push(Group {
                heading: Heading::Colleagues,
                people,
            });
        }
    }
    Ok(out)
}

/// The active guardians of a class's pupils, each with their children in it.
async fn class_families(
    db: &impl ConnectionTrait,
    me: &person::Model,
    c: &class::Model,
) -> Result<Vec<Contact>, DbErr> {
    let pupils = relations::students_of(db, &[c.id.clone()].into_iter().collect()).await?;
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let ids: Vec<String> = pupils.iter().cloned().collect();
    for chunk in ids.chunks(400) {
        for link in guardian_link::Entity::find()
            .filter(guardian_link::Column::StudentId.is_in(chunk.iter().cloned()))
            .filter(guardian_link::Column::Status.eq(ACTIVE))
            .all(db)
            .await?
        {
            children
                .entry(link.guardian_id)
                .or_default()
                .push(link.student_id);
        }
    }
    let mut wanted: Vec<String> = children.keys().cloned().collect();
    wanted.extend(pupils);
    let people = store::people_by_id(db, wanted).await?;
    let mut out: Vec<Contact> = children
        .into_iter()
        .filter_map(|(guardian, kids)| {
            let g = people.get(&guardian).filter(|g| reachable(g, me))?;
            let mut about: Vec<String> = kids
                .iter()
                .filter_map(|k| people.get(k).map(|p| p.display_name.clone()))
                .collect();
            about.sort();
            Some(Contact {
                sourced_id: g.sourced_id.clone(),
                name: g.display_name.clone(),
                about,
            })
        })
        .collect();
    by_name(&mut out);
    Ok(out)
}

/// The teachers of a child's active classes, each with the classes they teach the child in.
async fn child_teachers(
    db: &impl ConnectionTrait,
    me: &person::Model,
    child: &person::Model,
) -> Result<Vec<Contact>, DbErr> {
    let classes: BTreeMap<String, String> = store::classes_of(db, &child.id)
        .await?
        .into_iter()
        .filter(|(e, _)| e.role == "student")
        .map(|(_, c)| (c.id, c.title))
        .collect();
    if classes.is_empty() {
        return Ok(Vec::new());
    }
    let mut teaches: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in enrollment::Entity::find()
        .filter(enrollment::Column::ClassId.is_in(classes.keys().cloned()))
        .filter(enrollment::Column::Role.eq("teacher"))
        .filter(enrollment::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
    {
        if let Some(title) = classes.get(&e.class_id) {
            teaches.entry(e.person_id).or_default().push(title.clone());
        }
    }
    let people = store::people_by_id(db, teaches.keys().cloned().collect()).await?;
    let mut out: Vec<Contact> = teaches
        .into_iter()
        .filter_map(|(id, mut about)| {
            let t = people.get(&id).filter(|t| reachable(t, me))?;
            about.sort();
            about.dedup();
            Some(Contact {
                sourced_id: t.sourced_id.clone(),
                name: t.display_name.clone(),
                about,
            })
        })
        .collect();
    by_name(&mut out);
    Ok(out)
}

/// Teachers and administrators with a role in one of these organisations.
async fn colleagues(
    db: &impl ConnectionTrait,
    me: &person::Model,
    orgs: BTreeSet<String>,
) -> Result<Vec<Contact>, DbErr> {
    let mut staff_roles = vec!["teacher"];
    staff_roles.extend(ADMIN_ROLES);
    let ids: BTreeSet<String> = role::Entity::find()
        .filter(role::Column::OrgId.is_in(orgs))
        .filter(role::Column::Role.is_in(staff_roles))
        .filter(role::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.person_id)
        .collect();
    let people = store::people_by_id(db, ids.into_iter().collect()).await?;
    let mut out: Vec<Contact> = people
        .into_values()
        .filter(|p| reachable(p, me))
        .map(|p| Contact {
            sourced_id: p.sourced_id,
            name: p.display_name,
            about: Vec::new(),
        })
        .collect();
    by_name(&mut out);
    Ok(out)
}
