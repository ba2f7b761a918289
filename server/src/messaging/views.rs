//! Messages and notices as clients see them (frames and API answers alike).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity::{attachment, message, notice};
use super::protocol::{
    AttachmentView, AudienceRef, ChildState, MessageView, NoticeView, PersonRef,
};
use crate::roster::entity::{class, org, person};
use crate::state::AppState;

pub fn person_ref(p: &person::Model) -> PersonRef {
    PersonRef {
        sourced_id: p.sourced_id.clone(),
        name: p.display_name.clone(),
    }
}

/// Someone the roster no longer has (never expected: people are retired, not deleted).
fn unknown(id: &str) -> PersonRef {
    PersonRef {
        sourced_id: id.to_owned(),
        name: String::new(),
    }
}

/// How frames name a person; every delivery asks, so the answer is kept per node until the
/// roster changes.
pub async fn sender(state: &AppState, id: &str) -> Result<PersonRef, DbErr> {
    if let Some(found) = state.messaging.names.get(id) {
        return Ok(found);
    }
    let found = state
        .caches
        .person(&state.db, id)
        .await?
        .map(|p| person_ref(&p))
        .unwrap_or_else(|| unknown(id));
    state.messaging.names.insert(id.to_owned(), found.clone());
    Ok(found)
}

/// The attachment ids a message or notice stores (a JSON array).
pub fn attachment_ids(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

pub async fn attachments(
    db: &impl ConnectionTrait,
    stored: &str,
) -> Result<Vec<AttachmentView>, DbErr> {
    let ids = attachment_ids(stored);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    // In the order the sender attached them.
    found.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(found
        .into_iter()
        .map(|a| AttachmentView {
            id: a.id,
            name: a.name,
            content_type: a.content_type,
            size: a.size,
        })
        .collect())
}

pub async fn message(
    state: &AppState,
    m: &message::Model,
    with_nonce: bool,
) -> Result<MessageView, DbErr> {
    let recalled = m.recalled_at.is_some();
    Ok(MessageView {
        conversation: m.conversation_id.clone(),
        seq: m.seq,
        id: m.id.clone(),
        sender: sender(state, &m.sender_id).await?,
        body: if recalled {
            String::new()
        } else {
            m.body.clone()
        },
        attachments: if recalled {
            Vec::new()
        } else {
            attachments(&state.db, &m.attachments).await?
        },
        sent_at: m.created_at,
        edited_at: m.edited_at,
        recalled,
        nonce: with_nonce.then(|| m.nonce.clone()),
        held_until: m.held.then_some(m.deliver_at),
    })
}

pub async fn audience_ref(
    db: &impl ConnectionTrait,
    n: &notice::Model,
) -> Result<AudienceRef, DbErr> {
    Ok(match n.audience_kind.as_str() {
        "class" => {
            let c = class::Entity::find_by_id(n.audience_id.clone())
                .one(db)
                .await?;
            AudienceRef {
                kind: "class".to_owned(),
                sourced_id: c.as_ref().map(|c| c.sourced_id.clone()).unwrap_or_default(),
                title: c.map(|c| c.title).unwrap_or_default(),
            }
        }
        kind => {
            let o = org::Entity::find_by_id(n.audience_id.clone())
                .one(db)
                .await?;
            let name = o.as_ref().map(|o| o.name.clone()).unwrap_or_default();
            AudienceRef {
                kind: kind.to_owned(),
                sourced_id: o.map(|o| o.sourced_id).unwrap_or_default(),
                title: match &n.grade {
                    Some(grade) if kind == "grade" => format!("{name} · {grade}"),
                    _ => name,
                },
            }
        }
    })
}

/// [`audience_ref`], remembered for a few seconds (every delivery of a notice names it).
pub async fn audience_label(state: &AppState, n: &notice::Model) -> Result<AudienceRef, DbErr> {
    let key = format!(
        "{}:{}:{}",
        n.audience_kind,
        n.audience_id,
        n.grade.as_deref().unwrap_or("")
    );
    if let Some(found) = state.messaging.labels.get(&key) {
        return Ok(found);
    }
    let found = audience_ref(&state.db, n).await?;
    state.messaging.labels.insert(key, found.clone());
    Ok(found)
}

pub async fn notice(
    state: &AppState,
    n: &notice::Model,
    children: Vec<ChildState>,
    read: bool,
) -> Result<NoticeView, DbErr> {
    Ok(NoticeView {
        id: n.id.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        sender: sender(state, &n.sender_id).await?,
        audience: audience_label(state, n).await?,
        requires_confirmation: n.requires_confirmation,
        urgent: n.urgent,
        sent_at: n.deliver_at,
        attachments: attachments(&state.db, &n.attachments).await?,
        children,
        read,
    })
}
