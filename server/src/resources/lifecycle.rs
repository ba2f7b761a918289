//! Moving a resource through its life: submit (with the pledge, then the machine check),
//! review (three dimensions, comments), publish (入库), retire (出库), withdraw. Every step
//! records who, when, the states and the reason, in the same transaction as the change and
//! its outbox row.

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, TransactionTrait};
use serde::Deserialize;

use super::entity::{event, resource, review, version};
use super::service::{self, Step, event as new_event, load};
use super::{State, check, outbox};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

fn invalid_state(state: &str, action: &str) -> AppError {
    AppError::new(ErrorCode::InvalidState)
        .with_arg(
            "state",
            State::parse(state)
                .map(State::label)
                .unwrap_or("?")
                .to_owned(),
        )
        .with_arg("action", action.to_owned())
}

async fn save_all(
    state: &AppState,
    r: &resource::Model,
    versions: &[&version::Model],
    events: Vec<event::ActiveModel>,
    review: Option<review::Model>,
) -> Result<(), AppError> {
    let txn = state.db.begin().await?;
    let active = r.clone().into_active_model().reset_all();
    active.update(&txn).await?;
    for v in versions {
        let active = (*v).clone().into_active_model().reset_all();
        active.update(&txn).await?;
    }
    for e in events {
        event::Entity::insert(e)
            .exec_without_returning(&txn)
            .await?;
    }
    if let Some(review) = review {
        review::Entity::insert(review.into_active_model())
            .exec_without_returning(&txn)
            .await?;
    }
    outbox::record(&txn, &r.id, state.clock.now()).await?;
    txn.commit().await?;
    state.search.wake.notify_one();
    Ok(())
}

/// `POST /api/v1/resources/{id}/submit`: the owner pledges responsibility and submits the
/// working version; the machine check runs at once and the version waits for human review.
pub async fn submit(
    state: &AppState,
    author: &person::Model,
    id: &str,
    pledge: bool,
) -> Result<(version::Model, check::Findings), AppError> {
    let (mut r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if r.owner_id != author.id {
        return Err(service::hidden_or_forbidden(state, author, &r).await?);
    }
    let mut v = versions.first().cloned().ok_or_else(AppError::not_found)?;
    if !matches!(State::parse(&v.state), Some(State::Draft | State::Rejected)) {
        return Err(invalid_state(&v.state, "提交审核 / submitted"));
    }
    if !pledge {
        return Err(AppError::new(ErrorCode::PledgeRequired));
    }
    let now = state.clock.now();
    let findings = check::run(&state.db, state.config.negative_words.as_deref(), &v).await?;
    let from = v.state.clone();
    v.state = State::InReview.as_str().to_owned();
    v.pledged_at = Some(now);
    v.submitted_at = Some(now);
    v.checks = Some(serde_json::to_string(&findings).map_err(AppError::internal)?);
    v.updated_at = now;
    r.org_id = v.org_id.clone();
    r.updated_at = now;
    if r.published_version_id.is_none() {
        r.state = State::InReview.as_str().to_owned();
    }
    let summary = format!(
        "机审：负面词 {} 处，相同内容 {} 个 / machine check: {} negative-list matches, {} identical files",
        findings.negative.len(),
        findings.duplicates.len(),
        findings.negative.len(),
        findings.duplicates.len()
    );
    let events = vec![
        new_event(
            &r,
            Some(&v),
            author,
            Step {
                action: "submitted",
                from: Some(&from),
                to: "submitted",
                reason: Some("作者已确认责任承诺 / the author confirmed the pledge".to_owned()),
            },
            now,
        ),
        new_event(
            &r,
            Some(&v),
            author,
            Step {
                action: "machine_checked",
                from: Some("submitted"),
                to: "in_review",
                reason: Some(summary),
            },
            now,
        ),
    ];
    save_all(state, &r, &[&v], events, None).await?;
    Ok((v, findings))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewVerdict)]
pub struct Verdict {
    /// `approve` (every dimension must pass) or `reject` (a comment is required).
    pub decision: String,
    /// `pass` or `fail`.
    pub political: String,
    /// `pass` or `fail`.
    pub scientific: String,
    /// `pass` or `fail`.
    pub safety: String,
    /// Up to 2,000 characters; the author reads it.
    #[serde(default)]
    pub comment: String,
    /// The reviewer may narrow the sharing scope the author asked for (never widen it).
    pub scope: Option<String>,
}

fn pass_fail(field: &str, value: &str) -> Result<bool, AppError> {
    match value {
        "pass" => Ok(true),
        "fail" => Ok(false),
        other => Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", field.to_owned())
            .with_arg(
                "hint",
                format!("“{other}”应为 pass 或 fail / use pass or fail"),
            )),
    }
}

/// `POST /api/v1/resources/{id}/review`: a reviewer of the ingesting organisation approves
/// (every dimension must pass; the version is published and the one before it superseded) or
/// rejects (a comment is required; the author gets it back).
pub async fn review(
    state: &AppState,
    reviewer: &person::Model,
    id: &str,
    verdict: Verdict,
) -> Result<version::Model, AppError> {
    let (mut r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let mut v = versions.first().cloned().ok_or_else(AppError::not_found)?;
    if !super::access::reviews_for(&state.db, reviewer, &v.org_id).await? {
        let hidden = service::hidden_or_forbidden(state, reviewer, &r).await?;
        return Err(
            if hidden.code() == ErrorCode::NotFound && r.owner_id != reviewer.id {
                hidden
            } else {
                let org =
                    crate::people::store::orgs_by_id(&state.db, vec![v.org_id.clone()]).await?;
                AppError::new(ErrorCode::NotReviewer).with_arg(
                    "org",
                    org.get(&v.org_id)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                )
            },
        );
    }
    if v.state != State::InReview.as_str() {
        return Err(invalid_state(&v.state, "审核 / reviewed"));
    }
    let political = pass_fail("political", &verdict.political)?;
    let scientific = pass_fail("scientific", &verdict.scientific)?;
    let safety = pass_fail("safety", &verdict.safety)?;
    let comment = verdict.comment.trim().to_owned();
    if comment.chars().count() > 2_000 {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "comment")
            .with_arg("hint", "最多 2000 字 / at most 2000 characters"));
    }
    let approve = match verdict.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "decision")
                .with_arg(
                    "hint",
                    format!("“{other}”应为 approve 或 reject / use approve or reject"),
                ));
        }
    };
    if approve && !(political && scientific && safety) {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "decision")
            .with_arg(
                "hint",
                "有维度未通过，不能通过审核 / a dimension failed: the resource cannot be approved",
            ));
    }
    if !approve && comment.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "comment")
            .with_arg(
                "hint",
                "退回时请写明意见，作者据此修改 / say why, so the author can revise it",
            ));
    }
    if let Some(scope) = verdict
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && scope != v.scope
    {
        // Review confirms the scope, and may narrow it: to private, or from the district to
        // the author's school. It never widens what the author chose.
        let school = if scope == "school" && v.scope == "district" {
            match crate::roster::entity::person::Entity::find_by_id(r.owner_id.clone())
                .one(&state.db)
                .await?
            {
                Some(author) => super::access::ingesting_org(&state.db, &author, "school").await?,
                None => None,
            }
        } else {
            None
        };
        if scope == "private" {
            v.scope = scope.to_owned();
            v.scope_class_id = None;
        } else if let Some(school) = school {
            v.scope = scope.to_owned();
            v.scope_class_id = None;
            v.org_id = school;
        } else {
            return Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "scope")
                .with_arg("hint", format!("审核只能把范围“{}”缩小为 private（或把 district 缩小为 school）/ review may only narrow the scope to private, or district to school", v.scope)));
        }
    }
    let now = state.clock.now();
    let from = v.state.clone();
    let mut superseded: Option<version::Model> = None;
    let mut events = Vec::new();
    if approve {
        if let Some(old) = service::published(&r, &versions) {
            let mut old = old.clone();
            events.push(new_event(
                &r,
                Some(&old),
                reviewer,
                Step {
                    action: "superseded",
                    from: Some(&old.state),
                    to: "superseded",
                    reason: Some(format!(
                        "由第 {} 版取代 / replaced by version {}",
                        v.number, v.number
                    )),
                },
                now,
            ));
            old.state = State::Superseded.as_str().to_owned();
            old.updated_at = now;
            superseded = Some(old);
        }
        v.state = State::Published.as_str().to_owned();
        r.state = State::Published.as_str().to_owned();
        r.published_version_id = Some(v.id.clone());
        r.org_id = v.org_id.clone();
        r.published_at = Some(now);
        r.retired_at = None;
    } else {
        v.state = State::Rejected.as_str().to_owned();
        if r.published_version_id.is_none() {
            r.state = State::Rejected.as_str().to_owned();
        }
    }
    v.reviewed_by = Some(reviewer.id.clone());
    v.reviewed_at = Some(now);
    v.updated_at = now;
    r.updated_at = now;
    let reason = if comment.is_empty() {
        None
    } else {
        Some(comment.clone())
    };
    events.push(new_event(
        &r,
        Some(&v),
        reviewer,
        Step {
            action: if approve { "approved" } else { "rejected" },
            from: Some(&from),
            to: &v.state,
            reason,
        },
        now,
    ));
    let record = review::Model {
        id: uuid::Uuid::now_v7().to_string(),
        resource_id: r.id.clone(),
        version_id: v.id.clone(),
        reviewer_id: reviewer.id.clone(),
        org_id: v.org_id.clone(),
        decision: verdict.decision.clone(),
        political: verdict.political.clone(),
        scientific: verdict.scientific.clone(),
        safety: verdict.safety.clone(),
        comment,
        scope: v.scope.clone(),
        at: now,
    };
    let mut changed: Vec<&version::Model> = vec![&v];
    if let Some(old) = &superseded {
        changed.push(old);
    }
    save_all(state, &r, &changed, events, Some(record)).await?;
    Ok(v)
}

/// `POST /api/v1/resources/{id}/retire`: take a published resource out of the library (出库),
/// by its owner or a reviewer of its organisation, with a reason. Nothing is deleted; the
/// owner still sees it and may submit a new version.
pub async fn retire(
    state: &AppState,
    actor: &person::Model,
    id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let (mut r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let may =
        r.owner_id == actor.id || super::access::reviews_for(&state.db, actor, &r.org_id).await?;
    if !may {
        return Err(service::hidden_or_forbidden(state, actor, &r).await?);
    }
    if r.state != State::Published.as_str() {
        return Err(invalid_state(&r.state, "出库 / retired"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "reason")
            .with_arg("hint", "请写明出库原因 / say why it is retired"));
    }
    let now = state.clock.now();
    let mut published = service::published(&r, &versions)
        .cloned()
        .ok_or_else(AppError::not_found)?;
    let events = vec![new_event(
        &r,
        Some(&published),
        actor,
        Step {
            action: "retired",
            from: Some("published"),
            to: "retired",
            reason: Some(reason.chars().take(2_000).collect()),
        },
        now,
    )];
    published.state = State::Retired.as_str().to_owned();
    published.updated_at = now;
    r.state = State::Retired.as_str().to_owned();
    r.retired_at = Some(now);
    r.updated_at = now;
    save_all(state, &r, &[&published], events, None).await
}

/// `POST /api/v1/resources/{id}/withdraw`: the owner takes a version back from review to edit.
pub async fn withdraw(state: &AppState, author: &person::Model, id: &str) -> Result<(), AppError> {
    let (mut r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if r.owner_id != author.id {
        return Err(service::hidden_or_forbidden(state, author, &r).await?);
    }
    let mut v = versions.first().cloned().ok_or_else(AppError::not_found)?;
    if v.state != State::InReview.as_str() {
        return Err(invalid_state(&v.state, "撤回 / withdrawn"));
    }
    let now = state.clock.now();
    let events = vec![new_event(
        &r,
        Some(&v),
        author,
        Step {
            action: "withdrawn",
            from: Some("in_review"),
            to: "draft",
            reason: None,
        },
        now,
    )];
    v.state = State::Draft.as_str().to_owned();
    v.updated_at = now;
    if r.published_version_id.is_none() {
        r.state = State::Draft.as_str().to_owned();
    }
    r.updated_at = now;
    save_all(state, &r, &[&v], events, None).await
}
