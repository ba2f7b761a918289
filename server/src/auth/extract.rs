//! The caller of a request, from `Authorization: Bearer …`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::tokens;
use crate::error::{AppError, ErrorCode};
use crate::roster::entity::person;
use crate::state::AppState;

/// An authenticated, active person.
#[derive(Debug, Clone)]
pub struct Principal {
    pub person: person::Model,
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| AppError::new(ErrorCode::Unauthorized))?;
        match tokens::verify(&state.db, secret, chrono::Utc::now()).await? {
            Some((_, person)) => Ok(Principal { person }),
            None => Err(AppError::new(ErrorCode::Unauthorized)),
        }
    }
}
