//! `GET /healthz`: 200 once the database answers, 503 otherwise, for load balancers and Docker.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db;
use crate::state::AppState;

const PING_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let answered = tokio::time::timeout(PING_TIMEOUT, db::ping(&state.db)).await;
    let (status, database) = match answered {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "unreachable")
        }
        Err(_) => {
            tracing::warn!("health check: database did not answer in time");
            (StatusCode::SERVICE_UNAVAILABLE, "timeout")
        }
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "unavailable" },
        "database": database,
        "backend": db::backend_name(&state.db),
        "version": env!("CARGO_PKG_VERSION"),
        "installation": &*state.installation_id,
    });
    (status, Json(body))
}
