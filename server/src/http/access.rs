//! The access log: one line per answered request — when, request id, method, path, status and
//! how long it took — honouring `KONGJIAN_LOG` like every other line (target `kongjian::access`,
//! level INFO, ERROR for a 5xx answer) and `KONGJIAN_LOG_FORMAT` (text or JSON). The same layer
//! opens the request's span (`request`, with the `request_id`, target `kongjian::request` at
//! DEBUG), so that, when it is enabled, whatever is logged while the request is answered
//! carries its id.
//!
//! The line is made here rather than by tower-http's `DefaultOnResponse` through the `tracing`
//! formatter: that event cost a signed-in request a fifth of its throughput (the formatter looks
//! up the span's fields, formats the time and every field through `Debug`), where this line is
//! a few appends into one buffer (the time written by hand, not through strftime) handed to the
//! log writer thread. Where no log writer thread
//! runs (tests, tools), the line goes through `tracing` as before.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::http::{HeaderValue, Method, Request, Response, Uri};
use chrono::{Datelike, Timelike};
use tower::{Layer, Service};
use tracing::Instrument;
use tracing::instrument::Instrumented;

use crate::config::LogFormat;
use crate::http::headers::REQUEST_ID;
use crate::telemetry;

/// The target operators filter on, e.g. `KONGJIAN_LOG=info,kongjian::access=warn`.
pub const TARGET: &str = "kongjian::access";
/// The request's span, at DEBUG: `KONGJIAN_LOG=info,kongjian::request=debug` puts the
/// `request_id` on every line logged while a request is answered. (At INFO it cost a signed-in
/// request a twentieth of its throughput; the access line and failures carry the id anyway.)
pub const SPAN_TARGET: &str = "kongjian::request";

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
    /// Whether INFO lines are wanted (otherwise only a 5xx is logged).
    info: bool,
}

impl<S, B, R> Service<Request<B>> for AccessLog<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = AccessFuture<Instrumented<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let request_id = request.headers().get(REQUEST_ID).cloned();
        let span = tracing::debug_span!(
            target: SPAN_TARGET,
            "request",
            request_id = request_id
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        );
        let info = tracing::enabled!(target: TARGET, tracing::Level::INFO);
        let seen =
            (info || tracing::enabled!(target: TARGET, tracing::Level::ERROR)).then(|| Seen {
                method: request.method().clone(),
                uri: request.uri().clone(),
                request_id,
                started: Instant::now(),
                format: self.format,
                info,
            });
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        AccessFuture {
            inner: inner.instrument(span),
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
    let error = status >= 500;
    if !(error || seen.info) {
        return;
    }
    let micros = seen.started.elapsed().as_micros();
    if !telemetry::writes_in_background() {
        let request_id = seen.request_id.as_ref().and_then(|v| v.to_str().ok());
        let latency_ms = format!("{}.{:03}", micros / 1000, micros % 1000);
        let (method, path) = (seen.method.as_str(), seen.uri.path());
        if error {
            tracing::error!(target: TARGET, request_id, method, path, status, latency_ms, "answered");
        } else {
            tracing::info!(target: TARGET, request_id, method, path, status, latency_ms, "answered");
        }
        return;
    }
    let line = line(seen.format, chrono::Utc::now(), seen, status, micros);
    telemetry::write_line(line.into_bytes());
}

/// The line for one answered request, ending in a newline.
fn line(
    format: LogFormat,
    now: chrono::DateTime<chrono::Utc>,
    seen: &Seen,
    status: u16,
    micros: u128,
) -> String {
    let request_id = seen
        .request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let path = seen.uri.path();
    let level = if status >= 500 { "ERROR" } else { "INFO" };
    let mut line = String::with_capacity(160 + path.len());
    match format {
        LogFormat::Text => {
            timestamp(&mut line, now);
            line.push_str(if status >= 500 { " " } else { "  " });
            line.push_str(level);
            line.push(' ');
            line.push_str(TARGET);
            line.push_str(": ");
            line.push_str(seen.method.as_str());
            line.push(' ');
            line.push_str(path);
            line.push(' ');
            number(&mut line, u128::from(status));
            line.push(' ');
            latency(&mut line, micros);
            line.push_str(" ms request_id=");
            line.push_str(request_id);
        }
        LogFormat::Json => {
            // The same leading keys, in the same order, as the other JSON lines.
            line.push_str("{\"timestamp\":\"");
            timestamp(&mut line, now);
            line.push_str("\",\"level\":\"");
            line.push_str(level);
            line.push_str("\",\"message\":\"answered\",\"target\":\"");
            line.push_str(TARGET);
            line.push_str("\",\"request_id\":");
            json_string(&mut line, request_id);
            line.push_str(",\"method\":");
            json_string(&mut line, seen.method.as_str());
            line.push_str(",\"path\":");
            json_string(&mut line, path);
            line.push_str(",\"status\":");
            number(&mut line, u128::from(status));
            line.push_str(",\"latency_ms\":");
            latency(&mut line, micros);
            line.push('}');
        }
    }
    line.push('\n');
    line
}

/// `2026-12-05T07:20:00.123456Z`, as the other lines write the time.
fn timestamp(line: &mut String, now: chrono::DateTime<chrono::Utc>) {
    digits(line, now.year().clamp(0, 9999) as u32, 4);
    line.push('-');
    digits(line, now.month(), 2);
    line.push('-');
    digits(line, now.day(), 2);
    line.push('T');
    digits(line, now.hour(), 2);
    line.push(':');
    digits(line, now.minute(), 2);
    line.push(':');
    digits(line, now.second(), 2);
    line.push('.');
    digits(line, now.timestamp_subsec_micros().min(999_999), 6);
    line.push('Z');
}

/// Milliseconds with three decimals: `1.250`.
fn latency(line: &mut String, micros: u128) {
    number(line, micros / 1000);
    line.push('.');
    digits(line, (micros % 1000) as u32, 3);
}

/// `n` in exactly `width` decimal digits, zero-padded.
fn digits(line: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        line.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

/// A whole number in decimal, without the formatting machinery.
fn number(line: &mut String, n: u128) {
    let mut digits = [0u8; 39];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        line.push(char::from(digit));
    }
}

/// A JSON string; request ids and paths are ASCII, so the common case is a copy.
fn json_string(line: &mut String, value: &str) {
    if value
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ')
    {
        line.push('"');
        line.push_str(value);
        line.push('"');
    } else {
        line.push_str(&serde_json::to_string(value).unwrap_or_default());
    }
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
            info: true,
        }
    }

    fn at() -> chrono::DateTime<chrono::Utc> {
        "2026-12-05T07:20:00.123456Z".parse().unwrap()
    }

    #[test]
    fn a_text_line_says_when_what_how_it_ended_and_how_long_without_the_query() {
        let line = line(LogFormat::Text, at(), &seen(), 201, 1_250);
        assert_eq!(
            line,
            "2026-12-05T07:20:00.123456Z  INFO kongjian::access: POST /api/v1/lessons/%22x%22 201 1.250 ms request_id=abc-1f\n"
        );
    }

    #[test]
    fn a_json_line_is_one_object_with_the_same_fields() {
        let line = line(LogFormat::Json, at(), &seen(), 404, 75);
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

    #[test]
    fn a_failed_answer_is_an_error_line_and_odd_ids_stay_valid_json() {
        let text = line(LogFormat::Text, at(), &seen(), 503, 2_000);
        assert!(
            text.starts_with("2026-12-05T07:20:00.123456Z ERROR kongjian::access: POST "),
            "{text}"
        );
        let mut odd = seen();
        odd.request_id = Some(HeaderValue::from_static("a\"b\\c d"));
        let json = line(LogFormat::Json, at(), &odd, 500, 1_000_001);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["level"], "ERROR");
        assert_eq!(v["request_id"], "a\"b\\c d");
        assert_eq!(v["latency_ms"], 1000.001);
    }

    #[test]
    fn times_are_written_like_the_other_lines() {
        for at in ["0999-01-02T03:04:05.000007Z", "2026-12-31T23:59:59.999999Z"] {
            let mut out = String::new();
            timestamp(&mut out, at.parse().unwrap());
            assert_eq!(out, at);
        }
    }
}
