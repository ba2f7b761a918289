//! Reading one CSV file of the set into rows addressed by column name: header aliases, ragged
//! rows, blank lines, Excel's text-protection `="0012"`, and the required-value checks.

use std::collections::HashMap;

use super::columns::FileSpec;
use super::values;
use crate::roster::diagnostics::Message;
use crate::roster::model::SourcedId;
use crate::roster::report::Report;
use crate::roster::source::Source;

/// What became of one file of the set.
pub(super) enum Loaded {
    /// Not in the package, or empty (an empty file never means "delete everything").
    Absent,
    /// In the package but unreadable as a whole (a required column is missing …): its rows are
    /// not used and references to it are not checked. The errors are already reported.
    Broken,
    Table(Table),
}

impl Loaded {
    /// Whether the package supplied this file (so the entities it carries are in bulk mode).
    pub(super) fn supplied(&self) -> bool {
        !matches!(self, Loaded::Absent)
    }
}

pub(super) struct Table {
    /// The file name as it appears in the package.
    pub file: String,
    /// Headers as written, by position (what diagnostics name).
    headers: Vec<String>,
    /// Canonical column name → position.
    positions: HashMap<String, usize>,
    rows: Vec<Row>,
}

struct Row {
    line: u64,
    fields: Vec<String>,
    /// How many fields the line really had (fewer than the header on a short row).
    width: usize,
}

/// One row of a table, read by canonical column name.
#[derive(Clone, Copy)]
pub(super) struct RowRef<'t> {
    table: &'t Table,
    row: &'t Row,
}

impl Table {
    pub(super) fn has(&self, column: &str) -> bool {
        self.positions.contains_key(column)
    }

    pub(super) fn rows(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.rows.iter().map(move |row| RowRef { table: self, row })
    }

    /// The header as written for a canonical column, or the canonical name.
    pub(super) fn header<'a>(&'a self, column: &'a str) -> &'a str {
        self.positions
            .get(column)
            .and_then(|&at| self.headers.get(at))
            .map_or(column, String::as_str)
    }
}

impl<'t> RowRef<'t> {
    pub(super) fn line(&self) -> u64 {
        self.row.line
    }

    pub(super) fn file(&self) -> &'t str {
        &self.table.file
    }

    /// The trimmed value; `None` when blank or when the file has no such column.
    pub(super) fn get(&self, column: &str) -> Option<&'t str> {
        let at = *self.table.positions.get(column)?;
        self.row
            .fields
            .get(at)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required value; a blank one is an error (unless the row was too short to have it:
    /// the ragged-row error already covers that).
    pub(super) fn required(&self, column: &str, report: &mut Report) -> Option<&'t str> {
        let value = self.get(column);
        let cut_off = self
            .table
            .positions
            .get(column)
            .is_some_and(|&at| at >= self.row.width);
        if value.is_none() && !cut_off {
            self.error(
                column,
                report,
                Message::new("必填项，不能为空", "is required and must not be blank"),
            );
        }
        value
    }

    /// A required identifier.
    pub(super) fn id(&self, column: &str, report: &mut Report) -> Option<SourcedId> {
        let value = self.required(column, report)?;
        self.parse_id(column, value, report)
    }

    /// An optional identifier (`None` when blank or malformed; malformed is reported).
    pub(super) fn opt_id(&self, column: &str, report: &mut Report) -> Option<SourcedId> {
        let value = self.get(column)?;
        self.parse_id(column, value, report)
    }

    fn parse_id(&self, column: &str, value: &str, report: &mut Report) -> Option<SourcedId> {
        if values::is_scientific(value) {
            self.error(column, report, values::excel_number_message());
            return None;
        }
        match SourcedId::parse(value) {
            Ok(id) => Some(id),
            Err(message) => {
                self.error(column, report, message);
                None
            }
        }
    }

    pub(super) fn error(&self, column: &str, report: &mut Report, message: Message) {
        let field = self.table.header(column);
        report.error(&self.table.file, Some(self.row.line), Some(field), message);
    }

    pub(super) fn warn(
        &self,
        column: &str,
        kind: &'static str,
        report: &mut Report,
        message: Message,
    ) {
        let field = self.table.header(column);
        report.warn(
            kind,
            &self.table.file,
            Some(self.row.line),
            Some(field),
            message,
        );
    }
}

/// Find `spec.name` in the package (any case, with the warning `Source::file` gives) and read it.
pub(super) fn load(source: &Source, spec: &FileSpec, report: &mut Report) -> Loaded {
    let Some(file) = source.file(spec.name, report.diags()) else {
        return Loaded::Absent;
    };
    read(&file.name, &file.text, spec, report)
}

fn read(name: &str, text: &str, spec: &FileSpec, report: &mut Report) -> Loaded {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            report.warn("empty_file", name, None, None, empty_file_message());
            return Loaded::Absent;
        }
        Some(Err(err)) => {
            report.error(name, Some(1), None, csv_message(&err));
            return Loaded::Broken;
        }
        Some(Ok(header)) => header,
    };
    let headers: Vec<String> = header.iter().map(clean).collect();
    let (positions, mut broken) = resolve(name, &headers, spec, report);
    let mut table = Table {
        file: name.to_owned(),
        headers,
        positions,
        rows: Vec::new(),
    };
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map(csv::Position::line);
                report.error(name, line, None, csv_message(&err));
                broken = true;
                break;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let mut fields: Vec<String> = record.iter().map(clean).collect();
        if fields.iter().all(String::is_empty) {
            continue; // Excel's trailing ",,,," lines
        }
        let width = fields.len();
        let expected = table.headers.len();
        if width < expected {
            let missing = table.headers.get(width).map(String::as_str);
            report.error(
                name,
                Some(line),
                missing,
                Message::new(
                    format!("本行只有 {width} 列，表头有 {expected} 列"),
                    format!("the row has {width} fields but the header has {expected}"),
                ),
            );
            fields.resize(expected, String::new());
        } else if width > expected {
            let extra = fields.split_off(expected);
            if extra.iter().all(String::is_empty) {
                report.warn(
                    "trailing_fields",
                    name,
                    Some(line),
                    None,
                    Message::new(
                        "行末有多余的空列（多余的逗号），已忽略",
                        "the row ends with extra empty fields (extra commas); they were ignored",
                    ),
                );
            } else {
                report.error(
                    name,
                    Some(line),
                    None,
                    Message::new(
                        format!(
                            "本行有 {width} 列，比表头多 {} 列；可能是某个值里有未加引号的逗号",
                            width - expected
                        ),
                        format!(
                            "the row has {width} fields, {} more than the header; a value may \
                             contain a comma without quotes",
                            width - expected
                        ),
                    ),
                );
            }
        }
        table.rows.push(Row {
            line,
            fields,
            width: width.min(expected),
        });
    }
    if broken {
        return Loaded::Broken;
    }
    if table.rows.is_empty() {
        report.warn("empty_file", name, None, None, empty_file_message());
        return Loaded::Absent;
    }
    Loaded::Table(table)
}

/// Map the header to canonical columns; report unknown, ambiguous, duplicate and missing ones.
/// Returns the positions and whether the file is unusable.
fn resolve(
    file: &str,
    headers: &[String],
    spec: &FileSpec,
    report: &mut Report,
) -> (HashMap<String, usize>, bool) {
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut broken = false;
    for (at, header) in headers.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let Some(canonical) = canonical(spec, header) else {
            let message = match normalise_header(header).as_str() {
                "学号" => Message::new(
                    "列名“学号”含义不明确，已忽略：平台学生编号请用 student_id（学生编号），\
                     班内学号请用 seat_no（班内学号）",
                    "the column 学号 is ambiguous and was ignored: use student_id (学生编号) for \
                     the platform's student id, seat_no (班内学号) for the number in the class",
                ),
                _ => Message::new("不认识的列，已忽略", "unknown column; it was ignored"),
            };
            report.warn("unknown_column", file, Some(1), Some(header), message);
            continue;
        };
        if let Some(&first) = positions.get(&canonical) {
            let first = headers.get(first).map_or("", String::as_str);
            report.error(
                file,
                Some(1),
                Some(header),
                Message::new(
                    format!("与列“{first}”重复（都表示 {canonical}），只能保留一列"),
                    format!("duplicates the column \"{first}\" (both mean {canonical}); keep one"),
                ),
            );
            broken = true;
            continue;
        }
        positions.insert(canonical, at);
    }
    for column in spec.columns.iter().filter(|c| c.required) {
        if !positions.contains_key(column.name) {
            let aliases = column
                .aliases
                .first()
                .map_or(String::new(), |a| format!("（或“{a}”）"));
            let aliases_en = column
                .aliases
                .first()
                .map_or(String::new(), |a| format!(" (or {a})"));
            report.error(
                file,
                Some(1),
                Some(column.name),
                Message::new(
                    format!("缺少必填列 {}{aliases}", column.name),
                    format!("the required column {}{aliases_en} is missing", column.name),
                ),
            );
            broken = true;
        }
    }
    (positions, broken)
}

/// The canonical name of a header in this file, if it is one of ours.
pub(super) fn canonical(spec: &FileSpec, header: &str) -> Option<String> {
    let header = normalise_header(header);
    spec.columns
        .iter()
        .find(|c| c.name == header || c.aliases.contains(&header.as_str()))
        .map(|c| c.name.to_owned())
        .or_else(|| spec.pattern.and_then(|pattern| pattern(&header)))
}

/// `* 出生日期（YYYYMMDD）` → `出生日期`, `Student ID` → `student_id`: templates mark required
/// columns with `*`/`★` and add notes in brackets.
pub(super) fn normalise_header(header: &str) -> String {
    let marks =
        |c: char| c.is_whitespace() || matches!(c, '*' | '＊' | '★' | '\u{feff}' | '\u{200b}');
    let mut header = header.trim_matches(marks);
    if let Some(at) = header.find(['(', '（', '[', '【']).filter(|&at| at > 0) {
        header = header[..at].trim_matches(marks);
    }
    header
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Tab-separated when the header line has tabs and no commas (Excel's "text" export).
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    if !first.contains(',') && first.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// Trim (also zero-width spaces), unwrap Excel's `="0012"`, and read a literal `NULL` as blank.
fn clean(value: &str) -> String {
    let value = value.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{feff}')
    });
    let value = value
        .strip_prefix("=\"")
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .trim();
    if value.eq_ignore_ascii_case("null") {
        String::new()
    } else {
        value.to_owned()
    }
}

fn empty_file_message() -> Message {
    Message::new(
        "文件没有数据行，按未提供处理（不会因此删除已有数据）",
        "the file has no data rows; it is treated as not supplied (nothing is deleted because of it)",
    )
}

fn csv_message(err: &csv::Error) -> Message {
    Message::new(
        format!("无法按 CSV 读取（{err}）"),
        format!("cannot be read as CSV ({err})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::cn::columns::{STUDENTS, TEACHING};

    #[test]
    fn headers_are_normalised_and_aliases_resolved() {
        assert_eq!(normalise_header(" *出生日期（YYYYMMDD） "), "出生日期");
        assert_eq!(normalise_header("Student ID"), "student_id");
        assert_eq!(
            canonical(&STUDENTS, "学籍号").as_deref(),
            Some("national_student_no")
        );
        assert_eq!(
            canonical(&STUDENTS, "★学生编号").as_deref(),
            Some("student_id")
        );
        assert_eq!(
            canonical(&STUDENTS, "家长2电话").as_deref(),
            Some("guardian2_phone")
        );
        assert_eq!(canonical(&STUDENTS, "学号"), None);
        assert_eq!(canonical(&TEACHING, "工号").as_deref(), Some("teacher_id"));
    }

    #[test]
    fn values_are_cleaned() {
        assert_eq!(clean(" \u{200b}0012\u{3000}"), "0012");
        assert_eq!(clean("=\"00123\""), "00123");
        assert_eq!(clean("NULL"), "");
    }
}
