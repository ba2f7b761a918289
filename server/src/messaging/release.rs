//! Background work of each node: releasing what quiet hours held once they end, and closing
//! the sockets of people the roster has retired.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use super::committer::{self, Job};
use super::deliver::{self, Delivery};
use super::entity::{message, notice};
use super::hub::{CLOSE_RETIRED, CLOSE_SIGNED_OUT};
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// How often held messages are looked for.
const TICK: Duration = Duration::from_secs(1);
const BATCH: u64 = 500;

/// Release held messages and notices whose time has come, until shutdown.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = state.shutdown.cancelled() => return,
        }
        if let Err(err) = release_due(&state).await {
            tracing::warn!(error = %err, "releasing held messages failed");
        }
        if let Err(err) = super::settings::send_digests(&state).await {
            tracing::warn!(error = %err, "sending daily digests failed");
        }
    }
}

/// One pass: hand due messages to the committer (which numbers them), and deliver due notices.
pub async fn release_due(state: &AppState) -> Result<(), sea_orm::DbErr> {
    let now = state.clock.now();
    let due = message::Entity::find()
        .filter(message::Column::Held.eq(true))
        .filter(message::Column::DeliverAt.lte(now))
        .order_by_asc(message::Column::CreatedAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for m in due {
        if committer::submit(state, Job::Release(m.id)).await.is_err() {
            return Ok(());
        }
    }
    let notices = notice::Entity::find()
        .filter(notice::Column::Held.eq(true))
        .filter(notice::Column::DeliverAt.lte(now))
        .order_by_asc(notice::Column::DeliverAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for mut n in notices {
        let txn = state.db.begin().await?;
        // Conditional: when several nodes look at once, one releases each notice.
        let claimed = notice::Entity::update_many()
            .col_expr(notice::Column::Held, Expr::value(false))
            .filter(notice::Column::Id.eq(n.id.as_str()))
            .filter(notice::Column::Held.eq(true))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        n.held = false;
        let delivery = Delivery::Notice(n);
        deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
        txn.commit().await?;
        // A released notice may wait for a family's confirmation in their space.
        state.caches.wrote();
        deliver::publish(state, vec![delivery]);
    }
    Ok(())
}

/// Whenever the roster (or anything cached) changes, close the sockets of people who are no
/// longer allowed in, until shutdown.
pub async fn close_retired(state: AppState) {
    loop {
        let changed = state.caches.changed.notified();
        tokio::select! {
            () = changed => {}
            () = state.shutdown.cancelled() => return,
        }
        state.messaging.clear();
        let connected = state.messaging.hub.connected();
        for chunk in connected.chunks(400) {
            let found = person::Entity::find()
                .filter(person::Column::Id.is_in(chunk.iter().cloned()))
                .select_only()
                .column(person::Column::Id)
                .column(person::Column::Status)
                .column(person::Column::Enabled)
                .into_tuple::<(String, String, bool)>()
                .all(&state.db)
                .await;
            match found {
                Ok(rows) => {
                    for (id, status, enabled) in rows {
                        if status != ACTIVE || !enabled {
                            tracing::info!(person = %id, "closing the sockets of a retired person");
                            state.messaging.hub.disconnect(&id, CLOSE_RETIRED);
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "checking connected people failed"),
            }
            if let Err(err) = close_signed_out(&state, chunk).await {
                tracing::warn!(error = %err, "checking connected people's sessions failed");
            }
        }
    }
}

/// Close the sockets of people left with no live session and no valid token (they signed out
/// everywhere, or an administrator did it for them).
async fn close_signed_out(state: &AppState, people: &[String]) -> Result<(), sea_orm::DbErr> {
    use crate::auth::entity::{api_token, session_row as session};
    use sea_orm::Condition;
    let now = state.clock.now();
    let mut still_in: std::collections::HashSet<String> = session::Entity::find()
        .filter(session::Column::PersonId.is_in(people.iter().cloned()))
        .filter(session::Column::ExpiresAt.gt(now))
        .select_only()
        .column(session::Column::PersonId)
        .into_tuple::<Option<String>>()
        .all(&state.db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    still_in.extend(
        api_token::Entity::find()
            .filter(api_token::Column::PersonId.is_in(people.iter().cloned()))
            .filter(api_token::Column::RevokedAt.is_null())
            .filter(
                Condition::any()
                    .add(api_token::Column::ExpiresAt.is_null())
                    .add(api_token::Column::ExpiresAt.gt(now)),
            )
            .select_only()
            .column(api_token::Column::PersonId)
            .into_tuple::<String>()
            .all(&state.db)
            .await?,
    );
    for person in people.iter().filter(|p| !still_in.contains(*p)) {
        tracing::info!(person = %person, "closing the sockets of someone signed out everywhere");
        state.messaging.hub.disconnect(person, CLOSE_SIGNED_OUT);
    }
    Ok(())
}
