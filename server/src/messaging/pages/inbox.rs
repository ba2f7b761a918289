//! `/messages`: the inbox. Notices (received: unread and still-to-confirm marked; sent: how
//! many families have confirmed) and conversations (unread counts, last activity), newest
//! first, each list paged by its own cursor exactly as the API pages it.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Page, clock_time, iso, query_value, signed_in, when};
use crate::http::layout::{Layout, PageContext, render};
use crate::messaging::conversations::{self, ConversationView};
use crate::messaging::notices::{self, NoticeLine};
use crate::people::{relations, service as people};
use crate::roster::entity::person;
use crate::state::AppState;

/// Lines per list and page.
const PER_PAGE: u64 = 20;

#[derive(Template)]
#[template(path = "messaging/inbox.html")]
struct InboxPage<'a> {
    page: Layout<'a>,
    zone: String,
    notices: Vec<NoticeRow>,
    conversations: Vec<ConversationLine>,
    older_notices: Option<String>,
    older_conversations: Option<String>,
    /// A later page of either list: offer the way back to the newest (and add nothing live).
    paged: bool,
    /// A teacher or administrator: offer "post a notice".
    may_post: bool,
}

struct ConversationLine {
    id: String,
    title: String,
    unread: i64,
    /// "3 unread", for screen readers.
    unread_label: String,
    when: String,
    when_iso: String,
}

struct NoticeRow {
    id: String,
    title: String,
    sender: String,
    when: String,
    when_iso: String,
    sent: bool,
    unread: bool,
    urgent: bool,
    /// "To confirm", "Confirmed", or a sender's "2 confirmed · 3 pending".
    state: Option<String>,
    /// `due` or `done`, for the tag's colour.
    state_class: &'static str,
    held: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Cursors {
    /// The conversations' cursor.
    c: Option<String>,
    /// The notices' cursor.
    n: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(cursors): Query<Cursors>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let tr = ctx.tr(&state.i18n);
    let (convs, next_c) = conversations::list(&state, me, cursors.c.as_deref(), PER_PAGE).await?;
    let (lines, next_n) = notices::list(&state, me, cursors.n.as_deref(), PER_PAGE).await?;
    let counts = notices::confirmation_counts(&state, me, &lines).await?;
    let notices = lines
        .into_iter()
        .map(|line| {
            let counts = counts.get(&line.id).copied();
            notice_row(&state, tr, line, counts)
        })
        .collect();
    let conversations = convs
        .into_iter()
        .map(|c| conversation_line(&state, tr, me, c))
        .collect();
    let link = |c: Option<&str>, n: Option<&str>, anchor: &str| {
        let mut query = Vec::new();
        if let Some(c) = c {
            query.push(format!("c={}", query_value(c)));
        }
        if let Some(n) = n {
            query.push(format!("n={}", query_value(n)));
        }
        format!("/messages?{}#{anchor}", query.join("&"))
    };
    let template = InboxPage {
        page: ctx.layout(&state.i18n, "messaging.inbox.title"),
        zone: state.config.time_zone.name().to_owned(),
        notices,
        conversations,
        older_notices: next_n
            .as_deref()
            .map(|n| link(cursors.c.as_deref(), Some(n), "notices")),
        older_conversations: next_c
            .as_deref()
            .map(|c| link(Some(c), cursors.n.as_deref(), "conversations")),
        paged: cursors.c.is_some() || cursors.n.is_some(),
        may_post: !relations::taught_classes(&state.db, me, false)
            .await?
            .is_empty()
            || !people::administered_orgs(&state.db, me).await?.is_empty(),
    };
    Ok(render(&template, ctx.lang))
}

fn conversation_line(
    state: &AppState,
    tr: crate::i18n::Tr<'_>,
    me: &person::Model,
    c: ConversationView,
) -> ConversationLine {
    let others: Vec<&str> = c
        .members
        .iter()
        .filter(|m| m.sourced_id != me.sourced_id)
        .map(|m| m.name.as_str())
        .collect();
    let title = match (&c.title, c.kind.as_str()) {
        (Some(title), "group") => title.clone(),
        _ => others.join("、"),
    };
    ConversationLine {
        unread_label: tr.format(
            "messaging.inbox.unread_count",
            &[("n", c.unread.to_string())],
        ),
        id: c.id,
        title,
        unread: c.unread,
        when: c
            .last_message_at
            .map(|at| when(state, at))
            .unwrap_or_default(),
        when_iso: c.last_message_at.map(iso).unwrap_or_default(),
    }
}

fn notice_row(
    state: &AppState,
    tr: crate::i18n::Tr<'_>,
    line: NoticeLine,
    counts: Option<(usize, usize)>,
) -> NoticeRow {
    let sent = line.direction == "sent";
    let (state_text, state_class) = match counts {
        Some((confirmed, pending)) if sent => (
            Some(tr.format(
                "messaging.inbox.sent_counts",
                &[
                    ("confirmed", confirmed.to_string()),
                    ("pending", pending.to_string()),
                ],
            )),
            if pending == 0 { "done" } else { "due" },
        ),
        Some((_, pending)) if pending > 0 => {
            (Some(tr.t("messaging.inbox.to_confirm").to_owned()), "due")
        }
        Some((confirmed, _)) if confirmed > 0 => {
            (Some(tr.t("messaging.inbox.confirmed").to_owned()), "done")
        }
        _ => (None, ""),
    };
    NoticeRow {
        held: line
            .held_until
            .map(|at| tr.format("messaging.held_until", &[("time", clock_time(state, at))])),
        when: when(state, line.sent_at),
        when_iso: iso(line.sent_at),
        id: line.id,
        title: line.title,
        sender: line.sender.name,
        sent,
        unread: !line.read,
        urgent: line.urgent,
        state: state_text,
        state_class,
    }
}
