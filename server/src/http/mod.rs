//! The HTTP layer: the route table, the layers every response passes through, and what all pages
//! share (layout, static files, error rendering).

pub mod access;
pub mod app;
pub mod assets;
pub mod display;
pub mod errors;
pub mod guard;
pub mod headers;
pub mod health;
pub mod json;
pub mod layout;
pub mod openapi;
pub mod page;
pub mod timeout;
