//! People as the API shows them: `GET /api/v1/me` and `GET /api/v1/people/{sourcedId}`, with
//! the relationship rules that decide who may see whom.

pub mod relations;
pub mod routes;
pub mod service;
pub mod store;

pub use routes::router;
