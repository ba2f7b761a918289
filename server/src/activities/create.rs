//! Organising an activity: the checked input of `POST /api/v1/activities` (and of the
//! organiser's form), and who may organise where.

use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access;
use super::entity::activity;
use super::service::{Ask, given, invalid, local, parse_time, text};
use crate::error::{AppError, ErrorCode};
use crate::markdown;
use crate::people::relations;
use crate::roster::entity::person;
use crate::state::AppState;

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_PLACE: usize = 200;
pub const MAX_QUESTION: usize = 500;
pub const MAX_CAPACITY: i64 = 100_000;

/// A number as JSON sends it, or as a form's text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Count {
    Number(i64),
    Text(String),
}

/// `POST /api/v1/activities`. Times are RFC 3339 (`2026-12-10T08:30:00+08:00`), or a local
/// time of the school's time zone (`2026-12-10 08:30`, as a form's datetime field sends it).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewActivity {
    /// The class's sourcedId, for a class activity.
    pub class: Option<String>,
    /// The school's sourcedId, for a school-wide activity.
    pub school: Option<String>,
    pub title: String,
    /// Plain text or Markdown.
    pub description: String,
    pub place: String,
    #[schema(example = "2026-12-10T08:30:00+08:00")]
    pub starts_at: String,
    pub ends_at: Option<String>,
    /// Places, for a sign-up.
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Count>,
    /// `none`, `signup` or `permission`.
    #[schema(example = "permission")]
    pub ask: String,
    #[schema(example = "是否同意孩子参加春游？")]
    pub question: String,
    /// Answers are taken until then (at the latest until the start).
    pub deadline: Option<String>,
}

/// `POST /api/v1/activities`.
pub async fn create(
    state: &AppState,
    caller: &person::Model,
    input: NewActivity,
) -> Result<activity::Model, AppError> {
    let (org_id, class_id) = place_of(state, caller, &input).await?;
    let zone = state.config.time_zone;
    let now = state.clock.now();
    let title = text("title", &input.title, MAX_TITLE, true)?;
    let description = text("description", &input.description, MAX_DESCRIPTION, false)?;
    markdown::render(&description).map_err(|r| r.into_error("description"))?;
    let place = text("place", &input.place, MAX_PLACE, true)?;
    if input.starts_at.trim().is_empty() {
        return Err(invalid("starts_at", "请填写开始时间 / give the start time"));
    }
    let starts_at = parse_time("starts_at", &input.starts_at, zone)?;
    if starts_at <= now {
        return Err(invalid(
            "starts_at",
            format!(
                "开始时间已过（现在是 {}）/ the start is in the past",
                local(state, now)
            ),
        ));
    }
    let ends_at = given(&input.ends_at)
        .map(|v| parse_time("ends_at", v, zone))
        .transpose()?;
    if let Some(end) = ends_at
        && end <= starts_at
    {
        return Err(invalid(
            "ends_at",
            "结束时间必须晚于开始时间 / the end must come after the start",
        ));
    }
    let ask = Ask::parse(&input.ask).ok_or_else(|| {
        invalid(
            "ask",
            "应为 none、signup 或 permission / use none, signup or permission",
        )
    })?;
    let question = text("question", &input.question, MAX_QUESTION, ask != Ask::None)?;
    let capacity = parse_capacity(&input.capacity)?;
    if capacity.is_some() && ask != Ask::Signup {
        return Err(invalid(
            "capacity",
            "名额只适用于报名（ask 为 signup）/ places apply to a sign-up (ask: signup)",
        ));
    }
    let deadline = given(&input.deadline)
        .map(|v| parse_time("deadline", v, zone))
        .transpose()?;
    if let Some(d) = deadline {
        if ask == Ask::None {
            return Err(invalid(
                "deadline",
                "不征求回复的活动没有截止时间 / an activity that asks nothing has no deadline",
            ));
        }
        if d > starts_at {
            return Err(invalid(
                "deadline",
                "截止时间不能晚于活动开始时间 / the deadline must not be after the start",
            ));
        }
        if d <= now {
            return Err(invalid(
                "deadline",
                "截止时间已过 / the deadline is in the past",
            ));
        }
    }
    let model = activity::Model {
        id: uuid::Uuid::now_v7().to_string(),
        org_id,
        class_id,
        organiser_id: caller.id.clone(),
        title,
        description,
        place,
        starts_at,
        ends_at,
        capacity: capacity.map(|c| c as i32),
        ask: ask.as_str().to_owned(),
        question: if ask == Ask::None {
            String::new()
        } else {
            question
        },
        deadline,
        created_at: now,
        updated_at: now,
        cancelled_at: None,
        cancel_reason: None,
    };
    activity::Entity::insert(activity::ActiveModel::from(model.clone()))
        .exec_without_returning(&state.db)
        .await?;
    Ok(model)
}

fn parse_capacity(value: &Option<Count>) -> Result<Option<i64>, AppError> {
    let n = match value {
        None => return Ok(None),
        Some(Count::Number(n)) => *n,
        Some(Count::Text(t)) if t.trim().is_empty() => return Ok(None),
        Some(Count::Text(t)) => t.trim().parse::<i64>().map_err(|_| {
            invalid(
                "capacity",
                format!("“{t}”不是整数 / \"{t}\" is not a whole number"),
            )
        })?,
    };
    if !(1..=MAX_CAPACITY).contains(&n) {
        return Err(invalid(
            "capacity",
            format!("名额应在 1 到 {MAX_CAPACITY} 之间 / between 1 and {MAX_CAPACITY}"),
        ));
    }
    Ok(Some(n))
}

/// The school and class of a new activity, checking the caller may organise it there: a
/// class's teachers and its school's administrators; a school's administrators.
async fn place_of(
    state: &AppState,
    caller: &person::Model,
    input: &NewActivity,
) -> Result<(String, Option<String>), AppError> {
    match (given(&input.class), given(&input.school)) {
        (Some(_), Some(_)) => Err(invalid(
            "class / school",
            "只能填写班级或学校之一 / give a class or a school, not both",
        )),
        (None, None) => Err(invalid(
            "class / school",
            "请填写班级（class）或学校（school）/ give a class or a school",
        )),
        (Some(sid), None) => {
            let c = relations::class_by_sourced_id(&state.db, sid)
                .await?
                .ok_or_else(|| {
                    invalid("class", format!("没有编号为 {sid} 的班级 / no class {sid}"))
                })?;
            if !(relations::teaches(&state.db, caller, &c.id).await?
                || relations::administers_org(&state.db, caller, &c.school_id).await?)
            {
                return Err(AppError::new(ErrorCode::Forbidden));
            }
            Ok((c.school_id, Some(c.id)))
        }
        (None, Some(sid)) => {
            let school = access::school_by_sourced_id(&state.db, sid)
                .await?
                .ok_or_else(|| {
                    invalid(
                        "school",
                        format!("没有编号为 {sid} 的学校 / no school {sid}"),
                    )
                })?;
            if !relations::administers_org(&state.db, caller, &school.id).await? {
                return Err(AppError::new(ErrorCode::Forbidden));
            }
            Ok((school.id, None))
        }
    }
}
