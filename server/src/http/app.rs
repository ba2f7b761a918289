//! Every route on one screen, and the layers around them.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

use tower_sessions::Expiry;

use crate::auth::session_layer::{CookieRules, SessionLayer};
use crate::auth::session_store::DbSessionStore;
use crate::auth::sessions;
use crate::error::AppError;
use crate::http::{access, assets, errors, guard, headers, health, timeout};
use crate::state::AppState;
use crate::{home, roster};

/// How long one request may take before it is answered with `request_timeout`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The application: every route inside the layers. Served as it is (`crate::serve_router`), not
/// as the fallback of another router, which would clone the whole stack into a box and route
/// every request twice.
pub fn router(state: AppState) -> impl AppService {
    let body_limit = state.config.body_limit;

    let sessions = SessionLayer::new(
        DbSessionStore::new(&state.caches, state.db.clone()),
        CookieRules {
            name: sessions::COOKIE,
            secure: state.config.secure_cookies(),
            // The row and the cookie live as long as a session may; idle and absolute expiry
            // are enforced from the session's own timestamps (auth::sessions::current).
            expiry: Expiry::OnInactivity(
                time::Duration::try_from(state.config.session_max)
                    .unwrap_or(time::Duration::days(30)),
            ),
        },
    );

    let routes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/static/{*path}", get(assets::serve))
        .merge(home::router())
        .merge(crate::auth::pages::router())
        .merge(crate::audit::pages::router())
        .merge(crate::messaging::pages::router())
        .merge(crate::resources::pages::router())
        .merge(crate::spaces::pages_router())
        .merge(crate::assignments::pages::router())
        .merge(crate::lessons::pages::router())
        .merge(crate::activities::pages::router())
        .merge(crate::growth::pages::router())
        .merge(crate::auth::oidc::router())
        // The JSON API: each feature's routes carry the full `/api/v1/…` path (a nested
        // router would strip and re-add the prefix on every request).
        .merge(crate::people::router())
        .merge(crate::auth::routes::api_router())
        .merge(crate::audit::api_router())
        .merge(crate::messaging::router())
        .merge(crate::resources::routes::router())
        .merge(crate::spaces::router())
        .merge(crate::http::openapi::router())
        .merge(crate::assignments::routes::router())
        .merge(crate::lessons::routes::router())
        .merge(crate::activities::router())
        .merge(crate::growth::router())
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(body_limit))
        // Uploads carry their own, larger limit.
        .merge(
            crate::messaging::routes::upload_router().layer(RequestBodyLimitLayer::new(
                crate::messaging::routes::UPLOAD_LIMIT,
            )),
        )
        // Resource uploads stream to disk and enforce KONGJIAN_RESOURCE_MAX_MB themselves.
        .merge(crate::resources::routes::upload_router())
        .merge(crate::resources::pages::upload_router())
        // Hand-ins stream to disk and enforce KONGJIAN_SUBMISSION_MAX_MB / _TOTAL_MB themselves.
        .merge(crate::assignments::routes::upload_router())
        .merge(crate::assignments::pages::upload_router())
        // Lesson attachments stream to disk with the same limit.
        .merge(crate::lessons::routes::upload_router())
        .merge(crate::lessons::pages::upload_router())
        .merge(
            roster::routes::upload_router()
                .merge(roster::pages::router())
                .layer(RequestBodyLimitLayer::new(roster::routes::UPLOAD_LIMIT)),
        );

    // The layers wrap the finished router once, outermost first. (`Router::layer` would wrap
    // every route separately, and each request would clone a box per layer: ~4 % of a small
    // request's CPU.)
    let app = routes.with_state(state.clone());
    ServiceBuilder::new()
        // Every layer's body type, boxed once, as hyper is handed it.
        .map_response(|response: http::Response<_>| response.map(Body::new))
        // The request's id, and the security headers on every answer.
        .layer(headers::StandardHeadersLayer::default())
        // One line per request, the access log operators rely on; and the request's span, so
        // that whatever a request logs carries its id.
        .layer(access::AccessLogLayer {
            format: state.config.log_format,
        })
        .layer(CompressionLayer::new())
        // CSRF on the way in; error bodies, the CSRF cookie and the kept spaces on the way out.
        .layer(guard::GuardLayer {
            state: state.clone(),
        })
        .layer(sessions)
        .layer(timeout::TimeoutLayer {
            limit: REQUEST_TIMEOUT,
        })
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(errors::panic_response))
        .service(app)
}

/// What `router` makes: a service from requests to responses that hyper can serve.
pub trait AppService:
    Service<Request, Response = Response, Error = Infallible, Future: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> AppService for S where
    S: Service<Request, Response = Response, Error = Infallible, Future: Send>
        + Clone
        + Send
        + Sync
        + 'static
{
}

async fn not_found() -> Response {
    AppError::not_found().into_response()
}
