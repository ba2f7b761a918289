//! What families do with a notice and what its sender sees of it: reading, confirming per
//! child (回执), and one reminder every few hours to those who have not confirmed.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};

use super::audience;
use super::deliver::{self, Delivery};
use super::entity::{notice, notice_confirmation, notice_read};
use super::notices::{NoticeDetail, Standing, confirmations, detail, find, standing, target_of};
use super::settings;
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// The shortest time between two reminders of one notice.
pub const REMINDER_SPACING: TimeDelta = TimeDelta::hours(3);

/// Mark a notice read by the caller (the sender sees it; so do the caller's other devices).
pub async fn mark_read(state: &AppState, caller: &person::Model, id: &str) -> Result<(), AppError> {
    let n = find(state, id).await?;
    if !matches!(standing(state, caller, &n).await?, Standing::Recipient) {
        return Ok(());
    }
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let inserted =
        notice_read::Entity::insert(notice_read::ActiveModel::from(notice_read::Model {
            notice_id: n.id.clone(),
            person_id: caller.id.clone(),
            read_at: now,
        }))
        .on_conflict(
            OnConflict::columns([notice_read::Column::NoticeId, notice_read::Column::PersonId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        return Ok(());
    }
    let delivery = Delivery::NoticeReceipt {
        notice: n.id.clone(),
        sender: n.sender_id.clone(),
        person: caller.id.clone(),
        student: None,
        read: true,
        confirmed: false,
    };
    deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
    txn.commit().await?;
    deliver::publish(state, vec![delivery]);
    Ok(())
}

/// A parent confirms a notice for one of their children in its audience (`student` names the
/// child; needed only when more than one of theirs is in the audience). Confirming also reads.
pub async fn confirm(
    state: &AppState,
    caller: &person::Model,
    id: &str,
    student: Option<&str>,
) -> Result<NoticeDetail, AppError> {
    let n = find(state, id).await?;
    if !matches!(standing(state, caller, &n).await?, Standing::Recipient) {
        return Err(AppError::new(ErrorCode::NotYourChild));
    }
    if !n.requires_confirmation {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "requires_confirmation")
            .with_arg(
                "hint",
                "此通知不需要回执 / this notice asks for no confirmation",
            ));
    }
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target_of(&n)).await?;
    let children: Vec<_> = audience.children_of(&caller.id).collect();
    let child = match student {
        Some(sourced) => children
            .iter()
            .find(|p| p.sourced_id == sourced)
            .ok_or_else(|| AppError::new(ErrorCode::NotYourChild))?,
        None => match children.as_slice() {
            [only] => only,
            [] => return Err(AppError::new(ErrorCode::NotYourChild)),
            _ => return Err(AppError::new(ErrorCode::ChooseChild)),
        },
    };
    let child_id = child.id.clone();
    mark_read(state, caller, id).await?;
    let txn = state.db.begin().await?;
    let inserted = notice_confirmation::Entity::insert(notice_confirmation::ActiveModel::from(
        notice_confirmation::Model {
            notice_id: n.id.clone(),
            guardian_id: caller.id.clone(),
            student_id: child_id.clone(),
            confirmed_at: state.clock.now(),
        },
    ))
    .on_conflict(
        OnConflict::columns([
            notice_confirmation::Column::NoticeId,
            notice_confirmation::Column::GuardianId,
            notice_confirmation::Column::StudentId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let delivery = Delivery::NoticeReceipt {
        notice: n.id.clone(),
        sender: n.sender_id.clone(),
        person: caller.id.clone(),
        student: Some(child_id),
        read: true,
        confirmed: true,
    };
    if inserted > 0 {
        deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
    }
    txn.commit().await?;
    if inserted > 0 {
        deliver::publish(state, vec![delivery]);
    }
    detail(state, caller, id).await
}

fn next_reminder(n: &notice::Model) -> Option<DateTime<Utc>> {
    n.reminded_at.map(|at| at + REMINDER_SPACING)
}

/// The guardians in a notice's audience who have not confirmed for every child of theirs.
pub async fn unconfirmed_guardians(
    state: &AppState,
    n: &notice::Model,
) -> Result<Vec<String>, DbErr> {
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target_of(n)).await?;
    let confirmed = confirmations(state, &n.id).await?;
    Ok(audience
        .guardians
        .iter()
        .filter(|(guardian, pupils)| {
            pupils.iter().any(|&i| {
                !confirmed
                    .iter()
                    .any(|c| c.guardian_id == **guardian && c.student_id == audience.pupils[i].id)
            })
        })
        .map(|(g, _)| g.clone())
        .collect())
}

/// Remind those who have not confirmed: the sender (or an administrator), at most once every
/// [`REMINDER_SPACING`], never in quiet hours unless the notice is urgent. Returns how many
/// families were reminded.
/// Why a reminder cannot go now, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderWait {
    /// Quiet hours still hold the notice itself.
    Held(DateTime<Utc>),
    /// The last reminder was too recent.
    TooSoon(DateTime<Utc>),
    /// Quiet hours (the notice is not urgent).
    Quiet(super::quiet::QuietHours, DateTime<Utc>),
}

/// When a reminder of this notice may not go now: the one rule for the button and the action.
pub async fn reminder_wait(
    state: &AppState,
    n: &notice::Model,
) -> Result<Option<ReminderWait>, DbErr> {
    let now = state.clock.now();
    if n.held {
        return Ok(Some(ReminderWait::Held(n.deliver_at)));
    }
    if let Some(at) = next_reminder(n).filter(|at| *at > now) {
        return Ok(Some(ReminderWait::TooSoon(at)));
    }
    if n.urgent {
        return Ok(None);
    }
    let quiet = settings::quiet_hours(state, &n.school_id).await?;
    Ok(quiet
        .release_time(now, state.config.time_zone)
        .map(|until| ReminderWait::Quiet(quiet, until)))
}

pub async fn remind(state: &AppState, caller: &person::Model, id: &str) -> Result<usize, AppError> {
    let n = find(state, id).await?;
    if !matches!(standing(state, caller, &n).await?, Standing::Staff) {
        return Err(AppError::not_found());
    }
    let now = state.clock.now();
    let refused_held = || {
        AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "requires_confirmation")
            .with_arg("hint", "只有已送达、需要回执的通知可以提醒 / only a delivered notice asking for confirmation can be reminded")
    };
    if !n.requires_confirmation {
        return Err(refused_held());
    }
    match reminder_wait(state, &n).await? {
        None => {}
        Some(ReminderWait::Held(_)) => return Err(refused_held()),
        Some(ReminderWait::TooSoon(at)) => {
            let wait = (at - now).num_seconds().max(1);
            return Err(AppError::new(ErrorCode::ReminderTooSoon)
                .with_arg("seconds", wait.to_string())
                .with_arg("minutes", (wait + 59).div_euclid(60).to_string()));
        }
        Some(ReminderWait::Quiet(quiet, until)) => {
            let local = until.with_timezone(&state.config.time_zone);
            return Err(AppError::new(ErrorCode::QuietHours)
                .with_arg("hours", quiet.to_string())
                .with_arg("until", local.format("%H:%M").to_string()));
        }
    }
    let pending = unconfirmed_guardians(state, &n).await?;
    let txn = state.db.begin().await?;
    // Conditional, so two clicks (or two nodes) cannot both remind.
    let mut update = notice::Entity::update_many()
        .col_expr(notice::Column::RemindedAt, Expr::value(now))
        .filter(notice::Column::Id.eq(n.id.as_str()));
    update = match n.reminded_at {
        Some(at) => update.filter(notice::Column::RemindedAt.eq(at)),
        None => update.filter(notice::Column::RemindedAt.is_null()),
    };
    if update.exec(&txn).await?.rows_affected == 0 {
        return Err(AppError::new(ErrorCode::ReminderTooSoon)
            .with_arg("seconds", REMINDER_SPACING.num_seconds().to_string())
            .with_arg("minutes", REMINDER_SPACING.num_minutes().to_string()));
    }
    let delivery = Delivery::Reminder(n.clone());
    deliver::notify_other_nodes(state, &txn, std::slice::from_ref(&delivery)).await?;
    txn.commit().await?;
    deliver::publish(state, vec![delivery]);
    Ok(pending.len())
}
