//! The HTTP half of the search benchmark (`tests/bench/search.sh`): S2, `GET /api/v1/search`
//! at a fixed rate, and S4, how soon an approved resource can be found, while S2 runs.
//!
//! `search-http-bench seed --data-dir DIR --corpus DIR [--teacher qh-user-t0001]
//! [--reviewer qh-user-a0004] [--reader qh-user-t0004] [--district qh-org-001]`
//!
//! Prepares a data directory for `kongjian serve`: migrates its SQLite database, loads the demo
//! county (青禾县) when the database is empty, and inserts every document of the corpus's
//! `docs.tsv` as a published text resource — a `resources` row, its one `resource_versions` row
//! (state `published`, scope `district`, ingested by the district, owned by `--teacher`, reviewed
//! by `--reviewer`) and a `search_outbox` row, as the API would have left them — in
//! transactions of 500. It creates API tokens for the teacher, the reviewer (a district
//! administrator: the district reviews district-wide resources) and the reader (a teacher of
//! another school, who sees district-wide resources only once they are published), and prints
//! `{"resources", "seconds", "teacher_token", "reviewer_token", "reader_token"}`. Run
//! `kongjian reindex` on the directory afterwards.
//!
//! `search-http-bench run --url URL --corpus DIR --token T --reviewer-token R --reader-token X
//! [--rate 200] [--clients 16] [--seconds 20] [--warmup 2] [--fresh-samples 15]
//! [--fresh-interval 1] [--poll-ms 10] [--pid PID]`
//!
//! S2: the queries of `queries.tsv` in turn, as the teacher, `GET /api/v1/search?q=…` (with
//! `subject` / `grade` when the query has a filter; the text as search-bench builds it), open
//! loop: request i is due at start + i/rate and is sent by the first of `--clients` clients (one
//! keep-alive connection each) that is free; its latency runs from when it was due to its last
//! body byte, so a server that falls behind shows as latency. `--warmup` seconds at the same
//! rate first, not reported. Answers other than 200 count as errors.
//!
//! S4, at the same time, every `--fresh-interval` seconds: the teacher creates a text resource
//! (`POST /api/v1/resources`, scope district) whose title holds a word found nowhere else,
//! submits it (`POST …/submit {"pledge": true}`), the reviewer approves it
//! (`POST …/review`); then the reader searches for the word every `--poll-ms` ms. Freshness is
//! the time from the approval's answer to the first answer that lists the resource.
//!
//! Prints one JSON object (`s2`, `s4`, and the server's CPU time when `--pid` is given).

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use kongjian::resources::entity::{outbox, resource, version};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    TransactionTrait,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

fn usage() -> &'static str {
    "usage:\n  search-http-bench seed --data-dir DIR --corpus DIR [--teacher ID] [--reviewer ID] [--reader ID] [--district ID]\n  \
     search-http-bench run --url URL --corpus DIR --token T --reviewer-token R --reader-token X [--rate 200] [--clients 16] \
     [--seconds 20] [--warmup 2] [--fresh-samples 15] [--fresh-interval 1] [--poll-ms 10] [--pid PID]"
}

/// `--name value` pairs.
fn options(args: impl Iterator<Item = String>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut args = args.peekable();
    while let Some(name) = args.next() {
        if !name.starts_with("--") {
            return Err(format!("unexpected {name}\n{}", usage()).into());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{name} needs a value\n{}", usage()))?;
        out.insert(name[2..].to_owned(), value);
    }
    Ok(out)
}

fn get<'a>(o: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    o.get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("--{name} is required\n{}", usage()).into())
}

fn num<T: std::str::FromStr>(o: &BTreeMap<String, String>, name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match o.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| format!("--{name} {v}: {e}").into()),
    }
}

// ------------------------------------------------------------------------------------ seed

async fn seed(o: &BTreeMap<String, String>) -> Result<Value> {
    let data_dir = PathBuf::from(get(o, "data-dir")?);
    let corpus = PathBuf::from(get(o, "corpus")?);
    let teacher_id = o.get("teacher").map_or("qh-user-t0001", String::as_str);
    let reviewer_id = o.get("reviewer").map_or("qh-user-a0004", String::as_str);
    let reader_id = o.get("reader").map_or("qh-user-t0004", String::as_str);
    let district_id = o.get("district").map_or("qh-org-001", String::as_str);
    std::fs::create_dir_all(&data_dir)?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("kongjian.db").display()
    );
    let (db, _) = kongjian::connect_and_migrate(&url)
        .await
        .map_err(|e| format!("{e}"))?;
    kongjian::roster::demo::load_if_empty(&db)
        .await
        .map_err(|e| format!("loading the demo county: {e}"))?;
    let person = |id: &str| {
        let db = db.clone();
        let id = id.to_owned();
        async move {
            kongjian::people::store::find_by_sourced_id(&db, &id)
                .await?
                .ok_or_else(|| -> Box<dyn Error + Send + Sync> {
                    format!("no person {id} in the roster").into()
                })
        }
    };
    let teacher = person(teacher_id).await?;
    let reviewer = person(reviewer_id).await?;
    person(reader_id).await?;
    use kongjian::roster::entity::org;
    let district = org::Entity::find()
        .filter(org::Column::SourcedId.eq(district_id))
        .one(&db)
        .await?
        .ok_or_else(|| format!("no org {district_id} in the roster"))?;

    let text = std::fs::read_to_string(corpus.join("docs.tsv"))?;
    let started = std::time::Instant::now();
    let base = Utc::now() - chrono::Duration::days(30);
    let mut count = 0usize;
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    for chunk in lines.chunks(500) {
        let mut resources = Vec::with_capacity(chunk.len());
        let mut versions = Vec::with_capacity(chunk.len());
        let mut changes = Vec::with_capacity(chunk.len());
        for line in chunk {
            let cols: Vec<&str> = line.splitn(5, '\t').collect();
            let [_id, subject, grade, title, body] = cols[..] else {
                return Err(format!("docs.tsv: expected 5 columns: {line}").into());
            };
            let at = base + chrono::Duration::seconds(count as i64);
            let rid = uuid::Uuid::now_v7().to_string();
            let vid = uuid::Uuid::now_v7().to_string();
            versions.push(
                version::Model {
                    id: vid.clone(),
                    resource_id: rid.clone(),
                    number: 1,
                    state: "published".to_owned(),
                    title: title.to_owned(),
                    description: String::new(),
                    subject: subject.to_owned(),
                    stage: kongjian::resources::stage_of(grade).to_owned(),
                    grade: grade.to_owned(),
                    edition: String::new(),
                    chapter: String::new(),
                    kind: "课件".to_owned(),
                    licence: kongjian::resources::DEFAULT_LICENCE.to_owned(),
                    keywords: String::new(),
                    scope: "district".to_owned(),
                    scope_class_id: None,
                    org_id: district.id.clone(),
                    content_kind: "text".to_owned(),
                    blob_hash: None,
                    file_name: None,
                    content_type: None,
                    size: None,
                    url: None,
                    body: Some(body.to_owned()),
                    extracted: None,
                    checks: Some(r#"{"negative":[],"duplicates":[]}"#.to_owned()),
                    pledged_at: Some(at),
                    submitted_at: Some(at),
                    reviewed_by: Some(reviewer.id.clone()),
                    reviewed_at: Some(at),
                    created_by: teacher.id.clone(),
                    created_at: at,
                    updated_at: at,
                }
                .into_active_model(),
            );
            resources.push(
                resource::Model {
                    id: rid.clone(),
                    owner_id: teacher.id.clone(),
                    org_id: district.id.clone(),
                    state: "published".to_owned(),
                    published_version_id: Some(vid.clone()),
                    latest_version_id: vid,
                    view_count: 0,
                    download_count: 0,
                    lesson_count: 0,
                    created_at: at,
                    updated_at: at,
                    published_at: Some(at),
                    retired_at: None,
                }
                .into_active_model(),
            );
            changes.push(outbox::ActiveModel {
                seq: NotSet,
                resource_id: Set(rid),
                at: Set(at),
            });
            count += 1;
        }
        let txn = db.begin().await?;
        resource::Entity::insert_many(resources)
            .exec_without_returning(&txn)
            .await?;
        version::Entity::insert_many(versions)
            .exec_without_returning(&txn)
            .await?;
        outbox::Entity::insert_many(changes)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        if count.is_multiple_of(50_000) {
            eprintln!("search-http-bench seed: {count} resources");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let now = Utc::now();
    let mut tokens = BTreeMap::new();
    for (key, id) in [
        ("teacher_token", teacher_id),
        ("reviewer_token", reviewer_id),
        ("reader_token", reader_id),
    ] {
        let token = kongjian::auth::tokens::create(&db, id, "search-bench", None, now)
            .await
            .map_err(|e| format!("token for {id}: {e}"))?;
        tokens.insert(key, token.secret);
    }
    db.close().await?;
    eprintln!("search-http-bench seed: {count} resources inserted in {seconds:.1} s");
    let mut out = json!({"resources": count, "seconds": seconds, "teacher": teacher_id,
        "reviewer": reviewer_id, "reader": reader_id, "district": district_id});
    for (k, v) in tokens {
        out[k] = Value::String(v);
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------ run

struct Query {
    text: String,
    subject: Option<String>,
    grade: Option<String>,
}

fn read_queries(path: &Path) -> Result<Vec<Query>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (kind, words) = (cols[0], cols.get(1).copied().unwrap_or(""));
        let text = match kind {
            "or" => words.split(' ').collect::<Vec<_>>().join(" OR "),
            "phrase" => format!("\"{words}\""),
            _ => words.to_owned(),
        };
        let opt = |i: usize| {
            cols.get(i)
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_owned())
        };
        out.push(Query {
            text,
            subject: opt(2),
            grade: opt(3),
        });
    }
    if out.is_empty() {
        return Err(format!("{} holds no queries", path.display()).into());
    }
    Ok(out)
}

fn search_url(base: &str, q: &Query) -> Result<url::Url> {
    let mut params = vec![("q", q.text.as_str())];
    if let Some(s) = &q.subject {
        params.push(("subject", s));
    }
    if let Some(g) = &q.grade {
        params.push(("grade", g));
    }
    Ok(url::Url::parse_with_params(
        &format!("{base}/api/v1/search"),
        &params,
    )?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary_ms(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    let r = |x: f64| (x * 100.0).round() / 100.0;
    json!({
        "count": samples.len(),
        "p50_ms": r(percentile(samples, 50.0)),
        "p90_ms": r(percentile(samples, 90.0)),
        "p99_ms": r(percentile(samples, 99.0)),
        "max_ms": r(samples.last().copied().unwrap_or(0.0)),
        "mean_ms": r(samples.iter().sum::<f64>() / samples.len().max(1) as f64),
    })
}

/// utime + stime of a process, in seconds (Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[derive(Default)]
struct S2 {
    /// Seconds after the start when the last reported request finished.
    last_done_s: f64,
    latencies_ms: Vec<f64>,
    errors: u64,
    zero_hits: u64,
    totals: Vec<u64>,
    first_error: Option<String>,
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// The open-loop search load: requests due at `start + i / rate` for `i < total`.
#[allow(clippy::too_many_arguments)]
async fn search_load(
    url: String,
    token: Arc<String>,
    queries: Arc<Vec<Query>>,
    rate: f64,
    clients: usize,
    start: Instant,
    total: u64,
    record_from: u64,
) -> Result<S2> {
    let next = Arc::new(AtomicU64::new(0));
    let results = Arc::new(Mutex::new(S2::default()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (next, results, url, token, queries) = (
            next.clone(),
            results.clone(),
            url.clone(),
            token.clone(),
            queries.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client()?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), Box<dyn Error + Send + Sync>>(());
                }
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due).await;
                let q = &queries[(i % queries.len() as u64) as usize];
                let answer = http
                    .get(search_url(&url, q)?)
                    .bearer_auth(token.as_str())
                    .send()
                    .await;
                let outcome = match answer {
                    Ok(r) if r.status() == reqwest::StatusCode::OK => match r.bytes().await {
                        Ok(body) => Ok(serde_json::from_slice::<Value>(&body)
                            .ok()
                            .and_then(|v| v["total"].as_u64())
                            .unwrap_or(0)),
                        Err(e) => Err(e.to_string()),
                    },
                    Ok(r) => {
                        let status = r.status();
                        Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                let ms = due.elapsed().as_secs_f64() * 1e3;
                if i < record_from {
                    continue;
                }
                let mut s = results.lock().await;
                s.latencies_ms.push(ms);
                s.last_done_s = s.last_done_s.max(start.elapsed().as_secs_f64());
                match outcome {
                    Ok(total) => {
                        s.totals.push(total);
                        if total == 0 {
                            s.zero_hits += 1;
                        }
                    }
                    Err(e) => {
                        s.errors += 1;
                        s.first_error.get_or_insert(e);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let s = std::mem::take(&mut *results.lock().await);
    Ok(s)
}

async fn post_json(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
    expect: u16,
) -> Result<Value> {
    let r = http.post(url).bearer_auth(token).json(&body).send().await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    if status != expect {
        return Err(format!("POST {url}: {status} {text}").into());
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

struct Fresh {
    freshness_ms: Vec<f64>,
    create_ms: Vec<f64>,
    submit_ms: Vec<f64>,
    review_ms: Vec<f64>,
    polls: Vec<f64>,
    failures: Vec<String>,
}

/// One freshness sample: create, submit, approve, then poll until the reader finds it.
async fn fresh_one(
    http: &reqwest::Client,
    url: &str,
    tokens: &(String, String, String),
    word: &str,
    poll: Duration,
    f: &mut Fresh,
) -> Result<()> {
    let (teacher, reviewer, reader) = tokens;
    let t = Instant::now();
    let created = post_json(
        http,
        &format!("{url}/api/v1/resources"),
        teacher,
        json!({
            "title": format!("新鲜度测试 {word} 二次函数的图像"),
            "description": "检索新鲜度的样本 / a freshness probe",
            "subject": "数学", "grade": "08", "type": "课件", "scope": "district",
            "text": format!("这是一份用于测量检索新鲜度的资源，关键词 {word}。二次函数的图像与性质。"),
        }),
        201,
    )
    .await?;
    f.create_ms.push(t.elapsed().as_secs_f64() * 1e3);
    let id = created["id"]
        .as_str()
        .ok_or("the create answer has no id")?
        .to_owned();
    let t = Instant::now();
    post_json(
        http,
        &format!("{url}/api/v1/resources/{id}/submit"),
        teacher,
        json!({"pledge": true}),
        200,
    )
    .await?;
    f.submit_ms.push(t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    post_json(
        http,
        &format!("{url}/api/v1/resources/{id}/review"),
        reviewer,
        json!({"decision": "approve", "political": "pass", "scientific": "pass",
               "safety": "pass", "comment": "ok"}),
        200,
    )
    .await?;
    let approved = Instant::now();
    f.review_ms.push((approved - t).as_secs_f64() * 1e3);
    let probe = url::Url::parse_with_params(&format!("{url}/api/v1/search"), &[("q", word)])?;
    let mut polls = 0u32;
    loop {
        polls += 1;
        let r = http.get(probe.clone()).bearer_auth(reader).send().await?;
        let status = r.status();
        let body: Value = r.json().await?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("search: {status} {body}").into());
        }
        let found = body["hits"]
            .as_array()
            .is_some_and(|hits| hits.iter().any(|h| h["id"] == id.as_str()));
        if found {
            f.freshness_ms.push(approved.elapsed().as_secs_f64() * 1e3);
            f.polls.push(f64::from(polls));
            return Ok(());
        }
        if approved.elapsed() > Duration::from_secs(30) {
            return Err(format!("{id} was not found within 30 s of its approval").into());
        }
        tokio::time::sleep(poll).await;
    }
}

async fn run(o: &BTreeMap<String, String>) -> Result<Value> {
    let url = get(o, "url")?.trim_end_matches('/').to_owned();
    let corpus = PathBuf::from(get(o, "corpus")?);
    let token = Arc::new(get(o, "token")?.to_owned());
    let tokens = (
        token.to_string(),
        get(o, "reviewer-token")?.to_owned(),
        get(o, "reader-token")?.to_owned(),
    );
    let rate: f64 = num(o, "rate", 200.0)?;
    let clients: usize = num(o, "clients", 16)?;
    let seconds: f64 = num(o, "seconds", 20.0)?;
    let warmup: f64 = num(o, "warmup", 2.0)?;
    let samples: usize = num(o, "fresh-samples", 15)?;
    let interval: f64 = num(o, "fresh-interval", 1.0)?;
    let poll = Duration::from_millis(num(o, "poll-ms", 10)?);
    let pid: Option<u32> = o.get("pid").map(|p| p.parse()).transpose()?;
    if !(rate > 0.0 && seconds > 0.0 && clients > 0) {
        return Err("--rate, --seconds and --clients must be positive".into());
    }
    let queries = Arc::new(read_queries(&corpus.join("queries.tsv"))?);

    let start = Instant::now() + Duration::from_millis(200);
    let warm_requests = (rate * warmup).round() as u64;
    let total = warm_requests + (rate * seconds).round() as u64;
    let cpu_before = pid.and_then(cpu_seconds);
    let load = tokio::spawn(search_load(
        url.clone(),
        token.clone(),
        queries.clone(),
        rate,
        clients,
        start,
        total,
        warm_requests,
    ));

    // S4 while the load runs, after its warm-up.
    let nonce = format!("{:x}", Utc::now().timestamp_millis() % 0xff_ffff);
    let fresh_start = start + Duration::from_secs_f64(warmup + 0.5);
    let mut fresh = Fresh {
        freshness_ms: Vec::new(),
        create_ms: Vec::new(),
        submit_ms: Vec::new(),
        review_ms: Vec::new(),
        polls: Vec::new(),
        failures: Vec::new(),
    };
    let http = client()?;
    for i in 0..samples {
        tokio::time::sleep_until(fresh_start + Duration::from_secs_f64(i as f64 * interval)).await;
        let word = format!("kjfresh{nonce}n{i}");
        if let Err(e) = fresh_one(&http, &url, &tokens, &word, poll, &mut fresh).await {
            eprintln!("search-http-bench: freshness sample {i}: {e}");
            fresh.failures.push(e.to_string());
        }
    }
    let fresh_end = start.elapsed().as_secs_f64();
    let mut s2 = load.await??;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = match (cpu_before, pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let recorded = s2.latencies_ms.len();
    let mut totals = s2.totals.clone();
    totals.sort_unstable();
    let report = json!({
        "s2": {
            "rate": rate, "clients": clients, "seconds": seconds, "warmup_seconds": warmup,
            "requests": recorded, "errors": s2.errors, "first_error": s2.first_error,
            // What the server got through: the reported requests over the time from when the
            // first of them was due to when the last one finished (below `rate` = overloaded).
            "completed_per_s": recorded as f64 / (s2.last_done_s - warmup).max(1e-9),
            "zero_hits": s2.zero_hits,
            "median_total": totals.get(totals.len() / 2).copied().unwrap_or(0),
            "latency": summary_ms(&mut s2.latencies_ms),
        },
        "s4": {
            "samples": samples, "found": fresh.freshness_ms.len(), "failures": fresh.failures,
            "interval_seconds": interval, "poll_ms": poll.as_millis() as u64,
            "freshness": summary_ms(&mut fresh.freshness_ms),
            "polls": summary_ms(&mut fresh.polls),
            "create": summary_ms(&mut fresh.create_ms),
            "submit": summary_ms(&mut fresh.submit_ms),
            "review": summary_ms(&mut fresh.review_ms),
            "finished_at_s": fresh_end,
        },
        "wall_seconds": elapsed,
        "server_cpu_seconds": cpu,
    });
    eprintln!(
        "search-http-bench: S2 {} requests at {rate}/s: p50 {} ms, p99 {} ms, {} errors; S4 freshness p50 {} ms, p99 {} ms ({} of {samples})",
        recorded,
        report["s2"]["latency"]["p50_ms"],
        report["s2"]["latency"]["p99_ms"],
        s2.errors,
        report["s4"]["freshness"]["p50_ms"],
        report["s4"]["freshness"]["p99_ms"],
        report["s4"]["found"],
    );
    Ok(report)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let result = (|| -> Result<Value> {
        let o = options(args)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        match command.as_str() {
            "seed" => runtime.block_on(seed(&o)),
            "run" => runtime.block_on(run(&o)),
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            _ => Err(usage().into()),
        }
    })();
    match result {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("search-http-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
