//! Lessons (课程): a teacher writes a lesson in Markdown (rendered safely), keeps it as a draft,
//! publishes it to classes they teach now or at a set time, edits it (the history is kept),
//! copies one from their own or a colleague's published lessons, and answers the questions a
//! class asks on it.

pub mod entity;
