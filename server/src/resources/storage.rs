//! Resource files: an upload is spooled to a temporary file while it streams in (hashed, sized
//! and typed by its first bytes on the way, never held whole in memory), checked, and only then
//! streamed on to the object store under its content hash — so identical content is stored
//! once, and a refused or half-sent upload leaves nothing behind.

use std::path::Path;

use axum::body::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::entity::blob;
use super::extract;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// What a teaching resource may be: documents, presentations, spreadsheets, PDF, pictures,
/// audio, video, and text (plain, Markdown, HTML).
const ALLOWED: &[&str] = &[
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
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/svg+xml",
    "audio/mpeg",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/x-wav",
    "audio/ogg",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "text/plain",
    "text/markdown",
    "text/html",
];

const ACCEPTED_HINT: &str = "接受文档、演示文稿、表格、PDF、图片、音频、视频和文本文件 / accepted: documents, presentations, spreadsheets, PDF, pictures, audio, video and text";

/// An upload on local disk, checked, not yet in the object store.
pub struct Spooled {
    pub file: tempfile::TempPath,
    pub hash: String,
    pub size: u64,
    pub content_type: String,
    pub name: String,
}

fn clean_name(name: &str) -> String {
    crate::objects::clean_file_name(name, 160, "资源文件")
}

/// The type of a file from its first bytes; text files by their content, named by extension.
fn content_type(head: &[u8], name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        // OOXML and friends are zips; infer names most of them, the name tells the rest.
        if mime == "application/zip"
            && let Some(office) = crate::objects::office_type(&lower)
        {
            return Some(office.to_owned());
        }
        if mime == "text/html" || mime == "text/xml" {
            return Some(
                if lower.ends_with(".svg") {
                    "image/svg+xml"
                } else {
                    "text/html"
                }
                .to_owned(),
            );
        }
        return Some(mime.to_owned());
    }
    if !extract::looks_like_text(head) {
        return None;
    }
    let sniff = String::from_utf8_lossy(&head[..head.len().min(512)]).to_lowercase();
    let trimmed = sniff.trim_start();
    Some(
        if lower.ends_with(".html")
            || lower.ends_with(".htm")
            || trimmed.starts_with("<!doctype html")
            || trimmed.starts_with("<html")
        {
            "text/html"
        } else if lower.ends_with(".md") || lower.ends_with(".markdown") {
            "text/markdown"
        } else {
            "text/plain"
        }
        .to_owned(),
    )
}

/// Spool `body` to a temporary file under the data directory. Refuses an empty, over-size or
/// disallowed upload (the temporary file goes with the error).
pub async fn spool<S, E>(state: &AppState, name: &str, mut body: S) -> Result<Spooled, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let dir = state.config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AppError::internal)?;
    let temp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&dir)
        .map_err(AppError::internal)?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&temp)
        .await
        .map_err(AppError::internal)?;
    let max = state.config.resource_max_size;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(8192);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::debug!(error = %e, "upload interrupted");
            AppError::new(ErrorCode::BadRequest)
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(AppError::new(ErrorCode::FileTooLarge)
                .with_arg("max_mb", (max / (1024 * 1024)).to_string()));
        }
        if head.len() < 8192 {
            let take = (8192 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    file.flush().await.map_err(AppError::internal)?;
    drop(file);
    let name = clean_name(name);
    if size == 0 {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "file")
            .with_arg("hint", "文件是空的 / the file is empty"));
    }
    let detected = content_type(&head, &name);
    match detected {
        Some(t) if ALLOWED.contains(&t.as_str()) => Ok(Spooled {
            file: temp,
            hash: hex::encode(hasher.finalize()),
            size,
            content_type: t,
            name,
        }),
        other => Err(AppError::new(ErrorCode::FileTypeRefused)
            .with_arg("name", name)
            .with_arg(
                "detected",
                other.unwrap_or_else(|| "未知二进制 / unknown binary".to_owned()),
            )
            .with_arg("hint", ACCEPTED_HINT)),
    }
}

/// The object key of a content hash.
fn key(hash: &str) -> String {
    format!("resources/{}/{hash}", &hash[..2.min(hash.len())])
}

/// Put a spooled file in the object store unless identical content is already there, and
/// record it. Safe to race: two uploads of the same content write the same object.
pub async fn store(state: &AppState, spooled: &Spooled) -> Result<blob::Model, AppError> {
    if let Some(existing) = blob::Entity::find_by_id(spooled.hash.clone())
        .one(&state.db)
        .await?
    {
        return Ok(existing);
    }
    let object_key = key(&spooled.hash);
    upload_file(state, &spooled.file, &object_key).await?;
    let model = blob::Model {
        hash: spooled.hash.clone(),
        object_key,
        size: spooled.size as i64,
        content_type: spooled.content_type.clone(),
        created_at: state.clock.now(),
    };
    blob::Entity::insert(blob::ActiveModel {
        hash: Set(model.hash.clone()),
        object_key: Set(model.object_key.clone()),
        size: Set(model.size),
        content_type: Set(model.content_type.clone()),
        created_at: Set(model.created_at),
    })
    .on_conflict(
        OnConflict::column(blob::Column::Hash)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(model)
}

async fn upload_file(state: &AppState, path: &Path, object_key: &str) -> Result<(), AppError> {
    let upload = state
        .objects
        .put_multipart(&ObjectPath::from(object_key))
        .await
        .map_err(AppError::internal)?;
    let mut writer = WriteMultipart::new(upload);
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(AppError::internal)?;
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

/// Read a stored file as a stream.
pub async fn open(
    state: &AppState,
    hash: &str,
) -> Result<(blob::Model, object_store::GetResult), AppError> {
    let b = blob::Entity::find_by_id(hash.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let got = state
        .objects
        .get(&ObjectPath::from(b.object_key.as_str()))
        .await
        .map_err(AppError::internal)?;
    Ok((b, got))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        // A Windows executable named like a PDF.
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        let t = content_type(exe, "lesson.pdf");
        assert_ne!(t.as_deref(), Some("application/pdf"));
        assert!(!t.is_some_and(|t| ALLOWED.contains(&t.as_str())));
        assert_eq!(
            content_type(b"%PDF-1.4\n", "x.bin").as_deref(),
            Some("application/pdf")
        );
        assert_eq!(
            content_type("# 标题\n正文".as_bytes(), "a.md").as_deref(),
            Some("text/markdown")
        );
        assert_eq!(
            content_type("二次函数".as_bytes(), "a").as_deref(),
            Some("text/plain")
        );
    }
}
