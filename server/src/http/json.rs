//! A JSON body extractor whose errors say what was wrong: the serde message names the field
//! and the position ("missing field `title` at line 1 column 20"), as `invalid_field`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode};

pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::new(ErrorCode::UnsupportedMediaType))
            }
            Err(JsonRejection::JsonDataError(err)) => Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "body")
                .with_arg("hint", err.body_text())),
            Err(JsonRejection::JsonSyntaxError(err)) => Err(AppError::new(ErrorCode::InvalidField)
                .with_arg("field", "body")
                .with_arg("hint", err.body_text())),
            Err(other) => Err(AppError::new(ErrorCode::from_status(other.status()))),
        }
    }
}
