//! The import log, newest first, paged by cursor (never OFFSET).

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::entity::roster_import;

/// One page of the log and the cursor of the next (older) one.
pub struct Page {
    pub entries: Vec<roster_import::Model>,
    pub next_cursor: Option<String>,
}

/// Up to `limit` entries older than `cursor` (the last id shown; ids are time-ordered UUIDv7,
/// so they sort like start times).
pub async fn entries(
    db: &impl ConnectionTrait,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Page, DbErr> {
    let mut query = roster_import::Entity::find().order_by_desc(roster_import::Column::Id);
    if let Some(cursor) = cursor {
        query = query.filter(roster_import::Column::Id.lt(cursor));
    }
    let mut entries = query.limit(limit + 1).all(db).await?;
    let more = entries.len() as u64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        entries.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok(Page {
        entries,
        next_cursor,
    })
}

/// One page as the API answers it: `{"imports": [...], "next_cursor": "…" | null}`.
pub async fn page(
    db: &impl ConnectionTrait,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Value, DbErr> {
    let page = entries(db, cursor, limit).await?;
    let imports: Vec<Value> = page
        .entries
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "origin": r.origin,
                "source_name": r.source_name,
                "format": r.format,
                "outcome": r.outcome,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "report": stored_report(r),
            })
        })
        .collect();
    Ok(json!({"imports": imports, "next_cursor": page.next_cursor}))
}

/// One entry by id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<roster_import::Model>, DbErr> {
    roster_import::Entity::find_by_id(id.to_owned())
        .one(db)
        .await
}

/// The report an entry stored (see `ImportReport::to_stored_json`) with the entry's id, which
/// the report was written without; `null` if unreadable.
pub fn stored_report(entry: &roster_import::Model) -> Value {
    let mut report: Value = serde_json::from_str(&entry.report).unwrap_or(Value::Null);
    if let Some(fields) = report.as_object_mut() {
        fields.insert("id".to_owned(), json!(entry.id));
    }
    report
}

/// Display names of the people who started these entries, by person id.
pub async fn actor_names(
    db: &impl ConnectionTrait,
    entries: &[roster_import::Model],
) -> Result<HashMap<String, String>, DbErr> {
    let mut ids: Vec<String> = entries.iter().filter_map(|e| e.actor_id.clone()).collect();
    ids.sort();
    ids.dedup();
    Ok(crate::people::store::people_by_id(db, ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id, p.display_name))
        .collect())
}
