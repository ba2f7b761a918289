//! Who may see a person, and what they see.
//!
//! Everyone sees themselves; a parent their own children; a teacher the pupils of their classes
//! and those pupils' families; administrators (site, principal, district, system) the people of
//! the organisations they administer and of every organisation below.

use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use super::{relations, store};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;

/// Roles that administer an organisation and everything below it.
pub const ADMIN_ROLES: [&str; 5] = [
    "siteAdministrator",
    "principal",
    "administrator",
    "districtAdministrator",
    "systemAdministrator",
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub sourced_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClassRef {
    pub sourced_id: String,
    pub title: String,
    /// The person's role in the class: `teacher`, `student`, …
    pub role: String,
}

/// A parent's child.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ChildRef)]
pub struct PersonRef {
    pub sourced_id: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GuardianRef {
    pub sourced_id: String,
    pub name: String,
    /// GB/T 4761 family relation code, e.g. "51" (父亲).
    pub relation: String,
}

/// A person as `/api/v1/me` and `/api/v1/people/{sourcedId}` show them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub sourced_id: String,
    /// As a Chinese reader writes it: family name then given name, no space.
    pub name: String,
    /// Roster roles (`student`, `teacher`, `parent`, `principal`, …) and granted ones (`reviewer`).
    pub roles: Vec<String>,
    /// `active`, or `retired` once the roster no longer lists the person.
    pub status: &'static str,
    /// The person's own space.
    pub space_id: Option<String>,
    pub orgs: Vec<OrgRef>,
    pub classes: Vec<ClassRef>,
    /// Present for parents and other family members: their children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<PersonRef>>,
    /// Present for students: their guardians.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardians: Option<Vec<GuardianRef>>,
}

pub async fn view(db: &impl ConnectionTrait, p: &person::Model) -> Result<PersonView, DbErr> {
    let roles = store::active_roles(db, &p.id).await?;
    let mut role_names: BTreeSet<String> = roles.iter().map(|r| r.role.clone()).collect();
    role_names.extend(
        crate::auth::roles::active_grants(db, &p.id)
            .await?
            .into_iter()
            .map(|g| g.role),
    );
    let org_ids: BTreeSet<String> = roles.iter().map(|r| r.org_id.clone()).collect();
    let orgs = store::orgs_by_id(db, org_ids.iter().cloned().collect()).await?;
    let classes = store::classes_of(db, &p.id).await?;
    let is_family = role_names
        .iter()
        .any(|r| matches!(r.as_str(), "parent" | "guardian" | "relative"));
    let is_student = role_names.contains("student");
    let children = if is_family {
        Some(
            store::linked(db, &p.id, true)
                .await?
                .into_iter()
                .map(|(_, c)| PersonRef {
                    sourced_id: c.sourced_id,
                    name: c.display_name,
                })
                .collect(),
        )
    } else {
        None
    };
    let guardians = if is_student {
        Some(
            store::linked(db, &p.id, false)
                .await?
                .into_iter()
                .map(|(l, g)| GuardianRef {
                    sourced_id: g.sourced_id,
                    name: g.display_name,
                    relation: l.relation,
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(PersonView {
        sourced_id: p.sourced_id.clone(),
        name: p.display_name.clone(),
        roles: role_names.into_iter().collect(),
        status: if p.status == ACTIVE {
            "active"
        } else {
            "retired"
        },
        space_id: store::space_of(db, &p.id).await?.map(|s| s.id),
        orgs: org_ids
            .iter()
            .filter_map(|id| orgs.get(id))
            .map(|o| OrgRef {
                sourced_id: o.sourced_id.clone(),
                name: o.name.clone(),
            })
            .collect(),
        classes: classes
            .into_iter()
            .map(|(e, c)| ClassRef {
                sourced_id: c.sourced_id,
                title: c.title,
                role: e.role,
            })
            .collect(),
        children,
        guardians,
    })
}

/// The orgs `viewer` administers (role rows with an administrator role).
pub async fn administered_orgs(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
) -> Result<Vec<String>, DbErr> {
    Ok(store::active_roles(db, &viewer.id)
        .await?
        .into_iter()
        .filter(|r| ADMIN_ROLES.contains(&r.role.as_str()))
        .map(|r| r.org_id)
        .collect())
}

/// Whether `viewer` administers an organisation `target` belongs to (or one above it).
pub async fn administers(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    target: &person::Model,
) -> Result<bool, DbErr> {
    let admin_orgs = administered_orgs(db, viewer).await?;
    if admin_orgs.is_empty() {
        return Ok(false);
    }
    let mut target_orgs: BTreeSet<String> = store::active_roles(db, &target.id)
        .await?
        .into_iter()
        .map(|r| r.org_id)
        .collect();
    // A retired person has no active roles: their last roles still place them.
    if target_orgs.is_empty() {
        target_orgs.extend(
            store::all_roles(db, &target.id)
                .await?
                .into_iter()
                .map(|r| r.org_id),
        );
    }
    for org in target_orgs {
        if store::ancestry(db, &org)
            .await?
            .iter()
            .any(|a| admin_orgs.contains(a))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `GET /api/v1/people/{sourcedId}`: the person, for themselves, a guardian of theirs (a
/// parent sees their own children), a teacher of theirs or of their child, and the
/// administrators of their school or district. Callers with no such relationship get
/// `forbidden` whether or not the person exists, so the answer says nothing about anyone else.
pub async fn person_for(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<PersonView, AppError> {
    let Some(target) = store::find_by_sourced_id(db, sourced_id).await? else {
        // Administrators may learn that an id names nobody; everyone else learns nothing.
        return Err(if administered_orgs(db, viewer).await?.is_empty() {
            AppError::new(ErrorCode::Forbidden)
        } else {
            AppError::not_found()
        });
    };
    let allowed = target.id == viewer.id
        || relations::is_guardian_of(db, viewer, &target.id).await?
        || relations::teaches_person_or_child(db, viewer, &target).await?
        || administers(db, viewer, &target).await?;
    if !allowed {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok(view(db, &target).await?)
}
