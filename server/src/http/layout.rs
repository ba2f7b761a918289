//! What every page shares: the layout's context and the one way to render a template.

use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::auth::Principal;
use crate::auth::csrf::CsrfToken;
use crate::error::AppError;
use crate::http::assets;
use crate::i18n::{Catalogues, Lang, Tr};
use crate::state::AppState;

/// Context for `base.html`: language, title, and where the language switch returns to.
pub struct Layout<'a> {
    pub tr: Tr<'a>,
    pub title: &'a str,
    /// The current path and query, so switching language returns to the same page.
    pub here: String,
    pub stylesheet: String,
    /// The header's sign-in area. `None` where the page cannot know who is calling (error
    /// pages rendered by a layer): then the header shows neither "sign in" nor a name.
    pub account: Option<AccountBar>,
}

/// Who is signed in, for the header: their name (none when signed out) and the CSRF token
/// the sign-out form carries.
pub struct AccountBar {
    pub name: Option<String>,
    pub csrf: String,
}

impl<'a> Layout<'a> {
    pub fn new(catalogues: &'a Catalogues, lang: Lang, title_key: &'a str, here: &str) -> Self {
        let tr = catalogues.for_lang(lang);
        Self {
            tr,
            title: tr.t(title_key),
            here: here.to_owned(),
            stylesheet: assets::url("app.css"),
            account: None,
        }
    }

    /// Show who is signed in (or a sign-in link) in the header.
    pub fn with_viewer(mut self, viewer: Option<&Principal>, csrf: &str) -> Self {
        self.account = Some(AccountBar {
            name: viewer.map(|v| v.person.display_name.clone()),
            csrf: csrf.to_owned(),
        });
        self
    }

    /// The sign-in page, returning here afterwards (but not to the sign-in pages themselves).
    pub fn login_href(&self) -> String {
        let path = self.here.split('?').next().unwrap_or("/");
        if matches!(path, "/" | "/login" | "/activate" | "/logout") {
            return "/login".to_owned();
        }
        let next: String = url::form_urlencoded::byte_serialize(self.here.as_bytes()).collect();
        format!("/login?next={next}")
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

    /// Whether someone is signed in: the header then links to their messages, with the unread
    /// badge `live.js` keeps up to date.
    pub fn signed_in(&self) -> bool {
        self.account.as_ref().is_some_and(|a| a.name.is_some())
    }

    /// The realtime client (`web/static/live.js`), loaded for signed-in people.
    pub fn live_js(&self) -> String {
        assets::url("live.js")
    }
}

/// What every page handler needs for the layout: the language, who is signed in, this
/// request's CSRF token and where the page is.
pub struct PageContext {
    pub lang: Lang,
    pub viewer: Option<Principal>,
    pub csrf: String,
    /// Path and query of this request.
    pub here: String,
}

impl PageContext {
    pub fn layout<'a>(&self, catalogues: &'a Catalogues, title_key: &'a str) -> Layout<'a> {
        Layout::new(catalogues, self.lang, title_key, &self.here)
            .with_viewer(self.viewer.as_ref(), &self.csrf)
    }

    pub fn tr<'a>(&self, catalogues: &'a Catalogues) -> Tr<'a> {
        catalogues.for_lang(self.lang)
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let viewer =
            <Principal as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
                .await?;
        Ok(PageContext {
            lang: Lang::negotiate(&parts.headers),
            viewer,
            // The CSRF layer sets the token on every request; without it forms simply fail.
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        })
    }
}

/// Render a page template, answering `internal` if the template fails.
pub fn render(template: &impl Template, lang: Lang) -> Response {
    match template.render() {
        Ok(page) => html(page, lang),
        Err(err) => AppError::internal(err).into_response(),
    }
}

/// A finished page in `lang`.
pub fn html(page: impl IntoResponse, lang: Lang) -> Response {
    let mut response = Html(page).into_response();
    response.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    response
}
