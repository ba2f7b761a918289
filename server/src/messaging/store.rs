//! What a batch of the committer writes ([`Store`]), and its sea-orm implementation ([`Orm`],
//! PostgreSQL): many conversations' sequence numbers, or many members' receipts, in one
//! statement each (over the network a statement costs far more than a row). An SQLite file is
//! written row by row through prepared statements instead (`store_sqlite`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, Statement,
    Value,
};

use super::deliver::{self, Delivery};
use super::entity::{message, notice};
use crate::state::AppState;

/// What a batch of the committer writes, inside its transaction: through sea-orm ([`Orm`]), or
/// on an SQLite file through the committer's own connection (`store_sqlite`).
pub(super) trait Store {
    /// Un-hold messages quiet hours held, those still held; returns the ids this call released
    /// (a message two nodes both find due is released by one).
    async fn claim(&mut self, ids: &[String]) -> Result<Vec<String>, DbErr>;
    /// Stored messages, by id.
    async fn messages(&mut self, ids: &[String]) -> Result<Vec<message::Model>, DbErr>;
    /// Take `count` sequence numbers in each conversation; returns the first of each.
    async fn take_seqs(
        &mut self,
        counts: &BTreeMap<String, i64>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, DbErr>;
    async fn insert_messages(&mut self, rows: &[message::Model]) -> Result<(), DbErr>;
    /// Store released messages' `seq` and `deliver_at`.
    async fn released(&mut self, rows: &[message::Model]) -> Result<(), DbErr>;
    async fn insert_notices(&mut self, rows: &[notice::Model]) -> Result<(), DbErr>;
    /// The last sequence number of each conversation.
    async fn last_seqs(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>, DbErr>;
    /// Move members' delivered/read positions forward (never back); returns the positions of
    /// the members named, as stored afterwards.
    async fn advance_receipts(&mut self, receipts: &Receipts) -> Result<Receipts, DbErr>;
    /// Tell the other nodes (on commit).
    async fn notify(&mut self, state: &AppState, deliveries: &[Delivery]) -> Result<(), DbErr>;
}

/// Ids per `IN (…)` list when stored messages are read back.
const IN_LIST: usize = 400;

/// Stored messages, by id.
pub(super) async fn messages_by_id(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<message::Model>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_LIST) {
        out.extend(
            message::Entity::find()
                .filter(message::Column::Id.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Stored notices, by id.
pub(super) async fn notices_by_id(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<notice::Model>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_LIST) {
        out.extend(
            notice::Entity::find()
                .filter(notice::Column::Id.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// A batch written through sea-orm, in a transaction of `C`.
pub(super) struct Orm<'a, C>(pub &'a C);

impl<C: ConnectionTrait> Store for Orm<'_, C> {
    async fn claim(&mut self, ids: &[String]) -> Result<Vec<String>, DbErr> {
        let backend = self.0.get_database_backend();
        let mut claimed = Vec::new();
        for id in ids {
            let mut sql = Sql::new(backend);
            sql.push("UPDATE messages SET held = ")
                .bind(false)
                .push(" WHERE id = ")
                .bind(id.as_str())
                .push(" AND held = ")
                .bind(true);
            if self.0.execute_raw(sql.statement()).await?.rows_affected() == 1 {
                claimed.push(id.clone());
            }
        }
        Ok(claimed)
    }

    async fn messages(&mut self, ids: &[String]) -> Result<Vec<message::Model>, DbErr> {
        messages_by_id(self.0, ids).await
    }

    async fn take_seqs(
        &mut self,
        counts: &BTreeMap<String, i64>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, i64>, DbErr> {
        take_seqs(self.0, counts, now).await
    }

    async fn insert_messages(&mut self, rows: &[message::Model]) -> Result<(), DbErr> {
        for chunk in insert_pieces(rows) {
            let rows: Vec<message::ActiveModel> = chunk.iter().cloned().map(Into::into).collect();
            message::Entity::insert_many(rows)
                .exec_without_returning(self.0)
                .await?;
        }
        Ok(())
    }

    async fn released(&mut self, rows: &[message::Model]) -> Result<(), DbErr> {
        let backend = self.0.get_database_backend();
        for m in rows {
            let mut sql = Sql::new(backend);
            sql.push("UPDATE messages SET seq = ")
                .bind(m.seq)
                .push(", deliver_at = ")
                .bind(m.deliver_at)
                .push(" WHERE id = ")
                .bind(m.id.as_str());
            self.0.execute_raw(sql.statement()).await?;
        }
        Ok(())
    }

    async fn insert_notices(&mut self, rows: &[notice::Model]) -> Result<(), DbErr> {
        for chunk in insert_pieces(rows) {
            let rows: Vec<notice::ActiveModel> = chunk.iter().cloned().map(Into::into).collect();
            notice::Entity::insert_many(rows)
                .exec_without_returning(self.0)
                .await?;
        }
        Ok(())
    }

    async fn last_seqs(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>, DbErr> {
        last_seqs(self.0, ids).await
    }

    async fn advance_receipts(&mut self, receipts: &Receipts) -> Result<Receipts, DbErr> {
        advance_receipts(self.0, receipts).await
    }

    async fn notify(&mut self, state: &AppState, deliveries: &[Delivery]) -> Result<(), DbErr> {
        deliver::notify_other_nodes(state, self.0, deliveries).await
    }
}

/// SQL text with values bound in order: `?` on SQLite, `$n` on PostgreSQL.
struct Sql {
    backend: DatabaseBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DatabaseBackend) -> Self {
        Sql {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        match self.backend {
            DatabaseBackend::Postgres => {
                let n = self.values.len();
                self.text.push('$');
                self.text.push_str(&n.to_string());
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// `v1, v2, …` bound.
    pub fn list<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self
    }

    /// Bind with a type PostgreSQL cannot infer (parameters in a VALUES list); SQLite needs none.
    pub fn bind_as(&mut self, value: impl Into<Value>, ty: &str) -> &mut Self {
        self.bind(value);
        if self.backend == DatabaseBackend::Postgres {
            self.text.push_str("::");
            self.text.push_str(ty);
        }
        self
    }

    pub fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Statement sizes: a batch is cut into pieces of these many rows (padded up to the next one),
/// so the same few SQL texts recur and stay prepared; a fresh text per batch cost more to plan
/// than to run.
const SHAPES: [usize; 6] = [1, 4, 16, 64, 256, 1024];

/// Padding rows worth one statement less: a padding row costs an index probe, a statement a
/// round trip to the database.
const PAD_AT_MOST: usize = 64;

/// The pieces a run of `n` rows is cut into: the largest shape that fits, again and again,
/// except that a rest a little short of a shape is padded up to it.
pub fn pieces(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let rest = n - start;
        let fits = SHAPES.iter().copied().rfind(|s| *s <= rest).unwrap_or(1);
        let shape = match SHAPES.iter().copied().find(|s| *s >= rest) {
            Some(next) if next - rest <= PAD_AT_MOST => next,
            _ => fits,
        };
        out.push((start, shape));
        start += shape.min(rest);
    }
    out
}

/// `VALUES (…), (…)`: `bind` fills one row (with [`Sql::bind_as`], so PostgreSQL knows the
/// types of a VALUES list's parameters).
fn values(sql: &mut Sql, rows: usize, mut bind: impl FnMut(&mut Sql, usize)) {
    sql.push("VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(", ");
        }
        sql.push("(");
        bind(sql, row);
        sql.push(")");
    }
}

/// Take `count` sequence numbers in each conversation; returns the first of each.
async fn take_seqs(
    db: &impl ConnectionTrait,
    counts: &BTreeMap<String, i64>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut first = HashMap::with_capacity(counts.len());
    let entries: Vec<(&String, &i64)> = counts.iter().collect();
    for (start, shape) in pieces(entries.len()) {
        let mut sql = Sql::new(backend);
        sql.push("WITH v(c, n) AS (");
        // Padding rows name no conversation.
        values(&mut sql, shape, |sql, row| {
            let (id, count) = entries
                .get(start + row)
                .map_or(("", 0), |(id, n)| (id.as_str(), **n));
            sql.bind_as(id, "text").push(", ").bind_as(count, "bigint");
        });
        sql.push(") UPDATE conversations SET last_seq = last_seq + v.n, last_message_at = ")
            .bind(now)
            .push(" FROM v WHERE conversations.id = v.c RETURNING conversations.id, conversations.last_seq");
        for row in db.query_all_raw(sql.statement()).await? {
            let id: String = row.try_get("", "id")?;
            let last: i64 = row.try_get("", "last_seq")?;
            if let Some(count) = counts.get(&id) {
                first.insert(id, last - count + 1);
            }
        }
    }
    if let Some(missing) = counts.keys().find(|id| !first.contains_key(*id)) {
        return Err(DbErr::RecordNotFound(format!("conversation {missing}")));
    }
    Ok(first)
}

/// The last sequence number of each conversation.
async fn last_seqs(db: &impl ConnectionTrait, ids: &[&str]) -> Result<HashMap<String, i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut out = HashMap::with_capacity(ids.len());
    for (start, shape) in pieces(ids.len()) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT id, last_seq FROM conversations WHERE id IN (");
        // Padded by repeating the last id.
        let padded = (0..shape).map(|i| ids[(start + i).min(ids.len() - 1)]);
        sql.list(padded).push(")");
        for row in db.query_all_raw(sql.statement()).await? {
            out.insert(row.try_get("", "id")?, row.try_get("", "last_seq")?);
        }
    }
    Ok(out)
}

/// (conversation, person) → (delivered, read).
pub type Receipts = BTreeMap<(String, String), (i64, i64)>;

/// Move members' delivered/read positions forward (never back); returns the positions of the
/// members named, as stored afterwards.
async fn advance_receipts(
    db: &impl ConnectionTrait,
    receipts: &Receipts,
) -> Result<Receipts, DbErr> {
    let backend = db.get_database_backend();
    let mut out = Receipts::new();
    let entries: Vec<_> = receipts.iter().collect();
    for (start, shape) in pieces(entries.len()) {
        let mut sql = Sql::new(backend);
        sql.push("WITH v(c, p, d, r) AS (");
        values(&mut sql, shape, |sql, row| {
            let ((c, p), (d, r)) = entries
                .get(start + row)
                .map_or((("", ""), (0, 0)), |((c, p), (d, r))| {
                    ((c.as_str(), p.as_str()), (*d, *r))
                });
            sql.bind_as(c, "text")
                .push(", ")
                .bind_as(p, "text")
                .push(", ")
                .bind_as(d, "bigint")
                .push(", ")
                .bind_as(r, "bigint");
        });
        sql.push(
            ") UPDATE conversation_members SET \
             delivered_seq = CASE WHEN v.d > conversation_members.delivered_seq THEN v.d \
             ELSE conversation_members.delivered_seq END, \
             read_seq = CASE WHEN v.r > conversation_members.read_seq THEN v.r \
             ELSE conversation_members.read_seq END \
             FROM v WHERE conversation_members.conversation_id = v.c \
             AND conversation_members.person_id = v.p \
             RETURNING conversation_members.conversation_id, conversation_members.person_id, \
             conversation_members.delivered_seq, conversation_members.read_seq",
        );
        for row in db.query_all_raw(sql.statement()).await? {
            let key: (String, String) = (
                row.try_get("", "conversation_id")?,
                row.try_get("", "person_id")?,
            );
            let positions = (
                row.try_get("", "delivered_seq")?,
                row.try_get("", "read_seq")?,
            );
            out.insert(key, positions);
        }
    }
    Ok(out)
}

/// `SELECT * FROM table` for the rows whose (sender_id, nonce) is one of `keys[start..]`,
/// `shape` of them (padded with keys that match nothing): a join on a VALUES list, one index
/// lookup per key. (`sender_id IN (…) AND nonce IN (…)` looked up every pairing of the two
/// lists, a batch's square: 65,536 index seeks for 256 messages.)
pub fn by_sender_nonce(
    backend: DatabaseBackend,
    table: &str,
    keys: &[(&str, &str)],
    start: usize,
    shape: usize,
) -> Statement {
    let mut sql = Sql::new(backend);
    sql.push("WITH k(s, n) AS (");
    values(&mut sql, shape, |sql, row| {
        let (sender, nonce) = keys.get(start + row).map_or(("", ""), |(s, n)| (*s, *n));
        sql.bind_as(sender, "text")
            .push(", ")
            .bind_as(nonce, "text");
    });
    sql.push(") SELECT t.* FROM k JOIN ")
        .push(table)
        .push(" t ON t.sender_id = k.s AND t.nonce = k.n");
    sql.statement()
}

/// Rows of a multi-row INSERT, in pieces of recurring sizes (no padding: each piece is a shape
/// or a smaller remainder cut into shapes).
fn insert_pieces<T>(items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let take = SHAPES
            .iter()
            .rev()
            .copied()
            .find(|s| *s <= rest.len())
            .unwrap_or(1);
        let (head, tail) = rest.split_at(take);
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_recurring_shapes() {
        assert_eq!(pieces(0), vec![]);
        assert_eq!(pieces(1), vec![(0, 1)]);
        assert_eq!(pieces(3), vec![(0, 4)]);
        assert_eq!(pieces(300), vec![(0, 256), (256, 64)]);
        assert_eq!(pieces(1100), vec![(0, 1024), (1024, 64), (1088, 16)]);
        assert_eq!(pieces(2048), vec![(0, 1024), (1024, 1024)]);
        let sizes: Vec<usize> = insert_pieces(&[0; 86]).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [64, 16, 4, 1, 1]);
    }

    #[test]
    fn postgres_values_carry_their_types() {
        let row = |sql: &mut Sql, row: usize| {
            sql.bind_as(format!("c{row}"), "text")
                .push(", ")
                .bind_as(row as i64, "bigint");
        };
        let mut sql = Sql::new(DatabaseBackend::Postgres);
        values(&mut sql, 2, row);
        assert_eq!(
            sql.text,
            "VALUES ($1::text, $2::bigint), ($3::text, $4::bigint)"
        );
        let mut sql = Sql::new(DatabaseBackend::Sqlite);
        values(&mut sql, 2, row);
        assert_eq!(sql.text, "VALUES (?, ?), (?, ?)");
    }
}
