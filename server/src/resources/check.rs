//! The machine check (机审) run when a resource is submitted, before any person reviews it:
//! the file's type and size, identical content already in the library, and words from the
//! negative list, each match shown with its context. The check informs the reviewer; it
//! refuses nothing by itself (uploads of refused types and sizes never get this far).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::entity::{resource, version};

/// The built-in list (assets/negative-words.txt); administrators add to it in the file named
/// by `KONGJIAN_NEGATIVE_WORDS`.
const BUILT_IN: &str = include_str!("../../../assets/negative-words.txt");

/// Characters of context shown on each side of a match.
const CONTEXT: usize = 24;
/// Matches reported per field (a reviewer needs examples, not every occurrence).
const MAX_MATCHES: usize = 20;

/// What the machine check found when a version was submitted.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Findings {
    /// The content type decided from the file's bytes, and its size.
    pub content_type: Option<String>,
    pub size: Option<i64>,
    /// Other resources holding identical content: `[{"id", "title", "state"}]`.
    pub duplicates: Vec<Duplicate>,
    /// Negative-list words found, with where and their context.
    pub negative: Vec<NegativeMatch>,
    /// Whether text could be extracted from the file (if not, only the metadata was checked).
    pub text_checked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Duplicate {
    pub id: String,
    pub title: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct NegativeMatch {
    pub word: String,
    /// `title`, `description`, `keywords`, `text` (the body or the file's text).
    pub field: String,
    pub context: String,
}

/// The words: the built-in list plus the administrators' file, read on every check so edits
/// apply without a restart. An unreadable extra file is logged and skipped.
pub fn words(extra: Option<&std::path::Path>) -> Vec<String> {
    let mut words: Vec<String> = parse(BUILT_IN);
    if let Some(path) = extra {
        match std::fs::read_to_string(path) {
            Ok(text) => words.extend(parse(&text)),
            Err(err) => tracing::warn!(path = %path.display(), error = %err,
                "the extra negative word list cannot be read; using the built-in list"),
        }
    }
    words.sort();
    words.dedup();
    words
}

fn parse(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
}

/// Find the words in `text` (case-insensitively), with context.
pub fn scan(words: &[String], field: &str, text: &str) -> Vec<NegativeMatch> {
    if words.is_empty() || text.is_empty() {
        return Vec::new();
    }
    let Ok(matcher): Result<AhoCorasick, _> = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(words)
    else {
        return Vec::new();
    };
    matcher
        .find_iter(text)
        .take(MAX_MATCHES)
        .map(|m| NegativeMatch {
            word: text[m.start()..m.end()].to_owned(),
            field: field.to_owned(),
            context: context(text, m.start(), m.end()),
        })
        .collect()
}

/// Up to [`CONTEXT`] characters either side of `start..end`, on one line.
fn context(text: &str, start: usize, end: usize) -> String {
    let before: String = text[..start]
        .chars()
        .rev()
        .take(CONTEXT)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[end..].chars().take(CONTEXT).collect();
    format!("…{before}【{}】{after}…", &text[start..end]).replace(['\n', '\r', '\t'], " ")
}

/// Run the check on a version.
pub async fn run(
    db: &impl ConnectionTrait,
    extra_words: Option<&std::path::Path>,
    v: &version::Model,
) -> Result<Findings, DbErr> {
    let words = words(extra_words);
    let mut findings = Findings {
        content_type: v.content_type.clone(),
        size: v.size,
        ..Findings::default()
    };
    for (field, text) in [
        ("title", v.title.as_str()),
        ("description", v.description.as_str()),
        ("keywords", v.keywords.as_str()),
        ("text", v.body.as_deref().unwrap_or("")),
        ("text", v.extracted.as_deref().unwrap_or("")),
    ] {
        findings.negative.extend(scan(&words, field, text));
    }
    findings.text_checked = v.content_kind != "file" || v.extracted.is_some();
    if let Some(hash) = &v.blob_hash {
        let same = version::Entity::find()
            .filter(version::Column::BlobHash.eq(hash.as_str()))
            .filter(version::Column::ResourceId.ne(v.resource_id.as_str()))
            .all(db)
            .await?;
        let mut ids: Vec<String> = same.iter().map(|s| s.resource_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let owners = resource::Entity::find()
            .filter(resource::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?;
        for id in ids.into_iter().take(MAX_MATCHES) {
            let Some(r) = owners.iter().find(|r| r.id == id) else {
                continue;
            };
            let title = same
                .iter()
                .filter(|s| s.resource_id == id)
                .max_by_key(|s| s.number)
                .map(|s| s.title.clone())
                .unwrap_or_default();
            findings.duplicates.push(Duplicate {
                id,
                title,
                state: r.state.clone(),
            });
        }
    }
    Ok(findings)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn matches_come_with_their_context() {
        let words = vec!["赌博".to_owned(), "casino".to_owned()];
        let found = scan(
            &words,
            "text",
            "第一段。\n不要参与网络赌博活动，远离 Casino。",
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].word, "赌博");
        assert!(
            found[0].context.contains("网络【赌博】活动"),
            "{}",
            found[0].context
        );
        assert!(!found[0].context.contains('\n'));
        assert_eq!(found[1].word, "Casino");
    }

    #[test]
    fn the_built_in_list_loads_and_an_extra_file_extends_it() {
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("words.txt");
        std::fs::write(&extra, "# comment\n  新词汇测试  \n").unwrap();
        let list = words(Some(&extra));
        assert!(list.contains(&"赌博".to_owned()));
        assert!(list.contains(&"新词汇测试".to_owned()));
        assert!(!list.iter().any(|w| w.starts_with('#')));
        assert!(words(Some(&dir.path().join("missing.txt"))).contains(&"赌博".to_owned()));
    }

    #[test]
    fn clean_text_has_no_findings() {
        assert!(scan(&words(None), "text", "二次函数的图像与性质").is_empty());
    }
}
