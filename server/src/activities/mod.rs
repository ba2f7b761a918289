//! Class and school activities (班级活动) with per-child answers from families (sign-up or
//! permission slips), and school announcements.
//!
//! An activity belongs to a class (organised by its teachers or its school's administrators)
//! or to a whole school (organised by its administrators). Families answer yes or no for each
//! child until the deadline; the organisers see every answer, who is still to answer, the
//! counts, and export them as CSV. A parent sees only their own children's answers. Cancelling
//! keeps everything and says why.

pub mod access;
pub mod announcements;
pub mod answers;
pub mod create;
pub mod entity;
pub mod pages;
pub mod routes;
pub mod service;

pub use routes::router;
