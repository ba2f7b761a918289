//! The per-node hub: which people have live sockets on this node, and a bounded queue to each.
//!
//! Publishing never waits: a frame goes into each socket's queue with `try_send`, and a socket
//! whose queue is full is dropped from the hub (its task closes it as too slow); the client
//! reconnects and catches up from the database. Frames are encoded once and shared.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

/// Frames a socket may have waiting before it counts as too slow.
pub const QUEUE: usize = 256;

/// Close codes (4000–4999 are the application's, see docs/realtime.md).
pub const CLOSE_RETIRED: u16 = 4001;
/// Every session and token of the person was ended.
pub const CLOSE_SIGNED_OUT: u16 = 4003;
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// The node may have missed events (its link to the other nodes dropped): resume.
pub const CLOSE_RESUME: u16 = 4012;

const SHARDS: usize = 32;

/// What a socket's writer receives.
#[derive(Debug, Clone)]
pub enum Outbound {
    Frame(Utf8Bytes),
    /// A conversation message: the socket skips it when it already sent this `seq` (a live
    /// message can race the catch-up that also contains it).
    Message {
        conversation: Arc<str>,
        seq: i64,
        frame: Utf8Bytes,
    },
}

/// What a socket's queue holds: one pointer per slot (a queue's first block of slots is
/// allocated with it, so a small slot keeps an idle socket small).
pub type Queued = Arc<Outbound>;

struct Conn {
    id: u64,
    tx: mpsc::Sender<Queued>,
    /// Set by the hub when it drops the socket: why (a close code).
    closing: Arc<AtomicU16>,
}

#[derive(Default)]
struct Shard {
    people: HashMap<String, Vec<Conn>>,
}

pub struct Hub {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    next_id: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            next_id: AtomicU64::new(1),
        }
    }
}

/// A socket's place in the hub; dropping it unregisters the socket.
pub struct Registration {
    hub: Arc<Hub>,
    person_id: String,
    id: u64,
    pub closing: Arc<AtomicU16>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.remove(&self.person_id, self.id);
    }
}

impl Hub {
    fn shard(&self, person_id: &str) -> &Mutex<Shard> {
        let index = self.hasher.hash_one(person_id) as usize % SHARDS;
        &self.shards[index]
    }

    fn lock(&self, person_id: &str) -> std::sync::MutexGuard<'_, Shard> {
        // A panic while holding the lock leaves the map consistent (each step is one insert or
        // remove), so a poisoned lock is safe to keep using.
        self.shard(person_id)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Add a socket for `person_id`; frames for them arrive on the returned receiver.
    pub fn register(self: &Arc<Self>, person_id: &str) -> (Registration, mpsc::Receiver<Queued>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let closing = Arc::new(AtomicU16::new(0));
        self.lock(person_id)
            .people
            .entry(person_id.to_owned())
            .or_default()
            .push(Conn {
                id,
                tx,
                closing: closing.clone(),
            });
        let registration = Registration {
            hub: self.clone(),
            person_id: person_id.to_owned(),
            id,
            closing,
        };
        (registration, rx)
    }

    fn remove(&self, person_id: &str, id: u64) {
        let mut shard = self.lock(person_id);
        if let Some(conns) = shard.people.get_mut(person_id) {
            conns.retain(|c| c.id != id);
            if conns.is_empty() {
                shard.people.remove(person_id);
            }
        }
    }

    /// Queue `frame` for every socket of `person_id`; returns how many sockets took it.
    pub fn send(&self, person_id: &str, frame: &Outbound) -> usize {
        let mut shard = self.lock(person_id);
        let Some(conns) = shard.people.get_mut(person_id) else {
            return 0;
        };
        let mut delivered = 0;
        let shared = Arc::new(frame.clone());
        conns.retain(|conn| match conn.tx.try_send(shared.clone()) {
            Ok(()) => {
                delivered += 1;
                true
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                conn.closing.store(CLOSE_TOO_SLOW, Ordering::Release);
                false
            }
            // The socket is gone; its registration will remove it too.
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if conns.is_empty() {
            shard.people.remove(person_id);
        }
        delivered
    }

    /// Whether `person_id` has a socket on this node.
    pub fn is_connected(&self, person_id: &str) -> bool {
        self.lock(person_id).people.contains_key(person_id)
    }

    /// Everyone with a socket on this node.
    pub fn connected(&self) -> Vec<String> {
        self.shards
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .people
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Drop every socket of `person_id`, telling each why (a close code).
    pub fn disconnect(&self, person_id: &str, code: u16) {
        if let Some(conns) = self.lock(person_id).people.remove(person_id) {
            for conn in conns {
                conn.closing.store(code, Ordering::Release);
            }
        }
    }

    /// Drop every socket on this node (each client reconnects and resumes).
    pub fn disconnect_all(&self, code: u16) {
        for shard in self.shards.iter() {
            let drained: Vec<Vec<Conn>> = shard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .people
                .drain()
                .map(|(_, conns)| conns)
                .collect();
            for conn in drained.into_iter().flatten() {
                conn.closing.store(code, Ordering::Release);
            }
        }
    }

    /// Live sockets on this node.
    pub fn sockets(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .people
                    .values()
                    .map(Vec::len)
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Outbound {
        Outbound::Frame(Utf8Bytes::from(text.to_owned()))
    }

    #[tokio::test]
    async fn frames_reach_every_socket_of_the_person() {
        let hub = Arc::new(Hub::default());
        let (_a, mut rx_a) = hub.register("p1");
        let (_b, mut rx_b) = hub.register("p1");
        assert_eq!(hub.send("p1", &frame("x")), 2);
        assert!(rx_a.recv().await.is_some());
        assert!(rx_b.recv().await.is_some());
        assert_eq!(hub.send("p2", &frame("x")), 0);
    }

    #[tokio::test]
    async fn a_dropped_registration_leaves_the_hub() {
        let hub = Arc::new(Hub::default());
        let (reg, _rx) = hub.register("p1");
        assert!(hub.is_connected("p1"));
        drop(reg);
        assert!(!hub.is_connected("p1"));
        assert_eq!(hub.sockets(), 0);
    }

    #[tokio::test]
    async fn a_slow_socket_is_dropped_without_stalling_others() {
        let hub = Arc::new(Hub::default());
        let (slow, _slow_rx) = hub.register("p1");
        let (_fast, mut fast_rx) = hub.register("p1");
        for _ in 0..QUEUE {
            hub.send("p1", &frame("x"));
            assert!(fast_rx.recv().await.is_some());
        }
        // The slow socket's queue is full now; the next frame drops it, the fast one gets it.
        assert_eq!(hub.send("p1", &frame("y")), 1);
        assert_eq!(slow.closing.load(Ordering::Acquire), CLOSE_TOO_SLOW);
        assert_eq!(hub.sockets(), 1);
    }

    #[tokio::test]
    async fn disconnect_names_the_reason() {
        let hub = Arc::new(Hub::default());
        let (reg, _rx) = hub.register("p1");
        hub.disconnect("p1", CLOSE_RETIRED);
        assert_eq!(reg.closing.load(Ordering::Acquire), CLOSE_RETIRED);
        assert!(!hub.is_connected("p1"));
    }
}
