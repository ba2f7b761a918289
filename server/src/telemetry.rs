//! Structured logs with `tracing`: text for people, JSON for log collectors.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Install the global subscriber, writing straight to standard error. Safe to call more than
/// once (later calls do nothing), so tests that start several servers in one process can call it
/// freely.
pub fn init(format: LogFormat, filter: &str) {
    install(format, filter, std::io::stderr);
}

/// Install the global subscriber for the `kongjian` process: lines are formatted where they
/// happen and written to standard error by a background thread, many lines to a write when
/// they come fast — so that the access log costs a request no system call and no wait on the
/// standard error lock. Nothing is dropped: a full queue (128k lines) makes the logger wait.
/// Keep the guard until the process ends: dropping it writes out what is queued.
pub fn init_background(
    format: LogFormat,
    filter: &str,
) -> tracing_appender::non_blocking::WorkerGuard {
    let stderr = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("kongjian-log")
        .finish(stderr);
    install(format, filter, writer);
    guard
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
