//! One websocket, shared by its own task and the hub.
//!
//! The hub writes a frame straight into the socket from the task that delivers it: one
//! `write` to the kernel, no queue and no wake-up of the socket's task, the way a
//! single-threaded broadcast server writes (a class notice costs sixty writes, not sixty
//! task switches). The socket's task reads the client's frames, answers them, pings, and
//! finishes writes the kernel could not take at once: a write that would block leaves its
//! bytes in the socket's buffer and registers the task for "writable".
//!
//! Order: everything goes through one lock, so frames are never interleaved. Until the
//! `ready` frame is out, frames wait here; until the client's first frame (its `resume`) has
//! been answered, conversation messages wait too, so a catch-up is never overtaken by newer
//! messages; a message the catch-up already sent is skipped by its `seq`.
//!
//! A client that does not keep up is not allowed to hold memory or stall others: once more
//! than [`SLOW_LIMIT`] bytes wait for it, it is closed as too slow (4008) and catches up from
//! the database when it returns.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures::{Sink, Stream};

use super::hub::{CLOSE_NO_HEARTBEAT, CLOSE_TOO_SLOW, Outbound};

/// Bytes that may wait for a client before it counts as too slow (beyond what the kernel's
/// buffers took).
pub const SLOW_LIMIT: usize = 256 * 1024;
/// The socket's own buffer may hold a little more than `SLOW_LIMIT`: the frame that crossed it
/// and a close frame after it.
pub const MAX_BUFFER: usize = SLOW_LIMIT + 2 * super::ws::MAX_FRAME + 1024;
/// Messages held for a socket that has not resumed yet.
const HELD: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the `ready` frame: everything waits.
    Starting,
    /// Before the client's first frame was answered: conversation messages wait.
    Holding,
    Live,
}

/// What the socket's task hears.
pub enum Event {
    Frame(Message),
    /// Close with this code (the hub dropped the socket, or the server is stopping).
    Close(u16),
    /// The connection is gone: nothing more can be written.
    Gone,
}

pub struct Socket {
    inner: Mutex<Inner>,
}

struct Inner {
    ws: WebSocket,
    /// The socket task's waker: a write the hub could not finish wakes the task when the
    /// kernel takes more.
    waker: Option<Waker>,
    phase: Phase,
    /// Made on first use: most sockets never hold a frame or receive a conversation message.
    order: Option<Box<Order>>,
    /// When the client was last heard from (any frame, a pong included), as milliseconds on
    /// [`millis`]'s clock (an `Instant` is twice the size).
    heard: u64,
    /// Bytes written since the socket's buffer was last empty (an upper bound on what waits;
    /// never much more than `MAX_BUFFER`).
    backlog: u32,
    closing: u16,
    broken: bool,
}

/// What keeps a socket's frames in order (boxed: every idle socket carries `Inner`).
#[derive(Default)]
struct Order {
    /// Frames held while the socket starts (see `Phase`).
    held: Vec<Outbound>,
    /// The last `seq` written per conversation.
    sent: HashMap<Arc<str>, i64>,
}

/// Milliseconds since the first call: the clock `Inner::heard` is kept on.
fn millis() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// The connection is gone: nothing more can be written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// Why a write was refused.
enum Refused {
    TooSlow,
    Broken,
}

impl Socket {
    pub fn new(ws: WebSocket) -> Arc<Socket> {
        Arc::new(Socket {
            inner: Mutex::new(Inner {
                ws,
                waker: None,
                phase: Phase::Starting,
                order: None,
                heard: millis(),
                backlog: 0,
                closing: 0,
                broken: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every step under the lock leaves the state consistent; a panic cannot tear it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// From the hub: write `out` now (or hold it while the socket starts). `false` when the
    /// socket is closing and should leave the hub.
    pub fn deliver(&self, out: &Outbound) -> bool {
        let mut inner = self.lock();
        if inner.closing != 0 || inner.broken {
            return false;
        }
        let hold = match inner.phase {
            Phase::Starting => true,
            Phase::Holding => matches!(out, Outbound::Message { .. }),
            Phase::Live => false,
        };
        if hold {
            let held = &mut inner.order.get_or_insert_default().held;
            if held.len() >= HELD {
                inner.close(CLOSE_TOO_SLOW);
                return false;
            }
            held.push(out.clone());
            return true;
        }
        match inner.write_for_task(out) {
            Ok(()) => true,
            Err(why) => {
                inner.refused(why);
                false
            }
        }
    }

    /// From the hub's heartbeat: a client silent for longer than `silence` is asked to close
    /// (`CLOSE_NO_HEARTBEAT`); the others are pinged (their pong counts as being heard).
    pub fn heartbeat(&self, silence: Duration) {
        let mut inner = self.lock();
        if inner.closing != 0 || inner.broken {
            return;
        }
        if millis().saturating_sub(inner.heard) > silence.as_millis() as u64 {
            inner.close(CLOSE_NO_HEARTBEAT);
            return;
        }
        let ping = Message::Ping(Default::default());
        if let Err(why) = inner.for_task(|inner, cx| inner.write(ping, 0, cx)) {
            inner.refused(why);
        }
    }

    /// Ask the socket's task to close with `code` (the first reason given wins).
    pub fn close(&self, code: u16) {
        self.lock().close(code);
    }

    /// The task's next event: a close asked for, the connection gone, or (when `read`) the
    /// client's next frame. Also finishes writes the kernel could not take before.
    pub fn poll_event(&self, cx: &mut Context<'_>, read: bool) -> Poll<Event> {
        let mut inner = self.lock();
        if !inner
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            inner.waker = Some(cx.waker().clone());
        }
        if inner.broken {
            return Poll::Ready(Event::Gone);
        }
        if inner.closing != 0 {
            return Poll::Ready(Event::Close(inner.closing));
        }
        if let Poll::Ready(Err(Gone)) = inner.poll_flush(cx) {
            return Poll::Ready(Event::Gone);
        }
        if !read {
            return Poll::Pending;
        }
        match Pin::new(&mut inner.ws).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => {
                inner.heard = millis();
                Poll::Ready(Event::Frame(message))
            }
            Poll::Ready(_) => Poll::Ready(Event::Gone),
            Poll::Pending => Poll::Pending,
        }
    }

    /// From the socket's task: write `out` once what waits before it has gone out (so the
    /// task's own writes, a catch-up say, go at the client's pace).
    pub async fn send(&self, out: &Outbound) -> Result<(), Gone> {
        self.when_flushed(|inner, cx| inner.write_outbound(out, cx))
            .await
    }

    /// A frame that is not a conversation message (never skipped).
    pub async fn send_frame(&self, frame: Utf8Bytes) -> Result<(), Gone> {
        self.send(&Outbound::Frame(frame)).await
    }

    /// After the close frame: read (and drop) whatever the client still sends until it
    /// closes too. A connection closed with unread data in its receive buffer (a pong to a
    /// ping the client read while catching up, say) is reset, and the client may then lose
    /// the frames before the close frame.
    pub async fn linger(&self) {
        std::future::poll_fn(|cx| {
            let mut inner = self.lock();
            loop {
                match Pin::new(&mut inner.ws).poll_next(cx) {
                    Poll::Ready(Some(Ok(_))) => {}
                    Poll::Ready(_) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// The last frame (the close frame), from the socket's task: written once everything
    /// before it has gone out, and itself handed to the kernel before this returns (a close
    /// frame left in the socket's buffer would be lost with the socket, and the client would
    /// see the connection drop without it).
    pub async fn send_last(&self, message: Message) -> Result<(), Gone> {
        self.when_flushed(|inner, cx| inner.write(message.clone(), 0, cx))
            .await?;
        self.when_flushed(|_, _| Ok(())).await
    }

    /// Run `write` once nothing waits in the socket any more.
    async fn when_flushed(
        &self,
        mut write: impl FnMut(&mut Inner, &mut Context<'_>) -> Result<(), Refused>,
    ) -> Result<(), Gone> {
        std::future::poll_fn(|cx| {
            let mut inner = self.lock();
            if inner.broken {
                return Poll::Ready(Err(Gone));
            }
            match inner.poll_flush(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(Gone)) => return Poll::Ready(Err(Gone)),
                Poll::Ready(Ok(())) => {}
            }
            Poll::Ready(write(&mut inner, cx).map_err(|_| Gone))
        })
        .await
    }

    /// The `ready` frame is out: frames held so far go out after it, except conversation
    /// messages, which wait for the client's resume.
    pub async fn started(&self, ready: Utf8Bytes) -> Result<(), Gone> {
        self.send_frame(ready).await?;
        self.release(Phase::Holding)
    }

    /// The client's first frame has been answered (or it sent none in time): everything
    /// held goes out, and from now on frames are written as they come.
    pub fn live(&self) -> Result<(), Gone> {
        self.release(Phase::Live)
    }

    fn release(&self, phase: Phase) -> Result<(), Gone> {
        let mut inner = self.lock();
        if inner.phase == Phase::Live {
            return Ok(());
        }
        inner.phase = phase;
        let held = inner
            .order
            .as_mut()
            .map(|order| std::mem::take(&mut order.held))
            .unwrap_or_default();
        for out in held {
            if phase == Phase::Holding && matches!(out, Outbound::Message { .. }) {
                inner.order.get_or_insert_default().held.push(out);
                continue;
            }
            if let Err(why) = inner.write_for_task(&out) {
                inner.refused(why);
                // Too slow: the task finds the close asked for; broken: nothing more to do.
                return if inner.broken { Err(Gone) } else { Ok(()) };
            }
        }
        Ok(())
    }
}

impl Inner {
    fn wake(&self) {
        if let Some(waker) = &self.waker {
            waker.wake_by_ref();
        }
    }

    fn close(&mut self, code: u16) {
        if self.closing == 0 {
            self.closing = code;
        }
        self.wake();
    }

    /// A write refused: a client too slow is asked to close, a broken connection is gone.
    fn refused(&mut self, why: Refused) {
        match why {
            Refused::TooSlow => self.close(CLOSE_TOO_SLOW),
            Refused::Broken => {
                self.broken = true;
                self.wake();
            }
        }
    }

    /// Write `out` on behalf of the socket's task (from the hub, or frames it held): what the
    /// kernel does not take wakes the task when it can go on. The task's waker is borrowed for
    /// the write and put back (cloning it per frame was a measurable share of a fan-out).
    fn write_for_task(&mut self, out: &Outbound) -> Result<(), Refused> {
        self.for_task(|inner, cx| inner.write_outbound(out, cx))
    }

    /// Run `write` with the socket task's waker (see `write_for_task`).
    fn for_task<T>(&mut self, write: impl FnOnce(&mut Inner, &mut Context<'_>) -> T) -> T {
        let waker = self.waker.take();
        let mut cx = Context::from_waker(waker.as_ref().unwrap_or(Waker::noop()));
        let written = write(self, &mut cx);
        self.waker = waker;
        written
    }

    /// Push buffered bytes to the kernel; `Ready(Ok)` when nothing waits any more.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        match Pin::new(&mut self.ws).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.backlog = 0;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(_)) => {
                self.broken = true;
                Poll::Ready(Err(Gone))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn write_outbound(&mut self, out: &Outbound, cx: &mut Context<'_>) -> Result<(), Refused> {
        let frame = match out {
            Outbound::Frame(frame) => frame.clone(),
            Outbound::Message {
                conversation,
                seq,
                frame,
            } => {
                let sent = &mut self.order.get_or_insert_default().sent;
                let last = sent.entry(conversation.clone()).or_insert(0);
                if *seq <= *last {
                    return Ok(());
                }
                *last = *seq;
                frame.clone()
            }
        };
        let len = frame.len();
        self.write(Message::Text(frame), len, cx)
    }

    /// Queue `message` in the socket and try to write it out now; what the kernel does not
    /// take waits in the socket, and `cx`'s task is woken when it can go on.
    fn write(&mut self, message: Message, len: usize, cx: &mut Context<'_>) -> Result<(), Refused> {
        if self.backlog > 0 && self.backlog as usize + len > SLOW_LIMIT {
            return Err(Refused::TooSlow);
        }
        if Pin::new(&mut self.ws).start_send(message).is_err() {
            return Err(Refused::Broken);
        }
        match Pin::new(&mut self.ws).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                self.backlog = 0;
                Ok(())
            }
            Poll::Ready(Err(_)) => Err(Refused::Broken),
            Poll::Pending => {
                self.backlog = self.backlog.saturating_add(len.max(1) as u32);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every idle connection carries one `Socket` in an `Arc`: with the `Arc`'s two counters
    /// it must stay within the allocator's 448-byte size class (it was 512).
    #[test]
    fn an_idle_socket_fits_448_bytes() {
        let size = 2 * std::mem::size_of::<usize>() + std::mem::size_of::<super::Socket>();
        assert!(size <= 448, "an Arc<Socket> takes {size} bytes");
    }
}
