//! Home-school messaging (家校互动): class notices with confirmations, 1:1 and class-teacher
//! conversations, delivered live over `/ws` and never lost.
//!
//! Store, then notify: every message, notice and receipt is committed (by the group-commit
//! [`committer`]) before the per-node [`hub`] tells any socket, and other nodes hear of it
//! through PostgreSQL `NOTIFY` ([`deliver`]). A reconnecting client catches up from the
//! database by sequence number. Quiet hours hold messages to families until morning.

pub mod attachments;
pub mod audience;
pub mod committer;
pub mod confirmations;
pub mod contacts;
pub mod conversations;
pub mod deliver;
pub mod entity;
pub mod hub;
pub mod limits;
pub mod messages;
pub mod notices;
pub mod pages;
pub mod protocol;
pub mod quiet;
pub mod release;
pub mod routes;
pub mod settings;
pub mod socket;
pub mod store;
mod store_sqlite;
pub mod views;
pub mod ws;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

pub use quiet::QuietHours;
pub use routes::router;

use crate::cache::Memo;
use crate::state::AppState;

/// How long roster-derived answers are kept when no change empties them sooner.
const ROSTER_TTL: Duration = Duration::from_secs(600);

/// How many jobs may wait for the committer before senders wait too.
const JOB_QUEUE: usize = 16_384;

/// This node's messaging machinery.
pub struct Messaging {
    pub hub: Arc<hub::Hub>,
    /// Distinguishes this node's events from other nodes' on the shared channel.
    pub node_id: String,
    pub(crate) jobs: mpsc::Sender<committer::Job>,
    /// The delivery lanes (see `deliver::publish`).
    pub(crate) deliveries: Box<[mpsc::UnboundedSender<Vec<deliver::Delivery>>]>,
    /// Taken by [`start`].
    receivers: Mutex<Option<Receivers>>,
    pub(crate) limits: limits::Buckets,
    /// Conversation id → member ids.
    pub(crate) members: Memo<String, Arc<Vec<String>>>,
    /// "conversation:sender" → the school whose quiet hours apply to what the sender writes
    /// there (None: no family to protect).
    pub(crate) family: Memo<String, Option<String>>,
    /// (person, notice target) pairs recently found allowed to post notices, with the school
    /// and whether the person administers it.
    pub(crate) posters: Memo<(String, String), (String, bool)>,
    /// (conversation, sender) pairs recently found allowed to send.
    pub(crate) allowed: Memo<(String, String), ()>,
    /// Notice audiences as frames name them ("kind:id:grade" → kind, sourcedId, title).
    pub(crate) labels: Memo<String, protocol::AudienceRef>,
    /// Class sourcedId → the id of the active class it names (None: no such active class).
    pub(crate) classes: Memo<String, Option<String>>,
    /// Resolved notice audiences.
    pub(crate) audiences: Memo<String, Arc<audience::Audience>>,
    /// School id → quiet hours.
    pub(crate) quiet: Memo<String, QuietHours>,
    /// Person id → how frames name them (sourcedId and name).
    pub(crate) names: Memo<String, protocol::PersonRef>,
    /// Everyone who chose a daily digest (one entry).
    pub(crate) digest: Memo<(), Arc<std::collections::HashSet<String>>>,
}

struct Receivers {
    jobs: mpsc::Receiver<committer::Job>,
    deliveries: Vec<mpsc::UnboundedReceiver<Vec<deliver::Delivery>>>,
}

fn short_lived<K, V>(ttl: Duration) -> Memo<K, V>
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    Memo::new(100_000, ttl)
}

impl Default for Messaging {
    fn default() -> Self {
        Self::new()
    }
}

impl Messaging {
    pub fn new() -> Self {
        let (jobs, jobs_rx) = mpsc::channel(JOB_QUEUE);
        let (deliveries, deliveries_rx): (Vec<_>, Vec<_>) = (0..deliver::lanes())
            .map(|_| mpsc::unbounded_channel())
            .unzip();
        Messaging {
            hub: Arc::new(hub::Hub::default()),
            node_id: uuid::Uuid::new_v4().to_string(),
            jobs,
            deliveries: deliveries.into(),
            receivers: Mutex::new(Some(Receivers {
                jobs: jobs_rx,
                deliveries: deliveries_rx,
            })),
            limits: limits::buckets(),
            // What the roster decides is emptied whenever the roster changes (see `clear`, called
            // on every cache epoch); the long lifetime is only a safety net. Re-deciding it every
            // few seconds for every pair of 10,000 people cost more than the messages did.
            members: short_lived(ROSTER_TTL),
            allowed: short_lived(ROSTER_TTL),
            family: short_lived(ROSTER_TTL),
            posters: short_lived(ROSTER_TTL),
            classes: short_lived(ROSTER_TTL),
            audiences: short_lived(ROSTER_TTL),
            labels: short_lived(ROSTER_TTL),
            names: short_lived(ROSTER_TTL),
            quiet: short_lived(crate::cache::TTL),
            digest: short_lived(crate::cache::TTL),
        }
    }

    /// Forget what the roster may have changed (called with the other caches).
    pub fn clear(&self) {
        self.allowed.invalidate_all();
        self.audiences.invalidate_all();
        self.classes.invalidate_all();
        self.family.invalidate_all();
        self.labels.invalidate_all();
        self.names.invalidate_all();
        self.posters.invalidate_all();
    }
}

/// Start this node's committer, delivery task, cross-node listener, releaser and retirement
/// watcher (once; later calls do nothing). They stop with `state.shutdown`, and the sockets
/// are closed then.
pub fn start(state: &AppState) {
    let Some(receivers) = state
        .messaging
        .receivers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    else {
        return;
    };
    committer::start(state, receivers.jobs);
    for lane in receivers.deliveries {
        tokio::spawn(deliver::run(state.clone(), lane));
    }
    tokio::spawn(deliver::listen(state.clone()));
    tokio::spawn(release::run(state.clone()));
    tokio::spawn(release::close_retired(state.clone()));
    tokio::spawn(
        state
            .messaging
            .hub
            .clone()
            .heartbeat(state.config.heartbeat, state.shutdown.clone()),
    );
    // One waiter on the shutdown token for all sockets (each socket waiting on it was a lock
    // on the token per frame): when the node stops, the hub closes them.
    let (shutdown, hub) = (state.shutdown.clone(), state.messaging.hub.clone());
    tokio::spawn(async move {
        shutdown.cancelled().await;
        hub.close(hub::CLOSE_GOING_AWAY);
    });
}
