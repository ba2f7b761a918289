//! Creating and editing resources, and what a person may read of one.
//!
//! Edits go to the working version: the latest one while it is a draft or was returned; once
//! the latest is published (or retired), an edit starts a new version, which is reviewed while
//! the published one stays in the library.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::access;
use super::entity::{event, resource, review, version};
use super::storage::{self, Spooled};
use super::{DEFAULT_LICENCE, GRADES, KINDS, SUBJECTS, State, extract, outbox, stage_of};
use crate::error::{AppError, ErrorCode};
use crate::people::relations;
use crate::roster::entity::person;
use crate::state::AppState;

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 5_000;
pub const MAX_TEXT: usize = 1_000_000;

/// Keywords as a list or as one string separated by commas, 、 or spaces.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Keywords {
    List(Vec<String>),
    Text(String),
}

impl Keywords {
    fn normalized(&self) -> String {
        let words: Vec<String> = match self {
            Keywords::List(list) => list.clone(),
            Keywords::Text(text) => text
                .split([',', '，', '、', ';', '；', ' ', '\n'])
                .map(str::to_owned)
                .collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for w in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
            if !out.iter().any(|o| o == w) {
                out.push(w.chars().take(40).collect());
            }
        }
        out.truncate(20);
        out.join(",")
    }
}

/// The metadata and content fields of a create or an edit; all optional on an edit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ResourceInput)]
pub struct Input {
    /// Up to 200 characters; required on a create.
    pub title: Option<String>,
    pub description: Option<String>,
    /// A subject's Chinese name (`GET /api/v1/resources/vocabulary`).
    pub subject: Option<String>,
    pub stage: Option<String>,
    /// A grade code, `01`–`12`.
    pub grade: Option<String>,
    /// The textbook edition, e.g. 人教版.
    pub edition: Option<String>,
    pub chapter: Option<String>,
    /// The resource type's Chinese name (see the vocabulary).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub licence: Option<String>,
    pub keywords: Option<Keywords>,
    /// `private`, `class:<sourcedId>`, `school` or `district`.
    pub scope: Option<String>,
    /// The content as text (Markdown), instead of a file or a link.
    pub text: Option<String>,
    /// The content as a link, instead of a file or text.
    pub url: Option<String>,
}

impl Input {
    /// Set a field from a multipart text part; false for a name that is no field.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "title" => &mut self.title,
            "description" => &mut self.description,
            "subject" => &mut self.subject,
            "stage" => &mut self.stage,
            "grade" => &mut self.grade,
            "edition" => &mut self.edition,
            "chapter" => &mut self.chapter,
            "type" => &mut self.kind,
            "licence" | "license" => &mut self.licence,
            "scope" => &mut self.scope,
            "text" => &mut self.text,
            "url" => &mut self.url,
            "keywords" => {
                self.keywords = Some(Keywords::Text(value));
                return true;
            }
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

fn invalid(field: &str, hint: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidField)
        .with_arg("field", field.to_owned())
        .with_arg("hint", hint)
}

/// A grade as the roster codes it; `8` is read as `08`.
pub fn parse_grade(value: &str) -> Result<String, AppError> {
    let v = value.trim();
    let v = if v.len() == 1 {
        format!("0{v}")
    } else {
        v.to_owned()
    };
    if GRADES.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(invalid(
            "grade",
            format!(
                "“{value}”不是年级代码，应为 01–12 / \"{value}\" is not a grade code: use 01–12"
            ),
        ))
    }
}

pub fn parse_subject(value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if SUBJECTS.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(invalid(
            "subject",
            format!(
                "“{value}”不是学科名称，可用：{} / \"{value}\" is not a subject; see GET /api/v1/resources/vocabulary",
                SUBJECTS.join("、")
            ),
        ))
    }
}

pub fn parse_kind(value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if KINDS.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(invalid(
            "type",
            format!(
                "“{value}”不是资源类型，可用：{} / \"{value}\" is not a resource type",
                KINDS.join("、")
            ),
        ))
    }
}

/// The checked scope, with the class it names (which the author must teach or manage).
async fn parse_scope(
    state: &AppState,
    author: &person::Model,
    value: &str,
) -> Result<(String, Option<String>), AppError> {
    let v = value.trim();
    match v {
        "private" | "school" | "district" => return Ok((v.to_owned(), None)),
        _ => {}
    }
    let Some(sourced_id) = v.strip_prefix("class:").filter(|s| !s.is_empty()) else {
        return Err(invalid(
            "scope",
            format!(
                "“{value}”不是共享范围，应为 private、class:<班级编号>、school 或 district / use private, class:<sourcedId>, school or district"
            ),
        ));
    };
    let class = relations::class_by_sourced_id(&state.db, sourced_id).await?;
    let Some(class) = class else {
        return Err(invalid(
            "scope",
            format!("没有编号为 {sourced_id} 的班级 / no class {sourced_id}"),
        ));
    };
    if !(relations::teaches(&state.db, author, &class.id).await?
        || relations::manages_class(&state.db, author, &class).await?)
    {
        return Err(invalid(
            "scope",
            format!(
                "您不任教班级 {sourced_id}，不能共享给它 / you do not teach class {sourced_id}"
            ),
        ));
    }
    Ok((format!("class:{sourced_id}"), Some(class.id)))
}

fn text_field(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    let len = v.chars().count();
    if len > max {
        return Err(invalid(
            field,
            format!("最多 {max} 个字，现在 {len} 个 / at most {max} characters, got {len}"),
        ));
    }
    Ok(v.to_owned())
}

/// Apply `input` to a version's fields, checking each. `file` replaces the content.
async fn apply(
    state: &AppState,
    author: &person::Model,
    v: &mut version::Model,
    input: &Input,
    file: Option<&Spooled>,
    creating: bool,
) -> Result<(), AppError> {
    if let Some(title) = &input.title {
        let t = text_field("title", title, MAX_TITLE)?;
        if t.is_empty() {
            return Err(invalid("title", "标题不能为空 / the title is empty"));
        }
        v.title = t;
    } else if creating {
        return Err(invalid("title", "标题不能为空 / the title is empty"));
    }
    if let Some(d) = &input.description {
        v.description = text_field("description", d, MAX_DESCRIPTION)?;
    }
    match &input.subject {
        Some(s) => v.subject = parse_subject(s)?,
        None if creating => return Err(invalid("subject", "请选择学科 / choose a subject")),
        None => {}
    }
    match &input.grade {
        Some(g) => v.grade = parse_grade(g)?,
        None if creating => {
            return Err(invalid(
                "grade",
                "请选择年级（01–12）/ choose a grade (01–12)",
            ));
        }
        None => {}
    }
    let stage = stage_of(&v.grade);
    if let Some(s) = input
        .stage
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && s != stage
    {
        return Err(invalid(
            "stage",
            format!(
                "年级 {} 属于{stage}，与“{s}”不符 / grade {} is in {stage}",
                v.grade, v.grade
            ),
        ));
    }
    v.stage = stage.to_owned();
    match &input.kind {
        Some(k) => v.kind = parse_kind(k)?,
        None if creating => {
            return Err(invalid(
                "type",
                format!("请选择资源类型：{} / choose a type", KINDS.join("、")),
            ));
        }
        None => {}
    }
    if let Some(e) = &input.edition {
        v.edition = text_field("edition", e, 60)?;
    }
    if let Some(c) = &input.chapter {
        v.chapter = text_field("chapter", c, 200)?;
    }
    if let Some(l) = &input.licence {
        let l = text_field("licence", l, 200)?;
        v.licence = if l.is_empty() {
            DEFAULT_LICENCE.to_owned()
        } else {
            l
        };
    }
    if let Some(k) = &input.keywords {
        v.keywords = k.normalized();
    }
    if let Some(scope) = &input.scope {
        let (scope, class_id) = parse_scope(state, author, scope).await?;
        v.scope = scope;
        v.scope_class_id = class_id;
    }
    let given = usize::from(file.is_some())
        + usize::from(input.text.is_some())
        + usize::from(input.url.is_some());
    if given > 1 {
        return Err(invalid(
            "file / text / url",
            "内容只能是文件、正文或链接之一 / give one of file, text or url",
        ));
    }
    if given == 0 && creating {
        return Err(invalid(
            "file / text / url",
            "请上传文件，或填写正文或链接 / upload a file, or give text or a url",
        ));
    }
    if let Some(text) = &input.text {
        let t = text_field("text", text, MAX_TEXT)?;
        if t.is_empty() {
            return Err(invalid("text", "正文不能为空 / the text is empty"));
        }
        set_content(v, "text");
        v.body = Some(t);
    }
    if let Some(url) = &input.url {
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        let Some(parsed) = parsed else {
            return Err(invalid(
                "url",
                format!("“{url}”不是 http(s) 链接 / \"{url}\" is not an http(s) link"),
            ));
        };
        set_content(v, "link");
        v.url = Some(parsed.to_string());
    }
    if let Some(file) = file {
        set_content(v, "file");
        let path = file.file.to_path_buf();
        let content_type = file.content_type.clone();
        let name = file.name.clone();
        v.extracted =
            tokio::task::spawn_blocking(move || extract::extract_text(&path, &content_type, &name))
                .await
                .map_err(AppError::internal)?;
        v.blob_hash = Some(file.hash.clone());
        v.file_name = Some(file.name.clone());
        v.content_type = Some(file.content_type.clone());
        v.size = Some(file.size as i64);
    }
    Ok(())
}

fn set_content(v: &mut version::Model, kind: &str) {
    v.content_kind = kind.to_owned();
    v.blob_hash = None;
    v.file_name = None;
    v.content_type = None;
    v.size = None;
    v.url = None;
    v.body = None;
    v.extracted = None;
}

/// One step of a resource's life: what happened, between which states, and why.
pub(super) struct Step<'a> {
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub reason: Option<String>,
}

pub(super) fn event(
    r: &resource::Model,
    v: Option<&version::Model>,
    actor: &person::Model,
    step: Step<'_>,
    at: DateTime<Utc>,
) -> event::ActiveModel {
    let Step {
        action,
        from,
        to,
        reason,
    } = step;
    event::Model {
        id: uuid::Uuid::now_v7().to_string(),
        resource_id: r.id.clone(),
        version_id: v.map(|v| v.id.clone()),
        actor_id: actor.id.clone(),
        action: action.to_owned(),
        from_state: from.map(str::to_owned),
        to_state: to.to_owned(),
        reason,
        at,
    }
    .into_active_model()
}

/// `POST /api/v1/resources`: a new resource, as a draft of its author.
pub async fn create(
    state: &AppState,
    author: &person::Model,
    input: Input,
    file: Option<Spooled>,
) -> Result<(resource::Model, version::Model), AppError> {
    if !access::may_author(&state.db, author).await? {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let now = state.clock.now();
    let resource_id = uuid::Uuid::now_v7().to_string();
    let mut v = version::Model {
        id: uuid::Uuid::now_v7().to_string(),
        resource_id: resource_id.clone(),
        number: 1,
        state: State::Draft.as_str().to_owned(),
        title: String::new(),
        description: String::new(),
        subject: String::new(),
        stage: String::new(),
        grade: String::new(),
        edition: String::new(),
        chapter: String::new(),
        kind: String::new(),
        licence: DEFAULT_LICENCE.to_owned(),
        keywords: String::new(),
        scope: "school".to_owned(),
        scope_class_id: None,
        org_id: String::new(),
        content_kind: String::new(),
        blob_hash: None,
        file_name: None,
        content_type: None,
        size: None,
        url: None,
        body: None,
        extracted: None,
        checks: None,
        pledged_at: None,
        submitted_at: None,
        reviewed_by: None,
        reviewed_at: None,
        created_by: author.id.clone(),
        created_at: now,
        updated_at: now,
    };
    apply(state, author, &mut v, &input, file.as_ref(), true).await?;
    let org_id = access::ingesting_org(&state.db, author, &v.scope)
        .await?
        .ok_or_else(|| {
            invalid(
                "scope",
                "名册中您不属于任何学校或机构 / the roster places you in no school or organisation",
            )
        })?;
    v.org_id = org_id.clone();
    if let Some(file) = &file {
        storage::store(state, file).await?;
    }
    let r = resource::Model {
        id: resource_id,
        owner_id: author.id.clone(),
        org_id,
        state: State::Draft.as_str().to_owned(),
        published_version_id: None,
        latest_version_id: v.id.clone(),
        view_count: 0,
        download_count: 0,
        lesson_count: 0,
        created_at: now,
        updated_at: now,
        published_at: None,
        retired_at: None,
    };
    let txn = state.db.begin().await?;
    resource::Entity::insert(r.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    version::Entity::insert(v.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    event::Entity::insert(event(
        &r,
        Some(&v),
        author,
        Step {
            action: "created",
            from: None,
            to: "draft",
            reason: None,
        },
        now,
    ))
    .exec_without_returning(&txn)
    .await?;
    outbox::record(&txn, &r.id, now).await?;
    txn.commit().await?;
    state.search.wake.notify_one();
    Ok((r, v))
}

/// The resource and its versions, newest first.
pub async fn load(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<(resource::Model, Vec<version::Model>)>, AppError> {
    let Some(r) = resource::Entity::find_by_id(id.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let versions = version::Entity::find()
        .filter(version::Column::ResourceId.eq(id))
        .order_by_desc(version::Column::Number)
        .all(db)
        .await?;
    Ok(Some((r, versions)))
}

/// Edit the working version (or start a new version of a published one). Only the owner, and
/// only while the latest version is not waiting for review.
pub async fn save(
    state: &AppState,
    author: &person::Model,
    id: &str,
    input: Input,
    file: Option<Spooled>,
) -> Result<(resource::Model, version::Model, bool), AppError> {
    let (r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if r.owner_id != author.id {
        return Err(hidden_or_forbidden(state, author, &r).await?);
    }
    let latest = versions.first().cloned().ok_or_else(AppError::not_found)?;
    let now = state.clock.now();
    let latest_state = State::parse(&latest.state);
    let (mut v, new_version) = match latest_state {
        Some(State::Draft | State::Rejected) => (latest.clone(), false),
        Some(State::Published | State::Retired | State::Superseded) => {
            let mut next = latest.clone();
            next.id = uuid::Uuid::now_v7().to_string();
            next.number = latest.number + 1;
            next.checks = None;
            next.pledged_at = None;
            next.submitted_at = None;
            next.reviewed_by = None;
            next.reviewed_at = None;
            next.created_by = author.id.clone();
            next.created_at = now;
            (next, true)
        }
        _ => {
            return Err(AppError::new(ErrorCode::InvalidState)
                .with_arg("state", State::InReview.label())
                .with_arg(
                    "action",
                    "修改（请先撤回审核）/ edited (withdraw it from review first)",
                ));
        }
    };
    apply(state, author, &mut v, &input, file.as_ref(), false).await?;
    v.state = State::Draft.as_str().to_owned();
    v.updated_at = now;
    let org_id = access::ingesting_org(&state.db, author, &v.scope)
        .await?
        .unwrap_or_else(|| r.org_id.clone());
    v.org_id = org_id.clone();
    if let Some(file) = &file {
        storage::store(state, file).await?;
    }
    let txn = state.db.begin().await?;
    if new_version {
        version::Entity::insert(v.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
    } else {
        let active = v.clone().into_active_model().reset_all();
        active.update(&txn).await?;
    }
    let mut updated = r.clone();
    updated.latest_version_id = v.id.clone();
    updated.updated_at = now;
    updated.org_id = org_id;
    if updated.published_version_id.is_none() {
        updated.state = State::Draft.as_str().to_owned();
    }
    let active = updated.clone().into_active_model().reset_all();
    active.update(&txn).await?;
    event::Entity::insert(event(
        &updated,
        Some(&v),
        author,
        Step {
            action: if new_version { "new_version" } else { "edited" },
            from: Some(latest.state.as_str()),
            to: "draft",
            reason: None,
        },
        now,
    ))
    .exec_without_returning(&txn)
    .await?;
    outbox::record(&txn, &r.id, now).await?;
    txn.commit().await?;
    state.search.wake.notify_one();
    Ok((updated, v, new_version))
}

/// What a person learns about a resource they may not see: nothing (404), whether or not it
/// exists.
pub async fn hidden_or_forbidden(
    state: &AppState,
    viewer: &person::Model,
    r: &resource::Model,
) -> Result<AppError, AppError> {
    let tokens = access::tokens(state, viewer).await?;
    let sees = match &r.published_version_id {
        Some(pid) => match version::Entity::find_by_id(pid.clone())
            .one(&state.db)
            .await?
        {
            Some(p) => access::sees_published(r, &p, &tokens),
            None => false,
        },
        None => false,
    };
    Ok(
        if sees || access::reviews_for(&state.db, viewer, &r.org_id).await? {
            AppError::new(ErrorCode::Forbidden)
        } else {
            AppError::not_found()
        },
    )
}

/// How a person stands to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub owner: bool,
    pub reviewer: bool,
    /// May see the published version.
    pub reader: bool,
}

impl Standing {
    pub fn sees_working(&self) -> bool {
        self.owner || self.reviewer
    }
}

pub async fn standing(
    state: &AppState,
    viewer: &person::Model,
    r: &resource::Model,
    versions: &[version::Model],
) -> Result<Standing, AppError> {
    let owner = r.owner_id == viewer.id;
    let reviewer = access::reviews_for(&state.db, viewer, &r.org_id).await?;
    let tokens = access::tokens(state, viewer).await?;
    let reader = published(r, versions).is_some_and(|p| access::sees_published(r, p, &tokens));
    Ok(Standing {
        owner,
        reviewer,
        reader,
    })
}

pub fn published<'a>(
    r: &resource::Model,
    versions: &'a [version::Model],
) -> Option<&'a version::Model> {
    r.published_version_id
        .as_ref()
        .and_then(|id| versions.iter().find(|v| &v.id == id))
}

/// One version of a resource: its metadata and content.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    pub number: i32,
    /// `draft`, `in_review`, `rejected`, `published`, `superseded` or `retired`.
    pub state: String,
    /// The state as people read it, Chinese first.
    pub state_label: &'static str,
    pub title: String,
    pub description: String,
    pub subject: String,
    pub stage: String,
    pub grade: String,
    pub edition: String,
    pub chapter: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub licence: String,
    pub keywords: Vec<String>,
    pub scope: String,
    pub content: ContentView,
    /// The machine check's findings (see `Findings`), for the owner and reviewers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::check::Findings>)]
    pub checks: Option<serde_json::Value>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContentView {
    /// `file`, `text` or `url`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Whether text was extracted from the file for search.
    pub searchable_text: bool,
}

pub fn version_view(v: &version::Model, with_checks: bool) -> VersionView {
    VersionView {
        number: v.number,
        state: v.state.clone(),
        state_label: State::parse(&v.state).map(State::label).unwrap_or(""),
        title: v.title.clone(),
        description: v.description.clone(),
        subject: v.subject.clone(),
        stage: v.stage.clone(),
        grade: v.grade.clone(),
        edition: v.edition.clone(),
        chapter: v.chapter.clone(),
        kind: v.kind.clone(),
        licence: v.licence.clone(),
        keywords: v
            .keywords
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect(),
        scope: v.scope.clone(),
        content: ContentView {
            kind: v.content_kind.clone(),
            file_name: v.file_name.clone(),
            content_type: v.content_type.clone(),
            size: v.size,
            url: v.url.clone(),
            text: v.body.clone(),
            searchable_text: v.content_kind != "file" || v.extracted.is_some(),
        },
        checks: if with_checks {
            v.checks
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
        } else {
            None
        },
        submitted_at: v.submitted_at,
        reviewed_at: v.reviewed_at,
        updated_at: v.updated_at,
    }
}

/// A reviewer's verdict on a version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub version: i32,
    pub reviewer: String,
    pub decision: String,
    pub political: String,
    pub scientific: String,
    pub safety: String,
    pub comment: String,
    pub scope: String,
    pub at: DateTime<Utc>,
}

/// A step of a resource's life (submitted, approved, retired…).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ResourceEvent)]
pub struct EventView {
    pub action: String,
    pub actor: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// `GET /api/v1/resources/{id}`: readers see the published version; the owner and the
/// reviewers also see the working version, the reviews and the lifecycle. Anyone else: 404.
/// With `count_view`, a reader other than the owner opening it counts as a view.
pub async fn detail(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
    count_view: bool,
) -> Result<serde_json::Value, AppError> {
    let (r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let standing = standing(state, viewer, &r, &versions).await?;
    if !standing.reader && !standing.sees_working() {
        return Err(AppError::not_found());
    }
    if count_view && standing.reader && !standing.owner {
        super::usage::record(state, viewer, &r.id, super::usage::Use::View).await?;
    }
    let owners = names(&state.db, std::iter::once(r.owner_id.clone())).await?;
    let owner = owners.get(&r.owner_id).cloned().unwrap_or_default();
    let published = published(&r, &versions);
    let mut out = serde_json::json!({
        "id": r.id,
        "state": r.state,
        "state_label": State::parse(&r.state).map(State::label).unwrap_or(""),
        "owner": {"sourced_id": owner.0, "name": owner.1},
        "published": published.map(|p| version_view(p, false)),
        "usage": {"views": r.view_count, "downloads": r.download_count, "lessons": r.lesson_count},
        "created_at": r.created_at,
        "published_at": r.published_at,
        "retired_at": r.retired_at,
        "may": {
            "edit": standing.owner,
            "review": standing.reviewer && versions.first().is_some_and(|v| v.state == "in_review"),
            "retire": (standing.owner || standing.reviewer) && r.state == "published",
        },
    });
    if standing.sees_working() {
        let reviews = review::Entity::find()
            .filter(review::Column::ResourceId.eq(r.id.as_str()))
            .order_by_desc(review::Column::At)
            .all(&state.db)
            .await?;
        let events = event::Entity::find()
            .filter(event::Column::ResourceId.eq(r.id.as_str()))
            .order_by_asc(event::Column::At)
            .all(&state.db)
            .await?;
        let people = names(
            &state.db,
            reviews
                .iter()
                .map(|x| x.reviewer_id.clone())
                .chain(events.iter().map(|e| e.actor_id.clone())),
        )
        .await?;
        let name = |id: &str| people.get(id).map(|p| p.1.clone()).unwrap_or_default();
        let number = |vid: &str| {
            versions
                .iter()
                .find(|v| v.id == vid)
                .map(|v| v.number)
                .unwrap_or(0)
        };
        out["working"] = serde_json::to_value(versions.first().map(|v| version_view(v, true)))
            .map_err(AppError::internal)?;
        out["reviews"] = serde_json::to_value(
            reviews
                .iter()
                .map(|x| ReviewView {
                    version: number(&x.version_id),
                    reviewer: name(&x.reviewer_id),
                    decision: x.decision.clone(),
                    political: x.political.clone(),
                    scientific: x.scientific.clone(),
                    safety: x.safety.clone(),
                    comment: x.comment.clone(),
                    scope: x.scope.clone(),
                    at: x.at,
                })
                .collect::<Vec<_>>(),
        )
        .map_err(AppError::internal)?;
        out["events"] = serde_json::to_value(
            events
                .iter()
                .map(|e| EventView {
                    action: e.action.clone(),
                    actor: name(&e.actor_id),
                    from_state: e.from_state.clone(),
                    to_state: e.to_state.clone(),
                    reason: e.reason.clone(),
                    at: e.at,
                })
                .collect::<Vec<_>>(),
        )
        .map_err(AppError::internal)?;
        out["versions"] = serde_json::to_value(
            versions
                .iter()
                .map(|v| serde_json::json!({"number": v.number, "state": v.state, "updated_at": v.updated_at}))
                .collect::<Vec<_>>(),
        )
        .map_err(AppError::internal)?;
    }
    Ok(out)
}

/// The file of a version for `viewer`: readers get the published version's (and only it);
/// the owner and the reviewers any version's (`number`), by default the published one or the
/// latest. Anyone else, or a version without a file: 404. A reader's download is counted.
pub async fn file(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
    number: Option<i32>,
) -> Result<
    (
        version::Model,
        super::entity::blob::Model,
        object_store::GetResult,
    ),
    AppError,
> {
    let (r, versions) = load(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let standing = standing(state, viewer, &r, &versions).await?;
    let v = if standing.sees_working() {
        match number {
            Some(n) => versions.iter().find(|v| v.number == n),
            None => published(&r, &versions).or(versions.first()),
        }
    } else if standing.reader {
        published(&r, &versions).filter(|p| number.is_none_or(|n| n == p.number))
    } else {
        None
    }
    .cloned()
    .ok_or_else(AppError::not_found)?;
    let hash = v.blob_hash.clone().ok_or_else(AppError::not_found)?;
    let (blob, got) = storage::open(state, &hash).await?;
    if !standing.owner {
        super::usage::record(state, viewer, id, super::usage::Use::Download).await?;
    }
    Ok((v, blob, got))
}

/// Person id → (sourcedId, display name).
pub async fn names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = String>,
) -> Result<std::collections::HashMap<String, (String, String)>, AppError> {
    let mut ids: Vec<String> = ids.collect();
    ids.sort();
    ids.dedup();
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), (p.sourced_id, p.display_name)))
        .collect())
}
