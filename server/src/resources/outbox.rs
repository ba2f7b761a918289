//! The search outbox: one row per change, written in the same transaction as the change, so
//! the index can never miss one (see `search::indexer`).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, NotSet, Set, Statement};

use super::entity::outbox;

/// Any constant shared by all writers of the outbox.
const LOCK_KEY: i64 = 0x6b6f_6e67_6a69;

/// Record that `resource_id` changed. On PostgreSQL, writers of the outbox take a transaction
/// lock first, so sequence numbers become visible in the order they were handed out and a
/// follower that has seen row n has seen every row before it. (SQLite has one writer anyway.)
pub async fn record(
    txn: &impl ConnectionTrait,
    resource_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"),
        ))
        .await?;
    }
    outbox::Entity::insert(outbox::ActiveModel {
        seq: NotSet,
        resource_id: Set(resource_id.to_owned()),
        at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
