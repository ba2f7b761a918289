//! `auth-bench activate --url URL --codes FILE.json [--rate 20] [--seconds 30] --password P`:
//! the open-loop load of the sign-in benchmark (`tests/bench/auth.sh`).
//!
//! One first sign-in (`POST /api/v1/auth/activate {"code","password"}`) is started every
//! 1/rate seconds, whether or not the earlier ones have finished — the way people arrive, not
//! the way a closed loop of clients waits its turn — each with a different code from FILE.json
//! (the output of `kongjian codes issue --json`: `[{"code": …}, …]`, or an array of strings;
//! codes are taken in order). The client keeps no cookies, so every request is a stranger's
//! first visit; connections are reused.
//!
//! Each latency is measured from the moment its request was due, not from when it was sent, so
//! a stalled generator shows up as latency instead of hiding it (no coordinated omission). Any
//! answer other than 200, and any transport error, counts as an error. Prints one JSON object:
//! `{count, ok, errors, p50_ms, p90_ms, p99_ms, max_ms, …}`, percentiles over every request
//! (exact: all samples sorted, nearest rank).

use std::collections::BTreeMap;
use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Args {
    url: String,
    codes: String,
    rate: f64,
    seconds: f64,
    password: String,
    timeout: Duration,
}

fn usage() -> &'static str {
    "usage: auth-bench activate --url URL --codes FILE.json --password P \
     [--rate 20] [--seconds 30] [--timeout 30]"
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("activate") => {}
        Some("-h" | "--help") => {
            println!("{}", usage());
            std::process::exit(0);
        }
        _ => return Err(usage().into()),
    }
    let (mut url, mut codes, mut password) = (None, None, None);
    let (mut rate, mut seconds, mut timeout) = (20.0, 30.0, 30.0);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--url" => url = Some(value("--url")?),
            "--codes" => codes = Some(value("--codes")?),
            "--password" => password = Some(value("--password")?),
            "--rate" => rate = value("--rate")?.parse()?,
            "--seconds" => seconds = value("--seconds")?.parse()?,
            "--timeout" => timeout = value("--timeout")?.parse()?,
            other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(rate) || !positive(seconds) || !positive(timeout) {
        return Err("--rate, --seconds and --timeout must be positive".into());
    }
    Ok(Args {
        url: url.ok_or("--url is required")?,
        codes: codes.ok_or("--codes is required")?,
        rate,
        seconds,
        password: password.ok_or("--password is required")?,
        timeout: Duration::from_secs_f64(timeout),
    })
}

fn read_codes(path: &str) -> Result<Vec<String>> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let Value::Array(items) = value else {
        return Err(format!("{path}: expected a JSON array").into());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(code) => Ok(code),
            Value::Object(mut o) => match o.remove("code") {
                Some(Value::String(code)) => Ok(code),
                _ => Err(format!("{path}: an entry has no \"code\" string").into()),
            },
            _ => Err(format!("{path}: entries must be strings or objects with \"code\"").into()),
        })
        .collect()
}

/// One finished request: milliseconds from when it was due, and its status (None: no answer).
struct Sample {
    ms: f64,
    status: Option<u16>,
    error: Option<String>,
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

async fn activate(args: Args) -> Result<Value> {
    let total = (args.rate * args.seconds).round() as usize;
    let codes = read_codes(&args.codes)?;
    if codes.len() < total {
        return Err(format!(
            "{}: {} codes, but {} × {} s needs {total}",
            args.codes,
            codes.len(),
            args.rate,
            args.seconds
        )
        .into());
    }
    // No cookie store: each request arrives as a new browser would, without cookies.
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(usize::MAX)
        .build()?;
    let endpoint = format!("{}/api/v1/auth/activate", args.url.trim_end_matches('/'));
    let period = Duration::from_secs_f64(1.0 / args.rate);

    let mut ticks = tokio::time::interval(period);
    // Burst: if the generator ever falls behind, catch up at once so the schedule holds.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    let mut late_ms: f64 = 0.0;
    for (i, code) in codes.into_iter().take(total).enumerate() {
        ticks.tick().await;
        // When this request was due: the schedule, not the moment the task got to run.
        let due = started + period.mul_f64(i as f64);
        late_ms = late_ms.max(due.elapsed().as_secs_f64() * 1000.0);
        let client = client.clone();
        let endpoint = endpoint.clone();
        let body = json!({"code": code, "password": args.password});
        tasks.push(tokio::spawn(async move {
            let result = client.post(&endpoint).json(&body).send().await;
            let (status, error) = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // Read the whole answer: the request is done when its body has arrived.
                    let text = response.text().await.unwrap_or_default();
                    let error = (status != 200).then(|| text.chars().take(200).collect());
                    (Some(status), error)
                }
                Err(e) => (None, Some(e.to_string())),
            };
            Sample {
                ms: due.elapsed().as_secs_f64() * 1000.0,
                status,
                error,
            }
        }));
    }
    let sent_s = started.elapsed().as_secs_f64();
    let mut samples = Vec::with_capacity(total);
    for task in tasks {
        samples.push(task.await?);
    }
    let wall_s = started.elapsed().as_secs_f64();

    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut first_errors = Vec::new();
    for s in &samples {
        let key = s
            .status
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        *statuses.entry(key).or_default() += 1;
        if let Some(e) = &s.error
            && first_errors.len() < 5
        {
            first_errors.push(json!({"status": s.status, "answer": e}));
        }
    }
    let ok = samples.iter().filter(|s| s.status == Some(200)).count();
    let mut all: Vec<f64> = samples.iter().map(|s| s.ms).collect();
    all.sort_by(f64::total_cmp);
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    Ok(json!({
        "count": samples.len(),
        "ok": ok,
        "errors": samples.len() - ok,
        "p50_ms": round3(percentile(&all, 50.0)),
        "p90_ms": round3(percentile(&all, 90.0)),
        "p99_ms": round3(percentile(&all, 99.0)),
        "max_ms": round3(all.last().copied().unwrap_or(f64::NAN)),
        "min_ms": round3(all.first().copied().unwrap_or(f64::NAN)),
        "mean_ms": round3(mean),
        "rate": args.rate,
        "seconds": args.seconds,
        "sent_in_s": round3(sent_s),
        "wall_s": round3(wall_s),
        "generator_max_late_ms": round3(late_ms),
        "statuses": statuses,
        "first_errors": first_errors,
    }))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("auth-bench: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("auth-bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(activate(args)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("auth-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
