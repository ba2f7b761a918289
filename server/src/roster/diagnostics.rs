//! What an import says about its input: warnings for tolerated quirks, errors for defects.
//! Each names the file, the line and the field, in Chinese and English.

use serde::Serialize;

use crate::i18n::Lang;

/// A sentence in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Message {
        Message {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line in the file (the header is line 1); `None` for the file as a whole.
    pub line: Option<u64>,
    /// The column or field name, where one is to blame.
    pub field: Option<String>,
    pub message: Message,
}

/// The JSON shape of a diagnostic: `{"file", "line", "field", "message"}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ImportDiagnostic)]
pub struct DiagnosticJson<'a> {
    pub file: &'a str,
    pub line: Option<u64>,
    pub field: Option<&'a str>,
    pub message: &'a str,
}

impl Diagnostic {
    pub fn to_json(&self, lang: Lang) -> DiagnosticJson<'_> {
        DiagnosticJson {
            file: &self.file,
            line: self.line,
            field: self.field.as_deref(),
            message: self.message.text(lang),
        }
    }
}

/// Warnings and errors collected while reading and checking an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn warn(&mut self, file: &str, line: Option<u64>, field: Option<&str>, message: Message) {
        self.warnings.push(Diagnostic {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message,
        });
    }

    pub fn error(&mut self, file: &str, line: Option<u64>, field: Option<&str>, message: Message) {
        self.errors.push(Diagnostic {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message,
        });
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.warnings.extend(other.warnings);
        self.errors.extend(other.errors);
    }
}
