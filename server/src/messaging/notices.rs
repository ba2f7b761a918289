//! Class notices (班级通知): posting to the families of a class, a grade or a school; reading,
//! confirming per child (回执), the sender's view of who has confirmed, and one reminder every
//! few hours to those who have not.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use tokio::sync::oneshot;

use super::audience::{self, Audience, Target};
use super::committer::{self, Job};
use super::entity::{notice, notice_confirmation, notice_read};
use super::protocol::{ChildState, NoticeView, PersonRef};
use super::{limits, messages, settings, views};
use crate::error::{AppError, ErrorCode};
use crate::people::relations;
use crate::people::store;
use crate::roster::entity::person;
use crate::state::AppState;

const MAX_TITLE: usize = 100;

/// What a sender writes.
#[derive(Debug, Clone)]
pub struct NewNotice {
    pub title: String,
    pub body: String,
    pub requires_confirmation: bool,
    pub include_students: bool,
    pub urgent: bool,
    pub attachments: Vec<String>,
    pub nonce: Option<String>,
    /// The sender has seen the warning that the notice names pupils, and sends anyway.
    pub acknowledge_named_pupils: bool,
}

/// The id of the active class `sourced_id` names, if any.
pub async fn class_id(state: &AppState, sourced_id: &str) -> Result<Option<String>, DbErr> {
    if let Some(found) = state.messaging.classes.get(sourced_id) {
        return Ok(found);
    }
    let found = relations::class_by_sourced_id(&state.db, sourced_id)
        .await?
        .map(|c| c.id);
    state
        .messaging
        .classes
        .insert(sourced_id.to_owned(), found.clone());
    Ok(found)
}

/// Who may post to a target: a class's teachers and its school's administrators; a grade or a
/// school only its administrators. Returns the school the notice belongs to.
async fn may_post(
    state: &AppState,
    caller: &person::Model,
    target: &Target,
) -> Result<(String, bool), AppError> {
    let key = (caller.id.clone(), format!("{target:?}"));
    if let Some(found) = state.messaging.posters.get(&key) {
        return Ok(found);
    }
    let found = may_post_uncached(state, caller, target).await?;
    state.messaging.posters.insert(key, found.clone());
    Ok(found)
}

async fn may_post_uncached(
    state: &AppState,
    caller: &person::Model,
    target: &Target,
) -> Result<(String, bool), AppError> {
    let (school, teacher_ok) = match target {
        Target::Class(class) => {
            let c = crate::roster::entity::class::Entity::find_by_id(class.clone())
                .one(&state.db)
                .await?
                .ok_or_else(AppError::not_found)?;
            (
                c.school_id,
                relations::teaches(&state.db, caller, class).await?,
            )
        }
        Target::Grade { school, .. } | Target::School(school) => (school.clone(), false),
    };
    let admin = relations::administers_org(&state.db, caller, &school).await?;
    if !admin && !teacher_ok {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    Ok((school, admin))
}

pub async fn post(
    state: &AppState,
    caller: &person::Model,
    target: Target,
    new: NewNotice,
) -> Result<notice::Model, AppError> {
    let (school, admin) = may_post(state, caller, &target).await?;
    if new.urgent && !admin {
        return Err(AppError::new(ErrorCode::UrgentNeedsAdmin));
    }
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "title")
            .with_arg("hint", "1–100 个字 / 1–100 characters"));
    }
    messages::check_body(&new.body, new.attachments.len())?;
    if new.body.trim().is_empty() {
        return Err(AppError::new(ErrorCode::EmptyBody));
    }
    let nonce = match new.nonce {
        Some(n) => {
            messages::check_nonce(&n)?;
            n
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    super::attachments::check_owned(state, caller, &new.attachments).await?;
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target).await?;
    if !new.acknowledge_named_pupils {
        let named = audience.named_in(&format!("{title}\n{}", new.body));
        if !named.is_empty() {
            let names: Vec<&str> = named.iter().map(|p| p.name.as_str()).collect();
            return Err(AppError::new(ErrorCode::NamesPupil).with_arg("names", names.join("、")));
        }
    }
    limits::check_notice(state, &caller.id)?;
    let now = state.clock.now();
    let release = if new.urgent {
        None
    } else {
        settings::quiet_hours(state, &school)
            .await?
            .release_time(now, state.config.time_zone)
    };
    let grade = match &target {
        Target::Grade { grade, .. } => Some(grade.clone()),
        _ => None,
    };
    let model = notice::Model {
        id: uuid::Uuid::now_v7().to_string(),
        sender_id: caller.id.clone(),
        school_id: school,
        audience_kind: target.kind().to_owned(),
        audience_id: target.id().to_owned(),
        grade,
        title: title.to_owned(),
        body: new.body.trim_end().to_owned(),
        attachments: serde_json::to_string(&new.attachments).unwrap_or_else(|_| "[]".into()),
        requires_confirmation: new.requires_confirmation,
        include_students: new.include_students,
        urgent: new.urgent,
        nonce,
        held: release.is_some(),
        deliver_at: release.unwrap_or(now),
        created_at: now,
        reminded_at: None,
    };
    let (reply, answer) = oneshot::channel();
    committer::submit(state, Job::Notice(Box::new(model), reply)).await?;
    answer
        .await
        .map_err(|_| AppError::new(ErrorCode::Unavailable))?
}

pub(super) fn target_of(n: &notice::Model) -> Target {
    Target::from_stored(&n.audience_kind, &n.audience_id, n.grade.as_deref())
}

/// How the caller relates to a notice.
pub(super) enum Standing {
    /// Its sender, a teacher of its class, or an administrator of its school: sees the lists.
    Staff,
    /// In its audience: sees their own state.
    Recipient,
}

pub(super) async fn standing(
    state: &AppState,
    caller: &person::Model,
    n: &notice::Model,
) -> Result<Standing, AppError> {
    if n.sender_id == caller.id
        || relations::administers_org(&state.db, caller, &n.school_id).await?
        || (n.audience_kind == "class"
            && relations::teaches(&state.db, caller, &n.audience_id).await?)
    {
        return Ok(Standing::Staff);
    }
    if !n.held {
        let keys = audience::keys_for(&state.db, caller).await?;
        let target = target_of(n);
        if keys.family.covers(&target) || (n.include_students && keys.own.covers(&target)) {
            return Ok(Standing::Recipient);
        }
    }
    // Another class's parent learns nothing, not even that the notice exists.
    Err(AppError::not_found())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ConfirmationCounts)]
pub struct Counts {
    pub confirmed: usize,
    pub pending: usize,
}

/// A child and guardian of the audience, and when the guardian confirmed (absent if not yet).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfirmationRow {
    pub student: PersonRef,
    pub guardian: PersonRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadCounts {
    pub read: usize,
    pub unread: usize,
}

/// `GET /api/v1/notices/{id}`: the sender's view has the confirmation lists; a recipient's
/// has their own children and state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeDetail {
    #[serde(flatten)]
    pub notice: NoticeView,
    /// For the sender while quiet hours hold the notice: when it will be delivered.
    pub held_until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<Counts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Vec<ConfirmationRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<ConfirmationRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads: Option<ReadCounts>,
    /// Whether the caller may send a reminder now.
    pub can_remind: bool,
}

pub(super) async fn find(state: &AppState, id: &str) -> Result<notice::Model, AppError> {
    notice::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)
}

pub(super) async fn confirmations(
    state: &AppState,
    id: &str,
) -> Result<Vec<notice_confirmation::Model>, DbErr> {
    notice_confirmation::Entity::find()
        .filter(notice_confirmation::Column::NoticeId.eq(id))
        .all(&state.db)
        .await
}

pub async fn detail(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<NoticeDetail, AppError> {
    let n = find(state, id).await?;
    let standing = standing(state, caller, &n).await?;
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target_of(&n)).await?;
    let confirmed_rows = confirmations(state, &n.id).await?;
    let read = notice_read::Entity::find_by_id((n.id.clone(), caller.id.clone()))
        .one(&state.db)
        .await?
        .is_some();
    match standing {
        Standing::Recipient => {
            let children = children_state(&audience, &caller.id, &confirmed_rows);
            Ok(NoticeDetail {
                notice: views::notice(state, &n, children, read).await?,
                held_until: None,
                reminded_at: None,
                confirmations: None,
                confirmed: None,
                pending: None,
                reads: None,
                can_remind: false,
            })
        }
        Standing::Staff => {
            let mut confirmed = Vec::new();
            let mut pending = Vec::new();
            let mut ids: Vec<String> = audience.guardians.keys().cloned().collect();
            ids.extend(audience.pupils.iter().map(|p| p.id.clone()));
            let people = store::people_by_id(&state.db, ids).await?;
            let reference = |id: &str| {
                people.get(id).map(views::person_ref).unwrap_or(PersonRef {
                    sourced_id: String::new(),
                    name: String::new(),
                })
            };
            if n.requires_confirmation {
                for (guardian, pupils) in &audience.guardians {
                    for &i in pupils {
                        let pupil = &audience.pupils[i];
                        let at = confirmed_rows
                            .iter()
                            .find(|c| c.guardian_id == *guardian && c.student_id == pupil.id)
                            .map(|c| c.confirmed_at);
                        let row = ConfirmationRow {
                            student: reference(&pupil.id),
                            guardian: reference(guardian),
                            confirmed_at: at,
                        };
                        if at.is_some() {
                            confirmed.push(row);
                        } else {
                            pending.push(row);
                        }
                    }
                }
                let order = |r: &ConfirmationRow| {
                    (r.student.sourced_id.clone(), r.guardian.sourced_id.clone())
                };
                confirmed.sort_by_key(order);
                pending.sort_by_key(order);
            }
            let readers: HashSet<String> = notice_read::Entity::find()
                .filter(notice_read::Column::NoticeId.eq(n.id.as_str()))
                .all(&state.db)
                .await?
                .into_iter()
                .map(|r| r.person_id)
                .collect();
            let mut recipients: BTreeSet<&str> =
                audience.guardians.keys().map(String::as_str).collect();
            if n.include_students {
                recipients.extend(audience.pupils.iter().map(|p| p.id.as_str()));
            }
            let read_count = recipients.iter().filter(|r| readers.contains(**r)).count();
            let can_remind = n.requires_confirmation
                && !pending.is_empty()
                && super::confirmations::reminder_wait(state, &n)
                    .await?
                    .is_none();
            Ok(NoticeDetail {
                notice: views::notice(state, &n, Vec::new(), true).await?,
                held_until: n.held.then_some(n.deliver_at),
                reminded_at: n.reminded_at,
                confirmations: n.requires_confirmation.then_some(Counts {
                    confirmed: confirmed.len(),
                    pending: pending.len(),
                }),
                confirmed: n.requires_confirmation.then_some(confirmed),
                pending: n.requires_confirmation.then_some(pending),
                reads: Some(ReadCounts {
                    read: read_count,
                    unread: recipients.len() - read_count,
                }),
                can_remind,
            })
        }
    }
}

pub(super) fn children_state(
    audience: &Audience,
    guardian: &str,
    confirmed: &[notice_confirmation::Model],
) -> Vec<ChildState> {
    audience
        .children_of(guardian)
        .map(|p| ChildState {
            sourced_id: p.sourced_id.clone(),
            name: p.name.clone(),
            confirmed: confirmed
                .iter()
                .any(|c| c.guardian_id == guardian && c.student_id == p.id),
        })
        .collect()
}

/// A line of the caller's notice list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeLine {
    pub id: String,
    pub title: String,
    pub sender: PersonRef,
    pub sent_at: DateTime<Utc>,
    pub requires_confirmation: bool,
    pub urgent: bool,
    /// `received` or `sent`.
    pub direction: &'static str,
    pub read: bool,
    pub held_until: Option<DateTime<Utc>>,
}

/// Notices the caller received or sent, newest first; the cursor is the last line's
/// "time|id".
pub async fn list(
    state: &AppState,
    caller: &person::Model,
    after: Option<&str>,
    limit: u64,
) -> Result<(Vec<NoticeLine>, Option<String>), AppError> {
    let keys = audience::keys_for(&state.db, caller).await?;
    let mut cond = sea_orm::Condition::any().add(notice::Column::SenderId.eq(caller.id.as_str()));
    if let Some(received) = received(&keys) {
        cond = cond.add(
            sea_orm::Condition::all()
                .add(notice::Column::Held.eq(false))
                .add(received),
        );
    }
    let mut query = notice::Entity::find().filter(cond);
    if let Some((at, id)) = after.and_then(parse_cursor) {
        query = query.filter(
            sea_orm::Condition::any()
                .add(notice::Column::DeliverAt.lt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(notice::Column::DeliverAt.eq(at))
                        .add(notice::Column::Id.lt(id)),
                ),
        );
    }
    let rows = query
        .order_by_desc(notice::Column::DeliverAt)
        .order_by_desc(notice::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    let read = read_by(state, &caller.id, &rows).await?;
    let mut out = Vec::new();
    for n in rows.iter().take(limit as usize) {
        let sent = n.sender_id == caller.id;
        out.push(NoticeLine {
            id: n.id.clone(),
            title: n.title.clone(),
            sender: views::sender(state, &n.sender_id).await?,
            sent_at: n.deliver_at,
            requires_confirmation: n.requires_confirmation,
            urgent: n.urgent,
            direction: if sent { "sent" } else { "received" },
            read: sent || read.contains(&n.id),
            held_until: n.held.then_some(n.deliver_at),
        });
    }
    let next = if more {
        rows.get(limit as usize - 1)
            .map(|n| format!("{}|{}", n.deliver_at.timestamp_micros(), n.id))
    } else {
        None
    };
    Ok((out, next))
}

fn parse_cursor(cursor: &str) -> Option<(DateTime<Utc>, String)> {
    let (at, id) = cursor.split_once('|')?;
    let at = DateTime::from_timestamp_micros(at.parse().ok()?)?;
    Some((at, id.to_owned()))
}

/// For each line that asks for confirmation, (confirmed, pending): for the caller's own
/// children when they received it, for every family when they sent it.
pub async fn confirmation_counts(
    state: &AppState,
    me: &person::Model,
    lines: &[NoticeLine],
) -> Result<HashMap<String, (usize, usize)>, sea_orm::DbErr> {
    let ids: Vec<String> = lines
        .iter()
        .filter(|l| l.requires_confirmation)
        .map(|l| l.id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let models = notice::Entity::find()
        .filter(notice::Column::Id.is_in(ids.clone()))
        .all(&state.db)
        .await?;
    let rows = notice_confirmation::Entity::find()
        .filter(notice_confirmation::Column::NoticeId.is_in(ids))
        .all(&state.db)
        .await?;
    let mut out = HashMap::new();
    for n in models {
        let target = Target::from_stored(&n.audience_kind, &n.audience_id, n.grade.as_deref());
        let audience = audience::resolve(&state.db, &state.messaging.audiences, &target).await?;
        let done = |guardian: &str, pupil: &str| {
            rows.iter()
                .any(|r| r.notice_id == n.id && r.guardian_id == guardian && r.student_id == pupil)
        };
        let mut counts = (0, 0);
        let mut tally = |ok: bool| {
            if ok {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        };
        if n.sender_id == me.id {
            for (guardian, pupils) in &audience.guardians {
                for &i in pupils {
                    tally(done(guardian, &audience.pupils[i].id));
                }
            }
        } else {
            for child in audience.children_of(&me.id) {
                tally(done(&me.id, &child.id));
            }
        }
        out.insert(n.id.clone(), counts);
    }
    Ok(out)
}

/// Which of these notices `person` has opened.
async fn read_by(
    state: &AppState,
    person: &str,
    notices: &[notice::Model],
) -> Result<HashSet<String>, DbErr> {
    let ids: Vec<String> = notices.iter().map(|n| n.id.clone()).collect();
    Ok(notice_read::Entity::find()
        .filter(notice_read::Column::PersonId.eq(person))
        .filter(notice_read::Column::NoticeId.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| r.notice_id)
        .collect())
}

/// The notices that reach someone with these keys: through their children, and as a pupil
/// when students were included. `None` when nothing can reach them.
fn received(keys: &audience::Keys) -> Option<sea_orm::Condition> {
    if keys.family.is_empty() && keys.own.is_empty() {
        return None;
    }
    let mut received = sea_orm::Condition::any();
    if !keys.family.is_empty() {
        received = received.add(keys.family.condition());
    }
    if !keys.own.is_empty() {
        received = received.add(
            sea_orm::Condition::all()
                .add(notice::Column::IncludeStudents.eq(true))
                .add(keys.own.condition()),
        );
    }
    Some(received)
}

/// Delivered notices reaching `person` that they have not opened (newest first, at most 200).
pub async fn unread(state: &AppState, person: &person::Model) -> Result<Vec<notice::Model>, DbErr> {
    let keys = audience::keys_for(&state.db, person).await?;
    let Some(received) = received(&keys) else {
        return Ok(Vec::new());
    };
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    // Unread in the query itself: filtering the newest few afterwards would miss older unread
    // notices behind a page of read ones.
    let opened = Query::select()
        .expr(Expr::val(1))
        .from(notice_read::Entity)
        .and_where(
            Expr::col((notice_read::Entity, notice_read::Column::NoticeId))
                .equals((notice::Entity, notice::Column::Id)),
        )
        .and_where(
            Expr::col((notice_read::Entity, notice_read::Column::PersonId)).eq(person.id.as_str()),
        )
        .to_owned();
    // No `held` in the query: with it SQLite walks the (held, deliver_at) index through every
    // notice of the district instead of the audience index; held ones are few and dropped here.
    Ok(notice::Entity::find()
        .filter(received)
        .filter(Expr::not_exists(opened))
        .order_by_desc(notice::Column::DeliverAt)
        .limit(200)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|n| !n.held)
        .collect())
}

/// A notice as `person` (a recipient) sees it, for a socket's catch-up.
pub async fn recipient_view(
    state: &AppState,
    person: &person::Model,
    n: &notice::Model,
) -> Result<NoticeView, DbErr> {
    let audience = audience::resolve(&state.db, &state.messaging.audiences, &target_of(n)).await?;
    let confirmed = confirmations(state, &n.id).await?;
    let children = children_state(&audience, &person.id, &confirmed);
    views::notice(state, n, children, false).await
}
