//! The database connection: SQLite by default, PostgreSQL for scale-out.
//!
//! SQLite runs in WAL mode with foreign keys on and a busy timeout, so readers never wait for the
//! writer and a brief write lock is waited out instead of failing. Migrations run on every start;
//! on PostgreSQL they run under an advisory lock so that several nodes starting at once apply
//! each migration exactly once.

use std::time::Duration;

use kongjian_migrations::{Migrator, MigratorTrait};

use crate::installation;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    TransactionTrait,
};

/// Arbitrary but fixed key for `pg_advisory_xact_lock`: "kongjian migrations".
const MIGRATION_LOCK_KEY: i64 = 0x6b6f_6e67_6a69_616e;

/// How long a statement waits for SQLite's write lock before it gives up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect to the database at `url` with the options Kongjian relies on.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // A connection to a local file cannot drop: checking it before every statement only
        // added a round trip to the database thread (a third of a small request's cost).
        options
            .max_connections(8)
            .min_connections(1)
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(tune_sqlite);
    } else {
        // The pool retries failed connections until its timeout and then reports only
        // "pool timed out"; one direct attempt first surfaces the real cause (refused,
        // unknown host, bad password, no such database) for the start-up error.
        check_postgres(url).await?;
        options.max_connections(20).min_connections(1);
    }
    Database::connect(options).await
}

async fn check_postgres(url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::{Connection, postgres::PgConnection};
    let attempt = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await;
    match attempt {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(err)) => Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(err.to_string()))),
        Err(_) => Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(
            "no answer within 5 seconds".to_owned(),
        ))),
    }
}

fn tune_sqlite(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Statement journals and temporary indexes in memory, not in temp files.
        .pragma("temp_store", "memory")
}

/// The file of an SQLite database: `None` on PostgreSQL, and for an in-memory SQLite database
/// (which another connection would not see).
pub fn sqlite_file(db: &DatabaseConnection) -> Option<std::path::PathBuf> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    let name = file.to_string_lossy();
    (!name.is_empty() && !name.starts_with(":memory:")).then(|| file.to_path_buf())
}

/// A pool of at most `max` connections of its own to the same PostgreSQL database as `db`,
/// made on the calling runtime (a pool's connections belong to the runtime that opened them).
/// `None` on SQLite.
pub async fn dedicated_postgres(
    db: &DatabaseConnection,
    max: u32,
) -> Result<Option<DatabaseConnection>, DbErr> {
    use sea_orm::sqlx::postgres::PgPoolOptions;
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with((*options).clone())
        .await
        .map_err(|err| DbErr::Conn(sea_orm::RuntimeErr::Internal(err.to_string())))?;
    Ok(Some(
        sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(pool),
    ))
}

/// How long a writer of its own (the messaging committer, a roster import) waits for another
/// writer of the same SQLite file to finish.
const OWN_WRITER_BUSY: Duration = Duration::from_secs(30);

/// A rusqlite connection of its own to the SQLite database in `file`, for a writer that binds
/// its rows straight into prepared statements (see `messaging::store_sqlite` and
/// `roster::bulk_sqlite`), with `pragmas` applied.
pub fn own_sqlite_writer(
    file: &std::path::Path,
    pragmas: &str,
) -> Result<rusqlite::Connection, DbErr> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_failed)?;
    conn.busy_timeout(OWN_WRITER_BUSY).map_err(sqlite_failed)?;
    conn.execute_batch(pragmas).map_err(sqlite_failed)?;
    Ok(conn)
}

/// A time as sqlx-sqlite stores it (RFC 3339 with as many fraction digits as it needs), so that
/// what a rusqlite writer stores reads back through sea-orm like everything else.
pub fn sqlite_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A rusqlite error as sea-orm's.
pub fn sqlite_failed(err: rusqlite::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::Internal(format!("SQLite: {err}")))
}

/// How often a serving node folds SQLite's write-ahead log back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// On SQLite, until shutdown: fold the write-ahead log into the database file every second,
/// on a connection of the pool. Left to itself, SQLite checkpoints inside whichever commit
/// takes the log past 1,000 pages: under load that is the messaging committer's, and every
/// message and notice of that batch waited for the checkpoint. A passive checkpoint waits for
/// no reader or writer; the commit that crosses the threshold now finds the work done (and
/// the committer's own connection only checkpoints far past it, see `CHECKPOINT_PAGES` in
/// `messaging::committer`).
pub async fn checkpoint_wal(db: DatabaseConnection, shutdown: tokio_util::sync::CancellationToken) {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        if let Err(err) = db
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            tracing::warn!(error = %err, "checkpointing the write-ahead log failed");
        }
    }
}

/// Apply every pending migration and return the installation id (made on first start).
pub async fn migrate(db: &DatabaseConnection) -> Result<String, DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
        ))
        .await?;
    }
    Migrator::up(&txn, None).await?;
    let id = installation::ensure(&txn).await?;
    txn.commit().await?;
    Ok(id)
}

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// A short name for logs and the health endpoint.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => "postgres",
        DatabaseBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// How many migrations the database has applied.
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_applied_migrations(db).await?.len())
}
