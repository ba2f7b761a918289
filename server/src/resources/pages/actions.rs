//! The forms on a resource's page that move it through its life: submit (with the pledge),
//! withdraw, review, retire. Each calls `lifecycle` as the API does, then goes back to the page
//! saying what was done (303), or shows the page again with why not and what was typed.

use axum::Form;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::detail::show;
use super::{Page, Words, flash, given, signed_in};
use crate::auth::pages::see_other;
use crate::error::AppError;
use crate::http::layout::PageContext;
use crate::resources::lifecycle::{self, Verdict};
use crate::roster::entity::person;
use crate::state::AppState;

/// The action forms' fields, kept when an action comes back with a problem.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    pub(super) pledge: Option<String>,
    pub(super) decision: String,
    pub(super) political: String,
    pub(super) scientific: String,
    pub(super) safety: String,
    pub(super) comment: String,
    pub(super) scope: String,
    pub(super) reason: String,
}

impl Fields {
    /// The review form's choice for one dimension (`pass`, `fail` or none yet).
    pub(super) fn dimension(&self, name: &str) -> &str {
        match name {
            "political" => &self.political,
            "scientific" => &self.scientific,
            "safety" => &self.safety,
            _ => "",
        }
    }
}

/// After an action: back to the page saying what was done, or the page with why not.
async fn answer(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    id: &str,
    result: Result<(), AppError>,
    done: &str,
    form: Fields,
) -> Page {
    match result {
        // The service found the resource by this exact id: a stored UUID, safe in a Location.
        Ok(()) => Ok(see_other(&format!("/resources/{id}?done={done}"))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(state, ctx, me, id, Some((f.text, f.status)), form, false).await
        }
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/resources/{id}"))?.person;
    let pledge = given(&form.pledge).is_some();
    let result = lifecycle::submit(&state, me, &id, pledge).await.map(|_| ());
    answer(&state, &ctx, me, &id, result, "submitted", form).await
}

pub(super) async fn withdraw(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/resources/{id}"))?.person;
    let result = lifecycle::withdraw(&state, me, &id).await;
    answer(
        &state,
        &ctx,
        me,
        &id,
        result,
        "withdrawn",
        Fields::default(),
    )
    .await
}

pub(super) async fn review(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/resources/{id}"))?.person;
    let verdict = Verdict {
        decision: form.decision.clone(),
        political: form.political.clone(),
        scientific: form.scientific.clone(),
        safety: form.safety.clone(),
        comment: form.comment.clone(),
        scope: Some(form.scope.clone()).filter(|s| !s.trim().is_empty()),
    };
    let result = lifecycle::review(&state, me, &id, verdict)
        .await
        .map(|_| ());
    answer(&state, &ctx, me, &id, result, "reviewed", form).await
}

pub(super) async fn retire(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &format!("/resources/{id}"))?.person;
    let result = lifecycle::retire(&state, me, &id, &form.reason).await;
    answer(&state, &ctx, me, &id, result, "retired", form).await
}
