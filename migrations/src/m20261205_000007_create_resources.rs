//! Teaching resources and their review: a resource with its versions (each version carries its
//! own metadata, content and review state, so a new version is reviewed while the old one stays
//! published), stored file contents (one row per distinct content hash), the lifecycle events
//! with their reasons, the reviewers' verdicts on the three dimensions, usage, follows, and the
//! outbox the search indexers follow.
//!
//! Nothing here is deleted by a normal action: retiring (出库) is a state and an event.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn t(name: &str) -> Alias {
    Alias::new(name)
}

fn id(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn reference(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).string_len(36).not_null().to_owned()
}

fn reference_null(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).string_len(36).null().to_owned()
}

fn short(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(t(name))
        .string_len(len)
        .not_null()
        .to_owned()
}

fn short_null(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(t(name)).string_len(len).null().to_owned()
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).text().not_null().to_owned()
}

fn text_null(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).text().null().to_owned()
}

fn at(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn count(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn index(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(t(table));
    for col in cols {
        index.col(t(col));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per distinct file content: identical uploads are stored once.
        m.create_table(
            Table::create()
                .table(t("blobs"))
                .col(
                    ColumnDef::new(t("hash"))
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(text("object_key"))
                .col(ColumnDef::new(t("size")).big_integer().not_null())
                .col(short("content_type", 120))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(t("resources"))
                .col(id("id"))
                .col(reference("owner_id"))
                // The organisation that ingests it (its reviewers review it): the owner's school,
                // or the district for district-wide sharing.
                .col(reference("org_id"))
                // draft | in_review | rejected | published | retired (the resource as a whole).
                .col(short("state", 16))
                .col(reference_null("published_version_id"))
                .col(reference("latest_version_id"))
                .col(count("view_count"))
                .col(count("download_count"))
                .col(count("lesson_count"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .col(at_null("published_at"))
                .col(at_null("retired_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("resources_owner", "resources", &["owner_id"], false))
            .await?;
        m.create_index(index(
            "resources_org_state",
            "resources",
            &["org_id", "state"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("resource_versions"))
                .col(id("id"))
                .col(reference("resource_id"))
                .col(ColumnDef::new(t("number")).integer().not_null())
                // draft | in_review | rejected | published | superseded | retired
                .col(short("state", 16))
                .col(text("title"))
                .col(text("description"))
                .col(short("subject", 32))
                .col(short("stage", 16))
                .col(short("grade", 2))
                .col(text("edition"))
                .col(text("chapter"))
                .col(short("kind", 16))
                .col(text("licence"))
                .col(text("keywords"))
                // private | class:<sourcedId> | school | district
                .col(short("scope", 80))
                .col(reference_null("scope_class_id"))
                // The organisation that ingests this version: its reviewers review it, and its
                // people see it when it is published to the school or the district.
                .col(reference("org_id"))
                // file | link | text
                .col(short("content_kind", 8))
                .col(short_null("blob_hash", 64))
                .col(text_null("file_name"))
                .col(short_null("content_type", 120))
                .col(ColumnDef::new(t("size")).big_integer().null())
                .col(text_null("url"))
                .col(text_null("body"))
                // Text extracted from the file, for the index.
                .col(text_null("extracted"))
                // The machine check's findings (JSON), shown to the reviewer.
                .col(text_null("checks"))
                .col(at_null("pledged_at"))
                .col(at_null("submitted_at"))
                .col(reference_null("reviewed_by"))
                .col(at_null("reviewed_at"))
                .col(reference("created_by"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "resource_versions_number",
            "resource_versions",
            &["resource_id", "number"],
            true,
        ))
        .await?;
        m.create_index(index(
            "resource_versions_blob",
            "resource_versions",
            &["blob_hash"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("resource_events"))
                .col(id("id"))
                .col(reference("resource_id"))
                .col(reference_null("version_id"))
                .col(reference("actor_id"))
                .col(short("action", 24))
                .col(short_null("from_state", 16))
                .col(short("to_state", 16))
                .col(text_null("reason"))
                .col(at("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "resource_events_resource",
            "resource_events",
            &["resource_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("resource_reviews"))
                .col(id("id"))
                .col(reference("resource_id"))
                .col(reference("version_id"))
                .col(reference("reviewer_id"))
                .col(reference("org_id"))
                .col(short("decision", 8))
                .col(short("political", 4))
                .col(short("scientific", 4))
                .col(short("safety", 4))
                .col(text("comment"))
                .col(short("scope", 80))
                .col(at("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "resource_reviews_version",
            "resource_reviews",
            &["version_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("resource_usage"))
                .col(id("id"))
                .col(reference("resource_id"))
                .col(reference("person_id"))
                // view | download | lesson
                .col(short("action", 12))
                .col(at("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "resource_usage_resource",
            "resource_usage",
            &["resource_id", "action"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("resource_follows"))
                .col(reference("person_id"))
                // subject | teacher
                .col(short("kind", 12))
                .col(short("target", 64))
                .col(at("created_at"))
                .primary_key(
                    Index::create()
                        .col(t("person_id"))
                        .col(t("kind"))
                        .col(t("target")),
                )
                .to_owned(),
        )
        .await?;
        // The search indexers' feed: a row per change, in commit order.
        m.create_table(
            Table::create()
                .table(t("search_outbox"))
                .col(
                    ColumnDef::new(t("seq"))
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(reference("resource_id"))
                .col(at("at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "search_outbox",
            "resource_follows",
            "resource_usage",
            "resource_reviews",
            "resource_events",
            "resource_versions",
            "resources",
            "blobs",
        ] {
            m.drop_table(Table::drop().table(t(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
