//! What every feature's pages share beyond the layout: a page handler's result (a response, or
//! "sign in first", or an error page), the signed-in caller, and failures a form shows inline.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::Principal;
use crate::auth::pages::to_login;
use crate::error::{AppError, ErrorCode};
use crate::http::layout::PageContext;
use crate::i18n::Tr;

/// Why a page is not shown: the caller must sign in first, or an error page.
pub(crate) enum Refused {
    SignIn(String),
    Error(AppError),
}

impl From<AppError> for Refused {
    fn from(err: AppError) -> Self {
        Refused::Error(err)
    }
}

impl From<sea_orm::DbErr> for Refused {
    fn from(err: sea_orm::DbErr) -> Self {
        Refused::Error(err.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::SignIn(here) => to_login(&here),
            Refused::Error(err) => err.into_response(),
        }
    }
}

pub(crate) type Page = Result<Response, Refused>;

/// The signed-in caller; anyone else goes to sign in and comes back to `here`.
pub(crate) fn signed_in<'a>(ctx: &'a PageContext, here: &str) -> Result<&'a Principal, Refused> {
    ctx.viewer
        .as_ref()
        .ok_or_else(|| Refused::SignIn(here.to_owned()))
}

/// A failure a form shows above itself instead of the error page: its text and status.
pub(crate) struct Flash {
    pub text: String,
    pub status: StatusCode,
}

/// The flash for `err` when its code is one of `inline`, otherwise the error itself.
pub(crate) fn flash(tr: Tr<'_>, err: AppError, inline: &[ErrorCode]) -> Result<Flash, AppError> {
    if !inline.contains(&err.code()) {
        return Err(err);
    }
    Ok(Flash {
        text: tr.format(&err.code().message_key(), err.args()),
        status: err.code().status(),
    })
}

/// A rendered page with the status it answers; a page that failed to render keeps its 500.
pub(crate) fn with_status(status: StatusCode, mut response: Response) -> Response {
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}
