//! Publishing lessons to classes and withdrawing them, all or nothing.
//!
//! Scheduled publishing is nothing but the `publish_at` timestamp: a lesson is shown to a
//! class once `clock.now() >= publish_at`, so no job has to run for it to happen.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Viewer};
use super::entity::publication;
use super::service::{self, ClassPublication, invalid};
use crate::error::AppError;
use crate::people::relations;
use crate::roster::entity::{class, person};
use crate::state::AppState;

/// At most this many classes in one publish or withdraw.
pub const MAX_CLASSES: usize = 100;

/// `POST /api/v1/lessons/{id}/publish`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The classes' sourcedIds; each must be a class the owner teaches (or, for a school
    /// administrator, a class of their school).
    pub classes: Vec<String>,
    /// RFC 3339; absent or past means now.
    #[serde(default)]
    pub at: Option<String>,
}

/// `POST /api/v1/lessons/{id}/unpublish`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unpublish {
    pub classes: Vec<String>,
}

/// The answer to a publish or a withdrawal: the lesson's state and its classes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Publications {
    pub id: String,
    pub state: String,
    pub classes: Vec<ClassPublication>,
}

/// An RFC 3339 time, refused with the field named.
pub fn parse_at(value: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            invalid(
                "at",
                format!(
                    "“{value}”不是 RFC 3339 时间，例如 2026-12-07T08:00:00+08:00 / \"{value}\" is not an RFC 3339 time, e.g. 2026-12-07T08:00:00+08:00"
                ),
            )
        })
}

/// The named classes, each one `viewer` may publish to; the first that is not is named.
async fn classes_for(
    state: &AppState,
    viewer: &Viewer,
    sourced_ids: &[String],
) -> Result<Vec<class::Model>, AppError> {
    if sourced_ids.is_empty() {
        return Err(invalid(
            "classes",
            "请至少选择一个班级 / choose at least one class",
        ));
    }
    if sourced_ids.len() > MAX_CLASSES {
        return Err(invalid(
            "classes",
            format!("一次最多 {MAX_CLASSES} 个班级 / at most {MAX_CLASSES} classes at once"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for sourced_id in sourced_ids {
        let sourced_id = sourced_id.trim();
        if !seen.insert(sourced_id.to_owned()) {
            continue;
        }
        let Some(c) = relations::class_by_sourced_id(&state.db, sourced_id).await? else {
            return Err(invalid(
                "classes",
                format!("没有编号为 {sourced_id} 的班级 / there is no class {sourced_id}"),
            ));
        };
        if !viewer.may_publish_to(&state.db, &c).await? {
            return Err(invalid(
                "classes",
                format!(
                    "您不任教班级 {sourced_id}（{}），不能发布到该班；没有发布到任何班级 / you do not teach class {sourced_id} ({}): nothing was published",
                    c.title, c.title
                ),
            ));
        }
        out.push(c);
    }
    Ok(out)
}

/// Publish the owner's lesson to classes, all or none; publishing again to a class moves its
/// time (and brings a withdrawn lesson back).
pub async fn publish(
    state: &AppState,
    owner: &person::Model,
    id: &str,
    input: Publish,
) -> Result<Publications, AppError> {
    let viewer = Viewer::load(&state.db, owner).await?;
    let loaded = service::open_own(state, &viewer, id).await?;
    let now = state.clock.now();
    let at = match input.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => parse_at(text)?.max(now),
        None => now,
    };
    let classes = classes_for(state, &viewer, &input.classes).await?;
    let txn = state.db.begin().await?;
    for c in &classes {
        match loaded.publications.iter().find(|p| p.class_id == c.id) {
            Some(existing) => {
                publication::Entity::update_many()
                    .col_expr(publication::Column::PublishAt, Expr::value(at))
                    .col_expr(
                        publication::Column::WithdrawnAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .col_expr(
                        publication::Column::PublishedBy,
                        Expr::value(owner.id.clone()),
                    )
                    .filter(publication::Column::Id.eq(existing.id.as_str()))
                    .exec(&txn)
                    .await?;
            }
            None => {
                publication::Entity::insert(
                    publication::Model {
                        id: uuid::Uuid::now_v7().to_string(),
                        lesson_id: id.to_owned(),
                        class_id: c.id.clone(),
                        publish_at: at,
                        published_by: owner.id.clone(),
                        created_at: now,
                        withdrawn_at: None,
                    }
                    .into_active_model(),
                )
                .exec_without_returning(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    publications(state, id).await
}

/// Withdraw the owner's lesson from classes (all or none): the publication is kept, marked
/// withdrawn.
pub async fn unpublish(
    state: &AppState,
    owner: &person::Model,
    id: &str,
    input: Unpublish,
) -> Result<Publications, AppError> {
    let viewer = Viewer::load(&state.db, owner).await?;
    let loaded = service::open_own(state, &viewer, id).await?;
    if input.classes.is_empty() {
        return Err(invalid(
            "classes",
            "请至少选择一个班级 / choose at least one class",
        ));
    }
    let mut ids = Vec::new();
    for sourced_id in &input.classes {
        let sourced_id = sourced_id.trim();
        let found = loaded.publications.iter().find(|p| {
            access::live(p)
                && loaded
                    .classes
                    .get(&p.class_id)
                    .is_some_and(|c| c.sourced_id == sourced_id)
        });
        let Some(p) = found else {
            return Err(invalid(
                "classes",
                format!(
                    "本课没有发布到班级 {sourced_id}；没有撤回任何班级 / the lesson is not published to class {sourced_id}: nothing was withdrawn"
                ),
            ));
        };
        ids.push(p.id.clone());
    }
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    publication::Entity::update_many()
        .col_expr(publication::Column::WithdrawnAt, Expr::value(now))
        .filter(publication::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    publications(state, id).await
}

async fn publications(state: &AppState, id: &str) -> Result<Publications, AppError> {
    let loaded = service::load(&state.db, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let now = state.clock.now();
    Ok(Publications {
        id: id.to_owned(),
        state: service::lesson_state(&loaded.publications, now).to_owned(),
        classes: loaded
            .publications
            .iter()
            .filter_map(|p| {
                let c = loaded.classes.get(&p.class_id)?;
                Some(service::class_publication(p, c, now))
            })
            .collect(),
    })
}
