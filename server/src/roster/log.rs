//! The import log, newest first, paged by cursor (never OFFSET).

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::entity::roster_import;

/// One page: `{"imports": [...], "next_cursor": "…" | null}`. The cursor is the last id shown
/// (ids are time-ordered UUIDv7, so they sort like start times).
pub async fn page(
    db: &impl ConnectionTrait,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Value, DbErr> {
    let mut query = roster_import::Entity::find().order_by_desc(roster_import::Column::Id);
    if let Some(cursor) = cursor {
        query = query.filter(roster_import::Column::Id.lt(cursor));
    }
    let rows = query.limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    let shown: Vec<&roster_import::Model> = rows
        .iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let next_cursor = if more {
        shown.last().map(|r| r.id.clone())
    } else {
        None
    };
    let imports: Vec<Value> = shown
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
                "report": serde_json::from_str::<Value>(&r.report).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(json!({"imports": imports, "next_cursor": next_cursor}))
}
