//! Roster import: turning the education-management platform's roster into people, their
//! relationships and their spaces — "one person, one space" without a sign-up form.
//!
//! Reading (`source`) and parsing (`oneroster`, `cn`) produce a typed [`model::Bundle`] and
//! [`diagnostics::Diagnostics`]; nothing touches the database until the whole input is known
//! to be sound.

pub mod access;
pub mod apply;
mod bulk_sqlite;
pub mod cli;
pub mod cn;
pub mod demo;
pub mod diagnostics;
pub mod entity;
pub mod log;
pub mod model;
pub mod oneroster;
pub mod pages;
pub mod plan;
pub(crate) mod report;
pub mod routes;
pub mod service;
pub mod snapshot;
pub mod source;
pub mod validate;
mod view;

/// The hash maps of an import, keyed by sourcedIds and ids: foldhash (seeded per map) instead of
/// the standard SipHash, which took a tenth of planning a district.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`HashMap`].
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
