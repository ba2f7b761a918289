//! Assignments with hand-ins and feedback (过程性评价): a teacher sets work for a class, pupils
//! hand in text and files until the due time (late work marked, or refused), the teacher marks on
//! the assignment's scale and returns it. Scores are seen by the pupil, their family and the
//! class's teachers only: never ranked, never shown to classmates.

pub mod entity;
