//! Who may see and who may review a resource, decided from the roster.
//!
//! Seeing is expressed as tokens so that the search index can apply exactly the same rule: a
//! person holds `owner:<their id>`, `class:<class id>` for each class they are enrolled in, and
//! `org:<org id>` for each organisation they belong to and every one above it; a resource
//! grants its owner's token always, and its scope's token while it is published.

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::State;
use super::entity::{resource, version};
use crate::auth::roles::active_grants;
use crate::people::service::ADMIN_ROLES;
use crate::people::store;
use crate::roster::entity::{org, person};
use crate::state::AppState;

/// The roster roles that may author resources (staff).
pub const AUTHOR_ROLES: &[&str] = &[
    "teacher",
    "aide",
    "proctor",
    "administrator",
    "siteAdministrator",
    "districtAdministrator",
    "principal",
    "systemAdministrator",
];

/// A person's access tokens, cached until the roster changes or for the cache's lifetime.
pub async fn tokens(state: &AppState, viewer: &person::Model) -> Result<Arc<Vec<String>>, DbErr> {
    if let Some(hit) = state.caches.access.get(&viewer.id) {
        return Ok(hit);
    }
    let tokens = Arc::new(compute_tokens(&state.db, viewer).await?);
    state
        .caches
        .access
        .insert(viewer.id.clone(), tokens.clone());
    Ok(tokens)
}

async fn compute_tokens(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
) -> Result<Vec<String>, DbErr> {
    let mut tokens = BTreeSet::new();
    tokens.insert(format!("owner:{}", viewer.id));
    if viewer.status != crate::roster::snapshot::ACTIVE {
        return Ok(tokens.into_iter().collect());
    }
    let mut orgs: BTreeSet<String> = store::active_roles(db, &viewer.id)
        .await?
        .into_iter()
        .map(|r| r.org_id)
        .collect();
    for (_, class) in store::classes_of(db, &viewer.id).await? {
        tokens.insert(format!("class:{}", class.id));
        orgs.insert(class.school_id);
    }
    for o in orgs {
        for a in store::ancestry(db, &o).await? {
            tokens.insert(format!("org:{a}"));
        }
    }
    Ok(tokens.into_iter().collect())
}

/// The tokens a version grants while it is published in `scope`.
pub fn scope_token(_resource: &resource::Model, v: &version::Model) -> Option<String> {
    match v.scope.as_str() {
        "private" => None,
        "school" | "district" => Some(format!("org:{}", v.org_id)),
        _ => v.scope_class_id.as_ref().map(|c| format!("class:{c}")),
    }
}

/// Whether `viewer` (with `tokens`) may see the published version of `r`.
pub fn sees_published(r: &resource::Model, published: &version::Model, tokens: &[String]) -> bool {
    State::parse(&r.state) == Some(State::Published)
        && scope_token(r, published).is_some_and(|t| tokens.contains(&t))
}

/// Whether `viewer` reviews for `org_id`: an administrator of that very organisation, or a
/// person it granted the reviewer role (资源审核员). Reviewers of another school, and
/// administrators above or beside it, do not.
pub async fn reviews_for(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    org_id: &str,
) -> Result<bool, DbErr> {
    if viewer.status != crate::roster::snapshot::ACTIVE {
        return Ok(false);
    }
    let admin = store::active_roles(db, &viewer.id)
        .await?
        .iter()
        .any(|r| r.org_id == org_id && ADMIN_ROLES.contains(&r.role.as_str()));
    if admin {
        return Ok(true);
    }
    Ok(active_grants(db, &viewer.id)
        .await?
        .iter()
        .any(|g| g.role == "reviewer" && g.org_id == org_id))
}

/// The organisations `viewer` reviews for.
pub async fn review_orgs(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
) -> Result<Vec<String>, DbErr> {
    if viewer.status != crate::roster::snapshot::ACTIVE {
        return Ok(Vec::new());
    }
    let mut orgs: BTreeSet<String> = store::active_roles(db, &viewer.id)
        .await?
        .into_iter()
        .filter(|r| ADMIN_ROLES.contains(&r.role.as_str()))
        .map(|r| r.org_id)
        .collect();
    orgs.extend(
        active_grants(db, &viewer.id)
            .await?
            .into_iter()
            .filter(|g| g.role == "reviewer")
            .map(|g| g.org_id),
    );
    Ok(orgs.into_iter().collect())
}

/// Whether `viewer` may author resources (an active staff role).
pub async fn may_author(db: &impl ConnectionTrait, viewer: &person::Model) -> Result<bool, DbErr> {
    Ok(viewer.status == crate::roster::snapshot::ACTIVE
        && store::active_roles(db, &viewer.id)
            .await?
            .iter()
            .any(|r| AUTHOR_ROLES.contains(&r.role.as_str())))
}

/// The organisation that ingests a resource of `author` shared in `scope`: the district for
/// district-wide sharing, else the author's school (or, for district staff, the district).
pub async fn ingesting_org(
    db: &impl ConnectionTrait,
    author: &person::Model,
    scope: &str,
) -> Result<Option<String>, DbErr> {
    let roles = store::active_roles(db, &author.id).await?;
    let orgs = store::orgs_by_id(db, roles.iter().map(|r| r.org_id.clone()).collect()).await?;
    let mut home: Option<&org::Model> = roles
        .iter()
        .filter_map(|r| orgs.get(&r.org_id))
        .find(|o| o.org_type == "school");
    if home.is_none() {
        home = roles.iter().filter_map(|r| orgs.get(&r.org_id)).next();
    }
    let Some(home) = home else {
        return Ok(None);
    };
    if scope != "district" {
        return Ok(Some(home.id.clone()));
    }
    let chain = store::ancestry(db, &home.id).await?;
    let above = org::Entity::find()
        .filter(org::Column::Id.is_in(chain.clone()))
        .all(db)
        .await?;
    Ok(chain
        .iter()
        .find(|id| {
            above
                .iter()
                .any(|o| &o.id == *id && o.org_type == "district")
        })
        .or(chain.last())
        .cloned())
}
