//! The messaging JSON API under `/api/v1` and the websocket at `/ws`: extract, call the
//! service, answer. Everything the pages do goes through these same services.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::audience::Target;
use super::conversations;
use super::messages::{self, Draft};
use super::notices::{self, NewNotice};
use super::{attachments, confirmations, settings, views, ws};
use crate::auth::Principal;
use crate::auth::client::ClientInfo;
use crate::error::{AppError, ErrorCode};
use crate::http::json::JsonBody;
use crate::people::relations;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/api/v1/unread", get(unread))
        .route(
            "/api/v1/conversations",
            get(list_conversations).post(open_conversation),
        )
        .route("/api/v1/conversations/{id}", get(conversation))
        .route(
            "/api/v1/conversations/{id}/messages",
            get(history).post(send),
        )
        .route("/api/v1/conversations/{id}/read", post(read_conversation))
        .route("/api/v1/messages/{id}", axum::routing::patch(edit))
        .route("/api/v1/messages/{id}/recall", post(recall))
        .route("/api/v1/classes/{class}/notices", post(post_class_notice))
        .route("/api/v1/schools/{school}/notices", post(post_school_notice))
        .route("/api/v1/notices", get(list_notices))
        .route("/api/v1/notices/{id}", get(notice))
        .route("/api/v1/notices/{id}/confirm", post(confirm))
        .route("/api/v1/notices/{id}/read", post(read_notice))
        .route("/api/v1/notices/{id}/remind", post(remind))
        .route("/api/v1/attachments/{id}", get(download))
        .route(
            "/api/v1/schools/{school}/messaging",
            get(school_settings).put(set_school_settings),
        )
        .route("/api/v1/me/messaging", get(prefs).put(set_prefs))
}

/// Uploads carry their own body limit (see `http::app`).
pub fn upload_router() -> Router<AppState> {
    Router::new().route("/api/v1/attachments", post(upload))
}

/// Attachments up to 20 MB, plus room for a multipart envelope.
pub const UPLOAD_LIMIT: usize = attachments::MAX_SIZE as usize + 64 * 1024;

#[derive(Deserialize)]
struct Page {
    after: Option<String>,
    before: Option<i64>,
    limit: Option<u64>,
}

impl Page {
    fn limit(&self) -> u64 {
        self.limit.unwrap_or(conversations::PAGE).clamp(1, 200)
    }
}

async fn unread(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    Ok(Json(ws::unread(&state, &caller.person).await?).into_response())
}

async fn list_conversations(
    State(state): State<AppState>,
    caller: Principal,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (items, next) =
        conversations::list(&state, &caller.person, page.after.as_deref(), page.limit()).await?;
    Ok(Json(json!({"conversations": items, "next": next})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenConversation {
    /// A person's sourcedId: the 1:1 conversation with them.
    with: Option<String>,
    /// A class's sourcedId: the group of its teachers.
    class: Option<String>,
}

async fn open_conversation(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(body): JsonBody<OpenConversation>,
) -> Result<Response, AppError> {
    let (view, created) = match (body.with, body.class) {
        (Some(with), None) => conversations::open_direct(&state, &caller.person, &with).await?,
        (None, Some(class)) => {
            conversations::open_class_group(&state, &caller.person, &class).await?
        }
        _ => {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "with / class")
                .with_arg("hint", "二者给出其一 / give exactly one"));
        }
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

async fn conversation(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(conversations::get(&state, &caller.person, &id).await?).into_response())
}

async fn history(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (messages, next) =
        messages::history(&state, &caller.person, &id, page.before, page.limit()).await?;
    Ok(Json(json!({"messages": messages, "next": next})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    body: String,
    nonce: String,
    #[serde(default)]
    attachments: Vec<String>,
}

async fn send(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SendBody>,
) -> Result<Response, AppError> {
    let draft = Draft {
        conversation: &id,
        body: &body.body,
        nonce: &body.nonce,
        attachments: &body.attachments,
    };
    let started = state.clock.now();
    let m = messages::send(&state, &caller.person, draft).await?;
    // A replayed nonce answers with what was stored the first time.
    let status = if m.created_at >= started {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let view = views::message(&state, &m, true).await?;
    Ok((status, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    seq: i64,
}

async fn read_conversation(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReadBody>,
) -> Result<Response, AppError> {
    messages::receipt(&state, &caller.person, &id, body.seq, body.seq).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    body: String,
}

async fn edit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditBody>,
) -> Result<Response, AppError> {
    Ok(Json(messages::edit(&state, &caller.person, &id, &body.body).await?).into_response())
}

async fn recall(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(messages::recall(&state, &caller.person, &id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub requires_confirmation: bool,
    #[serde(default)]
    pub include_students: bool,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub attachments: Vec<String>,
    pub nonce: Option<String>,
    #[serde(default)]
    pub acknowledge_named_pupils: bool,
    /// For a school's notice: only this grade.
    pub grade: Option<String>,
}

impl NoticeBody {
    pub fn into_new(self) -> NewNotice {
        NewNotice {
            title: self.title,
            body: self.body,
            requires_confirmation: self.requires_confirmation,
            include_students: self.include_students,
            urgent: self.urgent,
            attachments: self.attachments,
            nonce: self.nonce,
            acknowledge_named_pupils: self.acknowledge_named_pupils,
        }
    }
}

fn posted(n: &super::entity::notice::Model) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({
            "id": n.id,
            "held_until": n.held.then_some(n.deliver_at),
        })),
    )
        .into_response()
}

async fn post_class_notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(class): Path<String>,
    JsonBody(body): JsonBody<NoticeBody>,
) -> Result<Response, AppError> {
    if body.grade.is_some() {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "grade")
            .with_arg("hint", "班级通知不分年级 / a class notice has no grade"));
    }
    let class = relations::class_by_sourced_id(&state.db, &class)
        .await?
        .ok_or_else(AppError::not_found)?;
    let n = notices::post(
        &state,
        &caller.person,
        Target::Class(class.id),
        body.into_new(),
    )
    .await?;
    Ok(posted(&n))
}

async fn post_school_notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
    JsonBody(body): JsonBody<NoticeBody>,
) -> Result<Response, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let org = crate::roster::entity::org::Entity::find()
        .filter(crate::roster::entity::org::Column::SourcedId.eq(school.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let target = match body.grade.clone().filter(|g| !g.trim().is_empty()) {
        Some(grade) => Target::Grade {
            school: org.id,
            grade: grade.trim().to_owned(),
        },
        None => Target::School(org.id),
    };
    let n = notices::post(&state, &caller.person, target, body.into_new()).await?;
    Ok(posted(&n))
}

async fn list_notices(
    State(state): State<AppState>,
    caller: Principal,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (items, next) =
        notices::list(&state, &caller.person, page.after.as_deref(), page.limit()).await?;
    Ok(Json(json!({"notices": items, "next": next})).into_response())
}

async fn notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(notices::detail(&state, &caller.person, &id).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    student: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    // The body is optional: `{"student": sourcedId}` when the parent has several children.
    let body: ConfirmBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConfirmBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "body")
                .with_arg("hint", e.to_string())
        })?
    };
    let detail =
        confirmations::confirm(&state, &caller.person, &id, body.student.as_deref()).await?;
    Ok(Json(detail).into_response())
}

async fn read_notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    confirmations::mark_read(&state, &caller.person, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remind(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let reminded = confirmations::remind(&state, &caller.person, &id).await?;
    Ok(Json(json!({"reminded": reminded})).into_response())
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    caller: Principal,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, AppError> {
    let name = query.name.unwrap_or_default();
    let view = attachments::upload(&state, &caller.person, &name, body).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn download(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (a, got) = attachments::for_reader(&state, &caller.person, &id).await?;
    let disposition = if a.content_type.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let encoded: String = url::form_urlencoded::byte_serialize(a.name.as_bytes()).collect();
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_LENGTH, a.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{encoded}"),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        Body::from_stream(got.into_stream()),
    )
        .into_response())
}

async fn school_settings(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(settings::school(&state, &caller.person, &school).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchoolBody {
    quiet_hours: String,
}

async fn set_school_settings(
    State(state): State<AppState>,
    caller: Principal,
    client: ClientInfo,
    Path(school): Path<String>,
    JsonBody(body): JsonBody<SchoolBody>,
) -> Result<Response, AppError> {
    let done =
        settings::set_quiet_hours(&state, &caller.person, &client, &school, &body.quiet_hours)
            .await?;
    Ok(Json(done).into_response())
}

async fn prefs(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    Ok(Json(settings::prefs(&state, &caller.person).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefsBody {
    delivery: String,
}

async fn set_prefs(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(body): JsonBody<PrefsBody>,
) -> Result<Response, AppError> {
    Ok(Json(settings::set_prefs(&state, &caller.person, &body.delivery).await?).into_response())
}
