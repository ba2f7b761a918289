//! `GET /audit`: the audit log as a page for administrators, newest first, 50 at a time.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::service::{self, EventView, PAGE_SIZE};
use crate::auth::pages::to_login;
use crate::error::AppError;
use crate::http::display::{local_time, short_user_agent, translated_or};
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(page))
}

#[derive(Template)]
#[template(path = "audit/events.html")]
struct AuditPage<'a> {
    page: Layout<'a>,
    rows: Vec<Row>,
    /// The link to the next, older page.
    older: Option<String>,
    /// Whether this is a later page (then "newest" links back to the first).
    paged: bool,
}

/// One event, ready to show.
struct Row {
    time: String,
    action: String,
    outcome: String,
    /// `ok`, `failed` or `denied`, for the row's class.
    outcome_code: String,
    actor: String,
    subject: String,
    login: String,
    ip: String,
    device: String,
    user_agent: String,
}

/// `Name (sourcedId)`, or nothing.
fn who(name: Option<String>, sourced_id: Option<String>) -> String {
    match (name, sourced_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => String::new(),
    }
}

impl Row {
    fn new(tr: Tr<'_>, e: EventView) -> Self {
        Row {
            time: local_time(e.at),
            action: translated_or(tr, &format!("audit.action.{}", e.action), &e.action),
            outcome: translated_or(tr, &format!("audit.outcome.{}", e.outcome), &e.outcome),
            outcome_code: e.outcome,
            actor: who(e.actor_name, e.actor),
            subject: who(e.subject_name, e.subject),
            login: e.login.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            device: e
                .user_agent
                .as_deref()
                .map(short_user_agent)
                .unwrap_or_default(),
            user_agent: e.user_agent.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Paging {
    before: Option<i64>,
}

async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(paging): Query<Paging>,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login(&ctx.here));
    };
    let events = service::list_for(&state.db, &viewer.person, paging.before, PAGE_SIZE).await?;
    let tr = ctx.tr(&state.i18n);
    let page = AuditPage {
        page: ctx.layout(&state.i18n, "audit.page.title"),
        rows: events.events.into_iter().map(|e| Row::new(tr, e)).collect(),
        older: events.next_before.map(|id| format!("/audit?before={id}")),
        paged: paging.before.is_some(),
    };
    Ok(render(&page, ctx.lang))
}

#[cfg(test)]
mod tests {
    use crate::audit::Action;
    use crate::i18n::{Catalogues, Lang};

    #[test]
    fn every_action_and_outcome_reads_in_both_languages() -> Result<(), toml::de::Error> {
        let catalogues = Catalogues::load()?;
        let actions = [
            Action::SignIn,
            Action::SignInFailed,
            Action::SignInThrottled,
            Action::Activation,
            Action::ActivationFailed,
            Action::SignOut,
            Action::SignOutEverywhere,
            Action::SsoUnknownPerson,
            Action::CodesIssued,
            Action::TokenCreated,
            Action::TokenRevoked,
            Action::RoleGranted,
            Action::RoleRevoked,
            Action::RosterImport,
        ];
        let keys = actions
            .iter()
            .map(|a| format!("audit.action.{}", a.as_str()))
            .chain(["ok", "failed", "denied"].map(|o| format!("audit.outcome.{o}")));
        for key in keys {
            for lang in Lang::ALL {
                assert_ne!(catalogues.text(lang, &key), key, "{lang:?} lacks {key}");
            }
        }
        Ok(())
    }
}
