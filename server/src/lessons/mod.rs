//! Lessons (课程): a teacher writes a lesson in Markdown (rendered safely), keeps it as a draft,
//! publishes it to classes they teach now or at a set time, edits it (the history is kept),
//! copies one from their own or a colleague's published lessons, and answers the questions a
//! class asks on it.
//!
//! `access` decides who stands where (owner, the classes' staff, pupils and families,
//! colleagues); `service` writes and reads lessons (`copying` copies them); `publishing` puts them in front of classes
//! and `lists` lists them (with [`lists::visible_in_classes`] for the spaces); `attachments` and
//! `questions` are what hangs off a lesson. `routes` is the JSON API, `pages` the HTML.

pub mod access;
pub mod attachments;
pub mod copying;
pub mod entity;
pub mod lists;
pub mod pages;
pub mod publishing;
pub mod questions;
pub mod routes;
pub mod service;

pub use lists::{VisibleLesson, visible_in_classes};
