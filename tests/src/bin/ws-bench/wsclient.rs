//! Websocket connections to the three targets: Kongjian (`GET /ws` with a bearer token), the
//! npm `ws` broadcast peer (`/?room=ROOM`) and the socket.io peer (engine.io v4 over a bare
//! websocket: `/socket.io/?EIO=4&transport=websocket&room=ROOM`, then the `40` connect packet).

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a handshake (upgrade, `ready`, socket.io connect) may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Kongjian,
    Ws,
    Socketio,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Kongjian => "kongjian",
            Target::Ws => "ws",
            Target::Socketio => "socketio",
        }
    }
}

/// Where a target listens: its HTTP base (`http://host:port`) and websocket base.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub target: Target,
    pub http: String,
    pub ws: String,
}

impl Endpoint {
    pub fn new(target: Target, url: &str) -> Result<Self> {
        let url = url.trim_end_matches('/');
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("ws://"))
            .with_context(|| format!("{url}: expected http://HOST:PORT or ws://HOST:PORT"))?;
        Ok(Self {
            target,
            http: format!("http://{rest}"),
            ws: format!("ws://{rest}"),
        })
    }

    /// The upgrade request of a listener: a parent with their token, or a room member.
    pub fn listener_request(&self, room: &str, token: &str) -> Result<Request> {
        match self.target {
            Target::Kongjian => self.kongjian_request(token),
            Target::Ws => Ok(format!("{}/?room={}", self.ws, encode(room)).into_client_request()?),
            Target::Socketio => Ok(format!(
                "{}/socket.io/?EIO=4&transport=websocket&room={}",
                self.ws,
                encode(room)
            )
            .into_client_request()?),
        }
    }

    /// The upgrade request of a peer's publisher socket (no room).
    pub fn publisher_request(&self) -> Result<Request> {
        match self.target {
            Target::Kongjian => bail!("Kongjian notices are published over HTTP"),
            Target::Ws => Ok(format!("{}/", self.ws).into_client_request()?),
            Target::Socketio => Ok(format!("{}/socket.io/?EIO=4&transport=websocket", self.ws)
                .into_client_request()?),
        }
    }

    pub fn kongjian_request(&self, token: &str) -> Result<Request> {
        let mut request = format!("{}/ws", self.ws).into_client_request()?;
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}"))?,
        );
        Ok(request)
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Small read buffers: tungstenite's default (128 KiB, zero-filled on the first read) would
/// cost the load generator 1.3 GB for 10,000 sockets.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}

/// Open a websocket (TCP_NODELAY), explaining a refused upgrade.
pub async fn connect(request: Request) -> Result<Ws> {
    let uri = request.uri().to_string();
    let attempt = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(request, Some(config()), true),
    )
    .await
    .map_err(|_| anyhow!("{uri}: no upgrade within {HANDSHAKE_TIMEOUT:?}"))?;
    match attempt {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(|b| {
                    String::from_utf8_lossy(b)
                        .chars()
                        .take(300)
                        .collect::<String>()
                })
                .unwrap_or_default();
            bail!("{uri}: upgrade refused with {}: {body}", response.status())
        }
        Err(e) => Err(anyhow!("{uri}: {e}")),
    }
}

/// The next text frame (answering socket.io pings on the way), or an error when the socket
/// closes or nothing arrives in time.
pub async fn next_text(ws: &mut Ws, timeout: Duration, socketio: bool) -> Result<String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no frame within {timeout:?}"))?;
        match msg {
            Some(Ok(Message::Text(t))) => {
                if socketio && t.as_str() == "2" {
                    ws.send(Message::text("3")).await?;
                    continue;
                }
                return Ok(t.as_str().to_owned());
            }
            Some(Ok(Message::Close(frame))) => bail!(
                "closed by the server: {}",
                frame.map_or_else(
                    || "no close frame".to_owned(),
                    |f| format!("{} {}", u16::from(f.code), f.reason)
                )
            ),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("{e}"),
            None => bail!("the connection ended"),
        }
    }
}

/// The `type` of a Kongjian frame.
pub fn frame_type(frame: &Value) -> &str {
    frame.get("type").and_then(Value::as_str).unwrap_or("")
}

/// Kongjian: wait for `ready` (the first frame after connecting); with `resume`, also send
/// `{"type":"resume"}` and wait for `caught_up`. Returns the `ready` frame.
pub async fn kongjian_ready(ws: &mut Ws, resume: bool) -> Result<Value> {
    let ready = loop {
        let text = next_text(ws, HANDSHAKE_TIMEOUT, false)
            .await
            .context("waiting for ready")?;
        let frame: Value = serde_json::from_str(&text)?;
        match frame_type(&frame) {
            "ready" => break frame,
            "error" => bail!("the server answered {text}"),
            _ => {}
        }
    };
    if resume {
        ws.send(Message::text(r#"{"type":"resume"}"#)).await?;
        loop {
            let text = next_text(ws, HANDSHAKE_TIMEOUT, false)
                .await
                .context("waiting for caught_up")?;
            if text.contains(r#""caught_up""#) {
                let frame: Value = serde_json::from_str(&text)?;
                if frame_type(&frame) == "caught_up" {
                    break;
                }
            }
        }
    }
    Ok(ready)
}

/// socket.io: read the engine.io open packet, join the default namespace (`40`) and wait for
/// its acknowledgement.
pub async fn socketio_connect(ws: &mut Ws) -> Result<()> {
    let open = next_text(ws, HANDSHAKE_TIMEOUT, true).await?;
    if !open.starts_with('0') {
        bail!("expected the engine.io open packet, got {open}");
    }
    ws.send(Message::text("40")).await?;
    loop {
        let text = next_text(ws, HANDSHAKE_TIMEOUT, true).await?;
        if text.starts_with("40") {
            return Ok(());
        }
        if text.starts_with("44") {
            bail!("socket.io refused the connection: {text}");
        }
    }
}

/// Connect a listener and finish the target's handshake.
pub async fn connect_listener(
    endpoint: &Endpoint,
    room: &str,
    token: &str,
    resume: bool,
) -> Result<Ws> {
    let mut ws = connect(endpoint.listener_request(room, token)?).await?;
    match endpoint.target {
        Target::Kongjian => {
            kongjian_ready(&mut ws, resume).await?;
        }
        Target::Socketio => socketio_connect(&mut ws).await?,
        Target::Ws => {}
    }
    Ok(ws)
}
