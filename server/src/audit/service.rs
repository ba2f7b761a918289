//! Writing and reading audit events.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};
use serde::Serialize;

use super::entity::audit_event;
use crate::auth::client::ClientInfo;
use crate::error::{AppError, ErrorCode};
use crate::people::{service as people, store};
use crate::roster::entity::{org, person};

/// What happened. The string forms are stable: scripts filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignInFailed,
    SignInThrottled,
    Activation,
    ActivationFailed,
    SignOut,
    SignOutEverywhere,
    SsoUnknownPerson,
    CodesIssued,
    TokenCreated,
    TokenRevoked,
    RoleGranted,
    RoleRevoked,
    RosterImport,
    SettingChanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SignIn => "sign_in",
            Action::SignInFailed => "sign_in_failed",
            Action::SignInThrottled => "sign_in_throttled",
            Action::Activation => "activation",
            Action::ActivationFailed => "activation_failed",
            Action::SignOut => "sign_out",
            Action::SignOutEverywhere => "sign_out_everywhere",
            Action::SsoUnknownPerson => "sso_unknown_person",
            Action::CodesIssued => "codes_issued",
            Action::TokenCreated => "token_created",
            Action::TokenRevoked => "token_revoked",
            Action::RoleGranted => "role_granted",
            Action::RoleRevoked => "role_revoked",
            Action::RosterImport => "roster_import",
            Action::SettingChanged => "setting_changed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }
}

/// One event to record. Build with [`Event::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: Action,
    pub outcome: Outcome,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub org_id: Option<String>,
    pub login_key: Option<String>,
    pub client: ClientInfo,
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(action: Action, outcome: Outcome, client: &ClientInfo) -> Self {
        Event {
            action,
            outcome,
            actor_id: None,
            subject_id: None,
            org_id: None,
            login_key: None,
            client: client.clone(),
            detail: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn actor(mut self, person_id: &str) -> Self {
        self.actor_id = Some(person_id.to_owned());
        self
    }

    pub fn subject(mut self, person_id: &str) -> Self {
        self.subject_id = Some(person_id.to_owned());
        self
    }

    pub fn org(mut self, org_id: Option<String>) -> Self {
        self.org_id = org_id;
        self
    }

    pub fn login_key(mut self, key: &str) -> Self {
        self.login_key = Some(key.to_owned());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Write one event. The org is the subject's (else the actor's) first school or district, so
/// that the administrators of that org can read it.
pub async fn record(db: &impl ConnectionTrait, event: Event) -> Result<(), DbErr> {
    record_at(db, event, Utc::now()).await
}

pub async fn record_at(
    db: &impl ConnectionTrait,
    event: Event,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(record_statement(db, event, at).await?)
        .await?;
    Ok(())
}

/// The `INSERT` of [`record_at`], for a writer that runs it itself (the roster import's, inside
/// its transaction). The event's org is looked up through `db` now.
pub async fn record_statement(
    db: &impl ConnectionTrait,
    event: Event,
    at: DateTime<Utc>,
) -> Result<Statement, DbErr> {
    let org_id = match event.org_id {
        Some(org) => Some(org),
        None => match event.subject_id.as_ref().or(event.actor_id.as_ref()) {
            Some(person_id) => home_org(db, person_id).await?,
            None => None,
        },
    };
    let row = audit_event::ActiveModel {
        id: NotSet,
        at: Set(at),
        action: Set(event.action.as_str().to_owned()),
        outcome: Set(event.outcome.as_str().to_owned()),
        actor_id: Set(event.actor_id),
        subject_id: Set(event.subject_id),
        org_id: Set(org_id),
        login_key: Set(event.login_key.map(|k| truncate(&k, 128))),
        ip: Set(event.client.ip.map(|ip| ip.to_string())),
        user_agent: Set(event.client.user_agent.map(|ua| truncate(&ua, 256))),
        detail: Set(event.detail.to_string()),
    };
    Ok(audit_event::Entity::insert(row).build(db.get_database_backend()))
}

/// The org an event about this person belongs to: the first org of their roles (any status,
/// so a retired person's events stay visible to their school).
async fn home_org(db: &impl ConnectionTrait, person_id: &str) -> Result<Option<String>, DbErr> {
    Ok(store::all_roles(db, person_id)
        .await?
        .into_iter()
        .map(|r| r.org_id)
        .min())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// An event as administrators read it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEvent)]
pub struct EventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// What happened, by its stable name (`sign_in`, `codes_issued`, `roster_import`, …).
    pub action: String,
    /// `ok`, `failed` or `denied`.
    pub outcome: String,
    pub actor: Option<String>,
    pub actor_name: Option<String>,
    pub subject: Option<String>,
    pub subject_name: Option<String>,
    pub org: Option<String>,
    pub login: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What the action recorded (its fields depend on the action).
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AuditPage)]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

pub const PAGE_SIZE: u64 = 50;

/// The newest events an administrator may read: those of the orgs they administer and every
/// org below; administrators of a top-level org (a district) also see events that belong to no
/// org (attempts with a login nobody has).
pub async fn list_for(
    db: &impl ConnectionTrait,
    viewer: &person::Model,
    before: Option<i64>,
    limit: u64,
) -> Result<EventPage, AppError> {
    let admin_orgs = people::administered_orgs(db, viewer).await?;
    if admin_orgs.is_empty() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let orgs = org::Entity::find().all(db).await?;
    let scope = descendants(&orgs, &admin_orgs);
    let top_level = orgs
        .iter()
        .any(|o| admin_orgs.contains(&o.id) && o.parent_id.is_none());
    let mut visible = Condition::any().add(audit_event::Column::OrgId.is_in(scope.clone()));
    if top_level {
        visible = visible.add(audit_event::Column::OrgId.is_null());
    }
    let mut query = audit_event::Entity::find()
        .filter(visible)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit.clamp(1, 200) + 1);
    if let Some(before) = before {
        query = query.filter(audit_event::Column::Id.lt(before));
    }
    let mut rows = query.all(db).await?;
    let limit = usize::try_from(limit.clamp(1, 200)).unwrap_or(50);
    let next_before = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let person_ids: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| [r.actor_id.clone(), r.subject_id.clone()])
        .flatten()
        .collect();
    let people_by_id = store::people_by_id(db, person_ids.into_iter().collect()).await?;
    let org_names: std::collections::HashMap<&str, &str> = orgs
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str()))
        .collect();
    let events = rows
        .into_iter()
        .map(|r| {
            let actor = r.actor_id.as_ref().and_then(|id| people_by_id.get(id));
            let subject = r.subject_id.as_ref().and_then(|id| people_by_id.get(id));
            EventView {
                id: r.id,
                at: r.at,
                action: r.action,
                outcome: r.outcome,
                actor: actor.map(|p| p.sourced_id.clone()),
                actor_name: actor.map(|p| p.display_name.clone()),
                subject: subject.map(|p| p.sourced_id.clone()),
                subject_name: subject.map(|p| p.display_name.clone()),
                org: r
                    .org_id
                    .as_deref()
                    .and_then(|id| org_names.get(id))
                    .map(|n| (*n).to_owned()),
                login: r.login_key,
                ip: r.ip,
                user_agent: r.user_agent,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            }
        })
        .collect();
    Ok(EventPage {
        events,
        next_before,
    })
}

/// `roots` and every org below them.
pub fn descendants(orgs: &[org::Model], roots: &[String]) -> Vec<String> {
    let mut out: BTreeSet<String> = roots.iter().cloned().collect();
    loop {
        let before = out.len();
        for o in orgs {
            if let Some(parent) = &o.parent_id
                && out.contains(parent)
            {
                out.insert(o.id.clone());
            }
        }
        if out.len() == before {
            return out.into_iter().collect();
        }
    }
}
