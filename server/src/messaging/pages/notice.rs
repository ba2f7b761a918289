//! `/notices/{id}`: one notice. A parent reads it (which marks it read) and confirms it with one
//! button per child of theirs in its audience. Its sender, the class's teachers and the school's
//! administrators see who has confirmed and who has not, how many have read it, and a button to
//! remind the rest: disabled, with the reason, while a reminder is not allowed.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::{Page, Piece, clock_time, flash, iso, pieces, signed_in, when, with_status};
use crate::auth::pages::see_other;
use crate::error::ErrorCode;
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::messaging::confirmations::{self, ReminderWait};
use crate::messaging::notices::{self, ConfirmationRow, NoticeDetail};
use crate::messaging::protocol::AttachmentView;
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "messaging/notice.html")]
struct NoticePage<'a> {
    page: Layout<'a>,
    csrf: String,
    id: String,
    title: String,
    pieces: Vec<Piece>,
    sender: String,
    audience: String,
    when: String,
    when_iso: String,
    urgent: bool,
    requires_confirmation: bool,
    attachments: Vec<AttachmentView>,
    /// For the sender while quiet hours hold it: "will be delivered at 07:00".
    held: Option<String>,
    /// A recipient's children in the audience.
    children: Vec<Child>,
    staff: Option<StaffView>,
    /// What the last action did (`good`) or why it could not.
    message: Option<String>,
    good: bool,
}

struct Child {
    sourced_id: String,
    name: String,
    confirmed: bool,
    /// "Confirm for 李小1", for screen readers when a parent has several children.
    label: String,
}

/// What the sender and the staff see.
struct StaffView {
    confirmed: Vec<Row>,
    pending: Vec<Row>,
    /// "Read by 2 · not yet by 3".
    reads: String,
    reminded_at: Option<String>,
    remind: Remind,
}

struct Row {
    /// `guardian:student` sourcedIds, for live.js to find the row a receipt is about.
    key: String,
    student: String,
    guardian: String,
    when: String,
}

impl Row {
    fn new(state: &AppState, r: ConfirmationRow) -> Self {
        Row {
            key: format!("{}:{}", r.guardian.sourced_id, r.student.sourced_id),
            student: r.student.name,
            guardian: r.guardian.name,
            when: r.confirmed_at.map(|at| when(state, at)).unwrap_or_default(),
        }
    }
}

/// The reminder button: shown only while someone has not confirmed; disabled with a reason.
struct Remind {
    show: bool,
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    /// How many families the reminder just went to.
    reminded: Option<usize>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let tr = ctx.tr(&state.i18n);
    let message = done
        .reminded
        .map(|n| tr.format("messaging.notice.reminded", &[("n", n.to_string())]));
    show(&state, &ctx, me, &id, message.map(|m| (m, StatusCode::OK))).await
}

/// The page, with the outcome of an action above it (`OK` for success, else its status).
async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    outcome: Option<(String, StatusCode)>,
) -> Page {
    let mut detail = notices::detail(state, me, id).await?;
    // Only the staff's view counts reads.
    let staff = detail.reads.is_some();
    if !staff && !detail.notice.read {
        confirmations::mark_read(state, me, id).await?;
        detail.notice.read = true;
    }
    let tr = ctx.tr(&state.i18n);
    let staff_view = if staff {
        Some(staff_view(state, tr, &mut detail).await?)
    } else {
        None
    };
    let n = detail.notice;
    let status = outcome.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let template = NoticePage {
        page: ctx.layout(&state.i18n, "messaging.notice.title"),
        csrf: ctx.csrf.clone(),
        pieces: pieces(&n.body),
        sender: n.sender.name,
        audience: n.audience.title,
        when: when(state, n.sent_at),
        when_iso: iso(n.sent_at),
        urgent: n.urgent,
        requires_confirmation: n.requires_confirmation,
        attachments: n.attachments,
        held: detail
            .held_until
            .map(|at| tr.format("messaging.held_until", &[("time", clock_time(state, at))])),
        children: n
            .children
            .into_iter()
            .map(|c| Child {
                label: tr.format("messaging.notice.confirm_for", &[("name", c.name.clone())]),
                sourced_id: c.sourced_id,
                name: c.name,
                confirmed: c.confirmed,
            })
            .collect(),
        staff: staff_view,
        good: status.is_success(),
        message: outcome.map(|(m, _)| m),
        id: n.id,
        title: n.title,
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

async fn staff_view(
    state: &AppState,
    tr: Tr<'_>,
    detail: &mut NoticeDetail,
) -> Result<StaffView, sea_orm::DbErr> {
    let remind = remind_button(state, tr, detail).await?;
    let reads = detail.reads.as_ref().map_or_else(String::new, |r| {
        tr.format(
            "messaging.notice.reads",
            &[
                ("read", r.read.to_string()),
                ("unread", r.unread.to_string()),
            ],
        )
    });
    let rows = |rows: Option<Vec<ConfirmationRow>>| {
        rows.unwrap_or_default()
            .into_iter()
            .map(|r| Row::new(state, r))
            .collect()
    };
    Ok(StaffView {
        confirmed: rows(detail.confirmed.take()),
        pending: rows(detail.pending.take()),
        reads,
        reminded_at: detail
            .reminded_at
            .map(|at| tr.format("messaging.notice.reminded_at", &[("time", when(state, at))])),
        remind,
    })
}

/// Whether the reminder button shows, and why it is disabled: the notice still held, the last
/// reminder too recent, or quiet hours (unless the notice is urgent). The service decides
/// again when the button is pressed.
async fn remind_button(
    state: &AppState,
    tr: Tr<'_>,
    d: &NoticeDetail,
) -> Result<Remind, sea_orm::DbErr> {
    let pending = d.pending.as_ref().map_or(0, Vec::len);
    if !d.notice.requires_confirmation || pending == 0 {
        return Ok(Remind {
            show: false,
            reason: None,
        });
    }
    let disabled = |key: &'static str, time: String| {
        Ok(Remind {
            show: true,
            reason: Some(tr.format(key, &[("time", time)])),
        })
    };
    let Ok(n) = notices::find(state, &d.notice.id).await else {
        return Ok(Remind {
            show: false,
            reason: None,
        });
    };
    match confirmations::reminder_wait(state, &n).await? {
        None => {}
        Some(ReminderWait::Held(at)) => {
            return disabled("messaging.notice.remind_held", clock_time(state, at));
        }
        Some(ReminderWait::TooSoon(next)) => {
            return disabled("messaging.notice.remind_too_soon", when(state, next));
        }
        Some(ReminderWait::Quiet(_, until)) => {
            return disabled("messaging.notice.remind_quiet", clock_time(state, until));
        }
    }
    Ok(Remind {
        show: true,
        reason: None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConfirmFields {
    /// The child's sourcedId (each child has a button of their own).
    student: Option<String>,
}

/// A parent confirms for one child, then back to the notice (303).
pub(super) async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(fields): Form<ConfirmFields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/notices/{id}"))?.person;
    let student = fields.student.as_deref().filter(|s| !s.is_empty());
    let detail = confirmations::confirm(&state, me, &id, student).await?;
    Ok(see_other(&format!("/notices/{}", detail.notice.id)))
}

/// Remind those who have not confirmed; the page says how many families, or why not.
pub(super) async fn remind(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/notices/{id}"))?.person;
    match confirmations::remind(&state, me, &id).await {
        // The notice was found by this exact id: a stored UUID, safe in a Location.
        Ok(families) => Ok(see_other(&format!("/notices/{id}?reminded={families}"))),
        Err(err) => {
            let inline = [
                ErrorCode::ReminderTooSoon,
                ErrorCode::QuietHours,
                ErrorCode::InvalidField,
            ];
            let f = flash(ctx.tr(&state.i18n), err, &inline)?;
            show(&state, &ctx, me, &id, Some((f.text, f.status))).await
        }
    }
}
