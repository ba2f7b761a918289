//! `/account`: who I am, how I sign in, where I am signed in; and signing out everywhere.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use super::sign_in::next_time_hint;
use super::{see_other, to_login};
use crate::auth::client::ClientInfo;
use crate::auth::service;
use crate::auth::sessions::{self, Method, SessionView};
use crate::error::AppError;
use crate::http::display::{local_time, role_name, short_user_agent};
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::people::service as people;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/account.html")]
struct AccountPage<'a> {
    page: Layout<'a>,
    csrf: String,
    welcome: bool,
    name: String,
    roles: Vec<String>,
    orgs: Vec<String>,
    classes: Vec<String>,
    children: Vec<String>,
    /// How this person signs in next time.
    next_time: String,
    sso_label: Option<String>,
    sessions: Vec<SessionRow>,
    manages_classes: bool,
    reads_audit: bool,
}

/// One signed-in browser, ready to show.
struct SessionRow {
    current: bool,
    signed_in: String,
    last_seen: String,
    method: String,
    ip: String,
    device: String,
}

impl SessionRow {
    fn new(tr: Tr<'_>, view: SessionView) -> Self {
        let method = match view.method {
            Some(Method::Password) => tr.t("auth.method.password"),
            Some(Method::Code) => tr.t("auth.method.code"),
            Some(Method::Sso) => tr.t("auth.method.sso"),
            None => "",
        };
        SessionRow {
            current: view.current,
            signed_in: view.signed_in_at.map(local_time).unwrap_or_default(),
            last_seen: view.last_seen.map(local_time).unwrap_or_default(),
            method: method.to_owned(),
            ip: view.ip.unwrap_or_default(),
            device: view
                .user_agent
                .as_deref()
                .map(short_user_agent)
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AccountQuery {
    welcome: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    session: Session,
    Query(query): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login(&ctx.here));
    };
    let person = &viewer.person;
    let tr = ctx.tr(&state.i18n);
    let db = &state.db;
    let view = people::view(db, person).await?;
    let has_password = service::has_password(db, &person.id).await?;
    let next_time = if has_password {
        next_time_hint(tr, person)
    } else {
        tr.t("auth.account.no_password").to_owned()
    };
    let current = session.id().map(|id| id.to_string());
    let sessions = sessions::list_for(db, &person.id, current, Utc::now())
        .await?
        .into_iter()
        .map(|s| SessionRow::new(tr, s))
        .collect();
    let page = AccountPage {
        page: ctx.layout(&state.i18n, "auth.account.title"),
        csrf: ctx.csrf.clone(),
        welcome: query.welcome.is_some(),
        name: person.display_name.clone(),
        roles: view.roles.iter().map(|r| role_name(tr, r)).collect(),
        orgs: view.orgs.into_iter().map(|o| o.name).collect(),
        classes: view.classes.into_iter().map(|c| c.title).collect(),
        children: view
            .children
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .collect(),
        next_time,
        sso_label: state.config.oidc.as_ref().map(|o| o.label.clone()),
        sessions,
        manages_classes: !service::manageable_classes(db, person).await?.is_empty(),
        reads_audit: !people::administered_orgs(db, person).await?.is_empty(),
    };
    Ok(render(&page, ctx.lang))
}

/// End all of my sessions (this one too) and revoke my API tokens.
pub(super) async fn sign_out_everywhere(
    State(state): State<AppState>,
    ctx: PageContext,
    client: ClientInfo,
    session: Session,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login("/account"));
    };
    let person = &viewer.person;
    service::sign_out_everywhere(
        &state.db,
        &state.caches,
        person,
        person,
        &client,
        Utc::now(),
    )
    .await?;
    // The row is gone; flushing keeps this request from writing it back.
    sessions::sign_out(&session, &state.db, None, &client).await?;
    Ok(see_other("/login?signed_out=everywhere"))
}
