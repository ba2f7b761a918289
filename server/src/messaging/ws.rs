//! `GET /ws`: one task per socket. It registers with the hub, answers the client's frames
//! (resume, send, receipts), writes what the hub queues for it, pings, and closes when the
//! client goes quiet, cannot keep up, or is retired. See docs/realtime.md.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::conversations;
use super::hub::{CLOSE_TOO_SLOW, Outbound};
use super::messages::{self, Draft};
use super::protocol::{ClientFrame, ServerFrame, Unread};
use super::socket::{Event, Gone, Socket};
use super::{confirmations, notices, views};
use crate::auth::{Principal, Via};
use crate::error::{AppError, ErrorCode};
use crate::i18n::Lang;
use crate::roster::entity::person;
use crate::state::AppState;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

/// Frames are small JSON; a 5,000-character message is about 15 KB.
pub const MAX_FRAME: usize = 64 * 1024;
/// Messages sent per conversation in one catch-up page.
const CATCH_UP_PAGE: u64 = 1_000;

/// 实时 websocket / The realtime websocket
///
/// The realtime websocket: messages, notices, receipts and unread counts as they happen. The
/// frames are described in docs/realtime.md.
#[utoipa::path(
    get,
    path = "/ws",
    tag = "messaging",
    responses(
        (status = 101, description = "升级为 websocket；帧格式见 docs/realtime.md / switched to a websocket; the frames are in docs/realtime.md"),
        (status = 401, description = crate::http::openapi::answers::UNAUTHORIZED, body = crate::http::openapi::ErrorBody),
        (status = 403, description = "用 Cookie 连接但 `Origin` 不是本站（`forbidden`）/ a cookie connection whose `Origin` is not this server (`forbidden`)", body = crate::http::openapi::ErrorBody),
    )
)]
pub async fn upgrade(
    State(state): State<AppState>,
    caller: Principal,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    // A page on another site could open a socket with the visitor's cookie: with a cookie, the
    // Origin must be this server.
    if caller.via == Via::Session && !same_origin(&state, &headers) {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let lang = Lang::negotiate(&headers);
    Ok(ws
        // Small buffers: most sockets sit idle and clients send small frames (a larger one is
        // read in several steps); memory per connection is what limits a node.
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_write_buffer_size(super::socket::MAX_BUFFER)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // The socket gets a task of its own: axum's upgrade task, which would otherwise run it,
        // keeps its own state beside the socket's for as long as the socket lives.
        .on_upgrade(move |socket| {
            tokio::spawn(run(state, caller.person, lang, socket));
            std::future::ready(())
        }))
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Some(public) = &state.config.public_url
        && origin.trim_end_matches('/') == public.origin().ascii_serialization()
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h == o)
}

/// How long live messages wait for a new socket's `resume` (see `serve`).
const HOLD: std::time::Duration = std::time::Duration::from_millis(500);

/// Sends a socket may have waiting for the group commit before it stops reading the client
/// (which then waits in TCP): enough to keep a pipelining client busy, bounded for memory.
const SENDS_IN_FLIGHT: usize = 64;

type Pending = FuturesUnordered<BoxFuture<'static, Utf8Bytes>>;

/// A socket's task: the socket (shared with the hub), and its sends waiting for their commit.
struct Conn {
    state: AppState,
    person: Arc<person::Model>,
    lang: Lang,
    socket: Arc<Socket>,
    /// The socket's number in the hub: its own sends and receipts are not echoed to it.
    origin: u64,
    /// Made on the first send: most sockets (families reading) never send.
    sending: Option<Pending>,
    /// The socket's place in the hub, given up before the close frame.
    registration: Option<super::hub::Registration>,
}

/// The socket's task.
///
/// Its future is what every idle socket pays for as long as it lives (tokio rounds a task's
/// memory up to a multiple of 128 bytes), so it holds the socket's `Conn` once and little
/// else: the `Conn` is built here and the future only borrows it (an `async fn` taking it by
/// value would keep a second copy of its arguments), and whatever an idle socket does not need
/// while it waits (the first frame's queries, handling a frame, the close) is boxed while it
/// runs.
fn run(
    state: AppState,
    person: Arc<person::Model>,
    lang: Lang,
    ws: WebSocket,
) -> impl Future<Output = ()> + Send + 'static {
    let registration = state.messaging.hub.register(&person.id, ws);
    let mut conn = Conn {
        state,
        person,
        lang,
        socket: registration.socket.clone(),
        origin: registration.id,
        sending: None,
        registration: Some(registration),
    };
    async move { conn.run().await }
}

impl Conn {
    async fn run(&mut self) {
        // Boxed: the first frame's queries are large futures an idle socket should not carry.
        let code = match Box::pin(self.ready()).await {
            Ok(()) => self.serve().await,
            Err(Gone) => None,
        };
        // Out of the hub first: nothing more is written behind the close frame.
        self.registration = None;
        if let Some(code) = code {
            closing(&self.state, self.socket.clone(), code).await;
        }
    }

    async fn ready(&mut self) -> Result<(), Gone> {
        let unread = match unread(&self.state, &self.person).await {
            Ok(unread) => unread,
            Err(err) => {
                tracing::warn!(error = %err, "counting unread messages failed");
                Unread::default()
            }
        };
        let frame = ServerFrame::Ready {
            person: &self.person.sourced_id,
            unread: &unread,
        }
        .encode();
        self.socket.started(frame).await
    }

    /// The socket's loop; returns the close code to send, if any. Heartbeats are the hub's
    /// (`Hub::heartbeat`): an idle socket's task carries no timer.
    async fn serve(&mut self) -> Option<u16> {
        // Until the client's first frame (normally `resume`) has been answered, live messages
        // wait in the socket, so a catch-up is never overtaken by newer messages; a client
        // that does not resume gets them after `HOLD` at most. Boxed, and dropped once live.
        let mut hold = Some(Box::pin(tokio::time::sleep(HOLD)));
        loop {
            let step = std::future::poll_fn(|cx| self.poll_step(cx, &mut hold)).await;
            let (work, frame) = match step {
                Step::Event(Event::Frame(message)) => (self.frame_boxed(message), true),
                Step::Event(Event::Close(code)) => return Some(code),
                Step::Event(Event::Gone) => return None,
                Step::Answer(answer) => (send_boxed(&self.socket, answer), false),
                Step::HoldOver => {
                    hold = None;
                    if self.socket.live().is_err() {
                        return None;
                    }
                    continue;
                }
            };
            if work.await.is_err() {
                return None;
            }
            // A frame is answered first (a resume sends the backlog), then what was held.
            if frame && hold.take().is_some() && self.socket.live().is_err() {
                return None;
            }
        }
    }

    /// What the socket waits for, in this order: its own events (the client's frames, unless
    /// too many sends wait for their commit), the answers to its sends, the end of the hold.
    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        hold: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    ) -> Poll<Step> {
        let read = self.sending.as_ref().map_or(0, FuturesUnordered::len) < SENDS_IN_FLIGHT;
        if let Poll::Ready(event) = self.socket.poll_event(cx, read) {
            return Poll::Ready(Step::Event(event));
        }
        if let Some(sending) = &mut self.sending
            && let Poll::Ready(Some(answer)) = sending.poll_next_unpin(cx)
        {
            return Poll::Ready(Step::Answer(answer));
        }
        if let Some(sleep) = hold
            && sleep.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Step::HoldOver);
        }
        Poll::Pending
    }

    /// One frame from the client, answered (`Err` when the socket is gone or closed).
    fn frame_boxed(&mut self, message: Message) -> BoxFuture<'_, Result<(), Gone>> {
        Box::pin(async move {
            match message {
                Message::Text(text) => self.handle(text.as_str()).await,
                Message::Binary(_) => {
                    let refused = AppError::new(ErrorCode::UnsupportedMediaType);
                    self.error(refused, None).await
                }
                Message::Close(_) => Err(Gone),
                Message::Ping(_) | Message::Pong(_) => Ok(()),
            }
        })
    }

    async fn error(&mut self, err: AppError, nonce: Option<&str>) -> Result<(), Gone> {
        let frame = error_frame(&self.state, self.lang, &err, nonce);
        self.socket.send_frame(frame).await
    }

    async fn handle(&mut self, text: &str) -> Result<(), Gone> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(_) => {
                return self.error(AppError::new(ErrorCode::BadRequest), None).await;
            }
        };
        let result = match frame {
            ClientFrame::Ping => {
                return self.socket.send_frame(ServerFrame::Pong.encode()).await;
            }
            ClientFrame::Resume { conversations } => {
                return match self.resume(conversations).await {
                    Ok(result) => result,
                    Err(err) => self.error(err, None).await,
                };
            }
            ClientFrame::Send {
                conversation,
                body,
                nonce,
                attachments,
            } => {
                // Answered when committed; meanwhile the socket goes on reading and writing.
                let (state, person, lang) = (self.state.clone(), self.person.clone(), self.lang);
                let origin = Some(self.origin);
                let answer = async move {
                    let draft = Draft {
                        conversation: &conversation,
                        body: &body,
                        nonce: &nonce,
                        attachments: &attachments,
                        origin,
                    };
                    match messages::send(&state, &person, draft).await {
                        Ok(m) => ServerFrame::Sent {
                            nonce: &nonce,
                            conversation: &m.conversation_id,
                            id: &m.id,
                            seq: m.seq,
                            held_until: m.held.then_some(m.deliver_at),
                        }
                        .encode(),
                        Err(err) => error_frame(&state, lang, &err, Some(&nonce)),
                    }
                };
                self.sending
                    .get_or_insert_with(FuturesUnordered::new)
                    .push(Box::pin(answer));
                return Ok(());
            }
            ClientFrame::Delivered { conversation, seq } => {
                let origin = Some(self.origin);
                messages::receipt(&self.state, &self.person, &conversation, seq, 0, origin).await
            }
            ClientFrame::Read { conversation, seq } => {
                let origin = Some(self.origin);
                messages::receipt(&self.state, &self.person, &conversation, seq, seq, origin).await
            }
            ClientFrame::NoticeRead { notice } => {
                confirmations::mark_read(&self.state, &self.person, &notice).await
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => self.error(err, None).await,
        }
    }

    /// Everything after the client's cursors (after the last read message where it names
    /// none), in order; then the unread notices; then `caught_up`.
    async fn resume(
        &mut self,
        cursors: HashMap<String, i64>,
    ) -> Result<Result<(), Gone>, AppError> {
        let state = self.state.clone();
        for (conversation, read) in conversations::memberships(&state.db, &self.person.id).await? {
            let mut after = cursors.get(&conversation.id).copied().unwrap_or(read);
            let end = conversation.last_seq;
            let conversation = conversation.id.as_str();
            let key: Arc<str> = Arc::from(conversation);
            while after < end {
                let page = messages::since(&state.db, conversation, after, CATCH_UP_PAGE).await?;
                let Some(last) = page.last().and_then(|m| m.seq) else {
                    break;
                };
                for message in &page {
                    let own = message.sender_id == self.person.id;
                    let view = views::message(&state, message, own).await?;
                    let frame = ServerFrame::Message(&view).encode();
                    let out = Outbound::Message {
                        conversation: key.clone(),
                        seq: message.seq.unwrap_or(0),
                        frame,
                    };
                    if self.socket.send(&out).await.is_err() {
                        return Ok(Err(Gone));
                    }
                }
                after = last;
            }
        }
        for n in notices::unread(&state, &self.person).await? {
            let view = notices::recipient_view(&state, &self.person, &n).await?;
            let frame = ServerFrame::Notice(&view).encode();
            if self.socket.send_frame(frame).await.is_err() {
                return Ok(Err(Gone));
            }
        }
        Ok(self.socket.send_frame(ServerFrame::CaughtUp.encode()).await)
    }
}

/// An answer to a send, written from the socket's task (boxed, like a frame's handling).
fn send_boxed(socket: &Socket, answer: Utf8Bytes) -> BoxFuture<'_, Result<(), Gone>> {
    Box::pin(socket.send_frame(answer))
}

/// What a socket's task does next (see `Conn::serve`).
enum Step {
    Event(Event),
    Answer(Utf8Bytes),
    HoldOver,
}

/// The close frame with `code` (boxed: every idle socket would carry its timer). A client that
/// reads nothing more does not keep the task: what waits before the close frame, and the
/// client's own close after it, get `close_wait`.
fn closing(state: &AppState, socket: Arc<Socket>, code: u16) -> BoxFuture<'static, ()> {
    let reason = match code {
        CLOSE_TOO_SLOW => "too slow",
        super::hub::CLOSE_RETIRED => "retired",
        super::hub::CLOSE_SIGNED_OUT => "signed out",
        super::hub::CLOSE_GOING_AWAY => "server shutting down",
        super::hub::CLOSE_NO_HEARTBEAT => "no heartbeat",
        _ => "resume",
    };
    let close = Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }));
    let wait = state.config.close_wait;
    Box::pin(async move {
        let _ = tokio::time::timeout(wait, async move {
            if socket.send_last(close).await.is_ok() {
                socket.linger().await;
            }
        })
        .await;
    })
}

fn error_frame(state: &AppState, lang: Lang, err: &AppError, nonce: Option<&str>) -> Utf8Bytes {
    let key = err.code().message_key();
    let message = state.i18n.for_lang(lang).format(&key, err.args());
    ServerFrame::Error {
        code: err.code().as_str(),
        message: &message,
        nonce,
    }
    .encode()
}

/// Unread messages per conversation, unread notices, and their total.
pub async fn unread(state: &AppState, person: &person::Model) -> Result<Unread, sea_orm::DbErr> {
    let conversations: HashMap<String, i64> = conversations::unread(&state.db, &person.id)
        .await?
        .into_iter()
        .collect();
    let notices = notices::unread(state, person).await?.len() as i64;
    Ok(Unread {
        total: conversations.values().sum::<i64>() + notices,
        notices,
        conversations,
    })
}
