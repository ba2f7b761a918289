//! `/resources/new`: adding a resource — its metadata, its sharing scope, and a file, a text or
//! a link. The form is `multipart/form-data` (for the file), so its action carries the CSRF
//! token as `?csrf=`. The resource is made by `service::create`, exactly as through the API;
//! a problem brings the form back with the message and everything typed kept (a chosen file
//! must be chosen again: browsers never fill a file input).

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::{Form, RequestExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{
    Choice, Frame, Page, Words, flash, grade_choices, kind_choices, layout, signed_in,
    subject_choices, with_status,
};
use crate::auth::pages::see_other;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::{Layout, PageContext, render};
use crate::people::relations;
use crate::resources::service::{self, Input, Keywords, MAX_DESCRIPTION, MAX_TITLE};
use crate::resources::storage::{self, Spooled};
use crate::resources::{DEFAULT_LICENCE, access};
use crate::roster::entity::{class, person};
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

const HOME: &str = "/resources/new";

#[derive(Template)]
#[template(path = "resources/new.html")]
struct NewPage<'a> {
    page: Layout<'a>,
    w: Words<'a>,
    frame: Frame,
    csrf: String,
    form: Filled,
    subjects: Vec<Choice>,
    grades: Vec<Choice>,
    kinds: Vec<Choice>,
    scopes: Vec<Choice>,
    contents: Vec<Choice>,
    file_hint: String,
    licence_hint: String,
    max_title: usize,
    max_description: usize,
    error: Option<String>,
    /// A file had been chosen: say to choose it again.
    file_lost: bool,
}

/// What the form shows filled in, and what it posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filled {
    title: String,
    description: String,
    subject: String,
    grade: String,
    #[serde(rename = "type")]
    kind: String,
    edition: String,
    chapter: String,
    licence: String,
    keywords: String,
    scope: String,
    /// Which content is meant: `file`, `text` or `link`.
    content: String,
    text: String,
    url: String,
}

impl Filled {
    /// Take one text part of the multipart form; names that are no field (`csrf`) are ignored.
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "title" => &mut self.title,
            "description" => &mut self.description,
            "subject" => &mut self.subject,
            "grade" => &mut self.grade,
            "type" => &mut self.kind,
            "edition" => &mut self.edition,
            "chapter" => &mut self.chapter,
            "licence" => &mut self.licence,
            "keywords" => &mut self.keywords,
            "scope" => &mut self.scope,
            "content" => &mut self.content,
            "text" => &mut self.text,
            "url" => &mut self.url,
            _ => return,
        };
        *slot = value;
    }

    /// The service's input: fields left empty are not given (so the service says what is
    /// missing, and applies its defaults), and only the chosen content goes.
    fn input(&self) -> Input {
        let some = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
        Input {
            title: some(&self.title),
            description: some(&self.description),
            subject: some(&self.subject),
            stage: None,
            grade: some(&self.grade),
            edition: some(&self.edition),
            chapter: some(&self.chapter),
            kind: some(&self.kind),
            licence: some(&self.licence),
            keywords: some(&self.keywords).map(Keywords::Text),
            scope: some(&self.scope),
            text: (self.content == "text").then(|| self.text.clone()),
            url: (self.content == "link").then(|| self.url.clone()),
        }
    }
}

pub(super) async fn page(State(state): State<AppState>, ctx: PageContext) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    if !access::may_author(&state.db, me).await? {
        return Err(AppError::new(ErrorCode::Forbidden).into());
    }
    let form = Filled {
        scope: "school".to_owned(),
        content: "file".to_owned(),
        ..Filled::default()
    };
    show(&state, &ctx, me, form, None, false).await
}

/// Save the resource as a draft, then to its page (303); or the form again with the problem.
pub(super) async fn post(
    State(state): State<AppState>,
    ctx: PageContext,
    request: Request,
) -> Page {
    let me = &signed_in(&ctx, HOME)?.person;
    let (form, file) = read(&state, request).await?;
    let chose_file = file.is_some();
    let file = match (form.content.as_str(), file) {
        ("file", Some(spooled)) => Some(spooled),
        _ => None,
    };
    let created = match file.transpose() {
        Ok(file) => service::create(&state, me, form.input(), file).await,
        Err(err) => Err(err),
    };
    match created {
        Ok((r, _)) => Ok(see_other(&format!("/resources/{}", r.id))),
        Err(err) => {
            let f = flash(Words::new(ctx.tr(&state.i18n)), err)?;
            show(&state, &ctx, me, form, Some((f.text, f.status)), chose_file).await
        }
    }
}

/// The form's fields and its file (spooled, or why it was refused). The browser sends
/// `multipart/form-data`; a plain form post (no file) is read too.
async fn read(
    state: &AppState,
    request: Request,
) -> Result<(Filled, Option<Result<Spooled, AppError>>), AppError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let Form(form) = request
            .extract::<Form<Filled>, _>()
            .await
            .map_err(|e| unreadable(e.body_text()))?;
        return Ok((form, None));
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(AppError::new(ErrorCode::UnsupportedMediaType));
    }
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| unreadable(e.body_text()))?;
    let mut form = Filled::default();
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            // A file input left empty still sends a part, without a file name.
            let file_name = field.file_name().unwrap_or("").to_owned();
            if !file_name.is_empty() && file.is_none() {
                file = Some(storage::spool(state, &file_name, field).await);
            }
            continue;
        }
        let value = field.text().await.map_err(|e| unreadable(e.body_text()))?;
        form.set(&name, value);
    }
    Ok((form, file))
}

fn unreadable(hint: String) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", "body")
        .with_arg("hint", hint)
}

async fn show(
    state: &AppState,
    ctx: &PageContext,
    me: &person::Model,
    form: Filled,
    problem: Option<(String, StatusCode)>,
    file_lost: bool,
) -> Page {
    let w = Words::new(ctx.tr(&state.i18n));
    let content_labels = [
        ("file", "resources.new.content_file"),
        ("text", "resources.new.content_text"),
        ("link", "resources.new.content_link"),
    ];
    let status = problem.as_ref().map_or(StatusCode::OK, |(_, s)| *s);
    let max_mb = state.config.resource_max_size / (1024 * 1024);
    let template = NewPage {
        page: layout(ctx, state, "resources.new.title"),
        w,
        frame: Frame::new(state, me, "new").await?,
        csrf: ctx.csrf.clone(),
        subjects: subject_choices(w, &form.subject),
        grades: grade_choices(w, &form.grade),
        kinds: kind_choices(w, &form.kind),
        scopes: scopes(state, w, me, &form.scope).await?,
        contents: content_labels
            .iter()
            .map(|(value, key)| Choice::new(*value, w.say(key), &form.content))
            .collect(),
        file_hint: w.format("resources.new.file_hint", &[("max_mb", max_mb.to_string())]),
        licence_hint: w.format(
            "resources.new.licence_hint",
            &[("default", DEFAULT_LICENCE.to_owned())],
        ),
        max_title: MAX_TITLE,
        max_description: MAX_DESCRIPTION,
        error: problem.map(|(text, _)| text),
        file_lost: file_lost && status != StatusCode::OK,
        form,
    };
    Ok(with_status(status, render(&template, ctx.lang)))
}

/// Private, the school, the district, and each class the person teaches.
async fn scopes(
    state: &AppState,
    w: Words<'_>,
    me: &person::Model,
    chosen: &str,
) -> Result<Vec<Choice>, AppError> {
    let mut scopes: Vec<Choice> = ["private", "school", "district"]
        .into_iter()
        .map(|s| Choice::new(s, w.term("scope", s), chosen))
        .collect();
    let taught = relations::taught_classes(&state.db, me, false).await?;
    let mut classes = class::Entity::find()
        .filter(class::Column::Id.is_in(taught))
        .filter(class::Column::Status.eq(ACTIVE))
        .all(&state.db)
        .await?;
    classes.sort_by(|a, b| (&a.grades, &a.title).cmp(&(&b.grades, &b.title)));
    scopes.extend(classes.into_iter().map(|c| {
        Choice::new(
            format!("class:{}", c.sourced_id),
            w.format("resources.scope.class", &[("class", c.title)]),
            chosen,
        )
    }));
    Ok(scopes)
}
