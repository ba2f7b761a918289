//! API tokens: `kj_` + 64 hex digits of randomness, shown once, stored as a SHA-256 hash.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryTrait, Statement,
};
use sha2::{Digest, Sha256};

use super::entity::api_token;
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;

pub const PREFIX: &str = "kj_";

/// A new token: the secret (shown once) and its id (for revoking).
#[derive(Debug)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("没有找到标识为“{0}”的人员 / no person has the sourcedId \"{0}\"")]
    UnknownPerson(String),
    #[error("“{0}”已被停用，不能再创建令牌 / \"{0}\" is retired; no token can be created")]
    Retired(String),
    #[error("没有找到该令牌 / no such token")]
    UnknownToken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub fn hash(secret: &str) -> String {
    hex::encode(digest(secret))
}

/// The SHA-256 of a secret, as bytes (the per-node cache's key).
fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Create a token for the person with this sourcedId (canonical or merged).
pub async fn create(
    db: &impl ConnectionTrait,
    sourced_id: &str,
    name: &str,
    expires_days: Option<u32>,
    now: DateTime<Utc>,
) -> Result<NewToken, TokenError> {
    let person = crate::people::store::find_by_sourced_id(db, sourced_id)
        .await?
        .ok_or_else(|| TokenError::UnknownPerson(sourced_id.to_owned()))?;
    if person.status != ACTIVE {
        return Err(TokenError::Retired(sourced_id.to_owned()));
    }
    let bytes: [u8; 32] = rand::random();
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    let id = uuid::Uuid::now_v7().to_string();
    let expires_at = expires_days.map(|d| now + Duration::days(i64::from(d)));
    api_token::ActiveModel {
        id: Set(id.clone()),
        person_id: Set(person.id),
        name: Set(name.to_owned()),
        token_hash: Set(hash(&secret)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewToken {
        id,
        secret,
        expires_at,
    })
}

/// Revoke a token named by its id or by the secret itself.
pub async fn revoke(
    db: &impl ConnectionTrait,
    id_or_secret: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let column_match = if id_or_secret.starts_with(PREFIX) {
        api_token::Column::TokenHash.eq(hash(id_or_secret))
    } else {
        api_token::Column::Id.eq(id_or_secret)
    };
    crate::cache::bump(db).await?;
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(column_match)
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(TokenError::UnknownToken);
    }
    Ok(())
}

/// Revoke every token of a person (retirement, "sign out everywhere").
pub async fn revoke_all_for(
    db: &impl ConnectionTrait,
    person_ids: &[String],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut revoked = 0;
    for statement in revoke_all_statements(db.get_database_backend(), person_ids, now) {
        revoked += db.execute_raw(statement).await?.rows_affected();
    }
    Ok(revoked)
}

/// The statements of [`revoke_all_for`], for a writer that runs them itself (the roster
/// import's, inside its transaction).
pub fn revoke_all_statements(
    backend: DbBackend,
    person_ids: &[String],
    now: DateTime<Utc>,
) -> Vec<Statement> {
    person_ids
        .chunks(400)
        .map(|chunk| {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::RevokedAt, Expr::value(now))
                .filter(api_token::Column::PersonId.is_in(chunk.iter().cloned()))
                .filter(api_token::Column::RevokedAt.is_null())
                .build(backend)
        })
        .collect()
}

/// [`verify`] through the per-node cache: a token checked in the last few seconds costs no
/// query (revocation bumps the cache epoch, see `crate::cache`).
pub async fn verify_cached(
    db: &impl ConnectionTrait,
    caches: &crate::cache::Caches,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<std::sync::Arc<person::Model>>, DbErr> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let key = digest(secret);
    if let Some(person) = caches.tokens.get(&key)
        && person.status == ACTIVE
        && person.enabled
    {
        return Ok(Some(person));
    }
    let Some((token, person)) = verify(db, secret, now).await? else {
        return Ok(None);
    };
    let person = std::sync::Arc::new(person);
    // Only tokens that outlive the cache entry are cached, so expiry is never overlooked.
    if token.expires_at.is_none_or(|at| {
        at > now + chrono::Duration::from_std(crate::cache::TTL).unwrap_or_default()
    }) {
        caches.tokens.insert(key, person.clone());
    }
    Ok(Some(person))
}

/// The active person a presented secret belongs to, if the token is valid now.
pub async fn verify(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<(api_token::Model, person::Model)>, DbErr> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(secret)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    let Some(person) = person::Entity::find_by_id(token.person_id.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if person.status != ACTIVE || !person.enabled {
        return Ok(None);
    }
    // Record use at most hourly: a write per request would cost more than the request.
    if token
        .last_used_at
        .is_none_or(|at| now - at > Duration::hours(1))
    {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id.clone()))
            .exec(db)
            .await?;
    }
    Ok(Some((token, person)))
}
