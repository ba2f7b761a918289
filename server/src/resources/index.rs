//! What the search index holds for a resource, derived from the database alone (so an
//! incremental index and a rebuilt one are the same).
//!
//! A resource is one document: the published version's content while it is published (the
//! owner also finds it, and a newer version under review does not change what readers find),
//! otherwise the owner's latest version, which only the owner finds.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::State;
use super::access::scope_token;
use super::entity::{resource, version};
use crate::search::IndexDoc;

/// Weights of the usage kinds in "most used".
const VIEW: i64 = 1;
const DOWNLOAD: i64 = 3;
const LESSON: i64 = 5;

/// The documents of `ids` (resources that no longer exist have none).
pub async fn documents(db: &DatabaseConnection, ids: &[String]) -> Result<Vec<IndexDoc>, DbErr> {
    let resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    let wanted: Vec<String> = resources
        .iter()
        .flat_map(|r| {
            std::iter::once(r.latest_version_id.clone()).chain(r.published_version_id.clone())
        })
        .collect();
    let versions: HashMap<String, version::Model> = version::Entity::find()
        .filter(version::Column::Id.is_in(wanted))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id.clone(), v))
        .collect();
    Ok(resources
        .iter()
        .filter_map(|r| document(r, &versions))
        .collect())
}

fn document(r: &resource::Model, versions: &HashMap<String, version::Model>) -> Option<IndexDoc> {
    let published = r
        .published_version_id
        .as_ref()
        .and_then(|id| versions.get(id))
        .filter(|_| r.state == State::Published.as_str());
    let v = published.or_else(|| versions.get(&r.latest_version_id))?;
    let mut access = vec![format!("owner:{}", r.owner_id)];
    if let Some(p) = published
        && let Some(token) = scope_token(r, p)
    {
        access.push(token);
    }
    let body = match v.content_kind.as_str() {
        "text" => v.body.clone().unwrap_or_default(),
        "file" => v.extracted.clone().unwrap_or_default(),
        _ => v.url.clone().unwrap_or_default(),
    };
    let when = r.published_at.unwrap_or(r.updated_at);
    Some(IndexDoc {
        id: r.id.clone(),
        title: v.title.clone(),
        keywords: v.keywords.replace(',', " "),
        description: v.description.clone(),
        body,
        subject: v.subject.clone(),
        grade: v.grade.clone(),
        kind: v.kind.clone(),
        edition: v.edition.clone(),
        access,
        published: when.timestamp_micros(),
        usage: (r.view_count * VIEW + r.download_count * DOWNLOAD + r.lesson_count * LESSON).max(0)
            as u64,
    })
}
