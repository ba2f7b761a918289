//! How long a request may take: past `limit` it is answered `408 request_timeout` (the body
//! comes from `http::errors`) and its work is dropped.
//!
//! The timer is armed only when the request first has to wait. Most requests (a kept page, a
//! cached `/me`) are answered in their first poll and never touch tokio's timer wheel, where
//! tower-http's timeout registered and removed a timer for every request — a lock on the wheel
//! each way, shared by all worker threads. The deadline still counts from the request's start.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{Request, Response, StatusCode};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

#[derive(Clone, Copy)]
pub struct TimeoutLayer {
    pub limit: Duration,
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            limit: self.limit,
        }
    }
}

#[derive(Clone)]
pub struct Timeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, B, R> Service<Request<B>> for Timeout<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    R: Default,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        TimeoutFuture {
            inner: self.inner.call(request),
            started: Instant::now(),
            limit: self.limit,
            timer: None,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        started: Instant,
        limit: Duration,
        // Armed at the first `Pending`.
        #[pin]
        timer: Option<Sleep>,
    }
}

impl<F, R, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
    R: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.inner.poll(cx) {
            return Poll::Ready(output);
        }
        if this.timer.is_none() {
            let deadline = *this.started + *this.limit;
            this.timer.set(Some(tokio::time::sleep_until(deadline)));
        }
        let Some(timer) = this.timer.as_pin_mut() else {
            return Poll::Pending;
        };
        std::task::ready!(timer.poll(cx));
        Poll::Ready(Ok(crate::http::errors::bare(StatusCode::REQUEST_TIMEOUT)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn answer_after(wait: Duration) -> Result<Response<String>, std::convert::Infallible> {
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(Response::new("done".to_owned()))
    }

    const LIMIT: Duration = Duration::from_millis(300);

    fn service(
        wait: Duration,
    ) -> Timeout<
        impl Service<
            Request<()>,
            Response = Response<String>,
            Error = std::convert::Infallible,
            Future: Send,
        > + Clone,
    > {
        TimeoutLayer { limit: LIMIT }
            .layer(tower::service_fn(move |_: Request<()>| answer_after(wait)))
    }

    #[tokio::test]
    async fn a_request_past_its_limit_is_answered_408_and_one_within_it_is_not() {
        let started = Instant::now();
        let slow = service(LIMIT * 10).oneshot(Request::new(())).await.unwrap();
        assert_eq!(slow.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(slow.body(), "");
        assert!(started.elapsed() < LIMIT * 5, "{:?}", started.elapsed());

        let waits = service(LIMIT / 6).oneshot(Request::new(())).await.unwrap();
        assert_eq!(waits.status(), StatusCode::OK);
        assert_eq!(waits.body(), "done");
    }

    #[tokio::test]
    async fn the_limit_counts_from_the_start_not_from_the_first_wait() {
        // The handler would answer 2/3 of the limit after its first poll, but that first poll
        // comes 2/3 of the limit after the request came in.
        // `call`, not `oneshot`: the request comes in now (oneshot would call at the first poll).
        let future = service(LIMIT * 2 / 3).call(Request::new(()));
        tokio::time::sleep(LIMIT * 2 / 3).await;
        let answer = future.await.unwrap();
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test]
    async fn an_answer_ready_at_once_never_arms_the_timer() {
        let mut future = std::pin::pin!(service(Duration::ZERO).call(Request::new(())));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let Poll::Ready(Ok(answer)) = future.as_mut().poll(&mut cx) else {
            panic!("a ready answer waited");
        };
        assert_eq!(answer.body(), "done");
        assert!(future.timer.is_none());
    }
}
