//! `/messages/settings`: a parent chooses live delivery or a daily digest; a school's
//! administrators set its quiet hours (免打扰时段), turn them off, or follow the server's
//! default again.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Flash, Page, administered_schools, flash, signed_in, with_status};
use crate::auth::client::ClientInfo;
use crate::auth::pages::see_other;
use crate::error::ErrorCode;
use crate::http::layout::{Layout, PageContext, render};
use crate::messaging::QuietHours;
use crate::messaging::settings;
use crate::people::relations::FAMILY_ROLES;
use crate::people::store;
use crate::roster::entity::person;
use crate::state::AppState;

const HOME: &str = "/messages/settings";

#[derive(Template)]
#[template(path = "messaging/settings.html")]
struct SettingsPage<'a> {
    page: Layout<'a>,
    csrf: String,
    /// A parent (guardian, relative): offer the choice of delivery.
    family: bool,
    digest: bool,
    schools: Vec<SchoolRow>,
    /// The server's quiet hours, which a school follows until it sets its own.
    default_hours: String,
    zone: String,
    saved: bool,
    error: Option<String>,
}

struct SchoolRow {
    sourced_id: String,
    name: String,
    /// `default`, `off` or `custom`.
    mode: &'static str,
    start: String,
    end: String,
}

fn split(hours: QuietHours) -> (String, String) {
    match hours {
        QuietHours::Between { start, end } => (
            start.format("%H:%M").to_string(),
            end.format("%H:%M").to_string(),
        ),
        QuietHours::Off => (String::new(), String::new()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Saved {
    saved: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(query): Query<Saved>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    show(&state, &ctx, me, query.saved.is_some(), None).await
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    saved: bool,
    problem: Option<Flash>,
) -> Page {
    let family = store::active_roles(&state.db, &me.id)
        .await?
        .iter()
        .any(|r| FAMILY_ROLES.contains(&r.role.as_str()));
    let digest = settings::prefs(state, me).await?.delivery == "digest";
    let default = state.config.quiet_hours;
    let mut schools = Vec::new();
    for school in administered_schools(&state.db, me).await? {
        let current = settings::school(state, me, &school.sourced_id).await?;
        let hours: QuietHours = current.quiet_hours.parse().unwrap_or(default);
        let mode = match (current.own, hours) {
            (false, _) => "default",
            (true, QuietHours::Off) => "off",
            (true, _) => "custom",
        };
        // The time fields start from the hours in force, or the default's when there are none.
        let (start, end) = match hours {
            QuietHours::Off => split(default),
            _ => split(hours),
        };
        schools.push(SchoolRow {
            sourced_id: school.sourced_id,
            name: school.name,
            mode,
            start,
            end,
        });
    }
    let status = problem.as_ref().map(|f| f.status);
    let template = SettingsPage {
        page: ctx.layout(&state.i18n, "messaging.settings.title"),
        csrf: ctx.csrf.clone(),
        family,
        digest,
        schools,
        default_hours: default.to_string(),
        zone: state.config.time_zone.name().to_owned(),
        saved,
        error: problem.map(|f| f.text),
    };
    let response = render(&template, ctx.lang);
    Ok(match status {
        Some(status) => with_status(status, response),
        None => response,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Delivery {
    /// `live` or `digest`.
    delivery: String,
}

pub(super) async fn save_delivery(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(form): Form<Delivery>,
) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    match settings::set_prefs(&state, me, &form.delivery).await {
        Ok(_) => Ok(see_other("/messages/settings?saved=1")),
        Err(err) => {
            let problem = flash(ctx.tr(&state.i18n), err, &[ErrorCode::InvalidField])?;
            show(&state, &ctx, me, false, Some(problem)).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Quiet {
    school: String,
    /// `default`, `off` or `custom` (then `start` and `end`, `HH:MM`).
    mode: String,
    start: String,
    end: String,
}

pub(super) async fn save_quiet_hours(
    State(state): State<AppState>,
    ctx: PageContext,
    client: ClientInfo,
    Form(form): Form<Quiet>,
) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    let value = match form.mode.as_str() {
        "default" | "off" => form.mode.clone(),
        _ => format!("{}-{}", form.start.trim(), form.end.trim()),
    };
    match settings::set_quiet_hours(&state, me, &client, &form.school, &value).await {
        Ok(_) => Ok(see_other("/messages/settings?saved=1")),
        Err(err) => {
            let problem = flash(ctx.tr(&state.i18n), err, &[ErrorCode::InvalidField])?;
            show(&state, &ctx, me, false, Some(problem)).await
        }
    }
}
