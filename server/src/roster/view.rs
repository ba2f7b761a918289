//! What the admin pages show of an import report, in the reader's language.
//!
//! A report fresh from an upload and one stored in the log are the same JSON
//! (`ImportReport::to_stored_json`), so both pages read it one way. Long lists are shown a page
//! at a time; a rejected county roster can name thousands of defects.

use serde_json::Value;

use super::entity::roster_import;
use crate::http::display::local_time;
use crate::i18n::{Lang, Tr};

/// Diagnostics shown per page.
pub const SHOWN: usize = 200;

pub struct CountRow {
    /// The report's key (`users`, `classes` …).
    pub code: String,
    /// Its name in the reader's language.
    pub kind: String,
    pub created: u64,
    pub updated: u64,
    pub retired: u64,
    pub restored: u64,
    pub unchanged: u64,
}

pub struct MassRow {
    pub name: String,
    pub school: String,
    pub active: u64,
    pub retiring: u64,
    /// `retiring / active` as a percentage with one decimal.
    pub percent: String,
}

pub struct MergeRow {
    pub sourced_id: String,
    pub into: String,
    pub phone: String,
}

pub struct DiagRow {
    pub file: String,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub message: String,
}

/// One page of warnings or errors.
pub struct DiagList {
    pub rows: Vec<DiagRow>,
    /// Index of the first row shown.
    pub from: usize,
    pub total: usize,
    /// How many follow the rows shown.
    pub more: usize,
}

impl DiagList {
    fn read(value: &Value, lang: Lang, from: usize) -> DiagList {
        let all = value.as_array().map(Vec::as_slice).unwrap_or_default();
        let total = all.len();
        let from = from.min(total);
        let rows: Vec<DiagRow> = all[from..]
            .iter()
            .take(SHOWN)
            .map(|d| DiagRow {
                file: text(&d["file"]),
                line: d["line"].as_u64(),
                field: d["field"].as_str().map(str::to_owned),
                message: match lang {
                    Lang::En => d["message_en"].as_str().or(d["message"].as_str()),
                    Lang::Zh => d["message"].as_str(),
                }
                .unwrap_or_default()
                .to_owned(),
            })
            .collect();
        let more = total - from - rows.len();
        DiagList {
            rows,
            from,
            total,
            more,
        }
    }

    /// Where the next page starts, if there is one.
    pub fn next_from(&self) -> Option<usize> {
        (self.more > 0).then(|| self.from + self.rows.len())
    }

    /// "Showing 201–400 of 450".
    pub fn range_text(&self, tr: &Tr<'_>) -> String {
        tr.format(
            "roster_admin.report.range",
            &[
                ("from", (self.from + 1).to_string()),
                ("to", (self.from + self.rows.len()).to_string()),
                ("total", self.total.to_string()),
            ],
        )
    }

    /// "… and 250 more".
    pub fn more_text(&self, tr: &Tr<'_>) -> String {
        tr.format("roster_admin.report.more", &[("n", self.more.to_string())])
    }
}

/// An import report, ready for a template.
pub struct ReportView {
    /// The log entry, when one was written (not for dry runs and unchanged rosters).
    pub id: Option<String>,
    /// `imported`, `unchanged`, `dry_run`, `rejected` or `refused`.
    pub outcome: String,
    pub format: Option<String>,
    pub counts: Vec<CountRow>,
    pub merges: Vec<MergeRow>,
    pub mass: Vec<MassRow>,
    pub errors: DiagList,
    pub warnings: DiagList,
}

impl ReportView {
    /// Read a stored (or freshly made) report; `errors_from` and `warnings_from` page the lists.
    pub fn read(report: &Value, tr: Tr<'_>, errors_from: usize, warnings_from: usize) -> Self {
        let id = report["id"].as_str().map(str::to_owned);
        let outcome = match report["outcome"].as_str().unwrap_or("rejected") {
            "imported" if id.is_none() => "unchanged".to_owned(),
            other => other.to_owned(),
        };
        let mut counts: Vec<CountRow> = report["counts"]
            .as_object()
            .map(|counts| {
                counts
                    .iter()
                    .map(|(kind, c)| CountRow {
                        code: kind.clone(),
                        kind: kind_label(tr, kind),
                        created: c["created"].as_u64().unwrap_or(0),
                        updated: c["updated"].as_u64().unwrap_or(0),
                        retired: c["retired"].as_u64().unwrap_or(0),
                        restored: c["restored"].as_u64().unwrap_or(0),
                        unchanged: c["unchanged"].as_u64().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Organisations first, spaces last, as a roster is built.
        counts.sort_by_key(|c| KINDS.iter().position(|(k, _)| *k == c.code));
        let merges = list(&report["merges"])
            .map(|m| MergeRow {
                sourced_id: text(&m["sourced_id"]),
                into: text(&m["into"]),
                phone: text(&m["phone"]),
            })
            .collect();
        let mass = list(&report["mass_retirements"])
            .map(|m| {
                let active = m["active"].as_u64().unwrap_or(0);
                let retiring = m["retiring"].as_u64().unwrap_or(0);
                MassRow {
                    name: text(&m["name"]),
                    school: text(&m["school"]),
                    active,
                    retiring,
                    percent: percent(retiring, active),
                }
            })
            .collect();
        ReportView {
            id,
            outcome,
            format: report["format"].as_str().map(str::to_owned),
            counts,
            merges,
            mass,
            errors: DiagList::read(&report["errors"], tr.lang, errors_from),
            warnings: DiagList::read(&report["warnings"], tr.lang, warnings_from),
        }
    }

    pub fn outcome_key(&self) -> &'static str {
        outcome_key(&self.outcome)
    }

    /// What the outcome means for the reader, in a sentence.
    pub fn explain_key(&self) -> &'static str {
        match self.outcome.as_str() {
            "imported" => "roster_admin.explain.imported",
            "unchanged" => "roster_admin.explain.unchanged",
            "dry_run" => "roster_admin.explain.dry_run",
            "refused" => "roster_admin.explain.refused",
            _ => "roster_admin.explain.rejected",
        }
    }

    /// Whether the outcome is good news (for the banner's colour).
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome.as_str(), "imported" | "unchanged" | "dry_run")
    }
}

/// One line of the past-imports list.
pub struct ImportRow {
    pub id: String,
    /// Beijing time, `YYYY-MM-DD HH:MM`.
    pub when: String,
    /// RFC 3339, for `<time datetime>`.
    pub when_iso: String,
    pub who: String,
    pub source_name: String,
    pub outcome: String,
    /// The people ("users") counts, the figure an administrator looks for first.
    pub people: Option<CountRow>,
    pub errors: usize,
    pub warnings: usize,
}

impl ImportRow {
    /// `who` is the starter's name for page and API imports, else how it was started.
    pub fn read(entry: &roster_import::Model, who: Option<&str>, tr: Tr<'_>) -> ImportRow {
        let report: Value = super::log::stored_report(entry);
        let view = ReportView::read(&report, tr, 0, 0);
        let origin = tr.t(origin_key(&entry.origin));
        ImportRow {
            id: entry.id.clone(),
            when: local_time(entry.started_at),
            when_iso: entry.started_at.to_rfc3339(),
            who: match who {
                Some(name) => format!("{name} · {origin}"),
                None => origin.to_owned(),
            },
            source_name: entry.source_name.clone(),
            outcome: entry.outcome.clone(),
            people: view.counts.into_iter().find(|c| c.code == "users"),
            errors: view.errors.total,
            warnings: view.warnings.total,
        }
    }

    pub fn outcome_key(&self) -> &'static str {
        outcome_key(&self.outcome)
    }
}

fn origin_key(origin: &str) -> &'static str {
    match origin {
        "cli" => "roster_admin.origin.cli",
        "demo" => "roster_admin.origin.demo",
        "page" => "roster_admin.origin.page",
        _ => "roster_admin.origin.api",
    }
}

fn outcome_key(outcome: &str) -> &'static str {
    match outcome {
        "imported" => "roster_admin.outcome.imported",
        "unchanged" => "roster_admin.outcome.unchanged",
        "dry_run" => "roster_admin.outcome.dry_run",
        "refused" => "roster_admin.outcome.refused",
        _ => "roster_admin.outcome.rejected",
    }
}

const KINDS: [(&str, &str); 9] = [
    ("orgs", "roster_admin.kind.orgs"),
    ("sessions", "roster_admin.kind.sessions"),
    ("courses", "roster_admin.kind.courses"),
    ("classes", "roster_admin.kind.classes"),
    ("users", "roster_admin.kind.users"),
    ("roles", "roster_admin.kind.roles"),
    ("enrollments", "roster_admin.kind.enrollments"),
    ("guardian_links", "roster_admin.kind.guardian_links"),
    ("spaces", "roster_admin.kind.spaces"),
];

fn kind_label(tr: Tr<'_>, kind: &str) -> String {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or_else(|| kind.to_owned(), |(_, key)| tr.t(key).to_owned())
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0".to_owned();
    }
    format!("{:.1}", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalogues;
    use serde_json::json;

    #[test]
    fn every_label_key_is_in_both_catalogues() -> Result<(), toml::de::Error> {
        let catalogues = Catalogues::load()?;
        let outcomes = ["imported", "unchanged", "dry_run", "rejected", "refused"];
        let tr = catalogues.for_lang(Lang::Zh);
        let explained: Vec<&str> = outcomes
            .iter()
            .map(|o| ReportView::read(&serde_json::json!({"id": "x", "outcome": o}), tr, 0, 0))
            .map(|v| v.explain_key())
            .chain(["roster_admin.explain.unchanged"])
            .collect();
        let keys = outcomes
            .iter()
            .map(|o| outcome_key(o))
            .chain(explained)
            .chain(["roster_admin.report.range", "roster_admin.report.more"])
            .chain(KINDS.iter().map(|(_, key)| *key))
            .chain(["cli", "demo", "page", "api"].map(origin_key));
        for key in keys {
            for lang in Lang::ALL {
                assert_ne!(catalogues.text(lang, key), key, "{lang:?} lacks {key}");
            }
        }
        Ok(())
    }

    #[test]
    fn long_lists_are_paged_and_messages_follow_the_language() -> Result<(), toml::de::Error> {
        let catalogues = Catalogues::load()?;
        let errors: Vec<Value> = (0..450)
            .map(|n| json!({"file": "users.csv", "line": n + 2, "field": "sourcedId", "message": "缺少", "message_en": "missing"}))
            .collect();
        let report = json!({"id": "x", "outcome": "rejected", "errors": errors, "warnings": []});
        let first = ReportView::read(&report, catalogues.for_lang(Lang::En), 0, 0);
        assert_eq!(first.errors.rows.len(), SHOWN);
        assert_eq!(first.errors.more, 250);
        assert_eq!(first.errors.next_from(), Some(SHOWN));
        assert_eq!(first.errors.rows[0].message, "missing");
        let last = ReportView::read(&report, catalogues.for_lang(Lang::Zh), 400, 0);
        assert_eq!((last.errors.rows.len(), last.errors.more), (50, 0));
        assert_eq!(last.errors.next_from(), None);
        assert_eq!(last.errors.rows[0].message, "缺少");
        assert_eq!(last.errors.rows[0].line, Some(402));
        Ok(())
    }

    #[test]
    fn an_imported_report_without_a_log_entry_is_unchanged() -> Result<(), toml::de::Error> {
        let catalogues = Catalogues::load()?;
        let tr = catalogues.for_lang(Lang::Zh);
        let unchanged = ReportView::read(&json!({"outcome": "imported"}), tr, 0, 0);
        assert_eq!(unchanged.outcome, "unchanged");
        let imported = ReportView::read(&json!({"id": "a", "outcome": "imported"}), tr, 0, 0);
        assert_eq!(imported.outcome, "imported");
        assert_eq!(percent(10, 22), "45.5");
        Ok(())
    }
}
