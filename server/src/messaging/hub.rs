//! The per-node hub: which people have live sockets on this node.
//!
//! Publishing never waits: the hub writes each frame straight into the person's sockets (see
//! `socket.rs`); a socket that cannot keep up is closed and dropped from the hub, and its
//! client reconnects and catches up from the database. Frames are encoded once and shared.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Utf8Bytes, WebSocket};

use super::socket::Socket;

/// Close codes (4000–4999 are the application's, see docs/realtime.md).
pub const CLOSE_RETIRED: u16 = 4001;
/// Every session and token of the person was ended.
pub const CLOSE_SIGNED_OUT: u16 = 4003;
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// Silent for three heartbeats (not even a pong): the peer is taken for dead.
pub const CLOSE_NO_HEARTBEAT: u16 = 1008;
/// The node may have missed events (its link to the other nodes dropped): resume.
pub const CLOSE_RESUME: u16 = 4012;
/// The server is stopping.
pub const CLOSE_GOING_AWAY: u16 = 1001;

const SHARDS: usize = 32;

/// What a socket is sent.
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

struct Conn {
    id: u64,
    socket: Arc<Socket>,
}

#[derive(Default)]
struct Shard {
    /// Most people have one socket: a one-element Vec (not the four slots a first push makes).
    /// The key is shared with each socket's `Registration`.
    people: HashMap<Arc<str>, Vec<Conn>>,
}

pub struct Hub {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    next_id: AtomicU64,
    /// Set when the node stops: sockets that register afterwards are closed at once.
    closed: AtomicU16,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            next_id: AtomicU64::new(1),
            closed: AtomicU16::new(0),
        }
    }
}

/// A socket's place in the hub; dropping it unregisters the socket.
pub struct Registration {
    hub: Arc<Hub>,
    person_id: Arc<str>,
    /// The socket's number on this node.
    pub id: u64,
    pub socket: Arc<Socket>,
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

    /// Add `ws` as a socket of `person_id`.
    pub fn register(self: &Arc<Self>, person_id: &str, ws: WebSocket) -> Registration {
        let socket = Socket::new(ws);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Conn {
            id,
            socket: socket.clone(),
        };
        let key = {
            let mut shard = self.lock(person_id);
            let key: Arc<str> = match shard.people.get_key_value(person_id) {
                Some((key, _)) => key.clone(),
                None => Arc::from(person_id),
            };
            match shard.people.get_mut(person_id) {
                Some(conns) => conns.push(conn),
                None => {
                    shard.people.insert(key.clone(), vec![conn]);
                }
            }
            key
        };
        // Checked after inserting: a node that stops meanwhile closes this socket either way.
        let closed = self.closed.load(Ordering::Acquire);
        if closed != 0 {
            socket.close(closed);
        }
        Registration {
            hub: self.clone(),
            person_id: key,
            id,
            socket,
        }
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

    /// Write `frame` to every socket of `person_id`; returns how many took it. A socket that
    /// refuses (too slow, or gone) leaves the hub; its task closes it.
    pub fn send(&self, person_id: &str, frame: &Outbound) -> usize {
        self.send_with(person_id, || frame.clone())
    }

    /// Like [`Hub::send`], but not to the socket `except` (the one a send or a receipt came
    /// through, which has its answer).
    pub fn send_except(&self, person_id: &str, frame: &Outbound, except: Option<u64>) -> usize {
        self.write(person_id, || frame.clone(), except)
    }

    /// Like [`Hub::send_except`], building the frame only when a socket will take it (a
    /// sender's own copy of a message, which their other devices need and the device it came
    /// from does not).
    pub fn send_except_with(
        &self,
        person_id: &str,
        make: impl FnOnce() -> Outbound,
        except: Option<u64>,
    ) -> usize {
        self.write(person_id, make, except)
    }

    /// Write the frame `make` builds to every socket of `person_id`, building it only when
    /// they have one; returns how many took it.
    pub fn send_with(&self, person_id: &str, make: impl FnOnce() -> Outbound) -> usize {
        self.write(person_id, make, None)
    }

    fn write(
        &self,
        person_id: &str,
        make: impl FnOnce() -> Outbound,
        except: Option<u64>,
    ) -> usize {
        let mut shard = self.lock(person_id);
        let Some(conns) = shard.people.get_mut(person_id) else {
            return 0;
        };
        if conns.iter().all(|conn| Some(conn.id) == except) {
            return 0;
        }
        let frame = make();
        let mut delivered = 0;
        conns.retain(|conn| {
            if Some(conn.id) == except {
                return true;
            }
            let kept = conn.socket.deliver(&frame);
            delivered += usize::from(kept);
            kept
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
                    .map(|key| key.to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Drop every socket of `person_id`, telling each why (a close code).
    pub fn disconnect(&self, person_id: &str, code: u16) {
        if let Some(conns) = self.lock(person_id).people.remove(person_id) {
            for conn in conns {
                conn.socket.close(code);
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
                conn.socket.close(code);
            }
        }
    }

    /// The node is stopping: close every socket, and any that registers from now on.
    pub fn close(&self, code: u16) {
        self.closed.store(code, Ordering::Release);
        self.disconnect_all(code);
    }

    /// Heartbeats, until `shutdown`: every `every`, each socket is pinged, and one silent
    /// for three heartbeats is closed (`CLOSE_NO_HEARTBEAT`). One task for the node, not a
    /// timer per socket (a timer is memory every idle socket carries); it takes one shard
    /// per step, so that the pings go out spread over the interval, not in one burst.
    pub async fn heartbeat(
        self: Arc<Self>,
        every: std::time::Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let step = (every / SHARDS as u32).max(std::time::Duration::from_millis(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + step, step);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for shard in (0..SHARDS).cycle() {
            tokio::select! {
                _ = ticks.tick() => {}
                () = shutdown.cancelled() => return,
            }
            // Pinged outside the shard's lock: deliveries to the shard do not wait for it.
            let sockets: Vec<Arc<Socket>> = self.shards[shard]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .people
                .values()
                .flatten()
                .map(|conn| conn.socket.clone())
                .collect();
            for socket in sockets {
                socket.heartbeat(every * 3);
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
