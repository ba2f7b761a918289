//! The audit log: who did what, when, from where.
//!
//! Sign-ins, failed attempts, activation-code issuance, token creation and administrators'
//! actions are written here by the services that perform them. Administrators read the events
//! of the organisations they administer (`/audit` page, `GET /api/v1/audit`). Failed sign-in
//! events also drive sign-in throttling (`auth::throttle`), so that every node of a cluster
//! sees the same counts.

pub mod entity;
pub mod pages;
pub mod routes;
pub mod service;

pub use routes::api_router;
pub use service::{Action, Event, Outcome, record, record_at, record_statement};
