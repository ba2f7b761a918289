//! 1:1 conversations (a parent and a teacher of their child, two staff members) and the group
//! of a class's teachers: who may talk to whom, sending, editing, recalling, reading, history.

use std::sync::Arc;

use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;
use tokio::sync::oneshot;

use super::committer::{self, Job};
use super::deliver::{self, Delivery};
use super::entity::{conversation, member, message};
use super::protocol::{MessageView, PersonRef};
use super::{limits, views};
use crate::error::{AppError, ErrorCode};
use crate::people::relations::{self, FAMILY_ROLES};
use crate::people::service::{ADMIN_ROLES, administers};
use crate::people::store;
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

pub const MAX_BODY: usize = 5_000;
pub const MAX_ATTACHMENTS: usize = 9;
pub const EDIT_WINDOW: TimeDelta = TimeDelta::minutes(5);
pub const RECALL_WINDOW: TimeDelta = TimeDelta::hours(24);
const MAX_NONCE: usize = 64;
pub const PAGE: u64 = 50;

/// The ids of a conversation's members (cached per node; membership rarely changes).
pub async fn members(state: &AppState, conversation: &str) -> Result<Arc<Vec<String>>, DbErr> {
    if let Some(found) = state.messaging.members.get(conversation) {
        return Ok(found);
    }
    let ids: Vec<String> = member::Entity::find()
        .filter(member::Column::ConversationId.eq(conversation))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|m| m.person_id)
        .collect();
    let ids = Arc::new(ids);
    state
        .messaging
        .members
        .insert(conversation.to_owned(), ids.clone());
    Ok(ids)
}

fn is_active(p: &person::Model) -> bool {
    p.status == ACTIVE && p.enabled
}

/// Staff (teachers and administrators) or family (parents, guardians, relatives)?
async fn role_kinds(db: &impl ConnectionTrait, p: &person::Model) -> Result<(bool, bool), DbErr> {
    let roles = store::active_roles(db, &p.id).await?;
    let staff = roles
        .iter()
        .any(|r| r.role == "teacher" || ADMIN_ROLES.contains(&r.role.as_str()));
    let family = roles
        .iter()
        .any(|r| FAMILY_ROLES.contains(&r.role.as_str()));
    Ok((staff, family))
}

/// Whether `a` may hold a 1:1 conversation with `b`: two staff members, or a member of staff
/// and a parent whose child they teach (or whose child's school they administer).
pub async fn may_message(
    db: &impl ConnectionTrait,
    a: &person::Model,
    b: &person::Model,
) -> Result<bool, DbErr> {
    if !is_active(a) || !is_active(b) || a.id == b.id {
        return Ok(false);
    }
    let (a_staff, a_family) = role_kinds(db, a).await?;
    let (b_staff, b_family) = role_kinds(db, b).await?;
    if a_staff && b_staff {
        return Ok(true);
    }
    let (staff, parent) = match (a_staff, a_family, b_staff, b_family) {
        (true, _, _, true) => (a, b),
        (_, true, true, _) => (b, a),
        _ => return Ok(false),
    };
    if relations::teaches_person_or_child(db, staff, parent).await? {
        return Ok(true);
    }
    let children = store::linked(db, &parent.id, true).await?;
    for child in children.into_iter().map(|(_, p)| p) {
        if administers(db, staff, &child).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a conversation reaches a family (so quiet hours apply), and the school whose quiet
/// hours those are.
pub async fn family_school(
    db: &impl ConnectionTrait,
    members: &[String],
    sender: &str,
) -> Result<Option<String>, DbErr> {
    for id in members.iter().filter(|id| *id != sender) {
        let roles = store::active_roles(db, id).await?;
        let family = roles
            .iter()
            .any(|r| FAMILY_ROLES.contains(&r.role.as_str()) || r.role == "student");
        if family {
            return Ok(Some(
                roles
                    .into_iter()
                    .next()
                    .map(|r| r.org_id)
                    .unwrap_or_default(),
            ));
        }
    }
    Ok(None)
}

#[derive(Debug, Serialize)]
pub struct ConversationView {
    pub id: String,
    pub kind: String,
    pub title: Option<String>,
    pub members: Vec<PersonRef>,
    pub last_seq: i64,
    pub read_seq: i64,
    pub unread: i64,
    pub last_message_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn view(
    state: &AppState,
    c: conversation::Model,
    read_seq: i64,
) -> Result<ConversationView, DbErr> {
    let ids = members(state, &c.id).await?;
    let mut people = Vec::with_capacity(ids.len());
    for id in ids.iter() {
        people.push(views::sender(state, id).await?);
    }
    Ok(ConversationView {
        unread: (c.last_seq - read_seq).max(0),
        id: c.id,
        kind: c.kind,
        title: c.title,
        members: people,
        last_seq: c.last_seq,
        read_seq,
        last_message_at: c.last_message_at,
    })
}

/// The 1:1 conversation between the caller and `other` (a roster sourcedId), made on first use.
/// Returns it and whether it was new.
pub async fn open_direct(
    state: &AppState,
    caller: &person::Model,
    other: &str,
) -> Result<(ConversationView, bool), AppError> {
    let other = match store::find_by_sourced_id(&state.db, other).await? {
        Some(p) if is_active(&p) => p,
        _ => return Err(AppError::new(ErrorCode::UnknownPerson).with_arg("who", other)),
    };
    if !may_message(&state.db, caller, &other).await? {
        return Err(AppError::new(ErrorCode::NotRelated));
    }
    let mut pair = [caller.id.as_str(), other.id.as_str()];
    pair.sort_unstable();
    let key = pair.join(":");
    open(
        state,
        caller,
        "direct",
        key,
        None,
        None,
        &[&caller.id, &other.id],
    )
    .await
}

/// The group of a class's teachers (one per class), for a teacher of the class or an
/// administrator of its school.
pub async fn open_class_group(
    state: &AppState,
    caller: &person::Model,
    class_sourced_id: &str,
) -> Result<(ConversationView, bool), AppError> {
    let class = relations::class_by_sourced_id(&state.db, class_sourced_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let teaches = relations::teaches(&state.db, caller, &class.id).await?;
    if !teaches && !relations::administers_org(&state.db, caller, &class.school_id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let teachers: Vec<String> = crate::roster::entity::enrollment::Entity::find()
        .filter(crate::roster::entity::enrollment::Column::ClassId.eq(class.id.as_str()))
        .filter(crate::roster::entity::enrollment::Column::Role.eq("teacher"))
        .filter(crate::roster::entity::enrollment::Column::Status.eq(ACTIVE))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| e.person_id)
        .collect();
    let mut ids: Vec<&str> = teachers.iter().map(String::as_str).collect();
    ids.push(&caller.id);
    let title = format!("{} · 任课教师", class.title);
    open(
        state,
        caller,
        "group",
        format!("class:{}", class.id),
        Some(class.id.clone()),
        Some(title),
        &ids,
    )
    .await
}

async fn open(
    state: &AppState,
    caller: &person::Model,
    kind: &str,
    key: String,
    class_id: Option<String>,
    title: Option<String>,
    people: &[&str],
) -> Result<(ConversationView, bool), AppError> {
    let now = state.clock.now();
    let existing = conversation::Entity::find()
        .filter(conversation::Column::DirectKey.eq(key.as_str()))
        .one(&state.db)
        .await?;
    let (conv, created) = match existing {
        Some(c) => (c, false),
        None => {
            let c = conversation::Model {
                id: uuid::Uuid::now_v7().to_string(),
                kind: kind.to_owned(),
                direct_key: Some(key.clone()),
                class_id,
                title,
                created_by: caller.id.clone(),
                last_seq: 0,
                last_message_at: None,
                created_at: now,
            };
            let inserted = conversation::Entity::insert(conversation::ActiveModel::from(c.clone()))
                .exec_without_returning(&state.db)
                .await;
            match inserted {
                Ok(_) => (c, true),
                // Both sides opened it at once: use the one that won.
                Err(_) => (
                    conversation::Entity::find()
                        .filter(conversation::Column::DirectKey.eq(key.as_str()))
                        .one(&state.db)
                        .await?
                        .ok_or_else(AppError::not_found)?,
                    false,
                ),
            }
        }
    };
    // Members not yet in it (a group gains the class's new teachers).
    let current = members(state, &conv.id).await?;
    let missing: Vec<&str> = people
        .iter()
        .copied()
        .filter(|p| !current.iter().any(|c| c == p))
        .collect();
    if !missing.is_empty() {
        let txn = state.db.begin().await?;
        for id in missing {
            let row = member::ActiveModel::from(member::Model {
                conversation_id: conv.id.clone(),
                person_id: id.to_owned(),
                delivered_seq: 0,
                read_seq: 0,
                joined_at: now,
            });
            // Someone else may have added them a moment ago.
            let _ = member::Entity::insert(row)
                .on_conflict_do_nothing()
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        state.messaging.members.invalidate(&conv.id);
    }
    let read = membership(state, &conv.id, &caller.id)
        .await?
        .map(|m| m.read_seq)
        .unwrap_or(0);
    Ok((view(state, conv, read).await?, created))
}

async fn membership(
    state: &AppState,
    conversation: &str,
    person: &str,
) -> Result<Option<member::Model>, DbErr> {
    member::Entity::find_by_id((conversation.to_owned(), person.to_owned()))
        .one(&state.db)
        .await
}

/// A conversation the caller belongs to; anything else is "not found", whether or not it exists.
pub async fn mine(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<conversation::Model, AppError> {
    if !members(state, id).await?.contains(&caller.id) {
        return Err(AppError::not_found());
    }
    conversation::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)
}

/// The caller's conversations, most recent first; `after` is the previous page's cursor.
pub async fn list(
    state: &AppState,
    caller: &person::Model,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<ConversationView>, Option<String>), AppError> {
    let mut convs = memberships(&state.db, &caller.id).await?;
    // Newest activity first; the cursor is "timestamp|id" of the last one shown.
    let sort_key = |(c, _): &(conversation::Model, i64)| {
        format!(
            "{}|{}",
            c.last_message_at.unwrap_or(c.created_at).timestamp_micros(),
            c.id
        )
    };
    convs.sort_by_key(|c| std::cmp::Reverse(sort_key(c)));
    if let Some(after) = after {
        convs.retain(|c| sort_key(c).as_str() < after);
    }
    let more = convs.len() as u64 > limit;
    convs.truncate(limit as usize);
    let next = more.then(|| convs.last().map(sort_key)).flatten();
    let mut out = Vec::with_capacity(convs.len());
    for (c, read) in convs {
        out.push(view(state, c, read).await?);
    }
    Ok((out, next))
}

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
    let conv = mine(state, caller, draft.conversation).await?;
    let members = members(state, &conv.id).await?;
    allowed_to_send(state, caller, &conv, &members).await?;
    super::attachments::check_owned(state, caller, draft.attachments).await?;
    limits::check_message(state, &caller.id)?;
    let now = state.clock.now();
    let key = format!("{}:{}", conv.id, caller.id);
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
        conversation_id: conv.id.clone(),
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
    committer::submit(state, Job::Send(Box::new(model), reply)).await?;
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
    conv: &conversation::Model,
    members: &[String],
) -> Result<(), AppError> {
    let key = (conv.id.clone(), caller.id.clone());
    if state.messaging.allowed.get(&key).is_some() {
        return Ok(());
    }
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
) -> Result<(), AppError> {
    mine(state, caller, conversation).await?;
    committer::submit(
        state,
        Job::Receipt {
            conversation: conversation.to_owned(),
            person: caller.id.clone(),
            delivered,
            read,
        },
    )
    .await
}

/// Unread messages per conversation for `person`.
pub async fn unread(db: &impl ConnectionTrait, person: &str) -> Result<Vec<(String, i64)>, DbErr> {
    Ok(memberships(db, person)
        .await?
        .into_iter()
        .filter(|(c, read)| c.last_seq > *read)
        .map(|(c, read)| (c.id, c.last_seq - read))
        .collect())
}

/// The conversations `person` belongs to, each with how far they have read.
pub async fn memberships(
    db: &impl ConnectionTrait,
    person: &str,
) -> Result<Vec<(conversation::Model, i64)>, DbErr> {
    let read: std::collections::HashMap<String, i64> = member::Entity::find()
        .filter(member::Column::PersonId.eq(person))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.conversation_id, m.read_seq))
        .collect();
    let ids: Vec<&String> = read.keys().collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(400) {
        for c in conversation::Entity::find()
            .filter(conversation::Column::Id.is_in(chunk.iter().map(|id| id.as_str())))
            .all(db)
            .await?
        {
            let seq = read.get(&c.id).copied().unwrap_or(0);
            out.push((c, seq));
        }
    }
    Ok(out)
}
