//! What an import that wrote something remembers of its input, so that importing the very same
//! package again can be answered without reading the database (the nightly push of an unchanged
//! roster): the digest of its files, and the counts a re-import of them reports.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    /// SHA-256 of the package's files (names and decoded text), hex; null for imports that
    /// wrote nothing.
    Digest,
    /// JSON `{ENTITY: counts}`: what importing the same package again reports.
    ReimportCounts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .add_column(ColumnDef::new(RosterImports::Digest).string_len(64).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RosterImports::Table)
                    .add_column(ColumnDef::new(RosterImports::ReimportCounts).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [RosterImports::ReimportCounts, RosterImports::Digest] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RosterImports::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
