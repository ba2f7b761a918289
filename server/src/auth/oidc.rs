//! Single sign-on with the management platform's OpenID Connect provider.
//!
//! The platform already knows how teachers, pupils and parents sign in, and the roster already
//! knows who they are here, so SSO only has to connect the two: the provider says who is at the
//! browser, one claim of its answer names a person of the roster, and that person is signed in.
//! Nobody the roster does not know gets in, and nobody is ever created here by signing in.
//!
//! `GET /auth/sso?next=/path` starts the authorization-code flow with PKCE (S256), a random
//! `state` and a random `nonce`, kept with `next` in a pre-login session that lives 15 minutes.
//! `GET /auth/sso/callback` checks `state` (and the `iss` the provider adds), exchanges the code,
//! validates the ID token (signature, issuer, audience, expiry, nonce, access-token hash), reads
//! the configured claim (`KONGJIAN_OIDC_CLAIM`) from the ID token, else from userinfo, and
//! matches it against the roster's sourcedId (merged aliases included) or username
//! (`KONGJIAN_OIDC_MATCH`). Only an active, enabled person gets a session; anyone else sees the
//! `not_in_roster` page and is recorded as `sso_unknown_person`.
//!
//! The provider's metadata and keys are fetched on first use, not at start-up, so the server
//! starts (and password sign-in works) while the platform is down; until discovery succeeds
//! the button answers `sso_unavailable`. They are fetched again after an hour, so rotated
//! signing keys are picked up. The HTTP client follows no redirects (SSRF, as the crate's docs
//! advise).
//!
//! For the sign-in page: [`sso_label`] says whether to show the button and what it reads, and
//! [`start_path`] is where it points. Without `KONGJIAN_OIDC_ISSUER` both routes answer 404.

mod provider;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_sessions::{Expiry, Session};

pub use self::provider::Sso;
use super::client::ClientInfo;
use super::sessions::{self, Method};
use super::{Principal, csrf};
use crate::audit::{self, Action, Event, Outcome};
use crate::config::OidcMatch;
use crate::error::{AppError, ErrorCode};
use crate::people::store;
use crate::roster::entity::person;
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// Session key of the flow in progress (state, nonce, PKCE verifier, where to go after).
const PENDING_KEY: &str = "sso_pending";
/// How long someone may stay at the provider's sign-in page.
const PENDING_TTL: time::Duration = time::Duration::minutes(15);

/// The flow in progress, kept in the pre-login session between the two routes.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

/// The provider's name for the sign-in button, when single sign-on is configured.
pub fn sso_label(state: &AppState) -> Option<&str> {
    state.sso.as_ref().map(|sso| sso.config().label.as_str())
}

/// Where the sign-in button points: start SSO, coming back to `next` afterwards.
pub fn start_path(next: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/auth/sso?next={next}")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sso", get(start))
        .route("/auth/sso/callback", get(callback))
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn configured(state: &AppState) -> Result<&Sso, AppError> {
    state.sso.as_deref().ok_or_else(AppError::not_found)
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    AppError::internal(anyhow::anyhow!("session: {err}"))
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    caller: Option<Principal>,
    Query(query): Query<StartQuery>,
) -> Result<Response, AppError> {
    let sso = configured(&state)?;
    let next = local_next(query.next.as_deref());
    if caller.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let authorization = sso.authorize().await?;
    let pending = Pending {
        state: authorization.state,
        nonce: authorization.nonce,
        verifier: authorization.verifier,
        next,
    };
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(session_error)?;
    session.set_expiry(Some(Expiry::OnInactivity(PENDING_TTL)));
    Ok(Redirect::to(authorization.url.as_str()).into_response())
}

async fn callback(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let sso = configured(&state)?;
    // One use only, whatever happens next.
    let pending: Option<Pending> = session.remove(PENDING_KEY).await.map_err(session_error)?;
    let outcome = finish(&state, sso, &client, &session, pending, query).await;
    if outcome.is_err() {
        forget_anonymous(&session).await;
    }
    outcome
}

async fn finish(
    state: &AppState,
    sso: &Sso,
    client: &ClientInfo,
    session: &Session,
    pending: Option<Pending>,
    query: CallbackQuery,
) -> Result<Response, AppError> {
    let pending = pending.ok_or(AppError::new(ErrorCode::CsrfFailed))?;
    let code = checked_code(sso, &pending, query)?;
    let key = identify(sso, code, &pending).await?;
    let person = match find_person(&state.db, sso.config().match_on, &key).await? {
        Found::Eligible(person) => person,
        refused => return Err(refuse(&state.db, client, &key, refused).await?),
    };
    let now = Utc::now();
    sessions::sign_in(session, &person, Method::Sso, client, now).await?;
    audit::record_at(
        &state.db,
        Event::new(Action::SignIn, Outcome::Ok, client)
            .actor(&person.id)
            .login_key(&key)
            .detail(json!({"method": "sso"})),
        now,
    )
    .await?;
    Ok(super::pages::signed_in_redirect(state, &pending.next))
}

/// The code of a callback that answers the flow this browser started: its `state` is the one
/// we sent, and its `iss`, when given, is our provider.
fn checked_code(sso: &Sso, pending: &Pending, query: CallbackQuery) -> Result<String, AppError> {
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|s| csrf::constant_time_eq(s, &pending.state));
    if !state_matches {
        tracing::warn!("single sign-on callback with a wrong or missing state");
        return Err(AppError::new(ErrorCode::CsrfFailed));
    }
    if let Some(error) = query.error.as_deref() {
        return Err(provider_refused(error, query.error_description.as_deref()));
    }
    if let Some(iss) = query.iss.as_deref()
        && !sso.is_issuer(iss)
    {
        tracing::warn!(iss, "single sign-on callback from another issuer");
        return Err(AppError::new(ErrorCode::CsrfFailed));
    }
    query.code.ok_or(AppError::new(ErrorCode::BadRequest))
}

/// The configured claim's value for this code; the details of a failure go to the log.
async fn identify(sso: &Sso, code: String, pending: &Pending) -> Result<String, AppError> {
    match sso.identify(code, &pending.verifier, &pending.nonce).await {
        Ok(Some(key)) => Ok(key),
        Ok(None) => {
            tracing::warn!(claim = %sso.config().claim, "the OpenID provider did not release the configured claim");
            Err(AppError::new(ErrorCode::SsoUnavailable))
        }
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "single sign-on failed");
            Err(AppError::new(ErrorCode::SsoUnavailable))
        }
    }
}

/// A failed flow leaves no pre-login session behind (a signed-in one is kept).
async fn forget_anonymous(session: &Session) {
    let signed_in = session
        .get::<Value>(super::session_store::PERSON_KEY)
        .await
        .ok()
        .flatten()
        .is_some();
    if !signed_in
        && session.id().is_some()
        && let Err(err) = session.flush().await
    {
        tracing::warn!(error = %err, "ending the pre-login session failed");
    }
}

/// The provider answered with an error instead of a code: the person declined or could not
/// sign in there, or the provider is in trouble.
fn provider_refused(error: &str, description: Option<&str>) -> AppError {
    let description: String = description.unwrap_or("").chars().take(200).collect();
    tracing::info!(error = %error.chars().take(64).collect::<String>(), %description, "the OpenID provider answered with an error");
    match error {
        "access_denied"
        | "login_required"
        | "consent_required"
        | "interaction_required"
        | "account_selection_required" => AppError::new(ErrorCode::SignInFailed),
        _ => AppError::new(ErrorCode::SsoUnavailable),
    }
}

/// What the roster says about the person the provider named.
#[derive(Debug)]
enum Found {
    Eligible(person::Model),
    /// Retired or disabled.
    Inactive(person::Model),
    /// More than one active person has that username.
    Ambiguous,
    Unknown,
}

async fn find_person(
    db: &impl ConnectionTrait,
    match_on: OidcMatch,
    key: &str,
) -> Result<Found, DbErr> {
    let mut candidates = match match_on {
        OidcMatch::SourcedId => store::find_by_sourced_id(db, key)
            .await?
            .into_iter()
            .collect(),
        OidcMatch::Username => {
            person::Entity::find()
                .filter(person::Column::Username.eq(key))
                .all(db)
                .await?
        }
    };
    let mut active: Vec<_> = candidates
        .iter()
        .filter(|p| p.status == ACTIVE && p.enabled)
        .cloned()
        .collect();
    Ok(match (active.pop(), active.is_empty()) {
        (Some(person), true) => Found::Eligible(person),
        (Some(_), false) => Found::Ambiguous,
        (None, _) => candidates.pop().map_or(Found::Unknown, Found::Inactive),
    })
}

/// Record the refusal and answer `not_in_roster`.
async fn refuse(
    db: &impl ConnectionTrait,
    client: &ClientInfo,
    key: &str,
    found: Found,
) -> Result<AppError, DbErr> {
    let (reason, subject) = match &found {
        Found::Inactive(person) => ("inactive", Some(person.id.as_str())),
        Found::Ambiguous => ("ambiguous", None),
        Found::Unknown | Found::Eligible(_) => ("unknown", None),
    };
    let mut event = Event::new(Action::SsoUnknownPerson, Outcome::Denied, client)
        .login_key(key)
        .detail(json!({"method": "sso", "reason": reason}));
    if let Some(subject) = subject {
        event = event.subject(subject);
    }
    audit::record(db, event).await?;
    Ok(AppError::new(ErrorCode::NotInRoster))
}

/// `next` when it is a path on this site, else the home page.
fn local_next(next: Option<&str>) -> String {
    next.filter(|n| crate::home::is_local_path(n))
        .map_or_else(|| "/".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_gone_back_to() {
        assert_eq!(local_next(Some("/spaces?x=1")), "/spaces?x=1");
        assert_eq!(local_next(Some("//evil.example")), "/");
        assert_eq!(local_next(Some("/\t/evil.example")), "/");
        assert_eq!(local_next(Some("https://evil.example")), "/");
        assert_eq!(local_next(None), "/");
    }

    #[test]
    fn the_button_carries_next_encoded() {
        assert_eq!(start_path("/a?b=1&c"), "/auth/sso?next=%2Fa%3Fb%3D1%26c");
    }
}
