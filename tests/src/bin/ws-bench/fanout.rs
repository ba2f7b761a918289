//! R1, R2 and R4: class notices fanned out to connected parents.
//!
//! Every parent of the tokens file (or the first `--clients`) holds one websocket: to Kongjian
//! with their token, to a peer in the room of their class. Notices are published open loop: the
//! n-th is due at `start + n / rate` and goes out then whether or not earlier ones are done, and
//! its due time (nanoseconds since this process started) travels in its title, `bench STEP NANOS`
//! (`probe ID NANOS` for R2's probes). A listener that receives it records now − due, so a
//! publisher or server that falls behind shows up as latency (no coordinated omission).
//!
//! * R4 — the server's VmRSS before and after connecting every listener (and a settle time),
//!   divided by the number of connections.
//! * R1 — steps of `--step-seconds` at an offered rate of deliveries per second (publishes per
//!   second × the class sizes): up by `--factor` from `--start` while a step passes, then
//!   `--refine` geometric bisections between the best pass and the first failure. A step passes
//!   when every expected delivery arrived within `--drain-seconds` of the step's end, p99 ≤
//!   `--p99-ms`, no publish failed and no listener was dropped; a narrow failure (nothing lost,
//!   p99 under 4× the goal) is run `--retries` more times. The figure is the delivered rate of
//!   the best passing step; with it, the server's CPU time (utime + stime) per delivery.
//! * R2 — the background load at `--background-rate` (default: half of R1's figure from this
//!   run) on every class but one, and `--probe-rate` probes per second to that class (the one
//!   closest to `--probe-class-size` parents): for each probe the time until its last parent
//!   has it; p99 over the probes.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::hist::{Hist, percentile, round3};
use crate::members::{Members, Person};
use crate::process::{Cpu, status_kib};
use crate::wsclient::{Endpoint, Target, Ws, connect, connect_listener, socketio_connect};

const MAX_STEPS: usize = 64;
const MAX_PROBES: usize = 1 << 16;
/// The notice text every target delivers (about the size of a real one).
const BODY: &str = "各位家长：本周五（5月16日）下午两点召开家长会，地点在学校报告厅。请准时参加，\
                    如有特殊情况请提前与班主任联系。谢谢配合！";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Test {
    R4,
    R1,
    R2,
}

pub struct FanoutOpts {
    pub endpoint: Endpoint,
    pub tokens: String,
    pub pid: Option<u32>,
    pub tests: Vec<Test>,
    pub clients: Option<usize>,
    pub connect_concurrency: usize,
    pub settle_seconds: f64,
    pub warmup_seconds: f64,
    pub step_seconds: f64,
    pub start: f64,
    pub factor: f64,
    pub refine: u32,
    pub max_rate: f64,
    pub p99_ms: f64,
    pub drain_seconds: f64,
    pub background_rate: Option<f64>,
    pub probe_rate: f64,
    pub probe_class_size: usize,
    pub r2_seconds: f64,
    pub r2_p99_ms: f64,
    pub http_concurrency: usize,
    pub publishers: usize,
    pub resume: bool,
    pub client_threads: usize,
    pub retries: u32,
}

// ---------------------------------------------------------------- what the listeners see

#[derive(Default)]
struct StepStats {
    hist: Hist,
    received: AtomicU64,
}

#[derive(Default)]
struct ProbeStats {
    received: AtomicU32,
    last_us: AtomicU64,
}

struct Shared {
    epoch: Instant,
    steps: Vec<StepStats>,
    probes: Vec<ProbeStats>,
    /// Every text frame any listener received.
    frames: AtomicU64,
    /// Listeners that lost their connection, by close code or error.
    dropped: Mutex<BTreeMap<String, u64>>,
    dropped_total: AtomicU64,
}

impl Shared {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            steps: (0..MAX_STEPS).map(|_| StepStats::default()).collect(),
            probes: (0..MAX_PROBES).map(|_| ProbeStats::default()).collect(),
            frames: AtomicU64::new(0),
            dropped: Mutex::new(BTreeMap::new()),
            dropped_total: AtomicU64::new(0),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    fn observe(&self, text: &str) {
        let now = self.nanos(Instant::now());
        if let Some(i) = text.find("\"bench ") {
            if let Some((step, due)) = two_numbers(&text[i + 7..])
                && let Some(s) = self.steps.get(step as usize)
            {
                s.hist.record_us(now.saturating_sub(due) / 1000);
                s.received.fetch_add(1, Relaxed);
            }
        } else if let Some(i) = text.find("\"probe ")
            && let Some((id, due)) = two_numbers(&text[i + 7..])
            && let Some(p) = self.probes.get(id as usize)
        {
            p.last_us.fetch_max(now.saturating_sub(due) / 1000, Relaxed);
            p.received.fetch_add(1, Relaxed);
        }
    }

    fn drop_listener(&self, why: String) {
        self.dropped_total.fetch_add(1, Relaxed);
        if let Ok(mut map) = self.dropped.lock() {
            *map.entry(why).or_default() += 1;
        }
    }

    fn dropped_json(&self) -> Value {
        self.dropped
            .lock()
            .map(|m| json!(*m))
            .unwrap_or(Value::Null)
    }
}

/// `123 456…`: two decimal numbers separated by one space.
fn two_numbers(s: &str) -> Option<(u64, u64)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut first = 0u64;
    while i < b.len() && b[i].is_ascii_digit() {
        first = first * 10 + u64::from(b[i] - b'0');
        i += 1;
    }
    if i == 0 || b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let start = i;
    let mut second = 0u64;
    while i < b.len() && b[i].is_ascii_digit() {
        second = second * 10 + u64::from(b[i] - b'0');
        i += 1;
    }
    (i > start).then_some((first, second))
}

async fn listen(mut ws: Ws, shared: Arc<Shared>, socketio: bool, alive: Arc<AtomicBool>) {
    let why = loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                shared.frames.fetch_add(1, Relaxed);
                if socketio && t.as_str() == "2" {
                    if let Err(e) = ws.send(Message::text("3")).await {
                        break format!("error: {e}");
                    }
                    continue;
                }
                shared.observe(t.as_str());
            }
            Some(Ok(Message::Close(frame))) => {
                break frame.map_or_else(
                    || "close".to_owned(),
                    |f| format!("close {} {}", u16::from(f.code), f.reason),
                );
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break format!("error: {e}"),
            None => break "eof".to_owned(),
        }
    };
    alive.store(false, Relaxed);
    shared.drop_listener(why);
}

struct Listener {
    person: Person,
    alive: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// The listeners live on their own threads, each a single-threaded tokio runtime: with
/// thousands of sockets each woken a few times a second, a work-stealing runtime spends more
/// on waking and parking its workers than on the frames.
struct Shards {
    handles: Vec<tokio::runtime::Handle>,
    stops: Vec<oneshot::Sender<()>>,
    next: AtomicUsize,
}

impl Shards {
    fn new(threads: usize) -> Result<Self> {
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        for i in 0..threads.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let (stop, stopped) = oneshot::channel::<()>();
            stops.push(stop);
            std::thread::Builder::new()
                .name(format!("listeners-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
        }
        Ok(Self {
            handles,
            stops,
            next: AtomicUsize::new(0),
        })
    }

    fn next(&self) -> &tokio::runtime::Handle {
        &self.handles[self.next.fetch_add(1, Relaxed) % self.handles.len()]
    }
}

impl Drop for Shards {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

// ---------------------------------------------------------------- publishing

#[derive(Default)]
struct PubStats {
    /// From when a publish was due until the server answered it (Kongjian: the HTTP answer).
    hist: Hist,
    ok: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl PubStats {
    fn error(&self, e: String) {
        self.errors.fetch_add(1, Relaxed);
        if let Ok(mut first) = self.first_errors.lock()
            && first.len() < 5
        {
            first.push(e);
        }
    }

    fn first_errors(&self) -> Value {
        self.first_errors
            .lock()
            .map(|f| json!(*f))
            .unwrap_or(Value::Null)
    }
}

enum Publisher {
    /// `POST /api/v1/classes/{class}/notices` with a teacher's token.
    Http {
        client: reqwest::Client,
        base: String,
        /// Per class: its teachers' tokens.
        teachers: Vec<Vec<String>>,
        limit: Arc<Semaphore>,
        run: String,
    },
    /// A publish frame over one of a few publisher sockets (the last one only for probes).
    Peer {
        senders: Vec<mpsc::UnboundedSender<String>>,
        socketio: bool,
        /// The last sender carries only the probes.
        priority_lane: bool,
    },
}

struct Publishing {
    /// The class sourcedIds (rooms) publishes go to, by index.
    classes: Vec<String>,
    publisher: Publisher,
    stats: Arc<PubStats>,
    next: AtomicUsize,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Publishing {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn peer_payload(class: &str, title: &str) -> Value {
    json!({
        "type": "notice",
        "id": format!("n-{}", uuid::Uuid::now_v7()),
        "title": title,
        "body": BODY,
        "sender": {"sourced_id": "mtch-001-000", "name": "王老师"},
        "audience": {"kind": "class", "sourced_id": class, "title": "一年级1班"},
        "requires_confirmation": false,
        "urgent": false,
        "sent_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "children": [],
        "read": false,
    })
}

async fn peer_publisher(
    mut ws: Ws,
    mut rx: mpsc::UnboundedReceiver<String>,
    socketio: bool,
    stats: Arc<PubStats>,
) {
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else { break };
                let mut result = ws.feed(Message::text(frame)).await;
                let mut n = 1;
                while result.is_ok() && n < 256 {
                    match rx.try_recv() {
                        Ok(frame) => result = ws.feed(Message::text(frame)).await,
                        Err(_) => break,
                    }
                    n += 1;
                }
                if result.is_ok() {
                    result = ws.flush().await;
                }
                match result {
                    Ok(()) => {
                        stats.ok.fetch_add(n, Relaxed);
                    }
                    Err(e) => {
                        stats.error(format!("publisher socket: {e}"));
                        break;
                    }
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) if socketio && t.as_str() == "2" => {
                    let _ = ws.send(Message::text("3")).await;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    stats.error(format!("publisher socket: {e}"));
                    break;
                }
                None => {
                    stats.error("publisher socket closed".to_owned());
                    break;
                }
            }
        }
    }
}

impl Publishing {
    async fn new(
        opts: &FanoutOpts,
        classes: &[String],
        members: &Members,
        priority_lane: bool,
    ) -> Result<Self> {
        let stats = Arc::new(PubStats::default());
        let mut tasks = Vec::new();
        let publisher = match opts.endpoint.target {
            Target::Kongjian => {
                let mut teachers = Vec::with_capacity(classes.len());
                for class in classes {
                    let tokens: Vec<String> = members
                        .teachers
                        .get(class)
                        .map(|t| t.iter().map(|p| p.token.clone()).collect())
                        .unwrap_or_default();
                    if tokens.is_empty() {
                        bail!("class {class} has no teacher in {}", opts.tokens);
                    }
                    teachers.push(tokens);
                }
                Publisher::Http {
                    client: reqwest::Client::builder()
                        .pool_max_idle_per_host(usize::MAX)
                        .tcp_nodelay(true)
                        .timeout(Duration::from_secs(60))
                        .build()?,
                    base: opts.endpoint.http.clone(),
                    teachers,
                    limit: Arc::new(Semaphore::new(opts.http_concurrency)),
                    run: format!("{:08x}", rand::random::<u32>()),
                }
            }
            Target::Ws | Target::Socketio => {
                let socketio = opts.endpoint.target == Target::Socketio;
                let mut senders = Vec::new();
                for _ in 0..opts.publishers.max(1) + usize::from(priority_lane) {
                    let mut ws = connect(opts.endpoint.publisher_request()?).await?;
                    if socketio {
                        socketio_connect(&mut ws).await?;
                    }
                    let (tx, rx) = mpsc::unbounded_channel();
                    tasks.push(tokio::spawn(peer_publisher(
                        ws,
                        rx,
                        socketio,
                        stats.clone(),
                    )));
                    senders.push(tx);
                }
                Publisher::Peer {
                    senders,
                    socketio,
                    priority_lane,
                }
            }
        };
        Ok(Self {
            classes: classes.to_vec(),
            publisher,
            stats,
            next: AtomicUsize::new(0),
            tasks,
        })
    }

    /// Publish one notice to `self.classes[class]` titled `title`, due at `due`. `priority`: R2's
    /// probes, which skip the client-side concurrency limit (Kongjian) or have their own
    /// socket (peers).
    fn publish(&self, class: usize, title: String, due: Instant, priority: bool) {
        let n = self.next.fetch_add(1, Relaxed);
        match &self.publisher {
            Publisher::Http {
                client,
                base,
                teachers,
                limit,
                run,
            } => {
                let tokens = &teachers[class];
                let token = tokens[n % tokens.len()].clone();
                let url = format!("{base}/api/v1/classes/{}/notices", self.classes[class]);
                let body = json!({
                    "title": title,
                    "body": BODY,
                    "requires_confirmation": false,
                    "nonce": format!("{run}-{n}"),
                });
                let client = client.clone();
                let limit = limit.clone();
                let stats = self.stats.clone();
                tokio::spawn(async move {
                    let _permit = if priority {
                        None
                    } else {
                        limit.acquire_owned().await.ok()
                    };
                    let answer = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    match answer {
                        Ok(response) => {
                            let status = response.status();
                            let text = response.text().await.unwrap_or_default();
                            stats.hist.record(due.elapsed());
                            if status == reqwest::StatusCode::CREATED {
                                stats.ok.fetch_add(1, Relaxed);
                            } else {
                                stats.error(format!(
                                    "POST {url}: {status} {}",
                                    text.chars().take(300).collect::<String>()
                                ));
                            }
                        }
                        Err(e) => stats.error(format!("POST {url}: {e}")),
                    }
                });
            }
            Publisher::Peer {
                senders,
                socketio,
                priority_lane,
            } => {
                let room = &self.classes[class];
                let payload = peer_payload(room, &title);
                let message = json!({"room": room, "payload": payload});
                let frame = if *socketio {
                    format!("42{}", json!(["publish", message]))
                } else {
                    json!({"type": "publish", "room": room, "payload": message["payload"]})
                        .to_string()
                };
                let lanes = senders.len() - usize::from(*priority_lane);
                let lane = if priority && *priority_lane {
                    lanes
                } else {
                    n % lanes
                };
                if senders[lane].send(frame).is_err() {
                    self.stats.error("publisher socket gone".to_owned());
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the open-loop schedule

#[derive(Clone, Copy)]
enum Tag {
    Step(usize),
    /// Probes numbered from this id on.
    Probes(usize),
}

struct Offered {
    publishes: u64,
    expected: u64,
    seconds: f64,
    max_late_ms: f64,
}

/// Publish at `rate` deliveries per second for `seconds`, round-robin over `rotation` (class
/// indices), each publish expecting `sizes[class]` deliveries.
async fn offer(
    shared: &Shared,
    publishing: &Publishing,
    rotation: &[usize],
    sizes: &[u64],
    rate: f64,
    seconds: f64,
    tag: Tag,
) -> Offered {
    let per_publish =
        rotation.iter().map(|&c| sizes[c]).sum::<u64>() as f64 / rotation.len().max(1) as f64;
    let publish_rate = (rate / per_publish.max(1.0)).max(0.01);
    let total = ((publish_rate * seconds).round() as u64).max(1);
    let start = Instant::now();
    let mut expected = 0;
    let mut late = Duration::ZERO;
    let mut i: u64 = 0;
    while i < total {
        let elapsed = start.elapsed().as_secs_f64();
        let due_now = ((elapsed * publish_rate).floor() as u64 + 1).min(total);
        while i < due_now {
            let due = start + Duration::from_secs_f64(i as f64 / publish_rate);
            late = late.max(due.elapsed());
            let class = rotation[i as usize % rotation.len()];
            expected += sizes[class];
            let nanos = shared.nanos(due);
            let (title, priority) = match tag {
                Tag::Step(s) => (format!("bench {s} {nanos}"), false),
                Tag::Probes(first) => (format!("probe {} {nanos}", first + i as usize), true),
            };
            publishing.publish(class, title, due, priority);
            i += 1;
        }
        if i < total {
            let next = start + Duration::from_secs_f64(i as f64 / publish_rate);
            tokio::time::sleep_until(next).await;
        }
    }
    Offered {
        publishes: total,
        expected,
        seconds: total as f64 / publish_rate,
        max_late_ms: late.as_secs_f64() * 1000.0,
    }
}

// ---------------------------------------------------------------- the run

struct Fanout {
    opts: FanoutOpts,
    members: Members,
    shared: Arc<Shared>,
    shards: Shards,
    listeners: Vec<Listener>,
    classes: Vec<String>,
    /// Per class: indices into `listeners`.
    class_listeners: Vec<Vec<usize>>,
    listener_class: Vec<usize>,
    next_step: usize,
    next_probe: usize,
}

#[derive(Debug, Clone)]
struct StepResult {
    json: Value,
    pass: bool,
    /// Failed only on latency, and not by much: worth another try.
    marginal: bool,
    offered: f64,
    delivered_per_s: f64,
}

impl Fanout {
    fn sizes(&self) -> Vec<u64> {
        let mut sizes = vec![0u64; self.classes.len()];
        for (i, l) in self.listeners.iter().enumerate() {
            if l.alive.load(Relaxed) {
                sizes[self.listener_class[i]] += 1;
            }
        }
        sizes
    }

    /// Connect `person` on one of the listener threads (round-robin) and keep listening there.
    async fn connect_one(&self, person: &Person) -> Result<Listener> {
        let handle = self.shards.next();
        let alive = Arc::new(AtomicBool::new(true));
        let (connected, result) = oneshot::channel();
        let endpoint = self.opts.endpoint.clone();
        let (room, token, resume) = (person.class.clone(), person.token.clone(), self.opts.resume);
        let (shared, flag) = (self.shared.clone(), alive.clone());
        let task = handle.spawn(async move {
            match connect_listener(&endpoint, &room, &token, resume).await {
                Ok(ws) => {
                    let _ = connected.send(Ok(()));
                    listen(ws, shared, endpoint.target == Target::Socketio, flag).await;
                }
                Err(e) => {
                    let _ = connected.send(Err(e));
                }
            }
        });
        match result.await {
            Ok(Ok(())) => Ok(Listener {
                person: person.clone(),
                alive,
                task,
            }),
            Ok(Err(e)) => Err(e.context(format!("connecting {}", person.sourced_id))),
            Err(_) => bail!(
                "connecting {}: the listener thread stopped",
                person.sourced_id
            ),
        }
    }

    async fn connect_all(&mut self, people: Vec<Person>) -> Result<(f64, usize)> {
        let started = Instant::now();
        let n = people.len();
        let this = &*self;
        let mut results: Vec<(usize, Result<Listener>)> =
            futures::stream::iter(people.iter().enumerate())
                .map(|(i, p)| async move { (i, this.connect_one(p).await) })
                .buffer_unordered(self.opts.connect_concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        let mut failures = Vec::new();
        let mut listeners = Vec::with_capacity(n);
        for (_, r) in results {
            match r {
                Ok(l) => listeners.push(l),
                Err(e) => failures.push(format!("{e:#}")),
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        if !failures.is_empty() {
            for l in &listeners {
                l.task.abort();
            }
            bail!(
                "{} of {n} connections failed; the first: {}",
                failures.len(),
                failures[0]
            );
        }
        self.listeners = listeners;
        Ok((seconds, n))
    }

    /// Connect again the listeners the server dropped.
    async fn reconnect_dropped(&mut self) -> Result<usize> {
        let dead: Vec<usize> = (0..self.listeners.len())
            .filter(|&i| !self.listeners[i].alive.load(Relaxed))
            .collect();
        for &i in &dead {
            let person = self.listeners[i].person.clone();
            let l = self.connect_one(&person).await?;
            self.listeners[i] = l;
        }
        Ok(dead.len())
    }

    /// Wait until no frame has arrived for half a second (at most 60 s).
    async fn quiesce(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = self.shared.frames.load(Relaxed);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.shared.frames.load(Relaxed);
            if now == last {
                return;
            }
            last = now;
        }
    }

    async fn publishing(&self, priority_lane: bool) -> Result<Publishing> {
        Publishing::new(&self.opts, &self.classes, &self.members, priority_lane).await
    }

    /// One R1 step (or R2's background) at `rate` deliveries per second over `rotation`.
    async fn step(
        &mut self,
        publishing: &Publishing,
        rate: f64,
        seconds: f64,
        label: &str,
    ) -> Result<StepResult> {
        let reconnected = self.reconnect_dropped().await?;
        self.quiesce().await;
        let step = self.next_step;
        self.next_step += 1;
        if step >= MAX_STEPS {
            bail!("more than {MAX_STEPS} steps");
        }
        let sizes = self.sizes();
        let rotation = rotation(&sizes, None);
        if rotation.is_empty() {
            bail!("no listener is connected any more");
        }
        let dropped0 = self.shared.dropped_total.load(Relaxed);
        let errors0 = publishing.stats.errors.load(Relaxed);
        let cpu0 = Cpu::now(self.opts.pid);
        let t0 = Instant::now();
        let offered = offer(
            &self.shared,
            publishing,
            &rotation,
            &sizes,
            rate,
            seconds,
            Tag::Step(step),
        )
        .await;
        let stats = &self.shared.steps[step];
        let drain_until = Instant::now() + Duration::from_secs_f64(self.opts.drain_seconds);
        while stats.received.load(Relaxed) < offered.expected && Instant::now() < drain_until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = Cpu::now(self.opts.pid).since(cpu0);
        let wall = t0.elapsed().as_secs_f64();
        Ok(self.judge(
            label,
            step,
            rate,
            &offered,
            cpu,
            wall,
            publishing,
            self.shared.dropped_total.load(Relaxed) - dropped0,
            publishing.stats.errors.load(Relaxed) - errors0,
            reconnected,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        label: &str,
        step: usize,
        rate: f64,
        offered: &Offered,
        cpu: Cpu,
        wall: f64,
        publishing: &Publishing,
        dropped: u64,
        publish_errors: u64,
        reconnected: usize,
    ) -> StepResult {
        let stats = &self.shared.steps[step];
        let received = stats.received.load(Relaxed);
        let p99 = stats.hist.percentile_ms(99.0);
        let delivered_per_s = received as f64 / offered.seconds;
        let complete = received as f64 >= offered.expected as f64 * 0.999;
        let mut why = Vec::new();
        if !complete {
            why.push(format!(
                "{} of {} deliveries missing",
                offered.expected.saturating_sub(received),
                offered.expected
            ));
        }
        if p99.is_nan() || p99 > self.opts.p99_ms {
            why.push(format!("p99 {p99:.1} ms > {} ms", self.opts.p99_ms));
        }
        if publish_errors > 0 {
            why.push(format!("{publish_errors} publish errors"));
        }
        if dropped > 0 {
            why.push(format!("{dropped} listeners dropped"));
        }
        let pass = why.is_empty();
        let marginal =
            complete && publish_errors == 0 && dropped == 0 && p99 <= 4.0 * self.opts.p99_ms;
        let cpu_us = cpu.server * 1e6 / received.max(1) as f64;
        say(format!(
            "{} {label} {}: offered {:.0}/s ({} publishes in {:.1} s) → delivered {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; server CPU {:.2} s = {:.2} µs/delivery, load generator {:.2} s — {}{}",
            self.opts.endpoint.target.name(),
            step,
            rate,
            offered.publishes,
            offered.seconds,
            delivered_per_s,
            stats.hist.percentile_ms(50.0),
            p99,
            stats.hist.max_ms(),
            cpu.server,
            cpu_us,
            cpu.client,
            if pass { "PASS" } else { "FAIL" },
            if pass {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            }
        ));
        let mut json = stats.hist.summary();
        let extra = json!({
            "step": step,
            "offered_deliveries_per_s": round3(rate),
            "publishes": offered.publishes,
            "seconds": round3(offered.seconds),
            "expected": offered.expected,
            "received": received,
            "delivered_per_s": round3(delivered_per_s),
            "publish_errors": publish_errors,
            "listeners_dropped": dropped,
            "listeners_reconnected_before": reconnected,
            "generator_max_late_ms": round3(offered.max_late_ms),
            "publish_answer": publishing.stats.hist.summary(),
            "server_cpu_s": round3(cpu.server),
            "server_cpu_us_per_delivery": round3(cpu_us),
            "client_cpu_s": round3(cpu.client),
            "wall_s": round3(wall),
            "pass": pass,
            "why": why,
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut json, extra) {
            a.extend(b);
        }
        publishing.stats.hist.reset();
        StepResult {
            json,
            pass,
            marginal,
            offered: rate,
            delivered_per_s,
        }
    }

    /// Run a step at `rate`; a narrow failure gets `--retries` more tries. Every run is kept.
    async fn attempt(
        &mut self,
        publishing: &Publishing,
        rate: f64,
        label: &str,
        steps: &mut Vec<StepResult>,
    ) -> Result<bool> {
        let seconds = self.opts.step_seconds;
        for attempt in 0..=self.opts.retries {
            let label = if attempt == 0 {
                label.to_owned()
            } else {
                format!("{label} (again)")
            };
            let r = self.step(publishing, rate, seconds, &label).await?;
            let (pass, marginal) = (r.pass, r.marginal);
            steps.push(r);
            if pass || !marginal {
                return Ok(pass);
            }
        }
        Ok(false)
    }

    async fn r1(&mut self) -> Result<(Value, Option<f64>)> {
        let o = &self.opts;
        let (start, factor, refine, max_rate) = (o.start, o.factor, o.refine, o.max_rate);
        let (step_s, warmup_s) = (o.step_seconds, o.warmup_seconds);
        say(format!(
            "{} R1: fan-out to {} parents in {} classes, steps of {step_s} s from {start:.0} deliveries/s (×{factor}, {refine} refinements), pass: p99 ≤ {} ms and nothing lost",
            o.endpoint.target.name(),
            self.listeners.len(),
            self.classes.len(),
            o.p99_ms
        ));
        let publishing = self.publishing(false).await?;
        if warmup_s > 0.0 {
            self.step(&publishing, start, warmup_s, "R1 warm-up")
                .await?;
        }
        let mut steps: Vec<StepResult> = Vec::new();
        let mut best: Option<f64> = None; // highest passing offered rate
        let mut fail: Option<f64> = None; // lowest failing offered rate
        let mut rate = start;
        loop {
            if self
                .attempt(&publishing, rate, "R1 step", &mut steps)
                .await?
            {
                best = Some(rate);
                if rate * factor > max_rate {
                    break;
                }
                rate *= factor;
            } else {
                fail = Some(rate);
                break;
            }
        }
        // Nothing passed: go down until something does.
        let mut down = 0;
        while best.is_none() && down < 6 && rate / factor >= 100.0 {
            rate /= factor;
            down += 1;
            if self
                .attempt(&publishing, rate, "R1 step", &mut steps)
                .await?
            {
                best = Some(rate);
            } else {
                fail = Some(rate);
            }
        }
        for _ in 0..refine {
            let (Some(lo), Some(hi)) = (best, fail) else {
                break;
            };
            if hi / lo < 1.03 {
                break;
            }
            let mid = (lo * hi).sqrt();
            if self
                .attempt(&publishing, mid, "R1 refine", &mut steps)
                .await?
            {
                best = Some(mid);
            } else {
                fail = Some(mid);
            }
        }
        let best_step = steps
            .iter()
            .filter(|s| s.pass)
            .max_by(|a, b| a.delivered_per_s.total_cmp(&b.delivered_per_s));
        let figure = best_step.map(|s| s.delivered_per_s);
        match best_step {
            Some(s) => say(format!(
                "{} R1: {:.0} deliveries/s sustained (offered {:.0}/s), p99 {} ms, {} µs server CPU per delivery",
                self.opts.endpoint.target.name(),
                s.delivered_per_s,
                s.offered,
                s.json["p99_ms"],
                s.json["server_cpu_us_per_delivery"]
            )),
            None => say(format!(
                "{} R1: no step passed",
                self.opts.endpoint.target.name()
            )),
        }
        let json = json!({
            "best_deliveries_per_s": figure.map(round3),
            "best": best_step.map(|s| s.json.clone()),
            "first_failing_offered_per_s": fail.map(round3),
            "steps": steps.iter().map(|s| s.json.clone()).collect::<Vec<_>>(),
            "publish_first_errors": publishing.stats.first_errors(),
        });
        Ok((json, figure))
    }

    async fn r2(&mut self, background: f64) -> Result<Value> {
        let o = &self.opts;
        let (seconds, probe_rate, goal) = (o.r2_seconds, o.probe_rate, o.r2_p99_ms);
        let reconnected = self.reconnect_dropped().await?;
        self.quiesce().await;
        let sizes = self.sizes();
        let probe_class = (0..sizes.len())
            .min_by_key(|&c| {
                (
                    sizes[c].abs_diff(self.opts.probe_class_size as u64),
                    std::cmp::Reverse(sizes[c]),
                )
            })
            .context("no class")?;
        let rotation = rotation(&sizes, Some(probe_class));
        if rotation.is_empty() || sizes[probe_class] == 0 {
            bail!("R2 needs listeners in at least two classes");
        }
        say(format!(
            "{} R2: {probe_rate} notices/s to class {} ({} parents) for {seconds} s while {background:.0} deliveries/s go to the other classes",
            self.opts.endpoint.target.name(),
            self.classes[probe_class],
            sizes[probe_class]
        ));
        let publishing = self.publishing(true).await?;
        let step = self.next_step;
        self.next_step += 1;
        if step >= MAX_STEPS {
            bail!("more than {MAX_STEPS} steps");
        }
        let first_probe = self.next_probe;
        let probes = ((probe_rate * seconds).round() as usize).max(1);
        if first_probe + probes > MAX_PROBES {
            bail!("too many probes");
        }
        self.next_probe += probes;
        let probe_rotation = [probe_class];
        let size = sizes[probe_class];
        let dropped0 = self.shared.dropped_total.load(Relaxed);
        let cpu0 = Cpu::now(self.opts.pid);
        let t0 = Instant::now();
        let (bg, pr) = tokio::join!(
            offer(
                &self.shared,
                &publishing,
                &rotation,
                &sizes,
                background,
                seconds,
                Tag::Step(step),
            ),
            offer(
                &self.shared,
                &publishing,
                &probe_rotation,
                &sizes,
                probe_rate * size as f64,
                seconds,
                Tag::Probes(first_probe),
            )
        );
        let stats = &self.shared.steps[step];
        let probe_stats = &self.shared.probes[first_probe..first_probe + pr.publishes as usize];
        let drain_until = Instant::now() + Duration::from_secs_f64(self.opts.drain_seconds);
        while Instant::now() < drain_until
            && (stats.received.load(Relaxed) < bg.expected
                || probe_stats
                    .iter()
                    .any(|p| u64::from(p.received.load(Relaxed)) < size))
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = Cpu::now(self.opts.pid).since(cpu0);
        let wall = t0.elapsed().as_secs_f64();
        let mut last_ms: Vec<f64> = Vec::new();
        let mut incomplete = 0;
        for p in probe_stats {
            if u64::from(p.received.load(Relaxed)) >= size {
                last_ms.push(p.last_us.load(Relaxed) as f64 / 1000.0);
            } else {
                incomplete += 1;
            }
        }
        last_ms.sort_by(f64::total_cmp);
        let p99 = percentile(&last_ms, 99.0);
        let background_json = self
            .judge(
                "R2 background",
                step,
                background,
                &bg,
                cpu,
                wall,
                &publishing,
                self.shared.dropped_total.load(Relaxed) - dropped0,
                publishing.stats.errors.load(Relaxed),
                reconnected,
            )
            .json;
        let pass = incomplete == 0 && p99 <= goal;
        say(format!(
            "{} R2: {} probes to {} parents: time to the last parent p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {incomplete} incomplete — {}",
            self.opts.endpoint.target.name(),
            pr.publishes,
            size,
            percentile(&last_ms, 50.0),
            p99,
            last_ms.last().copied().unwrap_or(f64::NAN),
            if pass { "PASS" } else { "FAIL" }
        ));
        Ok(json!({
            "probe_class": self.classes[probe_class],
            "probe_class_parents": size,
            "probes": pr.publishes,
            "probe_rate_per_s": probe_rate,
            "incomplete": incomplete,
            "last_parent_p50_ms": round3(percentile(&last_ms, 50.0)),
            "last_parent_p90_ms": round3(percentile(&last_ms, 90.0)),
            "last_parent_p99_ms": round3(p99),
            "last_parent_max_ms": round3(last_ms.last().copied().unwrap_or(f64::NAN)),
            "background_offered_per_s": round3(background),
            "background": background_json,
            "publish_first_errors": publishing.stats.first_errors(),
            "pass": pass,
        }))
    }
}

/// Every class with listeners (but `except`), in an order that spreads consecutive publishes.
fn rotation(sizes: &[u64], except: Option<usize>) -> Vec<usize> {
    let mut r: Vec<usize> = (0..sizes.len())
        .filter(|&c| sizes[c] > 0 && Some(c) != except)
        .collect();
    // A fixed shuffle, so neighbouring classes (one school) do not come in a row.
    let n = r.len();
    for i in (1..n).rev() {
        let j = (i.wrapping_mul(2_654_435_761) >> 7) % (i + 1);
        r.swap(i, j);
    }
    r
}

fn say(line: String) {
    eprintln!("{line}");
}

pub async fn run(opts: FanoutOpts) -> Result<Value> {
    let members = Members::read(&opts.tokens)?;
    let mut people: Vec<Person> = members.parents.clone();
    if let Some(n) = opts.clients {
        people = members
            .parents_interleaved()
            .into_iter()
            .take(n)
            .cloned()
            .collect();
    }
    let mut classes: Vec<String> = people.iter().map(|p| p.class.clone()).collect();
    classes.sort();
    classes.dedup();
    let class_index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let listener_class: Vec<usize> = people
        .iter()
        .map(|p| class_index.get(p.class.as_str()).copied().unwrap_or(0))
        .collect();
    let mut class_listeners = vec![Vec::new(); classes.len()];
    for (i, &c) in listener_class.iter().enumerate() {
        class_listeners[c].push(i);
    }
    let target = opts.endpoint.target;
    let mut f = Fanout {
        shards: Shards::new(opts.client_threads)?,
        opts,
        members,
        shared: Arc::new(Shared::new()),
        listeners: Vec::new(),
        classes,
        class_listeners,
        listener_class,
        next_step: 0,
        next_probe: 0,
    };
    let mut out = serde_json::Map::new();
    out.insert("target".into(), json!(target.name()));
    out.insert("url".into(), json!(f.opts.endpoint.http));
    out.insert("pid".into(), json!(f.opts.pid));
    let sizes: Vec<usize> = f.class_listeners.iter().map(Vec::len).collect();
    out.insert(
        "classes".into(),
        json!({
            "count": sizes.len(),
            "min_parents": sizes.iter().min(),
            "max_parents": sizes.iter().max(),
            "mean_parents": round3(people.len() as f64 / sizes.len().max(1) as f64),
        }),
    );

    // R4: memory before and after connecting.
    let pid = f.opts.pid;
    let rss = |field: &str| pid.and_then(|p| status_kib(p, field).ok());
    let before = (rss("VmRSS"), rss("RssAnon"));
    say(format!(
        "{}: connecting {} listeners ({} at a time)…",
        target.name(),
        people.len(),
        f.opts.connect_concurrency
    ));
    let (connect_s, n) = f.connect_all(people).await?;
    say(format!(
        "{}: {n} listeners connected in {connect_s:.1} s ({:.0}/s)",
        target.name(),
        n as f64 / connect_s
    ));
    out.insert(
        "connect".into(),
        json!({"listeners": n, "seconds": round3(connect_s), "per_s": round3(n as f64 / connect_s)}),
    );
    if f.opts.tests.contains(&Test::R4) {
        tokio::time::sleep(Duration::from_secs_f64(f.opts.settle_seconds)).await;
        let after = (rss("VmRSS"), rss("RssAnon"));
        let alive = f.listeners.iter().filter(|l| l.alive.load(Relaxed)).count();
        let r4 = match (before, after) {
            ((Some(b), anon_b), (Some(a), anon_a)) => {
                let per = (a as f64 - b as f64) * 1024.0 / alive.max(1) as f64;
                let anon = match (anon_b, anon_a) {
                    (Some(x), Some(y)) => {
                        round3((y as f64 - x as f64) * 1024.0 / alive.max(1) as f64)
                    }
                    _ => Value::Null,
                };
                say(format!(
                    "{} R4: VmRSS {b} KiB → {a} KiB with {alive} idle connections: {:.0} bytes ({:.2} KiB) per connection",
                    target.name(),
                    per,
                    per / 1024.0
                ));
                json!({
                    "connections": alive,
                    "vmrss_before_kib": b,
                    "vmrss_after_kib": a,
                    "bytes_per_connection": round3(per),
                    "kib_per_connection": round3(per / 1024.0),
                    "rss_anon_bytes_per_connection": anon,
                    "settle_s": f.opts.settle_seconds,
                })
            }
            _ => {
                say("R4 needs --pid (the server's process id)".to_owned());
                Value::Null
            }
        };
        out.insert("r4".into(), r4);
    }
    let mut r1_figure = None;
    if f.opts.tests.contains(&Test::R1) {
        let (json, figure) = f.r1().await?;
        r1_figure = figure;
        out.insert("r1".into(), json);
    }
    if f.opts.tests.contains(&Test::R2) {
        let background = match (f.opts.background_rate, r1_figure) {
            (Some(rate), _) => rate,
            (None, Some(best)) => best / 2.0,
            (None, None) => bail!("R2 needs --background-rate, or R1 in the same run"),
        };
        out.insert("r2".into(), f.r2(background).await?);
    }
    out.insert(
        "listeners_dropped".into(),
        json!({"total": f.shared.dropped_total.load(Relaxed), "why": f.shared.dropped_json()}),
    );
    for l in &f.listeners {
        l.task.abort();
    }
    Ok(Value::Object(out))
}
