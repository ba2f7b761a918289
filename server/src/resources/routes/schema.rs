//! Shapes of the answers the resources API builds as JSON values, for the OpenAPI document
//! only (nothing constructs these types). Each mirrors the code named in its comment; keep them
//! together when either changes.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use utoipa::ToSchema;

use crate::http::openapi::Binary;
use crate::resources::service::{EventView, ReviewView, VersionView};

// Mirrors `resources::vocabulary()`.
/// The lists a resource's metadata is chosen from.
#[derive(ToSchema)]
#[schema(examples(crate::resources::vocabulary))]
pub struct Vocabulary {
    /// Subjects by their Chinese names.
    subjects: Vec<String>,
    /// Grade codes with their stage (小学, 初中, 高中).
    grades: Vec<Grade>,
    /// Resource types by their Chinese names.
    types: Vec<String>,
    /// The sharing scopes: `private`, `class:<sourcedId>`, `school`, `district`.
    scopes: Vec<String>,
    /// The licence of a resource whose author names none.
    licence_default: String,
}

#[derive(ToSchema)]
pub struct Grade {
    /// `01`–`12`.
    code: String,
    stage: String,
}

// Mirrors `service::detail`.
/// A resource. `working`, `reviews`, `events` and `versions` are there for the author and the
/// reviewers only.
#[derive(ToSchema)]
pub struct ResourceDetail {
    id: String,
    /// The resource's state in the library.
    state: String,
    state_label: String,
    owner: Owner,
    /// The version readers see; null before the first approval.
    published: Option<VersionView>,
    usage: Usage,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    retired_at: Option<DateTime<Utc>>,
    /// What the caller may do.
    may: May,
    /// The latest version, with its machine check (author and reviewers).
    #[serde(skip_serializing_if = "Option::is_none")]
    working: Option<VersionView>,
    /// Newest first (author and reviewers).
    #[serde(skip_serializing_if = "Option::is_none")]
    reviews: Option<Vec<ReviewView>>,
    /// The lifecycle, oldest first (author and reviewers).
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<EventView>>,
    /// Every version, newest first (author and reviewers).
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<VersionLine>>,
}

#[derive(ToSchema)]
#[schema(as = ResourceOwner)]
pub struct Owner {
    sourced_id: String,
    name: String,
}

#[derive(ToSchema)]
#[schema(as = ResourceUsage)]
pub struct Usage {
    views: i64,
    downloads: i64,
    /// Times teachers recorded using it in a lesson.
    lessons: i64,
}

#[derive(ToSchema)]
#[schema(as = ResourceMay)]
pub struct May {
    edit: bool,
    review: bool,
    retire: bool,
}

#[derive(ToSchema)]
pub struct VersionLine {
    number: i32,
    state: String,
    updated_at: DateTime<Utc>,
}

/// A multipart upload: the `file` part and the metadata as text parts (names as in
/// `ResourceInput`; `keywords` separated by commas, 、 or spaces).
#[derive(ToSchema)]
pub struct ResourceForm {
    /// At most one file; its type is decided by its content.
    file: Option<Binary>,
    title: Option<String>,
    description: Option<String>,
    subject: Option<String>,
    stage: Option<String>,
    grade: Option<String>,
    edition: Option<String>,
    chapter: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    licence: Option<String>,
    keywords: Option<String>,
    scope: Option<String>,
    text: Option<String>,
    url: Option<String>,
}

// Mirrors `routes::run_search`.
/// Search results, best first (or as sorted).
#[derive(ToSchema)]
pub struct SearchResults {
    hits: Vec<SearchHit>,
    /// Per facet (`subject`, `grade`, `type`, `edition`): value → number of hits.
    facets: BTreeMap<String, BTreeMap<String, u64>>,
    total: usize,
    /// Pass as `cursor` for the next page; null on the last.
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct SearchHit {
    id: String,
    title: String,
    /// HTML: the text escaped, the matches in `<mark>`.
    snippet: String,
    subject: String,
    grade: String,
    #[serde(rename = "type")]
    kind: String,
    edition: String,
    score: f32,
}
