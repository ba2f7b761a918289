//! Attachments of messages and notices: streamed into the object store (never held whole in
//! memory), typed by their content's magic bytes rather than their name, and readable only by
//! their owner and by whoever may read a message or notice that carries them.

use axum::body::Body;
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entity::{attachment, message, notice};
use super::protocol::AttachmentView;
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// The largest attachment (a short video or a scanned form fits).
pub const MAX_SIZE: u64 = 20 * 1024 * 1024;

/// What families and teachers exchange: pictures, documents, audio and short videos.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heif",
    "image/heic",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "audio/mpeg",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/amr",
    "video/mp4",
    "video/quicktime",
];

fn clean_name(name: &str) -> String {
    crate::objects::clean_file_name(name, 120, "附件")
}

/// Store an upload for `owner`. The body streams to the object store; the first bytes decide
/// the type; an over-size or disallowed upload is removed and refused.
pub async fn upload(
    state: &AppState,
    owner: &person::Model,
    name: &str,
    body: Body,
) -> Result<AttachmentView, AppError> {
    let id = uuid::Uuid::now_v7().to_string();
    let key = format!("attachments/{}/{id}", &id[..8]);
    let path = ObjectPath::from(key.as_str());
    let upload = state
        .objects
        .put_multipart(&path)
        .await
        .map_err(AppError::internal)?;
    let mut writer = WriteMultipart::new(upload);
    let mut stream = body.into_data_stream();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(8192);
    let outcome: Result<(), AppError> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| AppError::new(ErrorCode::BadRequest))?;
            size += chunk.len() as u64;
            if size > MAX_SIZE {
                return Err(AppError::new(ErrorCode::PayloadTooLarge));
            }
            if head.len() < 8192 {
                let take = (8192 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            writer.write(&chunk);
        }
        Ok(())
    }
    .await;
    let content_type = infer::get(&head).map(|t| t.mime_type()).unwrap_or("");
    let refused = match outcome {
        Err(err) => Some(err),
        Ok(()) if size == 0 => Some(AppError::new(ErrorCode::EmptyBody)),
        Ok(()) if !ALLOWED.contains(&content_type) => {
            Some(AppError::new(ErrorCode::UnsupportedMediaType))
        }
        Ok(()) => None,
    };
    if let Some(err) = refused {
        let _ = writer.abort().await;
        return Err(err);
    }
    writer.finish().await.map_err(AppError::internal)?;
    let model = attachment::Model {
        id,
        owner_id: owner.id.clone(),
        object_key: key,
        name: clean_name(name),
        content_type: content_type.to_owned(),
        size: size as i64,
        created_at: state.clock.now(),
    };
    attachment::Entity::insert(attachment::ActiveModel::from(model.clone()))
        .exec_without_returning(&state.db)
        .await?;
    Ok(AttachmentView {
        id: model.id,
        name: model.name,
        content_type: model.content_type,
        size: model.size,
    })
}

/// Attachments on a new message or notice must be the sender's own uploads.
pub async fn check_owned(
    state: &AppState,
    owner: &person::Model,
    ids: &[String],
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.iter().cloned()))
        .filter(attachment::Column::OwnerId.eq(owner.id.as_str()))
        .all(&state.db)
        .await?;
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|a| a.id == **id)) {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "attachments")
            .with_arg(
                "hint",
                format!("{missing}：不是您上传的附件 / not an upload of yours"),
            ));
    }
    Ok(())
}

/// The attachment, for its owner or anyone who may read a message or notice carrying it;
/// anyone else gets "not found".
pub async fn for_reader(
    state: &AppState,
    reader: &person::Model,
    id: &str,
) -> Result<(attachment::Model, object_store::GetResult), AppError> {
    let a = attachment::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if a.owner_id != reader.id && !carried_to(state, reader, &a).await? {
        return Err(AppError::not_found());
    }
    let got = state
        .objects
        .get(&ObjectPath::from(a.object_key.as_str()))
        .await
        .map_err(AppError::internal)?;
    Ok((a, got))
}

/// Only the owner attaches an upload (see [`check_owned`]), so only the owner's messages and
/// notices (found through the sender index) can carry it.
async fn carried_to(
    state: &AppState,
    reader: &person::Model,
    a: &attachment::Model,
) -> Result<bool, AppError> {
    let quoted = format!("\"{}\"", a.id);
    for m in message::Entity::find()
        .filter(message::Column::SenderId.eq(a.owner_id.as_str()))
        .filter(message::Column::Attachments.contains(quoted.as_str()))
        .filter(message::Column::RecalledAt.is_null())
        .all(&state.db)
        .await?
    {
        let members = super::conversations::members(state, &m.conversation_id).await?;
        if members.contains(&reader.id) && (!m.held || m.sender_id == reader.id) {
            return Ok(true);
        }
    }
    for n in notice::Entity::find()
        .filter(notice::Column::SenderId.eq(a.owner_id.as_str()))
        .filter(notice::Column::Attachments.contains(quoted.as_str()))
        .all(&state.db)
        .await?
    {
        if super::notices::detail(state, reader, &n.id).await.is_ok() {
            return Ok(true);
        }
    }
    Ok(false)
}
