//! Where tower-sessions keeps sessions: the `sessions` table, through sea-orm.
//!
//! Of the three ways to give tower-sessions a database (../shared/STACK.md), this is the third:
//! tower-sessions 0.15 with a store written over sea-orm. The sqlx store would bring a second
//! sqlx and a second connection pool beside sea-orm's, with its own tables and its own
//! migrations; a store over sea-orm is one table in our migrations, one pool, works the same on
//! SQLite and PostgreSQL, and lets retirement and "sign out everywhere" end sessions inside the
//! same transaction as the change that causes it. `person_id` is copied out of the record into
//! its own column for exactly that.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryTrait, Statement, TryInsertResult,
};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::entity::session_row;

/// The key under which a signed-in session keeps the person's id.
pub const PERSON_KEY: &str = "person_id";

/// The store, with a per-node copy of recently used records (see `crate::cache`). Shared by
/// every request behind one `Arc` (`auth::session_layer`).
pub struct DbSessionStore {
    db: DatabaseConnection,
    cache: moka::sync::Cache<Id, Record>,
    /// Who each session is signed in as: forgotten with the session.
    signed_in: moka::sync::Cache<Id, std::sync::Arc<super::sessions::SignedIn>>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    pub fn new(caches: &crate::cache::Caches, db: DatabaseConnection) -> Self {
        DbSessionStore {
            db,
            cache: caches.sessions.clone(),
            signed_in: caches.signed_in.clone(),
        }
    }
}

fn backend(err: DbErr) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_chrono(at: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_default()
}

fn to_time(at: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(at.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn row(record: &Record) -> session_store::Result<session_row::ActiveModel> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let person_id = record
        .data
        .get(PERSON_KEY)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok(session_row::ActiveModel {
        id: Set(record.id.to_string()),
        person_id: Set(person_id),
        data: Set(data),
        expires_at: Set(to_chrono(record.expiry_date)),
        updated_at: Set(Utc::now()),
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random id colliding is astronomically unlikely; if it ever happens, draw again
        // rather than overwrite someone else's session.
        loop {
            let inserted = session_row::Entity::insert(row(record)?)
                .on_conflict_do_nothing()
                .exec_without_returning(&self.db)
                .await
                .map_err(backend)?;
            if !matches!(inserted, TryInsertResult::Inserted(0)) {
                self.cache.insert(record.id, record.clone());
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        session_row::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(session_row::Column::Id)
                    .update_columns([
                        session_row::Column::PersonId,
                        session_row::Column::Data,
                        session_row::Column::ExpiresAt,
                        session_row::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(backend)?;
        self.cache.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.get(id) {
            if record.expiry_date > time::OffsetDateTime::now_utc() {
                return Ok(Some(record));
            }
            self.cache.invalidate(id);
        }
        let Some(found) = session_row::Entity::find_by_id(id.to_string())
            .filter(session_row::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&found.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let record = Record {
            id: *id,
            data,
            expiry_date: to_time(found.expires_at),
        };
        self.cache.insert(*id, record.clone());
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.invalidate(id);
        self.signed_in.invalidate(id);
        session_row::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// End every session of these people (sign out everywhere, retirement). Returns how many ended.
/// The caller bumps the cache epoch in the same transaction (`crate::cache::bump`), so that no
/// node keeps serving a copy of an ended session.
pub async fn delete_for_people(
    db: &impl ConnectionTrait,
    person_ids: &[String],
) -> Result<u64, DbErr> {
    let mut ended = 0;
    for statement in delete_for_people_statements(db.get_database_backend(), person_ids) {
        ended += db.execute_raw(statement).await?.rows_affected();
    }
    Ok(ended)
}

/// The statements of [`delete_for_people`], for a writer that runs them itself (the roster
/// import's, inside its transaction).
pub fn delete_for_people_statements(backend: DbBackend, person_ids: &[String]) -> Vec<Statement> {
    person_ids
        .chunks(400)
        .map(|chunk| {
            session_row::Entity::delete_many()
                .filter(session_row::Column::PersonId.is_in(chunk.iter().cloned()))
                .build(backend)
        })
        .collect()
}

/// Remove expired sessions; run periodically.
pub async fn delete_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Ok(session_row::Entity::delete_many()
        .filter(session_row::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
