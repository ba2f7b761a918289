//! Growth records (成长记录): each pupil's timeline of selected work, teachers' comments, awards
//! and activities, which the pupil and their family see, which exports as a self-contained
//! archive, and which outlives the pupil's place in the roster.
//!
//! Entries are never deleted: their author removes one by a timestamp, and a retired pupil's
//! record stays readable and exportable by their school and the family they left with.

pub mod access;
pub mod choices;
pub mod entity;
pub mod export;
pub mod pages;
pub mod routes;
pub mod service;
mod sources;

pub use routes::router;
