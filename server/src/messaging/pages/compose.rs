//! `/notices/new`: composing a notice for a class (`?class=SOURCEDID`), or, for an
//! administrator, for a school or one of its grades (`?school=SOURCEDID&grade=03`); without
//! either, the classes and schools the person may post to. A notice that names a pupil comes
//! back with the warning, a 1:1 conversation suggested instead, and a "send anyway" box.

use std::collections::BTreeSet;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{Flash, Page, flash, given, nonce, signed_in, ticked, with_status};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::i18n::Tr;
use crate::messaging::audience::Target;
use crate::messaging::messages::MAX_BODY;
use crate::messaging::notices::{self, NewNotice};
use crate::people::relations;
use crate::roster::entity::{class, org, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

/// Failures the form shows above itself, keeping what was written.
const INLINE: &[ErrorCode] = &[
    ErrorCode::InvalidField,
    ErrorCode::EmptyBody,
    ErrorCode::BodyTooLong,
    ErrorCode::TooManyAttachments,
    ErrorCode::UrgentNeedsAdmin,
    ErrorCode::RateLimited,
];

#[derive(Template)]
#[template(path = "messaging/compose.html")]
struct ComposePage<'a> {
    page: Layout<'a>,
    csrf: String,
    /// Where the notice goes; `None` shows the choice of classes and schools.
    target: Option<TargetView>,
    classes: Vec<class::Model>,
    schools: Vec<org::Model>,
    form: Filled,
    nonce: String,
    error: Option<String>,
    /// The pupil-name warning, once the service has given it.
    named: Option<String>,
    max_body: usize,
}

struct TargetView {
    /// A school's notice (else a class's).
    school: bool,
    sourced_id: String,
    heading: String,
    /// The school's grades, to narrow its notice to one.
    grades: Vec<String>,
    /// An administrator of the school may mark the notice urgent.
    admin: bool,
}

/// What the form shows filled in.
#[derive(Default)]
struct Filled {
    title: String,
    body: String,
    grade: String,
    requires_confirmation: bool,
    include_students: bool,
    urgent: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    class: Option<String>,
    school: Option<String>,
    grade: Option<String>,
    title: String,
    body: String,
    nonce: String,
    requires_confirmation: Option<String>,
    include_students: Option<String>,
    urgent: Option<String>,
    acknowledge_named_pupils: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(fields): Query<Fields>,
) -> Page {
    let me = &signed_in(&ctx, &ctx.here)?.person;
    let tr = ctx.tr(&state.i18n);
    let resolved = resolve(&state, tr, me, &fields).await?;
    let (classes, schools) = match resolved {
        Some(_) => (Vec::new(), Vec::new()),
        None => choices(&state, me).await?,
    };
    let template = ComposePage {
        page: ctx.layout(&state.i18n, "messaging.compose.title"),
        csrf: ctx.csrf.clone(),
        target: resolved.map(|(_, view)| view),
        classes,
        schools,
        form: Filled {
            grade: fields.grade.unwrap_or_default(),
            ..Filled::default()
        },
        nonce: nonce(),
        error: None,
        named: None,
        max_body: MAX_BODY,
    };
    Ok(render(&template, ctx.lang))
}

impl Fields {
    fn filled(&self) -> Filled {
        Filled {
            title: self.title.clone(),
            body: self.body.clone(),
            grade: self.grade.clone().unwrap_or_default(),
            requires_confirmation: ticked(&self.requires_confirmation),
            include_students: ticked(&self.include_students),
            urgent: ticked(&self.urgent),
        }
    }

    fn into_notice(self) -> NewNotice {
        NewNotice {
            requires_confirmation: ticked(&self.requires_confirmation),
            include_students: ticked(&self.include_students),
            urgent: ticked(&self.urgent),
            acknowledge_named_pupils: ticked(&self.acknowledge_named_pupils),
            attachments: Vec::new(),
            nonce: Some(self.nonce).filter(|n| !n.is_empty()),
            title: self.title,
            body: self.body,
        }
    }
}

pub(super) async fn post(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(fields): Form<Fields>,
) -> Page {
    let me = &signed_in(&ctx, "/notices/new")?.person;
    let tr = ctx.tr(&state.i18n);
    let Some((target, view)) = resolve(&state, tr, me, &fields).await? else {
        return Err(AppError::new(ErrorCode::InvalidField)
            .with_arg("field", "class / school")
            .with_arg("hint", "二者给出其一 / give exactly one")
            .into());
    };
    let (form, nonce) = (fields.filled(), fields.nonce.clone());
    match notices::post(&state, me, target, fields.into_notice()).await {
        Ok(n) => Ok(see_other(&format!("/notices/{}", n.id))),
        Err(err) => again(&state, &ctx, view, form, nonce, err),
    }
}

/// The form again after a notice was not sent (so with the same nonce): with the pupil-name
/// warning and its "send anyway" box, or with what else was wrong.
fn again(
    state: &AppState,
    ctx: &PageContext,
    view: TargetView,
    form: Filled,
    nonce: String,
    err: AppError,
) -> Page {
    let tr = ctx.tr(&state.i18n);
    let (named, problem) = if err.code() == ErrorCode::NamesPupil {
        let names = err
            .args()
            .iter()
            .find(|(k, _)| *k == "names")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let text = tr.format("messaging.compose.names_pupil", &[("names", names)]);
        (Some(text), None)
    } else {
        (None, Some(flash(tr, err, INLINE)?))
    };
    let status = problem
        .as_ref()
        .map_or(StatusCode::CONFLICT, |f: &Flash| f.status);
    let template = ComposePage {
        page: ctx.layout(&state.i18n, "messaging.compose.title"),
        csrf: ctx.csrf.clone(),
        target: Some(view),
        classes: Vec::new(),
        schools: Vec::new(),
        form,
        nonce,
        error: problem.map(|f| f.text),
        named,
        max_body: MAX_BODY,
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// The target the form names, checked: a class the caller teaches or whose school they
/// administer, or a school they administer. `None` when it names neither.
async fn resolve(
    state: &AppState,
    tr: Tr<'_>,
    me: &person::Model,
    fields: &Fields,
) -> Result<Option<(Target, TargetView)>, AppError> {
    let db = &state.db;
    if let Some(sourced_id) = given(&fields.class) {
        let class = relations::class_by_sourced_id(db, sourced_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        let admin = relations::administers_org(db, me, &class.school_id).await?;
        if !admin && !relations::teaches(db, me, &class.id).await? {
            return Err(AppError::new(ErrorCode::Forbidden));
        }
        let view = TargetView {
            school: false,
            heading: tr.format("messaging.compose.heading_class", &[("class", class.title)]),
            sourced_id: class.sourced_id,
            grades: Vec::new(),
            admin,
        };
        return Ok(Some((Target::Class(class.id), view)));
    }
    let Some(sourced_id) = given(&fields.school) else {
        return Ok(None);
    };
    let school = org::Entity::find()
        .filter(org::Column::SourcedId.eq(sourced_id))
        .one(db)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !relations::administers_org(db, me, &school.id).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let grades: BTreeSet<String> = class::Entity::find()
        .filter(class::Column::SchoolId.eq(school.id.as_str()))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?
        .iter()
        .flat_map(|c| c.grades.split(',').map(|g| g.trim().to_owned()))
        .filter(|g| !g.is_empty())
        .collect();
    let target = match given(&fields.grade) {
        Some(grade) => Target::Grade {
            school: school.id.clone(),
            grade: grade.to_owned(),
        },
        None => Target::School(school.id.clone()),
    };
    let view = TargetView {
        school: true,
        heading: tr.format(
            "messaging.compose.heading_school",
            &[("school", school.name)],
        ),
        sourced_id: school.sourced_id,
        grades: grades.into_iter().collect(),
        admin: true,
    };
    Ok(Some((target, view)))
}

/// The classes the caller teaches and the schools they administer (directly or above).
async fn choices(
    state: &AppState,
    me: &person::Model,
) -> Result<(Vec<class::Model>, Vec<org::Model>), sea_orm::DbErr> {
    let db = &state.db;
    let taught = relations::taught_classes(db, me, false).await?;
    let mut classes = class::Entity::find()
        .filter(class::Column::Id.is_in(taught))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(db)
        .await?;
    classes.sort_by(|a, b| (&a.grades, &a.title).cmp(&(&b.grades, &b.title)));
    let schools = super::administered_schools(db, me).await?;
    Ok((classes, schools))
}
