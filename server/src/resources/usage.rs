//! Usage (viewed, downloaded, used in a lesson), follows (a subject or a teacher — chosen by
//! the person, never pushed), and the lists people work from: my resources, the review queue,
//! and what is new where I follow.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;

use super::entity::{follow, resource, usage, version};
use super::service::{self, names, parse_subject};
use super::{State, access, outbox};
use crate::error::{AppError, ErrorCode};
use crate::people::store;
use crate::roster::entity::person;
use crate::state::AppState;

/// A kind of use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    View,
    Download,
    Lesson,
}

impl Use {
    pub fn parse(value: &str) -> Option<Use> {
        match value {
            "view" | "viewed" => Some(Use::View),
            "download" | "downloaded" => Some(Use::Download),
            "lesson" | "used_in_lesson" => Some(Use::Lesson),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Use::View => "view",
            Use::Download => "download",
            Use::Lesson => "lesson",
        }
    }

    fn column(self) -> resource::Column {
        match self {
            Use::View => resource::Column::ViewCount,
            Use::Download => resource::Column::DownloadCount,
            Use::Lesson => resource::Column::LessonCount,
        }
    }
}

/// Record one use of a resource the person may read (the caller has checked).
pub async fn record(
    state: &AppState,
    who: &person::Model,
    resource_id: &str,
    what: Use,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    usage::Entity::insert(
        usage::Model {
            id: uuid::Uuid::now_v7().to_string(),
            resource_id: resource_id.to_owned(),
            person_id: who.id.clone(),
            action: what.as_str().to_owned(),
            at: now,
        }
        .into_active_model(),
    )
    .exec_without_returning(&txn)
    .await?;
    resource::Entity::update_many()
        .col_expr(what.column(), Expr::col(what.column()).add(1))
        .filter(resource::Column::Id.eq(resource_id))
        .exec(&txn)
        .await?;
    outbox::record(&txn, resource_id, now).await?;
    txn.commit().await?;
    state.search.wake.notify_one();
    Ok(())
}

/// `POST /api/v1/resources/{id}/usage`: a reader records a use of a published resource; its
/// owner and reviewers, while it is not published, are told its state; anyone else gets 404.
pub async fn record_for_reader(
    state: &AppState,
    who: &person::Model,
    resource_id: &str,
    what: Use,
) -> Result<(), AppError> {
    let (r, versions) = service::load(&state.db, resource_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let standing = service::standing(state, who, &r, &versions).await?;
    if !standing.reader {
        return Err(if standing.sees_working() {
            AppError::new(ErrorCode::InvalidState)
                .with_arg(
                    "state",
                    State::parse(&r.state).map(State::label).unwrap_or(""),
                )
                .with_arg("action", "使用 / used")
        } else {
            AppError::not_found()
        });
    }
    record(state, who, resource_id, what).await
}

/// A resource in a list (mine, the review queue, follows).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ResourceItem)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub subject: String,
    pub grade: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub edition: String,
    pub scope: String,
    /// The resource's state in the library.
    pub state: String,
    pub state_label: &'static str,
    /// The working version's number and state (what the owner and reviewers act on).
    pub version: i32,
    pub version_state: String,
    /// The author's name.
    pub owner: String,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// Negative-list matches the machine check found (mine, the review queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_matches: Option<usize>,
    /// Resources with identical content (mine, the review queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<usize>,
}

async fn items(
    state: &AppState,
    resources: Vec<resource::Model>,
    use_published: bool,
    with_checks: bool,
) -> Result<Vec<Item>, AppError> {
    let ids: Vec<String> = resources
        .iter()
        .flat_map(|r| {
            std::iter::once(r.latest_version_id.clone()).chain(r.published_version_id.clone())
        })
        .collect();
    let versions: std::collections::HashMap<String, version::Model> = version::Entity::find()
        .filter(version::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|v| (v.id.clone(), v))
        .collect();
    let people = names(&state.db, resources.iter().map(|r| r.owner_id.clone())).await?;
    Ok(resources
        .into_iter()
        .filter_map(|r| {
            let latest = versions.get(&r.latest_version_id)?;
            let shown = if use_published {
                r.published_version_id
                    .as_ref()
                    .and_then(|p| versions.get(p))
                    .unwrap_or(latest)
            } else {
                latest
            };
            let checks: Option<super::check::Findings> = if with_checks {
                latest
                    .checks
                    .as_deref()
                    .and_then(|c| serde_json::from_str(c).ok())
            } else {
                None
            };
            Some(Item {
                id: r.id.clone(),
                title: shown.title.clone(),
                subject: shown.subject.clone(),
                grade: shown.grade.clone(),
                kind: shown.kind.clone(),
                edition: shown.edition.clone(),
                scope: shown.scope.clone(),
                state: r.state.clone(),
                state_label: State::parse(&r.state).map(State::label).unwrap_or(""),
                version: latest.number,
                version_state: latest.state.clone(),
                owner: people
                    .get(&r.owner_id)
                    .map(|p| p.1.clone())
                    .unwrap_or_default(),
                updated_at: r.updated_at,
                published_at: r.published_at,
                negative_matches: checks.as_ref().map(|c| c.negative.len()),
                duplicates: checks.as_ref().map(|c| c.duplicates.len()),
            })
        })
        .collect())
}

/// "My resources": everything the person authored, newest change first, with states.
pub async fn mine(
    state: &AppState,
    owner: &person::Model,
    state_filter: Option<&str>,
) -> Result<Vec<Item>, AppError> {
    let mut query = resource::Entity::find()
        .filter(resource::Column::OwnerId.eq(owner.id.as_str()))
        .order_by_desc(resource::Column::UpdatedAt)
        .limit(500);
    if let Some(s) = state_filter.filter(|s| !s.is_empty()) {
        if State::parse(s).is_none() {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "state")
                .with_arg("hint", format!("“{s}”不是资源状态 / not a resource state")));
        }
        query = query.filter(resource::Column::State.eq(s));
    }
    let list = query.all(&state.db).await?;
    items(state, list, false, true).await
}

/// The review queue: versions waiting for review in the organisations the person reviews for,
/// oldest submission first, filtered by subject, grade or type.
pub async fn queue(
    state: &AppState,
    reviewer: &person::Model,
    subject: Option<&str>,
    grade: Option<&str>,
    kind: Option<&str>,
) -> Result<Vec<Item>, AppError> {
    let orgs = access::review_orgs(&state.db, reviewer).await?;
    if orgs.is_empty() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let mut query = version::Entity::find()
        .filter(version::Column::State.eq(State::InReview.as_str()))
        .filter(version::Column::OrgId.is_in(orgs))
        .order_by_asc(version::Column::SubmittedAt)
        .limit(500);
    if let Some(s) = subject.filter(|s| !s.is_empty()) {
        query = query.filter(version::Column::Subject.eq(parse_subject(s)?));
    }
    if let Some(g) = grade.filter(|s| !s.is_empty()) {
        query = query.filter(version::Column::Grade.eq(service::parse_grade(g)?));
    }
    if let Some(k) = kind.filter(|s| !s.is_empty()) {
        query = query.filter(version::Column::Kind.eq(service::parse_kind(k)?));
    }
    let waiting = query.all(&state.db).await?;
    let ids: Vec<String> = waiting.iter().map(|v| v.resource_id.clone()).collect();
    let mut resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids.clone()))
        .all(&state.db)
        .await?;
    resources.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    items(state, resources, false, true).await
}

/// Something the caller follows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowView {
    /// `subject` or `teacher`.
    pub kind: String,
    /// The subject's name, or the teacher's sourcedId.
    pub target: String,
    /// A teacher's name, or the subject again.
    pub label: String,
}

/// Follow a subject (by its Chinese name) or a teacher (by sourcedId). Idempotent.
pub async fn follow(
    state: &AppState,
    who: &person::Model,
    kind: &str,
    target: &str,
) -> Result<FollowView, AppError> {
    let (target, label) = match kind {
        "subject" => {
            let s = parse_subject(target)?;
            (s.clone(), s)
        }
        "teacher" => {
            let teacher = store::find_by_sourced_id(&state.db, target.trim())
                .await?
                .filter(|p| p.status == crate::roster::snapshot::ACTIVE);
            let Some(teacher) = teacher else {
                return Err(
                    AppError::new(ErrorCode::UnknownPerson).with_arg("who", target.to_owned())
                );
            };
            if !access::may_author(&state.db, &teacher).await? {
                return Err(AppError::new(ErrorCode::InvalidField)
                    .with_arg("field", "target")
                    .with_arg("hint", "只能关注老师 / only teachers can be followed"));
            }
            (teacher.id.clone(), teacher.display_name.clone())
        }
        other => {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "kind")
                .with_arg(
                    "hint",
                    format!("“{other}”应为 subject 或 teacher / use subject or teacher"),
                ));
        }
    };
    follow::Entity::insert(
        follow::Model {
            person_id: who.id.clone(),
            kind: kind.to_owned(),
            target: target.clone(),
            created_at: state.clock.now(),
        }
        .into_active_model(),
    )
    .on_conflict(
        OnConflict::columns([
            follow::Column::PersonId,
            follow::Column::Kind,
            follow::Column::Target,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(FollowView {
        kind: kind.to_owned(),
        target: if kind == "teacher" {
            target_sourced_id(state, &target).await?
        } else {
            target
        },
        label,
    })
}

async fn target_sourced_id(state: &AppState, person_id: &str) -> Result<String, AppError> {
    Ok(person::Entity::find_by_id(person_id.to_owned())
        .one(&state.db)
        .await?
        .map(|p| p.sourced_id)
        .unwrap_or_default())
}

pub async fn unfollow(
    state: &AppState,
    who: &person::Model,
    kind: &str,
    target: &str,
) -> Result<(), AppError> {
    let target = if kind == "teacher" {
        store::find_by_sourced_id(&state.db, target)
            .await?
            .map(|p| p.id)
            .unwrap_or_default()
    } else {
        target.to_owned()
    };
    follow::Entity::delete_many()
        .filter(follow::Column::PersonId.eq(who.id.as_str()))
        .filter(follow::Column::Kind.eq(kind))
        .filter(follow::Column::Target.eq(target))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// The person's follows, and the newest published resources there that they may see.
pub async fn following(
    state: &AppState,
    who: &person::Model,
) -> Result<(Vec<FollowView>, Vec<Item>), AppError> {
    let follows = follow::Entity::find()
        .filter(follow::Column::PersonId.eq(who.id.as_str()))
        .order_by_asc(follow::Column::CreatedAt)
        .all(&state.db)
        .await?;
    let teachers: Vec<String> = follows
        .iter()
        .filter(|f| f.kind == "teacher")
        .map(|f| f.target.clone())
        .collect();
    let subjects: Vec<String> = follows
        .iter()
        .filter(|f| f.kind == "subject")
        .map(|f| f.target.clone())
        .collect();
    let people = person::Entity::find()
        .filter(person::Column::Id.is_in(teachers.clone()))
        .all(&state.db)
        .await?;
    let views = follows
        .iter()
        .map(|f| {
            let p = people.iter().find(|p| p.id == f.target);
            FollowView {
                kind: f.kind.clone(),
                target: p
                    .map(|p| p.sourced_id.clone())
                    .unwrap_or_else(|| f.target.clone()),
                label: p
                    .map(|p| p.display_name.clone())
                    .unwrap_or_else(|| f.target.clone()),
            }
        })
        .collect();
    if follows.is_empty() {
        return Ok((views, Vec::new()));
    }
    // Newest published versions in followed subjects or by followed teachers.
    let mut condition = sea_orm::Condition::any();
    if !subjects.is_empty() {
        condition = condition.add(version::Column::Subject.is_in(subjects));
    }
    if !teachers.is_empty() {
        condition = condition.add(version::Column::CreatedBy.is_in(teachers));
    }
    let published = version::Entity::find()
        .filter(version::Column::State.eq(State::Published.as_str()))
        .filter(condition)
        .order_by_desc(version::Column::ReviewedAt)
        .limit(300)
        .all(&state.db)
        .await?;
    let tokens = access::tokens(state, who).await?;
    let ids: Vec<String> = published.iter().map(|v| v.resource_id.clone()).collect();
    let resources = resource::Entity::find()
        .filter(resource::Column::Id.is_in(ids.clone()))
        .all(&state.db)
        .await?;
    let mut visible: Vec<resource::Model> = Vec::new();
    for v in &published {
        if let Some(r) = resources.iter().find(|r| r.id == v.resource_id)
            && access::sees_published(r, v, &tokens)
            && !visible.iter().any(|x| x.id == r.id)
        {
            visible.push(r.clone());
        }
        if visible.len() >= 50 {
            break;
        }
    }
    Ok((views, items(state, visible, true, false).await?))
}
