//! A lesson's attachments: pictures and documents uploaded to it, and teaching resources
//! attached by reference.
//!
//! An upload is spooled by `resources::storage::spool` (typed by its first bytes, sized as it
//! streams, never whole in memory), checked against what a lesson may carry, and only then
//! streamed to the object store under a key of its own; a refused upload leaves nothing
//! behind, and a row that cannot be written takes its object with it. Removing an attachment
//! marks it removed: copies of the lesson share the stored object.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use utoipa::ToSchema;

use super::access::Viewer;
use super::entity::attachment;
use super::service::{self, invalid};
use crate::error::{AppError, ErrorCode};
use crate::resources::entity::{resource, version as resource_version};
use crate::resources::storage::Spooled;
use crate::resources::{service as resources, usage};
use crate::roster::entity::person;
use crate::state::AppState;

/// At most this many attachments on one lesson.
pub const MAX_ATTACHMENTS: u64 = 30;

/// Pictures and documents: what a lesson carries.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/epub+zip",
    "text/plain",
    "text/markdown",
];

const ACCEPTED_HINT: &str = "课的附件可以是图片（JPEG、PNG、GIF、WebP）或文档（PDF、Word、Excel、PowerPoint、WPS/ODF、纯文本） / a lesson takes pictures (JPEG, PNG, GIF, WebP) and documents (PDF, Word, Excel, PowerPoint, ODF, plain text)";

/// `{"resource": id}`: attach a teaching resource by reference.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachResource {
    pub resource: String,
}

/// The multipart form of an upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// One picture or document.
    #[schema(content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
}

/// A teaching resource an attachment refers to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceRef {
    pub id: String,
    pub title: String,
}

/// One attachment of a lesson.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = lessons::AttachmentView)]
pub struct AttachmentView {
    pub id: String,
    /// `image`, `file` or `resource`.
    pub kind: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<i64>,
    /// Where to get it; a picture's URL may be used in the lesson's Markdown.
    pub url: String,
    pub resource: Option<ResourceRef>,
    pub created_at: DateTime<Utc>,
}

fn url(lesson_id: &str, id: &str) -> String {
    format!("/api/v1/lessons/{lesson_id}/attachments/{id}")
}

/// The lesson's attachments (not removed), oldest first.
pub async fn list(state: &AppState, lesson_id: &str) -> Result<Vec<AttachmentView>, AppError> {
    let rows = attachment::Entity::find()
        .filter(attachment::Column::LessonId.eq(lesson_id))
        .filter(attachment::Column::RemovedAt.is_null())
        .order_by_asc(attachment::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let titles = resource_titles(state, rows.iter().filter_map(|a| a.resource_id.clone())).await?;
    Ok(rows
        .into_iter()
        .map(|a| AttachmentView {
            url: url(lesson_id, &a.id),
            resource: a.resource_id.as_ref().map(|rid| ResourceRef {
                id: rid.clone(),
                title: titles
                    .get(rid)
                    .cloned()
                    .or_else(|| a.file_name.clone())
                    .unwrap_or_default(),
            }),
            id: a.id,
            kind: a.kind,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            created_at: a.created_at,
        })
        .collect())
}

/// Resource id → the title of its published (else latest) version.
async fn resource_titles(
    state: &AppState,
    ids: impl Iterator<Item = String>,
) -> Result<HashMap<String, String>, AppError> {
    let ids: Vec<String> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids))
        .all(&state.db)
        .await?;
    let version_ids: Vec<String> = resources
        .iter()
        .map(|r| {
            r.published_version_id
                .clone()
                .unwrap_or_else(|| r.latest_version_id.clone())
        })
        .collect();
    let titles: HashMap<String, String> = resource_version::Entity::find()
        .filter(resource_version::Column::Id.is_in(version_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|v| (v.resource_id, v.title))
        .collect();
    Ok(titles)
}

/// The owner may add another attachment to the lesson (checked before an upload is read).
pub async fn may_add(state: &AppState, owner: &person::Model, id: &str) -> Result<(), AppError> {
    let viewer = Viewer::load(&state.db, owner).await?;
    service::open_own(state, &viewer, id).await?;
    let count = attachment::Entity::find()
        .filter(attachment::Column::LessonId.eq(id))
        .filter(attachment::Column::RemovedAt.is_null())
        .count(&state.db)
        .await?;
    if count >= MAX_ATTACHMENTS {
        return Err(AppError::new(ErrorCode::TooManyAttachments)
            .with_arg("max", MAX_ATTACHMENTS.to_string()));
    }
    Ok(())
}

/// Store an uploaded picture or document on the owner's lesson.
pub async fn add_file(
    state: &AppState,
    owner: &person::Model,
    id: &str,
    file: Spooled,
) -> Result<AttachmentView, AppError> {
    may_add(state, owner, id).await?;
    if !ALLOWED.contains(&file.content_type.as_str()) {
        return Err(AppError::new(ErrorCode::FileTypeRefused)
            .with_arg("name", file.name.clone())
            .with_arg("detected", file.content_type.clone())
            .with_arg("hint", ACCEPTED_HINT));
    }
    let attachment_id = uuid::Uuid::now_v7().to_string();
    let object_key = format!("lessons/{id}/{attachment_id}");
    put_file(state, &file.file, &object_key).await?;
    let kind = if file.content_type.starts_with("image/") {
        "image"
    } else {
        "file"
    };
    let row = attachment::Model {
        id: attachment_id,
        lesson_id: id.to_owned(),
        kind: kind.to_owned(),
        object_key: Some(object_key.clone()),
        file_name: Some(file.name.clone()),
        content_type: Some(file.content_type.clone()),
        size: Some(file.size as i64),
        resource_id: None,
        added_by: owner.id.clone(),
        created_at: state.clock.now(),
        removed_at: None,
    };
    if let Err(err) = attachment::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&state.db)
        .await
    {
        // Nothing refers to the object: it goes with the row that failed.
        let _ = state.objects.delete(&ObjectPath::from(object_key)).await;
        return Err(err.into());
    }
    Ok(view(row, None))
}

fn view(a: attachment::Model, resource: Option<ResourceRef>) -> AttachmentView {
    AttachmentView {
        url: url(&a.lesson_id, &a.id),
        id: a.id,
        kind: a.kind,
        file_name: a.file_name,
        content_type: a.content_type,
        size: a.size,
        resource,
        created_at: a.created_at,
    }
}

/// Attach a published teaching resource the owner may see, by reference; it counts as a use of
/// the resource in a lesson.
pub async fn add_resource(
    state: &AppState,
    owner: &person::Model,
    id: &str,
    resource_id: &str,
) -> Result<AttachmentView, AppError> {
    may_add(state, owner, id).await?;
    let resource_id = resource_id.trim();
    let not_seen = || {
        invalid(
            "resource",
            format!(
                "没有您能查看的已入库资源 {resource_id} / there is no published resource {resource_id} that you may see"
            ),
        )
    };
    let (r, versions) = resources::load(&state.db, resource_id)
        .await?
        .ok_or_else(not_seen)?;
    let standing = resources::standing(state, owner, &r, &versions).await?;
    if !standing.reader {
        return Err(not_seen());
    }
    let title = resources::published(&r, &versions)
        .map(|v| v.title.clone())
        .unwrap_or_default();
    let already = attachment::Entity::find()
        .filter(attachment::Column::LessonId.eq(id))
        .filter(attachment::Column::ResourceId.eq(resource_id))
        .filter(attachment::Column::RemovedAt.is_null())
        .count(&state.db)
        .await?;
    if already > 0 {
        return Err(invalid(
            "resource",
            format!("资源“{title}”已经附在本课上 / \"{title}\" is already attached"),
        ));
    }
    let row = attachment::Model {
        id: uuid::Uuid::now_v7().to_string(),
        lesson_id: id.to_owned(),
        kind: "resource".to_owned(),
        object_key: None,
        file_name: Some(title.clone()),
        content_type: None,
        size: None,
        resource_id: Some(r.id.clone()),
        added_by: owner.id.clone(),
        created_at: state.clock.now(),
        removed_at: None,
    };
    attachment::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&state.db)
        .await?;
    usage::record(state, owner, &r.id, usage::Use::Lesson).await?;
    Ok(view(
        row,
        Some(ResourceRef {
            id: r.id.clone(),
            title,
        }),
    ))
}

/// What a download gives: a stored file, or the resource an attachment refers to.
pub enum Download {
    File(Box<StoredFile>),
    Resource(String),
}

/// An attachment's row and its bytes, opened.
pub struct StoredFile {
    pub attachment: attachment::Model,
    pub got: object_store::GetResult,
}

/// An attachment, for whoever may see the lesson.
pub async fn download(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
    attachment_id: &str,
) -> Result<Download, AppError> {
    let viewer = Viewer::load(&state.db, viewer).await?;
    service::open(state, &viewer, id).await?;
    let a = find(state, id, attachment_id).await?;
    if let Some(rid) = &a.resource_id {
        return Ok(Download::Resource(rid.clone()));
    }
    let key = a.object_key.clone().ok_or_else(AppError::not_found)?;
    let got = state
        .objects
        .get(&ObjectPath::from(key.as_str()))
        .await
        .map_err(AppError::internal)?;
    Ok(Download::File(Box::new(StoredFile { attachment: a, got })))
}

async fn find(
    state: &AppState,
    id: &str,
    attachment_id: &str,
) -> Result<attachment::Model, AppError> {
    attachment::Entity::find_by_id(attachment_id.to_owned())
        .one(&state.db)
        .await?
        .filter(|a| a.lesson_id == id && a.removed_at.is_none())
        .ok_or_else(AppError::not_found)
}

/// The owner removes an attachment: marked removed, never deleted.
pub async fn remove(
    state: &AppState,
    owner: &person::Model,
    id: &str,
    attachment_id: &str,
) -> Result<(), AppError> {
    let viewer = Viewer::load(&state.db, owner).await?;
    service::open_own(state, &viewer, id).await?;
    let a = find(state, id, attachment_id).await?;
    attachment::Entity::update_many()
        .col_expr(
            attachment::Column::RemovedAt,
            Expr::value(state.clock.now()),
        )
        .filter(attachment::Column::Id.eq(a.id.as_str()))
        .filter(attachment::Column::RemovedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Stream a spooled file to the object store; a failed upload is aborted.
async fn put_file(state: &AppState, path: &std::path::Path, key: &str) -> Result<(), AppError> {
    let upload = state
        .objects
        .put_multipart(&ObjectPath::from(key))
        .await
        .map_err(AppError::internal)?;
    let mut writer = WriteMultipart::new(upload);
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(err) => {
            let _ = writer.abort().await;
            return Err(AppError::internal(err));
        }
    };
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = match file.read(&mut buffer).await {
            Ok(n) => n,
            Err(err) => {
                let _ = writer.abort().await;
                return Err(AppError::internal(err));
            }
        };
        if n == 0 {
            break;
        }
        writer
            .wait_for_capacity(4)
            .await
            .map_err(AppError::internal)?;
        writer.write(&buffer[..n]);
    }
    writer.finish().await.map_err(AppError::internal)?;
    Ok(())
}
