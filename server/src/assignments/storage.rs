//! The files of a hand-in: each is spooled to a temporary file while it streams in (sized and
//! typed by its first bytes on the way, never held whole in memory) and checked against the
//! per-file and per-hand-in limits; only when every file of the hand-in has passed are they
//! streamed on to the object store. A refused hand-in leaves nothing behind: the temporary
//! files go with the error, and objects whose rows were not committed are deleted again.

use std::path::Path;

use axum::body::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{AppError, ErrorCode};
use crate::resources::extract::looks_like_text;
use crate::state::AppState;

/// The most files one hand-in may carry.
pub const MAX_FILES: usize = 10;

/// What pupils hand in: pictures, PDF, office documents, text, audio and video.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heif",
    "image/heic",
    "image/bmp",
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
    "text/plain",
    "text/markdown",
    "audio/mpeg",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/amr",
    "audio/x-wav",
    "audio/ogg",
    "audio/x-flac",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-m4v",
];

const ACCEPTED_HINT: &str = "可以提交图片、PDF、Word/Excel/PowerPoint 文档、文本、音频和视频 / accepted: pictures, PDF, office documents, text, audio and video";

/// A checked file of a hand-in, on local disk, not yet in the object store.
pub struct Spooled {
    pub file: tempfile::TempPath,
    pub size: u64,
    pub content_type: String,
    pub name: String,
}

/// The type of a file from its first bytes; office documents (zips) by their name too; text
/// by its content.
fn sniff(head: &[u8], name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        if mime == "application/zip"
            && let Some(office) = crate::objects::office_type(&lower)
        {
            return Some(office.to_owned());
        }
        // Markup is text a pupil wrote; it is only ever downloaded, never shown as a page.
        if mime == "text/html" || mime == "text/xml" {
            return Some("text/plain".to_owned());
        }
        return Some(mime.to_owned());
    }
    if !looks_like_text(head) {
        return None;
    }
    Some(
        if lower.ends_with(".md") || lower.ends_with(".markdown") {
            "text/markdown"
        } else {
            "text/plain"
        }
        .to_owned(),
    )
}

/// Spool one file part. `used` is what the hand-in's earlier files took; the file is refused
/// when it alone, or the hand-in with it, is over the limit, when it is empty, or when its
/// content is of a type pupils do not hand in.
pub async fn spool<S, E>(
    state: &AppState,
    name: &str,
    used: u64,
    mut body: S,
) -> Result<Spooled, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let name = crate::objects::clean_file_name(name, 160, "作业文件");
    let dir = state.config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(AppError::internal)?;
    let temp = tempfile::Builder::new()
        .prefix("hand-in-")
        .tempfile_in(&dir)
        .map_err(AppError::internal)?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&temp)
        .await
        .map_err(AppError::internal)?;
    let (per_file, total) = (
        state.config.submission_max_size,
        state.config.submission_total_size,
    );
    let mb = |bytes: u64| (bytes / (1024 * 1024)).to_string();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(8192);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::debug!(error = %e, "hand-in upload interrupted");
            AppError::new(ErrorCode::BadRequest)
        })?;
        size += chunk.len() as u64;
        if size > per_file {
            return Err(AppError::new(ErrorCode::SubmissionFileTooLarge)
                .with_arg("name", name)
                .with_arg("max_mb", mb(per_file)));
        }
        if used + size > total {
            return Err(AppError::new(ErrorCode::SubmissionTooLarge).with_arg("max_mb", mb(total)));
        }
        if head.len() < 8192 {
            let take = (8192 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    file.flush().await.map_err(AppError::internal)?;
    drop(file);
    if size == 0 {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "file")
            .with_arg("hint", format!("{name} 是空文件 / {name} is empty")));
    }
    match sniff(&head, &name) {
        Some(t) if ALLOWED.contains(&t.as_str()) => Ok(Spooled {
            file: temp,
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

/// Stream a spooled file to the object store under `key`.
pub async fn put(state: &AppState, path: &Path, key: &str) -> Result<(), AppError> {
    let upload = state
        .objects
        .put_multipart(&ObjectPath::from(key))
        .await
        .map_err(AppError::internal)?;
    let mut writer = WriteMultipart::new(upload);
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
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

/// Delete objects whose rows were never committed (best effort: a failure is logged).
pub async fn remove(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(err) = state.objects.delete(&ObjectPath::from(key.as_str())).await {
            tracing::warn!(key, error = %err, "an uncommitted hand-in file could not be removed");
        }
    }
}

/// A stored file, as a stream.
pub async fn open(state: &AppState, key: &str) -> Result<object_store::GetResult, AppError> {
    state
        .objects
        .get(&ObjectPath::from(key))
        .await
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(head: &[u8], name: &str) -> bool {
        sniff(head, name).is_some_and(|t| ALLOWED.contains(&t.as_str()))
    }

    #[test]
    fn hand_ins_are_typed_by_their_bytes() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert!(!allowed(exe, "作文.pdf"));
        let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
        assert!(!allowed(elf, "notes.txt"));
        assert!(allowed(b"%PDF-1.7\n", "x.bin"));
        assert!(allowed(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "photo"));
        assert!(allowed("我的作文：春天来了。".as_bytes(), "作文.txt"));
        assert_eq!(
            sniff("# 标题".as_bytes(), "a.md").as_deref(),
            Some("text/markdown")
        );
        assert!(!allowed(b"\x00\x01\x02\x03\xff\xfe\x00\x00", "data.bin"));
    }
}
