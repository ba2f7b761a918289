//! The roster: organisations, sessions, courses, classes, people (with their sourcedIds),
//! roles, enrollments, guardian links, the spaces they own, and the log of imports.
//!
//! Every roster table keeps the source system's `sourced_id` (unique), a `status` (`active` or
//! `retired` — nothing is deleted by an import) and a `row_hash` of the imported values, so a
//! re-import can tell "unchanged" without comparing every column.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn uuid_pk<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(36)
        .not_null()
        .primary_key()
        .to_owned()
}

fn uuid_ref<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(36).not_null().to_owned()
}

fn uuid_ref_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(36).null().to_owned()
}

fn sourced_id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .string_len(255)
        .not_null()
        .unique_key()
        .to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn status<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string_len(16).not_null().to_owned()
}

fn hash<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn timestamp<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn date_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).date().null().to_owned()
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Orgs::Table)
                .col(uuid_pk(Orgs::Id))
                .col(sourced_id(Orgs::SourcedId))
                .col(text(Orgs::Name))
                .col(ColumnDef::new(Orgs::OrgType).string_len(64).not_null())
                .col(text_null(Orgs::Identifier))
                .col(uuid_ref_null(Orgs::ParentId))
                .col(status(Orgs::Status))
                .col(hash(Orgs::RowHash))
                .col(timestamp(Orgs::CreatedAt))
                .col(timestamp(Orgs::UpdatedAt))
                .foreign_key(&mut fk(
                    (Orgs::Table, Orgs::ParentId),
                    (Orgs::Table, Orgs::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AcademicSessions::Table)
                .col(uuid_pk(AcademicSessions::Id))
                .col(sourced_id(AcademicSessions::SourcedId))
                .col(text(AcademicSessions::Title))
                .col(
                    ColumnDef::new(AcademicSessions::SessionType)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AcademicSessions::StartDate)
                        .date()
                        .not_null(),
                )
                .col(ColumnDef::new(AcademicSessions::EndDate).date().not_null())
                .col(uuid_ref_null(AcademicSessions::ParentId))
                .col(
                    ColumnDef::new(AcademicSessions::SchoolYear)
                        .integer()
                        .not_null(),
                )
                .col(status(AcademicSessions::Status))
                .col(hash(AcademicSessions::RowHash))
                .col(timestamp(AcademicSessions::CreatedAt))
                .col(timestamp(AcademicSessions::UpdatedAt))
                .foreign_key(&mut fk(
                    (AcademicSessions::Table, AcademicSessions::ParentId),
                    (AcademicSessions::Table, AcademicSessions::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Courses::Table)
                .col(uuid_pk(Courses::Id))
                .col(sourced_id(Courses::SourcedId))
                .col(text(Courses::Title))
                .col(text_null(Courses::CourseCode))
                .col(text(Courses::Grades))
                .col(text(Courses::Subjects))
                .col(uuid_ref(Courses::OrgId))
                .col(uuid_ref_null(Courses::SchoolYearId))
                .col(status(Courses::Status))
                .col(hash(Courses::RowHash))
                .col(timestamp(Courses::CreatedAt))
                .col(timestamp(Courses::UpdatedAt))
                .foreign_key(&mut fk(
                    (Courses::Table, Courses::OrgId),
                    (Orgs::Table, Orgs::Id),
                ))
                .foreign_key(&mut fk(
                    (Courses::Table, Courses::SchoolYearId),
                    (AcademicSessions::Table, AcademicSessions::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Classes::Table)
                .col(uuid_pk(Classes::Id))
                .col(sourced_id(Classes::SourcedId))
                .col(text(Classes::Title))
                .col(text_null(Classes::ClassCode))
                .col(ColumnDef::new(Classes::ClassType).string_len(64).not_null())
                .col(text(Classes::Grades))
                .col(text(Classes::Subjects))
                .col(text(Classes::TermIds))
                .col(uuid_ref(Classes::CourseId))
                .col(uuid_ref(Classes::SchoolId))
                .col(status(Classes::Status))
                .col(hash(Classes::RowHash))
                .col(timestamp(Classes::CreatedAt))
                .col(timestamp(Classes::UpdatedAt))
                .foreign_key(&mut fk(
                    (Classes::Table, Classes::CourseId),
                    (Courses::Table, Courses::Id),
                ))
                .foreign_key(&mut fk(
                    (Classes::Table, Classes::SchoolId),
                    (Orgs::Table, Orgs::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("classes_school")
                .table(Classes::Table)
                .col(Classes::SchoolId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(People::Table)
                .col(uuid_pk(People::Id))
                .col(sourced_id(People::SourcedId))
                .col(text(People::FamilyName))
                .col(text(People::GivenName))
                .col(text(People::DisplayName))
                .col(text_null(People::Username))
                .col(text_null(People::Email))
                .col(ColumnDef::new(People::Phone).string_len(32).null())
                .col(ColumnDef::new(People::Enabled).boolean().not_null())
                .col(ColumnDef::new(People::Sex).string_len(16).null())
                .col(date_null(People::BirthDate))
                .col(text(People::UserIds))
                .col(status(People::Status))
                .col(hash(People::RowHash))
                .col(
                    ColumnDef::new(People::RetiredAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(timestamp(People::CreatedAt))
                .col(timestamp(People::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("people_phone")
                .table(People::Table)
                .col(People::Phone)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("people_username")
                .table(People::Table)
                .col(People::Username)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PersonAliases::Table)
                .col(
                    ColumnDef::new(PersonAliases::SourcedId)
                        .string_len(255)
                        .not_null()
                        .primary_key(),
                )
                .col(uuid_ref(PersonAliases::PersonId))
                .col(timestamp(PersonAliases::CreatedAt))
                .foreign_key(&mut fk(
                    (PersonAliases::Table, PersonAliases::PersonId),
                    (People::Table, People::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Roles::Table)
                .col(uuid_pk(Roles::Id))
                .col(sourced_id(Roles::SourcedId))
                .col(uuid_ref(Roles::PersonId))
                .col(uuid_ref(Roles::OrgId))
                .col(ColumnDef::new(Roles::Role).string_len(64).not_null())
                .col(ColumnDef::new(Roles::RoleType).string_len(16).not_null())
                .col(date_null(Roles::BeginDate))
                .col(date_null(Roles::EndDate))
                .col(status(Roles::Status))
                .col(hash(Roles::RowHash))
                .col(timestamp(Roles::CreatedAt))
                .col(timestamp(Roles::UpdatedAt))
                .foreign_key(&mut fk(
                    (Roles::Table, Roles::PersonId),
                    (People::Table, People::Id),
                ))
                .foreign_key(&mut fk(
                    (Roles::Table, Roles::OrgId),
                    (Orgs::Table, Orgs::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("roles_person")
                .table(Roles::Table)
                .col(Roles::PersonId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("roles_org")
                .table(Roles::Table)
                .col(Roles::OrgId)
                .col(Roles::Role)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Enrollments::Table)
                .col(uuid_pk(Enrollments::Id))
                .col(sourced_id(Enrollments::SourcedId))
                .col(uuid_ref(Enrollments::ClassId))
                .col(uuid_ref(Enrollments::PersonId))
                .col(uuid_ref(Enrollments::SchoolId))
                .col(ColumnDef::new(Enrollments::Role).string_len(64).not_null())
                .col(ColumnDef::new(Enrollments::IsPrimary).boolean().not_null())
                .col(text_null(Enrollments::Subject))
                .col(date_null(Enrollments::BeginDate))
                .col(date_null(Enrollments::EndDate))
                .col(status(Enrollments::Status))
                .col(hash(Enrollments::RowHash))
                .col(timestamp(Enrollments::CreatedAt))
                .col(timestamp(Enrollments::UpdatedAt))
                .foreign_key(&mut fk(
                    (Enrollments::Table, Enrollments::ClassId),
                    (Classes::Table, Classes::Id),
                ))
                .foreign_key(&mut fk(
                    (Enrollments::Table, Enrollments::PersonId),
                    (People::Table, People::Id),
                ))
                .foreign_key(&mut fk(
                    (Enrollments::Table, Enrollments::SchoolId),
                    (Orgs::Table, Orgs::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("enrollments_class")
                .table(Enrollments::Table)
                .col(Enrollments::ClassId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("enrollments_person")
                .table(Enrollments::Table)
                .col(Enrollments::PersonId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(GuardianLinks::Table)
                .col(uuid_pk(GuardianLinks::Id))
                .col(uuid_ref(GuardianLinks::StudentId))
                .col(uuid_ref(GuardianLinks::GuardianId))
                .col(
                    ColumnDef::new(GuardianLinks::Relation)
                        .string_len(8)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(GuardianLinks::IsLegalGuardian)
                        .boolean()
                        .not_null(),
                )
                .col(status(GuardianLinks::Status))
                .col(timestamp(GuardianLinks::CreatedAt))
                .col(timestamp(GuardianLinks::UpdatedAt))
                .foreign_key(&mut fk(
                    (GuardianLinks::Table, GuardianLinks::StudentId),
                    (People::Table, People::Id),
                ))
                .foreign_key(&mut fk(
                    (GuardianLinks::Table, GuardianLinks::GuardianId),
                    (People::Table, People::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("guardian_links_pair")
                .table(GuardianLinks::Table)
                .col(GuardianLinks::StudentId)
                .col(GuardianLinks::GuardianId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("guardian_links_guardian")
                .table(GuardianLinks::Table)
                .col(GuardianLinks::GuardianId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Spaces::Table)
                .col(uuid_pk(Spaces::Id))
                .col(ColumnDef::new(Spaces::Kind).string_len(16).not_null())
                .col(
                    ColumnDef::new(Spaces::PersonId)
                        .string_len(36)
                        .null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Spaces::ClassId)
                        .string_len(36)
                        .null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Spaces::OrgId)
                        .string_len(36)
                        .null()
                        .unique_key(),
                )
                .col(status(Spaces::Status))
                .col(timestamp(Spaces::CreatedAt))
                .col(timestamp(Spaces::UpdatedAt))
                .foreign_key(&mut fk(
                    (Spaces::Table, Spaces::PersonId),
                    (People::Table, People::Id),
                ))
                .foreign_key(&mut fk(
                    (Spaces::Table, Spaces::ClassId),
                    (Classes::Table, Classes::Id),
                ))
                .foreign_key(&mut fk(
                    (Spaces::Table, Spaces::OrgId),
                    (Orgs::Table, Orgs::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RosterImports::Table)
                .col(uuid_pk(RosterImports::Id))
                .col(
                    ColumnDef::new(RosterImports::Origin)
                        .string_len(16)
                        .not_null(),
                )
                .col(text(RosterImports::SourceName))
                .col(ColumnDef::new(RosterImports::Format).string_len(32).null())
                .col(
                    ColumnDef::new(RosterImports::Outcome)
                        .string_len(16)
                        .not_null(),
                )
                .col(uuid_ref_null(RosterImports::ActorId))
                .col(text(RosterImports::Report))
                .col(timestamp(RosterImports::StartedAt))
                .col(timestamp(RosterImports::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("roster_imports_started")
                .table(RosterImports::Table)
                .col(RosterImports::StartedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RosterImports::Table.into_iden(),
            Spaces::Table.into_iden(),
            GuardianLinks::Table.into_iden(),
            Enrollments::Table.into_iden(),
            Roles::Table.into_iden(),
            PersonAliases::Table.into_iden(),
            People::Table.into_iden(),
            Classes::Table.into_iden(),
            Courses::Table.into_iden(),
            AcademicSessions::Table.into_iden(),
            Orgs::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    SourcedId,
    Name,
    OrgType,
    Identifier,
    ParentId,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AcademicSessions {
    Table,
    Id,
    SourcedId,
    Title,
    SessionType,
    StartDate,
    EndDate,
    ParentId,
    SchoolYear,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    SourcedId,
    Title,
    CourseCode,
    Grades,
    Subjects,
    OrgId,
    SchoolYearId,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Classes {
    Table,
    Id,
    SourcedId,
    Title,
    ClassCode,
    ClassType,
    Grades,
    Subjects,
    TermIds,
    CourseId,
    SchoolId,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    SourcedId,
    FamilyName,
    GivenName,
    DisplayName,
    Username,
    Email,
    Phone,
    Enabled,
    Sex,
    BirthDate,
    UserIds,
    Status,
    RowHash,
    RetiredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PersonAliases {
    Table,
    SourcedId,
    PersonId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    SourcedId,
    PersonId,
    OrgId,
    Role,
    RoleType,
    BeginDate,
    EndDate,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
    SourcedId,
    ClassId,
    PersonId,
    SchoolId,
    Role,
    IsPrimary,
    Subject,
    BeginDate,
    EndDate,
    Status,
    RowHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GuardianLinks {
    Table,
    Id,
    StudentId,
    GuardianId,
    Relation,
    IsLegalGuardian,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Spaces {
    Table,
    Id,
    Kind,
    PersonId,
    ClassId,
    OrgId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RosterImports {
    Table,
    Id,
    Origin,
    SourceName,
    Format,
    Outcome,
    ActorId,
    Report,
    StartedAt,
    FinishedAt,
}
