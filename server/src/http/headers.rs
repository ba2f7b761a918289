//! The headers every response carries: the request's id (as `x-request-id`, for support
//! requests and the access log), and the security headers — unless the handler set its own.
//! One layer for all five, where five tower-http layers each wrapped (and moved) the response
//! future again.

use std::future::Future;
use std::pin::Pin;
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

#[derive(Clone, Copy, Default)]
pub struct StandardHeadersLayer;

impl<S> Layer<S> for StandardHeadersLayer {
    type Service = StandardHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StandardHeaders { inner }
    }
}

#[derive(Clone)]
pub struct StandardHeaders<S> {
    inner: S,
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

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let request_id = request.headers().get(REQUEST_ID).cloned();
        HeadersFuture {
            inner: self.inner.call(request),
            request_id,
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
