//! Queries about people: lookup by sourcedId, their roles, orgs, classes, children, guardians.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::roster::entity::{
    class, enrollment, guardian_link, org, person, person_alias, role, space,
};
use crate::roster::snapshot::ACTIVE;

/// The person a sourcedId names, directly or through a merge.
pub async fn find_by_sourced_id(
    db: &impl ConnectionTrait,
    sourced_id: &str,
) -> Result<Option<person::Model>, DbErr> {
    if let Some(p) = person::Entity::find()
        .filter(person::Column::SourcedId.eq(sourced_id))
        .one(db)
        .await?
    {
        return Ok(Some(p));
    }
    let Some(alias) = person_alias::Entity::find_by_id(sourced_id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    person::Entity::find_by_id(alias.person_id).one(db).await
}

pub async fn active_roles(
    db: &impl ConnectionTrait,
    person_id: &str,
) -> Result<Vec<role::Model>, DbErr> {
    role::Entity::find()
        .filter(role::Column::PersonId.eq(person_id))
        .filter(role::Column::Status.eq(ACTIVE))
        .all(db)
        .await
}

/// Every role row of a person, active or retired.
pub async fn all_roles(
    db: &impl ConnectionTrait,
    person_id: &str,
) -> Result<Vec<role::Model>, DbErr> {
    role::Entity::find()
        .filter(role::Column::PersonId.eq(person_id))
        .all(db)
        .await
}

pub async fn orgs_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, org::Model>, DbErr> {
    Ok(org::Entity::find()
        .filter(org::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect())
}

/// The org and every ancestor of it, nearest first.
pub async fn ancestry(db: &impl ConnectionTrait, org_id: &str) -> Result<Vec<String>, DbErr> {
    let mut chain = Vec::new();
    let mut current = Some(org_id.to_owned());
    while let Some(id) = current {
        if chain.contains(&id) {
            break;
        }
        let parent = org::Entity::find_by_id(id.clone())
            .one(db)
            .await?
            .and_then(|o| o.parent_id);
        chain.push(id);
        current = parent;
    }
    Ok(chain)
}

pub async fn space_of(
    db: &impl ConnectionTrait,
    person_id: &str,
) -> Result<Option<space::Model>, DbErr> {
    space::Entity::find()
        .filter(space::Column::PersonId.eq(person_id))
        .one(db)
        .await
}

/// Active enrollments with their classes.
pub async fn classes_of(
    db: &impl ConnectionTrait,
    person_id: &str,
) -> Result<Vec<(enrollment::Model, class::Model)>, DbErr> {
    let enrollments = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person_id))
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
    Ok(enrollments
        .into_iter()
        .filter_map(|e| classes.get(&e.class_id).cloned().map(|c| (e, c)))
        .collect())
}

/// Active links where the person is the guardian (`as_guardian`) or the student, with the
/// person at the other end.
pub async fn linked(
    db: &impl ConnectionTrait,
    person_id: &str,
    as_guardian: bool,
) -> Result<Vec<(guardian_link::Model, person::Model)>, DbErr> {
    let column = if as_guardian {
        guardian_link::Column::GuardianId
    } else {
        guardian_link::Column::StudentId
    };
    let links = guardian_link::Entity::find()
        .filter(column.eq(person_id))
        .filter(guardian_link::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    let others: Vec<String> = links
        .iter()
        .map(|l| {
            if as_guardian {
                l.student_id.clone()
            } else {
                l.guardian_id.clone()
            }
        })
        .collect();
    let people: HashMap<String, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(others))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let other = if as_guardian {
                &l.student_id
            } else {
                &l.guardian_id
            };
            people.get(other).cloned().map(|p| (l, p))
        })
        .collect())
}

pub async fn people_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, person::Model>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(400) {
        for p in person::Entity::find()
            .filter(person::Column::Id.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            out.insert(p.id.clone(), p);
        }
    }
    Ok(out)
}
