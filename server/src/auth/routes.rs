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
use crate::http::openapi::{ErrorBody, answers};
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

/// The documented routes of this module (see `http::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    login,
    activate,
    logout,
    logout_everywhere,
    current_session,
    list_sessions,
    class_codes,
    person_code,
    person_sign_out_everywhere,
    grant_role,
    revoke_role,
))]
pub struct Api;

/// A malformed sign-in body: axum's JSON extractor answers by status.
const SIGN_IN_BODY: &str = "请求体不是 `{\"login\", \"password\"}` 形式的 JSON（400 `bad_request`：JSON 语法错误；     415 `unsupported_media_type`：不是 JSON；422 `invalid_input`：缺字段）/ the body is not the JSON asked      for (400 `bad_request`: broken JSON; 415 `unsupported_media_type`: not JSON; 422      `invalid_input`: a missing field)";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct LoginBody {
    /// A phone number or a username.
    login: String,
    password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ActivateBody {
    /// The activation code from the slip (`ABCD-EFGH`; case, spaces and dashes do not matter).
    code: String,
    /// The password to set.
    password: String,
}

/// The answer to a successful sign-in: who, and the new CSRF token for later cookie calls.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// 登录 / Sign in
///
/// Sign in with a phone number or username and password: starts a session (the session and
/// CSRF cookies are set). Every failure, whoever it concerns, is the same `sign_in_failed`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    security(()),
    request_body = LoginBody,
    responses(
        (status = 200, description = "已登录；设置会话 Cookie 与 CSRF Cookie / signed in; the session and CSRF cookies are set", body = SignedIn),
        (status = 400, description = SIGN_IN_BODY, body = ErrorBody),
        (status = 401, description = "登录名或密码不对（`sign_in_failed`）/ wrong login or password (`sign_in_failed`)", body = ErrorBody),
        (status = 415, description = SIGN_IN_BODY, body = ErrorBody),
        (status = 422, description = SIGN_IN_BODY, body = ErrorBody),
        (status = 429, description = "失败次数过多，请在 `Retry-After` 秒后再试（`too_many_attempts`）/ too many failures: try again after `Retry-After` seconds (`too_many_attempts`)", body = ErrorBody),
    )
)]
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

/// 用激活码首次登录 / First sign-in with an activation code
///
/// First sign-in with an activation code: sets the password, uses the code up and starts a
/// session, like `login`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/activate",
    tag = "auth",
    security(()),
    request_body = ActivateBody,
    responses(
        (status = 200, description = "已激活并登录 / activated and signed in", body = SignedIn),
        (status = 400, description = SIGN_IN_BODY, body = ErrorBody),
        (status = 401, description = "激活码无效、已用或已过期（`sign_in_failed`）/ the code is unknown, used or expired (`sign_in_failed`)", body = ErrorBody),
        (status = 415, description = SIGN_IN_BODY, body = ErrorBody),
        (status = 422, description = "密码太弱（`weak_password`，激活码未被用掉），或请求体缺字段（`invalid_input`）/ the password is too weak (`weak_password`; the code is not used up), or a field is missing (`invalid_input`)", body = ErrorBody),
        (status = 429, description = "尝试次数过多（`too_many_attempts`，见 `Retry-After`）/ too many attempts (`too_many_attempts`, see `Retry-After`)", body = ErrorBody),
    )
)]
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

/// 退出登录 / Sign out
///
/// End this session (signed in or not, the answer is the same).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security((), ("session" = [])),
    responses(
        (status = 204, description = "会话已结束 / the session is over"),
    )
)]
async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    caller: Option<Principal>,
) -> Result<StatusCode, AppError> {
    sessions::sign_out(
        &session,
        &state.db,
        caller.as_ref().map(|c| &*c.person),
        &client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 在所有设备上退出 / Sign out everywhere
///
/// End all of the caller's sessions and revoke all of their API tokens.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-everywhere",
    tag = "auth",
    responses(
        (status = 200, description = "已结束的会话与吊销的令牌数 / how many sessions ended and tokens were revoked", body = SignedOut),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CurrentSession {
    sourced_id: String,
    name: String,
    /// The CSRF token for this browser's cookie calls; null for bearer-token callers.
    csrf_token: Option<String>,
}

/// 当前登录者 / Who is signed in
///
/// Who is signed in, and the CSRF token for cookie calls.
#[utoipa::path(
    get,
    path = "/api/v1/auth/session",
    tag = "auth",
    responses(
        (status = 200, description = "当前登录者 / who is signed in", body = CurrentSession),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
async fn current_session(
    caller: Principal,
    token: Option<axum::Extension<csrf::CsrfToken>>,
) -> Json<CurrentSession> {
    Json(CurrentSession {
        sourced_id: caller.person.sourced_id.clone(),
        name: caller.person.display_name.clone(),
        csrf_token: token.map(|t| t.0.0),
    })
}

/// 我的会话 / My sessions
///
/// The caller's active sessions, most recently used first.
#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions",
    tag = "auth",
    responses(
        (status = 200, description = "调用者的有效会话 / the caller's active sessions", body = Vec<SessionView>),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
    )
)]
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

/// 让某人在所有设备上退出 / Sign a person out everywhere
///
/// End every session and revoke every API token of a person: themselves, or someone whose
/// school or district the caller administers.
#[utoipa::path(
    post,
    path = "/api/v1/people/{sourced_id}/sign-out-everywhere",
    tag = "auth",
    params(("sourced_id" = String, Path, description = "此人的 sourcedId / the person's sourcedId")),
    responses(
        (status = 200, description = "已结束的会话与吊销的令牌数 / how many sessions ended and tokens were revoked", body = SignedOut),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "既非本人也非其学校或学区的管理员，或没有此人（`forbidden`）/ neither the person nor an administrator of their school or district, or nobody has this sourcedId (`forbidden`)", body = ErrorBody),
    )
)]
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

/// 签发全班激活码 / Issue a class's activation codes
///
/// Issue activation codes for a class's pupils and their parents (each replaces any unused
/// earlier code), for the class sheet.
#[utoipa::path(
    post,
    path = "/api/v1/classes/{sourced_id}/codes",
    tag = "auth",
    params(("sourced_id" = String, Path, description = "班级的 sourcedId / the class's sourcedId")),
    responses(
        (status = 200, description = "签发的激活码 / the codes issued", body = Vec<IssuedCode>),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是此班的班主任或其上级管理员，或没有此班（`forbidden`）/ not the class's head teacher or an administrator above it, or no such class (`forbidden`)", body = ErrorBody),
    )
)]
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

/// 补发激活码 / Reissue an activation code
///
/// A new activation code for one person (a lost slip, a forgotten password); the old code
/// stops working.
#[utoipa::path(
    post,
    path = "/api/v1/people/{sourced_id}/code",
    tag = "auth",
    params(("sourced_id" = String, Path, description = "此人的 sourcedId / the person's sourcedId")),
    responses(
        (status = 200, description = "新的激活码 / the new code", body = IssuedCode),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不是其学校的管理员，也不是其（或其孩子）班级的班主任；或是本人；或没有此人（`forbidden`）/ neither an administrator of their school nor head teacher of their (or their child's) class, or oneself, or nobody has this sourcedId (`forbidden`)", body = ErrorBody),
        (status = 409, description = "此人已被名册注销（`conflict`）/ the roster has retired the person (`conflict`)", body = ErrorBody),
    )
)]
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

/// 授予角色 / Grant a role
///
/// Grant a role (`reviewer`) in an organisation the caller administers.
#[utoipa::path(
    post,
    path = "/api/v1/people/{sourced_id}/roles",
    tag = "auth",
    params(("sourced_id" = String, Path, description = "此人的 sourcedId / the person's sourcedId")),
    request_body = roles::GrantRequest,
    responses(
        (status = 200, description = "授予的角色（已有时原样返回）/ the grant (as it was, if it existed)", body = roles::Grant),
        (status = 400, description = "JSON 语法错误（`bad_request`）/ broken JSON (`bad_request`)", body = ErrorBody),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不管理此人或此组织，或没有此人（`forbidden`）/ the caller administers neither the person nor the org, or nobody has this sourcedId (`forbidden`)", body = ErrorBody),
        (status = 415, description = answers::NOT_JSON, body = ErrorBody),
        (status = 422, description = "角色不可授予、组织不存在或此人不属于该组织，或缺字段（`invalid_input`）/ the role cannot be granted, the org is unknown or the person does not belong to it, or a field is missing (`invalid_input`)", body = ErrorBody),
    )
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OrgQuery {
    /// The org's sourcedId; default: the person's first school.
    org: Option<String>,
}

/// 撤销角色 / Revoke a role
///
/// Revoke a granted role (nothing to revoke is not an error).
#[utoipa::path(
    delete,
    path = "/api/v1/people/{sourced_id}/roles/{role}",
    tag = "auth",
    params(
        ("sourced_id" = String, Path, description = "此人的 sourcedId / the person's sourcedId"),
        ("role" = String, Path, description = "角色，如 `reviewer` / the role, e.g. `reviewer`"),
        OrgQuery,
    ),
    responses(
        (status = 204, description = "已撤销 / revoked"),
        (status = 401, description = answers::UNAUTHORIZED, body = ErrorBody),
        (status = 403, description = "不管理此人或此组织，或没有此人（`forbidden`）/ the caller administers neither the person nor the org, or nobody has this sourcedId (`forbidden`)", body = ErrorBody),
        (status = 422, description = "角色不可授予、组织不存在或此人不属于该组织（`invalid_input`）/ the role cannot be granted, the org is unknown or the person does not belong to it (`invalid_input`)", body = ErrorBody),
    )
)]
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
