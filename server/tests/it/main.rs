//! The server's integration tests: the real app on port 0, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod activities;
mod assignments;
mod assignments_pages;
mod authz;
mod fixtures;
mod foundation;
mod growth;
mod lessons;
mod messaging;
mod messaging_pages;
mod openapi;
mod pages;
mod people;
mod resources;
mod resources_pages;
mod roster;
mod roster_pages;
mod shutdown;
mod signin;
mod spaces;
mod sso;
