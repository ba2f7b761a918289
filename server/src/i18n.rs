//! Languages and the string catalogues: Chinese first, English second.
//!
//! Every string a person reads lives in `web/i18n/<lang>.toml`, one catalogue per language, with
//! the same keys in each (a test holds them in step). The language of a request comes from the
//! person's choice (the `kj_lang` cookie), then the browser's `Accept-Language`, then Chinese.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// The cookie that remembers a person's chosen language.
pub const LANG_COOKIE: &str = "kj_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The BCP 47 tag for the `lang` attribute and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The short code used in the cookie and the language switch.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Pick the language for a request: cookie, then `Accept-Language`, then Chinese.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        cookie_lang(headers)
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(from_accept_language)
            })
            .unwrap_or_default()
    }
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    crate::auth::csrf::read_cookie(headers, LANG_COOKIE).and_then(Lang::from_code)
}

/// The supported language the browser prefers most, honouring q-values (RFC 9110 §12.5.4).
fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = range.split('-').next().unwrap_or("");
        let lang = match primary {
            "zh" => Lang::Zh,
            "en" => Lang::En,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::negotiate(&parts.headers))
    }
}

/// Both catalogues, loaded once at start from the files embedded in the binary.
#[derive(Debug, Clone)]
pub struct Catalogues {
    zh: Arc<HashMap<String, String>>,
    en: Arc<HashMap<String, String>>,
}

const ZH_SOURCE: &str = include_str!("../../web/i18n/zh-CN.toml");
const EN_SOURCE: &str = include_str!("../../web/i18n/en.toml");

impl Catalogues {
    pub fn load() -> Result<Self, toml::de::Error> {
        Ok(Self {
            zh: Arc::new(flatten(ZH_SOURCE)?),
            en: Arc::new(flatten(EN_SOURCE)?),
        })
    }

    /// The string for `key`, falling back to Chinese and then to the key itself, so a missing
    /// string shows up on the page instead of breaking it.
    pub fn text<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let primary = match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        };
        primary
            .get(key)
            .or_else(|| self.zh.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// A translator bound to one language, for templates.
    pub fn for_lang(&self, lang: Lang) -> Tr<'_> {
        Tr {
            lang,
            catalogues: self,
        }
    }
}

/// The catalogue of one request's language.
#[derive(Debug, Clone, Copy)]
pub struct Tr<'a> {
    pub lang: Lang,
    catalogues: &'a Catalogues,
}

impl<'a> Tr<'a> {
    pub fn t(&self, key: &'a str) -> &'a str {
        self.catalogues.text(self.lang, key)
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn format(&self, key: &'a str, args: &[(&str, String)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

fn flatten(source: &str) -> Result<HashMap<String, String>, toml::de::Error> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(&path, inner, out),
                toml::Value::String(s) => {
                    out.insert(path, s.clone());
                }
                other => {
                    out.insert(path, other.to_string());
                }
            }
        }
    }
    let table: toml::Table = toml::from_str(source)?;
    let mut out = HashMap::new();
    walk("", &table, &mut out);
    Ok(out)
}

#[cfg(test)]
/// A page module's [`Table`]: every key once, under one of `prefixes`, in both languages with
/// the same placeholders; and every `say("…")` key of the templates under
/// `web/templates/{templates}` is in it.
pub(crate) fn check_table(table: Table, prefixes: &[&str], templates: &str) {
    let mut keys: Vec<&str> = table.iter().map(|(k, _, _)| *k).collect();
    keys.sort_unstable();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "a key is listed twice");
    for (key, zh, en) in table {
        assert!(prefixes.iter().any(|p| key.starts_with(p)), "{key}");
        assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{key}");
        assert_eq!(zh.matches('{').count(), en.matches('{').count(), "{key}");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../web/templates")
        .join(templates);
    let mut missing = Vec::new();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path())
            .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        for piece in text.split("say(\"").skip(1) {
            let key = piece.split('"').next().unwrap_or("");
            if !table.iter().any(|(k, _, _)| *k == key) {
                missing.push(format!("{}: {key}", entry.path().display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from the table: {missing:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Lang::negotiate(&HeaderMap::new()), Lang::Zh);
        assert_eq!(
            Lang::negotiate(&headers(&[(header::ACCEPT_LANGUAGE, "fr-FR, de")])),
            Lang::Zh
        );
    }

    #[test]
    fn accept_language_follows_q_values() {
        let cases = [
            ("en-US,en;q=0.9", Lang::En),
            ("zh-CN,zh;q=0.9,en;q=0.8", Lang::Zh),
            ("fr;q=1, en;q=0.5, zh;q=0.4", Lang::En),
            ("en;q=0.3, zh-TW;q=0.7", Lang::Zh),
            ("en;q=0, zh;q=0.1", Lang::Zh),
        ];
        for (value, expected) in cases {
            assert_eq!(from_accept_language(value), Some(expected), "{value}");
        }
    }

    #[test]
    fn the_chosen_language_beats_the_browser() {
        let map = headers(&[
            (header::ACCEPT_LANGUAGE, "zh-CN"),
            (header::COOKIE, "a=b; kj_lang=en"),
        ]);
        assert_eq!(Lang::negotiate(&map), Lang::En);
    }

    #[test]
    fn catalogues_have_the_same_keys() -> Result<(), toml::de::Error> {
        let zh = flatten(ZH_SOURCE)?;
        let en = flatten(EN_SOURCE)?;
        let mut only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let mut only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        only_zh.sort();
        only_en.sort();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only: {only_zh:?}; en only: {only_en:?}"
        );
        Ok(())
    }

    #[test]
    fn every_key_a_template_uses_exists() -> Result<(), Box<dyn std::error::Error>> {
        let catalogue = flatten(ZH_SOURCE)?;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/templates");
        let mut missing = Vec::new();
        // Templates of a feature live in a folder of their own (`roster/`, `auth/` …).
        let mut dirs = vec![root];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        for path in files {
            let text = std::fs::read_to_string(&path)?;
            for piece in text.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or("");
                if !catalogue.contains_key(key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalogue: {missing:?}"
        );
        Ok(())
    }
}

/// A page module's own words, `(key, 中文, English)`, for strings not (yet) in the catalogues.
pub type Table = &'static [(&'static str, &'static str, &'static str)];

/// The words of one request's language: the shared catalogue first, then a module's [`Table`],
/// else the key itself (so a missing string shows on the page instead of breaking it).
#[derive(Clone, Copy)]
pub struct Words<'a> {
    tr: Tr<'a>,
    table: Table,
}

impl<'a> Words<'a> {
    pub fn new(tr: Tr<'a>, table: Table) -> Self {
        Words { tr, table }
    }

    pub fn tr(&self) -> Tr<'a> {
        self.tr
    }

    pub fn say(&self, key: &'a str) -> &'a str {
        let shared = self.tr.t(key);
        if shared != key {
            return shared;
        }
        self.own(key).unwrap_or(key)
    }

    /// The module table's text for `key` alone, if it has one.
    pub fn own(&self, key: &str) -> Option<&'static str> {
        self.table
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| match self.tr.lang {
                Lang::Zh => *zh,
                Lang::En => *en,
            })
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn format(&self, key: &'a str, args: &[(&str, String)]) -> String {
        let mut text = self.say(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}
