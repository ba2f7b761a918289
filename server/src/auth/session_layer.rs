//! The layer that gives every request its tower-sessions `Session` and sets or removes the
//! session cookie on the way out — what tower-sessions' `SessionManagerLayer` does, with the
//! same rules, written for this server's hot path.
//!
//! `SessionManagerLayer` puts tower-cookies' `CookieManager` under it (a parsed cookie jar behind
//! a mutex for every request, and a pass over it on the way out), clones the whole stack below
//! and boxes a future for every request. Here the session cookie is read straight from the
//! `Cookie` header (`auth::csrf::read_cookies`), the inner service is called directly, and a
//! request that neither changed its session nor lost it — nearly every request — finishes
//! without a box or a lock. Only a changed session (a sign-in, a sign-out, a "last seen" touch)
//! takes the asynchronous way out that saves it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{self, HeaderValue, Request, header};
use tower::{Layer, Service};
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::session::Id;
use tower_sessions::{Expiry, Session};

use super::csrf;
use super::session_store::DbSessionStore;
use crate::http::errors;

/// How the session cookie is made.
#[derive(Clone, Debug)]
pub struct CookieRules {
    pub name: &'static str,
    pub secure: bool,
    /// The expiry a new session starts with (a session may set its own).
    pub expiry: Expiry,
}

#[derive(Clone)]
pub struct SessionLayer {
    store: Arc<DbSessionStore>,
    rules: Arc<CookieRules>,
}

impl SessionLayer {
    pub fn new(store: DbSessionStore, rules: CookieRules) -> Self {
        SessionLayer {
            store: Arc::new(store),
            rules: Arc::new(rules),
        }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = Sessions<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sessions {
            inner,
            store: self.store.clone(),
            rules: self.rules.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Sessions<S> {
    inner: S,
    store: Arc<DbSessionStore>,
    rules: Arc<CookieRules>,
}

impl<S, B, R> Service<Request<B>> for Sessions<S>
where
    S: Service<Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future, R, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let [cookie] = csrf::read_cookies(request.headers(), [self.rules.name]);
        let had_cookie = cookie.is_some();
        // A malformed id is treated as no session: the caller is a stranger, and a new session
        // gets a new id.
        let id = cookie.and_then(|value| value.parse::<Id>().ok());
        let session = Session::new(id, self.store.clone(), Some(self.rules.expiry));
        request.extensions_mut().insert(session.clone());
        SessionFuture::Inner {
            inner: self.inner.call(request),
            after: Some(After {
                session,
                had_cookie,
                rules: self.rules.clone(),
            }),
        }
    }
}

/// What the way out needs to know.
struct After {
    session: Session,
    had_cookie: bool,
    rules: Arc<CookieRules>,
}

impl After {
    /// Whether the way out has nothing to do, decided without a lock: an unchanged session that
    /// still has its id is neither saved nor removed, and an unchanged session without a cookie
    /// has no cookie to remove.
    fn nothing_to_do(&self) -> bool {
        !self.session.is_modified() && (self.session.id().is_some() || !self.had_cookie)
    }

    /// tower-sessions' rules for the way out: a session that arrived with a cookie and is now
    /// empty loses its cookie; a changed, non-empty session is saved and its cookie set (not
    /// after a server error, which must not save half a change).
    async fn finish<R: Default>(self, mut response: http::Response<R>) -> http::Response<R> {
        let empty = self.session.is_empty().await;
        if self.had_cookie && empty {
            append_cookie(&mut response, removal(&self.rules));
        } else if self.session.is_modified() && !empty && !response.status().is_server_error() {
            if let Err(err) = self.session.save().await {
                tracing::error!(error = %err, "could not save the session");
                return errors::bare(http::StatusCode::INTERNAL_SERVER_ERROR);
            }
            let Some(id) = self.session.id() else {
                tracing::error!("a saved session has no id");
                return errors::bare(http::StatusCode::INTERNAL_SERVER_ERROR);
            };
            append_cookie(
                &mut response,
                cookie(&self.rules, id, self.session.expiry()),
            );
        }
        response
    }
}

fn base(rules: &CookieRules, value: String) -> tower_sessions::cookie::CookieBuilder<'static> {
    Cookie::build((rules.name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(rules.secure)
        .path("/")
}

fn cookie(rules: &CookieRules, id: Id, expiry: Option<Expiry>) -> Cookie<'static> {
    let builder = base(rules, id.to_string());
    match expiry {
        Some(Expiry::OnInactivity(duration)) => builder.max_age(duration),
        Some(Expiry::AtDateTime(at)) => builder.max_age(at - time::OffsetDateTime::now_utc()),
        Some(Expiry::OnSessionEnd) | None => builder,
    }
    .build()
}

fn removal(rules: &CookieRules) -> Cookie<'static> {
    base(rules, String::new())
        .max_age(time::Duration::ZERO)
        .expires(time::OffsetDateTime::UNIX_EPOCH)
        .build()
}

fn append_cookie<R>(response: &mut http::Response<R>, cookie: Cookie<'static>) {
    match HeaderValue::try_from(cookie.encoded().to_string()) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Err(err) => tracing::error!(error = %err, "the session cookie is not a header value"),
    }
}

type Boxed<R, E> = Pin<Box<dyn Future<Output = Result<http::Response<R>, E>> + Send>>;

pin_project_lite::pin_project! {
    #[project = Projected]
    pub enum SessionFuture<F, R, E> {
        Inner {
            #[pin]
            inner: F,
            after: Option<After>,
        },
        Finishing {
            future: Boxed<R, E>,
        },
    }
}

impl<F, R, E> Future for SessionFuture<F, R, E>
where
    F: Future<Output = Result<http::Response<R>, E>>,
    R: Default + Send + 'static,
    E: Send + 'static,
{
    type Output = Result<http::Response<R>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project() {
                Projected::Inner { inner, after } => {
                    let response = std::task::ready!(inner.poll(cx))?;
                    match after.take() {
                        Some(after) if !after.nothing_to_do() => SessionFuture::Finishing {
                            future: Box::pin(async move { Ok(after.finish(response).await) }),
                        },
                        _ => return Poll::Ready(Ok(response)),
                    }
                }
                Projected::Finishing { future } => return future.as_mut().poll(cx),
            };
            self.set(next);
        }
    }
}
