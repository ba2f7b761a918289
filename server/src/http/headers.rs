//! The request's id and the headers every response carries: the id (as `x-request-id`, for
//! support requests and the access log, kept when a proxy in front already set one), and the
//! security headers — unless the handler set its own. One layer for all of it, where six
//! tower-http layers each wrapped (and moved) the response future again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use tower::{Layer, Service};

/// Content-Security-Policy for every response: only our own scripts, styles and frames-never.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
                       frame-ancestors 'none'";

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const SECURITY: [(HeaderName, HeaderValue); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// Request ids: a random prefix drawn once per process and a counter. Unique across nodes and
/// restarts for any practical purpose, and free, where a UUID per request cost a system call.
#[derive(Clone)]
struct RequestIds {
    prefix: [u8; 12],
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut prefix = [0u8; 12];
        let random: [u8; 6] = rand::random();
        // Infallible: 12 is exactly twice 6.
        let _ = hex::encode_to_slice(random, &mut prefix);
        RequestIds {
            prefix,
            next: Default::default(),
        }
    }

    /// `<prefix>-<counter in hex>`.
    fn next(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 12 + 1 + 16];
        id[..12].copy_from_slice(&self.prefix);
        id[12] = b'-';
        let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for (i, slot) in id[13..13 + digits].iter_mut().enumerate() {
            let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
            *slot = b"0123456789abcdef"[nibble as usize];
        }
        HeaderValue::from_bytes(&id[..13 + digits]).unwrap_or(HeaderValue::from_static("-"))
    }
}

#[derive(Clone)]
pub struct StandardHeadersLayer {
    ids: RequestIds,
}

impl Default for StandardHeadersLayer {
    fn default() -> Self {
        StandardHeadersLayer {
            ids: RequestIds::new(),
        }
    }
}

impl<S> Layer<S> for StandardHeadersLayer {
    type Service = StandardHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StandardHeaders {
            inner,
            ids: self.ids.clone(),
        }
    }
}

#[derive(Clone)]
pub struct StandardHeaders<S> {
    inner: S,
    ids: RequestIds,
}

impl<S, B, R> Service<Request<B>> for StandardHeaders<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = HeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let request_id = match request.headers().get(REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = self.ids.next();
                request.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        HeadersFuture {
            inner: self.inner.call(request),
            request_id: Some(request_id),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct HeadersFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<HeaderValue>,
    }
}

impl<F, R, E> Future for HeadersFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &mut result {
            let headers = response.headers_mut();
            // Room for the five at once, rather than growing the map on the way.
            headers.reserve(1 + SECURITY.len());
            if let Some(id) = this.request_id.take() {
                headers.entry(REQUEST_ID).or_insert(id);
            }
            for (name, value) in SECURITY {
                headers.entry(name).or_insert(value);
            }
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_the_prefix_and_a_counter_in_hex() {
        let ids = RequestIds::new();
        let prefix = std::str::from_utf8(&ids.prefix).unwrap().to_owned();
        assert_eq!(ids.next(), format!("{prefix}-0").as_str());
        assert_eq!(ids.next(), format!("{prefix}-1").as_str());
        ids.next.store(0xabc, Ordering::Relaxed);
        assert_eq!(ids.next(), format!("{prefix}-abc").as_str());
        ids.next.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(ids.next(), format!("{prefix}-ffffffffffffffff").as_str());
        assert_ne!(RequestIds::new().prefix, ids.prefix);
    }
}
