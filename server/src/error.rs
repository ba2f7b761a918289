//! One error type for the whole server.
//!
//! A handler or service returns [`AppError`]; its response carries the stable snake_case code and
//! the message arguments, and `http::errors::render_errors` turns it into JSON for `/api/…` or an
//! HTML page for everything else, in the reader's language. The internal cause is logged here,
//! once, and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Stable error codes. The catalogues hold a message for each under `error.<code>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidInput,
    RateLimited,
    Internal,
    Unavailable,
    SignInFailed,
    WeakPassword,
    CsrfFailed,
    TooManyAttempts,
    NotInRoster,
    SsoUnavailable,
    EmptyBody,
    BodyTooLong,
    TooManyAttachments,
    InvalidField,
    UnknownPerson,
    NotRelated,
    NamesPupil,
    EditWindowClosed,
    RecallWindowClosed,
    QuietHours,
    ReminderTooSoon,
    UrgentNeedsAdmin,
    NotYourChild,
    ChooseChild,
    FileTypeRefused,
    FileTooLarge,
    InvalidState,
    PledgeRequired,
    NotReviewer,
    UnknownClass,
    NotClassTeacher,
    LateRefused,
    ResubmitClosed,
    SubmissionFileTooLarge,
    SubmissionTooLarge,
    AnswersClosed,
    ActivityFull,
    ActivityCancelled,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 47] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidInput,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::SignInFailed,
        ErrorCode::WeakPassword,
        ErrorCode::CsrfFailed,
        ErrorCode::TooManyAttempts,
        ErrorCode::NotInRoster,
        ErrorCode::SsoUnavailable,
        ErrorCode::EmptyBody,
        ErrorCode::BodyTooLong,
        ErrorCode::TooManyAttachments,
        ErrorCode::InvalidField,
        ErrorCode::UnknownPerson,
        ErrorCode::NotRelated,
        ErrorCode::NamesPupil,
        ErrorCode::EditWindowClosed,
        ErrorCode::RecallWindowClosed,
        ErrorCode::QuietHours,
        ErrorCode::ReminderTooSoon,
        ErrorCode::UrgentNeedsAdmin,
        ErrorCode::NotYourChild,
        ErrorCode::ChooseChild,
        ErrorCode::FileTypeRefused,
        ErrorCode::FileTooLarge,
        ErrorCode::InvalidState,
        ErrorCode::PledgeRequired,
        ErrorCode::NotReviewer,
        ErrorCode::UnknownClass,
        ErrorCode::NotClassTeacher,
        ErrorCode::LateRefused,
        ErrorCode::ResubmitClosed,
        ErrorCode::SubmissionFileTooLarge,
        ErrorCode::SubmissionTooLarge,
        ErrorCode::AnswersClosed,
        ErrorCode::ActivityFull,
        ErrorCode::ActivityCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::SignInFailed => "sign_in_failed",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::CsrfFailed => "csrf_failed",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::NotInRoster => "not_in_roster",
            ErrorCode::SsoUnavailable => "sso_unavailable",
            ErrorCode::EmptyBody => "empty_body",
            ErrorCode::BodyTooLong => "body_too_long",
            ErrorCode::TooManyAttachments => "too_many_attachments",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnknownPerson => "unknown_person",
            ErrorCode::NotRelated => "not_related",
            ErrorCode::NamesPupil => "names_pupil",
            ErrorCode::EditWindowClosed => "edit_window_closed",
            ErrorCode::RecallWindowClosed => "recall_window_closed",
            ErrorCode::QuietHours => "quiet_hours",
            ErrorCode::ReminderTooSoon => "reminder_too_soon",
            ErrorCode::UrgentNeedsAdmin => "urgent_needs_admin",
            ErrorCode::NotYourChild => "not_your_child",
            ErrorCode::ChooseChild => "choose_child",
            ErrorCode::FileTypeRefused => "file_type_refused",
            ErrorCode::FileTooLarge => "file_too_large",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::PledgeRequired => "pledge_required",
            ErrorCode::NotReviewer => "not_reviewer",
            ErrorCode::UnknownClass => "unknown_class",
            ErrorCode::NotClassTeacher => "not_class_teacher",
            ErrorCode::LateRefused => "late_refused",
            ErrorCode::ResubmitClosed => "resubmit_closed",
            ErrorCode::SubmissionFileTooLarge => "submission_file_too_large",
            ErrorCode::SubmissionTooLarge => "submission_too_large",
            ErrorCode::AnswersClosed => "answers_closed",
            ErrorCode::ActivityFull => "activity_full",
            ErrorCode::ActivityCancelled => "activity_cancelled",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::SignInFailed => StatusCode::UNAUTHORIZED,
            ErrorCode::WeakPassword => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CsrfFailed => StatusCode::FORBIDDEN,
            ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::NotInRoster => StatusCode::FORBIDDEN,
            ErrorCode::SsoUnavailable => StatusCode::BAD_GATEWAY,
            ErrorCode::EmptyBody => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BodyTooLong => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::TooManyAttachments => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidField => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnknownPerson => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotRelated => StatusCode::FORBIDDEN,
            ErrorCode::NamesPupil => StatusCode::CONFLICT,
            ErrorCode::EditWindowClosed => StatusCode::CONFLICT,
            ErrorCode::RecallWindowClosed => StatusCode::CONFLICT,
            ErrorCode::QuietHours => StatusCode::CONFLICT,
            ErrorCode::ReminderTooSoon => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UrgentNeedsAdmin => StatusCode::FORBIDDEN,
            ErrorCode::NotYourChild => StatusCode::FORBIDDEN,
            ErrorCode::ChooseChild => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::FileTypeRefused => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidState => StatusCode::CONFLICT,
            ErrorCode::PledgeRequired => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotReviewer => StatusCode::FORBIDDEN,
            ErrorCode::UnknownClass => StatusCode::NOT_FOUND,
            ErrorCode::NotClassTeacher => StatusCode::FORBIDDEN,
            ErrorCode::LateRefused => StatusCode::CONFLICT,
            ErrorCode::ResubmitClosed => StatusCode::CONFLICT,
            ErrorCode::SubmissionFileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::SubmissionTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::AnswersClosed => StatusCode::CONFLICT,
            ErrorCode::ActivityFull => StatusCode::CONFLICT,
            ErrorCode::ActivityCancelled => StatusCode::CONFLICT,
        }
    }

    /// The code for an error status produced outside our handlers (a layer, an extractor).
    pub fn from_status(status: StatusCode) -> ErrorCode {
        Self::ALL
            .into_iter()
            .find(|code| code.status() == status)
            .unwrap_or(if status.is_server_error() {
                ErrorCode::Internal
            } else {
                ErrorCode::BadRequest
            })
    }

    /// The catalogue key of this code's message.
    pub fn message_key(self) -> String {
        format!("error.{}", self.as_str())
    }
}

/// What the error renderer needs, carried in the response's extensions.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    /// Values for `{name}` placeholders in the message.
    pub args: Vec<(&'static str, String)>,
}

#[derive(Debug)]
pub struct AppError {
    info: ErrorInfo,
    cause: Option<anyhow::Error>,
}

impl AppError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            info: ErrorInfo {
                code,
                args: Vec::new(),
            },
            cause: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    /// An unexpected failure: the cause is logged, the client sees only `internal`.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(cause.into()),
            ..Self::new(ErrorCode::Internal)
        }
    }

    /// Add a value for a `{name}` placeholder in the message.
    pub fn with_arg(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.info.args.push((name, value.into()));
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.info.code
    }

    /// The values for the message's placeholders, for pages that show the message inline.
    pub fn args(&self) -> &[(&'static str, String)] {
        &self.info.args
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.info.code.as_str())?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::internal(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.info.code.status().into_response();
        // Logged, with the request's id, on the way out (`http::errors::render_errors`).
        if let Some(cause) = &self.cause {
            response
                .extensions_mut()
                .insert(crate::http::errors::Failure(format!("{cause:#}")));
        }
        // A throttled client is told when to come back.
        if let Some((_, seconds)) = self.info.args.iter().find(|(k, _)| *k == "seconds")
            && let Ok(value) = axum::http::HeaderValue::from_str(seconds)
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(self.info);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_back_from_its_status() {
        for code in ErrorCode::ALL {
            assert_eq!(
                ErrorCode::from_status(code.status()).status(),
                code.status()
            );
        }
        assert_eq!(
            ErrorCode::from_status(StatusCode::UNAUTHORIZED),
            ErrorCode::Unauthorized
        );
        assert_eq!(
            ErrorCode::from_status(StatusCode::IM_A_TEAPOT),
            ErrorCode::BadRequest
        );
        assert_eq!(
            ErrorCode::from_status(StatusCode::GATEWAY_TIMEOUT),
            ErrorCode::Internal
        );
    }

    #[test]
    fn every_code_has_a_message_in_each_language() -> Result<(), toml::de::Error> {
        let catalogues = crate::i18n::Catalogues::load()?;
        for lang in crate::i18n::Lang::ALL {
            for code in ErrorCode::ALL {
                let key = code.message_key();
                assert_ne!(catalogues.text(lang, &key), key, "{lang:?} lacks {key}");
            }
        }
        Ok(())
    }
}
