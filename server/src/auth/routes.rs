//! The sign-in API: `/api/v1/auth/*`, and code issuing and signing out on behalf of people.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::client::ClientInfo;
use super::codes::IssuedCode;
use super::service::{self, SignedOut};
use super::sessions::{self, Method, SessionView};
use super::{Principal, csrf, roles};
use crate::error::AppError;
use crate::roster::entity::person;
use crate::state::AppState;

pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/activate", post(activate))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout-everywhere", post(logout_everywhere))
        .route("/api/v1/auth/session", get(current_session))
        .route("/api/v1/auth/sessions", get(list_sessions))
        .route("/api/v1/classes/{sourced_id}/codes", post(class_codes))
        .route("/api/v1/people/{sourced_id}/code", post(person_code))
        .route(
            "/api/v1/people/{sourced_id}/sign-out-everywhere",
            post(person_sign_out_everywhere),
        )
        .route("/api/v1/people/{sourced_id}/roles", post(grant_role))
        .route(
            "/api/v1/people/{sourced_id}/roles/{role}",
            axum::routing::delete(revoke_role),
        )
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

#[derive(Debug, Deserialize)]
struct ActivateBody {
    code: String,
    password: String,
}

/// The answer to a successful sign-in: who, and the new CSRF token for later cookie calls.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    pub sourced_id: String,
    pub name: String,
    pub csrf_token: String,
}

/// Rotate the CSRF token with the session and answer with the person.
pub fn signed_in_response(state: &AppState, person: &person::Model) -> Response {
    let token = csrf::generate();
    let mut response = Json(SignedIn {
        sourced_id: person.sourced_id.clone(),
        name: person.display_name.clone(),
        csrf_token: token.clone(),
    })
    .into_response();
    csrf::set_cookie(&mut response, &token, state.config.secure_cookies());
    response
}

async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    Json(body): Json<LoginBody>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let person =
        service::password_sign_in(&state.db, &client, &body.login, &body.password, now).await?;
    sessions::sign_in(&session, &person, Method::Password, &client, now).await?;
    Ok(signed_in_response(&state, &person))
}

async fn activate(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    Json(body): Json<ActivateBody>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let person = service::activate(&state.db, &client, &body.code, &body.password, now).await?;
    sessions::sign_in(&session, &person, Method::Code, &client, now).await?;
    Ok(signed_in_response(&state, &person))
}

async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    caller: Option<Principal>,
) -> Result<StatusCode, AppError> {
    sessions::sign_out(
        &session,
        &state.db,
        caller.as_ref().map(|c| &c.person),
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout_everywhere(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
) -> Result<Json<SignedOut>, AppError> {
    Ok(Json(
        service::sign_out_everywhere(
            &state.db,
            &state.caches,
            &caller.person,
            &caller.person,
            &client,
            Utc::now(),
        )
        .await?,
    ))
}

#[derive(Debug, Serialize)]
struct CurrentSession {
    sourced_id: String,
    name: String,
    csrf_token: Option<String>,
}

async fn current_session(
    caller: Principal,
    token: Option<axum::Extension<csrf::CsrfToken>>,
) -> Json<CurrentSession> {
    Json(CurrentSession {
        sourced_id: caller.person.sourced_id,
        name: caller.person.display_name,
        csrf_token: token.map(|t| t.0.0),
    })
}

async fn list_sessions(
    State(state): State<AppState>,
    session: Session,
    caller: Principal,
) -> Result<Json<Vec<SessionView>>, AppError> {
    Ok(Json(
        sessions::list_for(
            &state.db,
            &caller.person.id,
            session.id().map(|id| id.to_string()),
            Utc::now(),
        )
        .await?,
    ))
}

async fn person_sign_out_everywhere(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<SignedOut>, AppError> {
    let target = service::managed_person(&state.db, &caller.person, &sourced_id).await?;
    Ok(Json(
        service::sign_out_everywhere(
            &state.db,
            &state.caches,
            &caller.person,
            &target,
            &client,
            Utc::now(),
        )
        .await?,
    ))
}

async fn class_codes(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<Vec<IssuedCode>>, AppError> {
    let class = service::managed_class(&state.db, &caller.person, &sourced_id).await?;
    Ok(Json(
        service::issue_class_codes(
            &state.db,
            Some(&caller.person),
            &class,
            state.config.code_days,
            &client,
            Utc::now(),
        )
        .await?,
    ))
}

async fn person_code(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
    Path(sourced_id): Path<String>,
) -> Result<Json<IssuedCode>, AppError> {
    Ok(Json(
        service::reissue_code(
            &state.db,
            &caller.person,
            &sourced_id,
            state.config.code_days,
            &client,
            Utc::now(),
        )
        .await?,
    ))
}

async fn grant_role(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
    Path(sourced_id): Path<String>,
    Json(request): Json<roles::GrantRequest>,
) -> Result<Json<roles::Grant>, AppError> {
    let grant = roles::grant(
        &state.db,
        &caller.person,
        &sourced_id,
        &request,
        &client,
        Utc::now(),
    )
    .await?;
    state.caches.clear();
    Ok(Json(grant))
}

#[derive(Debug, Deserialize)]
struct OrgQuery {
    org: Option<String>,
}

async fn revoke_role(
    State(state): State<AppState>,
    client: ClientInfo,
    caller: Principal,
    Path((sourced_id, role)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<OrgQuery>,
) -> Result<StatusCode, AppError> {
    roles::revoke(
        &state.db,
        &caller.person,
        &sourced_id,
        &role,
        query.org.as_deref(),
        &client,
        Utc::now(),
    )
    .await?;
    state.caches.clear();
    Ok(StatusCode::NO_CONTENT)
}
