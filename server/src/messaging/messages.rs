//! Messages in a conversation: sending (checked, rate-limited, held for quiet hours, then
//! committed idempotently), editing and recalling, receipts, and history both ways (backwards
//! for pages, forwards for a reconnecting socket).

use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use tokio::sync::oneshot;

use super::committer::{self, Job};
use super::conversations::{family_school, may_message, members, mine};
use super::deliver::{self, Delivery};
use super::entity::{conversation, message};
use super::protocol::MessageView;
use super::{limits, views};
use crate::error::{AppError, ErrorCode};
use crate::people::relations;
use crate::roster::entity::person;
use crate::state::AppState;

pub const MAX_BODY: usize = 5_000;
pub const MAX_ATTACHMENTS: usize = 9;
pub const EDIT_WINDOW: TimeDelta = TimeDelta::minutes(5);
pub const RECALL_WINDOW: TimeDelta = TimeDelta::hours(24);
const MAX_NONCE: usize = 64;

/// Messages before `before` (a seq), newest first, and the cursor for the page before.
/// The first page also shows the caller's own messages that quiet hours still hold.
pub async fn history(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<(Vec<MessageView>, Option<i64>), AppError> {
    mine(state, caller, id).await?;
    let mut query = message::Entity::find()
        .filter(message::Column::ConversationId.eq(id))
        .filter(message::Column::Seq.is_not_null());
    if let Some(before) = before {
        query = query.filter(message::Column::Seq.lt(before));
    }
    let rows = query
        .order_by_desc(message::Column::Seq)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let mut out = Vec::new();
    if before.is_none() {
        for m in message::Entity::find()
            .filter(message::Column::ConversationId.eq(id))
            .filter(message::Column::SenderId.eq(caller.id.as_str()))
            .filter(message::Column::Held.eq(true))
            .all(&state.db)
            .await?
        {
            out.push(views::message(state, &m, true).await?);
        }
    }
    for m in rows.iter().take(limit as usize) {
        out.push(views::message(state, m, m.sender_id == caller.id).await?);
    }
    let next = if more {
        rows.get(limit as usize - 1).and_then(|m| m.seq)
    } else {
        None
    };
    Ok((out, next))
}

/// Messages after `after` in `seq` order (a reconnecting socket's catch-up).
pub async fn since(
    db: &impl ConnectionTrait,
    id: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::ConversationId.eq(id))
        .filter(message::Column::Seq.gt(after))
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

pub struct Draft<'a> {
    pub conversation: &'a str,
    pub body: &'a str,
    pub nonce: &'a str,
    pub attachments: &'a [String],
    /// The socket it came through, if it came through one.
    pub origin: committer::Origin,
}

/// Check a message's text and attachments (shared with notices).
pub fn check_body(body: &str, attachments: usize) -> Result<(), AppError> {
    if body.trim().is_empty() && attachments == 0 {
        return Err(AppError::new(ErrorCode::EmptyBody));
    }
    let len = body.chars().count();
    if len > MAX_BODY {
        return Err(AppError::new(ErrorCode::BodyTooLong)
            .with_arg("max", MAX_BODY.to_string())
            .with_arg("len", len.to_string()));
    }
    if attachments > MAX_ATTACHMENTS {
        return Err(AppError::new(ErrorCode::TooManyAttachments)
            .with_arg("max", MAX_ATTACHMENTS.to_string()));
    }
    Ok(())
}

pub fn check_nonce(nonce: &str) -> Result<(), AppError> {
    if nonce.is_empty() || nonce.len() > MAX_NONCE {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "nonce")
            .with_arg("hint", "1–64 个字符 / 1–64 characters"));
    }
    Ok(())
}

/// Send a message: checked, rate-limited, held for quiet hours when it goes to a family, then
/// committed (idempotently on the nonce). Returns the stored message.
pub async fn send(
    state: &AppState,
    caller: &person::Model,
    draft: Draft<'_>,
) -> Result<message::Model, AppError> {
    check_body(draft.body, draft.attachments.len())?;
    check_nonce(draft.nonce)?;
    let members = members(state, draft.conversation).await?;
    if !members.contains(&caller.id) {
        return Err(AppError::not_found());
    }
    allowed_to_send(state, caller, draft.conversation, &members).await?;
    super::attachments::check_owned(state, caller, draft.attachments).await?;
    limits::check_message(state, &caller.id)?;
    let now = state.clock.now();
    let key = format!("{}:{}", draft.conversation, caller.id);
    let school = match state.messaging.family.get(&key) {
        Some(found) => found,
        None => {
            let found = family_school(&state.db, &members, &caller.id).await?;
            state.messaging.family.insert(key, found.clone());
            found
        }
    };
    let release = match school {
        Some(school) => super::settings::quiet_hours(state, &school)
            .await?
            .release_time(now, state.config.time_zone),
        None => None,
    };
    let model = message::Model {
        id: uuid::Uuid::now_v7().to_string(),
        conversation_id: draft.conversation.to_owned(),
        seq: None,
        sender_id: caller.id.clone(),
        nonce: draft.nonce.to_owned(),
        body: draft.body.trim_end().to_owned(),
        attachments: serde_json::to_string(draft.attachments).unwrap_or_else(|_| "[]".into()),
        held: release.is_some(),
        deliver_at: release.unwrap_or(now),
        created_at: now,
        edited_at: None,
        recalled_at: None,
    };
    let (reply, answer) = oneshot::channel();
    committer::submit(state, Job::Send(Box::new(model), draft.origin, reply)).await?;
    answer
        .await
        .map_err(|_| AppError::new(ErrorCode::Unavailable))?
}

/// Whether the caller may still send here: the relationship behind a 1:1 conversation must
/// still hold (a parent whose child left the class cannot keep writing to its teacher), and a
/// group's members must still teach the class. Remembered for a few seconds per node.
async fn allowed_to_send(
    state: &AppState,
    caller: &person::Model,
    conversation: &str,
    members: &[String],
) -> Result<(), AppError> {
    let key = (conversation.to_owned(), caller.id.clone());
    if state.messaging.allowed.get(&key).is_some() {
        return Ok(());
    }
    let conv = conversation::Entity::find_by_id(conversation.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ok = match (conv.kind.as_str(), &conv.class_id) {
        ("group", Some(class)) => {
            relations::teaches(&state.db, caller, class).await?
                || relations::administers_org(
                    &state.db,
                    caller,
                    &crate::roster::entity::class::Entity::find_by_id(class.clone())
                        .one(&state.db)
                        .await?
                        .map(|c| c.school_id)
                        .unwrap_or_default(),
                )
                .await?
        }
        _ => {
            let mut ok = true;
            for id in members.iter().filter(|id| **id != caller.id) {
                let other = state.caches.person(&state.db, id).await?;
                ok &= match other {
                    Some(other) => may_message(&state.db, caller, &other).await?,
                    None => false,
                };
            }
            ok
        }
    };
    if !ok {
        return Err(AppError::new(ErrorCode::NotRelated));
    }
    state.messaging.allowed.insert(key, ());
    Ok(())
}

async fn own_message(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<message::Model, AppError> {
    let m = message::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    mine(state, caller, &m.conversation_id).await?;
    if m.sender_id != caller.id {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok(m)
}

/// Change a message's text within [`EDIT_WINDOW`] of sending it.
pub async fn edit(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    body: &str,
) -> Result<MessageView, AppError> {
    let m = own_message(state, caller, id).await?;
    check_body(body, views::attachment_ids(&m.attachments).len())?;
    let now = state.clock.now();
    if m.recalled_at.is_some() || now - m.created_at > EDIT_WINDOW {
        return Err(AppError::new(ErrorCode::EditWindowClosed)
            .with_arg("minutes", EDIT_WINDOW.num_minutes().to_string()));
    }
    update(state, m, |q| {
        q.col_expr(
            message::Column::Body,
            Expr::value(body.trim_end().to_owned()),
        )
        .col_expr(message::Column::EditedAt, Expr::value(now))
    })
    .await
}

/// Take a message back within [`RECALL_WINDOW`]: its text and attachments disappear for
/// everyone; the row stays (nothing is hard-deleted).
pub async fn recall(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<MessageView, AppError> {
    let m = own_message(state, caller, id).await?;
    let now = state.clock.now();
    if m.recalled_at.is_none() && now - m.created_at > RECALL_WINDOW {
        return Err(AppError::new(ErrorCode::RecallWindowClosed)
            .with_arg("hours", RECALL_WINDOW.num_hours().to_string()));
    }
    update(state, m, |q| {
        q.col_expr(message::Column::RecalledAt, Expr::value(now))
    })
    .await
}

async fn update(
    state: &AppState,
    m: message::Model,
    set: impl FnOnce(sea_orm::UpdateMany<message::Entity>) -> sea_orm::UpdateMany<message::Entity>,
) -> Result<MessageView, AppError> {
    let txn = state.db.begin().await?;
    set(message::Entity::update_many())
        .filter(message::Column::Id.eq(m.id.as_str()))
        .exec(&txn)
        .await?;
    let updated = message::Entity::find_by_id(m.id.clone())
        .one(&txn)
        .await?
        .ok_or_else(AppError::not_found)?;
    let delivery = if updated.held {
        Delivery::Held(updated.clone())
    } else {
        Delivery::Updated(updated.clone())
    };
    deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
    txn.commit().await?;
    deliver::publish(state, vec![delivery]);
    Ok(views::message(state, &updated, true).await?)
}

/// Record how far the caller has received and read a conversation.
pub async fn receipt(
    state: &AppState,
    caller: &person::Model,
    conversation: &str,
    delivered: i64,
    read: i64,
    origin: committer::Origin,
) -> Result<(), AppError> {
    // From the member cache: receipts come with every message, and must not cost a query each.
    if !super::conversations::is_member(state, conversation, &caller.id).await? {
        return Err(AppError::not_found());
    }
    committer::submit(
        state,
        Job::Receipt {
            conversation: conversation.to_owned(),
            person: caller.id.clone(),
            delivered,
            read,
            origin,
        },
    )
    .await
}
