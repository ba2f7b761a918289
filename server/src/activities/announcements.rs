//! School announcements (学校公告): an administrator of the school posts one in Markdown; the
//! school's people read them newest first; withdrawing hides one and keeps it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::entity::announcement;
use super::service::{PersonRef, person_ref, text};
use crate::error::{AppError, ErrorCode};
use crate::markdown;
use crate::people::{relations, store};
use crate::roster::entity::{org, person};
use crate::state::AppState;

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;
pub const PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// `POST /api/v1/schools/{sourcedId}/announcements`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewAnnouncement {
    pub title: String,
    /// Markdown.
    pub body: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnouncementView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub author: PersonRef,
    pub published_at: DateTime<Utc>,
    /// The caller may withdraw it.
    pub may_withdraw: bool,
}

/// A page of announcements; `next` is the cursor for the one after (older).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnouncementPage {
    pub announcements: Vec<AnnouncementView>,
    pub next: Option<String>,
}

/// The school, for one of its people; 404 for anyone else.
async fn school_for(
    state: &AppState,
    viewer: &person::Model,
    sourced_id: &str,
) -> Result<org::Model, AppError> {
    let school = access::school_by_sourced_id(&state.db, sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !access::school_member(&state.db, viewer, &school.id).await? {
        return Err(AppError::not_found());
    }
    Ok(school)
}

/// An administrator of the school posts an announcement.
pub async fn post(
    state: &AppState,
    caller: &person::Model,
    school: &str,
    input: &NewAnnouncement,
) -> Result<announcement::Model, AppError> {
    let school = school_for(state, caller, school).await?;
    if !relations::administers_org(&state.db, caller, &school.id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let title = text("title", &input.title, MAX_TITLE, true)?;
    let body = text("body", &input.body, MAX_BODY, true)?;
    let body_html = markdown::render(&body).map_err(|r| r.into_error("body"))?;
    let model = announcement::Model {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: school.id,
        author_id: caller.id.clone(),
        title,
        body,
        body_html,
        published_at: state.clock.now(),
        withdrawn_at: None,
    };
    announcement::Entity::insert(announcement::ActiveModel::from(model.clone()))
        .exec_without_returning(&state.db)
        .await?;
    Ok(model)
}

/// `GET /api/v1/schools/{sourcedId}/announcements`: newest first, `limit` at a time, older
/// ones after the cursor `after` (the last id of the previous page).
pub async fn list(
    state: &AppState,
    viewer: &person::Model,
    school: &str,
    after: Option<&str>,
    limit: Option<u64>,
) -> Result<AnnouncementPage, AppError> {
    let school = school_for(state, viewer, school).await?;
    let limit = limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
    let mut query = announcement::Entity::find()
        .filter(announcement::Column::OrgId.eq(school.id.as_str()))
        .filter(announcement::Column::WithdrawnAt.is_null());
    if let Some(after) = after.map(str::trim).filter(|a| !a.is_empty()) {
        let Some(mark) = announcement::Entity::find_by_id(after.to_owned())
            .one(&state.db)
            .await?
            .filter(|m| m.org_id == school.id)
        else {
            return Err(super::service::invalid(
                "after",
                "不是上一页给出的游标 / not a cursor from a previous page",
            ));
        };
        query = query.filter(
            Condition::any()
                .add(announcement::Column::PublishedAt.lt(mark.published_at))
                .add(
                    Condition::all()
                        .add(announcement::Column::PublishedAt.eq(mark.published_at))
                        .add(announcement::Column::Id.lt(mark.id)),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(announcement::Column::PublishedAt)
        .order_by_desc(announcement::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.clone())
    } else {
        None
    };
    let admin = relations::administers_org(&state.db, viewer, &school.id).await?;
    let mut announcements = views(&state.db, rows).await?;
    for a in &mut announcements {
        a.may_withdraw = admin;
    }
    Ok(AnnouncementPage {
        announcements,
        next,
    })
}

async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<announcement::Model>,
) -> Result<Vec<AnnouncementView>, DbErr> {
    let authors =
        store::people_by_id(db, rows.iter().map(|r| r.author_id.clone()).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|r| AnnouncementView {
            author: person_ref(authors.get(&r.author_id)),
            id: r.id,
            title: r.title,
            body: r.body,
            body_html: r.body_html,
            published_at: r.published_at,
            may_withdraw: false,
        })
        .collect())
}

/// For the spaces pages: the school's current announcements, newest first. Two queries. The
/// caller has decided the viewer belongs to the school.
pub async fn announcements_for_org(
    db: &impl ConnectionTrait,
    org_id: &str,
    limit: u64,
) -> Result<Vec<AnnouncementView>, DbErr> {
    let rows = announcement::Entity::find()
        .filter(announcement::Column::OrgId.eq(org_id))
        .filter(announcement::Column::WithdrawnAt.is_null())
        .order_by_desc(announcement::Column::PublishedAt)
        .order_by_desc(announcement::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    views(db, rows).await
}

/// `POST /api/v1/announcements/{id}/withdraw`: an administrator of the school hides it
/// (kept, with the time). Withdrawing it again changes nothing and succeeds.
pub async fn withdraw(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<announcement::Model, AppError> {
    let a = announcement::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !access::school_member(&state.db, caller, &a.org_id).await? {
        return Err(AppError::not_found());
    }
    if !relations::administers_org(&state.db, caller, &a.org_id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    if a.withdrawn_at.is_some() {
        return Ok(a);
    }
    let mut active = a.into_active_model();
    active.withdrawn_at = sea_orm::Set(Some(state.clock.now()));
    Ok(active.update(&state.db).await?)
}
