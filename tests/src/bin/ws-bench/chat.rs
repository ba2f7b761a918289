//! R5 and R6 (Kongjian only): durable 1:1 messages with receipts, and catching up after a
//! reconnect.
//!
//! * R5 — `--pairs` pairs of a parent and a teacher of their child's class (parents dealt over
//!   all classes, so every teacher has a share). Each pair gets its conversation
//!   (`POST /api/v1/conversations {"with": teacher}` as the parent); everyone involved holds one
//!   websocket. Each pair runs `--window` closed loops: send `{"type":"send",…}` from alternately
//!   the parent and the teacher, wait for `sent`; the other side answers every `message` with
//!   `delivered` and `read`. The figure is `sent` acknowledgements (messages committed) per
//!   second after `--warmup-seconds`, over `--seconds`.
//! * R6 — the last parent of the interleaved order (not among R5's pairs) and a teacher of their
//!   class. The parent catches up once (`resume` from seq 0, marking every notice and message
//!   read), then `--runs` times: disconnects, the teacher sends `--messages` messages
//!   (`POST /api/v1/conversations/{id}/messages`, `--send-concurrency` at once), the parent
//!   reconnects, waits for `ready`, sends
//!   `{"type":"resume","conversations":{ID: lastSeq}}` and the clock runs until `caught_up`,
//!   which must come after exactly those messages, in order.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::hist::{Hist, percentile, round3};
use crate::members::{Members, Person};
use crate::process::Cpu;
use crate::wsclient::{Endpoint, Ws, connect, kongjian_ready, next_text};

pub struct ChatOpts {
    pub endpoint: Endpoint,
    pub tokens: String,
    pub pid: Option<u32>,
    pub pairs: usize,
    pub window: usize,
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub connect_concurrency: usize,
    pub resume: bool,
    pub messages: usize,
    pub send_concurrency: usize,
    pub runs: usize,
    pub goal_ms: f64,
}

const TEXT: &str = "王老师您好，孩子今天有点发烧，上午想请假半天，下午再送去学校，麻烦您了。";
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

fn say(line: String) {
    eprintln!("{line}");
}

// ---------------------------------------------------------------- HTTP

fn http_client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// `POST /api/v1/conversations {"with": teacher}` as the parent: the conversation's id.
async fn conversation(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    parent: &Person,
    with: &str,
) -> Result<String> {
    let url = format!("{}/api/v1/conversations", endpoint.http);
    let response = client
        .post(&url)
        .bearer_auth(&parent.token)
        .json(&json!({"with": with}))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "POST {url} as {} with {with}: {status} {}",
            parent.sourced_id,
            text.chars().take(300).collect::<String>()
        );
    }
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("POST {url} answered {text}"))?;
    value
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("POST {url} answered no id: {text}"))
}

/// `POST /api/v1/conversations/{id}/messages` as `sender`: the stored message's `seq`.
async fn post_message(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    sender: &Person,
    conversation: &str,
    body: String,
    nonce: String,
) -> Result<u64> {
    let url = format!(
        "{}/api/v1/conversations/{conversation}/messages",
        endpoint.http
    );
    let response = client
        .post(&url)
        .bearer_auth(&sender.token)
        .json(&json!({"body": body, "nonce": nonce}))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status != reqwest::StatusCode::CREATED {
        bail!(
            "POST {url}: {status} {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let value: Value = serde_json::from_str(&text)?;
    value
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or_else(|| anyhow!("POST {url} answered no seq (held?): {text}"))
}

// ---------------------------------------------------------------- one person's socket

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    nonce: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    conversation: Option<Cow<'a, str>>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    sender: Option<Value>,
    #[serde(default, borrow)]
    body: Option<Cow<'a, str>>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
}

struct Ack {
    seq: Option<u64>,
    error: Option<String>,
}

enum Out {
    Send {
        conversation: String,
        body: String,
        nonce: String,
        ack: oneshot::Sender<Ack>,
    },
}

#[derive(Default)]
struct ChatStats {
    /// `message` frames from the other side.
    received: AtomicU64,
    /// From when the sender sent a message until the other side had it (the time is in the body).
    delivery: Hist,
    receipts_sent: AtomicU64,
    acks: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
    dropped: Mutex<BTreeMap<String, u64>>,
}

impl ChatStats {
    fn error(&self, e: String) {
        self.errors.fetch_add(1, Relaxed);
        if let Ok(mut first) = self.first_errors.lock()
            && first.len() < 5
        {
            first.push(e);
        }
    }
}

struct ChatConn {
    tx: mpsc::UnboundedSender<Out>,
    task: JoinHandle<()>,
    /// Why the socket ended, once it has.
    closed: Arc<Mutex<Option<String>>>,
}

/// Time marker in a body: `… [t=NANOS]`.
fn body_nanos(body: &str) -> Option<u64> {
    let i = body.rfind("[t=")?;
    let rest = &body[i + 3..];
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

async fn chat_task(
    mut ws: Ws,
    me: String,
    mut rx: mpsc::UnboundedReceiver<Out>,
    stats: Arc<ChatStats>,
    epoch: Instant,
    closed: Arc<Mutex<Option<String>>>,
) {
    let mut pending: HashMap<String, oneshot::Sender<Ack>> = HashMap::new();
    let why = loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(Out::Send { conversation, body, nonce, ack }) = out else {
                    let _ = ws.close(None).await;
                    return;
                };
                let frame = json!({"type": "send", "conversation": conversation, "body": body, "nonce": nonce});
                pending.insert(nonce, ack);
                if let Err(e) = ws.send(Message::text(frame.to_string())).await {
                    break format!("error: {e}");
                }
            }
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(frame))) => break frame.map_or_else(
                        || "close".to_owned(),
                        |f| format!("close {} {}", u16::from(f.code), f.reason),
                    ),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break format!("error: {e}"),
                    None => break "eof".to_owned(),
                };
                let frame: Incoming = match serde_json::from_str(text.as_str()) {
                    Ok(f) => f,
                    Err(e) => {
                        stats.error(format!("unreadable frame ({e}): {}", text.as_str().chars().take(200).collect::<String>()));
                        continue;
                    }
                };
                match frame.kind.as_ref() {
                    "sent" => {
                        if let Some(ack) = frame.nonce.and_then(|n| pending.remove(n.as_ref())) {
                            stats.acks.fetch_add(1, Relaxed);
                            let _ = ack.send(Ack { seq: frame.seq, error: None });
                        }
                    }
                    "error" => {
                        let e = format!("error {} {}", frame.code.unwrap_or_default(), frame.message.unwrap_or_default());
                        match frame.nonce.and_then(|n| pending.remove(n.as_ref())) {
                            Some(ack) => {
                                let _ = ack.send(Ack { seq: None, error: Some(e) });
                            }
                            None => stats.error(e),
                        }
                    }
                    "message" => {
                        let from = frame
                            .sender
                            .as_ref()
                            .and_then(|s| s.get("sourced_id"))
                            .and_then(Value::as_str);
                        if from == Some(me.as_str()) || frame.nonce.is_some() {
                            continue; // our own message, echoed to our sockets
                        }
                        stats.received.fetch_add(1, Relaxed);
                        if let Some(sent) = frame.body.as_deref().and_then(body_nanos) {
                            let now = epoch.elapsed().as_nanos() as u64;
                            stats.delivery.record_us(now.saturating_sub(sent) / 1000);
                        }
                        let (Some(conversation), Some(seq)) = (frame.conversation, frame.seq) else {
                            continue;
                        };
                        let delivered = json!({"type": "delivered", "conversation": conversation, "seq": seq});
                        let read = json!({"type": "read", "conversation": conversation, "seq": seq});
                        let result = match ws.feed(Message::text(delivered.to_string())).await {
                            Ok(()) => ws.send(Message::text(read.to_string())).await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = result {
                            break format!("error: {e}");
                        }
                        stats.receipts_sent.fetch_add(2, Relaxed);
                    }
                    _ => {}
                }
            }
        }
    };
    for (_, ack) in pending.drain() {
        let _ = ack.send(Ack {
            seq: None,
            error: Some(format!("socket lost: {why}")),
        });
    }
    if let Ok(mut map) = stats.dropped.lock() {
        *map.entry(why.clone()).or_default() += 1;
    }
    if let Ok(mut closed) = closed.lock() {
        *closed = Some(format!("{me}'s socket ended: {why}"));
    }
}

impl ChatConn {
    async fn open(
        endpoint: &Endpoint,
        person: &Person,
        resume: bool,
        stats: Arc<ChatStats>,
        epoch: Instant,
    ) -> Result<Self> {
        let mut ws = connect(endpoint.kongjian_request(&person.token)?)
            .await
            .with_context(|| format!("connecting {}", person.sourced_id))?;
        kongjian_ready(&mut ws, resume)
            .await
            .with_context(|| format!("{} on /ws", person.sourced_id))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let closed = Arc::new(Mutex::new(None));
        let task = tokio::spawn(chat_task(
            ws,
            person.sourced_id.clone(),
            rx,
            stats,
            epoch,
            closed.clone(),
        ));
        Ok(Self { tx, task, closed })
    }

    fn gone(&self) -> Ack {
        let why = self
            .closed
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .unwrap_or_else(|| "socket gone".to_owned());
        Ack {
            seq: None,
            error: Some(why),
        }
    }

    async fn send(&self, conversation: &str, body: String, nonce: String) -> Ack {
        let (ack, rx) = oneshot::channel();
        let out = Out::Send {
            conversation: conversation.to_owned(),
            body,
            nonce,
            ack,
        };
        if self.tx.send(out).is_err() {
            return self.gone();
        }
        match tokio::time::timeout(ACK_TIMEOUT, rx).await {
            Ok(Ok(ack)) => ack,
            Ok(Err(_)) => self.gone(),
            Err(_) => Ack {
                seq: None,
                error: Some(format!("no sent within {ACK_TIMEOUT:?}")),
            },
        }
    }
}

impl Drop for ChatConn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One socket per person, opened `concurrency` at a time.
async fn open_all(
    opts: &ChatOpts,
    people: Vec<Person>,
    stats: &Arc<ChatStats>,
    epoch: Instant,
) -> Result<HashMap<String, Arc<ChatConn>>> {
    let results: Vec<(String, Result<ChatConn>)> = futures::stream::iter(people)
        .map(|p| {
            let stats = stats.clone();
            async move {
                let conn = ChatConn::open(&opts.endpoint, &p, opts.resume, stats, epoch).await;
                (p.sourced_id, conn)
            }
        })
        .buffer_unordered(opts.connect_concurrency.max(1))
        .collect()
        .await;
    let mut conns = HashMap::new();
    for (id, conn) in results {
        conns.insert(id, Arc::new(conn?));
    }
    Ok(conns)
}

// ---------------------------------------------------------------- R5

pub async fn r5(opts: ChatOpts) -> Result<Value> {
    let members = Members::read(&opts.tokens)?;
    let order = members.parents_interleaved();
    let n = opts.pairs.min(order.len().saturating_sub(1).max(1));
    let mut pairs: Vec<(Person, Person)> = Vec::with_capacity(n);
    for (i, parent) in order.iter().take(n).enumerate() {
        let teacher = members.teacher_of(&parent.class, i / members.teachers.len().max(1))?;
        pairs.push(((*parent).clone(), teacher.clone()));
    }
    let client = http_client()?;
    say(format!(
        "R5: creating {n} conversations (parent ↔ a teacher of their child's class)…"
    ));
    let started = Instant::now();
    let conversations: Vec<Result<String>> = futures::stream::iter(pairs.iter())
        .map(|(parent, teacher)| conversation(&client, &opts.endpoint, parent, &teacher.sourced_id))
        .buffered(64)
        .collect()
        .await;
    let conversations: Vec<String> = conversations.into_iter().collect::<Result<_>>()?;
    let create_s = started.elapsed().as_secs_f64();
    say(format!(
        "R5: {n} conversations in {create_s:.1} s ({:.0}/s)",
        n as f64 / create_s
    ));

    let mut people: BTreeMap<String, Person> = BTreeMap::new();
    for (parent, teacher) in &pairs {
        people.insert(parent.sourced_id.clone(), parent.clone());
        people.insert(teacher.sourced_id.clone(), teacher.clone());
    }
    let teachers = pairs
        .iter()
        .map(|(_, t)| t.sourced_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    say(format!(
        "R5: connecting {} people ({n} parents, {teachers} teachers)…",
        people.len()
    ));
    let stats = Arc::new(ChatStats::default());
    let epoch = Instant::now();
    let started = Instant::now();
    let conns = open_all(&opts, people.into_values().collect(), &stats, epoch).await?;
    let connect_s = started.elapsed().as_secs_f64();

    say(format!(
        "R5: {n} pairs × {} in flight for {} s (+{} s warm-up), messages alternately from the parent and the teacher…",
        opts.window, opts.seconds, opts.warmup_seconds
    ));
    let ack_hist = Arc::new(Hist::new());
    let failed = Arc::new(ChatStats::default());
    let begin = Instant::now();
    let warm_end = begin + Duration::from_secs_f64(opts.warmup_seconds);
    let end = warm_end + Duration::from_secs_f64(opts.seconds);
    // Nonces unique to this run: a second run on the same database must send new messages, not
    // replays the server answers from what is stored.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut loops = Vec::new();
    for (p, ((parent, teacher), conversation)) in pairs.iter().zip(&conversations).enumerate() {
        let sides = [
            conns
                .get(&parent.sourced_id)
                .context("parent socket")?
                .clone(),
            conns
                .get(&teacher.sourced_id)
                .context("teacher socket")?
                .clone(),
        ];
        for w in 0..opts.window.max(1) {
            let sides = sides.clone();
            let conversation = conversation.clone();
            let ack_hist = ack_hist.clone();
            let failed = failed.clone();
            loops.push(tokio::spawn(async move {
                let mut k: u64 = 0;
                while Instant::now() < end {
                    let side = &sides[((k + w as u64) % 2) as usize];
                    let sent_at = Instant::now();
                    let nanos = sent_at.saturating_duration_since(epoch).as_nanos();
                    let body = format!("{TEXT} [t={nanos}]");
                    let nonce = format!("r5-{run}-{p}-{w}-{k}");
                    k += 1;
                    let ack = side.send(&conversation, body, nonce).await;
                    match ack.error {
                        None => {
                            if sent_at >= warm_end {
                                ack_hist.record(sent_at.elapsed());
                            }
                            if ack.seq.is_none() {
                                failed.error("sent with seq null (held?)".to_owned());
                            }
                        }
                        Some(e) => {
                            failed.error(e);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }));
        }
    }
    tokio::time::sleep_until(warm_end).await;
    let (acks0, received0, cpu0) = (
        stats.acks.load(Relaxed),
        stats.received.load(Relaxed),
        Cpu::now(opts.pid),
    );
    stats.delivery.reset();
    tokio::time::sleep_until(end).await;
    let (acks1, received1, cpu1) = (
        stats.acks.load(Relaxed),
        stats.received.load(Relaxed),
        Cpu::now(opts.pid),
    );
    for l in loops {
        let _ = l.await;
    }
    // The last receipts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = cpu1.since(cpu0);
    let committed = acks1 - acks0;
    let rate = committed as f64 / opts.seconds;
    let errors = failed.errors.load(Relaxed) + stats.errors.load(Relaxed);
    let mut first_errors: Vec<String> = failed
        .first_errors
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default();
    first_errors.extend(
        stats
            .first_errors
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default(),
    );
    let dropped = stats
        .dropped
        .lock()
        .map(|m| json!(*m))
        .unwrap_or(Value::Null);
    let dropped_total: u64 = stats.dropped.lock().map(|m| m.values().sum()).unwrap_or(0);
    say(format!(
        "R5: {committed} messages committed in {} s = {rate:.0}/s; sent p50 {:.2} ms p99 {:.2} ms; delivered to the other side p99 {:.2} ms; {} receipts sent; {errors} errors; {dropped_total} sockets closed by the server {dropped}; server CPU {:.2} s = {:.1} µs/message",
        opts.seconds,
        ack_hist.percentile_ms(50.0),
        ack_hist.percentile_ms(99.0),
        stats.delivery.percentile_ms(99.0),
        stats.receipts_sent.load(Relaxed),
        cpu.server,
        cpu.server * 1e6 / committed.max(1) as f64,
    ));
    for c in conns.values() {
        c.task.abort();
    }
    Ok(json!({
        "pairs": n,
        "teachers": teachers,
        "window": opts.window,
        "seconds": opts.seconds,
        "warmup_seconds": opts.warmup_seconds,
        "conversations_created_per_s": round3(n as f64 / create_s),
        "connect_s": round3(connect_s),
        "committed": committed,
        "committed_per_s": round3(rate),
        "sent_ack": ack_hist.summary(),
        "received_by_other_side": received1 - received0,
        "delivery": stats.delivery.summary(),
        "receipts_sent": stats.receipts_sent.load(Relaxed),
        "errors": errors,
        "first_errors": first_errors,
        "sockets_dropped": dropped,
        "sockets_dropped_total": dropped_total,
        "server_cpu_s": round3(cpu.server),
        "server_cpu_us_per_message": round3(cpu.server * 1e6 / committed.max(1) as f64),
        "client_cpu_s": round3(cpu.client),
    }))
}

// ---------------------------------------------------------------- R6

/// What a `resume` brought: the conversation's messages (seqs, in arrival order), the other
/// frames by type, and how long until `caught_up`.
struct Backlog {
    seqs: Vec<u64>,
    notices: Vec<String>,
    other: BTreeMap<String, u64>,
    elapsed: Duration,
    /// The first frame's arrival, and the longest silence between two frames (before frame
    /// number `gap_before`, counting from 1).
    first_frame: Duration,
    max_gap: Duration,
    gap_before: usize,
}

async fn resume(ws: &mut Ws, conversation: &str, cursor: Option<u64>) -> Result<Backlog> {
    let frame = match cursor {
        Some(seq) => json!({"type": "resume", "conversations": {conversation: seq}}),
        None => json!({"type": "resume"}),
    };
    let text = frame.to_string();
    let started = Instant::now();
    ws.send(Message::text(text)).await?;
    let mut backlog = Backlog {
        seqs: Vec::new(),
        notices: Vec::new(),
        other: BTreeMap::new(),
        elapsed: Duration::ZERO,
        first_frame: Duration::ZERO,
        max_gap: Duration::ZERO,
        gap_before: 0,
    };
    let mut last = None;
    let mut frames = 0;
    loop {
        let text = next_text(ws, Duration::from_secs(60), false)
            .await
            .context("waiting for caught_up")?;
        let now = started.elapsed();
        frames += 1;
        match last {
            None => backlog.first_frame = now,
            Some(last) if now - last > backlog.max_gap => {
                backlog.max_gap = now - last;
                backlog.gap_before = frames;
            }
            Some(_) => {}
        }
        last = Some(now);
        let frame: Incoming = serde_json::from_str(&text).with_context(|| {
            format!(
                "unreadable frame {}",
                text.chars().take(200).collect::<String>()
            )
        })?;
        match frame.kind.as_ref() {
            "caught_up" => {
                backlog.elapsed = started.elapsed();
                return Ok(backlog);
            }
            "message" if frame.conversation.as_deref() == Some(conversation) => {
                backlog.seqs.push(frame.seq.unwrap_or(0));
            }
            "notice" => {
                if let Some(id) = frame.id.as_ref().and_then(Value::as_str) {
                    backlog.notices.push(id.to_owned());
                }
            }
            "error" => bail!("resume answered {text}"),
            other => *backlog.other.entry(other.to_owned()).or_default() += 1,
        }
    }
}

pub async fn r6(opts: ChatOpts) -> Result<Value> {
    let members = Members::read(&opts.tokens)?;
    let order = members.parents_interleaved();
    let parent = (*order.last().context("no parent")?).clone();
    let teacher = members.teacher_of(&parent.class, 0)?.clone();
    let client = http_client()?;
    let conversation = conversation(&client, &opts.endpoint, &parent, &teacher.sourced_id).await?;
    say(format!(
        "R6: parent {} and teacher {} (class {}), conversation {conversation}; {} runs of {} missed messages",
        parent.sourced_id, teacher.sourced_id, parent.class, opts.runs, opts.messages
    ));
    let epoch = Instant::now();

    // Catch up once, reading everything, so the runs only carry the missed messages.
    let mut ws = connect(opts.endpoint.kongjian_request(&parent.token)?).await?;
    kongjian_ready(&mut ws, false).await?;
    // Cursor 0: the whole conversation again, so the client knows its last seq.
    let first = resume(&mut ws, &conversation, Some(0)).await?;
    let mut cursor = first.seqs.iter().copied().max().unwrap_or(0);
    // A resume carries at most 200 unread notices (R1 leaves thousands): read them all, page
    // by page, so that the runs measure only the missed messages.
    let mut unread = first.notices.clone();
    let mut notices_read = 0;
    while !unread.is_empty() {
        for id in &unread {
            ws.feed(Message::text(
                json!({"type": "notice_read", "notice": id}).to_string(),
            ))
            .await?;
        }
        ws.flush().await?;
        notices_read += unread.len();
        // The reads are answered by nothing; a ping's pong says they were all handled.
        ws.send(Message::text(json!({"type": "ping"}).to_string()))
            .await?;
        loop {
            let frame = ws
                .next()
                .await
                .context("socket closed while reading notices")??;
            if frame.to_text().is_ok_and(|t| t.contains("\"pong\"")) {
                break;
            }
        }
        unread = resume(&mut ws, &conversation, Some(cursor)).await?.notices;
    }
    if cursor > 0 {
        ws.feed(Message::text(
            json!({"type": "read", "conversation": conversation, "seq": cursor}).to_string(),
        ))
        .await?;
    }
    ws.flush().await?;
    say(format!(
        "R6: first resume: {} messages, {} unread notices (now marked read), other frames {:?}, in {:.1} ms",
        first.seqs.len(),
        notices_read,
        first.other,
        first.elapsed.as_secs_f64() * 1000.0
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = ws.close(None).await;
    drop(ws);

    let mut runs = Vec::new();
    let mut times = Vec::new();
    for run in 1..=opts.runs {
        // The teacher sends while the parent is away (over HTTP, `--send-concurrency` at once).
        let sending = Instant::now();
        let tag = rand::random::<u32>();
        let seqs: Vec<Result<u64>> = futures::stream::iter(0..opts.messages)
            .map(|i| {
                let nanos = epoch.elapsed().as_nanos();
                post_message(
                    &client,
                    &opts.endpoint,
                    &teacher,
                    &conversation,
                    format!("{TEXT} [t={nanos}]"),
                    format!("r6-{tag:08x}-{run}-{i}"),
                )
            })
            .buffer_unordered(opts.send_concurrency)
            .collect()
            .await;
        let send_s = sending.elapsed().as_secs_f64();
        let seqs: Vec<u64> = seqs
            .into_iter()
            .collect::<Result<_>>()
            .with_context(|| format!("R6 run {run}: sending"))?;
        let last = seqs.iter().copied().max().unwrap_or(cursor);
        let mut ws = connect(opts.endpoint.kongjian_request(&parent.token)?).await?;
        let ready = kongjian_ready(&mut ws, false).await?;
        let backlog = resume(&mut ws, &conversation, Some(cursor)).await?;
        let ms = backlog.elapsed.as_secs_f64() * 1000.0;
        let expected: Vec<u64> = (cursor + 1..=last).collect();
        let in_order = backlog.seqs == expected;
        let complete = backlog.seqs.len() == opts.messages && in_order;
        if let Some(&seq) = backlog.seqs.iter().max() {
            ws.feed(Message::text(
                json!({"type": "delivered", "conversation": conversation, "seq": seq}).to_string(),
            ))
            .await?;
            ws.send(Message::text(
                json!({"type": "read", "conversation": conversation, "seq": seq}).to_string(),
            ))
            .await?;
        }
        say(format!(
            "R6 run {run}: {} messages sent in {:.2} s; resume from seq {cursor}: {} messages (seq {}..{}), {} notices, other {:?}; caught_up after {ms:.2} ms (first frame {:.2} ms, longest gap {:.2} ms, before frame {} of {}){}",
            opts.messages,
            send_s,
            backlog.seqs.len(),
            backlog.seqs.first().copied().unwrap_or(0),
            backlog.seqs.last().copied().unwrap_or(0),
            backlog.notices.len(),
            backlog.other,
            backlog.first_frame.as_secs_f64() * 1000.0,
            backlog.max_gap.as_secs_f64() * 1000.0,
            backlog.gap_before,
            backlog.seqs.len()
                + backlog.notices.len()
                + backlog.other.values().sum::<u64>() as usize
                + 1,
            if complete {
                ""
            } else {
                " — INCOMPLETE or out of order"
            }
        ));
        runs.push(json!({
            "run": run,
            "ms": round3(ms),
            "messages": backlog.seqs.len(),
            "first_seq": backlog.seqs.first(),
            "last_seq": backlog.seqs.last(),
            "expected_last_seq": last,
            "complete_in_order": complete,
            "notices": backlog.notices.len(),
            "other_frames": backlog.other,
            "first_frame_ms": round3(backlog.first_frame.as_secs_f64() * 1000.0),
            "max_gap_ms": round3(backlog.max_gap.as_secs_f64() * 1000.0),
            "max_gap_before_frame": backlog.gap_before,
            "ready_unread": ready.get("unread"),
            "send_s": round3(send_s),
        }));
        if complete {
            times.push(ms);
        }
        cursor = last;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = ws.close(None).await;
    }
    times.sort_by(f64::total_cmp);
    let median = percentile(&times, 50.0);
    let complete = times.len() == opts.runs;
    let pass = complete && median <= opts.goal_ms;
    say(format!(
        "R6: caught up {} missed messages in {median:.2} ms (median of {} complete runs of {}) — {}",
        opts.messages,
        times.len(),
        opts.runs,
        if pass { "PASS" } else { "FAIL" }
    ));
    Ok(json!({
        "parent": parent.sourced_id,
        "teacher": teacher.sourced_id,
        "conversation": conversation,
        "messages": opts.messages,
        "median_ms": round3(median),
        "min_ms": round3(times.first().copied().unwrap_or(f64::NAN)),
        "max_ms": round3(times.last().copied().unwrap_or(f64::NAN)),
        "complete_runs": times.len(),
        "first_resume": {
            "messages": first.seqs.len(),
            "notices": first.notices.len(),
            "ms": round3(first.elapsed.as_secs_f64() * 1000.0),
        },
        "runs": runs,
        "pass": pass,
    }))
}
