//! Reading typed values out of one row: identifiers, lists, dates, timestamps, booleans and
//! enumerations, each checked against the binding and reported against the row and column.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::roster::diagnostics::Message;
use crate::roster::model::{Mode, SourcedId, Status};

use super::table::Table;
use crate::roster::report::Report;

/// One row being read, with what is needed to report on it.
pub(super) struct Cells<'a, 'd> {
    pub report: &'a mut Report<'d>,
    pub table: &'a Table,
    pub line: u64,
    pub fields: &'a [String],
    /// The file's effective mode (data wins over the manifest).
    pub mode: Mode,
    /// Whether an error was reported for this row: the record is then not kept.
    pub failed: bool,
}

/// The `status` vocabulary (`inactive`, from 1.0, is handled separately).
static STATUSES: &[(&str, Status)] = &[
    ("active", Status::Active),
    ("tobedeleted", Status::ToBeDeleted),
];

impl<'a> Cells<'a, '_> {
    /// The trimmed value of a column; `None` when blank or when the file has no such column.
    pub(super) fn raw(&self, column: &str) -> Option<&'a str> {
        let fields: &'a [String] = self.fields;
        let index = *self.table.cols.get(column)?;
        fields
            .get(index)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn has(&self, column: &str) -> bool {
        self.table.cols.contains_key(column)
    }

    pub(super) fn error(&mut self, column: &str, message: Message) {
        self.report
            .error(&self.table.file, Some(self.line), Some(column), message);
        self.failed = true;
    }

    pub(super) fn warn(&mut self, kind: &'static str, column: &str, message: Message) {
        self.report.warn(
            kind,
            &self.table.file,
            Some(self.line),
            Some(column),
            message,
        );
    }

    /// The record, unless an error was reported for this row.
    pub(super) fn finish<T>(&self, record: T) -> Option<T> {
        (!self.failed).then_some(record)
    }

    fn missing(&mut self, column: &str) {
        self.error(
            column,
            Message::new(
                format!("必填字段 {column} 为空"),
                format!("the required field {column} is blank"),
            ),
        );
    }

    /// A value that must be there: blank is an error.
    fn present(&mut self, column: &str, required: bool) -> Option<String> {
        let value = self.raw(column).map(str::to_owned);
        if value.is_none() && required {
            self.missing(column);
        }
        value
    }

    pub(super) fn text(&mut self, column: &str) -> Option<String> {
        self.present(column, false)
    }

    pub(super) fn required_text(&mut self, column: &str) -> Option<String> {
        self.present(column, true)
    }

    fn sourced_id(&mut self, column: &str, required: bool) -> Option<SourcedId> {
        let value = self.present(column, required)?;
        match SourcedId::parse(&value) {
            Ok(id) => Some(id),
            Err(message) => {
                self.error(column, message);
                None
            }
        }
    }

    pub(super) fn id(&mut self, column: &str) -> Option<SourcedId> {
        self.sourced_id(column, false)
    }

    pub(super) fn required_id(&mut self, column: &str) -> Option<SourcedId> {
        self.sourced_id(column, true)
    }

    /// A comma-separated list, items trimmed, empty items dropped.
    pub(super) fn strings(&mut self, column: &str) -> Vec<String> {
        self.raw(column).map(split_list).unwrap_or_default()
    }

    /// A list of identifiers; at most one error for the column, naming the first bad item.
    pub(super) fn ids(&mut self, column: &str, required: bool) -> Vec<SourcedId> {
        let items = self.strings(column);
        if items.is_empty() {
            if required {
                self.missing(column);
            }
            return Vec::new();
        }
        let mut ids = Vec::with_capacity(items.len());
        let mut first_error = None;
        for item in items {
            match SourcedId::parse(&item) {
                Ok(id) => ids.push(id),
                Err(message) => {
                    first_error.get_or_insert(message);
                }
            }
        }
        if let Some(message) = first_error {
            self.error(column, message);
        }
        ids
    }

    /// `userIds`: `{type:id}` items; anything else is ignored with a warning.
    pub(super) fn user_ids(&mut self, column: &str) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for item in self.strings(column) {
            match parse_user_id(&item) {
                Some(pair) => pairs.push(pair),
                None => self.warn(
                    "user-ids",
                    column,
                    Message::new(
                        format!("“{item}”不是 {{类型:标识}} 形式，已忽略"),
                        format!("\"{item}\" is not of the form {{type:id}}; it was ignored"),
                    ),
                ),
            }
        }
        pairs
    }

    /// Warn when both subjects and subjectCodes are given with different lengths.
    pub(super) fn check_subject_codes(&mut self, subjects: usize) {
        let codes = self.strings("subjectCodes").len();
        if subjects > 0 && codes > 0 && subjects != codes {
            self.warn(
                "subject-codes",
                "subjectCodes",
                Message::new(
                    format!("subjects 有 {subjects} 项而 subjectCodes 有 {codes} 项，两者应一一对应"),
                    format!("subjects has {subjects} items but subjectCodes has {codes}; they should pair up"),
                ),
            );
        }
    }

    pub(super) fn date(&mut self, column: &str, required: bool) -> Option<NaiveDate> {
        let value = self.present(column, required)?;
        let date = parse_date(&value);
        if date.is_none() {
            let (zh, en) = if date_shape(&value) {
                ("不是有效的日期", "is not a valid date")
            } else {
                (
                    "不是 YYYY-MM-DD 格式的日期",
                    "is not a date of the form YYYY-MM-DD",
                )
            };
            self.error(
                column,
                Message::new(
                    format!("{column} 的值“{value}”{zh}"),
                    format!("{column} \"{value}\" {en}"),
                ),
            );
        }
        date
    }

    /// Warn when an exclusive end date is not after its start date.
    pub(super) fn check_dates(
        &mut self,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        columns: [&str; 2],
    ) {
        if let (Some(start), Some(end)) = (start, end)
            && end <= start
        {
            let [from, to] = columns;
            self.warn(
                "date-order",
                to,
                Message::new(
                    format!("{to}（{end}）不晚于 {from}（{start}）；{to} 不包含在内"),
                    format!("{to} ({end}) is not after {from} ({start}); {to} is exclusive"),
                ),
            );
        }
    }

    /// `schoolYear`: a four-digit year.
    pub(super) fn year(&mut self, column: &str) -> Option<i32> {
        let value = self.present(column, true)?;
        let year = (value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse().ok())
            .flatten();
        if year.is_none() {
            self.error(
                column,
                Message::new(
                    format!("{column} 的值“{value}”不是四位数的年份"),
                    format!("{column} \"{value}\" is not a four-digit year"),
                ),
            );
        }
        year
    }

    /// `true`/`false`; other spellings of them and `1`/`0` with a warning.
    pub(super) fn boolean(&mut self, column: &str, required: bool) -> Option<bool> {
        let value = self.present(column, required)?;
        let read = match value.as_str() {
            "true" => return Some(true),
            "false" => return Some(false),
            v if v.eq_ignore_ascii_case("true") || v == "1" => true,
            v if v.eq_ignore_ascii_case("false") || v == "0" => false,
            _ => {
                self.error(
                    column,
                    Message::new(
                        format!("{column} 的值“{value}”不是 true 或 false"),
                        format!("{column} \"{value}\" is not true or false"),
                    ),
                );
                return None;
            }
        };
        self.warn(
            "boolean-form",
            column,
            Message::new(
                format!("{column} 的值“{value}”应写作小写的 true 或 false，已按 {read} 读取"),
                format!("{column} \"{value}\" should be lower-case true or false; read as {read}"),
            ),
        );
        Some(read)
    }

    /// A value from a vocabulary, compared case-insensitively (with a warning when the case is
    /// wrong). `ext` makes the vocabulary extensible with `ext:` values.
    pub(super) fn choice<T: Clone>(
        &mut self,
        column: &str,
        required: bool,
        allowed: &[(&str, T)],
        ext: Option<fn(String) -> T>,
    ) -> Option<T> {
        let value = self.present(column, required)?;
        if let Some((_, v)) = allowed.iter().find(|(name, _)| *name == value) {
            return Some(v.clone());
        }
        if let Some((name, v)) = allowed
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&value))
        {
            self.warn(
                "enum-case",
                column,
                Message::new(
                    format!("{column} 的值“{value}”大小写不对，应为 {name}"),
                    format!("{column} \"{value}\" should be written {name}"),
                ),
            );
            return Some(v.clone());
        }
        if let Some(make) = ext
            && is_ext(&value)
        {
            return Some(make(value));
        }
        let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
        let (zh_ext, en_ext) = if ext.is_some() {
            ("，或以 ext: 开头的扩展值", ", or an ext: extension value")
        } else {
            ("", "")
        };
        self.error(
            column,
            Message::new(
                format!(
                    "{column} 的值“{value}”无效，允许的值：{}{zh_ext}",
                    names.join("、")
                ),
                format!(
                    "{column} \"{value}\" is not allowed; expected one of {}{en_ext}",
                    names.join(", ")
                ),
            ),
        );
        None
    }

    /// `status`: blank means active (but is an error in a delta file); `inactive` means
    /// `tobedeleted`, with a warning.
    pub(super) fn status(&mut self) -> Status {
        const COLUMN: &str = "status";
        let Some(value) = self.raw(COLUMN) else {
            if self.mode == Mode::Delta && self.has(COLUMN) {
                self.delta_blank(COLUMN);
            }
            return Status::Active;
        };
        if value.eq_ignore_ascii_case("inactive") {
            self.warn(
                "inactive",
                COLUMN,
                Message::new(
                    format!("status 的值“{value}”是 OneRoster 1.0 的旧值，已按 tobedeleted 处理"),
                    format!("status \"{value}\" is a OneRoster 1.0 value; read as tobedeleted"),
                ),
            );
            return Status::ToBeDeleted;
        }
        self.choice(COLUMN, false, STATUSES, None)
            .unwrap_or_default()
    }

    /// `dateLastModified`: checked, not kept. Required in delta files.
    pub(super) fn modified(&mut self) {
        const COLUMN: &str = "dateLastModified";
        let Some(value) = self.raw(COLUMN) else {
            if self.mode == Mode::Delta && self.has(COLUMN) {
                self.delta_blank(COLUMN);
            }
            return;
        };
        let (zh, en) = match classify_stamp(value) {
            Stamp::Exact => return,
            Stamp::DateOnly => ("只有日期", "has a date only"),
            Stamp::NoZone => ("没有时区", "has no time zone"),
            Stamp::Offset => ("不是 UTC 的 Z 形式", "is not in UTC with a Z"),
            Stamp::Bad => {
                let message = Message::new(
                    format!("{COLUMN} 的值“{value}”不是 YYYY-MM-DDTHH:MM:SS.sssZ 格式的时间"),
                    format!(
                        "{COLUMN} \"{value}\" is not a time of the form YYYY-MM-DDTHH:MM:SS.sssZ"
                    ),
                );
                self.error(COLUMN, message);
                return;
            }
        };
        let message = Message::new(
            format!("{COLUMN} 的值“{value}”{zh}，规范要求 YYYY-MM-DDTHH:MM:SS.sssZ；已接受"),
            format!("{COLUMN} \"{value}\" {en}; the spec wants YYYY-MM-DDTHH:MM:SS.sssZ; accepted"),
        );
        self.warn("datetime-form", COLUMN, message);
    }

    fn delta_blank(&mut self, column: &str) {
        self.error(
            column,
            Message::new(
                format!("delta 文件的每一行都必须填写 {column}"),
                format!("{column} must be filled on every row of a delta file"),
            ),
        );
    }
}

/// Split a OneRoster list: comma-separated, items trimmed, empty items dropped.
pub(super) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_ext(value: &str) -> bool {
    value.len() > 4
        && value
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("ext:"))
}

fn parse_user_id(item: &str) -> Option<(String, String)> {
    let inner = item.strip_prefix('{')?.strip_suffix('}')?;
    let (kind, id) = inner.split_once(':')?;
    let (kind, id) = (kind.trim(), id.trim());
    (!kind.is_empty() && !id.is_empty()).then(|| (kind.to_owned(), id.to_owned()))
}

/// Exactly `YYYY-MM-DD` in shape (the digits may still make an impossible date).
fn date_shape(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// A `YYYY-MM-DD` date.
pub(super) fn parse_date(value: &str) -> Option<NaiveDate> {
    if !date_shape(value) {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// How a `dateLastModified` value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stamp {
    /// `YYYY-MM-DDTHH:MM:SS(.sss)Z`, as the binding wants.
    Exact,
    DateOnly,
    /// `YYYY-MM-DD HH:MM:SS` or with a `T` but no zone.
    NoZone,
    /// RFC 3339 with an offset other than `Z` (or lower-case `t`/`z`).
    Offset,
    Bad,
}

pub(super) fn classify_stamp(value: &str) -> Stamp {
    if !value.get(..10).is_some_and(date_shape) {
        return Stamp::Bad;
    }
    if value.len() == 10 {
        return if parse_date(value).is_some() {
            Stamp::DateOnly
        } else {
            Stamp::Bad
        };
    }
    let rfc3339 = DateTime::parse_from_rfc3339(value).is_ok();
    if rfc3339 && value.as_bytes()[10] == b'T' && value.ends_with('Z') {
        return Stamp::Exact;
    }
    if rfc3339 {
        return Stamp::Offset;
    }
    let no_zone = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .any(|form| NaiveDateTime::parse_from_str(value, form).is_ok());
    if no_zone { Stamp::NoZone } else { Stamp::Bad }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_classified() {
        assert_eq!(classify_stamp("2023-10-02T00:00:00.000Z"), Stamp::Exact);
        assert_eq!(classify_stamp("2023-05-01T18:25:43Z"), Stamp::Exact);
        assert_eq!(classify_stamp("2023-05-01"), Stamp::DateOnly);
        assert_eq!(classify_stamp("2017-05-06 08:01:05"), Stamp::NoZone);
        assert_eq!(classify_stamp("2017-05-06T08:01:05.5"), Stamp::NoZone);
        assert_eq!(classify_stamp("2017-05-06T08:01:05+08:00"), Stamp::Offset);
        assert_eq!(classify_stamp("1/05/2023"), Stamp::Bad);
        assert_eq!(classify_stamp("15/06/2023"), Stamp::Bad);
        assert_eq!(classify_stamp("2023-02-30"), Stamp::Bad);
        assert_eq!(classify_stamp("2023-05-01T25:00:00Z"), Stamp::Bad);
    }

    #[test]
    fn dates_lists_and_user_ids() {
        assert_eq!(
            parse_date("2023-06-15"),
            NaiveDate::from_ymd_opt(2023, 6, 15)
        );
        assert_eq!(parse_date("2023-6-15"), None);
        assert_eq!(parse_date("15/06/2023"), None);
        assert_eq!(
            split_list("Science, Physics,, Biology "),
            ["Science", "Physics", "Biology"]
        );
        assert_eq!(
            parse_user_id("{LDAP:12}"),
            Some(("LDAP".into(), "12".into()))
        );
        assert_eq!(parse_user_id("[]"), None);
        assert_eq!(parse_user_id("{LDAP}"), None);
    }
}
