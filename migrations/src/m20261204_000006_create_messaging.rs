//! Home-school messaging: conversations with per-conversation sequence numbers, messages
//! (idempotent on the sender's nonce, held without a sequence number during quiet hours),
//! class notices with their reads and confirmations, attachments, and the per-school and
//! per-person settings that make the channel kind to families.
//!
//! A notice's audience is kept as what it names (a class, a grade of a school, a school) and
//! resolved against the roster when read, so a notice costs one row however large its audience;
//! reads and confirmations are rows only once they happen.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn reference<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(36).not_null().to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn flag<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(Alias::new(*col));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Conversations::Table)
                .col(id(Conversations::Id))
                .col(
                    ColumnDef::new(Conversations::Kind)
                        .string_len(16)
                        .not_null(),
                )
                // Sorted pair of person ids for a 1:1 conversation: there is only ever one.
                .col(
                    ColumnDef::new(Conversations::DirectKey)
                        .string_len(80)
                        .null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Conversations::ClassId).string_len(36).null())
                .col(ColumnDef::new(Conversations::Title).text().null())
                .col(reference(Conversations::CreatedBy))
                .col(
                    ColumnDef::new(Conversations::LastSeq)
                        .big_integer()
                        .not_null(),
                )
                .col(at_null(Conversations::LastMessageAt))
                .col(at(Conversations::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConversationMembers::Table)
                .col(reference(ConversationMembers::ConversationId))
                .col(reference(ConversationMembers::PersonId))
                .col(
                    ColumnDef::new(ConversationMembers::DeliveredSeq)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ConversationMembers::ReadSeq)
                        .big_integer()
                        .not_null(),
                )
                .col(at(ConversationMembers::JoinedAt))
                .primary_key(
                    Index::create()
                        .col(ConversationMembers::ConversationId)
                        .col(ConversationMembers::PersonId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            ConversationMembers::Table,
                            ConversationMembers::ConversationId,
                        )
                        .to(Conversations::Table, Conversations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "conversation_members_person",
            ConversationMembers::Table,
            &["person_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(id(Messages::Id))
                .col(reference(Messages::ConversationId))
                // Null while held for quiet hours; assigned when delivered.
                .col(ColumnDef::new(Messages::Seq).big_integer().null())
                .col(reference(Messages::SenderId))
                .col(ColumnDef::new(Messages::Nonce).string_len(64).not_null())
                .col(ColumnDef::new(Messages::Body).text().not_null())
                .col(ColumnDef::new(Messages::Attachments).text().not_null())
                .col(flag(Messages::Held))
                .col(at(Messages::DeliverAt))
                .col(at(Messages::CreatedAt))
                .col(at_null(Messages::EditedAt))
                .col(at_null(Messages::RecalledAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Messages::Table, Messages::ConversationId)
                        .to(Conversations::Table, Conversations::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "messages_conversation_seq",
            Messages::Table,
            &["conversation_id", "seq"],
            true,
        ))
        .await?;
        m.create_index(index(
            "messages_sender_nonce",
            Messages::Table,
            &["sender_id", "nonce"],
            true,
        ))
        .await?;
        m.create_index(index(
            "messages_held",
            Messages::Table,
            &["held", "deliver_at"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Notices::Table)
                .col(id(Notices::Id))
                .col(reference(Notices::SenderId))
                .col(reference(Notices::SchoolId))
                .col(
                    ColumnDef::new(Notices::AudienceKind)
                        .string_len(16)
                        .not_null(),
                )
                .col(reference(Notices::AudienceId))
                .col(ColumnDef::new(Notices::Grade).string_len(32).null())
                .col(ColumnDef::new(Notices::Title).text().not_null())
                .col(ColumnDef::new(Notices::Body).text().not_null())
                .col(ColumnDef::new(Notices::Attachments).text().not_null())
                .col(flag(Notices::RequiresConfirmation))
                .col(flag(Notices::IncludeStudents))
                .col(flag(Notices::Urgent))
                .col(ColumnDef::new(Notices::Nonce).string_len(64).not_null())
                .col(flag(Notices::Held))
                .col(at(Notices::DeliverAt))
                .col(at(Notices::CreatedAt))
                .col(at_null(Notices::RemindedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "notices_sender_nonce",
            Notices::Table,
            &["sender_id", "nonce"],
            true,
        ))
        .await?;
        m.create_index(index(
            "notices_audience",
            Notices::Table,
            &["audience_id", "deliver_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "notices_held",
            Notices::Table,
            &["held", "deliver_at"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeReads::Table)
                .col(reference(NoticeReads::NoticeId))
                .col(reference(NoticeReads::PersonId))
                .col(at(NoticeReads::ReadAt))
                .primary_key(
                    Index::create()
                        .col(NoticeReads::NoticeId)
                        .col(NoticeReads::PersonId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "notice_reads_person",
            NoticeReads::Table,
            &["person_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(NoticeConfirmations::Table)
                .col(reference(NoticeConfirmations::NoticeId))
                .col(reference(NoticeConfirmations::GuardianId))
                .col(reference(NoticeConfirmations::StudentId))
                .col(at(NoticeConfirmations::ConfirmedAt))
                .primary_key(
                    Index::create()
                        .col(NoticeConfirmations::NoticeId)
                        .col(NoticeConfirmations::GuardianId)
                        .col(NoticeConfirmations::StudentId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Attachments::Table)
                .col(id(Attachments::Id))
                .col(reference(Attachments::OwnerId))
                .col(ColumnDef::new(Attachments::ObjectKey).text().not_null())
                .col(ColumnDef::new(Attachments::Name).text().not_null())
                .col(
                    ColumnDef::new(Attachments::ContentType)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(Attachments::Size).big_integer().not_null())
                .col(at(Attachments::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SchoolMessaging::Table)
                .col(id(SchoolMessaging::OrgId))
                .col(
                    ColumnDef::new(SchoolMessaging::QuietHours)
                        .string_len(16)
                        .not_null(),
                )
                .col(reference(SchoolMessaging::UpdatedBy))
                .col(at(SchoolMessaging::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MessagePrefs::Table)
                .col(id(MessagePrefs::PersonId))
                .col(flag(MessagePrefs::Digest))
                .col(at_null(MessagePrefs::LastDigestAt))
                .col(at(MessagePrefs::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MessagePrefs::Table.into_iden(),
            SchoolMessaging::Table.into_iden(),
            Attachments::Table.into_iden(),
            NoticeConfirmations::Table.into_iden(),
            NoticeReads::Table.into_iden(),
            Notices::Table.into_iden(),
            Messages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Kind,
    DirectKey,
    ClassId,
    Title,
    CreatedBy,
    LastSeq,
    LastMessageAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ConversationId,
    PersonId,
    DeliveredSeq,
    ReadSeq,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    Seq,
    SenderId,
    Nonce,
    Body,
    Attachments,
    Held,
    DeliverAt,
    CreatedAt,
    EditedAt,
    RecalledAt,
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    SenderId,
    SchoolId,
    AudienceKind,
    AudienceId,
    Grade,
    Title,
    Body,
    Attachments,
    RequiresConfirmation,
    IncludeStudents,
    Urgent,
    Nonce,
    Held,
    DeliverAt,
    CreatedAt,
    RemindedAt,
}

#[derive(DeriveIden)]
enum NoticeReads {
    Table,
    NoticeId,
    PersonId,
    ReadAt,
}

#[derive(DeriveIden)]
enum NoticeConfirmations {
    Table,
    NoticeId,
    GuardianId,
    StudentId,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    OwnerId,
    ObjectKey,
    Name,
    ContentType,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SchoolMessaging {
    Table,
    OrgId,
    QuietHours,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MessagePrefs {
    Table,
    PersonId,
    Digest,
    LastDigestAt,
    UpdatedAt,
}
