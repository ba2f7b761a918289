//! The committer's bulk statements: many conversations' sequence numbers, or many members'
//! receipts, in one statement each (a statement costs far more than a row).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};

/// Rows per bulk statement (each row binds a few values; both databases allow thousands).
const CHUNK: usize = 250;

/// SQL text with values bound in order: `?` on SQLite, `$n` on PostgreSQL.
pub struct Sql {
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

    pub fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// Take `count` sequence numbers in each conversation; returns the first of each.
pub async fn take_seqs(
    db: &impl ConnectionTrait,
    counts: &BTreeMap<String, i64>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut first = HashMap::with_capacity(counts.len());
    let entries: Vec<(&String, &i64)> = counts.iter().collect();
    for chunk in entries.chunks(CHUNK) {
        let mut sql = Sql::new(backend);
        sql.push("UPDATE conversations SET last_seq = last_seq + CASE id");
        for (id, count) in chunk {
            sql.push(" WHEN ")
                .bind(id.as_str())
                .push(" THEN ")
                .bind(**count);
        }
        sql.push(" ELSE 0 END, last_message_at = ")
            .bind(now)
            .push(" WHERE id IN (")
            .list(chunk.iter().map(|(id, _)| id.as_str()))
            .push(") RETURNING id, last_seq");
        let rows = db.query_all_raw(sql.statement()).await?;
        for row in rows {
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
pub async fn last_seqs(
    db: &impl ConnectionTrait,
    ids: &[&str],
) -> Result<HashMap<String, i64>, DbErr> {
    let backend = db.get_database_backend();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK * 4) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT id, last_seq FROM conversations WHERE id IN (")
            .list(chunk.iter().copied())
            .push(")");
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
pub async fn advance_receipts(
    db: &impl ConnectionTrait,
    receipts: &Receipts,
) -> Result<Receipts, DbErr> {
    let backend = db.get_database_backend();
    let mut out = Receipts::new();
    let entries: Vec<_> = receipts.iter().collect();
    for chunk in entries.chunks(CHUNK) {
        let mut sql = Sql::new(backend);
        // The new position of each named member, NULL for the others the WHERE also matches.
        let case = |sql: &mut Sql, pick: fn(&(i64, i64)) -> i64| {
            sql.push("(CASE conversation_id || ':' || person_id");
            for ((conversation, person), positions) in chunk {
                sql.push(" WHEN ")
                    .bind(format!("{conversation}:{person}"))
                    .push(" THEN ")
                    .bind(pick(positions));
            }
            sql.push(" ELSE -1 END)");
        };
        sql.push("UPDATE conversation_members SET delivered_seq = CASE WHEN ");
        case(&mut sql, |p| p.0);
        sql.push(" > delivered_seq THEN ");
        case(&mut sql, |p| p.0);
        sql.push(" ELSE delivered_seq END, read_seq = CASE WHEN ");
        case(&mut sql, |p| p.1);
        sql.push(" > read_seq THEN ");
        case(&mut sql, |p| p.1);
        sql.push(" ELSE read_seq END WHERE conversation_id IN (")
            .list(chunk.iter().map(|((c, _), _)| c.as_str()))
            .push(") AND person_id IN (")
            .list(chunk.iter().map(|((_, p), _)| p.as_str()))
            .push(") RETURNING conversation_id, person_id, delivered_seq, read_seq");
        for row in db.query_all_raw(sql.statement()).await? {
            let key: (String, String) = (
                row.try_get("", "conversation_id")?,
                row.try_get("", "person_id")?,
            );
            if receipts.contains_key(&key) {
                let positions = (
                    row.try_get("", "delivered_seq")?,
                    row.try_get("", "read_seq")?,
                );
                out.insert(key, positions);
            }
        }
    }
    Ok(out)
}
