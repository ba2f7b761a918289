//! Writing a plan: inserts in batches, updates row by row, retirements by id — all inside the
//! caller's transaction, in dependency order (orgs before classes before enrollments…).
//!
//! [`build`] turns a plan into [`Write`]s: statements, and new rows either as multi-row
//! `INSERT`s or (for a writer with prepared statements, see `bulk_sqlite`) as rows of values.
//! [`apply`] runs them through sea-orm (PostgreSQL). The statements are built on a blocking
//! thread of their own and handed over through a short queue, so that building the next one (a
//! county's statements carry millions of values) runs while the database executes the one
//! before, instead of after it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityName,
    EntityTrait, IdenStatic, Iterable, QueryFilter, QueryTrait, Statement, Value,
};

use super::entity::{
    class, course, enrollment, guardian_link, org, person, person_alias, role, session, space,
};
use super::plan::{Changes, Plan};
use super::snapshot::{ACTIVE, RETIRED};

/// Bind parameters per multi-row INSERT: under SQLite's (32,766) and PostgreSQL's (65,535)
/// limits; fewer, larger statements cost less per row.
const PARAMS_PER_STATEMENT: usize = 30_000;
/// Ids per `UPDATE … WHERE id IN (…)`.
const BATCH: usize = 400;
/// Statements built ahead of the one running.
const AHEAD: usize = 3;
/// New rows per [`Write::Rows`].
const ROWS: usize = 4096;

pub const FROZEN: &str = "frozen";

/// One step of writing a plan.
pub(super) enum Write {
    Statement(Statement),
    /// New rows of `table`, each with a value for each of `columns`, in order.
    Rows {
        table: &'static str,
        columns: Vec<&'static str>,
        rows: Vec<Vec<Value>>,
    },
}

/// Write every change of `plan` through sea-orm.
pub async fn apply(db: &impl ConnectionTrait, plan: Plan, now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let deferred = if backend == DbBackend::Postgres {
        defer_postgres(db).await?
    } else {
        Vec::new()
    };
    let (sender, mut writes) = tokio::sync::mpsc::channel::<Result<Write, DbErr>>(AHEAD);
    let builder = tokio::task::spawn_blocking(move || {
        let mut out = Out {
            backend,
            as_rows: false,
            send: &mut |write| sender.blocking_send(write).is_ok(),
        };
        // `None` only when the writer stopped listening (it failed): nothing more to build.
        let _ = build(&mut out, plan, now);
    });
    while let Some(write) = writes.recv().await {
        // On an error the queue is dropped with this future, and the builder stops.
        match write? {
            Write::Statement(statement) => {
                db.execute_raw(statement).await?;
            }
            Write::Rows { table, .. } => {
                return Err(DbErr::Custom(format!(
                    "rows of {table} were built for a writer with prepared statements"
                )));
            }
        }
    }
    builder
        .await
        .map_err(|err| DbErr::Custom(format!("building the import's statements failed: {err}")))?;
    for statement in deferred {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// PostgreSQL, a first import (every roster table empty): the foreign keys of the roster
/// tables and their indexes that no constraint owns are dropped inside the caller's
/// transaction, and the statements that make them again returned, to be run once the rows are
/// in. Checking a reference per row and growing each index row by row took half of a
/// district's import (37 of 42 s writing); built afterwards from all the rows at once they
/// take seconds, and a row that breaks one still fails the import. Only a first import: the
/// `ALTER TABLE`s lock the tables (and the ones referenced) until the commit, which nobody
/// notices while there is no roster. Keys and uniqueness constraints stay.
async fn defer_postgres(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    if any_roster(db).await? {
        return Ok(Vec::new());
    }
    let tables = tables()
        .iter()
        .map(|t| format!("'{t}'::regclass"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS undo, \
                 format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, \
                 pg_get_constraintdef(c.oid)) AS redo, 1 AS step \
                 FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid IN ({tables}) \
                 UNION ALL \
                 SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid), 2 \
                 FROM pg_index i WHERE i.indrelid IN ({tables}) \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
                 ORDER BY step"
            ),
        ))
        .await?;
    let mut redo = Vec::with_capacity(rows.len());
    for row in rows {
        let undo: String = row.try_get("", "undo")?;
        db.execute_unprepared(&undo).await?;
        redo.push(row.try_get::<String>("", "redo")?);
    }
    // Indexes first, then the references.
    redo.reverse();
    Ok(redo)
}

/// Whether any roster table has a row.
async fn any_roster(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    let exists = tables()
        .iter()
        .map(|t| format!("EXISTS (SELECT 1 FROM \"{t}\")"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT ({exists}) AS any"),
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<bool>("", "any")?,
        None => false,
    })
}

/// The roster tables, in the order they are written.
pub(super) fn tables() -> [&'static str; 10] {
    [
        org::Entity.table_name(),
        session::Entity.table_name(),
        course::Entity.table_name(),
        class::Entity.table_name(),
        person::Entity.table_name(),
        person_alias::Entity.table_name(),
        role::Entity.table_name(),
        enrollment::Entity.table_name(),
        guardian_link::Entity.table_name(),
        space::Entity.table_name(),
    ]
}

/// Where built writes go (or the reason one cannot be built, which fails the import); `send`
/// answers false once nobody listens. With `as_rows`, new rows come as [`Write::Rows`],
/// otherwise as multi-row `INSERT`s.
pub(super) struct Out<'a> {
    pub backend: DbBackend,
    pub as_rows: bool,
    pub send: &'a mut dyn FnMut(Result<Write, DbErr>) -> bool,
}

impl Out<'_> {
    fn send(&mut self, query: &impl QueryTrait) -> Option<()> {
        (self.send)(Ok(Write::Statement(query.build(self.backend)))).then_some(())
    }

    fn fail(&mut self, err: DbErr) -> Option<()> {
        (self.send)(Err(err));
        None
    }
}

fn inserts<E, A>(out: &mut Out<'_>, rows: Vec<A>) -> Option<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    if out.as_rows {
        return insert_rows::<E, A>(out, rows);
    }
    let per_statement = PARAMS_PER_STATEMENT / E::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        out.send(&E::insert_many(chunk))?;
    }
    Some(())
}

/// New rows as values, [`ROWS`] at a time. A row's columns are those it sets; rows that set
/// other columns than the row before them start another batch.
fn insert_rows<E, A>(out: &mut Out<'_>, rows: Vec<A>) -> Option<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    let all: Vec<E::Column> = E::Column::iter().collect();
    let table = E::default().table_name();
    let mut columns: Vec<&'static str> = Vec::new();
    let mut batch: Vec<Vec<Value>> = Vec::new();
    for mut row in rows {
        let mut names = Vec::with_capacity(all.len());
        let mut values = Vec::with_capacity(all.len());
        for column in &all {
            match row.take(*column) {
                ActiveValue::Set(value) | ActiveValue::Unchanged(value) => {
                    names.push(column.as_str());
                    values.push(value);
                }
                ActiveValue::NotSet => {}
            }
        }
        if names != columns || batch.len() == ROWS {
            let full = std::mem::replace(&mut columns, names);
            send_rows(out, table, full, std::mem::take(&mut batch))?;
        }
        batch.push(values);
    }
    send_rows(out, table, columns, batch)
}

fn send_rows(
    out: &mut Out<'_>,
    table: &'static str,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Value>>,
) -> Option<()> {
    if rows.is_empty() {
        return Some(());
    }
    (out.send)(Ok(Write::Rows {
        table,
        columns,
        rows,
    }))
    .then_some(())
}

/// One `UPDATE … WHERE id = …` per row, setting the columns the row sets.
fn updates<E, A>(out: &mut Out<'_>, rows: Vec<A>, id: E::Column) -> Option<()>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E>,
{
    for row in rows {
        let Some(key) = row.get(id).into_value() else {
            return out.fail(DbErr::Custom(format!(
                "a planned update of {} has no id",
                E::default().table_name()
            )));
        };
        out.send(&E::update_many().set(row).filter(id.eq(key)))?;
    }
    Some(())
}

fn set_status<E, C>(
    out: &mut Out<'_>,
    ids: &[String],
    [id_col, status_col, updated_col]: [C; 3],
    status: &str,
    now: DateTime<Utc>,
) -> Option<()>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    for chunk in ids.chunks(BATCH) {
        out.send(
            &E::update_many()
                .col_expr(status_col, Expr::value(status))
                .col_expr(updated_col, Expr::value(now))
                .filter(id_col.is_in(chunk.iter().cloned())),
        )?;
    }
    Some(())
}

macro_rules! table {
    ($out:expr, $now:expr, $changes:expr, $module:ident) => {{
        let Changes {
            inserts: new,
            updates: changed,
            retire,
            ..
        } = $changes;
        inserts::<$module::Entity, _>($out, new)?;
        updates::<$module::Entity, _>($out, changed, $module::Column::Id)?;
        set_status::<$module::Entity, _>(
            $out,
            &retire,
            [
                $module::Column::Id,
                $module::Column::Status,
                $module::Column::UpdatedAt,
            ],
            RETIRED,
            $now,
        )?;
    }};
}

/// Every write of `plan`, in order.
pub(super) fn build(out: &mut Out<'_>, plan: Plan, now: DateTime<Utc>) -> Option<()> {
    table!(out, now, plan.orgs, org);
    table!(out, now, plan.sessions, session);
    table!(out, now, plan.courses, course);
    table!(out, now, plan.classes, class);

    let people_retired = plan.people.retire.clone();
    table!(out, now, plan.people, person);
    for chunk in people_retired.chunks(BATCH) {
        out.send(
            &person::Entity::update_many()
                .col_expr(person::Column::RetiredAt, Expr::value(now))
                .filter(person::Column::Id.is_in(chunk.iter().cloned())),
        )?;
    }
    inserts::<person_alias::Entity, _>(out, plan.aliases)?;

    table!(out, now, plan.roles, role);
    table!(out, now, plan.enrollments, enrollment);
    table!(out, now, plan.links, guardian_link);

    let Changes {
        inserts: new,
        retire,
        ..
    } = plan.spaces;
    inserts::<space::Entity, _>(out, new)?;
    for (ids, status) in [(&retire, FROZEN), (&plan.spaces_reactivate, ACTIVE)] {
        set_status::<space::Entity, _>(
            out,
            ids,
            [
                space::Column::Id,
                space::Column::Status,
                space::Column::UpdatedAt,
            ],
            status,
            now,
        )?;
    }
    Some(())
}
