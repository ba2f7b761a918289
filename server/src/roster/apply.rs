//! Writing a plan: inserts in batches, updates row by row, retirements by id — all inside the
//! caller's transaction, in dependency order (orgs before classes before enrollments…).
//!
//! The statements are built on a blocking thread of their own and handed over through a short
//! queue, so that building the next one (a county's statements carry millions of values) runs
//! while the database executes the one before, instead of after it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable,
    QueryFilter, QueryTrait, Statement,
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

pub const FROZEN: &str = "frozen";

/// Write every change of `plan`.
pub async fn apply(db: &impl ConnectionTrait, plan: Plan, now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let deferred = if backend == DbBackend::Sqlite {
        defer_indexes(db).await?
    } else {
        Vec::new()
    };
    let (sender, mut statements) = tokio::sync::mpsc::channel::<Result<Statement, DbErr>>(AHEAD);
    let builder = tokio::task::spawn_blocking(move || {
        let mut out = Out {
            backend,
            send: &mut |statement| sender.blocking_send(statement).is_ok(),
        };
        // `None` only when the writer stopped listening (it failed): nothing more to build.
        let _ = build(&mut out, plan, now);
    });
    while let Some(statement) = statements.recv().await {
        // On an error the queue is dropped with this future, and the builder stops.
        db.execute_raw(statement?).await?;
    }
    builder
        .await
        .map_err(|err| DbErr::Custom(format!("building the import's statements failed: {err}")))?;
    for index in deferred {
        db.execute_unprepared(&index).await?;
    }
    Ok(())
}

/// The roster tables, in the order they are written.
pub(super) fn tables() -> [&'static str; 10] {
    use sea_orm::EntityName;
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

/// SQLite, a first import: the secondary indexes of the roster tables that are still empty
/// are dropped (inside the caller's transaction) and their statements returned, to be run
/// again once the rows are in. Built from the sorted keys in one go, an index costs a fraction
/// of a random B-tree insert per row — a district's first import writes 1.8 million rows into
/// tables with two or three indexes each. Indexes of tables that hold rows stay: rebuilding
/// them would cost more than the rows being added. Keys and uniqueness constraints declared on
/// the table itself are not touched.
async fn defer_indexes(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut deferred = Vec::new();
    for table in tables() {
        let empty = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("SELECT 1 AS one FROM \"{table}\" LIMIT 1"),
            ))
            .await?
            .is_none();
        if !empty {
            continue;
        }
        let indexes = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                [table.into()],
            ))
            .await?;
        for row in indexes {
            let name: String = row.try_get("", "name")?;
            let sql: String = row.try_get("", "sql")?;
            db.execute_unprepared(&format!("DROP INDEX \"{name}\""))
                .await?;
            deferred.push(sql);
        }
    }
    Ok(deferred)
}

/// Where built statements go (or the reason one cannot be built, which fails the import);
/// `send` answers false once nobody listens.
struct Out<'a> {
    backend: DbBackend,
    send: &'a mut dyn FnMut(Result<Statement, DbErr>) -> bool,
}

impl Out<'_> {
    fn send(&mut self, query: &impl QueryTrait) -> Option<()> {
        (self.send)(Ok(query.build(self.backend))).then_some(())
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
    let per_statement = PARAMS_PER_STATEMENT / E::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        out.send(&E::insert_many(chunk))?;
    }
    Some(())
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

/// Every statement of `plan`, in order.
fn build(out: &mut Out<'_>, plan: Plan, now: DateTime<Utc>) -> Option<()> {
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
