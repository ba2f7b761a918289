//! Activation-code sheets: the classes a head teacher or administrator may issue codes for, and
//! the printable sheet of slips, one per pupil and per parent, each with a QR code.
//!
//! Codes are stored hashed, so the sheet is the only place they are ever shown: it is the
//! answer to the POST that issues them, marked `no-store`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use qrcode::QrCode;
use qrcode::render::svg;
use sea_orm::{ConnectionTrait, DbErr};

use super::to_login;
use crate::auth::client::ClientInfo;
use crate::auth::codes::IssuedCode;
use crate::auth::service;
use crate::error::AppError;
use crate::http::assets;
use crate::http::display::local_date;
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::people::{relations, store};
use crate::roster::entity::class;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/classes.html")]
struct ClassesPage<'a> {
    page: Layout<'a>,
    schools: Vec<service::SchoolClasses>,
}

pub(super) async fn classes(
    State(state): State<AppState>,
    ctx: PageContext,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login(&ctx.here));
    };
    let page = ClassesPage {
        page: ctx.layout(&state.i18n, "auth.codes.classes_title"),
        schools: service::manageable_classes(&state.db, &viewer.person).await?,
    };
    Ok(render(&page, ctx.lang))
}

#[derive(Template)]
#[template(path = "auth/class_codes.html")]
struct ClassPage<'a> {
    page: Layout<'a>,
    csrf: String,
    school: String,
    class: class::Model,
    /// "12 pupils and 20 parents", in the reader's language.
    counts: String,
    validity: String,
}

async fn school_name(db: &impl ConnectionTrait, class: &class::Model) -> Result<String, DbErr> {
    Ok(store::orgs_by_id(db, vec![class.school_id.clone()])
        .await?
        .remove(&class.school_id)
        .map(|o| o.name)
        .unwrap_or_default())
}

/// The class and a button to issue its codes, with what that does to earlier codes.
pub(super) async fn class_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(sourced_id): Path<String>,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login(&ctx.here));
    };
    let db = &state.db;
    let class = service::managed_class(db, &viewer.person, &sourced_id).await?;
    let pupils = relations::students_of(db, &[class.id.clone()].into_iter().collect()).await?;
    let families = relations::guardians_of(db, &pupils).await?;
    let tr = ctx.tr(&state.i18n);
    let page = ClassPage {
        page: ctx.layout(&state.i18n, "auth.codes.class_title"),
        csrf: ctx.csrf.clone(),
        school: school_name(db, &class).await?,
        counts: tr.format(
            "auth.codes.counts",
            &[
                ("pupils", pupils.len().to_string()),
                ("parents", families.len().to_string()),
            ],
        ),
        validity: tr.format(
            "auth.codes.validity",
            &[("days", state.config.code_days.to_string())],
        ),
        class,
    };
    Ok(render(&page, ctx.lang))
}

#[derive(Template)]
#[template(path = "auth/code_sheet.html")]
struct SheetPage<'a> {
    page: Layout<'a>,
    school: String,
    class: class::Model,
    /// Where the slips send people: `{base}/activate`.
    address: String,
    slips: Vec<Slip>,
    summary: String,
    print_js: String,
}

struct Slip {
    name: String,
    /// "Pupil", or "Parent of 李小1、李小2".
    role: String,
    code: String,
    expires: String,
    /// Inline SVG we generated ourselves (no text from outside goes into it but the URL).
    qr: String,
}

/// A QR code of `url` as inline SVG markup, without the XML declaration.
fn qr_svg(url: &str) -> Result<String, AppError> {
    let code = QrCode::new(url.as_bytes()).map_err(AppError::internal)?;
    let svg = code.render::<svg::Color>().min_dimensions(120, 120).build();
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

fn slip(tr: Tr<'_>, base: &str, issued: IssuedCode) -> Result<Slip, AppError> {
    let role = if issued.role == "student" {
        tr.t("auth.codes.slip_student").to_owned()
    } else {
        let key = match issued.role.as_str() {
            "guardian" => "auth.codes.slip_guardian_of",
            "relative" => "auth.codes.slip_relative_of",
            _ => "auth.codes.slip_parent_of",
        };
        tr.format(key, &[("children", issued.children.join("、"))])
    };
    Ok(Slip {
        qr: qr_svg(&format!("{base}/activate?code={}", issued.code))?,
        name: issued.name,
        role,
        code: issued.code,
        expires: local_date(issued.expires_at),
    })
}

/// Issue the class's codes and answer with the sheet to print. Earlier unused codes of these
/// people stop working.
pub(super) async fn issue(
    State(state): State<AppState>,
    ctx: PageContext,
    client: ClientInfo,
    Path(sourced_id): Path<String>,
) -> Result<Response, AppError> {
    let Some(viewer) = &ctx.viewer else {
        return Ok(to_login(&format!("/classes/{sourced_id}/codes")));
    };
    let db = &state.db;
    let class = service::managed_class(db, &viewer.person, &sourced_id).await?;
    let issued = service::issue_class_codes(
        db,
        Some(&viewer.person),
        &class,
        state.config.code_days,
        &client,
        Utc::now(),
    )
    .await?;
    let tr = ctx.tr(&state.i18n);
    let base = state.config.base_url();
    let summary = tr.format(
        "auth.codes.sheet_summary",
        &[("count", issued.len().to_string())],
    );
    let slips = issued
        .into_iter()
        .map(|i| slip(tr, &base, i))
        .collect::<Result<Vec<_>, _>>()?;
    let page = SheetPage {
        page: ctx.layout(&state.i18n, "auth.codes.sheet_title"),
        school: school_name(db, &class).await?,
        class,
        address: format!("{base}/activate"),
        slips,
        summary,
        print_js: assets::url("print.js"),
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        render(&page, ctx.lang),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_bare_svg() -> Result<(), AppError> {
        let svg = qr_svg("https://kj.example.cn/activate?code=ABCD-EFGH")?;
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("style"), "CSP forbids inline styles");
        Ok(())
    }
}
