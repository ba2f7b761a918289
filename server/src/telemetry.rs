//! Structured logs with `tracing`: text for people, JSON for log collectors.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Install the global subscriber, writing straight to standard error. Safe to call more than
/// once (later calls do nothing), so tests that start several servers in one process can call it
/// freely.
pub fn init(format: LogFormat, filter: &str) {
    install(format, filter, std::io::stderr);
}

/// Install the global subscriber for the `kongjian` process: lines are formatted where they
/// happen and written to standard error by a background thread (see [`Background`]). Keep the
/// guard until the process ends: dropping it writes out what is queued.
pub fn init_background(format: LogFormat, filter: &str) -> LogGuard {
    let (writer, guard) = Background::start(std::io::stderr());
    let _ = PROCESS_WRITER.set(writer.queue.clone());
    install(format, filter, writer);
    guard
}

/// The process's log writer thread, once `init_background` started it.
static PROCESS_WRITER: std::sync::OnceLock<mpsc::SyncSender<Message>> = std::sync::OnceLock::new();

/// Whether lines made by hand (the access log) can go to the log writer thread.
pub fn writes_in_background() -> bool {
    PROCESS_WRITER.get().is_some()
}

/// Hand a finished line (ending in a newline) to the log writer thread, or write it directly
/// when there is none (any more).
pub fn write_line(line: Vec<u8>) {
    let undelivered = match PROCESS_WRITER.get() {
        Some(queue) => match queue.send(Message::Line(line)) {
            Ok(()) => return,
            Err(mpsc::SendError(Message::Line(line))) => line,
            Err(_) => return,
        },
        None => line,
    };
    let _ = std::io::stderr().write_all(&undelivered);
}

/// How long the writer gathers lines after the first one before writing them out: a line
/// reaches standard error at most this late, and a busy server writes ~50 times a second
/// instead of once per request.
const GATHER: Duration = Duration::from_millis(20);
/// Write out sooner when this much is waiting.
const BATCH_BYTES: usize = 64 * 1024;
/// Lines queued before a logging thread waits for the writer (nothing is ever dropped).
const QUEUE: usize = 65_536;

enum Message {
    Line(Vec<u8>),
    /// Write out everything queued, then answer and stop.
    Stop(mpsc::SyncSender<()>),
}

/// A log writer that hands each formatted line to one background thread, which writes them to
/// its output in batches. The access log then costs a request neither a system call nor a wait
/// on the standard-error lock, and the thread's own wake-ups and writes are a few dozen a
/// second however busy the server is. (tracing-appender's writer flushes after every line it
/// finds waiting, which at tens of thousands of requests a second is a write per line or two.)
#[derive(Clone)]
pub struct Background {
    queue: mpsc::SyncSender<Message>,
}

/// Stops the writer when dropped, after everything queued is written.
pub struct LogGuard {
    queue: mpsc::SyncSender<Message>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(mut out: impl Write + Send + 'static) -> (Background, LogGuard) {
        let (queue, lines) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("kongjian-log".to_owned())
            .spawn(move || write_batches(&lines, &mut out))
            .ok();
        (
            Background {
                queue: queue.clone(),
            },
            LogGuard { queue, thread },
        )
    }
}

fn write_batches(lines: &mpsc::Receiver<Message>, out: &mut impl Write) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    // Blocks (no polling) while nothing is logged.
    while let Ok(first) = lines.recv() {
        let mut stop = None;
        let gathered_until = Instant::now() + GATHER;
        let mut next = Some(first);
        loop {
            while let Some(message) = next.take().or_else(|| lines.try_recv().ok()) {
                match message {
                    Message::Line(line) => batch.extend_from_slice(&line),
                    Message::Stop(done) => stop = Some(done),
                }
                if batch.len() >= BATCH_BYTES {
                    let _ = out.write_all(&batch);
                    batch.clear();
                }
            }
            let now = Instant::now();
            if stop.is_some() || now >= gathered_until {
                break;
            }
            // Sleep rather than wait on the queue: loggers never have to wake this thread.
            std::thread::sleep((gathered_until - now).min(Duration::from_millis(5)));
        }
        let _ = out.write_all(&batch);
        let _ = out.flush();
        batch.clear();
        if let Some(done) = stop {
            let _ = done.send(());
            return;
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        let (done, written) = mpsc::sync_channel(1);
        if self.queue.send(Message::Stop(done)).is_ok() {
            let _ = written.recv_timeout(Duration::from_secs(2));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's text, sent to the writer thread whole when the formatter is done with it.
pub struct LineWriter<'a> {
    queue: &'a mpsc::SyncSender<Message>,
    line: Vec<u8>,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // After the guard stopped the writer (the very end of main), say it directly.
            if let Err(mpsc::SendError(Message::Line(line))) = self.queue.send(Message::Line(line))
            {
                let _ = std::io::stderr().write_all(&line);
            }
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Background {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            queue: &self.queue,
            line: Vec::with_capacity(256),
        }
    }
}

fn install<W>(format: LogFormat, filter: &str, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut s = self.0.lock().unwrap();
            s.0.extend_from_slice(buf);
            s.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_in_order_in_few_writes_and_all_by_the_guard() {
        let out = Shared::default();
        let (writer, guard) = Background::start(out.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        let mut w = writer.make_writer();
                        write!(w, "thread {t} ").unwrap();
                        writeln!(w, "line {i}").unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let (bytes, writes) = std::mem::take(&mut *out.0.lock().unwrap());
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8_000, "nothing lost");
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> =
                (0..2_000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected, "each line whole, each thread's in order");
        }
        assert!(writes < 200, "8,000 lines in {writes} writes");
    }

    #[test]
    fn a_lone_line_is_written_without_waiting_for_more() {
        let out = Shared::default();
        let (writer, _guard) = Background::start(out.clone());
        writeln!(writer.make_writer(), "listening on http://127.0.0.1:8080").unwrap();
        let started = Instant::now();
        while out.0.lock().unwrap().0.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "the line never came"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
