//! Short-lived, per-node copies of the hottest reads: session records, people, API tokens and
//! the `/me` view. The database stays the only source of truth; a cache entry lives at most
//! [`TTL`], and every change that could make one wrong bumps the `cache_epoch` counter in the
//! same transaction. Each node polls the counter every [`POLL`] and empties its caches when it
//! moves, so a change made on another node, or by the `kongjian` CLI, is seen within about a
//! second; on the node that made it, at once.
//!
//! Without these a signed-in `GET /api/v1/me` cost nine SQL statements and ~0.7 ms of CPU,
//! most of it handing each statement to a database thread and back.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio_util::sync::CancellationToken;
use tower_sessions::session::{Id, Record};

use crate::roster::entity::person;

/// The longest any entry is trusted.
pub const TTL: Duration = Duration::from_secs(10);
/// How often a node looks at the epoch counter.
pub const POLL: Duration = Duration::from_secs(1);
const CAPACITY: u64 = 200_000;

/// A bounded per-node map of answers read from the database, each trusted for at most `ttl`
/// (a safety net: whatever could make an answer wrong empties the map sooner). Realtime
/// messaging asks these a dozen times per message; on moka's caches, whose every read also
/// queues bookkeeping for its eviction order and expiry, those reads were about a sixth of
/// the socket threads' time under R5. Here a read is a hash, a shard's read lock and a clock
/// read.
pub struct Memo<K, V> {
    entries: quick_cache::sync::Cache<K, (V, std::time::Instant)>,
    ttl: Duration,
}

impl<K, V> Memo<K, V>
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    /// Up to about `capacity` entries (the least used go first), each kept at most `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Memo {
            entries: quick_cache::sync::Cache::new(capacity),
            ttl,
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: std::hash::Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        let (value, at) = self.entries.get(key)?;
        (at.elapsed() < self.ttl).then_some(value)
    }

    pub fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (value, std::time::Instant::now()));
    }

    pub fn invalidate<Q>(&self, key: &Q)
    where
        Q: std::hash::Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        self.entries.remove(key);
    }

    pub fn invalidate_all(&self) {
        self.entries.clear();
    }
}

#[derive(Clone)]
pub struct Caches {
    pub sessions: Cache<Id, Record>,
    /// Session id → who it is signed in as, and until when that answer needs no second look
    /// (see `auth::sessions::current`).
    pub signed_in: Cache<Id, Arc<crate::auth::sessions::SignedIn>>,
    /// Person id → the person, shared (`Arc`) with whoever holds them.
    pub people: Arc<Memo<String, Arc<person::Model>>>,
    /// Token hash (SHA-256) → the person it belongs to, for valid tokens only; a socket signed
    /// in with the token holds the same `Arc`. (`Memo`s, like `people`: an entry is made for
    /// every socket that signs in, and a moka entry costs a few hundred bytes of bookkeeping
    /// beside its key and value.)
    pub tokens: Arc<Memo<[u8; 32], Arc<person::Model>>>,
    /// Person id → the serialized `/me` answer.
    pub views: Cache<String, axum::body::Bytes>,
    /// Person id → their resource access tokens (see `resources::access`).
    pub access: Cache<String, std::sync::Arc<Vec<String>>>,
    /// Person id → their own space as last read (see `spaces::cache`).
    pub spaces: Cache<String, Arc<crate::spaces::cache::Cached>>,
    /// Moves whenever this node answers a request that changed something, so that a space read
    /// before it is not shown after it.
    pub writes: Arc<std::sync::atomic::AtomicU64>,
    epoch: Arc<AtomicI64>,
    /// Woken whenever the caches are emptied, so that long-lived holders of a person (open
    /// sockets) can check that the person is still allowed in.
    pub changed: Arc<tokio::sync::Notify>,
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

impl Caches {
    pub fn new() -> Self {
        fn cache<K, V>() -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build()
        }
        Caches {
            sessions: cache(),
            signed_in: cache(),
            people: Arc::new(Memo::new(CAPACITY as usize, TTL)),
            tokens: Arc::new(Memo::new(CAPACITY as usize, TTL)),
            views: cache(),
            access: cache(),
            // A space is shown for at most two seconds anyway; keeping it longer would only
            // hold its page (tens of KB) in memory.
            spaces: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(crate::spaces::cache::TTL.to_std().unwrap_or(TTL))
                .build(),
            writes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            epoch: Arc::new(AtomicI64::new(i64::MIN)),
            changed: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Forget everything (another node or the CLI changed something).
    pub fn clear(&self) {
        self.sessions.invalidate_all();
        self.signed_in.invalidate_all();
        self.people.invalidate_all();
        self.tokens.invalidate_all();
        self.views.invalidate_all();
        self.access.invalidate_all();
        self.spaces.invalidate_all();
        self.changed.notify_waiters();
    }

    /// Poll the epoch until shutdown; empty the caches whenever it moves.
    pub async fn watch(self, db: DatabaseConnection, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(POLL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = shutdown.cancelled() => return,
            }
            match read_epoch(&db).await {
                Ok(now) => {
                    let before = self.epoch.swap(now, Ordering::AcqRel);
                    // The first reading is a baseline, not a change.
                    if before != now && before != i64::MIN {
                        self.clear();
                    }
                }
                // Unknown state: trust nothing cached until the database answers again.
                Err(err) => {
                    tracing::warn!(error = %err, "reading the cache epoch failed");
                    self.clear();
                }
            }
        }
    }
}

async fn read_epoch(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT value FROM cache_epoch WHERE id = 1",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "value"))
        .transpose()?
        .unwrap_or(0))
}

impl Caches {
    /// Something changed on this node: no space read before now may be shown again.
    pub fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// A person by id, from the cache or the database.
    pub async fn person(
        &self,
        db: &impl ConnectionTrait,
        id: &str,
    ) -> Result<Option<Arc<person::Model>>, DbErr> {
        use sea_orm::EntityTrait;
        if let Some(found) = self.people.get(id) {
            return Ok(Some(found));
        }
        let found = person::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?
            .map(Arc::new);
        if let Some(p) = &found {
            self.people.insert(p.id.clone(), p.clone());
        }
        Ok(found)
    }
}

/// Tell every node to drop what it has cached; call inside the transaction of the change.
pub async fn bump(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_raw(bump_statement(db.get_database_backend()))
        .await?;
    Ok(())
}

/// The statement of [`bump`], for a writer that runs it itself.
pub fn bump_statement(backend: DbBackend) -> Statement {
    Statement::from_string(
        backend,
        "UPDATE cache_epoch SET value = value + 1 WHERE id = 1",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_forgets_after_its_time_and_when_told() {
        let memo: Memo<(String, String), u32> = Memo::new(100, Duration::from_millis(50));
        memo.insert(("c1".into(), "p1".into()), 1);
        memo.insert(("c1".into(), "p2".into()), 2);
        assert_eq!(memo.get(&("c1".to_owned(), "p1".to_owned())), Some(1));
        memo.invalidate(&("c1".to_owned(), "p1".to_owned()));
        assert_eq!(memo.get(&("c1".to_owned(), "p1".to_owned())), None);
        assert_eq!(memo.get(&("c1".to_owned(), "p2".to_owned())), Some(2));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            memo.get(&("c1".to_owned(), "p2".to_owned())),
            None,
            "expired"
        );

        let names: Memo<String, &str> = Memo::new(100, TTL);
        names.insert("p1".into(), "王小明");
        assert_eq!(names.get("p1"), Some("王小明"), "looked up by &str");
        names.invalidate_all();
        assert_eq!(names.get("p1"), None);
    }
}
