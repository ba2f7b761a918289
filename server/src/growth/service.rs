//! A pupil's growth record: the timeline, adding an entry (selected work, a comment, an award,
//! an activity taken part in), removing one's own entry, and its files.
//!
//! Selected work is copied when it is chosen — the hand-in's text into the entry, its files'
//! object references into `growth_files` — so the record stands on its own whatever happens to
//! the assignment later.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use object_store::{GetResult, ObjectStoreExt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Standing};
use super::entity::{entry, file};
use super::sources::{self, Source};
use crate::activities::service::{
    self as activities, PersonRef, invalid, person_ref, render, text,
};
use crate::error::{AppError, ErrorCode};
use crate::markdown;
use crate::people::store;
use crate::roster::entity::person;
use crate::state::AppState;

pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;
/// The most entries the timeline answers with.
pub const TIMELINE_LIMIT: u64 = 500;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Work,
    Comment,
    Award,
    Activity,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Work, Kind::Comment, Kind::Award, Kind::Activity];

    pub fn parse(value: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == value.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Work => "work",
            Kind::Comment => "comment",
            Kind::Award => "award",
            Kind::Activity => "activity",
        }
    }

    /// As people read it, Chinese first.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Work => "作品 Work",
            Kind::Comment => "老师评语 Comment",
            Kind::Award => "奖项 Award",
            Kind::Activity => "活动 Activity",
        }
    }
}

/// `POST /api/v1/students/{sourcedId}/growth`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewEntry {
    /// `work`, `comment`, `award` or `activity`.
    #[schema(example = "award")]
    pub kind: String,
    /// Required, except for work and activities (their title is the assignment's or the
    /// activity's when left out).
    pub title: String,
    /// Markdown. For work, a note before the copied hand-in text.
    pub body: String,
    /// RFC 3339 or a local time; by default the hand-in's, the activity's start, or now.
    pub occurred_at: Option<String>,
    /// The submission's id, for work.
    pub submission: Option<String>,
    /// The activity's id, for an activity.
    pub activity: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = growth::FileView)]
pub struct FileView {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// Where it downloads.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntryView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub author: PersonRef,
    pub files: Vec<FileView>,
    pub submission: Option<String>,
    pub activity: Option<String>,
    /// The caller wrote it, so may remove it.
    pub may_remove: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudentRef {
    pub sourced_id: String,
    pub name: String,
    /// `active`, or `retired` when the pupil has left the roster.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MayGrowth {
    /// The kinds of entry the caller may add.
    pub add: Vec<String>,
    pub export: bool,
}

/// `GET /api/v1/students/{sourcedId}/growth`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Timeline {
    pub student: StudentRef,
    pub entries: Vec<EntryView>,
    pub may: MayGrowth,
}

/// For the spaces pages and the timeline: the pupil's entries newest first, with their
/// authors and files. Three queries. The caller has decided the viewer may see them.
pub async fn timeline(
    db: &impl ConnectionTrait,
    student_id: &str,
    limit: u64,
) -> Result<Vec<EntryView>, DbErr> {
    let entries = entry::Entity::find()
        .filter(entry::Column::StudentId.eq(student_id))
        .filter(entry::Column::RemovedAt.is_null())
        .order_by_desc(entry::Column::OccurredAt)
        .order_by_desc(entry::Column::CreatedAt)
        .order_by_desc(entry::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut files: HashMap<String, Vec<file::Model>> = HashMap::new();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    for chunk in ids.chunks(400) {
        for f in file::Entity::find()
            .filter(file::Column::EntryId.is_in(chunk.iter().cloned()))
            .order_by_asc(file::Column::CreatedAt)
            .order_by_asc(file::Column::Id)
            .all(db)
            .await?
        {
            files.entry(f.entry_id.clone()).or_default().push(f);
        }
    }
    let authors =
        store::people_by_id(db, entries.iter().map(|e| e.author_id.clone()).collect()).await?;
    Ok(entries
        .into_iter()
        .map(|e| EntryView {
            files: files
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .map(|f| FileView {
                    url: format!("/api/v1/growth/{}/files/{}", e.id, f.id),
                    id: f.id,
                    name: f.file_name,
                    content_type: f.content_type,
                    size: f.size,
                })
                .collect(),
            author: person_ref(authors.get(&e.author_id)),
            body_html: render(&e.body),
            id: e.id,
            kind: e.kind,
            title: e.title,
            body: e.body,
            occurred_at: e.occurred_at,
            created_at: e.created_at,
            submission: e.submission_id,
            activity: e.activity_id,
            may_remove: false,
        })
        .collect())
}

/// The kinds `st`'s viewer may add at all (work and activities also depend on the item).
pub fn addable(st: &Standing) -> Vec<Kind> {
    let mut kinds = Vec::new();
    if st.own || st.teacher {
        kinds.push(Kind::Work);
    }
    if st.comments() {
        kinds.push(Kind::Comment);
        kinds.push(Kind::Award);
    }
    if st.own || st.teacher || st.admin {
        kinds.push(Kind::Activity);
    }
    kinds
}

/// `GET /api/v1/students/{sourcedId}/growth`.
pub async fn view(
    state: &AppState,
    viewer: &person::Model,
    student: &str,
) -> Result<Timeline, AppError> {
    let st = access::visible(state, viewer, student).await?;
    let mut entries = timeline(&state.db, &st.student.id, TIMELINE_LIMIT).await?;
    for e in &mut entries {
        e.may_remove = e.author.sourced_id == viewer.sourced_id;
    }
    Ok(Timeline {
        student: StudentRef {
            sourced_id: st.student.sourced_id.clone(),
            name: st.student.display_name.clone(),
            status: if st.student.status == "active" {
                "active"
            } else {
                "retired"
            }
            .to_owned(),
        },
        entries,
        may: MayGrowth {
            add: addable(&st)
                .into_iter()
                .map(|k| k.as_str().to_owned())
                .collect(),
            export: st.exports(),
        },
    })
}

/// `POST /api/v1/students/{sourcedId}/growth`.
pub async fn add(
    state: &AppState,
    caller: &person::Model,
    student: &str,
    input: &NewEntry,
) -> Result<entry::Model, AppError> {
    let st = access::visible(state, caller, student).await?;
    let kind = Kind::parse(&input.kind).ok_or_else(|| {
        invalid(
            "kind",
            "应为 work、comment、award 或 activity / use work, comment, award or activity",
        )
    })?;
    if st.guardian && !(st.own || st.teacher || st.admin) {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let note = text("body", &input.body, MAX_BODY, kind == Kind::Comment)?;
    let source = match kind {
        Kind::Work => sources::work(state, caller, &st, input, &note).await?,
        Kind::Activity => sources::took_part(state, caller, &st, input, &note).await?,
        Kind::Comment | Kind::Award => {
            if !st.comments() {
                return Err(AppError::new(ErrorCode::Forbidden));
            }
            Source {
                title: String::new(),
                body: note,
                occurred_at: state.clock.now(),
                submission: None,
                activity: None,
                files: Vec::new(),
            }
        }
    };
    let title = match text("title", &input.title, MAX_TITLE, false)? {
        t if t.is_empty() && source.title.is_empty() => {
            return Err(invalid("title", "请填写标题 / give a title"));
        }
        t if t.is_empty() => source.title.clone(),
        t => t,
    };
    if kind != Kind::Work {
        markdown::render(&source.body).map_err(|r| r.into_error("body"))?;
    }
    let occurred_at = match activities::given(&input.occurred_at) {
        Some(v) => activities::parse_time("occurred_at", v, state.config.time_zone)?,
        None => source.occurred_at,
    };
    let now = state.clock.now();
    let model = entry::Model {
        id: uuid::Uuid::now_v7().to_string(),
        student_id: st.student.id.clone(),
        kind: kind.as_str().to_owned(),
        title,
        body: source.body,
        submission_id: source.submission,
        activity_id: source.activity,
        author_id: caller.id.clone(),
        occurred_at,
        created_at: now,
        removed_at: None,
    };
    let txn = state.db.begin().await?;
    entry::Entity::insert(entry::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    for f in source.files {
        file::Entity::insert(file::ActiveModel::from(file::Model {
            id: uuid::Uuid::now_v7().to_string(),
            entry_id: model.id.clone(),
            object_key: f.object_key,
            file_name: f.file_name,
            content_type: f.content_type,
            size: f.size,
            created_at: now,
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// The entry, if `viewer` may see the pupil's record (removed entries are not found).
async fn visible_entry(
    state: &AppState,
    viewer: &person::Model,
    id: &str,
) -> Result<(entry::Model, Standing), AppError> {
    let e = entry::Entity::find_by_id(id.to_owned())
        .one(&state.db)
        .await?
        .filter(|e| e.removed_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let student = person::Entity::find_by_id(e.student_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(AppError::not_found)?;
    let st = access::standing(&state.db, viewer, student).await?;
    if !st.sees() {
        return Err(AppError::not_found());
    }
    Ok((e, st))
}

/// `POST /api/v1/growth/{entry_id}/remove`: its author hides it (kept, with the time).
pub async fn remove(
    state: &AppState,
    caller: &person::Model,
    id: &str,
) -> Result<entry::Model, AppError> {
    let (e, _) = visible_entry(state, caller, id).await?;
    if e.author_id != caller.id {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let mut active = e.into_active_model();
    active.removed_at = sea_orm::Set(Some(state.clock.now()));
    Ok(active.update(&state.db).await?)
}

/// `GET /api/v1/growth/{entry_id}/files/{file_id}`: a file of an entry, for those who see
/// the record.
pub async fn file(
    state: &AppState,
    viewer: &person::Model,
    entry_id: &str,
    file_id: &str,
) -> Result<(file::Model, GetResult), AppError> {
    let (e, _) = visible_entry(state, viewer, entry_id).await?;
    let f = file::Entity::find_by_id(file_id.to_owned())
        .one(&state.db)
        .await?
        .filter(|f| f.entry_id == e.id)
        .ok_or_else(AppError::not_found)?;
    let got = state
        .objects
        .get(&ObjectPath::from(f.object_key.as_str()))
        .await
        .map_err(AppError::internal)?;
    Ok((f, got))
}
