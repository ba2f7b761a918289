//! Group commit: every message, notice and receipt a node accepts goes through one task that
//! takes whatever has queued up since its last commit and writes it all in one transaction
//! (a few hundred messages cost about one commit, not one each), then answers the senders and
//! tells the sockets. Store, then notify: nothing is published before the commit returns.
//! The batch's logic is written once against `store::Store`: sea-orm on PostgreSQL, the
//! committer's own rusqlite connection on an SQLite file (`store_sqlite`).
//!
//! Sequence numbers are taken inside the transaction: on PostgreSQL with `UPDATE conversations
//! SET last_seq = last_seq + n … RETURNING last_seq`, a write that locks the row, so numbers
//! never collide even across nodes; on SQLite under the write lock its `BEGIN IMMEDIATE` took.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::deliver::{self, Delivery};
use super::entity::{message, notice};
use super::store::{self, Orm, Store};
use super::store_sqlite::{self, Writer};
use crate::error::AppError;
use crate::state::AppState;

/// Most jobs taken into one transaction.
const MAX_BATCH: usize = 8192;

pub type Reply<T> = oneshot::Sender<Result<T, AppError>>;

/// The socket a send or a receipt came through (see `hub::Registration::id`): it is answered
/// directly, so its own message or receipt is not echoed back to it.
pub type Origin = Option<u64>;

pub enum Job {
    /// A new message (its `seq` is assigned here unless it is held).
    Send(Box<message::Model>, Origin, Reply<message::Model>),
    /// A new notice.
    Notice(Box<notice::Model>, Reply<notice::Model>),
    /// A held message whose quiet hours are over.
    Release(String),
    /// A member's delivered/read position in a conversation.
    Receipt {
        conversation: String,
        person: String,
        delivered: i64,
        read: i64,
        origin: Origin,
    },
}

/// Queue a job; fails only when the server is shutting down.
pub async fn submit(state: &AppState, job: Job) -> Result<(), AppError> {
    state
        .messaging
        .jobs
        .send(job)
        .await
        .map_err(|_| AppError::new(crate::error::ErrorCode::Unavailable))
}

/// Page cache of the committer's own SQLite connection, KiB.
const CACHE_KIB: u32 = 64 * 1024;
/// The write-ahead log's size, in pages, past which a commit of the committer also folds the
/// log back into the database (SQLite's default is 1,000). The node's checkpointer does that
/// every second (`db::checkpoint_wal`), off the committer's path; under load a batch alone
/// writes more than 1,000 pages, and then every commit also waited for a checkpoint and its
/// two `fsync`s.
const CHECKPOINT_PAGES: u32 = 16_384;

/// Start the committer on a thread of its own, with a runtime of its own.
///
/// Each batch is a dozen round trips to the database, and every one of them wakes the
/// committer again. On the server's runtime that wake-up queued behind the socket tasks that
/// the previous batch had just made busy: under load the committer waited there for longer
/// than the database worked (its SQLite thread was busy 39 % of the time, the batches back to
/// back). On its own thread it runs the moment its answer is there.
///
/// It stops on shutdown, and also when the runtime that started it goes away (a test's), so
/// that no thread outlives the server it belongs to.
pub fn start(state: &AppState, jobs: mpsc::Receiver<Job>) {
    let (alive, owner_gone) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _alive = alive;
        std::future::pending::<()>().await
    });
    // The receivers go to the thread once it runs: if it cannot start, they are still here.
    let (hand_over, handed) = std::sync::mpsc::sync_channel(1);
    let thread_state = state.clone();
    let started = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| {
            std::thread::Builder::new()
                .name("kongjian-committer".to_owned())
                .spawn(move || {
                    if let Ok((jobs, owner_gone)) = handed.recv() {
                        runtime.block_on(run(thread_state, jobs, owner_gone));
                    }
                })
        });
    match started {
        Ok(_) => {
            let _ = hand_over.send((jobs, owner_gone));
        }
        Err(err) => {
            tracing::warn!(error = %err, "the committer's thread failed; it runs on the server's runtime");
            tokio::spawn(run(state.clone(), jobs, owner_gone));
        }
    }
}

/// Take batches until shutdown (or until every sender, or the runtime that started the
/// committer, is gone).
///
/// The committer writes through a connection of its own. On an SQLite file it is a rusqlite
/// connection on this thread (see `store_sqlite`); being the only writer of messages, it also
/// keeps its pages cached (SQLite empties a connection's page cache whenever another
/// connection has written since its last transaction). On PostgreSQL it is a sea-orm
/// connection made on this runtime; SQLite in memory (which another connection would not see)
/// is written through the pool.
async fn run(
    state: AppState,
    mut jobs: mpsc::Receiver<Job>,
    mut owner_gone: oneshot::Receiver<()>,
) {
    let mut writer = crate::db::sqlite_file(&state.db).and_then(|file| {
        Writer::open(&file, CACHE_KIB, CHECKPOINT_PAGES)
            .inspect_err(|err| {
                tracing::warn!(error = %err, "the committer's own SQLite connection failed; using the pool");
            })
            .ok()
    });
    let own = crate::db::dedicated_postgres(&state.db, 1)
        .await
        .unwrap_or_else(|err| {
            tracing::warn!(error = %err, "the committer's own connection failed; using the pool");
            None
        });
    let db = own.as_ref().unwrap_or(&state.db);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            job = jobs.recv() => job,
            () = state.shutdown.cancelled() => None,
            _ = &mut owner_gone => None,
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&state, db, writer.as_mut(), std::mem::take(&mut batch)).await;
    }
    if let Some(own) = own {
        let _ = own.close().await;
    }
}

/// What a batch wrote: the stored model answering each job (by position), and what to
/// publish once committed.
#[derive(Default)]
struct Written {
    answers: Vec<Option<Answer>>,
    deliveries: Vec<Delivery>,
}

enum Answer {
    Message(message::Model),
    Notice(notice::Model),
}

async fn commit_batch(
    state: &AppState,
    db: &DatabaseConnection,
    mut writer: Option<&mut Writer>,
    batch: Vec<Job>,
) {
    let now = state.clock.now();
    // On an SQLite file the committer is the only writer and a retried send is rare: the batch
    // is first written without looking its nonces up. A nonce already stored fails its insert
    // (the unique index), the transaction rolls back, and the batch takes the careful way.
    let mut nonces = if writer.is_some() {
        Nonces::Unchecked
    } else {
        Nonces::LookedUp
    };
    let err = loop {
        match write(state, db, writer.as_deref_mut(), &batch, now, nonces).await {
            Ok(written) => return finish(state, batch, written),
            Err(err) if matches!(nonces, Nonces::Unchecked) => {
                tracing::debug!(error = %err, "batch refused; looking its nonces up");
                nonces = Nonces::LookedUp;
            }
            Err(err) => break err,
        }
    };
    if batch.len() <= 1 {
        return fail(batch, &err);
    }
    // One bad job (a nonce another node stored a moment ago, say) must not fail its neighbours:
    // retry each on its own.
    tracing::debug!(error = %err, "group commit failed; retrying jobs one by one");
    for job in batch {
        let (one, w) = (vec![job], writer.as_deref_mut());
        match write(state, db, w, &one, now, Nonces::LookedUp).await {
            Ok(written) => finish(state, one, written),
            Err(err) => fail(one, &err),
        }
    }
}

fn fail(jobs: Vec<Job>, err: &DbErr) {
    tracing::error!(error = %err, "storing messages failed");
    for job in jobs {
        match job {
            Job::Send(_, _, reply) => {
                let _ = reply.send(Err(AppError::internal(anyhow::anyhow!("{err}"))));
            }
            Job::Notice(_, reply) => {
                let _ = reply.send(Err(AppError::internal(anyhow::anyhow!("{err}"))));
            }
            Job::Release(_) | Job::Receipt { .. } => {}
        }
    }
}

fn finish(state: &AppState, jobs: Vec<Job>, written: Written) {
    for (job, answer) in jobs.into_iter().zip(written.answers) {
        match (job, answer) {
            (Job::Send(_, _, reply), Some(Answer::Message(m))) => {
                let _ = reply.send(Ok(m));
            }
            (Job::Notice(_, reply), Some(Answer::Notice(n))) => {
                let _ = reply.send(Ok(n));
            }
            _ => {}
        }
    }
    deliver::publish(state, written.deliveries);
}

/// Whether a batch on an SQLite file looks up its (sender, nonce) pairs before writing.
#[derive(Clone, Copy)]
enum Nonces {
    /// Replays are answered with what is stored.
    LookedUp,
    /// Nothing is looked up: a replay fails the batch (see `commit_batch`).
    Unchecked,
}

async fn write(
    state: &AppState,
    db: &DatabaseConnection,
    writer: Option<&mut Writer>,
    batch: &[Job],
    now: DateTime<Utc>,
    nonces: Nonces,
) -> Result<Written, DbErr> {
    let Some(writer) = writer else {
        return write_orm(state, db, batch, now).await;
    };
    let started = std::time::Instant::now();
    let existing = match nonces {
        Nonces::LookedUp => stored_sqlite(writer, db, batch).await?,
        Nonces::Unchecked => Existing::new(Vec::new(), Vec::new()),
    };
    let looked = started.elapsed();
    writer.begin()?;
    let mut tx = store_sqlite::Tx {
        writer: &mut *writer,
        read: db,
    };
    let written = write_in(state, &mut tx, batch, &existing, now).await;
    let wrote = started.elapsed();
    match written.and_then(|written| writer.commit().map(|()| written)) {
        Ok(written) => {
            log_timing(batch.len(), looked, wrote, started.elapsed());
            Ok(written)
        }
        Err(err) => {
            writer.rollback();
            Err(err)
        }
    }
}

/// A batch through sea-orm (PostgreSQL, or SQLite in memory).
async fn write_orm(
    state: &AppState,
    db: &DatabaseConnection,
    batch: &[Job],
    now: DateTime<Utc>,
) -> Result<Written, DbErr> {
    // Answer replays from what is stored before anything is written.
    let started = std::time::Instant::now();
    let existing = stored_nonces(db, batch).await?;
    let looked = started.elapsed();
    let txn = db.begin().await?;
    match write_in(state, &mut Orm(&txn), batch, &existing, now).await {
        Ok(written) => {
            let wrote = started.elapsed();
            txn.commit().await?;
            log_timing(batch.len(), looked, wrote, started.elapsed());
            Ok(written)
        }
        Err(err) => {
            let _ = txn.rollback().await;
            Err(err)
        }
    }
}

fn log_timing(
    jobs: usize,
    looked: std::time::Duration,
    wrote: std::time::Duration,
    done: std::time::Duration,
) {
    tracing::debug!(
        jobs,
        nonces_us = looked.as_micros() as u64,
        statements_us = (wrote - looked).as_micros() as u64,
        commit_us = (done - wrote).as_micros() as u64,
        "group commit"
    );
}

/// Messages and notices already stored under a (sender, nonce) in this batch.
struct Existing {
    messages: HashMap<(String, String), message::Model>,
    notices: HashMap<(String, String), notice::Model>,
}

/// The (sender, nonce) keys of the batch's new messages and notices.
type Keys<'a> = Vec<(&'a str, &'a str)>;

fn nonce_keys(batch: &[Job]) -> (Keys<'_>, Keys<'_>) {
    let mut messages = Vec::new();
    let mut notices = Vec::new();
    for job in batch {
        match job {
            Job::Send(m, _, _) => messages.push((m.sender_id.as_str(), m.nonce.as_str())),
            Job::Notice(n, _) => notices.push((n.sender_id.as_str(), n.nonce.as_str())),
            _ => {}
        }
    }
    (messages, notices)
}

impl Existing {
    fn message(&self, (sender, nonce): (&str, &str)) -> Option<&message::Model> {
        if self.messages.is_empty() {
            return None;
        }
        self.messages.get(&(sender.to_owned(), nonce.to_owned()))
    }

    fn notice(&self, (sender, nonce): (&str, &str)) -> Option<&notice::Model> {
        if self.notices.is_empty() {
            return None;
        }
        self.notices.get(&(sender.to_owned(), nonce.to_owned()))
    }

    fn new(messages: Vec<message::Model>, notices: Vec<notice::Model>) -> Existing {
        Existing {
            messages: messages
                .into_iter()
                .map(|m| ((m.sender_id.clone(), m.nonce.clone()), m))
                .collect(),
            notices: notices
                .into_iter()
                .map(|n| ((n.sender_id.clone(), n.nonce.clone()), n))
                .collect(),
        }
    }
}

async fn stored_nonces(db: &DatabaseConnection, batch: &[Job]) -> Result<Existing, DbErr> {
    let (message_keys, notice_keys) = nonce_keys(batch);
    let backend = db.get_database_backend();
    let mut messages = Vec::new();
    for (start, shape) in store::pieces(message_keys.len()) {
        let lookup = store::by_sender_nonce(backend, "messages", &message_keys, start, shape);
        messages.extend(message::Entity::find().from_raw_sql(lookup).all(db).await?);
    }
    let mut notices = Vec::new();
    for (start, shape) in store::pieces(notice_keys.len()) {
        let lookup = store::by_sender_nonce(backend, "notices", &notice_keys, start, shape);
        notices.extend(notice::Entity::find().from_raw_sql(lookup).all(db).await?);
    }
    Ok(Existing::new(messages, notices))
}

/// [`stored_nonces`] on an SQLite file: one index probe per (sender, nonce) on the committer's
/// connection, and only the rows found (a retry's) read whole, through sea-orm.
async fn stored_sqlite(
    writer: &mut Writer,
    db: &DatabaseConnection,
    batch: &[Job],
) -> Result<Existing, DbErr> {
    let (message_keys, notice_keys) = nonce_keys(batch);
    let messages = writer.stored("messages", &message_keys)?;
    let notices = writer.stored("notices", &notice_keys)?;
    Ok(Existing::new(
        store::messages_by_id(db, &messages).await?,
        store::notices_by_id(db, &notices).await?,
    ))
}

async fn write_in(
    state: &AppState,
    store: &mut impl Store,
    batch: &[Job],
    existing: &Existing,
    now: DateTime<Utc>,
) -> Result<Written, DbErr> {
    let mut new_messages: Vec<message::Model> = Vec::new();
    let mut new_origins: Vec<Origin> = Vec::new();
    let mut new_notices: Vec<notice::Model> = Vec::new();
    let mut releases: Vec<String> = Vec::new();
    let mut receipts: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    // Who asked for which receipt, and through which socket (borrowed from the batch).
    let mut receipt_origins: HashMap<(&str, &str), Origin> = HashMap::new();
    // How each job is answered: a replay by what is stored (or by the first job in this batch
    // with the same nonce), a new row by itself once numbered.
    enum Source {
        Stored(Box<Answer>),
        NewMessage(usize),
        NewNotice(usize),
        Nothing,
    }
    let mut seen_messages: HashMap<(&str, &str), usize> = HashMap::new();
    let mut seen_notices: HashMap<(&str, &str), usize> = HashMap::new();
    let mut sources = Vec::with_capacity(batch.len());
    for job in batch {
        let source = match job {
            Job::Send(model, origin, _) => {
                let key = (model.sender_id.as_str(), model.nonce.as_str());
                if let Some(found) = existing.message(key) {
                    Source::Stored(Box::new(Answer::Message(found.clone())))
                } else if let Some(&i) = seen_messages.get(&key) {
                    Source::NewMessage(i)
                } else {
                    seen_messages.insert(key, new_messages.len());
                    new_messages.push((**model).clone());
                    new_origins.push(*origin);
                    Source::NewMessage(new_messages.len() - 1)
                }
            }
            Job::Notice(model, _) => {
                let key = (model.sender_id.as_str(), model.nonce.as_str());
                if let Some(found) = existing.notice(key) {
                    Source::Stored(Box::new(Answer::Notice(found.clone())))
                } else if let Some(&i) = seen_notices.get(&key) {
                    Source::NewNotice(i)
                } else {
                    seen_notices.insert(key, new_notices.len());
                    new_notices.push((**model).clone());
                    Source::NewNotice(new_notices.len() - 1)
                }
            }
            Job::Release(id) => {
                releases.push(id.clone());
                Source::Nothing
            }
            Job::Receipt {
                conversation,
                person,
                delivered,
                read,
                origin,
            } => {
                // Receipts of one person from two sockets go to both.
                receipt_origins
                    .entry((conversation.as_str(), person.as_str()))
                    .and_modify(|o| {
                        if o != origin {
                            *o = None;
                        }
                    })
                    .or_insert(*origin);
                let entry = receipts
                    .entry((conversation.clone(), person.clone()))
                    .or_insert((0, 0));
                entry.0 = entry.0.max(*delivered).max(*read);
                entry.1 = entry.1.max(*read);
                Source::Nothing
            }
        };
        sources.push(source);
    }

    // Held messages being released now, in the order they were sent. Claimed with a
    // conditional UPDATE, so a message two nodes both find due is numbered once.
    let claimed = store.claim(&releases).await?;
    let mut released = store.messages(&claimed).await?;
    released.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));

    // Sequence numbers, one UPDATE per conversation touched.
    let mut per_conversation: BTreeMap<String, i64> = BTreeMap::new();
    for m in new_messages
        .iter()
        .filter(|m| !m.held)
        .chain(released.iter())
    {
        *per_conversation
            .entry(m.conversation_id.clone())
            .or_default() += 1;
    }
    let mut next_seq = store.take_seqs(&per_conversation, now).await?;
    let mut take_seq = |conversation: &str| -> Option<i64> {
        let slot = next_seq.get_mut(conversation)?;
        let seq = *slot;
        *slot += 1;
        Some(seq)
    };
    for m in released.iter_mut() {
        m.seq = take_seq(&m.conversation_id);
        m.held = false;
        m.deliver_at = now;
    }
    for m in new_messages.iter_mut().filter(|m| !m.held) {
        m.seq = take_seq(&m.conversation_id);
    }

    store.insert_messages(&new_messages).await?;
    store.released(&released).await?;
    store.insert_notices(&new_notices).await?;

    // A sender has read their own message. (Only receipts a client sent are announced: that a
    // sender read what they wrote tells nobody anything.)
    for m in new_messages
        .iter()
        .filter(|m| !m.held)
        .chain(released.iter())
    {
        if let Some(seq) = m.seq {
            let entry = receipts
                .entry((m.conversation_id.clone(), m.sender_id.clone()))
                .or_insert((0, 0));
            entry.0 = entry.0.max(seq);
            entry.1 = entry.1.max(seq);
        }
    }
    // A receipt past a conversation's last message counts only up to it. (A conversation
    // numbered in this batch ends where its numbering stopped; the others are looked up.)
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut unknown: Vec<&str> = Vec::new();
    for (conversation, _) in receipts.keys() {
        match next_seq.get(conversation) {
            Some(next) => {
                last.insert(conversation.clone(), next - 1);
            }
            None => unknown.push(conversation),
        }
    }
    unknown.dedup();
    last.extend(store.last_seqs(&unknown).await?);
    for ((conversation, _), (delivered, read)) in receipts.iter_mut() {
        let end = last.get(conversation).copied().unwrap_or(0);
        *delivered = (*delivered).min(end);
        *read = (*read).min(end);
    }
    let receipt_rows: Vec<Delivery> = store
        .advance_receipts(&receipts)
        .await?
        .into_iter()
        .filter_map(|((conversation, person), (delivered, read))| {
            let origin = *receipt_origins.get(&(conversation.as_str(), person.as_str()))?;
            Some(Delivery::Receipt {
                origin,
                conversation,
                person,
                delivered,
                read,
            })
        })
        .collect();

    // Publish: one NOTIFY per event for the other nodes, sent by PostgreSQL only on commit.
    let mut deliveries: Vec<Delivery> = Vec::new();
    for (m, origin) in new_messages.iter().zip(&new_origins) {
        deliveries.push(if m.held {
            Delivery::Held(m.clone())
        } else {
            Delivery::Message(m.clone(), *origin)
        });
    }
    deliveries.extend(released.into_iter().map(|m| Delivery::Message(m, None)));
    deliveries.extend(
        new_notices
            .iter()
            .filter(|n| !n.held)
            .cloned()
            .map(Delivery::Notice),
    );
    deliveries.extend(receipt_rows);
    store.notify(state, &deliveries).await?;

    // Each new message answers its job (and a repeat of its nonce in the same batch): the last
    // answer takes the row, the others copy it.
    let mut answering = vec![0u32; new_messages.len()];
    for source in &sources {
        if let Source::NewMessage(i) = source {
            answering[*i] += 1;
        }
    }
    let mut new_messages: Vec<Option<message::Model>> =
        new_messages.into_iter().map(Some).collect();
    let answers = sources
        .into_iter()
        .map(|source| match source {
            Source::Stored(answer) => Some(*answer),
            Source::NewMessage(i) => {
                answering[i] -= 1;
                let m = if answering[i] == 0 {
                    new_messages[i].take()
                } else {
                    new_messages[i].clone()
                };
                m.map(Answer::Message)
            }
            Source::NewNotice(i) => Some(Answer::Notice(new_notices[i].clone())),
            Source::Nothing => None,
        })
        .collect();
    Ok(Written {
        answers,
        deliveries,
    })
}
