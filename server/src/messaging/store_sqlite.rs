//! The committer's writes on an SQLite file, through a rusqlite connection of its own on the
//! committer's thread: each row is one step of a prepared statement, its values bound straight
//! from the batch.
//!
//! Through sqlx the same batch was a dozen multi-row statements: every value was cloned into a
//! sea-query value, again into sqlx's arguments, and handed to sqlx's worker thread, whose
//! answer woke the committer again, so two threads took turns on every statement. Under the
//! benchmark's R5 (durable 1:1 messages) the committer and its sqlx worker took half of the
//! server's CPU samples; the committer alone, binding and stepping here, takes two fifths,
//! most of it SQLite's own work.
//!
//! Values are stored exactly as sqlx-sqlite stores them, so that everything else (which reads
//! through sea-orm) reads them back alike: booleans as integers, times as RFC 3339 with as
//! many fraction digits as they need.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sea_orm::{DatabaseConnection, DbErr};

use super::entity::{message, notice};
use super::store::{Receipts, Store};
use crate::db::{sqlite_failed as failed, sqlite_time as time};

pub struct Writer {
    conn: Connection,
}

impl Writer {
    /// Open the database in `file` for the committer: `cache_kib` of page cache, and the
    /// write-ahead log folded back by a commit only past `checkpoint_pages`.
    pub fn open(file: &Path, cache_kib: u32, checkpoint_pages: u32) -> Result<Writer, DbErr> {
        let conn = crate::db::own_sqlite_writer(
            file,
            &format!(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                 PRAGMA cache_size = -{cache_kib}; \
                 PRAGMA wal_autocheckpoint = {checkpoint_pages};"
            ),
        )?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Writer { conn })
    }

    /// Take the write lock now (a batch always writes).
    pub fn begin(&mut self) -> Result<(), DbErr> {
        self.run("BEGIN IMMEDIATE")
    }

    pub fn commit(&mut self) -> Result<(), DbErr> {
        self.run("COMMIT")
    }

    pub fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.run("ROLLBACK");
        }
    }

    fn run(&mut self, sql: &str) -> Result<(), DbErr> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(failed)
    }

    /// The ids of the rows of `table` (`messages` or `notices`) stored under each
    /// (sender, nonce) of `keys`, one index probe each.
    pub fn stored(&mut self, table: &str, keys: &[(&str, &str)]) -> Result<Vec<String>, DbErr> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut probe = self
            .conn
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE sender_id = ?1 AND nonce = ?2"
            ))
            .map_err(failed)?;
        let mut found = Vec::new();
        for (sender, nonce) in keys {
            if let Some(id) = probe
                .query_row(params![sender, nonce], |row| row.get::<_, String>(0))
                .optional()
                .map_err(failed)?
            {
                found.push(id);
            }
        }
        Ok(found)
    }
}

/// A batch's transaction on the committer's connection. Whole rows the committer needs back
/// (a retry's stored message, a held message being released) are rare and read through
/// sea-orm from `read`: they were committed before this transaction began.
pub struct Tx<'a> {
    pub writer: &'a mut Writer,
    pub read: &'a DatabaseConnection,
}

impl Store for Tx<'_> {
    async fn claim(&mut self, ids: &[String]) -> Result<Vec<String>, DbErr> {
        let mut claim = self
            .writer
            .conn
            .prepare_cached("UPDATE messages SET held = 0 WHERE id = ?1 AND held = 1")
            .map_err(failed)?;
        let mut claimed = Vec::new();
        for id in ids {
            if claim.execute([id]).map_err(failed)? == 1 {
                claimed.push(id.clone());
            }
        }
        Ok(claimed)
    }

    async fn messages(&mut self, ids: &[String]) -> Result<Vec<message::Model>, DbErr> {
        super::store::messages_by_id(self.read, ids).await
    }

    /// Read, then write: the batch holds SQLite's write lock from its `BEGIN IMMEDIATE`, so
    /// nobody writes in between. (`UPDATE … RETURNING` would do it in one statement, but SQLite
    /// runs a `RETURNING` as a trigger into a temporary table, with a statement journal: on
    /// the committer's path that cost more than the second lookup of a cached page.)
    async fn take_seqs(
        &mut self,
        counts: &BTreeMap<String, i64>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, DbErr> {
        let now = time(now);
        let conn = &self.writer.conn;
        let mut read = conn
            .prepare_cached("SELECT last_seq FROM conversations WHERE id = ?1")
            .map_err(failed)?;
        let mut take = conn
            .prepare_cached(
                "UPDATE conversations SET last_seq = ?1, last_message_at = ?2 WHERE id = ?3",
            )
            .map_err(failed)?;
        let mut first = HashMap::with_capacity(counts.len());
        for (id, count) in counts {
            let last: i64 = read
                .query_row([id], |row| row.get(0))
                .optional()
                .map_err(failed)?
                .ok_or_else(|| DbErr::RecordNotFound(format!("conversation {id}")))?;
            take.execute(params![last + count, now, id])
                .map_err(failed)?;
            first.insert(id.clone(), last + 1);
        }
        Ok(first)
    }

    async fn insert_messages(&mut self, rows: &[message::Model]) -> Result<(), DbErr> {
        let mut insert = self
            .writer
            .conn
            .prepare_cached(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, nonce, body, \
                 attachments, held, deliver_at, created_at, edited_at, recalled_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(failed)?;
        for m in rows {
            // Delivered now or held until later: the two times are mostly the same one.
            let created_at = time(m.created_at);
            let deliver_at = (m.deliver_at != m.created_at).then(|| time(m.deliver_at));
            insert
                .execute(params![
                    m.id,
                    m.conversation_id,
                    m.seq,
                    m.sender_id,
                    m.nonce,
                    m.body,
                    m.attachments,
                    m.held,
                    deliver_at.as_ref().unwrap_or(&created_at),
                    created_at,
                    m.edited_at.map(time),
                    m.recalled_at.map(time),
                ])
                .map_err(failed)?;
        }
        Ok(())
    }

    async fn released(&mut self, rows: &[message::Model]) -> Result<(), DbErr> {
        let mut update = self
            .writer
            .conn
            .prepare_cached("UPDATE messages SET seq = ?1, deliver_at = ?2 WHERE id = ?3")
            .map_err(failed)?;
        for m in rows {
            update
                .execute(params![m.seq, time(m.deliver_at), m.id])
                .map_err(failed)?;
        }
        Ok(())
    }

    async fn insert_notices(&mut self, rows: &[notice::Model]) -> Result<(), DbErr> {
        let mut insert = self
            .writer
            .conn
            .prepare_cached(
                "INSERT INTO notices (id, sender_id, school_id, audience_kind, audience_id, \
                 grade, title, body, attachments, requires_confirmation, include_students, \
                 urgent, nonce, held, deliver_at, created_at, reminded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                 ?16, ?17)",
            )
            .map_err(failed)?;
        for n in rows {
            insert
                .execute(params![
                    n.id,
                    n.sender_id,
                    n.school_id,
                    n.audience_kind,
                    n.audience_id,
                    n.grade,
                    n.title,
                    n.body,
                    n.attachments,
                    n.requires_confirmation,
                    n.include_students,
                    n.urgent,
                    n.nonce,
                    n.held,
                    time(n.deliver_at),
                    time(n.created_at),
                    n.reminded_at.map(time),
                ])
                .map_err(failed)?;
        }
        Ok(())
    }

    async fn last_seqs(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>, DbErr> {
        let mut last = self
            .writer
            .conn
            .prepare_cached("SELECT last_seq FROM conversations WHERE id = ?1")
            .map_err(failed)?;
        let mut out = HashMap::with_capacity(ids.len());
        for id in ids {
            if out.contains_key(*id) {
                continue;
            }
            if let Some(seq) = last
                .query_row([id], |row| row.get::<_, i64>(0))
                .optional()
                .map_err(failed)?
            {
                out.insert((*id).to_owned(), seq);
            }
        }
        Ok(out)
    }

    /// Read, then write only what moves forward (see `take_seqs`): a receipt that repeats a
    /// position already stored writes nothing.
    async fn advance_receipts(&mut self, receipts: &Receipts) -> Result<Receipts, DbErr> {
        let conn = &self.writer.conn;
        let mut read = conn
            .prepare_cached(
                "SELECT delivered_seq, read_seq FROM conversation_members \
                 WHERE conversation_id = ?1 AND person_id = ?2",
            )
            .map_err(failed)?;
        let mut advance = conn
            .prepare_cached(
                "UPDATE conversation_members SET delivered_seq = ?1, read_seq = ?2 \
                 WHERE conversation_id = ?3 AND person_id = ?4",
            )
            .map_err(failed)?;
        let mut out = Receipts::new();
        for ((conversation, person), &(delivered, read_to)) in receipts {
            let Some((stored_delivered, stored_read)) = read
                .query_row(params![conversation, person], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                })
                .optional()
                .map_err(failed)?
            else {
                continue;
            };
            let positions = (stored_delivered.max(delivered), stored_read.max(read_to));
            if positions != (stored_delivered, stored_read) {
                advance
                    .execute(params![positions.0, positions.1, conversation, person])
                    .map_err(failed)?;
            }
            out.insert((conversation.clone(), person.clone()), positions);
        }
        Ok(out)
    }

    async fn notify(
        &mut self,
        _state: &crate::state::AppState,
        _deliveries: &[super::deliver::Delivery],
    ) -> Result<(), DbErr> {
        // One node per SQLite file: nobody else to tell.
        Ok(())
    }
}
