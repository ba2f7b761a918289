//! 1:1 conversations (a parent and a teacher of their child, two staff members) and the group
//! of a class's teachers: who may talk to whom, opening them, listing them with unread counts.
//! What is said in them is in [`super::messages`].

use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;

use super::entity::{conversation, member};
use super::protocol::PersonRef;
use super::views;
use crate::error::{AppError, ErrorCode};
use crate::people::relations::{self, FAMILY_ROLES};
use crate::people::service::{ADMIN_ROLES, administers};
use crate::people::store;
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

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

/// A conversation the caller belongs to, with their read position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: String,
    /// `direct` (two people) or `group` (a class's teachers).
    pub kind: String,
    /// A group's title; null for a direct conversation.
    pub title: Option<String>,
    pub members: Vec<PersonRef>,
    /// The `seq` of the latest message.
    pub last_seq: i64,
    /// How far the caller has read.
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
    let opened = open(
        state,
        caller,
        "direct",
        key,
        None,
        None,
        &[&caller.id, &other.id],
    )
    .await?;
    // Just decided, and the same both ways: the first message either of them sends here need
    // not decide it again (see `messages::allowed_to_send`; emptied when the roster changes).
    for id in [&caller.id, &other.id] {
        let entry = (opened.0.id.clone(), id.clone());
        state.messaging.allowed.insert(entry, ());
    }
    Ok(opened)
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

/// Whether `person` belongs to the conversation (from the per-node member cache).
pub async fn is_member(state: &AppState, conversation: &str, person: &str) -> Result<bool, DbErr> {
    Ok(members(state, conversation)
        .await?
        .iter()
        .any(|m| m == person))
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

/// One of the caller's conversations, with their read position.
pub async fn get(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<ConversationView, AppError> {
    let conv = mine(state, caller, id).await?;
    let read = membership(state, id, &caller.id)
        .await?
        .map_or(0, |m| m.read_seq);
    Ok(view(state, conv, read).await?)
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
