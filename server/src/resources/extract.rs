//! Text extraction from uploaded teaching resources, for the search index.
//!
//! Teachers upload lesson plans (DOCX), slides (PPTX), hand-outs (PDF), notes (plain text,
//! Markdown, HTML) and plenty of files with no text at all (images, video). Search should find a
//! resource by the words inside it, so this module turns a stored file into plain text:
//!
//! - plain text as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 — the encoding of
//!   Chinese Windows files — when the bytes are not UTF-8;
//! - Markdown with its markup (headings, emphasis, link targets, code fences…) dropped;
//! - HTML rendered to its visible text by `html2text` (no script or style content);
//! - DOCX (`word/document.xml`) and PPTX (`ppt/slides/slideN.xml`, in slide number order) read
//!   with `quick-xml` straight from the zip, with limits against zip bombs;
//! - PDF through `pdf-extract`, whose panics on odd files are caught.
//!
//! Extraction is best effort: it never fails loudly. A file it cannot read is logged at debug
//! level and simply has no text in the index. Whitespace is collapsed and the text is cut to
//! [`MAX_TEXT_CHARS`], so one huge file cannot bloat the index. Reading is blocking and can be
//! CPU heavy (PDF especially): call it from a blocking task.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use encoding_rs::{DecoderResult, Encoding, GB18030, UTF_8};
use html2text::render::TrivialDecorator;
use quick_xml::events::{BytesRef, Event};
use zip::ZipArchive;
use zip::result::ZipError;

/// The most text kept per resource (characters); the rest is not indexed.
pub const MAX_TEXT_CHARS: usize = 200_000;

/// How much of the start of a file [`looks_like_text`] examines.
const TEXT_SNIFF_BYTES: usize = 8 * 1024;
/// The most bytes read from a plain text, Markdown or HTML file.
const MAX_TEXT_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// The most decompressed bytes read from one XML part of a DOCX or PPTX file.
const MAX_XML_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// The most decompressed bytes read from all the XML parts of one DOCX or PPTX file.
const MAX_XML_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// The most slides read from one presentation.
const MAX_SLIDES: usize = 2_000;
/// Line width given to html2text: wide enough that it never wraps a line of text.
const HTML_WIDTH: usize = 10_000;
/// The longest HTML tag (characters) recognised inside Markdown.
const MAX_TAG_CHARS: usize = 1_000;
/// Markdown lines longer than this (bytes) are indexed as they are, markup and all.
const MAX_MARKDOWN_LINE_BYTES: usize = 1024 * 1024;

const PDF_MIME: &str = "application/pdf";
const ZIP_MIME: &str = "application/zip";
const DOCX_MIME: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const PPTX_MIME: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const DOCX_BODY: &str = "word/document.xml";
const PPTX_MAIN: &str = "ppt/presentation.xml";
const SLIDE_PREFIX: &str = "ppt/slides/slide";
const SLIDE_SUFFIX: &str = ".xml";

/// Text of a file for the search index, or None when nothing can be extracted (images, video,
/// unknown or damaged files).
///
/// `content_type` is the MIME type decided from the file's magic bytes (by the `infer` crate): it
/// may be `""` (nothing recognised, e.g. for text), `"application/zip"` for OOXML files, or
/// `"text/plain"` etc. `name` is the uploaded file name, used only as a hint: it tells Markdown,
/// HTML and plain text apart, and DOCX from PPTX when the content type is a generic zip.
///
/// Never panics and never fails: a damaged file is logged with `tracing::debug!` and gives None.
/// Whitespace is collapsed (a run of spaces becomes one space, a run containing a line break one
/// newline), and the result is cut to [`MAX_TEXT_CHARS`] characters. An empty result is None.
pub fn extract_text(path: &Path, content_type: &str, name: &str) -> Option<String> {
    let format = detect_format(content_type, name)?;
    match extract_format(path, format, content_type, name) {
        Ok(text) => text,
        Err(error) => {
            tracing::debug!(path = %path.display(), content_type, name, %error, "no text extracted");
            None
        }
    }
}

/// Whether bytes look like text (valid UTF-8, or GB18030/GBK decodable Chinese text, with no NUL
/// bytes in the first 8 KiB), used when magic bytes say nothing.
///
/// Only the first 8 KiB are examined, and a multi-byte character cut off at their end is fine.
/// UTF-16 with a byte order mark (Windows Notepad's "Unicode") also counts as text, NULs and all.
/// Empty input is (empty) UTF-8 text.
pub fn looks_like_text(head: &[u8]) -> bool {
    let head = &head[..head.len().min(TEXT_SNIFF_BYTES)];
    if let Some((encoding, bom_length)) = Encoding::for_bom(head)
        && encoding != UTF_8
    {
        return decodes_cleanly(encoding, &head[bom_length..]);
    }
    if head.contains(&0) {
        return false;
    }
    decodes_cleanly(UTF_8, head) || decodes_cleanly(GB18030, head)
}

/// What kind of reader a file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Plain text, Markdown or HTML: told apart once the bytes are read.
    Text,
    /// A zip that should be an Office Open XML file; which one is told by its entries.
    Office(OfficeKind),
    Pdf,
}

/// The Office Open XML files that have text for the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfficeKind {
    Docx,
    Pptx,
    /// A zip of unknown content: its entries decide.
    Unknown,
}

/// The text file formats, each with its own markup to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Plain,
    Markdown,
    Html,
}

/// Chooses the reader from the sniffed content type, with the file name as a hint.
fn detect_format(content_type: &str, name: &str) -> Option<Format> {
    let mime = essence(content_type);
    let extension = extension(name);
    match mime.as_str() {
        PDF_MIME => Some(Format::Pdf),
        DOCX_MIME => Some(Format::Office(OfficeKind::Docx)),
        PPTX_MIME => Some(Format::Office(OfficeKind::Pptx)),
        ZIP_MIME => Some(Format::Office(office_kind_from_extension(&extension))),
        "" => Some(match extension.as_str() {
            "pdf" => Format::Pdf,
            "docx" | "pptx" => Format::Office(office_kind_from_extension(&extension)),
            _ => Format::Text,
        }),
        text if text.starts_with("text/") => Some(Format::Text),
        _ => None,
    }
}

/// The MIME type without parameters, lower case: `"Text/HTML; charset=x"` -> `"text/html"`.
fn essence(content_type: &str) -> String {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence.trim().to_ascii_lowercase()
}

/// The file name's extension, lower case, or `""`.
fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

fn office_kind_from_extension(extension: &str) -> OfficeKind {
    match extension {
        "docx" => OfficeKind::Docx,
        "pptx" => OfficeKind::Pptx,
        _ => OfficeKind::Unknown,
    }
}

fn extract_format(
    path: &Path,
    format: Format,
    content_type: &str,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    match format {
        Format::Text => extract_text_file(path, content_type, name),
        Format::Office(hint) => extract_office(path, hint, name, XmlLimits::DEFAULT),
        Format::Pdf => extract_pdf(path),
    }
}

// ---------------------------------------------------------------------------------------------
// Collecting text

/// Whitespace waiting to be written between two pieces of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PendingSpace {
    None,
    Space,
    Newline,
}

/// Collects extracted text, collapsing whitespace and stopping at [`MAX_TEXT_CHARS`].
///
/// The text never starts or ends with whitespace, and control characters are dropped.
#[derive(Debug)]
struct TextSink {
    text: String,
    chars: usize,
    max_chars: usize,
    pending: PendingSpace,
}

impl TextSink {
    fn new() -> Self {
        Self::with_max_chars(MAX_TEXT_CHARS)
    }

    fn with_max_chars(max_chars: usize) -> Self {
        Self {
            text: String::new(),
            chars: 0,
            max_chars,
            pending: PendingSpace::None,
        }
    }

    fn is_full(&self) -> bool {
        self.chars >= self.max_chars
    }

    fn push_str(&mut self, text: &str) {
        for character in text.chars() {
            if self.is_full() {
                return;
            }
            self.push_char(character);
        }
    }

    fn push_char(&mut self, character: char) {
        if is_line_break(character) {
            self.pending = PendingSpace::Newline;
        } else if character.is_whitespace() {
            self.pending = self.pending.max(PendingSpace::Space);
        } else if !is_invisible(character) {
            self.push_visible(character);
        }
    }

    fn line_break(&mut self) {
        self.push_char('\n');
    }

    fn space(&mut self) {
        self.push_char(' ');
    }

    /// Writes a non-whitespace character, preceded by the pending whitespace if both fit.
    fn push_visible(&mut self, character: char) {
        if self.is_full() {
            return;
        }
        let separator = match self.pending {
            PendingSpace::None => None,
            _ if self.text.is_empty() => None,
            PendingSpace::Space => Some(' '),
            PendingSpace::Newline => Some('\n'),
        };
        if let Some(separator) = separator {
            if self.chars + 2 > self.max_chars {
                self.chars = self.max_chars;
                return;
            }
            self.text.push(separator);
            self.chars += 1;
        }
        self.text.push(character);
        self.chars += 1;
        self.pending = PendingSpace::None;
    }

    fn finish(self) -> Option<String> {
        (!self.text.is_empty()).then_some(self.text)
    }
}

/// Control characters, byte order marks and the replacement character left by bad bytes.
fn is_invisible(character: char) -> bool {
    character.is_control() || matches!(character, '\u{feff}' | '\u{fffd}')
}

fn is_line_break(character: char) -> bool {
    matches!(
        character,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

// ---------------------------------------------------------------------------------------------
// Plain text, Markdown and HTML

fn extract_text_file(
    path: &Path,
    content_type: &str,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    let bytes = read_prefix(path, MAX_TEXT_FILE_BYTES)?;
    if !looks_like_text(&bytes) {
        return Err(ExtractError::NotText);
    }
    let text = decode_text(&bytes);
    let mut sink = TextSink::new();
    match text_kind(content_type, name, &text) {
        TextKind::Plain => sink.push_str(&text),
        TextKind::Markdown => markdown_to_text(&text, &mut sink),
        TextKind::Html => sink.push_str(&html_to_text(&text)?),
    }
    Ok(sink.finish())
}

/// Reads at most `limit` bytes from the start of a file.
fn read_prefix(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Decodes text: by its BOM if it has one, else as UTF-8 if valid, else as GB18030.
///
/// A multi-byte UTF-8 character cut off at the end (a file read only in part) is dropped.
fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom_length..]).0;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(error) if error.error_len().is_none() => {
            String::from_utf8_lossy(&bytes[..error.valid_up_to()])
        }
        Err(_) => GB18030.decode_without_bom_handling(bytes).0,
    }
}

/// Whether `bytes` decode with no error in `encoding`; an incomplete last character is fine.
fn decodes_cleanly(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Some(capacity) = decoder.max_utf8_buffer_length_without_replacement(bytes.len()) else {
        return false;
    };
    let mut decoded = String::with_capacity(capacity);
    let (result, _read) = decoder.decode_to_string_without_replacement(bytes, &mut decoded, false);
    result == DecoderResult::InputEmpty
}

/// Tells plain text, Markdown and HTML apart: by the file name's extension, then the content
/// type, then whether the text starts like an HTML document.
fn text_kind(content_type: &str, name: &str, text: &str) -> TextKind {
    match (extension(name).as_str(), essence(content_type).as_str()) {
        ("md" | "markdown", _) => TextKind::Markdown,
        ("html" | "htm" | "xhtml", _) => TextKind::Html,
        (_, "text/markdown") => TextKind::Markdown,
        (_, "text/html") => TextKind::Html,
        _ if starts_like_html(text) => TextKind::Html,
        _ => TextKind::Plain,
    }
}

/// Whether text starts with `<!doctype html` or `<html`, in any case.
fn starts_like_html(text: &str) -> bool {
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let start: String = start.chars().take(16).collect::<String>().to_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

/// The visible text of an HTML document, without decorations such as list bullets or borders.
fn html_to_text(html: &str) -> Result<String, ExtractError> {
    let render = || {
        html2text::config::with_decorator(TrivialDecorator::new())
            .raw_mode(true)
            .allow_width_overflow()
            .string_from_read(html.as_bytes(), HTML_WIDTH)
    };
    Ok(catch_panic("html2text", render)??)
}

// ---------------------------------------------------------------------------------------------
// Markdown

/// Writes the text of a Markdown document to `sink`, without its markup.
///
/// A line-by-line approximation, not a CommonMark parser: enough for search.
fn markdown_to_text(markdown: &str, sink: &mut TextSink) {
    let mut fence: Option<char> = None;
    for line in markdown.lines() {
        if sink.is_full() {
            return;
        }
        let trimmed = line.trim_start();
        if let Some(marker) = fence_marker(trimmed) {
            fence = match fence {
                None => Some(marker),
                Some(open) if open == marker => None,
                Some(open) => Some(open),
            };
        } else if fence.is_some() {
            sink.push_str(line);
        } else if !is_markdown_rule(trimmed) && !is_link_definition(trimmed) {
            sink.push_str(&strip_inline_markup(strip_block_markers(trimmed)));
        }
        sink.line_break();
    }
}

/// The fence character when a line opens or closes a code block (```` ``` ```` or `~~~`).
fn fence_marker(trimmed: &str) -> Option<char> {
    ['`', '~']
        .into_iter()
        .find(|&marker| trimmed.chars().take(3).filter(|&c| c == marker).count() == 3)
}

/// Whether a line is only a thematic break, setext underline or table separator: `---`, `===`,
/// `***`, `|---|:--:|`.
fn is_markdown_rule(trimmed: &str) -> bool {
    let marks: Vec<char> = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(&first) = marks.first() else {
        return false;
    };
    let is_break = marks.len() >= 3
        && matches!(first, '-' | '*' | '_' | '=')
        && marks.iter().all(|&c| c == first);
    let is_table_separator =
        marks.contains(&'-') && marks.iter().all(|c| matches!(c, '|' | '-' | ':'));
    is_break || is_table_separator
}

/// Whether a line defines a reference link target: `[label]: https://…`.
fn is_link_definition(trimmed: &str) -> bool {
    trimmed.starts_with('[') && !trimmed.starts_with("[^") && trimmed.contains("]:")
}

/// Drops the markers at the start of a line: quotes `>`, headings `#`, list items `-`, `1.`, task
/// boxes `[ ]`.
fn strip_block_markers(trimmed: &str) -> &str {
    let mut line = trimmed;
    while let Some(rest) = line.strip_prefix('>') {
        line = rest.trim_start();
    }
    if let Some(heading) = strip_heading(line) {
        return heading;
    }
    if let Some(item) = strip_list_marker(line) {
        line = item;
        for task in ["[ ] ", "[x] ", "[X] "] {
            if let Some(rest) = line.strip_prefix(task) {
                line = rest;
            }
        }
    }
    line
}

/// The heading text of `## Title ##`, or None when the line is no ATX heading.
fn strip_heading(line: &str) -> Option<&str> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let title = rest.trim();
    let without_closing = title.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        Some(without_closing.trim_end())
    } else {
        Some(title)
    }
}

/// The item text after a list marker (`- `, `* `, `+ `, `12. `, `3) `), or None.
fn strip_list_marker(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let marker_length = match line[digits..].chars().next() {
        Some('-' | '*' | '+') if digits == 0 => 1,
        Some('.' | ')') if (1..=9).contains(&digits) => digits + 1,
        _ => return None,
    };
    let rest = &line[marker_length..];
    rest.starts_with([' ', '\t']).then(|| rest.trim_start())
}

/// Drops inline Markdown: emphasis and code markers, link and image targets (keeping their text),
/// HTML tags and backslash escapes.
fn strip_inline_markup(line: &str) -> Cow<'_, str> {
    if line.len() > MAX_MARKDOWN_LINE_BYTES {
        return Cow::Borrowed(line);
    }
    let scan = InlineScan::new(line);
    let mut text = String::with_capacity(line.len());
    let mut link_closes: Vec<usize> = Vec::new();
    let mut index = 0;
    while let Some(&character) = scan.chars.get(index) {
        let next = scan.chars.get(index + 1).copied();
        index += 1;
        match character {
            '\\' if next.is_some_and(|c| c.is_ascii_punctuation()) => {
                text.extend(next);
                index += 1;
            }
            '!' if next == Some('[') && scan.link_close(index).is_some() => {}
            '[' => match scan.link_close(index - 1) {
                Some(close) => link_closes.push(close),
                None => text.push('['),
            },
            ']' if link_closes.last() == Some(&(index - 1)) => {
                link_closes.pop();
                index = scan.after_link_target(index);
            }
            '*' | '_' | '~' | '`' if scan.is_markup_marker(index - 1) => {}
            '<' => index = scan.push_html_tag_text(index - 1, &mut text),
            _ => text.push(character),
        }
    }
    Cow::Owned(text)
}

/// One Markdown line as characters, with its brackets matched and its `>` found in advance, so
/// that stripping it takes linear time whatever the line holds.
struct InlineScan {
    chars: Vec<char>,
    /// For each `(`, `)`, `[` or `]`: the position of its matching bracket.
    partners: Vec<Option<usize>>,
    /// For each position: the next `>` at or after it.
    next_tag_ends: Vec<Option<usize>>,
}

impl InlineScan {
    fn new(line: &str) -> Self {
        let chars: Vec<char> = line.chars().collect();
        let partners = bracket_partners(&chars);
        let next_tag_ends = next_positions(&chars, '>');
        Self {
            chars,
            partners,
            next_tag_ends,
        }
    }

    /// The `]` closing the link label opened at `open`, when a target `(…)` or `[…]` follows it.
    fn link_close(&self, open: usize) -> Option<usize> {
        let close = self.partners.get(open).copied().flatten()?;
        matches!(self.chars.get(close + 1), Some('(' | '[')).then_some(close)
    }

    /// The position just after the link target `(url "title")` or reference `[ref]` starting at
    /// `start`, or `start` when there is no complete one.
    fn after_link_target(&self, start: usize) -> usize {
        match self.chars.get(start) {
            Some('(' | '[') => self
                .partners
                .get(start)
                .copied()
                .flatten()
                .map_or(start, |close| close + 1),
            _ => start,
        }
    }

    /// Whether an emphasis, strike-through or code character is markup. Backticks always are;
    /// `_` and `~` are not inside a word (`snake_case`, `1~5`), nor `*` between ASCII letters or
    /// digits (`2*3`); `*` between Chinese characters is emphasis (`这是*重点*`).
    fn is_markup_marker(&self, index: usize) -> bool {
        let Some(&marker) = self.chars.get(index) else {
            return false;
        };
        let is_word_char = |c: &char| match marker {
            '*' => c.is_ascii_alphanumeric(),
            _ => c.is_alphanumeric(),
        };
        let before = index.checked_sub(1).and_then(|i| self.chars.get(i));
        let after = self.chars.get(index + 1);
        let inside_word = before.is_some_and(is_word_char) && after.is_some_and(is_word_char);
        marker == '`' || !inside_word
    }

    /// Handles a `<` at `start`: an HTML tag is dropped, an autolink `<https://…>` keeps its
    /// address, anything else is text. Returns the position to continue from.
    fn push_html_tag_text(&self, start: usize, text: &mut String) -> usize {
        let is_tag_start = self
            .chars
            .get(start + 1)
            .is_some_and(|&c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        let end = self
            .next_tag_ends
            .get(start)
            .copied()
            .flatten()
            .filter(|&end| end - start <= MAX_TAG_CHARS);
        match end {
            Some(end) if is_tag_start => {
                let inner: String = self.chars[start + 1..end].iter().collect();
                if inner.contains("://") || (inner.contains('@') && !inner.contains(' ')) {
                    text.push_str(&inner);
                } else {
                    text.push(' ');
                }
                end + 1
            }
            _ => {
                text.push('<');
                start + 1
            }
        }
    }
}

/// Matches round and square brackets: each bracket's partner position, if it has one.
fn bracket_partners(chars: &[char]) -> Vec<Option<usize>> {
    let mut partners = vec![None; chars.len()];
    let mut open_round = Vec::new();
    let mut open_square = Vec::new();
    for (position, &character) in chars.iter().enumerate() {
        let open = match character {
            '(' => {
                open_round.push(position);
                None
            }
            '[' => {
                open_square.push(position);
                None
            }
            ')' => open_round.pop(),
            ']' => open_square.pop(),
            _ => None,
        };
        if let Some(open) = open {
            partners[open] = Some(position);
            partners[position] = Some(open);
        }
    }
    partners
}

/// For each position, the next position at or after it holding `wanted`.
fn next_positions(chars: &[char], wanted: char) -> Vec<Option<usize>> {
    let mut next = vec![None; chars.len()];
    let mut found = None;
    for (position, &character) in chars.iter().enumerate().rev() {
        if character == wanted {
            found = Some(position);
        }
        next[position] = found;
    }
    next
}

// ---------------------------------------------------------------------------------------------
// DOCX and PPTX

/// Caps on decompressed XML, against zip bombs.
#[derive(Debug, Clone, Copy)]
struct XmlLimits {
    per_entry: u64,
    total: u64,
    slides: usize,
}

impl XmlLimits {
    const DEFAULT: Self = Self {
        per_entry: MAX_XML_ENTRY_BYTES,
        total: MAX_XML_TOTAL_BYTES,
        slides: MAX_SLIDES,
    };
}

fn extract_office(
    path: &Path,
    hint: OfficeKind,
    name: &str,
    mut limits: XmlLimits,
) -> Result<Option<String>, ExtractError> {
    let mut archive = ZipArchive::new(BufReader::new(File::open(path)?))?;
    let mut sink = TextSink::new();
    match office_kind(&archive, hint, name) {
        OfficeKind::Docx => read_xml_entry(&mut archive, DOCX_BODY, &mut limits, &mut sink)?,
        OfficeKind::Pptx => {
            for slide in slide_names(&archive, limits.slides) {
                if sink.is_full() || limits.total == 0 {
                    break;
                }
                read_xml_entry(&mut archive, &slide, &mut limits, &mut sink)?;
                sink.line_break();
            }
        }
        OfficeKind::Unknown => return Err(ExtractError::NotOffice),
    }
    Ok(sink.finish())
}

/// Tells DOCX from PPTX by the zip's entries; the hint (content type or file name) decides only
/// when both kinds of entries are there.
fn office_kind<R: Read + io::Seek>(
    archive: &ZipArchive<R>,
    hint: OfficeKind,
    name: &str,
) -> OfficeKind {
    let is_docx = archive.index_for_name(DOCX_BODY).is_some();
    let is_pptx = archive.index_for_name(PPTX_MAIN).is_some()
        || archive
            .file_names()
            .any(|entry| slide_number(entry).is_some());
    match (is_docx, is_pptx) {
        (true, true) if hint == OfficeKind::Pptx => OfficeKind::Pptx,
        (true, true) => match office_kind_from_extension(&extension(name)) {
            OfficeKind::Pptx => OfficeKind::Pptx,
            _ => OfficeKind::Docx,
        },
        (true, false) => OfficeKind::Docx,
        (false, true) => OfficeKind::Pptx,
        (false, false) => OfficeKind::Unknown,
    }
}

/// The slide entries `ppt/slides/slideN.xml`, in slide number order, at most `max`.
fn slide_names<R: Read + io::Seek>(archive: &ZipArchive<R>, max: usize) -> Vec<String> {
    let mut slides: Vec<(u32, &str)> = archive
        .file_names()
        .filter_map(|entry| slide_number(entry).map(|number| (number, entry)))
        .collect();
    slides.sort_unstable();
    slides
        .into_iter()
        .take(max)
        .map(|(_, entry)| entry.to_owned())
        .collect()
}

/// N of an entry named `ppt/slides/slideN.xml`.
fn slide_number(entry: &str) -> Option<u32> {
    let digits = entry
        .strip_prefix(SLIDE_PREFIX)?
        .strip_suffix(SLIDE_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads the text of one XML entry into `sink`, within the limits; uses up the bytes read.
fn read_xml_entry<R: Read + io::Seek>(
    archive: &mut ZipArchive<R>,
    entry: &str,
    limits: &mut XmlLimits,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    let cap = limits.per_entry.min(limits.total);
    let file = archive.by_name(entry)?;
    let reader = BufReader::new(file.take(cap));
    let (reader, outcome) = collect_ooxml_text(reader, sink);
    let left = reader.into_inner().limit();
    limits.total -= cap - left;
    if left == 0 {
        tracing::debug!(entry, cap, "XML entry cut at the decompression limit");
    }
    match outcome {
        Ok(()) => Ok(()),
        // A part cut short by the limit ends in broken XML: its text so far is kept.
        Err(_) if left == 0 => Ok(()),
        Err(error) => Err(error),
    }
}

/// Where the XML walker is, as far as text goes.
#[derive(Debug, Default)]
struct OoxmlState {
    /// Inside a text run (`w:t`, `a:t`, `m:t`).
    in_text: bool,
    /// Depth of `mc:Fallback` elements, whose content repeats the `mc:Choice` before them.
    fallback_depth: usize,
}

/// Writes the text of a WordprocessingML or DrawingML part to `sink`: the content of `t`
/// elements, a newline at the end of each `p` paragraph and at `br`/`cr` breaks, a space at
/// `tab`. Returns the reader (to see how much was read) with the outcome.
fn collect_ooxml_text<R: BufRead>(reader: R, sink: &mut TextSink) -> (R, Result<(), ExtractError>) {
    let mut xml = quick_xml::Reader::from_reader(reader);
    xml.config_mut().check_end_names = false;
    let mut buffer = Vec::new();
    let mut state = OoxmlState::default();
    let outcome = loop {
        if sink.is_full() {
            break Ok(());
        }
        match xml.read_event_into(&mut buffer) {
            Ok(Event::Eof) => break Ok(()),
            Ok(event) => {
                if let Err(error) = handle_ooxml_event(event, &mut state, sink) {
                    break Err(error);
                }
            }
            Err(error) => break Err(error.into()),
        }
        buffer.clear();
    };
    (xml.into_inner(), outcome)
}

fn handle_ooxml_event(
    event: Event<'_>,
    state: &mut OoxmlState,
    sink: &mut TextSink,
) -> Result<(), ExtractError> {
    let visible = state.fallback_depth == 0;
    match event {
        Event::Start(element) => match element.local_name().as_ref() {
            b"t" => state.in_text = true,
            b"Fallback" => state.fallback_depth += 1,
            other if visible => push_ooxml_marker(other, sink),
            _ => {}
        },
        Event::Empty(element) if visible => {
            push_ooxml_marker(element.local_name().as_ref(), sink);
        }
        Event::End(element) => match element.local_name().as_ref() {
            b"t" => state.in_text = false,
            b"p" if visible => sink.line_break(),
            b"Fallback" => state.fallback_depth = state.fallback_depth.saturating_sub(1),
            _ => {}
        },
        // Lossy: a part cut at the limit may end inside a character.
        Event::Text(text) if state.in_text && visible => {
            sink.push_str(&String::from_utf8_lossy(&text))
        }
        Event::CData(text) if state.in_text && visible => {
            sink.push_str(&String::from_utf8_lossy(&text))
        }
        Event::GeneralRef(reference) if state.in_text && visible => {
            if let Some(resolved) = resolve_reference(&reference) {
                sink.push_str(&resolved);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The whitespace an element stands for: `tab` a space; `br`, `cr` and an empty `p` a newline.
fn push_ooxml_marker(local_name: &[u8], sink: &mut TextSink) {
    match local_name {
        b"tab" => sink.space(),
        b"br" | b"cr" | b"p" => sink.line_break(),
        _ => {}
    }
}

/// The text of `&#20108;`, `&#x4E8C;` or `&amp;`-style references; None for unknown entities.
fn resolve_reference(reference: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(character)) = reference.resolve_char_ref() {
        return Some(character.to_string());
    }
    let name = reference.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
}

// ---------------------------------------------------------------------------------------------
// PDF

fn extract_pdf(path: &Path) -> Result<Option<String>, ExtractError> {
    let text = catch_panic("pdf-extract", || pdf_extract::extract_text(path))??;
    let mut sink = TextSink::new();
    sink.push_str(&text);
    Ok(sink.finish())
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a file gave no text; only logged.
#[derive(Debug)]
enum ExtractError {
    Io(io::Error),
    Zip(ZipError),
    Xml(quick_xml::Error),
    Html(html2text::Error),
    Pdf(pdf_extract::OutputError),
    Panicked {
        library: &'static str,
        message: String,
    },
    NotText,
    NotOffice,
}

impl fmt::Display for ExtractError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(formatter, "cannot read the file: {error}"),
            Self::Zip(error) => write!(formatter, "damaged zip: {error}"),
            Self::Xml(error) => write!(formatter, "damaged XML: {error}"),
            Self::Html(error) => write!(formatter, "cannot render HTML: {error}"),
            Self::Pdf(error) => write!(formatter, "damaged PDF: {error}"),
            Self::Panicked { library, message } => {
                write!(formatter, "{library} panicked: {message}")
            }
            Self::NotText => formatter.write_str("binary content of an unknown type"),
            Self::NotOffice => formatter.write_str("a zip that is neither DOCX nor PPTX"),
        }
    }
}

impl From<io::Error> for ExtractError {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

impl From<ZipError> for ExtractError {
    fn from(error: ZipError) -> Self {
        Self::Zip(error)
    }
}

impl From<quick_xml::Error> for ExtractError {
    fn from(error: quick_xml::Error) -> Self {
        Self::Xml(error)
    }
}

impl From<html2text::Error> for ExtractError {
    fn from(error: html2text::Error) -> Self {
        Self::Html(error)
    }
}

impl From<pdf_extract::OutputError> for ExtractError {
    fn from(error: pdf_extract::OutputError) -> Self {
        Self::Pdf(error)
    }
}

/// Runs a third-party parser that may panic on odd input, turning a panic into an error.
fn catch_panic<T>(library: &'static str, run: impl FnOnce() -> T) -> Result<T, ExtractError> {
    panic::catch_unwind(AssertUnwindSafe(run)).map_err(|payload| ExtractError::Panicked {
        library,
        message: panic_message(payload.as_ref()),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use tempfile::TempDir;
    use zip::write::SimpleFileOptions;

    use super::*;

    const TOPIC: &str = "二次函数的图像与性质";

    fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    fn write_zip(dir: &TempDir, name: &str, entries: &[(&str, &str)]) -> PathBuf {
        let path = dir.path().join(name);
        let mut zip = zip::ZipWriter::new(File::create(&path).expect("create zip"));
        for (entry, content) in entries {
            zip.start_file(*entry, SimpleFileOptions::default())
                .expect("start zip entry");
            zip.write_all(content.as_bytes()).expect("write zip entry");
        }
        zip.finish().expect("finish zip");
        path
    }

    fn docx_xml(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{body}</w:body></w:document>"#
        )
    }

    fn docx_paragraph(text: &str) -> String {
        format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    }

    fn slide_xml(paragraphs: &[&str]) -> String {
        let paragraphs: String = paragraphs
            .iter()
            .map(|text| format!("<a:p><a:r><a:t>{text}</a:t></a:r></a:p>"))
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
        )
    }

    /// A one-page PDF showing `line` in Helvetica, with a correct cross-reference table.
    fn pdf_with_line(line: &str) -> Vec<u8> {
        let content = format!("BT /F1 24 Tf 72 700 Td ({line}) Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_owned(),
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_owned(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
        }
        let xref_offset = pdf.len();
        let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for offset in offsets {
            xref.push_str(&format!("{offset:010} 00000 n \n"));
        }
        pdf.extend_from_slice(xref.as_bytes());
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_offset}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn docx_gives_paragraph_text_in_order() {
        let dir = TempDir::new().expect("temp dir");
        let body = [
            docx_paragraph(TOPIC),
            "<w:p><w:r><w:t>顶点</w:t><w:tab/><w:t xml:space=\"preserve\">坐标 </w:t></w:r>\
             <w:r><w:t>A&amp;B &#x4E8C;</w:t><w:br/><w:t>对称轴</w:t></w:r></w:p>"
                .to_owned(),
            "<w:p><w:r><mc:AlternateContent><mc:Choice><w:t>文本框</w:t></mc:Choice>\
             <mc:Fallback><w:t>文本框</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"
                .to_owned(),
            "<w:p><w:r><w:delText>删除的</w:delText><w:instrText>PAGE</w:instrText></w:r></w:p>"
                .to_owned(),
        ]
        .concat();
        let path = write_zip(
            &dir,
            "upload.bin",
            &[
                ("[Content_Types].xml", "<Types/>"),
                (DOCX_BODY, &docx_xml(&body)),
            ],
        );

        let expected = format!("{TOPIC}\n顶点 坐标 A&B 二\n对称轴\n文本框");
        assert_eq!(
            extract_text(&path, DOCX_MIME, "教案.docx").as_deref(),
            Some(expected.as_str())
        );
        // infer may only say "zip"; the entries still tell it is a DOCX, whatever the name.
        assert_eq!(
            extract_text(&path, ZIP_MIME, "upload.bin").as_deref(),
            Some(expected.as_str())
        );
        // A wrong specific type is overruled by the entries too.
        assert_eq!(
            extract_text(&path, PPTX_MIME, "x.pptx").as_deref(),
            Some(expected.as_str())
        );
    }

    #[test]
    fn pptx_gives_slides_in_numeric_order() {
        let dir = TempDir::new().expect("temp dir");
        let path = write_zip(
            &dir,
            "slides.pptx",
            &[
                (PPTX_MAIN, "<p:presentation/>"),
                ("ppt/slides/slide10.xml", &slide_xml(&["第十页"])),
                ("ppt/slides/slide2.xml", &slide_xml(&["第二页", "顶点式"])),
                ("ppt/slides/slide1.xml", &slide_xml(&[TOPIC])),
                ("ppt/slides/_rels/slide1.xml.rels", "<Relationships/>"),
                ("ppt/slideLayouts/slideLayout1.xml", &slide_xml(&["版式"])),
            ],
        );

        let expected = format!("{TOPIC}\n第二页\n顶点式\n第十页");
        assert_eq!(
            extract_text(&path, ZIP_MIME, "slides.pptx").as_deref(),
            Some(expected.as_str())
        );
        assert_eq!(
            extract_text(&path, PPTX_MIME, "slides.pptx").as_deref(),
            Some(expected.as_str())
        );
    }

    #[test]
    fn zip_limits_stop_reading_without_failing() {
        let dir = TempDir::new().expect("temp dir");
        let slides: Vec<(String, String)> = (1..=5)
            .map(|n| {
                let text = format!("slide{n}");
                (format!("ppt/slides/slide{n}.xml"), slide_xml(&[&text]))
            })
            .collect();
        let entries: Vec<(&str, &str)> = slides
            .iter()
            .map(|(name, xml)| (name.as_str(), xml.as_str()))
            .collect();
        let pptx = write_zip(&dir, "many.pptx", &entries);
        let few_slides = XmlLimits {
            slides: 2,
            ..XmlLimits::DEFAULT
        };
        let text = extract_office(&pptx, OfficeKind::Unknown, "", few_slides).expect("pptx");
        assert_eq!(text.as_deref(), Some("slide1\nslide2"));

        let body = docx_paragraph("开头") + &docx_paragraph(&"填充".repeat(10_000));
        let docx = write_zip(&dir, "big.docx", &[(DOCX_BODY, &docx_xml(&body))]);
        let small_entries = XmlLimits {
            per_entry: 1024,
            ..XmlLimits::DEFAULT
        };
        let text = extract_office(&docx, OfficeKind::Docx, "", small_entries)
            .expect("a part cut at the limit keeps its text")
            .expect("some text");
        assert!(text.starts_with("开头\n填充"), "{text}");
        assert!(text.chars().count() < 1024, "read past the limit");
    }

    #[test]
    fn markdown_markup_is_dropped() {
        let dir = TempDir::new().expect("temp dir");
        let markdown = "\u{feff}# 二次函数 #\n\n\
            > **重点**：顶点*坐标*与 __对称轴__ 1~5 ~~删除~~\n\
            - [x] 阅读 [课本第三章](https://example.com/ch3 \"第三章\") 和 [笔记][1]\n\
            12. ![抛物线图](images/parabola.png) 变量 snake_case 与 2*3\n\
            ---\n\
            | 系数 | 含义 |\n|:---|---:|\n| a | 开口 |\n\
            ```python\nprint('y = a*x**2')\n```\n\
            行内 `code` 与 <span>标签</span> 及 <https://example.com/x>\n\
            [1]: https://example.com/notes\n";
        let path = write_file(&dir, "notes.md", markdown.as_bytes());

        let text = extract_text(&path, "", "notes.md").expect("markdown text");
        assert_eq!(
            text,
            "二次函数\n重点：顶点坐标与 对称轴 1~5 删除\n阅读 课本第三章 和 笔记\n\
             抛物线图 变量 snake_case 与 2*3\n| 系数 | 含义 |\n| a | 开口 |\n\
             print('y = a*x**2')\n行内 code 与 标签 及 https://example.com/x"
        );
    }

    #[test]
    fn html_gives_visible_text_only() {
        let dir = TempDir::new().expect("temp dir");
        let html = "<!DOCTYPE html><html><head><title>页</title>\
            <style>body { color: red; }</style></head><body>\
            <h1>二次函数</h1><script>var secret = 'hidden script';</script>\
            <p>图像 <b>与</b> <a href=\"https://example.com\">性质</a></p>\
            <ul><li>开口</li><li>顶点</li></ul>\
            <table><tr><td>a</td><td>b</td></tr></table></body></html>";
        let path = write_file(&dir, "page.html", html.as_bytes());

        let text = extract_text(&path, "text/html", "page.html").expect("html text");
        assert!(text.contains("二次函数"), "{text}");
        assert!(text.contains("图像 与 性质"), "{text}");
        assert!(text.contains("开口\n顶点"), "{text}");
        for hidden in ["hidden script", "secret", "color", "example.com", "*", "#"] {
            assert!(!text.contains(hidden), "{hidden:?} in {text:?}");
        }
        // Sniffed from the content when the name says nothing.
        let sniffed = write_file(&dir, "page", html.as_bytes());
        assert_eq!(extract_text(&sniffed, "", "page"), Some(text));
    }

    #[test]
    fn gb18030_text_is_decoded() {
        let dir = TempDir::new().expect("temp dir");
        let (bytes, _, unmappable) = GB18030.encode("二次函数的图像与性质\r\n第一课 教案");
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "test needs non-UTF-8 bytes"
        );
        let path = write_file(&dir, "教案.txt", &bytes);

        assert!(looks_like_text(&bytes));
        assert_eq!(
            extract_text(&path, "", "教案.txt").as_deref(),
            Some("二次函数的图像与性质\n第一课 教案")
        );
    }

    #[test]
    fn utf8_and_utf16_boms_are_dropped() {
        let dir = TempDir::new().expect("temp dir");
        let utf8 = write_file(&dir, "a.txt", "\u{feff}二次函数".as_bytes());
        assert_eq!(
            extract_text(&utf8, "text/plain", "a.txt").as_deref(),
            Some("二次函数")
        );

        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend("二次函数 x".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(looks_like_text(&utf16));
        let path = write_file(&dir, "b.txt", &utf16);
        assert_eq!(
            extract_text(&path, "", "b.txt").as_deref(),
            Some("二次函数 x")
        );
    }

    #[test]
    fn whitespace_is_collapsed() {
        let dir = TempDir::new().expect("temp dir");
        let path = write_file(
            &dir,
            "a.txt",
            b"  \t first  line \x01 \r\n\r\n\n   second\tline\x0c third \n\n",
        );
        assert_eq!(
            extract_text(&path, "text/plain", "a.txt").as_deref(),
            Some("first line\nsecond line\nthird")
        );
    }

    #[test]
    fn pdf_text_is_extracted() {
        let dir = TempDir::new().expect("temp dir");
        let path = write_file(
            &dir,
            "handout.pdf",
            &pdf_with_line("Quadratic functions and parabolas"),
        );
        let text = extract_text(&path, PDF_MIME, "handout.pdf").expect("pdf text");
        assert!(
            text.contains("Quadratic functions and parabolas"),
            "{text:?}"
        );
    }

    #[test]
    fn damaged_files_give_none() {
        let dir = TempDir::new().expect("temp dir");
        let mut pdf = pdf_with_line("Quadratic functions");
        pdf.truncate(pdf.len() / 2);
        let broken_pdf = write_file(&dir, "broken.pdf", &pdf);
        assert_eq!(extract_text(&broken_pdf, PDF_MIME, "broken.pdf"), None);
        let garbage_pdf = write_file(
            &dir,
            "garbage.pdf",
            b"%PDF-1.7\n\xff\xfe garbage 1 0 obj <<",
        );
        assert_eq!(extract_text(&garbage_pdf, PDF_MIME, "garbage.pdf"), None);

        let zip = write_zip(
            &dir,
            "ok.docx",
            &[(DOCX_BODY, &docx_xml(&docx_paragraph(TOPIC)))],
        );
        let mut bytes = std::fs::read(&zip).expect("read zip");
        let cut = bytes.len() - 30;
        bytes.truncate(cut);
        let broken_zip = write_file(&dir, "broken.docx", &bytes);
        assert_eq!(extract_text(&broken_zip, DOCX_MIME, "broken.docx"), None);
        assert_eq!(extract_text(&broken_zip, ZIP_MIME, "broken.docx"), None);
        let not_zip = write_file(&dir, "fake.pptx", b"PK\x03\x04 not really a zip");
        assert_eq!(extract_text(&not_zip, PPTX_MIME, "fake.pptx"), None);

        let damaged_xml = "<w:document><w:body><w:p><w:r><w:t>文字</w:t></w:r></w:p><w:p a=\"x";
        let broken_xml = write_zip(&dir, "xml.docx", &[(DOCX_BODY, damaged_xml)]);
        assert_eq!(extract_text(&broken_xml, DOCX_MIME, "xml.docx"), None);
        let other_zip = write_zip(&dir, "photos.zip", &[("readme.txt", TOPIC)]);
        assert_eq!(extract_text(&other_zip, ZIP_MIME, "photos.zip"), None);
        let missing = dir.path().join("missing.txt");
        assert_eq!(extract_text(&missing, "text/plain", "missing.txt"), None);
    }

    #[test]
    fn parser_panics_become_errors() {
        let caught = catch_panic("test parser", || -> u8 { panic!("odd file") });
        let message = caught.map_err(|error| error.to_string());
        assert_eq!(message, Err("test parser panicked: odd file".to_owned()));
        assert_eq!(catch_panic("test parser", || 7).ok(), Some(7));
    }

    #[test]
    fn media_binary_and_empty_files_give_none() {
        let dir = TempDir::new().expect("temp dir");
        let png = write_file(&dir, "a.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        assert_eq!(extract_text(&png, "image/png", "a.png"), None);
        let text_named_video = write_file(&dir, "clip.mp4", b"plain words");
        assert_eq!(
            extract_text(&text_named_video, "video/mp4", "clip.mp4"),
            None
        );
        let binary = write_file(&dir, "blob", b"abc\0def\x01\x02");
        assert_eq!(extract_text(&binary, "", "blob"), None);
        let empty = write_file(&dir, "empty.txt", b"");
        assert_eq!(extract_text(&empty, "", "empty.txt"), None);
        let blank = write_file(&dir, "blank.md", b" \n\n# \n---\n");
        assert_eq!(extract_text(&blank, "", "blank.md"), None);
    }

    #[test]
    fn long_text_is_cut_to_the_limit() {
        let dir = TempDir::new().expect("temp dir");
        let unit = "二次函数图像 ";
        let long = unit.repeat(MAX_TEXT_CHARS / 6 + 1_000);
        let path = write_file(&dir, "long.txt", long.as_bytes());

        let text = extract_text(&path, "text/plain", "long.txt").expect("text");
        assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
        let expected: String = long.chars().take(MAX_TEXT_CHARS).collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn sink_never_ends_with_whitespace_at_the_limit() {
        let mut sink = TextSink::with_max_chars(5);
        sink.push_str("abcd   ef");
        assert!(sink.is_full());
        assert_eq!(sink.finish().as_deref(), Some("abcd"));

        let mut sink = TextSink::with_max_chars(5);
        sink.push_str("ab\n \ncd ef");
        assert_eq!(sink.finish().as_deref(), Some("ab\ncd"));
    }

    #[test]
    fn looks_like_text_tells_text_from_binary() {
        assert!(looks_like_text("二次函数 plain text\n".as_bytes()));
        assert!(looks_like_text(b""));
        let (gbk, _, _) = GB18030.encode("二次函数的图像与性质");
        assert!(looks_like_text(&gbk));
        // A character cut off at the end of the head is fine.
        let utf8 = "二次函数".as_bytes();
        assert!(looks_like_text(&utf8[..utf8.len() - 1]));
        assert!(!looks_like_text(b"text\0with a NUL"));
        assert!(!looks_like_text(b"\xff\xff\xff\x80\x80"));
        assert!(!looks_like_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        // Only the first 8 KiB count.
        let mut late_nul = vec![b'a'; TEXT_SNIFF_BYTES];
        late_nul.push(0);
        assert!(looks_like_text(&late_nul));
    }

    #[test]
    fn formats_are_chosen_from_type_and_name() {
        assert_eq!(detect_format("application/pdf", "x"), Some(Format::Pdf));
        assert_eq!(detect_format("", "Handout.PDF"), Some(Format::Pdf));
        assert_eq!(
            detect_format("application/zip", "课件.pptx"),
            Some(Format::Office(OfficeKind::Pptx))
        );
        assert_eq!(
            detect_format("Text/Plain; charset=utf-8", "a.md"),
            Some(Format::Text)
        );
        assert_eq!(detect_format("image/jpeg", "a.txt"), None);
        assert_eq!(detect_format("application/x-executable", "a.txt"), None);
        assert_eq!(text_kind("text/plain", "a.MD", "# x"), TextKind::Markdown);
        assert_eq!(text_kind("", "a.txt", " <HTML><body>x"), TextKind::Html);
        assert_eq!(text_kind("", "a.txt", "<p>x</p>"), TextKind::Plain);
        assert_eq!(text_kind("text/markdown", "notes", "x"), TextKind::Markdown);
        assert_eq!(text_kind("text/html", "page", "<p>x</p>"), TextKind::Html);
    }

    #[test]
    fn pathological_markdown_is_fast_and_safe() {
        let line = "[a](".repeat(20_000) + &"<a".repeat(20_000) + &"](x)".repeat(20_000);
        let started = std::time::Instant::now();
        let text = strip_inline_markup(&line);
        assert!(!text.is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
