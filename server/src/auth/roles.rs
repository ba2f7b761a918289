//! Roles the roster does not carry, granted by administrators: today `reviewer` (资源审核员),
//! who reviews resources submitted to an organisation ("whoever ingests is responsible").
//!
//! An administrator of an org may grant the role for that org (or one below it) to a person of
//! that org; the roster never touches grants, so a re-import keeps them. Retirement does not
//! delete a grant either, but a retired person cannot sign in, and every check of the role
//! also requires the person to be active.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::ClientInfo;
use super::entity::role_grant;
use crate::audit::{self, Action, Event, Outcome};
use crate::error::{AppError, ErrorCode};
use crate::people::{relations, store};
use crate::roster::entity::{org, person};
use crate::roster::snapshot::ACTIVE;

/// The roles an administrator may grant.
pub const GRANTABLE: [&str; 1] = ["reviewer"];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GrantRequest {
    /// The role to grant; only `reviewer` may be granted.
    pub role: String,
    /// The org's sourcedId; default: the person's first school.
    pub org: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub role: String,
    /// The org's sourcedId.
    pub org: String,
    pub granted_at: DateTime<Utc>,
}

/// Active grants of a person, as (role, org id).
pub async fn active_grants(
    db: &impl ConnectionTrait,
    person_id: &str,
) -> Result<Vec<role_grant::Model>, DbErr> {
    role_grant::Entity::find()
        .filter(role_grant::Column::PersonId.eq(person_id))
        .filter(role_grant::Column::RevokedAt.is_null())
        .all(db)
        .await
}

async fn org_for(
    db: &impl ConnectionTrait,
    target: &person::Model,
    requested: Option<&str>,
) -> Result<org::Model, AppError> {
    let found = match requested {
        Some(sourced_id) => {
            org::Entity::find()
                .filter(org::Column::SourcedId.eq(sourced_id))
                .filter(org::Column::Status.eq(ACTIVE))
                .one(db)
                .await?
        }
        None => {
            let first = store::active_roles(db, &target.id)
                .await?
                .into_iter()
                .map(|r| r.org_id)
                .min();
            match first {
                Some(id) => org::Entity::find_by_id(id).one(db).await?,
                None => None,
            }
        }
    };
    found.ok_or_else(|| AppError::new(ErrorCode::InvalidInput).with_arg("field", "org"))
}

/// Check what a grant or revocation needs: a grantable role, an administrator of the org, and
/// a target who belongs to that org or one below it.
async fn authorize(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
    role: &str,
    org: Option<&str>,
) -> Result<(person::Model, org::Model), AppError> {
    let target = store::find_by_sourced_id(db, sourced_id)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::Forbidden))?;
    if !crate::people::service::administers(db, actor, &target).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if !GRANTABLE.contains(&role) {
        return Err(AppError::new(ErrorCode::InvalidInput).with_arg("field", "role"));
    }
    let org = org_for(db, &target, org).await?;
    if !relations::administers_org(db, actor, &org.id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let mut belongs = false;
    for r in store::active_roles(db, &target.id).await? {
        if store::ancestry(db, &r.org_id).await?.contains(&org.id) {
            belongs = true;
            break;
        }
    }
    if !belongs || target.status != ACTIVE {
        return Err(AppError::new(ErrorCode::InvalidInput).with_arg("field", "org"));
    }
    Ok((target, org))
}

pub async fn grant(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
    request: &GrantRequest,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Grant, AppError> {
    let (target, org) =
        authorize(db, actor, sourced_id, &request.role, request.org.as_deref()).await?;
    let existing = active_grants(db, &target.id)
        .await?
        .into_iter()
        .find(|g| g.role == request.role && g.org_id == org.id);
    let granted_at = match existing {
        Some(g) => g.granted_at,
        None => {
            role_grant::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                person_id: Set(target.id.clone()),
                org_id: Set(org.id.clone()),
                role: Set(request.role.clone()),
                granted_by: Set(Some(actor.id.clone())),
                granted_at: Set(now),
                revoked_at: Set(None),
            }
            .insert(db)
            .await?;
            crate::cache::bump(db).await?;
            audit::record(
                db,
                Event::new(Action::RoleGranted, Outcome::Ok, client)
                    .actor(&actor.id)
                    .subject(&target.id)
                    .org(Some(org.id.clone()))
                    .detail(json!({"role": request.role, "org": org.sourced_id})),
            )
            .await?;
            now
        }
    };
    Ok(Grant {
        role: request.role.clone(),
        org: org.sourced_id,
        granted_at,
    })
}

pub async fn revoke(
    db: &DatabaseConnection,
    actor: &person::Model,
    sourced_id: &str,
    role: &str,
    org: Option<&str>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let (target, org) = authorize(db, actor, sourced_id, role, org).await?;
    let revoked = role_grant::Entity::update_many()
        .col_expr(role_grant::Column::RevokedAt, Expr::value(now))
        .filter(role_grant::Column::PersonId.eq(target.id.clone()))
        .filter(role_grant::Column::OrgId.eq(org.id.clone()))
        .filter(role_grant::Column::Role.eq(role))
        .filter(role_grant::Column::RevokedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    if revoked > 0 {
        crate::cache::bump(db).await?;
        audit::record(
            db,
            Event::new(Action::RoleRevoked, Outcome::Ok, client)
                .actor(&actor.id)
                .subject(&target.id)
                .org(Some(org.id.clone()))
                .detail(json!({"role": role, "org": org.sourced_id})),
        )
        .await?;
    }
    Ok(revoked)
}
