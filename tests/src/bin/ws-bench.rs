//! `ws-bench`: the load generator of the messaging benchmark (`tests/bench/messaging.sh`).
//!
//! ```text
//! ws-bench gen --out DIR [--parents 10000] [--class-size 60] [--seed 1]
//! ws-bench tokens --database-url URL --out FILE
//! ws-bench r4|r1|r2 --target kongjian|ws|socketio --url URL --tokens FILE [--pid PID] …
//! ws-bench fanout --run r4,r1,r2 --target … --url … --tokens … --pid …   (one set of sockets)
//! ws-bench r5|r6 --url URL --tokens FILE [--pid PID] …                    (Kongjian only)
//! ```
//!
//! `gen` writes the district (OneRoster 1.2 CSV), `tokens` gives every parent and teacher of the
//! imported district an API token, the others measure (see `fanout.rs` and `chat.rs` for what
//! exactly). Each figure is one line on stderr; the whole report is one JSON object on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

#[path = "ws-bench/chat.rs"]
mod chat;
#[path = "ws-bench/fanout.rs"]
mod fanout;
#[path = "ws-bench/gen.rs"]
mod generate;
#[path = "ws-bench/hist.rs"]
mod hist;
#[path = "ws-bench/members.rs"]
mod members;
#[path = "ws-bench/process.rs"]
mod process;
#[path = "ws-bench/tokens.rs"]
mod tokens;
#[path = "ws-bench/wsclient.rs"]
mod wsclient;

use fanout::{FanoutOpts, Test};
use wsclient::{Endpoint, Target};

#[derive(Parser)]
#[command(name = "ws-bench", about = "Load generator of the messaging benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the district: OneRoster 1.2 CSV, classes of about --class-size parents.
    Gen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        parents: usize,
        #[arg(long, default_value_t = 60)]
        class_size: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Create an API token for every active parent and teacher: role,sourced_id,class,token.
    Tokens {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        out: String,
    },
    /// R4: server memory per idle connection.
    R4(FanoutArgs),
    /// R1: the highest sustained fan-out with p99 ≤ --p99-ms.
    R1(FanoutArgs),
    /// R2: one class's notice while the others carry --background-rate.
    R2(FanoutArgs),
    /// Several of R4, R1, R2 on one set of connections (--run r4,r1,r2).
    Fanout(FanoutArgs),
    /// R5: durable 1:1 messages with receipts (Kongjian).
    R5(ChatArgs),
    /// R6: catching up after a reconnect (Kongjian).
    R6(ChatArgs),
}

#[derive(Args)]
struct Common {
    /// http://HOST:PORT of the server (or ws://).
    #[arg(long)]
    url: String,
    /// The file `ws-bench tokens` wrote.
    #[arg(long)]
    tokens: String,
    /// The server's process id: CPU time and memory are read from /proc/PID.
    #[arg(long)]
    pid: Option<u32>,
    /// Websocket handshakes in flight while connecting.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
}

#[derive(Args)]
struct FanoutArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long, value_enum)]
    target: Target,
    /// Which tests, in order (`fanout` only): r4, r1, r2.
    #[arg(long, value_delimiter = ',', default_value = "r4,r1,r2")]
    run: Vec<String>,
    /// Connect only this many parents (spread over all classes); default all.
    #[arg(long)]
    clients: Option<usize>,
    /// Kongjian: send `resume` and wait for `caught_up` after `ready`, as a real client does.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    resume: bool,
    /// R4: seconds to wait after connecting before reading the server's memory.
    #[arg(long, default_value_t = 3.0)]
    settle_seconds: f64,
    /// R1: unreported seconds at --start before the first step.
    #[arg(long, default_value_t = 3.0)]
    warmup_seconds: f64,
    /// R1: seconds per step.
    #[arg(long, default_value_t = 10.0)]
    step_seconds: f64,
    /// R1: first offered rate, deliveries per second.
    #[arg(long, default_value_t = 25_000.0)]
    start: f64,
    /// R1: the next step's rate after a pass.
    #[arg(long, default_value_t = 2.0)]
    factor: f64,
    /// R1: bisections between the best pass and the first failure.
    #[arg(long, default_value_t = 3)]
    refine: u32,
    /// R1: never offer more than this.
    #[arg(long, default_value_t = 5_000_000.0)]
    max_rate: f64,
    /// R1: a step passes with p99 publish→receive at most this.
    #[arg(long, default_value_t = 50.0)]
    p99_ms: f64,
    /// Seconds after a step's last publish for its deliveries to arrive.
    #[arg(long, default_value_t = 3.0)]
    drain_seconds: f64,
    /// R2: background deliveries per second (default: half of R1's figure in the same run).
    #[arg(long)]
    background_rate: Option<f64>,
    /// R2: probe notices per second to the probe class.
    #[arg(long, default_value_t = 10.0)]
    probe_rate: f64,
    /// R2: the probe class is the one closest to this many parents.
    #[arg(long, default_value_t = 60)]
    probe_class_size: usize,
    /// R2: seconds.
    #[arg(long, default_value_t = 20.0)]
    r2_seconds: f64,
    /// R2: the goal, p99 of the time to the last parent.
    #[arg(long, default_value_t = 5.0)]
    r2_p99_ms: f64,
    /// Kongjian: notice POSTs in flight at most (probes are not counted).
    #[arg(long, default_value_t = 256)]
    http_concurrency: usize,
    /// Peers: publisher sockets.
    #[arg(long, default_value_t = 4)]
    publishers: usize,
    /// Threads the listening sockets are spread over (each a single-threaded runtime).
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// R1: run a step that failed narrowly (nothing lost, p99 under 4× the goal) once more.
    #[arg(long, default_value_t = 1)]
    retries: u32,
}

#[derive(Args)]
struct ChatArgs {
    #[command(flatten)]
    common: Common,
    /// R5: parent–teacher pairs.
    #[arg(long, default_value_t = 5_000)]
    pairs: usize,
    /// R5: messages in flight per pair.
    #[arg(long, default_value_t = 1)]
    window: usize,
    /// R5: measured seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// R5: unmeasured seconds first.
    #[arg(long, default_value_t = 3.0)]
    warmup_seconds: f64,
    /// R5: send `resume` after `ready` on every socket.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    resume: bool,
    /// R6: messages missed per run.
    #[arg(long, default_value_t = 1_000)]
    messages: usize,
    /// R6: the other side's message POSTs in flight.
    #[arg(long, default_value_t = 32)]
    send_concurrency: usize,
    /// R6: runs (the median is the figure).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// R6: the goal for the median, milliseconds.
    #[arg(long, default_value_t = 20.0)]
    goal_ms: f64,
}

fn fanout_opts(a: FanoutArgs, tests: Vec<Test>) -> Result<FanoutOpts> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(a.step_seconds) || !positive(a.start) || a.factor.is_nan() || a.factor <= 1.0 {
        bail!("--step-seconds and --start must be positive, --factor above 1");
    }
    Ok(FanoutOpts {
        endpoint: Endpoint::new(a.target, &a.common.url)?,
        tokens: a.common.tokens,
        pid: a.common.pid,
        tests,
        clients: a.clients,
        connect_concurrency: a.common.connect_concurrency,
        settle_seconds: a.settle_seconds,
        warmup_seconds: a.warmup_seconds,
        step_seconds: a.step_seconds,
        start: a.start,
        factor: a.factor,
        refine: a.refine,
        max_rate: a.max_rate,
        p99_ms: a.p99_ms,
        drain_seconds: a.drain_seconds,
        background_rate: a.background_rate,
        probe_rate: a.probe_rate,
        probe_class_size: a.probe_class_size,
        r2_seconds: a.r2_seconds,
        r2_p99_ms: a.r2_p99_ms,
        http_concurrency: a.http_concurrency.max(1),
        publishers: a.publishers.max(1),
        resume: a.resume,
        client_threads: a.client_threads.max(1),
        retries: a.retries,
    })
}

fn chat_opts(a: ChatArgs) -> Result<chat::ChatOpts> {
    Ok(chat::ChatOpts {
        endpoint: Endpoint::new(Target::Kongjian, &a.common.url)?,
        tokens: a.common.tokens,
        pid: a.common.pid,
        pairs: a.pairs.max(1),
        window: a.window.max(1),
        seconds: a.seconds,
        warmup_seconds: a.warmup_seconds,
        connect_concurrency: a.common.connect_concurrency,
        resume: a.resume,
        messages: a.messages.max(1),
        send_concurrency: a.send_concurrency.max(1),
        runs: a.runs.max(1),
        goal_ms: a.goal_ms,
    })
}

async fn run(cli: Cli) -> Result<Value> {
    match cli.command {
        Command::Gen {
            out,
            parents,
            class_size,
            seed,
        } => {
            let started = std::time::Instant::now();
            let t = generate::generate(&generate::GenArgs {
                out: &out,
                parents,
                class_size,
                seed,
            })?;
            eprintln!(
                "ws-bench gen: {} → {} schools, {} classes, {} students, {} parents, {} teachers, {} enrollments in {:.2} s",
                out.display(),
                t.schools,
                t.classes,
                t.students,
                t.parents,
                t.teachers,
                t.enrollments,
                started.elapsed().as_secs_f64()
            );
            Ok(json!({
                "schools": t.schools, "classes": t.classes, "students": t.students,
                "parents": t.parents, "teachers": t.teachers, "enrollments": t.enrollments,
            }))
        }
        Command::Tokens { database_url, out } => {
            let started = std::time::Instant::now();
            let w = tokens::create(&database_url, &out).await?;
            eprintln!(
                "ws-bench tokens: {} parents, {} teachers, {} lines → {out} in {:.1} s",
                w.parents,
                w.teachers,
                w.lines,
                started.elapsed().as_secs_f64()
            );
            Ok(json!({"parents": w.parents, "teachers": w.teachers, "lines": w.lines}))
        }
        Command::R4(a) => fanout::run(fanout_opts(a, vec![Test::R4])?).await,
        Command::R1(a) => fanout::run(fanout_opts(a, vec![Test::R1])?).await,
        Command::R2(a) => fanout::run(fanout_opts(a, vec![Test::R2])?).await,
        Command::Fanout(a) => {
            let mut tests = Vec::new();
            for t in &a.run {
                tests.push(match t.trim().to_ascii_lowercase().as_str() {
                    "r4" => Test::R4,
                    "r1" => Test::R1,
                    "r2" => Test::R2,
                    other => bail!("--run: unknown test {other} (r4, r1, r2)"),
                });
            }
            fanout::run(fanout_opts(a, tests)?).await
        }
        Command::R5(a) => chat::r5(chat_opts(a)?).await,
        Command::R6(a) => chat::r6(chat_opts(a)?).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("ws-bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("ws-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
