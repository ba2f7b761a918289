//! Teaching resources (教学资源): intake with review built in, a whole lifecycle, sharing by
//! scope, usage, follows, and the data the search index is derived from.
//!
//! "Whoever ingests a resource is responsible for reviewing it" (谁接入谁负责): a resource is
//! ingested by its author's school (or by the district when shared district-wide), and only that
//! organisation's administrators and granted reviewers review it, on three dimensions
//! (政治性, 科学性, 安全性). The lifecycle is
//! draft → submitted (with the author's pledge) → machine check → human review →
//! published (入库) → retired (出库); a rejection returns it to the author with comments, and a
//! new version of a published resource is reviewed while the old one stays published.
//! Nothing is hard-deleted by a normal action.

pub mod access;
pub mod check;
pub mod demo;
pub mod entity;
pub mod extract;
pub mod index;
pub mod lifecycle;
pub mod outbox;
pub mod pages;
pub mod routes;
pub mod service;
pub mod storage;
pub mod usage;

use serde::Serialize;

/// Subjects, by their Chinese names (the documented list; the API names subjects this way).
pub const SUBJECTS: &[&str] = &[
    "语文",
    "数学",
    "英语",
    "物理",
    "化学",
    "生物",
    "历史",
    "地理",
    "道德与法治",
    "思想政治",
    "科学",
    "信息技术",
    "通用技术",
    "音乐",
    "美术",
    "体育",
    "体育与健康",
    "劳动",
    "综合实践活动",
    "心理健康",
    "日语",
    "俄语",
];

/// Resource types (资源类型).
pub const KINDS: &[&str] = &[
    "课件", "教案", "学案", "习题", "试卷", "微课", "素材", "课例", "其他",
];

/// Grades as the roster codes them: 01–12.
pub const GRADES: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

/// The licence a resource has when its author names none.
pub const DEFAULT_LICENCE: &str = "本区教学使用 / for teaching in this district";

/// The stage (学段) a grade belongs to.
pub fn stage_of(grade: &str) -> &'static str {
    match grade {
        "01" | "02" | "03" | "04" | "05" | "06" => "小学",
        "07" | "08" | "09" => "初中",
        _ => "高中",
    }
}

/// A version's state; also the resource's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    InReview,
    Rejected,
    Published,
    Superseded,
    Retired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::InReview => "in_review",
            State::Rejected => "rejected",
            State::Published => "published",
            State::Superseded => "superseded",
            State::Retired => "retired",
        }
    }

    pub fn parse(value: &str) -> Option<State> {
        Some(match value {
            "draft" => State::Draft,
            "in_review" => State::InReview,
            "rejected" => State::Rejected,
            "published" => State::Published,
            "superseded" => State::Superseded,
            "retired" => State::Retired,
            _ => return None,
        })
    }

    /// The name people read, Chinese first.
    pub fn label(self) -> &'static str {
        match self {
            State::Draft => "草稿 Draft",
            State::InReview => "待审核 In review",
            State::Rejected => "已退回 Returned",
            State::Published => "已入库 Published",
            State::Superseded => "已被新版本取代 Superseded",
            State::Retired => "已出库 Retired",
        }
    }
}

/// Vocabulary for forms and clients: `GET /api/v1/resources/vocabulary`.
pub fn vocabulary() -> serde_json::Value {
    serde_json::json!({
        "subjects": SUBJECTS,
        "grades": GRADES.iter().map(|g| serde_json::json!({"code": g, "stage": stage_of(g)})).collect::<Vec<_>>(),
        "types": KINDS,
        "scopes": ["private", "class:<sourcedId>", "school", "district"],
        "licence_default": DEFAULT_LICENCE,
    })
}
