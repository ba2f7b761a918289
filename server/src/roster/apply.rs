//! Writing a plan: inserts in batches, updates row by row, retirements by id — all inside the
//! caller's transaction, in dependency order (orgs before classes before enrollments…).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iterable, QueryFilter,
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

pub const FROZEN: &str = "frozen";

async fn insert_all<E, A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
{
    let per_statement = PARAMS_PER_STATEMENT / E::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

async fn update_all<E, A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait,
    A: ActiveModelTrait<Entity = E> + Send,
    E::Model: sea_orm::IntoActiveModel<A>,
{
    for row in rows {
        E::update(row).exec(db).await?;
    }
    Ok(())
}

async fn set_status<E, C>(
    db: &impl ConnectionTrait,
    ids: &[String],
    id_col: C,
    status_col: C,
    status: &str,
    updated_col: C,
    now: DateTime<Utc>,
) -> Result<(), DbErr>
where
    E: EntityTrait,
    C: ColumnTrait,
{
    for chunk in ids.chunks(BATCH) {
        E::update_many()
            .col_expr(status_col, Expr::value(status))
            .col_expr(updated_col, Expr::value(now))
            .filter(id_col.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(())
}

macro_rules! apply_table {
    ($db:expr, $now:expr, $changes:expr, $module:ident) => {{
        let Changes {
            inserts,
            updates,
            retire,
            ..
        } = $changes;
        insert_all::<$module::Entity, _>($db, inserts).await?;
        update_all::<$module::Entity, _>($db, updates).await?;
        set_status::<$module::Entity, _>(
            $db,
            &retire,
            $module::Column::Id,
            $module::Column::Status,
            RETIRED,
            $module::Column::UpdatedAt,
            $now,
        )
        .await?;
    }};
}

/// Write every change of `plan`.
pub async fn apply(db: &impl ConnectionTrait, plan: Plan, now: DateTime<Utc>) -> Result<(), DbErr> {
    apply_table!(db, now, plan.orgs, org);
    apply_table!(db, now, plan.sessions, session);
    apply_table!(db, now, plan.courses, course);
    apply_table!(db, now, plan.classes, class);

    let people_retired = plan.people.retire.clone();
    apply_table!(db, now, plan.people, person);
    for chunk in people_retired.chunks(BATCH) {
        person::Entity::update_many()
            .col_expr(person::Column::RetiredAt, Expr::value(now))
            .filter(person::Column::Id.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    insert_all::<person_alias::Entity, _>(db, plan.aliases).await?;

    apply_table!(db, now, plan.roles, role);
    apply_table!(db, now, plan.enrollments, enrollment);
    apply_table!(db, now, plan.links, guardian_link);

    let Changes {
        inserts, retire, ..
    } = plan.spaces;
    insert_all::<space::Entity, _>(db, inserts).await?;
    for (ids, status) in [(&retire, FROZEN), (&plan.spaces_reactivate, ACTIVE)] {
        set_status::<space::Entity, _>(
            db,
            ids,
            space::Column::Id,
            space::Column::Status,
            status,
            space::Column::UpdatedAt,
            now,
        )
        .await?;
    }
    Ok(())
}
