//! Copying a lesson: a new draft of the caller's from their own lesson or a colleague's
//! published one.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    TransactionTrait,
};

use super::access::Viewer;
use super::entity::{attachment, lesson};
use super::service::{insert_with_first_version, open, render_body};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// `POST /api/v1/lessons/{id}/copy`: a new draft of the caller's from their own lesson or a
/// colleague's published one, its attachments copied by reference (the same stored objects).
/// Images in the body that pointed at the source's attachments point at the copy's.
pub async fn copy(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<lesson::Model, AppError> {
    let viewer = Viewer::load(&state.db, caller).await?;
    let (loaded, standing) = open(state, &viewer, id).await?;
    if !standing.may_copy() {
        return Err(AppError::not_found());
    }
    if !viewer.writes() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let source = loaded.lesson;
    let org_id = viewer
        .home_org(&state.db)
        .await?
        .unwrap_or_else(|| source.org_id.clone());
    let now = state.clock.now();
    let new_id = uuid::Uuid::now_v7().to_string();
    let files = attachment::Entity::find()
        .filter(attachment::Column::LessonId.eq(source.id.as_str()))
        .filter(attachment::Column::RemovedAt.is_null())
        .order_by_asc(attachment::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let mut body = source.body.clone();
    let mut copies = Vec::new();
    for a in files {
        let copy_id = uuid::Uuid::now_v7().to_string();
        body = body.replace(
            &format!("lessons/{}/attachments/{}", source.id, a.id),
            &format!("lessons/{new_id}/attachments/{copy_id}"),
        );
        copies.push(attachment::Model {
            id: copy_id,
            lesson_id: new_id.clone(),
            added_by: caller.id.clone(),
            created_at: now,
            removed_at: None,
            ..a
        });
    }
    let body_html = render_body(&body)?;
    let l = lesson::Model {
        id: new_id,
        owner_id: caller.id.clone(),
        org_id,
        title: source.title.clone(),
        body,
        body_html,
        version: 1,
        copied_from_id: Some(source.id.clone()),
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    insert_with_first_version(&txn, &l).await?;
    for a in copies {
        a.into_active_model().insert(&txn).await?;
    }
    txn.commit().await?;
    Ok(l)
}
