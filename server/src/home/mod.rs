//! The public front: the landing page and the language switch.

mod pages;

pub(crate) use pages::is_local_path;

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::landing))
        .route("/language/{code}", get(pages::switch_language))
}
