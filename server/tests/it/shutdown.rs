//! Graceful shutdown: requests in flight finish, new connections are refused, and the wait is
//! bounded. Uses `serve_router`, the function `serve` runs, with a deliberately slow route.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A route that takes `delay_ms`, and tells `started` when a request has reached it, so the
/// tests shut down while a request is truly in flight however busy the machine is.
fn slow(delay_ms: u64, started: Arc<Notify>) -> Router {
    Router::new().route(
        "/slow",
        get(move || async move {
            started.notify_one();
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            "finished"
        }),
    )
}

async fn start(
    app: Router,
    grace: Duration,
) -> (
    String,
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let token = CancellationToken::new();
    let server = tokio::spawn(kongjian::serve_router(app, listener, token.clone(), grace));
    (address, token, server)
}

#[tokio::test]
async fn a_request_in_flight_finishes_after_shutdown_begins() {
    let started = Arc::new(Notify::new());
    let (address, token, server) = start(slow(500, started.clone()), Duration::from_secs(5)).await;
    let in_flight = tokio::spawn(reqwest::get(format!("{address}/slow")));
    started.notified().await;
    token.cancel();

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.text().await.unwrap(), "finished");
    server.await.unwrap().unwrap();
    assert!(
        reqwest::get(format!("{address}/slow")).await.is_err(),
        "refused after shutdown"
    );
}

#[tokio::test]
async fn the_wait_for_requests_in_flight_is_bounded() {
    let started = Arc::new(Notify::new());
    let (address, token, server) =
        start(slow(60_000, started.clone()), Duration::from_millis(300)).await;
    let _stuck = tokio::spawn(reqwest::get(format!("{address}/slow")));
    started.notified().await;
    let began = Instant::now();
    token.cancel();
    server.await.unwrap().unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "took {:?}",
        began.elapsed()
    );
}
