//! The roster import admin pages, for district and system administrators in a browser:
//! `/roster/imports` (upload a roster zip, see its report, browse past imports) and
//! `/roster/imports/{id}` (one past import's stored report).
//!
//! The upload form is `multipart/form-data`, whose body the CSRF layer cannot read, so its
//! action carries the token as `?csrf=`. The import itself runs through the same
//! `service::import_upload` as `POST /api/v1/roster/imports`; a rejected or refused import is
//! an answer, shown as its report (422 / 409), never as an error page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;

use super::service::{self, ImportOptions, Origin, Outcome};
use super::view::{ImportRow, ReportView};
use super::{access, log, routes};
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::layout::{Layout, PageContext, render};
use crate::state::AppState;

/// The page's own address, also where signing in returns to.
const HOME: &str = "/roster/imports";
/// Past imports per page.
const PAST_PER_PAGE: u64 = 20;

/// Registered beside the upload API, under its larger body limit.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(HOME, get(index).post(upload))
        .route("/roster/imports/{id}", get(detail))
}

/// Why a page is not shown: the caller must sign in first, or an error page.
enum Denied {
    SignIn(String),
    Error(AppError),
}

impl From<AppError> for Denied {
    fn from(err: AppError) -> Self {
        Denied::Error(err)
    }
}

impl From<sea_orm::DbErr> for Denied {
    fn from(err: sea_orm::DbErr) -> Self {
        Denied::Error(err.into())
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Error(err) => err.into_response(),
            Denied::SignIn(here) => {
                // `/` stays readable in the query (`/login?next=/roster/imports`).
                let next: String = url::form_urlencoded::byte_serialize(here.as_bytes())
                    .collect::<String>()
                    .replace("%2F", "/");
                let location = HeaderValue::from_str(&format!("/login?next={next}"))
                    .unwrap_or(HeaderValue::from_static("/login"));
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
            }
        }
    }
}

/// The signed-in importer; anyone else is sent to sign in (303) or refused (403).
async fn importer(state: &AppState, ctx: &PageContext, here: &str) -> Result<Principal, Denied> {
    let Some(viewer) = ctx.viewer.clone() else {
        return Err(Denied::SignIn(here.to_owned()));
    };
    access::require_importer(&state.db, &viewer.person).await?;
    Ok(viewer)
}

/// The upload form; after a refusal it asks for the mass-retirement box to be ticked.
pub struct UploadForm {
    pub action: String,
    pub confirm: bool,
}

impl UploadForm {
    fn new(ctx: &PageContext, confirm: bool) -> Self {
        UploadForm {
            action: format!("{HOME}?csrf={}", ctx.csrf),
            confirm,
        }
    }
}

#[derive(Template)]
#[template(path = "roster/imports.html")]
struct ImportsPage<'a> {
    page: Layout<'a>,
    form: UploadForm,
    /// A problem with the last submission (a catalogue key).
    notice: Option<&'static str>,
    imports: Vec<ImportRow>,
    /// The next (older) page of the log.
    older: Option<String>,
    /// Whether this is a later page (offer the way back to the newest).
    paged: bool,
}

#[derive(Deserialize)]
struct IndexQuery {
    cursor: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(query): Query<IndexQuery>,
) -> Result<Response, Denied> {
    importer(&state, &ctx, HOME).await?;
    imports_page(&state, &ctx, query.cursor.as_deref(), None).await
}

async fn imports_page(
    state: &AppState,
    ctx: &PageContext,
    cursor: Option<&str>,
    notice: Option<&'static str>,
) -> Result<Response, Denied> {
    let tr = ctx.tr(&state.i18n);
    let page = log::entries(&state.db, cursor, PAST_PER_PAGE).await?;
    let names = log::actor_names(&state.db, &page.entries).await?;
    let imports = page
        .entries
        .iter()
        .map(|e| {
            ImportRow::read(
                e,
                e.actor_id
                    .as_ref()
                    .and_then(|a| names.get(a))
                    .map(String::as_str),
                tr,
            )
        })
        .collect();
    let template = ImportsPage {
        page: ctx.layout(&state.i18n, "roster_admin.title"),
        form: UploadForm::new(ctx, false),
        notice,
        imports,
        older: page.next_cursor.map(|c| format!("{HOME}?cursor={c}")),
        paged: cursor.is_some(),
    };
    let status = if notice.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// A rendered page with the status it answers; a page that failed to render keeps its 500.
fn with_status(status: StatusCode, mut response: Response) -> Response {
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}

#[derive(Template)]
#[template(path = "roster/report.html")]
struct ReportPage<'a> {
    page: Layout<'a>,
    source_name: String,
    report: ReportView,
    form: UploadForm,
    errors_next: Option<String>,
    warnings_next: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    ctx: PageContext,
    client: crate::auth::client::ClientInfo,
    request: Request,
) -> Result<Response, Denied> {
    let caller = importer(&state, &ctx, HOME).await?;
    let upload = routes::read_upload(request, &state).await?;
    if upload.zip.is_empty() {
        return imports_page(&state, &ctx, None, Some("roster_admin.form.no_file")).await;
    }
    let options = ImportOptions {
        dry_run: upload.ticked.contains("dry_run"),
        allow_mass_retire: upload.ticked.contains("allow_mass_retire"),
        origin: Origin::Page,
        actor: Some(caller.person.id.clone()),
        recheck: false,
        client,
    };
    let shown = shown_name(upload.file_name.as_deref());
    let report =
        service::import_upload(&state.db, &upload.zip, &shown, &options, Utc::now()).await?;
    // People, roles or links may have changed: this node forgets its copies at once.
    state.caches.clear();
    drop(upload);
    let status = match report.outcome {
        Outcome::Imported | Outcome::DryRun => StatusCode::OK,
        Outcome::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        Outcome::Refused => StatusCode::CONFLICT,
    };
    let view = ReportView::read(&report.to_stored_json(), ctx.tr(&state.i18n), 0, 0);
    // Later pages of a long list live on the import's own page (when it was logged).
    let next = |from: Option<usize>, param: &str| {
        view.id
            .as_ref()
            .zip(from)
            .map(|(id, from)| format!("{HOME}/{id}?{param}={from}"))
    };
    let template = ReportPage {
        // The form's address carries the CSRF token: the language switch must not.
        page: Layout::new(&state.i18n, ctx.lang, "roster_admin.report.title", HOME)
            .with_viewer(ctx.viewer.as_ref(), &ctx.csrf),
        source_name: shown,
        errors_next: next(view.errors.next_from(), "errors_from"),
        warnings_next: next(view.warnings.next_from(), "warnings_from"),
        form: UploadForm::new(&ctx, report.outcome == Outcome::Refused),
        report: view,
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// The uploaded file's own name, as the log shows it (browsers may send a path).
fn shown_name(file_name: Option<&str>) -> String {
    let name = file_name
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("upload.zip");
    name.chars().filter(|c| !c.is_control()).take(120).collect()
}

#[derive(Template)]
#[template(path = "roster/import.html")]
struct DetailPage<'a> {
    page: Layout<'a>,
    entry: ImportRow,
    report: ReportView,
    errors_next: Option<String>,
    warnings_next: Option<String>,
}

#[derive(Deserialize)]
struct DetailQuery {
    errors_from: Option<usize>,
    warnings_from: Option<usize>,
}

async fn detail(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, Denied> {
    let here = format!("{HOME}/{id}");
    importer(&state, &ctx, &here).await?;
    let entry = log::find(&state.db, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let tr = ctx.tr(&state.i18n);
    let names = log::actor_names(&state.db, std::slice::from_ref(&entry)).await?;
    let who = entry.actor_id.as_ref().and_then(|a| names.get(a));
    let (errors_from, warnings_from) = (
        query.errors_from.unwrap_or(0),
        query.warnings_from.unwrap_or(0),
    );
    let report = ReportView::read(&log::stored_report(&entry), tr, errors_from, warnings_from);
    let errors_next = report
        .errors
        .next_from()
        .map(|n| format!("{here}?errors_from={n}&warnings_from={warnings_from}"));
    let warnings_next = report
        .warnings
        .next_from()
        .map(|n| format!("{here}?errors_from={errors_from}&warnings_from={n}"));
    let template = DetailPage {
        page: ctx.layout(&state.i18n, "roster_admin.detail.title"),
        entry: ImportRow::read(&entry, who.map(String::as_str), tr),
        report,
        errors_next,
        warnings_next,
    };
    Ok(render(&template, ctx.lang))
}

#[cfg(test)]
mod tests {
    use super::shown_name;

    #[test]
    fn the_shown_name_is_the_files_own_name() {
        assert_eq!(
            shown_name(Some("C:\\Users\\a\\2026 名单.zip")),
            "2026 名单.zip"
        );
        assert_eq!(shown_name(Some("dir/roster.zip")), "roster.zip");
        assert_eq!(shown_name(Some("  ")), "upload.zip");
        assert_eq!(shown_name(None), "upload.zip");
    }
}
