//! The forms on a lesson's page: publish (classes and an optional time), withdraw, copy,
//! attach (an upload or a resource), remove an attachment, ask and answer. Each calls the
//! service the API calls, then goes back to the page saying what was done (303), or shows the
//! page again with why not and what was typed.

use axum::Form;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::detail::{Kept, show};
use super::{Words, flash, form_pairs, form_value};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::PageContext;
use crate::http::page::{Page, signed_in};
use crate::lessons::attachments;
use crate::lessons::publishing::{self, Publish, Unpublish};
use crate::lessons::questions::{self, Answer, Ask};
use crate::lessons::service::invalid;
use crate::resources::storage;
use crate::roster::entity::person;
use crate::state::AppState;

/// After an action: to `done` (a path on this site built from stored ids), or the lesson's
/// page with why not and what was typed.
async fn answer_with(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    result: Result<String, AppError>,
    kept: Kept,
) -> Page {
    match result {
        Ok(done) => Ok(see_other(&done)),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(state, ctx, me, id, Some((f.text, f.status)), kept).await
        }
    }
}

/// A `datetime-local` value (`2026-12-07T08:00`) on the school's clock, as RFC 3339.
fn local_time(state: &AppState, value: &str) -> Result<Option<String>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            invalid(
                "at",
                format!("“{value}”不是日期时间 / \"{value}\" is not a date and time"),
            )
        })?;
    let at = state
        .config
        .time_zone
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| {
            invalid(
                "at",
                format!("“{value}”不存在 / \"{value}\" does not exist"),
            )
        })?;
    Ok(Some(at.with_timezone(&Utc).to_rfc3339()))
}

pub(super) async fn publish(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let pairs = form_pairs(&body);
    let classes: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "classes")
        .map(|(_, v)| v.clone())
        .collect();
    let kept = Kept {
        at: form_value(&pairs, "at").to_owned(),
        ..Kept::default()
    };
    let result = async {
        let at = local_time(&state, &kept.at)?;
        publishing::publish(&state, me, &id, Publish { classes, at }).await?;
        Ok(format!("/lessons/{id}?done=published"))
    }
    .await;
    answer_with(&state, &ctx, me, &id, result, kept).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ClassField {
    class: String,
}

pub(super) async fn unpublish(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<ClassField>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let input = Unpublish {
        classes: vec![form.class],
    };
    let result = publishing::unpublish(&state, me, &id, input)
        .await
        .map(|_| format!("/lessons/{id}?done=withdrawn"));
    answer_with(&state, &ctx, me, &id, result, Kept::default()).await
}

pub(super) async fn copy(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let copied = crate::lessons::copying::copy(&state, me, &id).await?;
    Ok(see_other(&format!("/lessons/{}?done=copied", copied.id)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AskFields {
    class: String,
    body: String,
}

pub(super) async fn ask(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<AskFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let input = Ask {
        class: form.class.clone(),
        body: form.body.clone(),
    };
    let result = questions::ask(&state, me, &id, input)
        .await
        .map(|q| format!("/lessons/{id}?done=asked#q-{}", q.question.id));
    let kept = Kept {
        ask_class: form.class,
        body: form.body,
        ..Kept::default()
    };
    answer_with(&state, &ctx, me, &id, result, kept).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BodyField {
    body: String,
}

pub(super) async fn answer(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, qid)): Path<(String, String)>,
    Form(form): Form<BodyField>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let input = Answer {
        body: form.body.clone(),
    };
    let result = questions::answer(&state, me, &id, &qid, input)
        .await
        .map(|_| format!("/lessons/{id}?done=answered#q-{qid}"));
    let kept = Kept {
        answer_to: qid.clone(),
        body: form.body,
        ..Kept::default()
    };
    answer_with(&state, &ctx, me, &id, result, kept).await
}

pub(super) async fn remove(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, aid)): Path<(String, String)>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let result = attachments::remove(&state, me, &id, &aid)
        .await
        .map(|()| format!("/lessons/{id}?done=removed#attachments"));
    answer_with(&state, &ctx, me, &id, result, Kept::default()).await
}

/// The resource form is a line of text.
const FORM_LIMIT: usize = 16 * 1024;

/// A resource named by its id or by the address of its page.
fn resource_id(value: &str) -> String {
    let value = value.trim();
    let path = value.split(['?', '#']).next().unwrap_or("");
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// The attachment forms: `multipart/form-data` with a `file` (the upload), or a plain form
/// naming a `resource`.
pub(super) async fn attach(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    request: Request,
) -> Page {
    let me = &signed_in(&ctx, &format!("/lessons/{id}"))?.person;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut kept = Kept::default();
    let result = async {
        // Only the owner's upload is read at all.
        attachments::may_add(&state, me, &id).await?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            // Uploads have no body limit of their own: this small form gets one.
            let body = axum::body::to_bytes(request.into_body(), FORM_LIMIT)
                .await
                .map_err(|_| AppError::new(ErrorCode::PayloadTooLarge))?;
            let pairs = form_pairs(&body);
            kept.resource = form_value(&pairs, "resource").to_owned();
            let rid = resource_id(&kept.resource);
            if rid.is_empty() {
                return Err(invalid(
                    "resource",
                    "请填写资源编号 / give the resource's id",
                ));
            }
            attachments::add_resource(&state, me, &id, &rid).await?;
        } else if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, &state)
                .await
                .map_err(|e| invalid("body", e.body_text()))?;
            let mut file = None;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| invalid("body", e.body_text()))?
            {
                let name = field.file_name().unwrap_or("").to_owned();
                if field.name() == Some("file") && !name.is_empty() && file.is_none() {
                    file = Some(storage::spool(&state, &name, field).await?);
                }
            }
            let file = file.ok_or_else(|| invalid("file", "请选择文件 / choose a file"))?;
            attachments::add_file(&state, me, &id, file).await?;
        } else {
            return Err(AppError::new(ErrorCode::UnsupportedMediaType));
        }
        Ok(format!("/lessons/{id}?done=attached#attachments"))
    }
    .await;
    answer_with(&state, &ctx, me, &id, result, kept).await
}

#[cfg(test)]
mod tests {
    use super::resource_id;

    #[test]
    fn a_resource_is_named_by_its_id_or_its_page() {
        assert_eq!(resource_id(" 0190-ab "), "0190-ab");
        assert_eq!(
            resource_id("https://kj.example.cn/resources/0190-ab?x=1"),
            "0190-ab"
        );
        assert_eq!(resource_id("/resources/0190-ab/"), "0190-ab");
        assert_eq!(resource_id(""), "");
    }
}
