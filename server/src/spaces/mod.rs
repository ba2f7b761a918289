//! The spaces themselves (一人一空间): what a person sees when they arrive, full of their own
//! school life from the first visit because the roster put them in classes — a pupil's classes,
//! lessons, assignments, feedback and growth record; a teacher's classes, lessons, marking and
//! resources; a parent's card per child; a class's space and a school's.

pub mod cache;
pub mod demo;
pub mod pages;
pub mod read;
pub mod routes;

pub use pages::router as pages_router;
pub use routes::router;
