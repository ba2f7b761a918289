//! Signing in: passwords set at first visit, activation codes, server-side sessions, granted
//! roles (reviewer) and the audit log, which also feeds sign-in rate limiting.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One password per person, hashed with argon2id when the person sets it.
        m.create_table(
            Table::create()
                .table(Credentials::Table)
                .col(
                    ColumnDef::new(Credentials::PersonId)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Credentials::PasswordHash).text().not_null())
                .col(
                    ColumnDef::new(Credentials::SetAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Credentials::Table, Credentials::PersonId)
                        .to(People::Table, People::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ActivationCodes::Table)
                .col(
                    ColumnDef::new(ActivationCodes::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::PersonId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::CodeHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::IssuedBy)
                        .string_len(36)
                        .null(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::IssuedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::UsedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(ActivationCodes::VoidedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ActivationCodes::Table, ActivationCodes::PersonId)
                        .to(People::Table, People::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("activation_codes_person")
                .table(ActivationCodes::Table)
                .col(ActivationCodes::PersonId)
                .to_owned(),
        )
        .await?;

        // tower-sessions records; person_id is copied out of the data so that "sign out
        // everywhere" and retirement can end a person's sessions with one statement.
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(
                    ColumnDef::new(Sessions::Id)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Sessions::PersonId).string_len(36).null())
                .col(ColumnDef::new(Sessions::Data).text().not_null())
                .col(
                    ColumnDef::new(Sessions::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Sessions::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_person")
                .table(Sessions::Table)
                .col(Sessions::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_expires")
                .table(Sessions::Table)
                .col(Sessions::ExpiresAt)
                .to_owned(),
        )
        .await?;

        // Roles the roster does not carry, granted by an administrator of the org.
        m.create_table(
            Table::create()
                .table(RoleGrants::Table)
                .col(
                    ColumnDef::new(RoleGrants::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RoleGrants::PersonId)
                        .string_len(36)
                        .not_null(),
                )
                .col(ColumnDef::new(RoleGrants::OrgId).string_len(36).not_null())
                .col(ColumnDef::new(RoleGrants::Role).string_len(32).not_null())
                .col(ColumnDef::new(RoleGrants::GrantedBy).string_len(36).null())
                .col(
                    ColumnDef::new(RoleGrants::GrantedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RoleGrants::RevokedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RoleGrants::Table, RoleGrants::PersonId)
                        .to(People::Table, People::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RoleGrants::Table, RoleGrants::OrgId)
                        .to(Orgs::Table, Orgs::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("role_grants_person")
                .table(RoleGrants::Table)
                .col(RoleGrants::PersonId)
                .to_owned(),
        )
        .await?;

        // Who did what, when, from where. Failed sign-ins are counted from here for throttling.
        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(
                    ColumnDef::new(AuditEvents::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AuditEvents::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::Action)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::Outcome)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::ActorId).string_len(36).null())
                .col(ColumnDef::new(AuditEvents::SubjectId).string_len(36).null())
                .col(ColumnDef::new(AuditEvents::OrgId).string_len(36).null())
                .col(ColumnDef::new(AuditEvents::LoginKey).string_len(128).null())
                .col(ColumnDef::new(AuditEvents::Ip).string_len(64).null())
                .col(
                    ColumnDef::new(AuditEvents::UserAgent)
                        .string_len(256)
                        .null(),
                )
                .col(ColumnDef::new(AuditEvents::Detail).text().not_null())
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "audit_events_login",
                vec![AuditEvents::Action, AuditEvents::LoginKey, AuditEvents::At],
            ),
            (
                "audit_events_ip",
                vec![AuditEvents::Action, AuditEvents::Ip, AuditEvents::At],
            ),
            (
                "audit_events_org",
                vec![AuditEvents::OrgId, AuditEvents::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            for col in cols {
                index.col(col);
            }
            m.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            RoleGrants::Table.into_iden(),
            Sessions::Table.into_iden(),
            ActivationCodes::Table.into_iden(),
            Credentials::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Credentials {
    Table,
    PersonId,
    PasswordHash,
    SetAt,
}

#[derive(DeriveIden)]
enum ActivationCodes {
    Table,
    Id,
    PersonId,
    CodeHash,
    IssuedBy,
    IssuedAt,
    ExpiresAt,
    UsedAt,
    VoidedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    PersonId,
    Data,
    ExpiresAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RoleGrants {
    Table,
    Id,
    PersonId,
    OrgId,
    Role,
    GrantedBy,
    GrantedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Action,
    Outcome,
    ActorId,
    SubjectId,
    OrgId,
    LoginKey,
    Ip,
    UserAgent,
    Detail,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}
