//! Kongjian's schema, one migration per change, applied in order on every start.
//!
//! An applied migration is never edited: a change to the schema is a new file named
//! `mYYYYMMDD_NNNNNN_<verb>_<thing>.rs` and one line in [`Migrator::migrations`].

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_create_installation;
mod m20261204_000002_create_roster;
mod m20261204_000003_create_api_tokens;
mod m20261204_000004_create_sign_in;
mod m20261204_000005_create_cache_epoch;
mod m20261204_000006_create_messaging;
mod m20261205_000007_create_resources;
mod m20261205_000008_create_spaces;
mod m20261205_000009_add_roster_import_digest;

/// The list of all migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_create_installation::Migration),
            Box::new(m20261204_000002_create_roster::Migration),
            Box::new(m20261204_000003_create_api_tokens::Migration),
            Box::new(m20261204_000004_create_sign_in::Migration),
            Box::new(m20261204_000005_create_cache_epoch::Migration),
            Box::new(m20261204_000006_create_messaging::Migration),
            Box::new(m20261205_000007_create_resources::Migration),
            Box::new(m20261205_000008_create_spaces::Migration),
            Box::new(m20261205_000009_add_roster_import_digest::Migration),
        ]
    }
}
