//! A person's own space, kept on this node between visits while it is certainly still true.
//!
//! The space is read from the database (the only source of truth) and kept with the node's
//! write counter as it was before the read began. It is shown again only while (1) no request
//! that changed anything has been answered on this node since — `auth::csrf::protect` moves the
//! counter after every successful state-changing request, and the jobs that change what a space
//! shows (releasing held notices) move it too; (2) the moment it changes by itself has not come
//! — a scheduled lesson appearing, an assignment falling due; and (3) [`TTL`] has not passed,
//! which bounds how long a change made on another node goes unseen here. A roster change empties
//! it with every other cache (the cache epoch).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DbErr;

use super::read::{self, MySpace};
use crate::roster::entity::person;
use crate::state::AppState;

/// The longest a space is shown without reading it again.
pub const TTL: TimeDelta = TimeDelta::seconds(2);

pub struct Cached {
    writes: u64,
    until: DateTime<Utc>,
    space: Arc<MySpace>,
}

/// `me`'s own space, from this node's copy when it is still true, else from the database.
pub async fn my_space(state: &AppState, me: &person::Model) -> Result<Arc<MySpace>, DbErr> {
    let now = state.clock.now();
    // Read before the database is: a write answered after this point ends the copy made below.
    let writes = state.caches.writes.load(Ordering::Acquire);
    if let Some(c) = state.caches.spaces.get(&me.id)
        && c.writes == writes
        && now < c.until
    {
        return Ok(c.space.clone());
    }
    let space = Arc::new(read::my_space(&state.db, me, now).await?);
    let mut until = now + TTL;
    if let Some(next) = space.next_change {
        until = until.min(next);
    }
    state.caches.spaces.insert(
        me.id.clone(),
        Arc::new(Cached {
            writes,
            until,
            space: space.clone(),
        }),
    );
    Ok(space)
}
