//! An open-loop load generator for one page: `GET URL` at a fixed rate, for the spaces
//! benchmark (`tests/bench/spaces.sh`: a pupil's space page at 1,000 pages/s).
//!
//! `rate-bench --url URL [--header 'Name: value']… [--rate 1000] [--clients 64] [--seconds 20]
//! [--warmup 3] [--expect TEXT] [--pid PID]`
//!
//! Request i is due at start + i/rate and is sent by the first of `--clients` clients (one
//! keep-alive connection each) that is free; its latency runs from when it was due to its last
//! body byte, so a server that falls behind shows as latency (no coordinated omission). The
//! first `--warmup` seconds run at the same rate and are not reported. An answer other than 200,
//! or a body without `--expect`, counts as an error. Prints one JSON object: count, errors,
//! p50/p90/p99/max in ms, the achieved rate, and the server's CPU seconds per second with `--pid`.

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

const USAGE: &str = "usage: rate-bench --url URL [--header 'Name: value']... [--rate 1000] \
                     [--clients 64] [--seconds 20] [--warmup 3] [--expect TEXT] [--pid PID]";

#[derive(Default)]
struct Options {
    url: String,
    headers: Vec<(String, String)>,
    rate: f64,
    clients: usize,
    seconds: f64,
    warmup: f64,
    expect: Option<String>,
    pid: Option<u32>,
}

fn options(mut args: impl Iterator<Item = String>) -> Result<Options> {
    let mut o = Options {
        rate: 1000.0,
        clients: 64,
        seconds: 20.0,
        warmup: 3.0,
        ..Options::default()
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--url" => o.url = value,
            "--header" => {
                let (name, v) = value
                    .split_once(':')
                    .ok_or_else(|| format!("--header wants 'Name: value', got {value:?}"))?;
                o.headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "--rate" => o.rate = value.parse()?,
            "--clients" => o.clients = value.parse()?,
            "--seconds" => o.seconds = value.parse()?,
            "--warmup" => o.warmup = value.parse()?,
            "--expect" => o.expect = Some(value),
            "--pid" => o.pid = Some(value.parse()?),
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    if o.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}").into());
    }
    if o.rate <= 0.0 || o.clients == 0 || o.seconds <= 0.0 || o.warmup < 0.0 {
        return Err("--rate, --clients and --seconds must be positive".into());
    }
    Ok(o)
}

#[derive(Default)]
struct Outcome {
    latencies_ms: Vec<f64>,
    errors: u64,
    first_error: Option<String>,
    last_done_s: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// utime + stime of a process, in seconds (Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

async fn run(o: Options) -> Result<Value> {
    let o = Arc::new(o);
    let warm = (o.warmup * o.rate).round() as u64;
    let total = warm + (o.seconds * o.rate).round() as u64;
    let next = Arc::new(AtomicU64::new(0));
    let results = Arc::new(Mutex::new(Outcome::default()));
    let start = Instant::now() + Duration::from_millis(200);
    let cpu_at = |pid: Option<u32>| pid.and_then(cpu_seconds);
    let mut cpu0 = None;
    let cpu_probe = {
        let o = o.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(start + Duration::from_secs_f64(o.warmup)).await;
            cpu_at(o.pid)
        })
    };
    let mut tasks = Vec::new();
    for _ in 0..o.clients {
        let (o, next, results) = (o.clone(), next.clone(), results.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(30))
                .build()?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), Box<dyn Error + Send + Sync>>(());
                }
                let due = start + Duration::from_secs_f64(i as f64 / o.rate);
                tokio::time::sleep_until(due).await;
                let mut request = http.get(&o.url);
                for (name, value) in &o.headers {
                    request = request.header(name, value);
                }
                let outcome = match request.send().await {
                    Ok(r) if r.status() == reqwest::StatusCode::OK => match r.text().await {
                        Ok(body) => match &o.expect {
                            Some(text) if !body.contains(text.as_str()) => Err(format!(
                                "200 without {text:?}: {}",
                                &body[..body.len().min(300)]
                            )),
                            _ => Ok(()),
                        },
                        Err(e) => Err(e.to_string()),
                    },
                    Ok(r) => {
                        let status = r.status();
                        Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                let ms = due.elapsed().as_secs_f64() * 1e3;
                if i < warm {
                    continue;
                }
                let mut s = results.lock().await;
                s.latencies_ms.push(ms);
                s.last_done_s = s.last_done_s.max(start.elapsed().as_secs_f64());
                if let Err(e) = outcome {
                    s.errors += 1;
                    s.first_error.get_or_insert(e);
                }
            }
        }));
    }
    if let Ok(c) = cpu_probe.await {
        cpu0 = c;
    }
    for t in tasks {
        t.await??;
    }
    let cpu1 = cpu_at(o.pid);
    let mut s = std::mem::take(&mut *results.lock().await);
    s.latencies_ms.sort_by(f64::total_cmp);
    let r = |x: f64| (x * 100.0).round() / 100.0;
    let measured = (s.last_done_s - o.warmup).max(1e-9);
    let count = s.latencies_ms.len();
    Ok(json!({
        "url": o.url,
        "rate": o.rate,
        "seconds": o.seconds,
        "clients": o.clients,
        "count": count,
        "errors": s.errors,
        "first_error": s.first_error,
        "achieved_per_s": r(count as f64 / measured),
        "p50_ms": r(percentile(&s.latencies_ms, 50.0)),
        "p90_ms": r(percentile(&s.latencies_ms, 90.0)),
        "p99_ms": r(percentile(&s.latencies_ms, 99.0)),
        "max_ms": r(s.latencies_ms.last().copied().unwrap_or(0.0)),
        "server_cpu_per_s": match (cpu0, cpu1) {
            (Some(a), Some(b)) => json!(r((b - a) / measured)),
            _ => Value::Null,
        },
    }))
}

fn main() -> ExitCode {
    let o = match options(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rate-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(o)) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rate-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
