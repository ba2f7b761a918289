//! Telling the sockets, after the commit: on this node through the hub, on the others through
//! PostgreSQL `NOTIFY` (sent inside the committing transaction, so PostgreSQL delivers it only if
//! the commit succeeds). Deliveries go out on a few lanes, one task each, so that one core's
//! worth of socket writes does not hold back the rest; a conversation (or a notice) always
//! takes the same lane, which delivers in commit order, so its messages reach each socket in
//! `seq` order.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::committer::Origin;
use super::entity::{message, notice};
use super::hub::Outbound;
use super::protocol::{NoticeView, ServerFrame};
use super::{audience, views};
use crate::state::AppState;

/// The channel PostgreSQL carries events between nodes on.
pub const CHANNEL: &str = "kongjian_events";
/// NOTIFY payloads must stay under 8,000 bytes.
const MAX_PAYLOAD: usize = 7_000;

/// Something committed that sockets should hear about.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A delivered message (it has its `seq`): to every member's sockets but the one it was
    /// sent through (answered with `sent` already).
    Message(message::Model, Origin),
    /// A message quiet hours hold: to its sender's devices only.
    Held(message::Model),
    /// An edit or a recall: to every member.
    Updated(message::Model),
    Notice(notice::Model),
    Reminder(notice::Model),
    /// To every member's sockets but the one it came through.
    Receipt {
        conversation: String,
        person: String,
        delivered: i64,
        read: i64,
        origin: Origin,
    },
    /// The daily digest of one person who chose it.
    Digest(String),
    NoticeReceipt {
        notice: String,
        /// The notice's sender (ids, not sourcedIds).
        sender: String,
        person: String,
        student: Option<String>,
        read: bool,
        confirmed: bool,
    },
}

/// A delivery by reference, as it travels between nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Event {
    Message {
        id: String,
    },
    Held {
        id: String,
    },
    Updated {
        id: String,
    },
    Notice {
        id: String,
    },
    Reminder {
        id: String,
    },
    Receipt {
        conversation: String,
        person: String,
        delivered: i64,
        read: i64,
    },
    Digest {
        person: String,
    },
    NoticeReceipt {
        notice: String,
        sender: String,
        person: String,
        student: Option<String>,
        read: bool,
        confirmed: bool,
    },
}

impl Delivery {
    /// What orders this delivery: those with the same key take the same lane.
    fn key(&self) -> &str {
        match self {
            Delivery::Message(m, _) | Delivery::Held(m) | Delivery::Updated(m) => {
                &m.conversation_id
            }
            Delivery::Notice(n) | Delivery::Reminder(n) => &n.id,
            Delivery::Receipt { conversation, .. } => conversation,
            Delivery::Digest(person) => person,
            Delivery::NoticeReceipt { notice, .. } => notice,
        }
    }

    fn event(&self) -> Event {
        match self {
            Delivery::Message(m, _) => Event::Message { id: m.id.clone() },
            Delivery::Held(m) => Event::Held { id: m.id.clone() },
            Delivery::Updated(m) => Event::Updated { id: m.id.clone() },
            Delivery::Notice(n) => Event::Notice { id: n.id.clone() },
            Delivery::Reminder(n) => Event::Reminder { id: n.id.clone() },
            Delivery::Digest(person) => Event::Digest {
                person: person.clone(),
            },
            Delivery::Receipt {
                conversation,
                person,
                delivered,
                read,
                ..
            } => Event::Receipt {
                conversation: conversation.clone(),
                person: person.clone(),
                delivered: *delivered,
                read: *read,
            },
            Delivery::NoticeReceipt {
                notice,
                sender,
                person,
                student,
                read,
                confirmed,
            } => Event::NoticeReceipt {
                notice: notice.clone(),
                sender: sender.clone(),
                person: person.clone(),
                student: student.clone(),
                read: *read,
                confirmed: *confirmed,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The node that committed (it has delivered locally already).
    node: String,
    events: Vec<Event>,
}

/// How many delivery lanes a node runs: one per core, at most eight.
pub fn lanes() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Queue deliveries for this node's sockets (in order within each conversation or notice).
pub fn publish(state: &AppState, deliveries: Vec<Delivery>) {
    let lanes = &state.messaging.deliveries;
    if deliveries.is_empty() || lanes.is_empty() {
        return;
    }
    if lanes.len() == 1 {
        let _ = lanes[0].send(deliveries);
        return;
    }
    let mut split: Vec<Vec<Delivery>> = lanes.iter().map(|_| Vec::new()).collect();
    for delivery in deliveries {
        let lane = xxhash_rust::xxh3::xxh3_64(delivery.key().as_bytes()) % lanes.len() as u64;
        split[lane as usize].push(delivery);
    }
    for (lane, batch) in lanes.iter().zip(split) {
        if !batch.is_empty() {
            let _ = lane.send(batch);
        }
    }
}

/// Inside the committing transaction on PostgreSQL: tell the other nodes.
pub async fn notify_other_nodes(
    state: &AppState,
    txn: &impl ConnectionTrait,
    deliveries: &[Delivery],
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres || deliveries.is_empty() {
        return Ok(());
    }
    let mut events: Vec<Event> = deliveries.iter().map(Delivery::event).collect();
    while !events.is_empty() {
        // Fill a payload up to the limit (events are small: ids and numbers).
        let mut take = events.len();
        let payload = loop {
            let envelope = Envelope {
                node: state.messaging.node_id.clone(),
                events: events.drain(..take).collect(),
            };
            let text =
                serde_json::to_string(&envelope).map_err(|e| DbErr::Custom(e.to_string()))?;
            if text.len() <= MAX_PAYLOAD || take == 1 {
                break text;
            }
            // Too big: put them back and try half as many.
            let mut back = envelope.events;
            back.append(&mut events);
            events = back;
            take = take.div_ceil(2);
        };
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Deliver one lane's deliveries to this node's sockets until shutdown.
pub async fn run(state: AppState, mut queue: mpsc::UnboundedReceiver<Vec<Delivery>>) {
    loop {
        let batch = tokio::select! {
            batch = queue.recv() => batch,
            () = state.shutdown.cancelled() => None,
        };
        let Some(batch) = batch else { return };
        for delivery in batch {
            if let Err(err) = deliver(&state, delivery).await {
                tracing::warn!(error = %err, "delivering to sockets failed");
            }
        }
    }
}

async fn deliver(state: &AppState, delivery: Delivery) -> Result<(), DbErr> {
    let hub = &state.messaging.hub;
    match delivery {
        Delivery::Message(m, origin) => message_to_members(state, &m, false, origin).await?,
        Delivery::Updated(m) => message_to_members(state, &m, true, None).await?,
        Delivery::Held(m) => {
            let view = views::message(state, &m, true).await?;
            let frame = ServerFrame::Message(&view).encode();
            hub.send(&m.sender_id, &Outbound::Frame(frame));
        }
        Delivery::Notice(n) => notice_to_audience(state, &n).await?,
        Delivery::Digest(person) => {
            if !hub.is_connected(&person) {
                return Ok(());
            }
            let Some(who) = state.caches.person(&state.db, &person).await? else {
                return Ok(());
            };
            let unread = super::ws::unread(state, &who).await?;
            let notices: Vec<super::protocol::DigestNotice> = super::notices::unread(state, &who)
                .await?
                .into_iter()
                .map(|n| super::protocol::DigestNotice {
                    id: n.id,
                    title: n.title,
                    requires_confirmation: n.requires_confirmation,
                })
                .collect();
            let frame = ServerFrame::Digest {
                unread: &unread,
                notices: &notices,
            }
            .encode();
            hub.send(&person, &Outbound::Frame(frame));
        }
        Delivery::Reminder(n) => {
            let frame = ServerFrame::NoticeReminder {
                id: &n.id,
                title: &n.title,
            }
            .encode();
            let pending = super::confirmations::unconfirmed_guardians(state, &n).await?;
            let out = Outbound::Frame(frame);
            for guardian in pending {
                hub.send(&guardian, &out);
            }
        }
        Delivery::Receipt {
            conversation,
            person,
            delivered,
            read,
            origin,
        } => {
            let members = super::conversations::members(state, &conversation).await?;
            let who = views::sender(state, &person).await?;
            let frame = Outbound::Frame(
                ServerFrame::Receipt {
                    conversation: &conversation,
                    person: &who.sourced_id,
                    delivered,
                    read,
                }
                .encode(),
            );
            // Socket numbers are unique on the node: only the receipt's own socket is skipped.
            for member in members.iter() {
                hub.send_except(member, &frame, origin);
            }
        }
        Delivery::NoticeReceipt {
            notice,
            sender,
            person,
            student,
            read,
            confirmed,
        } => {
            let who = views::sender(state, &person).await?;
            let student_ref = match &student {
                Some(id) => Some(views::sender(state, id).await?.sourced_id),
                None => None,
            };
            let frame = Outbound::Frame(
                ServerFrame::NoticeReceipt {
                    notice: &notice,
                    person: &who.sourced_id,
                    student: student_ref.as_deref(),
                    read,
                    confirmed,
                }
                .encode(),
            );
            hub.send(&sender, &frame);
            if sender != person {
                hub.send(&person, &frame);
            }
        }
    }
    Ok(())
}

async fn message_to_members(
    state: &AppState,
    m: &message::Model,
    updated: bool,
    origin: Origin,
) -> Result<(), DbErr> {
    let Some(seq) = m.seq else { return Ok(()) };
    let members = super::conversations::members(state, &m.conversation_id).await?;
    let view = views::message(state, m, false).await?;
    let encode = |view: &super::protocol::MessageView| {
        if updated {
            ServerFrame::MessageUpdated(view).encode()
        } else {
            ServerFrame::Message(view).encode()
        }
    };
    let conversation: Arc<str> = Arc::from(m.conversation_id.as_str());
    let outbound = |frame| {
        if updated {
            // An edit is a new version of a seq the socket already has: never deduplicated.
            Outbound::Frame(frame)
        } else {
            Outbound::Message {
                conversation: conversation.clone(),
                seq,
                frame,
            }
        }
    };
    let others = outbound(encode(&view));
    // The sender's other devices also get the nonce, to match their pending send (made only
    // when the sender has another device here: the one it came from has its answer).
    let own = || {
        let mut own_view = view.clone();
        own_view.nonce = Some(m.nonce.clone());
        outbound(encode(&own_view))
    };
    let hub = &state.messaging.hub;
    for member in members.iter().filter(|id| **id != m.sender_id) {
        hub.send(member, &others);
    }
    if members.contains(&m.sender_id) {
        hub.send_except_with(&m.sender_id, own, origin);
    }
    Ok(())
}

async fn notice_to_audience(state: &AppState, n: &notice::Model) -> Result<(), DbErr> {
    let target =
        audience::Target::from_stored(&n.audience_kind, &n.audience_id, n.grade.as_deref());
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target).await?;
    let view: NoticeView = views::notice(state, n, Vec::new(), false).await?;
    // Everything but the children is the same for every recipient: encode it once and splice
    // each parent's children in.
    let whole = ServerFrame::Notice(&view).encode();
    let Some((head, tail)) = whole.as_str().rsplit_once(r#""children":[]"#) else {
        return Ok(());
    };
    let hub = &state.messaging.hub;
    // An urgent notice goes live to everyone.
    let digest = if n.urgent {
        Default::default()
    } else {
        super::settings::digest_choosers(state).await?
    };
    for (guardian, _) in audience.guardians.iter() {
        if digest.contains(guardian) {
            continue;
        }
        // Built only for a parent with a socket here.
        hub.send_with(guardian, || {
            let children: Vec<super::protocol::ChildState> = audience
                .children_of(guardian)
                .map(|p| super::protocol::ChildState {
                    sourced_id: p.sourced_id.clone(),
                    name: p.name.clone(),
                    confirmed: false,
                })
                .collect();
            let children = serde_json::to_string(&children).unwrap_or_else(|_| "[]".to_owned());
            let mut text = String::with_capacity(head.len() + children.len() + tail.len() + 12);
            text.push_str(head);
            text.push_str(r#""children":"#);
            text.push_str(&children);
            text.push_str(tail);
            Outbound::Frame(text.into())
        });
    }
    let plain = Outbound::Frame(whole.clone());
    if n.include_students {
        for pupil in &audience.pupils {
            if !digest.contains(&pupil.id) {
                hub.send(&pupil.id, &plain);
            }
        }
    }
    hub.send(&n.sender_id, &plain);
    Ok(())
}

/// On PostgreSQL: listen for the other nodes' events and deliver them here, until shutdown.
pub async fn listen(state: AppState) {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    // A connection of its own, not one of the pool's: a listener holds it for the life of the
    // node, and closing the pool must not wait for it.
    let url = state.config.database_url.clone();
    let mut listener = loop {
        match sea_orm::sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => break listener,
                Err(err) => tracing::warn!(error = %err, "LISTEN failed; retrying"),
            },
            Err(err) => tracing::warn!(error = %err, "connecting the event listener failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            () = state.shutdown.cancelled() => return,
        }
    };
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            () = state.shutdown.cancelled() => return,
        };
        match received {
            Ok(Some(notification)) => {
                if let Err(err) = from_other_node(&state, notification.payload()).await {
                    tracing::warn!(error = %err, "an event from another node could not be delivered");
                }
            }
            // The connection dropped and was re-established: events in between are lost, so
            // every socket here reconnects and catches up from the database.
            Ok(None) => {
                tracing::warn!("the event listener reconnected; asking sockets to resume");
                state.messaging.hub.disconnect_all(super::hub::CLOSE_RESUME);
            }
            Err(err) => {
                tracing::warn!(error = %err, "the event listener failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

async fn from_other_node(state: &AppState, payload: &str) -> Result<(), DbErr> {
    let envelope: Envelope =
        serde_json::from_str(payload).map_err(|e| DbErr::Custom(format!("bad event: {e}")))?;
    if envelope.node == state.messaging.node_id {
        return Ok(());
    }
    let mut deliveries = Vec::with_capacity(envelope.events.len());
    for event in envelope.events {
        let delivery = match event {
            Event::Message { id } => message::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .map(|m| Delivery::Message(m, None)),
            Event::Held { id } => message::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .map(Delivery::Held),
            Event::Updated { id } => {
                let found = message::Entity::find_by_id(id).one(&state.db).await?;
                found.map(Delivery::Updated)
            }
            Event::Notice { id } => notice::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .map(Delivery::Notice),
            Event::Reminder { id } => notice::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .map(Delivery::Reminder),
            Event::Digest { person } => Some(Delivery::Digest(person)),
            Event::Receipt {
                conversation,
                person,
                delivered,
                read,
            } => Some(Delivery::Receipt {
                conversation,
                person,
                delivered,
                read,
                origin: None,
            }),
            Event::NoticeReceipt {
                notice,
                sender,
                person,
                student,
                read,
                confirmed,
            } => Some(Delivery::NoticeReceipt {
                notice,
                sender,
                person,
                student,
                read,
                confirmed,
            }),
        };
        deliveries.extend(delivery);
    }
    publish(state, deliveries);
    Ok(())
}
