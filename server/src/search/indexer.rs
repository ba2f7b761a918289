//! Keeping a node's index in step with the database.
//!
//! Every change to a resource writes a `search_outbox` row in the same transaction (see
//! `resources::outbox`). Each node runs one [`follow`] task, the index's only writer: it reads
//! the rows after the position its index last committed, re-derives those resources from the
//! database, and commits with the new position as the commit's payload, so a restart resumes
//! exactly where the index got to. [`rebuild`] (`kongjian reindex`, or a first start with an
//! empty or outdated index) derives everything from the resource tables instead.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{Mutex, Notify, watch};
use tokio_util::sync::CancellationToken;

use super::{IndexDoc, IndexError, SearchIndex};
use crate::resources::entity::{outbox, resource};

/// Memory for the writer's in-progress segments.
pub const WRITER_HEAP: usize = 64 * 1024 * 1024;
/// How often a node looks for changes written by other nodes.
const POLL: Duration = Duration::from_millis(150);
/// Outbox rows per commit.
const BATCH: u64 = 1_000;

/// A node's search: the index, its writer, and who to wake when something changed.
#[derive(Clone)]
pub struct Search {
    pub index: SearchIndex,
    writer: Arc<Mutex<Option<tantivy::IndexWriter>>>,
    /// Woken by this node's own writes, so they are indexed at once.
    pub wake: Arc<Notify>,
    /// The outbox position the index has reached (committed and visible).
    pub position: watch::Receiver<i64>,
    position_tx: Arc<watch::Sender<i64>>,
    /// True when the index was just created or wiped and must be rebuilt.
    pub fresh: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error("{0}")]
    Index(#[from] IndexError),
    #[error("{0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Join(#[from] tokio::task::JoinError),
}

impl From<tantivy::TantivyError> for IndexerError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexerError::Index(IndexError::Tantivy(e))
    }
}

impl Search {
    /// Open the index in `dir` and take its writer (one writer per index: a second process on
    /// the same directory is refused here).
    pub fn open(dir: &std::path::Path) -> Result<Search, IndexError> {
        Search::open_with_heap(dir, WRITER_HEAP)
    }

    /// Open with `heap` bytes of indexing memory: a rebuild writes fewer, larger segments
    /// with more, and so leaves less merging behind.
    pub fn open_with_heap(dir: &std::path::Path, heap: usize) -> Result<Search, IndexError> {
        let (index, fresh) = SearchIndex::open(dir)?;
        let writer = index.writer(heap)?;
        let position = if fresh { 0 } else { index.position()? };
        let (tx, rx) = watch::channel(position);
        Ok(Search {
            index,
            writer: Arc::new(Mutex::new(Some(writer))),
            wake: Arc::new(Notify::new()),
            position: rx,
            position_tx: Arc::new(tx),
            fresh,
        })
    }

    /// Wait until the index has reached at least `seq` (tests, and freshness measurements).
    pub async fn reached(&self, seq: i64) {
        let mut rx = self.position.clone();
        let _ = rx.wait_for(|p| *p >= seq).await;
    }

    /// Apply outbox rows after the index's position; returns how many rows were applied.
    pub async fn catch_up(&self, db: &DatabaseConnection) -> Result<usize, IndexerError> {
        let from = *self.position.borrow();
        let rows = outbox::Entity::find()
            .filter(outbox::Column::Seq.gt(from))
            .order_by_asc(outbox::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(0);
        };
        let mut ids: Vec<String> = rows.iter().map(|r| r.resource_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let docs = crate::resources::index::documents(db, &ids).await?;
        self.apply(ids, docs, last).await?;
        Ok(rows.len())
    }

    async fn apply(
        &self,
        ids: Vec<String>,
        docs: Vec<IndexDoc>,
        position: i64,
    ) -> Result<(), IndexerError> {
        let index = self.index.clone();
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || -> Result<(), IndexerError> {
            let mut guard = writer.blocking_lock();
            let Some(writer) = guard.as_mut() else {
                return Ok(());
            };
            for id in &ids {
                writer.delete_term(index.id_term(id));
            }
            for d in &docs {
                writer.add_document(index.document(d))?;
            }
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&position.to_string());
            commit.commit()?;
            index.reload()?;
            Ok(())
        })
        .await??;
        self.position_tx.send_replace(position);
        Ok(())
    }

    /// Derive the whole index from the resource tables, in one commit (searches see the old
    /// index until the new one is complete). `progress(done, total)` is called after each batch.
    pub async fn rebuild(
        &self,
        db: &DatabaseConnection,
        progress: impl Fn(u64, u64),
    ) -> Result<u64, IndexerError> {
        // Everything written before this point is in the tables read below; anything after
        // is replayed from the outbox by the follower.
        let top = max_seq(db).await?;
        let total = resource::Entity::find().count(db).await?;
        let mut guard = self.writer.clone().lock_owned().await;
        guard = tokio::task::spawn_blocking(move || -> Result<_, IndexerError> {
            if let Some(writer) = guard.as_mut() {
                writer.delete_all_documents()?;
            }
            Ok(guard)
        })
        .await??;
        let mut done = 0u64;
        let mut after = String::new();
        loop {
            let ids: Vec<String> = resource::Entity::find()
                .select_only()
                .column(resource::Column::Id)
                .filter(resource::Column::Id.gt(after.clone()))
                .order_by_asc(resource::Column::Id)
                .limit(500)
                .into_tuple()
                .all(db)
                .await?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let docs = crate::resources::index::documents(db, &ids).await?;
            let index = self.index.clone();
            guard = tokio::task::spawn_blocking(move || -> Result<_, IndexerError> {
                if let Some(writer) = guard.as_mut() {
                    for d in &docs {
                        writer.add_document(index.document(d))?;
                    }
                }
                Ok(guard)
            })
            .await??;
            done += ids.len() as u64;
            progress(done, total);
            after = last;
        }
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || -> Result<(), IndexerError> {
            if let Some(writer) = guard.as_mut() {
                let mut commit = writer.prepare_commit()?;
                commit.set_payload(&top.to_string());
                commit.commit()?;
                index.reload()?;
            }
            Ok(())
        })
        .await??;
        self.position_tx.send_replace(top);
        Ok(done)
    }

    /// Let the merges under way finish and release the writer's lock for whoever opens the
    /// directory next. Merges left unfinished would be started again, from the beginning, by
    /// the next writer — on a serving node, beside its searches.
    pub async fn close(&self) {
        let writer = self.writer.lock().await.take();
        if let Some(writer) = writer
            && let Ok(Err(err)) =
                tokio::task::spawn_blocking(move || writer.wait_merging_threads()).await
        {
            tracing::warn!(error = %err, "merging the search index's segments failed");
        }
    }
}

async fn max_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let top: Option<Option<i64>> = outbox::Entity::find()
        .select_only()
        .column_as(Expr::col(outbox::Column::Seq).max(), "top")
        .into_tuple()
        .one(db)
        .await?;
    Ok(top.flatten().unwrap_or(0))
}

/// Follow the outbox until shutdown: rebuild first when the index is new, then apply changes
/// as they are committed (woken at once by this node's writes, and every [`POLL`] for other
/// nodes'). Errors are logged and retried; the database keeps everything meanwhile.
pub async fn follow(search: Search, db: DatabaseConnection, shutdown: CancellationToken) {
    if search.fresh || search.index.num_docs() == 0 {
        match search.rebuild(&db, |_, _| {}).await {
            Ok(n) => tracing::info!(resources = n, "search index rebuilt from the database"),
            Err(err) => tracing::error!(error = %err, "rebuilding the search index failed"),
        }
    }
    loop {
        match search.catch_up(&db).await {
            Ok(n) if n as u64 == BATCH => continue,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "search indexing failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    () = shutdown.cancelled() => break,
                }
                continue;
            }
        }
        tokio::select! {
            () = search.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            () = shutdown.cancelled() => break,
        }
    }
    search.close().await;
}
