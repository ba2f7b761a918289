//! Assignments with hand-ins and feedback (过程性评价): a teacher sets work for a class, pupils
//! hand in text and files until the due time (late work marked, or refused), the teacher marks on
//! the assignment's scale and returns it. Scores are seen by the pupil, their family and the
//! class's teachers only: never ranked, never shown to classmates.
//!
//! `service` owns assignments and what each person sees of them (lists, progress, a pupil's
//! work for the spaces pages); `submissions` owns hand-ins, their files and the feedback;
//! `access` decides relationships from the roster; `scale` the scores a scale allows.

pub mod access;
pub mod entity;
pub mod intake;
mod lists;
pub mod pages;
pub mod routes;
pub mod scale;
pub mod service;
pub mod storage;
mod store;
pub mod submissions;
pub mod views;

use serde::Serialize;

pub use lists::list_for_student;
pub use service::{for_student, for_teacher};
pub use views::{StudentAssignment, TeacherAssignment};

use entity::submission;

/// A submission's `state` while it waits for the teacher, and once marked and returned.
pub const HANDED_IN: &str = "handed_in";
pub const RETURNED: &str = "returned";

/// Where a pupil stands with an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotStarted,
    HandedIn,
    Late,
    Returned,
}

impl Status {
    /// The status given the pupil's current (not superseded) hand-in.
    pub fn of(current: Option<&submission::Model>) -> Status {
        match current {
            None => Status::NotStarted,
            Some(s) if s.state == RETURNED => Status::Returned,
            Some(s) if s.late => Status::Late,
            Some(_) => Status::HandedIn,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::HandedIn => "handed_in",
            Status::Late => "late",
            Status::Returned => "returned",
        }
    }
}
