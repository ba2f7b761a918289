//! The messaging JSON API under `/api/v1` and the websocket at `/ws`: extract, call the
//! service, answer. Everything the pages do goes through these same services.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audience::Target;
use super::conversations::{self, ConversationView};
use super::messages::{self, Draft};
use super::notices::{self, NewNotice, NoticeDetail, NoticeLine};
use super::protocol::{AttachmentView, MessageView, Unread};
use super::settings::{Prefs, SchoolSettings};
use super::{attachments, confirmations, settings, views, ws};
use crate::auth::Principal;
use crate::auth::client::ClientInfo;
use crate::error::{AppError, ErrorCode};
use crate::http::json::JsonBody;
use crate::http::openapi::{Binary, ErrorBody, answers};
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

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    ws::upgrade,
    unread,
    list_conversations,
    open_conversation,
    conversation,
    history,
    send,
    read_conversation,
    edit,
    recall,
    post_class_notice,
    post_school_notice,
    list_notices,
    notice,
    confirm,
    read_notice,
    remind,
    upload,
    download,
    school_settings,
    set_school_settings,
    prefs,
    set_prefs,
))]
pub struct Api;

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

/// 未读数 / Unread counts
///
/// What the caller has not read: messages per conversation, and notices.
#[utoipa::path(
    get,
    path = "/api/v1/unread",
    tag = "messaging",
    responses(
        (status = 200, description = "未读数 / the unread counts", body = Unread),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn unread(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    Ok(Json(ws::unread(&state, &caller.person).await?).into_response())
}

/// A page of the caller's conversations.
#[derive(Serialize, utoipa::ToSchema)]
struct ConversationPage {
    conversations: Vec<ConversationView>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// 我的会话列表 / My conversations
///
/// The caller's conversations, most recent activity first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "messaging",
    params(
        ("after" = Option<String>, Query, description = "上一页的 `next` / the previous page's `next`"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "每页条数，1–200 / per page, 1–200"),
    ),
    responses(
        (status = 200, description = "一页会话 / one page of conversations", body = ConversationPage),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn list_conversations(
    State(state): State<AppState>,
    caller: Principal,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (conversations, next) =
        conversations::list(&state, &caller.person, page.after.as_deref(), page.limit()).await?;
    Ok(Json(ConversationPage {
        conversations,
        next,
    })
    .into_response())
}

/// Exactly one of `with` and `class`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OpenConversation {
    /// A person's sourcedId: the 1:1 conversation with them.
    with: Option<String>,
    /// A class's sourcedId: the group of its teachers.
    class: Option<String>,
}

/// 发起会话 / Open a conversation
///
/// Open (or find) a conversation: the 1:1 one with a person the caller is related to, or the
/// group of a class's teachers.
#[utoipa::path(
    post,
    path = "/api/v1/conversations",
    tag = "messaging",
    request_body = OpenConversation,
    responses(
        (status = 201, description = "新建的会话 / a new conversation", body = ConversationView),
        (status = 200, description = "已有的会话 / the existing conversation", body = ConversationView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "与此人没有可以通信的关系（`not_related`），或既不教此班也不管理其学校（`forbidden`）/ no relationship that allows messaging this person (`not_related`), or the caller neither teaches the class nor administers its school (`forbidden`)", body = ErrorBody),
        (status = 404, description = "没有此班（`not_found`）/ no such class (`not_found`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "名册中没有此人（`unknown_person`），或 `with` 与 `class` 不是恰好给出一个（`invalid_field`）/ nobody active has this sourcedId (`unknown_person`), or not exactly one of `with` and `class` (`invalid_field`)", body = ErrorBody),
    )
)]
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

/// 一个会话 / One conversation
///
/// One of the caller's conversations.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = "messaging",
    params(("id" = String, Path, description = "会话 id / the conversation's id")),
    responses(
        (status = 200, description = "会话 / the conversation", body = ConversationView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "不存在或调用者不是成员（`not_found`）/ no such conversation, or the caller is not a member (`not_found`)", body = ErrorBody),
    )
)]
async fn conversation(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(conversations::get(&state, &caller.person, &id).await?).into_response())
}

/// A page of a conversation's history.
#[derive(Serialize, utoipa::ToSchema)]
struct MessagePage {
    /// Newest first; the first page also holds the caller's own messages quiet hours still hold.
    messages: Vec<MessageView>,
    /// Pass as `before` for the page before; null at the beginning.
    next: Option<i64>,
}

/// 会话消息 / A conversation's messages
///
/// A conversation's messages, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messaging",
    params(
        ("id" = String, Path, description = "会话 id / the conversation's id"),
        ("before" = Option<i64>, Query, description = "只要 `seq` 小于此值的消息（上一页的 `next`）/ only messages with a smaller `seq` (the previous page's `next`)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "每页条数，1–200 / per page, 1–200"),
    ),
    responses(
        (status = 200, description = "一页消息 / one page of messages", body = MessagePage),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "不存在或调用者不是成员（`not_found`）/ no such conversation, or the caller is not a member (`not_found`)", body = ErrorBody),
    )
)]
async fn history(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (messages, next) =
        messages::history(&state, &caller.person, &id, page.before, page.limit()).await?;
    Ok(Json(MessagePage { messages, next }).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// The text, up to 5,000 characters (may be empty when there are attachments).
    body: String,
    /// 1–64 characters, unique per sender: sending it again returns the stored message.
    nonce: String,
    /// Ids of the caller's own uploads (`POST /api/v1/attachments`), at most 9.
    #[serde(default)]
    attachments: Vec<String>,
}

/// 发送消息 / Send a message
///
/// Send a message. Idempotent on `nonce`. During the school's quiet hours a message to a
/// family is held: `seq` is null and `held_until` says when it will be delivered.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messaging",
    params(("id" = String, Path, description = "会话 id / the conversation's id")),
    request_body = SendBody,
    responses(
        (status = 201, description = "已发送（或因免打扰时段暂存）/ sent (or held for quiet hours)", body = MessageView),
        (status = 200, description = "此 nonce 已发送过：返回当时存下的消息 / this nonce was sent before: the message stored then", body = MessageView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "建立会话的关系已不存在（`not_related`）/ the relationship behind the conversation no longer holds (`not_related`)", body = ErrorBody),
        (status = 404, description = "不存在或调用者不是成员（`not_found`）/ no such conversation, or the caller is not a member (`not_found`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "空消息（`empty_body`）、过长（`body_too_long`）、附件过多（`too_many_attachments`）、nonce 或附件不对（`invalid_field`）/ empty (`empty_body`), too long (`body_too_long`), too many attachments (`too_many_attachments`), a bad nonce or an attachment that is not the caller's upload (`invalid_field`)", body = ErrorBody),
        (status = 429, description = "发送太快（`rate_limited`，见 `Retry-After`）/ sending too fast (`rate_limited`, see `Retry-After`)", body = ErrorBody),
    )
)]
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
        origin: None,
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    /// Read up to and including this message.
    seq: i64,
}

/// 标记已读 / Mark a conversation read
///
/// Record how far the caller has read (the other members see the receipt).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/read",
    tag = "messaging",
    params(("id" = String, Path, description = "会话 id / the conversation's id")),
    request_body = ReadBody,
    responses(
        (status = 204, description = "已记录 / recorded"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "不存在或调用者不是成员（`not_found`）/ no such conversation, or the caller is not a member (`not_found`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = answers::BAD_JSON, body = ErrorBody),
    )
)]
async fn read_conversation(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReadBody>,
) -> Result<Response, AppError> {
    messages::receipt(&state, &caller.person, &id, body.seq, body.seq, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    /// The new text.
    body: String,
}

/// 修改消息 / Edit a message
///
/// Change one's own message within 5 minutes of sending it.
#[utoipa::path(
    patch,
    path = "/api/v1/messages/{id}",
    tag = "messaging",
    params(("id" = String, Path, description = "消息 id / the message's id")),
    request_body = EditBody,
    responses(
        (status = 200, description = "修改后的消息 / the edited message", body = MessageView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是发送者（`forbidden`）/ not the sender (`forbidden`)", body = ErrorBody),
        (status = 404, description = "不存在或调用者不是会话成员（`not_found`）/ no such message, or the caller is not in its conversation (`not_found`)", body = ErrorBody),
        (status = 409, description = "已过 5 分钟或已撤回（`edit_window_closed`）/ more than 5 minutes old, or recalled (`edit_window_closed`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "空消息（`empty_body`）或过长（`body_too_long`）/ empty (`empty_body`) or too long (`body_too_long`)", body = ErrorBody),
    )
)]
async fn edit(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditBody>,
) -> Result<Response, AppError> {
    Ok(Json(messages::edit(&state, &caller.person, &id, &body.body).await?).into_response())
}

/// 撤回消息 / Recall a message
///
/// Take one's own message back within 24 hours: its text and attachments disappear for
/// everyone (the row stays).
#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/recall",
    tag = "messaging",
    params(("id" = String, Path, description = "消息 id / the message's id")),
    responses(
        (status = 200, description = "已撤回的消息 / the recalled message", body = MessageView),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是发送者（`forbidden`）/ not the sender (`forbidden`)", body = ErrorBody),
        (status = 404, description = "不存在或调用者不是会话成员（`not_found`）/ no such message, or the caller is not in its conversation (`not_found`)", body = ErrorBody),
        (status = 409, description = "已超过 24 小时（`recall_window_closed`）/ more than 24 hours old (`recall_window_closed`)", body = ErrorBody),
    )
)]
async fn recall(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(messages::recall(&state, &caller.person, &id).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// 1–100 characters.
    pub title: String,
    pub body: String,
    /// Parents confirm per child (a permission slip, a reply slip).
    #[serde(default)]
    pub requires_confirmation: bool,
    /// Send to the pupils themselves too, not only their families.
    #[serde(default)]
    pub include_students: bool,
    /// Delivered at once even in quiet hours; administrators only.
    #[serde(default)]
    pub urgent: bool,
    /// Ids of the caller's own uploads.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Makes posting idempotent (1–64 characters).
    pub nonce: Option<String>,
    /// Send although the text names pupils of the audience (otherwise 409 `names_pupil`).
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

/// A posted notice.
#[derive(Serialize, utoipa::ToSchema)]
struct NoticePosted {
    id: String,
    /// When quiet hours hold the notice, the time it will be delivered; otherwise null.
    held_until: Option<DateTime<Utc>>,
}

fn posted(n: &super::entity::notice::Model) -> Response {
    (
        StatusCode::CREATED,
        Json(NoticePosted {
            id: n.id.clone(),
            held_until: n.held.then_some(n.deliver_at),
        }),
    )
        .into_response()
}

/// What posting a notice can answer besides 201.
const NOTICE_REFUSED: &str = "标题长度不对、正文为空或过长、附件不是自己上传的、nonce 不对或带了不适用的字段（`invalid_field`、`empty_body`、`body_too_long`、`too_many_attachments`）     / a title of the wrong length, an empty or too long body, an attachment that is not the      caller's upload, a bad nonce or a field that does not apply (`invalid_field`, `empty_body`,      `body_too_long`, `too_many_attachments`)";
const NOTICE_NAMES_PUPIL: &str = "正文点了受众中学生的名字：确认后以 `acknowledge_named_pupils: true` 重发（`names_pupil`）     / the text names pupils of the audience: send again with `acknowledge_named_pupils: true`      once checked (`names_pupil`)";
const NOTICE_TOO_FAST: &str = "发通知太频繁（`rate_limited`，见 `Retry-After`）/ posting too often (`rate_limited`, see `Retry-After`)";

/// 发布班级通知 / Post a class notice
///
/// Post a notice to a class's families (and, with `include_students`, its pupils).
#[utoipa::path(
    post,
    path = "/api/v1/classes/{class}/notices",
    tag = "messaging",
    params(("class" = String, Path, description = "班级的 sourcedId / the class's sourcedId")),
    request_body = NoticeBody,
    responses(
        (status = 201, description = "已发布（或因免打扰时段暂存）/ posted (or held for quiet hours)", body = NoticePosted),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "既不教此班也不管理其学校（`forbidden`），或非管理员发紧急通知（`urgent_needs_admin`）/ the caller neither teaches the class nor administers its school (`forbidden`), or an urgent notice from someone who is not an administrator (`urgent_needs_admin`)", body = ErrorBody),
        (status = 404, description = "没有此班（`not_found`）/ no such class (`not_found`)", body = ErrorBody),
        (status = 409, description = NOTICE_NAMES_PUPIL, body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = NOTICE_REFUSED, body = ErrorBody),
        (status = 429, description = NOTICE_TOO_FAST, body = ErrorBody),
    )
)]
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
    let class = notices::class_id(&state, &class)
        .await?
        .ok_or_else(AppError::not_found)?;
    let n = notices::post(
        &state,
        &caller.person,
        Target::Class(class),
        body.into_new(),
    )
    .await?;
    Ok(posted(&n))
}

/// 发布学校或年级通知 / Post a school or grade notice
///
/// Post a notice to a school's families, or (with `grade`) to one grade's.
#[utoipa::path(
    post,
    path = "/api/v1/schools/{school}/notices",
    tag = "messaging",
    params(("school" = String, Path, description = "学校的 sourcedId / the school's sourcedId")),
    request_body = NoticeBody,
    responses(
        (status = 201, description = "已发布（或因免打扰时段暂存）/ posted (or held for quiet hours)", body = NoticePosted),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是此校的管理员（`forbidden`）/ not an administrator of the school (`forbidden`)", body = ErrorBody),
        (status = 404, description = "没有此学校（`not_found`）/ no such school (`not_found`)", body = ErrorBody),
        (status = 409, description = NOTICE_NAMES_PUPIL, body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = NOTICE_REFUSED, body = ErrorBody),
        (status = 429, description = NOTICE_TOO_FAST, body = ErrorBody),
    )
)]
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

/// A page of the caller's notices.
#[derive(Serialize, utoipa::ToSchema)]
struct NoticePage {
    notices: Vec<NoticeLine>,
    /// Pass as `after` for the next page; null on the last.
    next: Option<String>,
}

/// 我的通知 / My notices
///
/// Notices the caller received or sent, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notices",
    tag = "messaging",
    params(
        ("after" = Option<String>, Query, description = "上一页的 `next` / the previous page's `next`"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200, description = "每页条数，1–200 / per page, 1–200"),
    ),
    responses(
        (status = 200, description = "一页通知 / one page of notices", body = NoticePage),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn list_notices(
    State(state): State<AppState>,
    caller: Principal,
    Query(page): Query<Page>,
) -> Result<Response, AppError> {
    let (notices, next) =
        notices::list(&state, &caller.person, page.after.as_deref(), page.limit()).await?;
    Ok(Json(NoticePage { notices, next }).into_response())
}

/// A notice the caller may not see: another class's parent learns nothing about it.
const NOTICE_HIDDEN: &str = "不存在，或调用者既不在受众中也不是发送者、此班教师或管理员（`not_found`）/ no such notice, or the caller is neither in its audience nor its sender, a teacher of the class or an administrator (`not_found`)";

/// 一条通知 / One notice
///
/// A notice: a recipient sees it with their children and whether they confirmed; its sender,
/// the class's teachers and administrators also see who confirmed and who read it.
#[utoipa::path(
    get,
    path = "/api/v1/notices/{id}",
    tag = "messaging",
    params(("id" = String, Path, description = "通知 id / the notice's id")),
    responses(
        (status = 200, description = "通知 / the notice", body = NoticeDetail),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = NOTICE_HIDDEN, body = ErrorBody),
    )
)]
async fn notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(notices::detail(&state, &caller.person, &id).await?).into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The child's sourcedId; needed only when several of the parent's children received it.
    student: Option<String>,
}

/// 家长回执 / Confirm a notice
///
/// A parent confirms a notice for one of their children (confirming also marks it read).
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/confirm",
    tag = "messaging",
    params(("id" = String, Path, description = "通知 id / the notice's id")),
    request_body(content = Option<ConfirmBody>, description = "可省略 / optional"),
    responses(
        (status = 200, description = "确认后的通知 / the notice, confirmed", body = NoticeDetail),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "调用者不是受众中孩子的家长，或 `student` 不是其孩子（`not_your_child`）/ the caller is not a parent of a child in the audience, or `student` is not their child (`not_your_child`)", body = ErrorBody),
        (status = 404, description = NOTICE_HIDDEN, body = ErrorBody),
        (status = 422, description = "有多个孩子收到，请用 `student` 指明（`choose_child`）；此通知不需回执或请求体不对（`invalid_field`）/ several of the parent's children received it: name one with `student` (`choose_child`); the notice asks for no confirmation, or the body is not the JSON asked for (`invalid_field`)", body = ErrorBody),
    )
)]
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

/// 通知已读 / Mark a notice read
///
/// Mark a notice read (its sender sees it).
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/read",
    tag = "messaging",
    params(("id" = String, Path, description = "通知 id / the notice's id")),
    responses(
        (status = 204, description = "已记录（发送者和教师调用时不记录）/ recorded (nothing is recorded for its sender or teachers)"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = NOTICE_HIDDEN, body = ErrorBody),
    )
)]
async fn read_notice(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    confirmations::mark_read(&state, &caller.person, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How many parents a reminder went to.
#[derive(Serialize, utoipa::ToSchema)]
struct Reminded {
    /// Guardians who had not confirmed yet.
    reminded: usize,
}

/// 提醒未回执的家长 / Remind parents who have not confirmed
///
/// Remind the parents who have not confirmed (at most every 3 hours, never in quiet hours).
#[utoipa::path(
    post,
    path = "/api/v1/notices/{id}/remind",
    tag = "messaging",
    params(("id" = String, Path, description = "通知 id / the notice's id")),
    responses(
        (status = 200, description = "提醒了多少位家长 / how many parents were reminded", body = Reminded),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "不存在，或调用者不是发送者、此班教师或管理员（`not_found`）/ no such notice, or the caller is not its sender, a teacher of the class or an administrator (`not_found`)", body = ErrorBody),
        (status = 409, description = "现在是免打扰时段（`quiet_hours`）/ it is quiet hours now (`quiet_hours`)", body = ErrorBody),
        (status = 422, description = "此通知不需回执或尚未送达（`invalid_field`）/ the notice asks for no confirmation, or is not delivered yet (`invalid_field`)", body = ErrorBody),
        (status = 429, description = "距上次提醒不足 3 小时（`reminder_too_soon`，见 `Retry-After`）/ less than 3 hours since the last reminder (`reminder_too_soon`, see `Retry-After`)", body = ErrorBody),
    )
)]
async fn remind(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let reminded = confirmations::remind(&state, &caller.person, &id).await?;
    Ok(Json(Reminded { reminded }).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The file's name as people will see it (cleaned; the type comes from the content).
    name: Option<String>,
}

/// 上传附件 / Upload an attachment
///
/// Upload a file to attach to messages and notices: the file is the whole body, up to 20 MB;
/// pictures, PDF, Office documents, audio and video, decided by the content, not the name.
#[utoipa::path(
    post,
    path = "/api/v1/attachments",
    tag = "messaging",
    params(UploadQuery),
    request_body(content = Binary, content_type = "application/octet-stream", description = "文件本身（最大 20 MB）/ the file itself (up to 20 MB)"),
    responses(
        (status = 201, description = "已上传 / uploaded", body = AttachmentView),
        (status = 400, description = "上传中断（`bad_request`）/ the upload broke off (`bad_request`)", body = ErrorBody),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 413, description = "超过 20 MB（`payload_too_large`）/ over 20 MB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "不接受的文件类型（`unsupported_media_type`）/ a type that is not accepted (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "空文件（`empty_body`）/ an empty file (`empty_body`)", body = ErrorBody),
    )
)]
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

/// 下载附件 / Download an attachment
///
/// An attachment's file, for its owner and whoever may read a message or notice carrying it.
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    tag = "messaging",
    params(("id" = String, Path, description = "附件 id / the attachment's id")),
    responses(
        (status = 200, description = "文件，带其内容类型；图片内联显示，其余作为附件下载 / the file with its content type; pictures inline, others as a download", body = Binary, content_type = "application/octet-stream"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "不存在或调用者无权读取（`not_found`）/ no such attachment, or the caller may not read it (`not_found`)", body = ErrorBody),
    )
)]
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

/// 学校消息设置 / A school's messaging settings
///
/// A school's messaging settings (quiet hours), for its administrators.
#[utoipa::path(
    get,
    path = "/api/v1/schools/{school}/messaging",
    tag = "messaging",
    params(("school" = String, Path, description = "学校的 sourcedId / the school's sourcedId")),
    responses(
        (status = 200, description = "学校的设置 / the school's settings", body = SchoolSettings),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是此校的管理员（`forbidden`）/ not an administrator of the school (`forbidden`)", body = ErrorBody),
        (status = 404, description = "没有此学校（`not_found`）/ no such school (`not_found`)", body = ErrorBody),
    )
)]
async fn school_settings(
    State(state): State<AppState>,
    caller: Principal,
    Path(school): Path<String>,
) -> Result<Response, AppError> {
    Ok(Json(settings::school(&state, &caller.person, &school).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SchoolBody {
    /// `HH:MM-HH:MM` (e.g. `21:30-07:00`), `off`, or `default` to follow the server's setting.
    quiet_hours: String,
}

/// 设置学校免打扰时段 / Set a school's quiet hours
///
/// Set a school's quiet hours (audited).
#[utoipa::path(
    put,
    path = "/api/v1/schools/{school}/messaging",
    tag = "messaging",
    params(("school" = String, Path, description = "学校的 sourcedId / the school's sourcedId")),
    request_body = SchoolBody,
    responses(
        (status = 200, description = "新的设置 / the new settings", body = SchoolSettings),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是此校的管理员（`forbidden`）/ not an administrator of the school (`forbidden`)", body = ErrorBody),
        (status = 404, description = "没有此学校（`not_found`）/ no such school (`not_found`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "时段格式不对（`invalid_field`）/ not a period, `off` or `default` (`invalid_field`)", body = ErrorBody),
    )
)]
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

/// 我的消息接收方式 / How I receive messages
///
/// How the caller receives messages: live, or in a daily digest.
#[utoipa::path(
    get,
    path = "/api/v1/me/messaging",
    tag = "messaging",
    responses(
        (status = 200, description = "调用者的偏好 / the caller's preference", body = Prefs),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn prefs(State(state): State<AppState>, caller: Principal) -> Result<Response, AppError> {
    Ok(Json(settings::prefs(&state, &caller.person).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PrefsBody {
    /// `live` or `digest`.
    delivery: String,
}

/// 设置消息接收方式 / Choose how I receive messages
///
/// Choose live delivery or a daily digest.
#[utoipa::path(
    put,
    path = "/api/v1/me/messaging",
    tag = "messaging",
    request_body = PrefsBody,
    responses(
        (status = 200, description = "新的偏好 / the new preference", body = Prefs),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "不是 `live` 或 `digest`（`invalid_field`）/ neither `live` nor `digest` (`invalid_field`)", body = ErrorBody),
    )
)]
async fn set_prefs(
    State(state): State<AppState>,
    caller: Principal,
    JsonBody(body): JsonBody<PrefsBody>,
) -> Result<Response, AppError> {
    Ok(Json(settings::set_prefs(&state, &caller.person, &body.delivery).await?).into_response())
}
