//! Writing an import into an SQLite file: one transaction on a connection of the import's own,
//! opened with rusqlite, where each new row is one step of a prepared `INSERT` with its values
//! bound straight from the plan.
//!
//! Through sqlx, a county's 1.8 million new rows were multi-row `INSERT`s of 30,000 values:
//! every value was converted into sqlx's arguments on the async side and then copied again
//! into SQLite on sqlx's worker thread, one statement at a time, so conversion and execution
//! took turns; the write stage was more than half of the import. Here the values go from the
//! plan to `sqlite3_bind_*` on one thread.
//!
//! The connection has foreign-key enforcement off: the planner has checked every reference of
//! the plan against the roster (which only imports write, and never delete from), and looking
//! up the parent row of each new row again cost a tenth of the write. On a first import the
//! secondary indexes of the roster tables are dropped inside the transaction and made again
//! from their stored SQL once the rows are in: built from sorted keys in one go, an index costs
//! a fraction of a random B-tree insert per row. The transaction commits only if everything
//! in it, the statements of `then` included, was written.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use sea_orm::{DbBackend, DbErr, Statement, Value};

use super::apply::{self, Out, Write};
use super::plan::Plan;
use crate::db::sqlite_failed as failed;

/// The import connection's page cache, KiB: a county's import touches hundreds of megabytes of
/// pages, which SQLite's default 2 MB cache would spill and read back over and over inside the
/// transaction. The cache grows only as it is used.
const CACHE_KIB: u32 = 512 * 1024;

/// Write `plan` into the SQLite database in `file`, then the statements `then` makes, in one
/// transaction, on a blocking thread.
pub async fn write(
    file: PathBuf,
    plan: Plan,
    now: DateTime<Utc>,
    then: impl FnOnce() -> Vec<Statement> + Send + 'static,
) -> Result<(), DbErr> {
    tokio::task::spawn_blocking(move || write_blocking(&file, plan, now, then))
        .await
        .map_err(|err| DbErr::Custom(format!("the import's writer stopped: {err}")))?
}

fn write_blocking(
    file: &std::path::Path,
    plan: Plan,
    now: DateTime<Utc>,
    then: impl FnOnce() -> Vec<Statement>,
) -> Result<(), DbErr> {
    let mut conn = crate::db::own_sqlite_writer(
        file,
        &format!(
            "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -{CACHE_KIB};"
        ),
    )?;
    let txn = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)?;
    let deferred = defer_indexes(&txn)?;
    let mut binder = Binder::default();
    let mut failure = None;
    let mut send =
        |write: Result<Write, DbErr>| match write.and_then(|write| run(&txn, &mut binder, write)) {
            Ok(()) => true,
            Err(err) => {
                failure = Some(err);
                false
            }
        };
    let mut out = Out {
        backend: DbBackend::Sqlite,
        as_rows: true,
        send: &mut send,
    };
    let built = apply::build(&mut out, plan, now);
    if let Some(err) = failure {
        return Err(err);
    }
    if built.is_none() {
        return Err(DbErr::Custom(
            "the import's writes stopped early".to_owned(),
        ));
    }
    for index in deferred {
        txn.execute_batch(&index).map_err(failed)?;
    }
    for statement in then() {
        run(&txn, &mut binder, Write::Statement(statement))?;
    }
    txn.commit().map_err(failed)
}

/// A first import: the secondary indexes of the roster tables that are still empty are
/// dropped and their statements returned, to be run again once the rows are in. Indexes of
/// tables that hold rows stay: rebuilding them would cost more than the rows being added. Keys
/// and uniqueness constraints declared on the table itself are not touched.
fn defer_indexes(conn: &Connection) -> Result<Vec<String>, DbErr> {
    let mut deferred = Vec::new();
    for table in apply::tables() {
        let empty = conn
            .prepare(&format!("SELECT 1 FROM \"{table}\" LIMIT 1"))
            .and_then(|mut query| query.exists([]))
            .map(|exists| !exists)
            .map_err(failed)?;
        if !empty {
            continue;
        }
        let indexes: Vec<(String, String)> = conn
            .prepare(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
            )
            .and_then(|mut query| {
                query
                    .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(failed)?;
        for (name, sql) in indexes {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))
                .map_err(failed)?;
            deferred.push(sql);
        }
    }
    Ok(deferred)
}

fn run(conn: &Connection, binder: &mut Binder, write: Write) -> Result<(), DbErr> {
    match write {
        Write::Statement(statement) => {
            let mut prepared = conn.prepare_cached(&statement.sql).map_err(failed)?;
            let values = statement.values.map(|v| v.0).unwrap_or_default();
            for (at, value) in values.iter().enumerate() {
                prepared
                    .raw_bind_parameter(at + 1, binder.bind(value)?)
                    .map_err(failed)?;
            }
            prepared.raw_execute().map_err(failed)?;
        }
        Write::Rows {
            table,
            columns,
            rows,
        } => {
            let names = columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let marks = vec!["?"; columns.len()].join(", ");
            let mut insert = conn
                .prepare_cached(&format!(
                    "INSERT INTO \"{table}\" ({names}) VALUES ({marks})"
                ))
                .map_err(failed)?;
            for row in &rows {
                for (at, value) in row.iter().enumerate() {
                    insert
                        .raw_bind_parameter(at + 1, binder.bind(value)?)
                        .map_err(failed)?;
                }
                insert.raw_execute().map_err(failed)?;
            }
        }
    }
    Ok(())
}

/// Binds sea-orm values the way sqlx-sqlite stores them, so that what the import writes reads
/// back like everything else: booleans and integers as integers, dates as `YYYY-MM-DD`, times
/// as RFC 3339 with as many fraction digits as they need, JSON as text.
#[derive(Default)]
struct Binder {
    /// The last time written and its text: every row of an import carries the same `now`.
    last_time: Option<(DateTime<Utc>, String)>,
}

impl Binder {
    fn bind<'v>(&'v mut self, value: &'v Value) -> Result<ToSqlOutput<'v>, DbErr> {
        let integer = |i: Option<i64>| {
            i.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |i| {
                ToSqlOutput::Owned(rusqlite::types::Value::Integer(i))
            })
        };
        let text = |s: Option<String>| {
            s.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |s| {
                ToSqlOutput::Owned(rusqlite::types::Value::Text(s))
            })
        };
        Ok(match value {
            Value::Bool(b) => integer(b.map(i64::from)),
            Value::TinyInt(i) => integer(i.map(i64::from)),
            Value::SmallInt(i) => integer(i.map(i64::from)),
            Value::Int(i) => integer(i.map(i64::from)),
            Value::BigInt(i) => integer(*i),
            Value::TinyUnsigned(i) => integer(i.map(i64::from)),
            Value::SmallUnsigned(i) => integer(i.map(i64::from)),
            Value::Unsigned(i) => integer(i.map(i64::from)),
            Value::Float(f) => f.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |f| {
                ToSqlOutput::Owned(rusqlite::types::Value::Real(f64::from(f)))
            }),
            Value::Double(f) => f.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |f| {
                ToSqlOutput::Owned(rusqlite::types::Value::Real(f))
            }),
            Value::String(s) => s
                .as_deref()
                .map_or(ToSqlOutput::Borrowed(ValueRef::Null), |s| {
                    ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
                }),
            Value::Char(c) => text(c.map(String::from)),
            Value::Bytes(b) => b
                .as_deref()
                .map_or(ToSqlOutput::Borrowed(ValueRef::Null), |b| {
                    ToSqlOutput::Borrowed(ValueRef::Blob(b))
                }),
            Value::Json(j) => text(j.as_ref().map(|j| j.to_string())),
            Value::ChronoDate(d) => text(d.map(|d| d.format("%F").to_string())),
            Value::ChronoDateTimeUtc(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::ChronoDateTimeUtc(Some(t)) => {
                ToSqlOutput::Borrowed(ValueRef::Text(self.time(*t).as_bytes()))
            }
            other => {
                return Err(DbErr::Custom(format!(
                    "the import cannot store a value of this kind in SQLite: {other:?}"
                )));
            }
        })
    }

    fn time(&mut self, t: DateTime<Utc>) -> &str {
        if self.last_time.as_ref().is_none_or(|(last, _)| *last != t) {
            self.last_time = Some((t, crate::db::sqlite_time(t)));
        }
        self.last_time.as_ref().map_or("", |(_, text)| text)
    }
}
