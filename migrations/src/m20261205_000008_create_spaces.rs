//! What lives in the spaces: lessons (with their history, publications to classes, attachments
//! and question threads), assignments with hand-ins and feedback (过程性评价), class and school
//! activities with per-child answers (班级活动), school announcements, and each pupil's growth
//! record (成长记录).
//!
//! Nothing here is deleted by a normal action: withdrawing, removing or cancelling is a
//! timestamp, and a growth record outlives the pupil's place in the roster.

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

fn flag(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn number_null(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).integer().null().to_owned()
}

fn number(name: &str) -> ColumnDef {
    ColumnDef::new(t(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn size_null(name: &str) -> ColumnDef {
    ColumnDef::new(t(name)).big_integer().null().to_owned()
}

/// The columns every stored file shares: where its bytes are and what they are.
fn file_columns(table: &mut TableCreateStatement) {
    table
        .col(text("object_key"))
        .col(text("file_name"))
        .col(short("content_type", 120))
        .col(ColumnDef::new(t("size")).big_integer().not_null());
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // ── Lessons ────────────────────────────────────────────────────────────────────────
        // The current text of a lesson; every saved text is also a `lesson_versions` row.
        m.create_table(
            Table::create()
                .table(t("lessons"))
                .col(id("id"))
                .col(reference("owner_id"))
                // The owner's school when the lesson was written.
                .col(reference("org_id"))
                .col(text("title"))
                // Markdown as written, and the sanitised HTML rendered from it at save time.
                .col(text("body"))
                .col(text("body_html"))
                .col(number("version"))
                .col(reference_null("copied_from_id"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("lessons_owner", "lessons", &["owner_id"], false))
            .await?;
        m.create_table(
            Table::create()
                .table(t("lesson_versions"))
                .col(id("id"))
                .col(reference("lesson_id"))
                .col(number("number"))
                .col(text("title"))
                .col(text("body"))
                .col(reference("author_id"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "lesson_versions_lesson",
            "lesson_versions",
            &["lesson_id", "number"],
            true,
        ))
        .await?;
        // A lesson shown to a class from `publish_at` on (now, or a set time: scheduled
        // publishing is this timestamp, so no job has to run for it to happen).
        m.create_table(
            Table::create()
                .table(t("lesson_publications"))
                .col(id("id"))
                .col(reference("lesson_id"))
                .col(reference("class_id"))
                .col(at("publish_at"))
                .col(reference("published_by"))
                .col(at("created_at"))
                .col(at_null("withdrawn_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "lesson_publications_lesson_class",
            "lesson_publications",
            &["lesson_id", "class_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "lesson_publications_class",
            "lesson_publications",
            &["class_id", "publish_at"],
            false,
        ))
        .await?;
        // A file uploaded to a lesson (image or attachment), or a resource attached by reference.
        let mut attachments = Table::create();
        attachments
            .table(t("lesson_attachments"))
            .col(id("id"))
            .col(reference("lesson_id"))
            // file | image | resource
            .col(short("kind", 16))
            .col(text_null("object_key"))
            .col(text_null("file_name"))
            .col(short_null("content_type", 120))
            .col(size_null("size"))
            .col(reference_null("resource_id"))
            .col(reference("added_by"))
            .col(at("created_at"))
            .col(at_null("removed_at"));
        m.create_table(attachments.to_owned()).await?;
        m.create_index(index(
            "lesson_attachments_lesson",
            "lesson_attachments",
            &["lesson_id"],
            false,
        ))
        .await?;
        // Questions a class asks on a lesson, and the answers (`parent_id` names the question).
        m.create_table(
            Table::create()
                .table(t("lesson_questions"))
                .col(id("id"))
                .col(reference("lesson_id"))
                .col(reference("class_id"))
                .col(reference_null("parent_id"))
                .col(reference("author_id"))
                .col(text("body"))
                .col(at("created_at"))
                .col(at_null("edited_at"))
                .col(at_null("removed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "lesson_questions_lesson",
            "lesson_questions",
            &["lesson_id", "class_id", "created_at"],
            false,
        ))
        .await?;

        // ── Assignments ────────────────────────────────────────────────────────────────────
        m.create_table(
            Table::create()
                .table(t("assignments"))
                .col(id("id"))
                .col(reference("class_id"))
                .col(reference_null("lesson_id"))
                .col(reference("owner_id"))
                .col(text("title"))
                .col(text("instructions"))
                .col(text("instructions_html"))
                .col(at("due_at"))
                .col(flag("accept_late"))
                // points | bands | comments; `max_points` for points.
                .col(short("scale", 16))
                .col(number_null("max_points"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .col(at_null("withdrawn_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "assignments_class",
            "assignments",
            &["class_id", "due_at"],
            false,
        ))
        .await?;
        // One row per hand-in; a resubmission is a new row and the earlier one is superseded.
        m.create_table(
            Table::create()
                .table(t("submissions"))
                .col(id("id"))
                .col(reference("assignment_id"))
                .col(reference("student_id"))
                .col(number("attempt"))
                .col(text("text"))
                .col(at("submitted_at"))
                .col(flag("late"))
                .col(at_null("superseded_at"))
                // handed_in | returned
                .col(short("state", 16))
                .col(at_null("returned_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "submissions_assignment_student",
            "submissions",
            &["assignment_id", "student_id", "attempt"],
            true,
        ))
        .await?;
        m.create_index(index(
            "submissions_student",
            "submissions",
            &["student_id"],
            false,
        ))
        .await?;
        let mut submission_files = Table::create();
        submission_files
            .table(t("submission_files"))
            .col(id("id"))
            .col(reference("submission_id"));
        file_columns(&mut submission_files);
        submission_files.col(at("created_at"));
        m.create_table(submission_files.to_owned()).await?;
        m.create_index(index(
            "submission_files_submission",
            "submission_files",
            &["submission_id"],
            false,
        ))
        .await?;
        // The teacher's mark on a hand-in: a comment and a score on the assignment's scale
        // (points as a number, a band such as 优, or none). The latest row is the feedback.
        m.create_table(
            Table::create()
                .table(t("feedback"))
                .col(id("id"))
                .col(reference("submission_id"))
                .col(reference("assignment_id"))
                .col(reference("student_id"))
                .col(reference("teacher_id"))
                .col(text("comment"))
                .col(short_null("score", 32))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "feedback_submission",
            "feedback",
            &["submission_id", "created_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "feedback_student",
            "feedback",
            &["student_id"],
            false,
        ))
        .await?;

        // ── Activities and announcements ───────────────────────────────────────────────────
        m.create_table(
            Table::create()
                .table(t("activities"))
                .col(id("id"))
                .col(reference("org_id"))
                // A class's activity, or (null) a school-wide one.
                .col(reference_null("class_id"))
                .col(reference("organiser_id"))
                .col(text("title"))
                .col(text("description"))
                .col(text("place"))
                .col(at("starts_at"))
                .col(at_null("ends_at"))
                .col(number_null("capacity"))
                // none | signup | permission: what parents answer per child.
                .col(short("ask", 16))
                .col(text("question"))
                .col(at_null("deadline"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .col(at_null("cancelled_at"))
                // Why it was cancelled, as the families are told.
                .col(text_null("cancel_reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "activities_org",
            "activities",
            &["org_id", "starts_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "activities_class",
            "activities",
            &["class_id", "starts_at"],
            false,
        ))
        .await?;
        // A parent's answer for one child (the latest answer for the child stands).
        m.create_table(
            Table::create()
                .table(t("activity_answers"))
                .col(id("id"))
                .col(reference("activity_id"))
                .col(reference("student_id"))
                .col(reference("answered_by"))
                // yes | no
                .col(short("answer", 8))
                .col(text("note"))
                .col(at("answered_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "activity_answers_child",
            "activity_answers",
            &["activity_id", "student_id"],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(t("announcements"))
                .col(id("id"))
                .col(reference("org_id"))
                .col(reference("author_id"))
                .col(text("title"))
                .col(text("body"))
                .col(text("body_html"))
                .col(at("published_at"))
                .col(at_null("withdrawn_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "announcements_org",
            "announcements",
            &["org_id", "published_at"],
            false,
        ))
        .await?;

        // ── Growth records ────────────────────────────────────────────────────────────────
        // An entry in a pupil's timeline: selected work (a copy of the hand-in's text and
        // references to its files, so the record stands on its own), a teacher's comment, an
        // award, or an activity taken part in.
        m.create_table(
            Table::create()
                .table(t("growth_entries"))
                .col(id("id"))
                .col(reference("student_id"))
                // work | comment | award | activity
                .col(short("kind", 16))
                .col(text("title"))
                .col(text("body"))
                .col(reference_null("submission_id"))
                .col(reference_null("activity_id"))
                .col(reference("author_id"))
                .col(at("occurred_at"))
                .col(at("created_at"))
                .col(at_null("removed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "growth_entries_student",
            "growth_entries",
            &["student_id", "occurred_at"],
            false,
        ))
        .await?;
        let mut growth_files = Table::create();
        growth_files
            .table(t("growth_files"))
            .col(id("id"))
            .col(reference("entry_id"));
        file_columns(&mut growth_files);
        growth_files.col(at("created_at"));
        m.create_table(growth_files.to_owned()).await?;
        m.create_index(index(
            "growth_files_entry",
            "growth_files",
            &["entry_id"],
            false,
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "growth_files",
            "growth_entries",
            "announcements",
            "activity_answers",
            "activities",
            "feedback",
            "submission_files",
            "submissions",
            "assignments",
            "lesson_questions",
            "lesson_attachments",
            "lesson_publications",
            "lesson_versions",
            "lessons",
        ] {
            m.drop_table(Table::drop().table(t(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
