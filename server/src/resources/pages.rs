//! The resource pages (search, my resources, review queue, a resource, upload).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
