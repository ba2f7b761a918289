//! `/login`, `/activate` and `/logout`: getting in with a password or a first-visit code, and
//! out again.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use super::{inline_error, safe_next, see_other, signed_in_redirect};
use crate::auth::client::ClientInfo;
use crate::auth::password::MIN_LEN;
use crate::auth::sessions::{self, Method};
use crate::auth::{Principal, service};
use crate::error::{AppError, ErrorCode};
use crate::http::display::mask_phone;
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::roster::entity::person;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage<'a> {
    page: Layout<'a>,
    csrf: String,
    /// Where to go afterwards, already checked to be local.
    next: String,
    /// The single sign-on button: its link and label, when single sign-on is set up.
    sso: Option<(String, String)>,
    /// What was typed as the login, kept when the form comes back; never the password.
    login: String,
    error: Option<String>,
    note: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginQuery {
    next: Option<String>,
    /// `everywhere` after "sign out everywhere".
    signed_out: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

fn login_page_for<'a>(
    state: &'a AppState,
    ctx: &PageContext,
    next: String,
    login: String,
    error: Option<String>,
) -> LoginPage<'a> {
    let sso = state.config.oidc.as_ref().map(|oidc| {
        let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        (format!("/auth/sso?next={next}"), oidc.label.clone())
    });
    LoginPage {
        page: ctx.layout(&state.i18n, "auth.login.title"),
        csrf: ctx.csrf.clone(),
        next,
        sso,
        login,
        error,
        note: None,
    }
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    if ctx.viewer.is_some() {
        return see_other(&next);
    }
    let mut page = login_page_for(&state, &ctx, next, String::new(), None);
    if query.signed_out.as_deref() == Some("everywhere") {
        page.note = Some(ctx.tr(&state.i18n).t("auth.login.signed_out_everywhere"));
    }
    render(&page, ctx.lang)
}

pub(super) async fn login(
    State(state): State<AppState>,
    ctx: PageContext,
    client: ClientInfo,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let next = safe_next(form.next.as_deref());
    match service::password_sign_in(&state.db, &client, &form.login, &form.password, now).await {
        Ok(person) => {
            sessions::sign_in(&session, &person, Method::Password, &client, now).await?;
            Ok(signed_in_redirect(&state, &next))
        }
        Err(err) => {
            let inline = inline_error(ctx.tr(&state.i18n), err)?;
            let message = Some(inline.message.clone());
            let page = login_page_for(&state, &ctx, next, form.login, message);
            Ok(inline.respond(render(&page, ctx.lang)))
        }
    }
}

#[derive(Template)]
#[template(path = "auth/activate.html")]
struct ActivatePage<'a> {
    page: Layout<'a>,
    csrf: String,
    code: String,
    /// Step two (set a password) once the code has been checked: whose code it is.
    holder: Option<Holder>,
    error: Option<String>,
    rules: String,
    min_len: usize,
}

/// The person a checked code belongs to, as step two greets them.
struct Holder {
    /// "您好，王丽芳".
    greeting: String,
    /// How they will sign in after this visit.
    next_time: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ActivateQuery {
    code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ActivateForm {
    code: String,
    /// Absent at step one (only the code is sent).
    password: Option<String>,
    confirm: Option<String>,
}

/// How `person` signs in with a password: their username and (masked) phone number.
pub(super) fn next_time_hint(tr: Tr<'_>, person: &person::Model) -> String {
    let username = person.username.as_deref().filter(|u| !u.trim().is_empty());
    let phone = person.phone.as_deref().filter(|p| !p.trim().is_empty());
    match (username, phone) {
        (Some(username), Some(phone)) => tr.format(
            "auth.activate.next_time_both",
            &[
                ("username", username.to_owned()),
                ("phone", mask_phone(phone)),
            ],
        ),
        (Some(username), None) => tr.format(
            "auth.activate.next_time_username",
            &[("username", username.to_owned())],
        ),
        (None, Some(phone)) => tr.format(
            "auth.activate.next_time_phone",
            &[("phone", mask_phone(phone))],
        ),
        (None, None) => tr.t("auth.activate.next_time_none").to_owned(),
    }
}

fn activate_page_for<'a>(
    state: &'a AppState,
    ctx: &PageContext,
    code: String,
    holder: Option<&person::Model>,
    error: Option<String>,
) -> ActivatePage<'a> {
    let tr = ctx.tr(&state.i18n);
    ActivatePage {
        page: ctx.layout(&state.i18n, "auth.activate.title"),
        csrf: ctx.csrf.clone(),
        code,
        holder: holder.map(|p| Holder {
            greeting: tr.format("auth.activate.hello", &[("name", p.display_name.clone())]),
            next_time: next_time_hint(tr, p),
        }),
        error,
        rules: tr.format("auth.activate.rules", &[("min", MIN_LEN.to_string())]),
        min_len: MIN_LEN,
    }
}

pub(super) async fn activate_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(query): Query<ActivateQuery>,
) -> Response {
    let code = query.code.trim().chars().take(32).collect();
    render(&activate_page_for(&state, &ctx, code, None, None), ctx.lang)
}

/// Step one (only a code): check it and ask for a password. Step two (code and password):
/// set the password, use up the code, sign in. A failed step two that is the reader's to fix
/// (passwords differ, too weak) keeps the code unused and shows step two again.
pub(super) async fn activate(
    State(state): State<AppState>,
    ctx: PageContext,
    client: ClientInfo,
    session: Session,
    Form(form): Form<ActivateForm>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let tr = ctx.tr(&state.i18n);
    // A code is 8 symbols; anything longer is not one, and is not echoed back whole.
    let code: String = form.code.trim().chars().take(32).collect();
    let step_one = |code: String, err: AppError| -> Result<Response, AppError> {
        let inline = inline_error(tr, err)?;
        let message = Some(inline.message.clone());
        let page = activate_page_for(&state, &ctx, code, None, message);
        Ok(inline.respond(render(&page, ctx.lang)))
    };
    let holder = match service::check_code(&state.db, &client, &code, now).await {
        Ok(holder) => holder,
        Err(err) => return step_one(code, err),
    };
    let Some(password) = form.password else {
        return Ok(render(
            &activate_page_for(&state, &ctx, code, Some(&holder), None),
            ctx.lang,
        ));
    };
    let step_two = |message: String| {
        let page = activate_page_for(&state, &ctx, code.clone(), Some(&holder), Some(message));
        render(&page, ctx.lang)
    };
    if form.confirm.as_deref() != Some(password.as_str()) {
        let message = tr.t("auth.activate.mismatch").to_owned();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, step_two(message)).into_response());
    }
    match service::activate(&state.db, &client, &code, &password, now).await {
        Ok(person) => {
            sessions::sign_in(&session, &person, Method::Code, &client, now).await?;
            Ok(signed_in_redirect(&state, "/account?welcome=1"))
        }
        Err(err) if err.code() == ErrorCode::WeakPassword => {
            let inline = inline_error(tr, err)?;
            let page = step_two(inline.message.clone());
            Ok(inline.respond(page))
        }
        Err(err) => step_one(code.clone(), err),
    }
}

/// Sign this browser out and go home.
pub(super) async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    caller: Option<Principal>,
) -> Result<Response, AppError> {
    sessions::sign_out(
        &session,
        &state.db,
        caller.as_ref().map(|c| &*c.person),
        &client,
    )
    .await?;
    Ok(see_other("/"))
}
