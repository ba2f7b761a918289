//! One counter that every change a node may have cached bumps (roster imports, signing out,
//! revoking tokens, granting roles). Each node polls it and empties its caches when it moves,
//! so a change made by another node, or by the CLI, is seen within a second.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CacheEpoch::Table)
                .col(
                    ColumnDef::new(CacheEpoch::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(CacheEpoch::Value).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        let mut insert = Query::insert();
        insert
            .into_table(CacheEpoch::Table)
            .columns([CacheEpoch::Id, CacheEpoch::Value])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(insert).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CacheEpoch::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CacheEpoch {
    Table,
    Id,
    Value,
}
