//! A person's own space, kept on this node between visits while it is certainly still true.
//!
//! The space is read from the database (the only source of truth) and kept with the node's
//! write counter as it was before the read began. It is shown again only while (1) no request
//! that changed anything has been answered on this node since — `auth::csrf::Passed::finish`
//! moves the counter after every successful state-changing request, and the jobs that change
//! what a space shows (releasing held notices) move it too; (2) the moment it changes by itself
//! has not come — a scheduled lesson appearing, an assignment falling due; and (3) [`TTL`] has
//! not passed, which bounds how long a change made on another node goes unseen here. A roster
//! change empties it with every other cache (the cache epoch).
//!
//! The page made from a space is kept with it, for the language, address and CSRF token it was
//! made for (the only other things on it): a second visit while the space is still true is
//! answered with the same bytes, without formatting forty times and dates again.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DbErr;

use super::read::{self, MySpace};
use crate::i18n::Lang;
use crate::roster::entity::person;
use crate::state::AppState;

/// The longest a space is shown without reading it again.
pub const TTL: TimeDelta = TimeDelta::seconds(2);

pub struct Cached {
    writes: u64,
    until: DateTime<Utc>,
    pub space: Arc<MySpace>,
    page: Mutex<Option<Rendered>>,
}

/// What a page made from the space depends on besides the space itself.
#[derive(Debug, Clone)]
pub struct PageKey {
    pub lang: Lang,
    pub here: String,
    pub csrf: String,
}

struct Rendered {
    key: PageKey,
    body: Bytes,
}

impl Cached {
    /// The page made earlier from this space for the same language, address and token.
    pub fn page(&self, lang: Lang, here: &str, csrf: &str) -> Option<Bytes> {
        let page = self.page.lock().unwrap_or_else(|e| e.into_inner());
        page.as_ref()
            .filter(|r| r.key.lang == lang && r.key.here == here && r.key.csrf == csrf)
            .map(|r| r.body.clone())
    }

    /// Keep the page made from this space (one per person: the latest language and token win).
    pub fn keep_page(&self, key: PageKey, body: Bytes) {
        *self.page.lock().unwrap_or_else(|e| e.into_inner()) = Some(Rendered { key, body });
    }
}

/// `me`'s own space, from this node's copy when it is still true, else from the database.
pub async fn my_space(state: &AppState, me: &person::Model) -> Result<Arc<MySpace>, DbErr> {
    Ok(entry(state, me).await?.space.clone())
}

/// The cache entry for `me`'s space: the space and the page last made from it.
pub async fn entry(state: &AppState, me: &person::Model) -> Result<Arc<Cached>, DbErr> {
    let now = state.clock.now();
    // Read before the database is: a write answered after this point ends the copy made below.
    let writes = state.caches.writes.load(Ordering::Acquire);
    if let Some(c) = state.caches.spaces.get(&me.id)
        && c.writes == writes
        && now < c.until
    {
        return Ok(c);
    }
    let space = Arc::new(read::my_space(&state.db, me, now).await?);
    let mut until = now + TTL;
    if let Some(next) = space.next_change {
        until = until.min(next);
    }
    let cached = Arc::new(Cached {
        writes,
        until,
        space,
        page: Mutex::new(None),
    });
    state.caches.spaces.insert(me.id.clone(), cached.clone());
    Ok(cached)
}
