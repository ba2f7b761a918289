//! Reading a hand-in's body, for the API and the page alike: JSON `{"text"}`, a plain form,
//! or `multipart/form-data` with a `text` part and any number of `file` parts (each spooled to
//! disk as it arrives, see `storage`).

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde::Deserialize;
use utoipa::ToSchema;

use super::service::invalid;
use super::storage::{self, MAX_FILES};
use super::submissions::{HandIn, MAX_TEXT};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The most bytes a text part may have (a character takes at most four).
const TEXT_BYTES: usize = MAX_TEXT * 4 + 1024;

/// A hand-in as JSON.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandInText {
    #[serde(default)]
    pub text: String,
}

/// A hand-in as `multipart/form-data` (documents the form; the parts are read as they come).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HandInForm {
    /// What the pupil wrote (optional when files are attached).
    pub text: Option<String>,
    /// One part per file; at most 10.
    #[schema(content_media_type = "application/octet-stream")]
    pub file: Vec<Vec<u8>>,
}

fn unreadable(hint: String) -> AppError {
    invalid("body", hint)
}

/// Read a hand-in from `request`.
pub async fn read(state: &AppState, request: Request) -> Result<HandIn, AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| unreadable(format!("multipart: {}", e.body_text())))?;
        return read_multipart(state, multipart).await;
    }
    let json = content_type.starts_with("application/json");
    if !json && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::new(ErrorCode::UnsupportedMediaType));
    }
    let bytes = axum::body::to_bytes(request.into_body(), TEXT_BYTES)
        .await
        .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge))?;
    let text = if json {
        serde_json::from_slice::<HandInText>(&bytes)
            .map_err(|e| unreadable(e.to_string()))?
            .text
    } else {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "text")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(HandIn {
        text,
        files: Vec::new(),
    })
}

async fn read_multipart(state: &AppState, mut multipart: Multipart) -> Result<HandIn, AppError> {
    let mut hand_in = HandIn {
        text: String::new(),
        files: Vec::new(),
    };
    let mut used: u64 = 0;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(format!("multipart: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                // A file input left empty still sends a part, with no file name.
                let file_name = field.file_name().unwrap_or("").to_owned();
                if file_name.is_empty() {
                    continue;
                }
                if hand_in.files.len() == MAX_FILES {
                    return Err(AppError::new(ErrorCode::TooManyAttachments)
                        .with_arg("max", MAX_FILES.to_string()));
                }
                let spooled = storage::spool(state, &file_name, used, field).await?;
                used += spooled.size;
                hand_in.files.push(spooled);
            }
            "text" => {
                let mut bytes = Vec::new();
                while let Some(chunk) =
                    field.chunk().await.map_err(|e| unreadable(e.body_text()))?
                {
                    if bytes.len() + chunk.len() > TEXT_BYTES {
                        return Err(invalid(
                            "text",
                            format!("最多 {MAX_TEXT} 个字 / at most {MAX_TEXT} characters"),
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                hand_in.text = String::from_utf8(bytes)
                    .map_err(|_| invalid("text", "不是 UTF-8 文本 / not UTF-8 text"))?;
            }
            // The page's form carries its CSRF token in the query, but a form may repeat it.
            "csrf" => {}
            other => {
                return Err(invalid(
                    other,
                    "不认识的字段：只有 text 和 file / unknown part: use text and file",
                ));
            }
        }
    }
    Ok(hand_in)
}
