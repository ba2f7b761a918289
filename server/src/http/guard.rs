//! What every request passes on its way in and out, in one layer: on the way in the CSRF check
//! (and the token a page embeds, `auth::csrf`), on the way out the CSRF cookie, the end of this
//! node's kept spaces after a change, and the error body in the reader's language
//! (`http::errors`).
//!
//! One hand-written service where two `middleware::from_fn` layers each cloned the whole stack
//! below them and boxed a future for every request. Only a form post whose token is in its body
//! (read asynchronously before the request may go on) takes a boxed future and a clone.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http;
use http_body_util::Either;
use tower::{Layer, Service};

use crate::auth::csrf;
use crate::http::errors::{self, Asked};
use crate::state::AppState;

#[derive(Clone)]
pub struct GuardLayer {
    pub state: AppState,
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: AppState,
}

/// The answer: the inner service's, or one this layer made (an error body, a refusal).
pub type Response<B> = http::Response<Either<B, Body>>;

type Boxed<B> = Pin<Box<dyn Future<Output = Result<Response<B>, Infallible>> + Send>>;

impl<S, B> Service<Request> for Guard<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = GuardFuture<S::Future, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let asked = Asked::of(&request);
        match csrf::check(&self.state, &mut request) {
            csrf::Check::Pass(passed) => GuardFuture::Inner {
                inner: self.inner.call(request),
                finish: Some(Finish {
                    state: self.state.clone(),
                    asked,
                    passed,
                }),
            },
            csrf::Check::Refuse(refusal) => GuardFuture::Ready {
                response: Some(refuse(&self.state, &asked, refusal)),
            },
            csrf::Check::ReadForm(pending) => {
                // `self.inner` is the service that was made ready; leave a clone in its place.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let state = self.state.clone();
                GuardFuture::Boxed {
                    future: Box::pin(async move {
                        let response = match csrf::read_form(&state, request, pending).await {
                            Ok((request, passed)) => {
                                let response = inner.call(request).await?;
                                Finish {
                                    state: state.clone(),
                                    asked,
                                    passed,
                                }
                                .apply(response)
                            }
                            Err(refusal) => refuse(&state, &asked, refusal),
                        };
                        Ok(response)
                    }),
                }
            }
        }
    }
}

/// A refusal on the way in, with its error body.
fn refuse<B>(state: &AppState, asked: &Asked, refusal: axum::response::Response) -> Response<B> {
    errors::render_errors(state, asked, refusal).map(|body| match body {
        Either::Left(body) | Either::Right(body) => Either::Right(body),
    })
}

/// The way out of a request that passed the check.
pub struct Finish {
    state: AppState,
    asked: Asked,
    passed: csrf::Passed,
}

impl Finish {
    fn apply<B>(self, mut response: http::Response<B>) -> Response<B> {
        self.passed.finish(&self.state, &mut response);
        errors::render_errors(&self.state, &self.asked, response)
    }
}

pin_project_lite::pin_project! {
    #[project = Projected]
    pub enum GuardFuture<F, B> {
        Inner {
            #[pin]
            inner: F,
            finish: Option<Finish>,
        },
        Ready {
            response: Option<Response<B>>,
        },
        Boxed {
            future: Boxed<B>,
        },
    }
}

impl<F, B> Future for GuardFuture<F, B>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
{
    type Output = Result<Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Inner { inner, finish } => {
                let Ok(response) = std::task::ready!(inner.poll(cx));
                Poll::Ready(Ok(match finish.take() {
                    Some(finish) => finish.apply(response),
                    None => response.map(Either::Left),
                }))
            }
            Projected::Ready { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Pending,
            },
            Projected::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}
