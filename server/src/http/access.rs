//! The access log: one line per answered request — when, request id, method, path, status and
//! how long it took — honouring `KONGJIAN_LOG` like every other line (target `kongjian::access`,
//! level INFO) and `KONGJIAN_LOG_FORMAT` (text or JSON).
//!
//! The line is made here rather than by tower-http's `DefaultOnResponse` through the `tracing`
//! formatter: that event cost a signed-in request a fifth of its throughput (the formatter looks
//! up the span's fields, formats the time and every field through `Debug`), where this line is
//! a few appends into one buffer handed to the log writer thread. Where no log writer thread
//! runs (tests, tools), the line goes through `tracing` as before.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::http::{HeaderValue, Method, Request, Response, Uri};
use tower::{Layer, Service};

use crate::config::LogFormat;
use crate::telemetry;

/// The target operators filter on, e.g. `KONGJIAN_LOG=info,kongjian::access=warn`.
pub const TARGET: &str = "kongjian::access";

#[derive(Clone, Copy)]
pub struct AccessLogLayer {
    pub format: LogFormat,
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog {
            inner,
            format: self.format,
        }
    }
}

#[derive(Clone)]
pub struct AccessLog<S> {
    inner: S,
    format: LogFormat,
}

/// What the line needs of the request, kept while it is answered.
struct Seen {
    method: Method,
    uri: Uri,
    request_id: Option<HeaderValue>,
    started: Instant,
    format: LogFormat,
}

impl<S, B, R> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = AccessFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let seen = tracing::enabled!(target: TARGET, tracing::Level::INFO).then(|| Seen {
            method: request.method().clone(),
            uri: request.uri().clone(),
            request_id: request.headers().get("x-request-id").cloned(),
            started: Instant::now(),
            format: self.format,
        });
        AccessFuture {
            inner: self.inner.call(request),
            seen,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct AccessFuture<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
    }
}

impl<F, R, E> Future for AccessFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Some(seen), Ok(response)) = (this.seen.take(), &result) {
            log(&seen, response.status().as_u16());
        }
        Poll::Ready(result)
    }
}

fn log(seen: &Seen, status: u16) {
    let micros = seen.started.elapsed().as_micros();
    let latency_ms = format!("{}.{:03}", micros / 1000, micros % 1000);
    if !telemetry::writes_in_background() {
        let request_id = seen.request_id.as_ref().and_then(|v| v.to_str().ok());
        tracing::info!(target: TARGET, request_id, method = %seen.method, path = seen.uri.path(), status, latency_ms, "answered");
        return;
    }
    let line = line(seen.format, chrono::Utc::now(), seen, status, &latency_ms);
    telemetry::write_line(line.into_bytes());
}

/// The line for one answered request, ending in a newline.
fn line(
    format: LogFormat,
    now: chrono::DateTime<chrono::Utc>,
    seen: &Seen,
    status: u16,
    latency_ms: &str,
) -> String {
    let request_id = seen
        .request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = seen.uri.path();
    let mut line = String::with_capacity(160 + path.len());
    match format {
        LogFormat::Text => {
            let _ = writeln!(
                line,
                "{}  INFO {TARGET}: {} {} {status} {latency_ms} ms request_id={request_id}",
                now.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                seen.method,
                path,
            );
        }
        LogFormat::Json => {
            // The same leading keys, in the same order, as the other JSON lines.
            let quoted = |v: &str| serde_json::to_string(v).unwrap_or_default();
            let _ = writeln!(
                line,
                "{{\"timestamp\":\"{}\",\"level\":\"INFO\",\"message\":\"answered\",\"target\":\"{TARGET}\",\
                 \"request_id\":{},\"method\":{},\"path\":{},\"status\":{status},\"latency_ms\":{latency_ms}}}",
                now.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                quoted(request_id),
                quoted(seen.method.as_str()),
                quoted(path),
            );
        }
    }
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn seen() -> Seen {
        Seen {
            method: Method::POST,
            uri: "/api/v1/lessons/%22x%22?secret=1".parse().unwrap(),
            request_id: Some(HeaderValue::from_static("abc-1f")),
            started: Instant::now(),
            format: LogFormat::Text,
        }
    }

    fn at() -> chrono::DateTime<chrono::Utc> {
        "2026-12-05T07:20:00.123456Z".parse().unwrap()
    }

    #[test]
    fn a_text_line_says_when_what_how_it_ended_and_how_long_without_the_query() {
        let line = line(LogFormat::Text, at(), &seen(), 201, "1.250");
        assert_eq!(
            line,
            "2026-12-05T07:20:00.123456Z  INFO kongjian::access: POST /api/v1/lessons/%22x%22 201 1.250 ms request_id=abc-1f\n"
        );
    }

    #[test]
    fn a_json_line_is_one_object_with_the_same_fields() {
        let line = line(LogFormat::Json, at(), &seen(), 404, "0.075");
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["timestamp"], "2026-12-05T07:20:00.123456Z");
        assert_eq!(v["target"], TARGET);
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/api/v1/lessons/%22x%22");
        assert_eq!(v["status"], 404);
        assert_eq!(v["latency_ms"], 0.075);
        assert_eq!(v["request_id"], "abc-1f");
    }
}
