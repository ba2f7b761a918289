//! The caller of a request: `Authorization: Bearer …` (scripts, platforms) or the session
//! cookie (people in browsers).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::{sessions, tokens};
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Token,
    Session,
}

/// An authenticated, active person.
#[derive(Debug, Clone)]
pub struct Principal {
    pub person: std::sync::Arc<person::Model>,
    pub via: Via,
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Resolve the caller once per request; later extractors reuse the answer.
async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<Principal>, AppError> {
    if let Some(found) = parts.extensions.get::<Option<Principal>>() {
        return Ok(found.clone());
    }
    let now = chrono::Utc::now();
    let found = if let Some(secret) = bearer(parts) {
        // A token that does not verify is an error even where signing in is optional: the
        // script must learn that its token is wrong, not be served as a stranger.
        match tokens::verify_cached(&state.db, &state.caches, secret, now).await? {
            Some(person) => Some(Principal {
                person,
                via: Via::Token,
            }),
            None => return Err(AppError::new(ErrorCode::Unauthorized)),
        }
    } else if let Some(session) = parts.extensions.get::<Session>().cloned() {
        sessions::current(&session, &state.db, &state.caches, &state.config, now)
            .await?
            .map(|person| Principal {
                person,
                via: Via::Session,
            })
    } else {
        None
    };
    parts.extensions.insert(found.clone());
    Ok(found)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        resolve(parts, state)
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::Unauthorized))
    }
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        resolve(parts, state).await
    }
}
