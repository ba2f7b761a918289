//! `/messages/{id}`: one conversation. Its history, newest at the bottom ("load earlier" pages
//! backwards by `?before=seq`), a send form that works without JavaScript, and editing or
//! recalling one's own recent messages. Viewing the newest page marks the conversation read.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{
    Flash, Page, Piece, clock_time, flash, iso, nonce, pieces, signed_in, when, with_status,
};
use crate::auth::pages::see_other;
use crate::error::ErrorCode;
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::messaging::conversations;
use crate::messaging::entity::member;
use crate::messaging::messages::{self, Draft, EDIT_WINDOW, MAX_BODY, RECALL_WINDOW};
use crate::messaging::protocol::{AttachmentView, MessageView, PersonRef};
use crate::messaging::views;
use crate::roster::entity::person;
use crate::state::AppState;

/// Messages per page of history.
const PER_PAGE: u64 = 30;

/// Failures of a send the form shows above itself.
const SEND_INLINE: &[ErrorCode] = &[
    ErrorCode::EmptyBody,
    ErrorCode::BodyTooLong,
    ErrorCode::TooManyAttachments,
    ErrorCode::InvalidField,
    ErrorCode::RateLimited,
    ErrorCode::NotRelated,
];

/// Failures of an edit or a recall shown above the conversation.
const CHANGE_INLINE: &[ErrorCode] = &[
    ErrorCode::EmptyBody,
    ErrorCode::BodyTooLong,
    ErrorCode::EditWindowClosed,
    ErrorCode::RecallWindowClosed,
];

#[derive(Template)]
#[template(path = "messaging/conversation.html")]
struct ConversationPage<'a> {
    page: Layout<'a>,
    csrf: String,
    id: String,
    title: String,
    /// The other members, for a group.
    members: String,
    direct: bool,
    /// The reader's sourcedId, and the time zone to show times in, for live.js.
    me: String,
    zone: String,
    lines: Vec<Line>,
    earlier: Option<String>,
    /// An earlier page: link back to the newest; nothing live is added to it.
    paged: bool,
    last_seq: i64,
    /// `sourcedId:readSeq` of the other members, for live.js to keep the read marks right.
    reads: String,
    nonce: String,
    draft: String,
    max_body: usize,
    error: Option<String>,
}

/// One message, ready to show.
struct Line {
    id: String,
    /// 0 while quiet hours hold it.
    seq: i64,
    own: bool,
    sender: String,
    when: String,
    when_iso: String,
    /// The text, split into plain runs and links (both escaped by the template).
    pieces: Vec<Piece>,
    /// The text as written, for the edit form.
    body: String,
    recalled: bool,
    edited: bool,
    held: Option<String>,
    attachments: Vec<AttachmentView>,
    can_edit: bool,
    can_recall: bool,
    /// "Read", "Unread" or "2 have read", on one's own messages.
    receipt: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Before {
    before: Option<i64>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(query): Query<Before>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    show(&state, &ctx, me, &id, query.before, None).await
}

/// What the send form brings back after a failure.
struct Retry {
    flash: Flash,
    nonce: String,
    draft: String,
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    before: Option<i64>,
    retry: Option<Retry>,
) -> Page {
    let conv = conversations::mine(state, me, id).await?;
    let (mut messages, next) = messages::history(state, me, id, before, PER_PAGE).await?;
    let (others, my_read) = reads(state, me, id).await?;
    if before.is_none() && conv.last_seq > my_read {
        // The newest page is on the reader's screen: read. A failed receipt costs a badge,
        // not the page.
        let seq = conv.last_seq;
        if let Err(err) = messages::receipt(state, me, id, seq, seq, None).await {
            tracing::warn!(error = %err, "marking a conversation read failed");
        }
    }
    let tr = ctx.tr(&state.i18n);
    let direct = conv.kind == "direct";
    let now = state.clock.now();
    // Oldest first, as a chat reads; messages quiet hours still hold come last.
    messages.sort_by_key(|m| (m.seq.is_none(), m.seq, m.sent_at));
    let lines = messages
        .into_iter()
        .map(|m| line(state, tr, me, direct, &others, now, m))
        .collect();
    let names: Vec<&str> = others.iter().map(|(p, _)| p.name.as_str()).collect();
    let (flash, nonce, draft) = match retry {
        Some(r) => (Some(r.flash), r.nonce, r.draft),
        None => (None, nonce(), String::new()),
    };
    let status = flash.as_ref().map(|f| f.status);
    let template = ConversationPage {
        page: ctx.layout(&state.i18n, "messaging.conversation.title"),
        csrf: ctx.csrf.clone(),
        title: match (&conv.title, direct) {
            (Some(title), false) => title.clone(),
            _ => names.join("、"),
        },
        members: if direct {
            String::new()
        } else {
            names.join("、")
        },
        direct,
        me: me.sourced_id.clone(),
        zone: state.config.time_zone.name().to_owned(),
        lines,
        earlier: next.map(|seq| format!("/messages/{}?before={seq}", conv.id)),
        paged: before.is_some(),
        last_seq: conv.last_seq,
        reads: others
            .iter()
            .map(|(p, read)| format!("{}:{read}", p.sourced_id))
            .collect::<Vec<_>>()
            .join(" "),
        id: conv.id,
        nonce,
        draft,
        max_body: MAX_BODY,
        error: flash.map(|f| f.text),
    };
    let response = render(&template, ctx.lang);
    Ok(match status {
        Some(status) => with_status(status, response),
        None => response,
    })
}

/// The other members with how far each has read, by name; and how far the reader has.
async fn reads(
    state: &AppState,
    me: &person::Model,
    id: &str,
) -> Result<(Vec<(PersonRef, i64)>, i64), sea_orm::DbErr> {
    let rows = member::Entity::find()
        .filter(member::Column::ConversationId.eq(id))
        .all(&state.db)
        .await?;
    let mut others = Vec::new();
    let mut mine = 0;
    for row in rows {
        if row.person_id == me.id {
            mine = row.read_seq;
        } else {
            others.push((views::sender(state, &row.person_id).await?, row.read_seq));
        }
    }
    others.sort_by(|a: &(PersonRef, i64), b| a.0.name.cmp(&b.0.name));
    Ok((others, mine))
}

fn line(
    state: &AppState,
    tr: Tr<'_>,
    me: &person::Model,
    direct: bool,
    others: &[(PersonRef, i64)],
    now: DateTime<Utc>,
    m: MessageView,
) -> Line {
    let own = m.sender.sourced_id == me.sourced_id;
    let seq = m.seq.unwrap_or(0);
    let read_by = others
        .iter()
        .filter(|(_, read)| seq > 0 && *read >= seq)
        .count();
    let receipt = match (direct, read_by) {
        (true, 0) => tr.t("messaging.conversation.unread").to_owned(),
        (true, _) => tr.t("messaging.conversation.read").to_owned(),
        (false, n) => tr.format("messaging.conversation.read_by", &[("n", n.to_string())]),
    };
    let age = now - m.sent_at;
    Line {
        seq,
        own,
        sender: m.sender.name,
        when: when(state, m.sent_at),
        when_iso: iso(m.sent_at),
        pieces: pieces(&m.body),
        recalled: m.recalled,
        edited: m.edited_at.is_some(),
        held: m
            .held_until
            .map(|at| tr.format("messaging.held_until", &[("time", clock_time(state, at))])),
        attachments: m.attachments,
        can_edit: own && !m.recalled && age <= EDIT_WINDOW,
        can_recall: own && !m.recalled && age <= RECALL_WINDOW,
        receipt,
        id: m.id,
        body: m.body,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SendFields {
    #[serde(default)]
    body: String,
    #[serde(default)]
    nonce: String,
}

/// Send from the form, then back to the conversation (303). The nonce drawn with the form
/// makes a second submit of the same form answer with the first message, not a copy.
pub(super) async fn send(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(fields): Form<SendFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/messages/{id}"))?.person;
    let draft = Draft {
        conversation: &id,
        body: &fields.body,
        nonce: &fields.nonce,
        attachments: &[],
        origin: None,
    };
    match messages::send(&state, me, draft).await {
        Ok(m) => Ok(see_other(&format!(
            "/messages/{}#m-{}",
            m.conversation_id, m.id
        ))),
        Err(err) => {
            let retry = Retry {
                flash: flash(ctx.tr(&state.i18n), err, SEND_INLINE)?,
                nonce: if fields.nonce.is_empty() {
                    nonce()
                } else {
                    fields.nonce
                },
                draft: fields.body,
            };
            show(&state, &ctx, me, &id, None, Some(retry)).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct EditFields {
    #[serde(default)]
    body: String,
}

pub(super) async fn edit(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, message)): Path<(String, String)>,
    Form(fields): Form<EditFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/messages/{id}"))?.person;
    let done = messages::edit(&state, me, &message, &fields.body).await;
    changed(&state, &ctx, me, &id, done).await
}

pub(super) async fn recall(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, message)): Path<(String, String)>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/messages/{id}"))?.person;
    let done = messages::recall(&state, me, &message).await;
    changed(&state, &ctx, me, &id, done).await
}

/// Back to the changed message, or the conversation with why it could not be changed.
async fn changed(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    done: Result<MessageView, crate::error::AppError>,
) -> Page {
    match done {
        Ok(m) => Ok(see_other(&format!(
            "/messages/{}#m-{}",
            m.conversation, m.id
        ))),
        Err(err) => {
            let retry = Retry {
                flash: flash(ctx.tr(&state.i18n), err, CHANGE_INLINE)?,
                nonce: nonce(),
                draft: String::new(),
            };
            show(state, ctx, me, id, None, Some(retry)).await
        }
    }
}
