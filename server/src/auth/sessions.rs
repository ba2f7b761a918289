//! Signed-in browser sessions on top of tower-sessions.
//!
//! A session holds the person's id, when they signed in, when they were last seen, how, and
//! from where. It ends when idle for `KONGJIAN_SESSION_IDLE` or `KONGJIAN_SESSION_MAX` after
//! sign-in, at sign-out, at "sign out everywhere", and when the roster retires the person. The
//! session id is rotated at sign-in, so an id planted before sign-in is worthless after it.
//! "Last seen" is written at most every few minutes: a write per request would make every page
//! view a database write.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::client::ClientInfo;
use super::entity::session_row;
use super::session_store::PERSON_KEY;
use crate::config::Config;
use crate::error::AppError;
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;

const SIGNED_IN_KEY: &str = "signed_in_at";
const SEEN_KEY: &str = "last_seen";
const INFO_KEY: &str = "info";

/// The cookie that carries the session id.
pub const COOKIE: &str = "kj_session";

/// How the person got in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = SignInMethod)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Password,
    Code,
    Sso,
}

/// Where and how a session began, kept for the "my account" page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInInfo {
    pub method: Method,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::internal(anyhow::anyhow!("session: {err}"))
}

/// Start a signed-in session for `person` in place of whatever the browser had.
pub async fn sign_in(
    session: &Session,
    person: &person::Model,
    method: Method,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    session.clear().await;
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(PERSON_KEY, &person.id)
        .await
        .map_err(session_error)?;
    session
        .insert(SIGNED_IN_KEY, now.timestamp())
        .await
        .map_err(session_error)?;
    session
        .insert(SEEN_KEY, now.timestamp())
        .await
        .map_err(session_error)?;
    session
        .insert(
            INFO_KEY,
            SignInInfo {
                method,
                ip: client.ip.map(|ip| ip.to_string()),
                user_agent: client.user_agent.clone(),
            },
        )
        .await
        .map_err(session_error)?;
    Ok(())
}

/// Who a session is signed in as, kept on this node (`Caches::signed_in`) until the first
/// moment the answer could change by itself: the idle or absolute expiry, or the time to
/// refresh "last seen". Changes that end it sooner forget it: the session's deletion (sign-out,
/// id rotation) and the cache epoch (sign out everywhere, retirement, any roster change).
#[derive(Debug)]
pub struct SignedIn {
    pub person: Arc<person::Model>,
    pub until: DateTime<Utc>,
}

/// The person this session is signed in as, if the session is still good. An expired session,
/// or one whose person has been retired, is ended here.
pub async fn current(
    session: &Session,
    db: &impl ConnectionTrait,
    caches: &crate::cache::Caches,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Option<Arc<person::Model>>, AppError> {
    let id = session.id();
    if let Some(id) = id
        && let Some(known) = caches.signed_in.get(&id)
        && now < known.until
    {
        return Ok(Some(known.person.clone()));
    }
    let Some(person_id) = session
        .get::<String>(PERSON_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let signed_in = session
        .get::<i64>(SIGNED_IN_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    let seen = session
        .get::<i64>(SEEN_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(0);
    let age = now.timestamp() - signed_in;
    let idle = now.timestamp() - seen;
    let max_secs = i64::try_from(config.session_max.as_secs()).unwrap_or(i64::MAX);
    let idle_secs = i64::try_from(config.session_idle.as_secs()).unwrap_or(i64::MAX);
    if age > max_secs || idle > idle_secs {
        session.flush().await.map_err(session_error)?;
        return Ok(None);
    }
    let Some(person) = caches.person(db, &person_id).await? else {
        session.flush().await.map_err(session_error)?;
        return Ok(None);
    };
    if person.status != ACTIVE || !person.enabled {
        session.flush().await.map_err(session_error)?;
        return Ok(None);
    }
    // Refresh "last seen" when a quarter of the idle allowance (at most five minutes) has gone.
    let touch_after = (idle_secs / 4).clamp(1, 300);
    let mut seen = seen;
    if idle >= touch_after {
        session
            .insert(SEEN_KEY, now.timestamp())
            .await
            .map_err(session_error)?;
        seen = now.timestamp();
    }
    // The session id is known once the record is saved; a brand-new one is looked at again.
    if let Some(id) = session.id().or(id) {
        let until = (signed_in.saturating_add(max_secs))
            .min(seen.saturating_add(idle_secs))
            .min(seen.saturating_add(touch_after));
        if let Some(until) = DateTime::from_timestamp(until, 0) {
            caches.signed_in.insert(
                id,
                Arc::new(SignedIn {
                    person: person.clone(),
                    until,
                }),
            );
        }
    }
    Ok(Some(person))
}

/// Sign this browser out, recording it for the person who was signed in.
pub async fn sign_out(
    session: &Session,
    db: &impl ConnectionTrait,
    person: Option<&person::Model>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    if let Some(person) = person {
        crate::audit::record(
            db,
            crate::audit::Event::new(
                crate::audit::Action::SignOut,
                crate::audit::Outcome::Ok,
                client,
            )
            .actor(&person.id),
        )
        .await?;
    }
    session.flush().await.map_err(session_error)
}

/// One of a person's sessions, as the account page lists them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The first characters of the session id: enough to tell sessions apart, useless to steal.
    pub id: String,
    /// Whether this is the session of the request.
    pub current: bool,
    pub signed_in_at: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub method: Option<Method>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn list_for(
    db: &impl ConnectionTrait,
    person_id: &str,
    current_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<SessionView>, DbErr> {
    let rows = session_row::Entity::find()
        .filter(session_row::Column::PersonId.eq(person_id))
        .filter(session_row::Column::ExpiresAt.gt(now))
        .order_by_desc(session_row::Column::UpdatedAt)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let data: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&row.data).unwrap_or_default();
            let at = |key: &str| {
                data.get(key)
                    .and_then(|v| v.as_i64())
                    .and_then(|t| DateTime::from_timestamp(t, 0))
            };
            let info: Option<SignInInfo> = data
                .get(INFO_KEY)
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            SessionView {
                id: row.id.chars().take(8).collect(),
                current: current_id.as_deref() == Some(row.id.as_str()),
                signed_in_at: at(SIGNED_IN_KEY),
                last_seen: at(SEEN_KEY),
                expires_at: row.expires_at,
                method: info.as_ref().map(|i| i.method),
                ip: info.as_ref().and_then(|i| i.ip.clone()),
                user_agent: info.and_then(|i| i.user_agent),
            }
        })
        .collect())
}
