//! One CSV file as trimmed rows with line numbers, and its header bound to the spec's column
//! names: ragged rows, line breaks inside fields, header typos, wrong column order, missing
//! required columns, literal `NULL` and the never-kept `password` column are all handled here.

use crate::roster::HashMap;

use csv::StringRecord;

use crate::roster::diagnostics::Message;
use crate::roster::source::SourceFile;

use crate::roster::report::Report;

/// The columns one OneRoster file may have, in spec order, and those it must have.
pub(super) struct FileSpec {
    pub columns: &'static [&'static str],
    pub required: &'static [&'static str],
}

/// Columns whose values are dropped on reading: never stored, never shown.
const SECRET_COLUMNS: [&str; 1] = ["password"];

/// One data row: its 1-based line and its fields, trimmed, as many as the header has.
pub(super) struct Row {
    pub line: u64,
    pub fields: Vec<String>,
}

/// A file read as CSV, before its header is understood.
pub(super) struct RawTable {
    pub file: String,
    pub header_line: u64,
    pub header: Vec<String>,
    /// Rows that passed the shape checks.
    pub rows: Vec<Row>,
    /// All data rows, including those skipped for their shape.
    pub data_rows: usize,
}

/// A file whose header has been bound to the spec's column names.
pub(super) struct Table {
    pub file: String,
    pub header_line: u64,
    /// Spec column name → index in every row.
    pub cols: HashMap<&'static str, usize>,
    pub rows: Vec<Row>,
    pub data_rows: usize,
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn clean_header(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_owned()
}

/// The header names of a CSV text (trimmed), if it has a first record.
pub(super) fn header(text: &str) -> Option<Vec<String>> {
    let record = reader(text).records().next()?.ok()?;
    Some(record.iter().map(clean_header).collect())
}

/// Read a file as CSV: the first record is the header, the others are checked for their shape.
/// `None` when there is not even a header (an error is reported).
pub(super) fn read(report: &mut Report<'_>, file: &SourceFile) -> Option<RawTable> {
    let name = file.name.as_str();
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut data_rows = 0;
    let mut lines = Lines::new(&file.text);
    for result in reader(&file.text).records() {
        let record = match result {
            Ok(record) => record,
            Err(err) => {
                report.error(
                    name,
                    err.position().map(|p| lines.line_of(p.byte())),
                    None,
                    Message::new(
                        format!("CSV 格式错误，此后的内容未读取（{err}）"),
                        format!("malformed CSV; the rest of the file was not read ({err})"),
                    ),
                );
                break;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
        match &header {
            None => header = Some((line, record.iter().map(clean_header).collect())),
            Some((_, names)) => {
                data_rows += 1;
                if let Some(row) = check_row(report, name, names, line, &record) {
                    rows.push(row);
                }
            }
        }
    }
    let Some((header_line, header)) = header else {
        report.error(
            name,
            Some(1),
            None,
            Message::new(
                "文件是空的，连表头都没有；没有数据的文件应在 manifest 中声明为 absent",
                "the file is empty, without even a header; a file without data should be declared absent in the manifest",
            ),
        );
        return None;
    };
    Some(RawTable {
        file: name.to_owned(),
        header_line,
        header,
        rows,
        data_rows,
    })
}

/// 1-based line numbers from byte offsets. The csv crate's own line count lags behind after
/// CRLF line ends and blank lines (a record's offset points at the line end before it).
struct Lines<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        Lines {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record that starts at (or after the line ends at) `byte`.
    fn line_of(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        while self
            .text
            .get(target)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            target += 1;
        }
        if target > self.at {
            for (offset, byte) in self.text[self.at..target].iter().enumerate() {
                let next = self.text.get(self.at + offset + 1);
                if *byte == b'\n' || (*byte == b'\r' && next != Some(&b'\n')) {
                    self.line += 1;
                }
            }
            self.at = target;
        }
        self.line
    }
}

/// Shape checks on one data row: no line breaks inside fields, as many fields as the header.
fn check_row(
    report: &mut Report<'_>,
    file: &str,
    header: &[String],
    line: u64,
    record: &StringRecord,
) -> Option<Row> {
    if let Some(index) = record.iter().position(|f| f.contains(['\n', '\r'])) {
        let field = header
            .get(index)
            .map(String::as_str)
            .filter(|n| !n.is_empty());
        report.error(
            file,
            Some(line),
            field,
            Message::new(
                "字段内含换行符，OneRoster 不允许字段跨行；该行未读取",
                "a field contains a line break, which OneRoster forbids; the row was skipped",
            ),
        );
        return None;
    }
    let mut fields: Vec<String> = record.iter().map(|f| f.trim().to_owned()).collect();
    if fields.iter().all(String::is_empty) {
        report.warn(
            "blank-row",
            file,
            Some(line),
            None,
            Message::new("空白行，已跳过", "a blank row was skipped"),
        );
        return None;
    }
    let (n, m) = (fields.len(), header.len());
    if n > m && fields[m..].iter().all(String::is_empty) {
        report.warn(
            "trailing-fields",
            file,
            Some(line),
            None,
            Message::new(
                format!("该行有 {n} 个字段，表头有 {m} 个；多出的字段都是空的（行尾多了逗号），已忽略"),
                format!("row has {n} fields, header has {m}; the extra fields are empty (a trailing comma) and were ignored"),
            ),
        );
        fields.truncate(m);
    } else if n != m {
        report.error(
            file,
            Some(line),
            None,
            Message::new(
                format!("该行有 {n} 个字段，而表头有 {m} 个；该行未读取"),
                format!("row has {n} fields, header has {m}; the row was skipped"),
            ),
        );
        return None;
    }
    Some(Row { line, fields })
}

/// Bind the header to the spec's columns. `None` when a required column is missing (reported
/// at the header line); the file's rows are then not read.
pub(super) fn bind(report: &mut Report<'_>, raw: RawTable, spec: &FileSpec) -> Option<Table> {
    let RawTable {
        file,
        header_line,
        header,
        mut rows,
        data_rows,
    } = raw;
    let at = Some(header_line);
    let mut cols: HashMap<&'static str, usize> = HashMap::default();
    // Spec positions of the known columns, in file order, and whether an extension came too early.
    let mut positions = Vec::new();
    let mut seen_extension = false;
    let mut extension_too_early = false;
    for (index, name) in header.iter().enumerate() {
        let column = index + 1;
        if name.is_empty() {
            report.warn(
                "empty-header",
                &file,
                at,
                None,
                Message::new(
                    format!("第 {column} 列没有列名"),
                    format!("column {column} has no name"),
                ),
            );
            continue;
        }
        let known = match spec.columns.iter().position(|c| c == name) {
            Some(pos) => Some(pos),
            None => {
                let pos = spec
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name));
                if let Some(pos) = pos {
                    let right = spec.columns[pos];
                    report.warn(
                        "header-case",
                        &file,
                        at,
                        Some(name),
                        Message::new(
                            format!("列名“{name}”的大小写不对，应为 {right}（列名区分大小写）"),
                            format!("column \"{name}\" should be written {right} (names are case-sensitive)"),
                        ),
                    );
                }
                pos
            }
        };
        let Some(pos) = known else {
            if is_extension(name) {
                seen_extension = true;
            } else {
                unknown_column(report, &file, at, name, spec.columns);
            }
            continue;
        };
        let canonical = spec.columns[pos];
        if let Some(first) = cols.get(canonical) {
            report.error(
                &file,
                at,
                Some(canonical),
                Message::new(
                    format!("列 {canonical} 出现了两次（第 {} 列和第 {column} 列），只使用第一列", first + 1),
                    format!(
                        "column {canonical} appears twice (columns {} and {column}); only the first is used",
                        first + 1
                    ),
                ),
            );
            continue;
        }
        cols.insert(canonical, index);
        positions.push(pos);
        extension_too_early |= seen_extension;
    }
    if extension_too_early || positions.windows(2).any(|w| w[0] > w[1]) {
        let expected: Vec<&str> = spec
            .columns
            .iter()
            .copied()
            .filter(|c| cols.contains_key(c))
            .collect();
        let expected = expected.join(",");
        report.warn(
            "column-order",
            &file,
            at,
            None,
            Message::new(
                format!("列的顺序与规范不同（扩展列 metadata.* 应在最后），应为：{expected}"),
                format!("the columns are not in the spec's order (metadata.* extensions come last); expected {expected}"),
            ),
        );
    }
    let mut complete = true;
    for &column in spec.required {
        if !cols.contains_key(column) {
            complete = false;
            report.error(
                &file,
                at,
                Some(column),
                Message::new(
                    format!("缺少必需的列 {column}，此文件的数据行未读取"),
                    format!(
                        "the required column {column} is missing; the file's rows were not read"
                    ),
                ),
            );
        }
    }
    if !complete {
        return None;
    }
    let secret: Vec<usize> = SECRET_COLUMNS
        .iter()
        .filter_map(|c| cols.get(c).copied())
        .collect();
    for row in &mut rows {
        for (index, value) in row.fields.iter_mut().enumerate() {
            if secret.contains(&index) {
                value.clear();
            } else if value.eq_ignore_ascii_case("null") {
                let field = header
                    .get(index)
                    .map(String::as_str)
                    .filter(|n| !n.is_empty());
                report.warn(
                    "null",
                    &file,
                    Some(row.line),
                    field,
                    Message::new(
                        format!("值“{value}”按空值处理（空值应直接留空）"),
                        format!("the literal value \"{value}\" was read as blank (leave the field empty instead)"),
                    ),
                );
                value.clear();
            }
        }
    }
    Some(Table {
        file,
        header_line,
        cols,
        rows,
        data_rows,
    })
}

fn is_extension(name: &str) -> bool {
    name.get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("metadata."))
        && name.len() > 9
}

fn unknown_column(
    report: &mut Report<'_>,
    file: &str,
    at: Option<u64>,
    name: &str,
    columns: &[&'static str],
) {
    let message = match suggest(name, columns) {
        Some(right) => Message::new(
            format!("未知的列“{name}”，已忽略；是不是想写 {right}？"),
            format!("unknown column \"{name}\" was ignored; did you mean {right}?"),
        ),
        None => Message::new(
            format!("未知的列“{name}”，已忽略（扩展列应命名为 metadata.…）"),
            format!(
                "unknown column \"{name}\" was ignored (extension columns must be named metadata.…)"
            ),
        ),
    };
    report.warn("unknown-column", file, at, Some(name), message);
}

/// The known name closest to a misspelt one, if it is close enough to be a typo.
pub(super) fn suggest<'c>(name: &str, known: &[&'c str]) -> Option<&'c str> {
    let name = name.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&name, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= if k.len() >= 8 { 2 } else { 1 })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_follow_crlf_blank_lines_and_quoted_breaks() {
        let text = "a,b\r\n1,2\r\n\r\n3,4\r\n\"x\r\ny\",5\r\n6,7\n8,9\r10,11";
        let mut lines = Lines::new(text);
        let found: Vec<u64> = reader(text)
            .records()
            .map(|r| lines.line_of(r.expect("a record").position().expect("a position").byte()))
            .collect();
        assert_eq!(found, [1, 2, 4, 5, 7, 8, 9]);
    }

    #[test]
    fn typos_get_a_suggestion() {
        let known = [
            "dateLastModified",
            "preferredGivenName",
            "agentSourcedIds",
            "sourcedId",
            "type",
        ];
        assert_eq!(
            suggest("dataLastModified", &known),
            Some("dateLastModified")
        );
        assert_eq!(
            suggest("prefferedGivenName", &known),
            Some("preferredGivenName")
        );
        assert_eq!(suggest("agentSourceIds", &known), Some("agentSourcedIds"));
        assert_eq!(suggest("sourceID", &known), Some("sourcedId"));
        assert_eq!(suggest("colour", &known), None);
    }
}
