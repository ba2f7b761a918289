//! This installation's identity: a UUID made on first start and kept in the database, so ids
//! that leave the installation (resource exchange with county, province and national hubs) can
//! be qualified and stay globally unique.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryOrder};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "installation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The installation id, created when the database has none. Call it inside the migration
/// transaction so concurrent first starts agree on one id.
pub async fn ensure(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    if let Some(existing) = Entity::find()
        .order_by_asc(Column::CreatedAt)
        .one(db)
        .await?
    {
        return Ok(existing.id);
    }
    let id = Uuid::new_v4().to_string();
    ActiveModel {
        id: Set(id.clone()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(id)
}
