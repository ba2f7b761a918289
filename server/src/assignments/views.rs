//! What the API answers (and the pages render): assignments, a pupil's standing, hand-ins,
//! feedback and a class's progress. A score appears only in views built for the pupil, their
//! family or the class's staff.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::Status;

/// The teacher's feedback that stands (the latest).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackView {
    pub comment: String,
    /// Points as a number, a band (优/良/中/待提高) as text, or null on the comments scale.
    pub score: Value,
    pub at: DateTime<Utc>,
}

/// One mark in a hand-in's history, with who gave it (for the class's staff).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarkView {
    pub comment: String,
    pub score: Value,
    pub at: DateTime<Utc>,
    pub teacher: String,
}

/// A hand-in in brief.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionBrief {
    pub id: String,
    pub attempt: i32,
    pub submitted_at: DateTime<Utc>,
    pub late: bool,
    /// `handed_in` or `returned`.
    pub state: String,
    pub returned_at: Option<DateTime<Utc>>,
}

/// A pupil's standing with an assignment, for the pupil, their family and the staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PupilStatus {
    /// The pupil's sourcedId.
    pub student: String,
    pub name: String,
    pub status: Status,
    /// The due time has passed and nothing was handed in.
    pub overdue: bool,
    pub submission: Option<SubmissionBrief>,
    /// Once returned; null before.
    pub feedback: Option<FeedbackView>,
}

/// `GET /api/v1/assignments/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: String,
    /// The class's sourcedId.
    pub class: String,
    pub class_title: String,
    /// The lesson it was set on, if any.
    pub lesson: Option<String>,
    pub title: String,
    /// Markdown as written.
    pub instructions: String,
    /// The instructions rendered and sanitised.
    pub instructions_html: String,
    pub due_at: DateTime<Utc>,
    /// The due time has passed.
    pub past_due: bool,
    pub accept_late: bool,
    /// `points:<max>`, `bands` or `comments`.
    pub scale: String,
    pub max_points: Option<i32>,
    pub owner: String,
    pub created_at: DateTime<Utc>,
    /// How the caller is answered: `teacher`, `admin`, `student` or `guardian`.
    pub viewer: String,
    /// For a pupil, themselves; for a parent, their children in the class; empty for staff
    /// (who read `/progress`).
    pub students: Vec<PupilStatus>,
}

/// Hand-ins counted by status (never scores).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Counts {
    pub not_started: u32,
    pub handed_in: u32,
    pub late: u32,
    pub returned: u32,
    pub total: u32,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::NotStarted => self.not_started += 1,
            Status::HandedIn => self.handed_in += 1,
            Status::Late => self.late += 1,
            Status::Returned => self.returned += 1,
        }
    }

    /// Hand-ins waiting for the teacher.
    pub fn to_mark(&self) -> u32 {
        self.handed_in + self.late
    }
}

/// A pupil's status without feedback, for a parent's line in a class list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildStatus {
    pub student: String,
    pub name: String,
    pub status: Status,
}

/// One assignment of a class list: no scores for anyone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassAssignmentItem {
    pub id: String,
    pub title: String,
    pub due_at: DateTime<Utc>,
    pub past_due: bool,
    pub accept_late: bool,
    pub scale: String,
    pub lesson: Option<String>,
    /// A pupil's own status.
    pub status: Option<Status>,
    /// A parent's children's statuses.
    pub children: Vec<ChildStatus>,
    /// For the class's staff: how many pupils stand where.
    pub counts: Option<Counts>,
}

/// `GET /api/v1/classes/{sourcedId}/assignments`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassAssignments {
    pub class: String,
    pub title: String,
    pub viewer: String,
    pub assignments: Vec<ClassAssignmentItem>,
}

/// An assignment as one pupil stands with it: the rows of `GET
/// /api/v1/students/{sourcedId}/assignments` and of the spaces pages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudentAssignment {
    pub id: String,
    pub title: String,
    /// The class's internal id (for pages that group by class).
    #[serde(skip)]
    pub class_id: String,
    /// The class's sourcedId.
    pub class: String,
    pub class_title: String,
    pub due_at: DateTime<Utc>,
    /// The due time has passed and nothing was handed in.
    pub overdue: bool,
    pub status: Status,
    /// Once returned: `{"comment", "score"}`; null before.
    pub feedback: Option<FeedbackView>,
}

/// An assignment of a class a teacher teaches, with its counts (never scores).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeacherAssignment {
    pub id: String,
    pub title: String,
    #[serde(skip)]
    pub class_id: String,
    pub class: String,
    pub class_title: String,
    pub due_at: DateTime<Utc>,
    pub counts: Counts,
}

/// `GET /api/v1/students/{sourcedId}/assignments`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudentAssignments {
    pub student: String,
    pub name: String,
    pub assignments: Vec<StudentAssignment>,
}

/// One row of a class's progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressRow {
    pub student: String,
    pub name: String,
    pub status: Status,
    pub submission: Option<String>,
    pub attempt: Option<i32>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub late: bool,
    /// The standing score once returned (points, band, or null).
    pub score: Value,
}

/// `GET /api/v1/assignments/{id}/progress`: for the class's staff only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub assignment: String,
    pub title: String,
    pub class: String,
    pub due_at: DateTime<Utc>,
    pub scale: String,
    pub counts: Counts,
    pub students: Vec<ProgressRow>,
}

/// A file of a hand-in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// Where to download it.
    pub url: String,
}

/// `GET /api/v1/submissions/{id}` and the answer to a hand-in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionView {
    pub id: String,
    pub assignment: String,
    pub assignment_title: String,
    pub scale: String,
    pub student: String,
    pub student_name: String,
    pub attempt: i32,
    pub text: String,
    pub submitted_at: DateTime<Utc>,
    pub late: bool,
    /// `handed_in` or `returned`.
    pub state: String,
    pub returned_at: Option<DateTime<Utc>>,
    /// Set when a later hand-in replaced this one.
    pub superseded_at: Option<DateTime<Utc>>,
    pub files: Vec<FileView>,
    pub feedback: Option<FeedbackView>,
    /// Every mark given, oldest first (the class's staff only; empty for others).
    pub marks: Vec<MarkView>,
}

/// The answer to `POST /api/v1/submissions/{id}/feedback`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackCreated {
    pub id: String,
    pub submission: String,
    pub comment: String,
    pub score: Value,
    /// `returned`.
    pub state: String,
    pub returned_at: DateTime<Utc>,
}
