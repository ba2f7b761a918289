//! `GET /healthz`: 200 once the database answers, 503 otherwise, for load balancers and Docker.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::db;
use crate::state::AppState;

const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The health check's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` (with status 503).
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `ok`, `unreachable` or `timeout`.
    #[schema(example = "ok")]
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// This installation's id (the same on every node of a cluster).
    pub installation: String,
}

/// 健康检查 / Health check
///
/// Whether this node can serve: 200 once the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "可以服务 / ready to serve", body = Health),
        (status = 503, description = "数据库无应答（`status` 为 `unavailable`）/ the database does not answer (`status` is `unavailable`)", body = Health),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
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
    let body = Health {
        status: if status == StatusCode::OK {
            "ok"
        } else {
            "unavailable"
        },
        database,
        backend: db::backend_name(&state.db),
        version: env!("CARGO_PKG_VERSION"),
        installation: state.installation_id.to_string(),
    };
    (status, Json(body))
}
