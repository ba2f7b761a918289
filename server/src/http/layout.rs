//! What every page shares: the layout's context and the one way to render a template.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;
use crate::http::assets;
use crate::i18n::{Catalogues, Lang, Tr};

/// Context for `base.html`: language, title, and where the language switch returns to.
pub struct Layout<'a> {
    pub tr: Tr<'a>,
    pub title: &'a str,
    /// The current path and query, so switching language returns to the same page.
    pub here: String,
    pub stylesheet: String,
}

impl<'a> Layout<'a> {
    pub fn new(catalogues: &'a Catalogues, lang: Lang, title_key: &'a str, here: &str) -> Self {
        let tr = catalogues.for_lang(lang);
        Self {
            tr,
            title: tr.t(title_key),
            here: here.to_owned(),
            stylesheet: assets::url("app.css"),
        }
    }

    pub fn lang_tag(&self) -> &'static str {
        self.tr.lang.tag()
    }

    /// The other language, offered in the header.
    pub fn other_lang(&self) -> Lang {
        match self.tr.lang {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Link that switches to the other language and comes back here.
    pub fn switch_href(&self) -> String {
        let next: String = url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
        format!("/language/{}?next={next}", self.other_lang().code())
    }

    pub fn icon(&self) -> String {
        assets::url("icon.svg")
    }
}

/// Render a page template, answering `internal` if the template fails.
pub fn render(template: &impl Template, lang: Lang) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response.headers_mut().insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(lang.tag()),
            );
            response
        }
        Err(err) => AppError::internal(err).into_response(),
    }
}
