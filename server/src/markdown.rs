//! Markdown as people write it in lessons, assignments and announcements, rendered to HTML that
//! is safe to show to anyone.
//!
//! Two guards: text that tries to run script (a `<script>` element, an `on…=` handler, a
//! `javascript:` link) is refused with the line it is on, so the author learns what was wrong
//! instead of seeing it silently vanish; everything else is rendered by pulldown-cmark and then
//! sanitised by ammonia, which keeps only known-safe tags and attributes.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag};

use crate::error::{AppError, ErrorCode};

/// Markdown longer than this is refused (a lesson is not a book).
pub const MAX_CHARS: usize = 100_000;

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Script at this line (1-based): the offending piece is named.
    Script {
        line: usize,
        what: String,
    },
    TooLong {
        chars: usize,
    },
}

impl Refused {
    /// The API error for this refusal, naming the field it came from.
    pub fn into_error(self, field: &str) -> AppError {
        let hint = match self {
            Refused::Script { line, what } => format!(
                "第 {line} 行含有脚本（{what}），不能发布；请删除它 / line {line} contains script ({what}), which cannot be published; remove it"
            ),
            Refused::TooLong { chars } => format!(
                "内容有 {chars} 个字符，最多 {MAX_CHARS} 个 / {chars} characters, at most {MAX_CHARS}"
            ),
        };
        AppError::new(ErrorCode::InvalidField)
            .with_arg("field", field.to_owned())
            .with_arg("hint", hint)
    }
}

/// Render `source` to sanitised HTML, or say why it cannot be published.
pub fn render(source: &str) -> Result<String, Refused> {
    let chars = source.chars().count();
    if chars > MAX_CHARS {
        return Err(Refused::TooLong { chars });
    }
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let parser = Parser::new_ext(source, options).into_offset_iter();
    let mut events = Vec::new();
    for (event, range) in parser {
        let line = || source[..range.start].matches('\n').count() + 1;
        let script = match &event {
            Event::Html(html) | Event::InlineHtml(html) => script_in_html(html),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. })
                if is_script_url(dest_url) =>
            {
                Some(dest_url.chars().take(40).collect())
            }
            _ => None,
        };
        if let Some(what) = script {
            return Err(Refused::Script { line: line(), what });
        }
        events.push(event);
    }
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Ok(SANITISER.clean(&html).to_string())
}

/// Markdown as plain text, for previews and notices: tags dropped, whitespace collapsed.
pub fn plain(source: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for event in Parser::new(source) {
        if let Event::Text(t) | Event::Code(t) = event {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str(t.trim());
        }
        if out.chars().count() > max_chars {
            break;
        }
    }
    let mut short: String = out.chars().take(max_chars).collect();
    if short.len() < out.len() {
        short.push('…');
    }
    short
}

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("img", ["alt", "title", "width", "height"])
        .add_tag_attributes("td", ["align"])
        .add_tag_attributes("th", ["align"]);
    b
});

/// The script a piece of raw HTML carries, if any.
fn script_in_html(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for needle in ["<script", "<iframe", "<object", "<embed"] {
        if lower.contains(needle) {
            return Some(format!("{needle}>"));
        }
    }
    if lower.contains("javascript:") || lower.contains("vbscript:") {
        return Some("javascript:".to_owned());
    }
    // An event handler attribute: ` onclick=`, ` onerror =` …
    let bytes = lower.as_bytes();
    for (i, w) in lower.match_indices("on") {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        if !matches!(before, Some(b' ' | b'\t' | b'\n' | b'/' | b'"' | b'\'')) {
            continue;
        }
        let rest = &lower[i + w.len()..];
        let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        if name_len == 0 {
            continue;
        }
        if rest[name_len..].trim_start().starts_with('=') {
            return Some(format!("on{}=", &rest[..name_len]));
        }
    }
    None
}

fn is_script_url(url: &str) -> bool {
    let u: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    u.starts_with("javascript:") || u.starts_with("vbscript:") || u.starts_with("data:text/html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_with_tables_and_lists() {
        let html =
            render("# 二次函数\n\n- 定义\n- 图像\n\n|a|b|\n|-|-|\n|1|2|\n").unwrap_or_default();
        assert!(html.contains("<h1>二次函数</h1>"), "{html}");
        assert!(html.contains("<li>定义</li>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
    }

    #[test]
    fn refuses_script_with_its_line() {
        let refused = render("第一行\n\n<script>alert(1)</script>\n");
        assert_eq!(
            refused,
            Err(Refused::Script {
                line: 3,
                what: "<script>".into()
            })
        );
        assert!(matches!(
            render("ok\n<img src=x onerror=alert(1)>"),
            Err(Refused::Script { line: 2, .. })
        ));
        assert!(matches!(
            render("[点我](javascript:alert(1))"),
            Err(Refused::Script { line: 1, .. })
        ));
    }

    #[test]
    fn sanitises_what_is_not_script() {
        let html = render("<div style=\"color:red\">文字</div> <b>粗</b>").unwrap_or_default();
        assert!(!html.contains("style"), "{html}");
        assert!(html.contains("<b>粗</b>"), "{html}");
        let html = render("[链接](https://example.com)").unwrap_or_default();
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn words_that_start_with_on_are_not_handlers() {
        assert!(render("<span title=\"online\">x</span> one=1").is_ok());
    }

    #[test]
    fn plain_text_preview() {
        assert_eq!(plain("# 标题\n\n正文 **粗体**", 100), "标题 正文 粗体");
        assert_eq!(plain("一二三四五", 3), "一二三…");
    }
}
